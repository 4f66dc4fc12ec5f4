"""Link the running sandbox's accounts in an Odoo database (the crash test's
setup step; run with the virtual environment's Python):

    python odoo_link.py ODOO_CONFIG DB SANDBOX_JSON START_DATE

SANDBOX_JSON: {"ports": {"ing", "abnamro"}, "certs": DIR}. Prints the
linked accounts as JSON: {iban: account id}.
"""

import datetime
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import linked_world  # noqa: E402  (puts setup/ and setup/lib/ on the path)


def main(config_path, db, sandbox_json, start_date):
    from sandbox import SandboxCerts, SandboxHandle

    import odoo
    from odoo.tools import config

    config.parse_config(["-c", config_path, "--log-level", "warn"])
    odoo.netsvc.init_logger()
    info = json.loads(sandbox_json)
    handle = SandboxHandle("127.0.0.1", info["ports"], SandboxCerts(Path(info["certs"])), None, None, {})
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        linked = linked_world.link_accounts(env, handle, datetime.date.fromisoformat(start_date))
        print(json.dumps({iban: account.id for iban, account in linked.items()}))


if __name__ == "__main__":
    main(*sys.argv[1:])
