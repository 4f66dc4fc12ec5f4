"""Database work that needs Odoo: run with the virtual environment's Python.

    python odoo_tasks.py CONFIG demo-db NAME ADDONS_FINGERPRINT SANDBOX_JSON
    python odoo_tasks.py CONFIG test-db NAME BASE_MODULES GENERATION OUR_ADDONS
    python odoo_tasks.py CONFIG browser-db NAME BASE_MODULES GENERATION OUR_ADDONS SANDBOX_JSON BASE_URL

A database counts as finished only when a marker is written at the end
(a system parameter, or a template's final name); anything without it is
a leftover of an interrupted run and is dropped and made again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sys
from pathlib import Path

import odoo
from odoo.tools import config

_logger = logging.getLogger("bankkoppeling.setup")
REPO = Path(__file__).resolve().parents[2]
OUR_ADDONS = tuple(sorted((p.parent.name for p in REPO.glob("*/__manifest__.py")),
                          key=lambda name: (name != "l10n_nl_bankkoppeling", name)))
READY_KEY = "l10n_nl_bankkoppeling.setup_fingerprint"


def connect_postgres():
    return odoo.sql_db.db_connect("postgres")


def database_exists(name: str) -> bool:
    with connect_postgres().cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return bool(cr.fetchone())


def drop_database(name: str) -> None:
    odoo.sql_db.close_db(name)
    with connect_postgres().cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [name])
        cr.execute(f'DROP DATABASE IF EXISTS "{name}"')
    shutil.rmtree(config.filestore(name), ignore_errors=True)


def copy_database(template: str, name: str) -> None:
    odoo.sql_db.close_db(template)
    with connect_postgres().cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [template])
        cr.execute(f'CREATE DATABASE "{name}" ENCODING \'unicode\' TEMPLATE "{template}"')
    source = Path(config.filestore(template))
    if source.exists():
        shutil.copytree(source, config.filestore(name), dirs_exist_ok=True)


def vacuum_analyze(name: str) -> None:
    """Fresh planner statistics. A database just installed has tables that
    once held rows and now hold none: their statistics say "0 rows in N
    pages", and the planner then expects every query on them to find
    nothing, however many rows a test or an import adds (nested loops over
    thousands of rows; Odoo's payment-state query took tens of seconds).
    VACUUM gives the empty pages back, so sizes are estimated afresh."""
    odoo.sql_db.close_db(name)
    with odoo.sql_db.db_connect(name).cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute("VACUUM ANALYZE")
    odoo.sql_db.close_db(name)


def freeze_statistics(name: str) -> None:
    """For a test database only: no autovacuum. Tests roll their rows back;
    an autovacuum in between would record "0 rows in N pages" again and
    bring the bad plans back for the rest of the run."""
    with odoo.sql_db.db_connect(name).cursor() as cr:
        cr.execute("SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
                   "WHERE schemaname = 'public'")
        for (table,) in cr.fetchall():
            cr.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    odoo.sql_db.close_db(name)


def rename_database(old: str, new: str) -> None:
    odoo.sql_db.close_db(old)
    with connect_postgres().cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute(f'ALTER DATABASE "{old}" RENAME TO "{new}"')
    source = Path(config.filestore(old))
    if source.exists():
        shutil.rmtree(config.filestore(new), ignore_errors=True)
        source.rename(config.filestore(new))


def create_dutch_database(name: str, lang: str) -> None:
    config["list_db"] = True  # the demo hides the database manager, not from us
    odoo.service.db.exp_create_database(name, False, lang, user_password="admin", login="admin", country_code="nl")
    with odoo.modules.registry.Registry(name).cursor() as cr:
        cr.execute(
            "SELECT c.code FROM res_company rc JOIN res_partner p ON p.id = rc.partner_id "
            "JOIN res_country c ON c.id = p.country_id WHERE rc.id = 1"
        )
        row = cr.fetchone()
    if not row or row[0] != "NL":
        raise SystemExit(f"creating database {name} failed: see the log above")


def install_modules(name: str, modules, update: bool = False) -> None:
    """What ``odoo-bin -i``/``-u`` does, in this process."""
    key = "update" if update else "init"
    config[key] = dict.fromkeys(modules, 1)
    try:
        odoo.modules.registry.Registry.new(name, update_module=True)
    finally:
        config[key] = {}
    odoo.sql_db.close_db(name)


def read_parameter(name: str, key: str) -> str | None:
    try:
        with odoo.sql_db.db_connect(name).cursor() as cr:
            cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", [key])
            row = cr.fetchone()
            return row[0] if row else None
    except Exception:  # a half-created database has no such table
        return None
    finally:
        odoo.sql_db.close_db(name)


def task_demo_db(name: str, fingerprint: str, sandbox_json: str) -> None:
    sandbox = json.loads(sandbox_json or "{}")
    state = read_parameter(name, READY_KEY) if database_exists(name) else None
    if database_exists(name) and state is None:
        print(f"  '{name}' is left over from an interrupted run: making it again", flush=True)
        drop_database(name)
    if not database_exists(name):
        print("  creating a Dutch company database (about a minute) ...", flush=True)
        create_dutch_database(name, "nl_NL")
        install_modules(name, OUR_ADDONS)
    elif state != fingerprint:
        print("  our addons changed: updating them ...", flush=True)
        install_modules(name, OUR_ADDONS, update=True)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import demo_data

    registry = odoo.modules.registry.Registry(name)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"lang": "nl_NL"})
        demo_data.load(env, sandbox)
        env["ir.config_parameter"].set_param(READY_KEY, fingerprint)
    vacuum_analyze(name)


def task_test_db(name: str, base_modules: str, generation: str, our_addons: str) -> None:
    modules = sorted(m for m in base_modules.split(",") if m)
    digest = hashlib.sha256(" ".join([odoo.release.version, generation, *modules]).encode()).hexdigest()[:10]
    template = f"bankkoppeling_tmpl_{digest}"
    if not database_exists(template):
        building = template + "_partial"
        drop_database(building)
        print(f"  building template '{template}' with {', '.join(modules)} (once, about 2 minutes) ...", flush=True)
        create_dutch_database(building, "en_US")
        install_modules(building, modules)
        with odoo.modules.registry.Registry(building).cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            env["res.lang"]._activate_lang("nl_NL")
            env["ir.module.module"].search([("state", "=", "installed")])._update_translations(["nl_NL"])
        odoo.sql_db.close_db(building)
        vacuum_analyze(building)
        rename_database(building, template)
        with connect_postgres().cursor() as cr:  # older templates are of no use any more
            # keep the two newest others: parallel work trees may need them
            cr.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bankkoppeling_tmpl_%%' "
                       "AND datname NOT LIKE '%%_partial' AND datname <> %s ORDER BY oid DESC OFFSET 2", [template])
            stale = [row[0] for row in cr.fetchall()]
        for old in stale:
            drop_database(old)
    drop_database(name)
    copy_database(template, name)
    install_modules(name, [a for a in our_addons.split(",") if a])
    vacuum_analyze(name)
    freeze_statistics(name)


def task_browser_db(name: str, base_modules: str, generation: str, our_addons: str, sandbox_json: str,
                    base_url: str) -> None:
    """The test database plus the demo story, for the browser tests: what
    ./setup/demo shows, on a copy of the test template (seconds, not a minute)."""
    task_test_db(name, base_modules, generation, our_addons)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import demo_data

    registry = odoo.modules.registry.Registry(name)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"lang": "nl_NL"})
        demo_data.load(env, json.loads(sandbox_json or "{}"))
        # the bank sends the user back to this address (the test server's free port)
        env["ir.config_parameter"].set_param("web.base.url", base_url)
        env["ir.config_parameter"].set_param("web.base.url.freeze", "True")
    odoo.sql_db.close_db(name)
    vacuum_analyze(name)


def main(argv: list[str]) -> None:
    config_path, task, *args = argv
    config.parse_config(["-c", config_path])
    odoo.netsvc.init_logger()
    if task == "demo-db":
        task_demo_db(*args)
    elif task == "test-db":
        task_test_db(*args)
    elif task == "browser-db":
        task_browser_db(*args)
    else:
        raise SystemExit(f"unknown task {task}")


if __name__ == "__main__":
    main(sys.argv[1:])
