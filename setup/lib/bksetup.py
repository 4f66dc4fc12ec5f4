"""Install, start and test the product: the engine behind ./setup/demo and ./setup/test.

Standard library only: this runs before any virtual environment exists.
Every step is idempotent and recovers from a half-finished earlier run:
work happens in a temporary place and is moved into place (or marked
complete) only at the end.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import fcntl
import getpass
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SETUP = REPO / "setup"
LOCAL = REPO / ".local"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "l10n-nl-bankkoppeling"
ODOO_CACHE = CACHE / "odoo-18.0"
OFFICIAL_ODOO_SOURCE = "https://nightly.odoo.com/18.0/nightly/src/odoo_18.0.latest.tar.gz"
BASE_ADDON = "l10n_nl_bankkoppeling"


def discover_addons(repo: Path = REPO) -> tuple[str, ...]:
    """Every addon of this repository (a top-level folder with a manifest), the framework first."""
    names = sorted(p.parent.name for p in repo.glob("*/__manifest__.py"))
    return tuple(sorted(names, key=lambda name: name != BASE_ADDON))


OUR_ADDONS = discover_addons()
DEMO_DB = "bankkoppeling_demo"
TEST_DB = "bankkoppeling_test"
DEBIAN_BUILD_PACKAGES = ("libldap2-dev", "libsasl2-dev", "libpq-dev", "gcc", "python3-dev")
#: Bump when the template database needs rebuilding for reasons no hash sees.
TEMPLATE_GENERATION = "3"


class SetupError(Exception):
    """A problem the user can fix; printed as one line, no traceback."""


def say(message: str) -> None:
    print(f"[bankkoppeling] {message}", flush=True)


def run(cmd, *, check=True, quiet=False, env=None, **kwargs):
    """Run a command; on failure show its output's tail and raise SetupError."""
    if quiet:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, **kwargs)
        if check and proc.returncode:
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-25:]
            raise SetupError(
                f"'{' '.join(map(str, cmd[:4]))} ...' failed (exit {proc.returncode}):\n"
                + "\n".join(tail)
            )
        return proc
    proc = subprocess.run(cmd, env=env, **kwargs)
    if check and proc.returncode:
        raise SetupError(f"'{' '.join(map(str, cmd[:4]))} ...' failed (exit {proc.returncode})")
    return proc


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


# --------------------------------------------------------------------------
# Python
# --------------------------------------------------------------------------


def check_python() -> None:
    if not ((3, 10) <= sys.version_info[:2] <= (3, 12)):
        raise SetupError(
            f"Odoo 18 supports Python 3.10 to 3.12; this is {sys.version.split()[0]}. "
            "Install python3.11 (Debian 12: apt-get install python3.11 python3.11-venv) "
            "or set PYTHON=/path/to/python3.11."
        )


# --------------------------------------------------------------------------
# Odoo source
# --------------------------------------------------------------------------


def read_pkg_version(src: Path) -> str:
    for line in (src / "PKG-INFO").read_text(errors="replace").splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return ""


def odoo_source_problem(src: Path) -> str | None:
    """Why ``src`` is not an Odoo 18.0 Community source tree, or None."""
    if not src.is_dir():
        return f"{src} is not a folder"
    for needed in ("odoo-bin", "setup.py", "requirements.txt", "odoo/release.py", "odoo/addons/account"):
        if not (src / needed).exists():
            return f"{src} has no {needed}: not an Odoo source tree"
    if (src / "odoo/addons/web_enterprise").exists():
        return f"{src} is Odoo Enterprise (web_enterprise present); this product needs Community"
    if (src / "PKG-INFO").exists():
        version = read_pkg_version(src)
        if "+e" in version:
            return f"{src} is Odoo Enterprise (PKG-INFO version {version})"
        if not version.startswith("18.0"):
            return f"{src} is Odoo {version or 'of unknown version'}, not 18.0"
    else:
        release = (src / "odoo/release.py").read_text(errors="replace")
        if "version_info = (18, 0" not in release:
            return f"{src} is not Odoo 18.0 (odoo/release.py)"
        if "'e'" in release.split("version_info", 1)[1][:120]:
            return f"{src} is Odoo Enterprise (odoo/release.py)"
    return None


def copy_odoo_source(src: Path) -> None:
    """Copy only Odoo's own files (no docker files, no extra addons folder)."""
    staging = ODOO_CACHE.with_name(ODOO_CACHE.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in ("odoo", "setup", "odoo-bin", "setup.py", "setup.cfg", "requirements.txt",
                 "PKG-INFO", "LICENSE", "MANIFEST.in", "README.md"):
        path = src / name
        if path.is_dir():
            shutil.copytree(path, staging / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif path.exists():
            shutil.copy2(path, staging / name)
    (staging / ".complete").write_text(json.dumps({"from": str(src), "at": time.time()}))
    old = ODOO_CACHE.with_name(ODOO_CACHE.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if ODOO_CACHE.exists():
        ODOO_CACHE.rename(old)
    staging.rename(ODOO_CACHE)
    shutil.rmtree(old, ignore_errors=True)


def download_official_source() -> Path:
    say(f"Downloading the official Odoo 18.0 source ({OFFICIAL_ODOO_SOURCE}) ...")
    target = CACHE / "download"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    archive = target / "odoo.tar.gz"
    try:
        with urllib.request.urlopen(OFFICIAL_ODOO_SOURCE, timeout=60) as answer, open(archive, "wb") as out:
            shutil.copyfileobj(answer, out)
    except OSError as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise SetupError(
            f"Could not download Odoo 18.0 ({exc}). Point ODOO_SRC at a local Odoo 18.0 "
            "Community source folder: ODOO_SRC=/path/to/odoo ./setup/demo"
        ) from None
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(target)
    tops = [p for p in target.iterdir() if p.is_dir()]
    if len(tops) != 1:
        raise SetupError("The downloaded Odoo archive has an unexpected layout; use ODOO_SRC.")
    return tops[0]


def check_given_odoo_source() -> Path | None:
    """The folder ODOO_SRC names, refused at once when it is no Odoo 18.0
    Community source: the most fundamental problem is reported first."""
    given = os.environ.get("ODOO_SRC")
    if not given:
        return None
    src = Path(given).expanduser().resolve()
    problem = odoo_source_problem(src)
    if problem:
        raise SetupError(f"ODOO_SRC: {problem}. Point ODOO_SRC at an Odoo 18.0 Community source folder.")
    return src


def ensure_odoo_source() -> Path:
    src = check_given_odoo_source()
    if src:
        cached_ok = (ODOO_CACHE / ".complete").exists() and not odoo_source_problem(ODOO_CACHE)
        if src != ODOO_CACHE and not (cached_ok and read_pkg_version(src) == read_pkg_version(ODOO_CACHE)
                                      and json.loads((ODOO_CACHE / ".complete").read_text()).get("from") == str(src)):
            say(f"Copying Odoo source from {src} to {ODOO_CACHE} (once) ...")
            copy_odoo_source(src)
        return ODOO_CACHE
    if (ODOO_CACHE / ".complete").exists():
        problem = odoo_source_problem(ODOO_CACHE)
        if not problem:
            return ODOO_CACHE
        say(f"Cached Odoo source unusable ({problem}); fetching it again.")
    src = download_official_source()
    problem = odoo_source_problem(src)
    if problem:
        raise SetupError(f"Downloaded source: {problem}. Use ODOO_SRC.")
    copy_odoo_source(src)
    shutil.rmtree(CACHE / "download", ignore_errors=True)
    return ODOO_CACHE


# --------------------------------------------------------------------------
# Debian packages
# --------------------------------------------------------------------------


def missing_debian_packages(packages) -> list[str]:
    if not shutil.which("dpkg-query"):
        return []
    missing = []
    for package in packages:
        proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
        if "install ok installed" not in proc.stdout:
            missing.append(package)
    return missing


_apt_updated = False


def ensure_debian_packages(packages, why: str) -> None:
    global _apt_updated
    missing = missing_debian_packages(packages)
    if not missing:
        return
    if not (is_root() and shutil.which("apt-get")):
        raise SetupError(
            f"Missing Debian packages for {why}: {' '.join(missing)}. "
            f"Install them: sudo apt-get install {' '.join(missing)}"
        )
    say(f"Installing Debian packages for {why}: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if not _apt_updated:
        run(["apt-get", "update", "-qq"], quiet=True, env=env)
        _apt_updated = True
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], quiet=True, env=env)


# --------------------------------------------------------------------------
# Virtual environment
# --------------------------------------------------------------------------


def manifest_python_dependencies() -> list[str]:
    deps = set()
    for addon in OUR_ADDONS:
        manifest = ast.literal_eval((REPO / addon / "__manifest__.py").read_text())
        deps.update(manifest.get("external_dependencies", {}).get("python", []))
    return sorted(deps)


def venv_fingerprint(odoo_src: Path) -> str:
    digest = hashlib.sha256()
    digest.update(sys.version.encode())
    digest.update(read_pkg_version(odoo_src).encode())
    digest.update((odoo_src / "requirements.txt").read_bytes())
    digest.update((SETUP / "requirements.txt").read_bytes())
    digest.update(" ".join(manifest_python_dependencies()).encode())
    return digest.hexdigest()[:12]


def ensure_venv(odoo_src: Path) -> Path:
    """The virtual environment lives in the cache, keyed by everything that
    goes into it, and ``.venv`` in the repository points to it: a fresh
    clone reuses an identical environment instead of reinstalling it."""
    ensure_debian_packages(DEBIAN_BUILD_PACKAGES, "building Odoo's Python dependencies")
    venv = CACHE / f"venv-py{sys.version_info[0]}{sys.version_info[1]}-{venv_fingerprint(odoo_src)}"
    link = REPO / ".venv"
    if not (venv / ".complete").exists():
        say(f"Creating the Python environment {venv} (first run: a few minutes) ...")
        shutil.rmtree(venv, ignore_errors=True)
        run([sys.executable, "-m", "venv", str(venv)], quiet=True)
        python = str(venv / "bin" / "python")
        build_constraints = venv / "build-constraints.txt"
        # cbor2 5.4 does not build with setuptools 80+; PIP_CONSTRAINT also
        # reaches pip's isolated build environments.
        build_constraints.write_text("setuptools<80\n")
        env = dict(os.environ, PIP_CONSTRAINT=str(build_constraints), PIP_DISABLE_PIP_VERSION_CHECK="1")
        pip = [python, "-m", "pip", "install", "--quiet"]
        run(pip + ["setuptools<80", "wheel"], env=env, quiet=True)
        say("  Odoo's requirements.txt ...")
        run(pip + ["-r", str(odoo_src / "requirements.txt")], env=env, quiet=True)
        say("  Odoo itself (editable) ...")
        run(pip + ["--no-deps", "--no-build-isolation", "-e", str(odoo_src),
                   "--config-settings", "editable_mode=compat"], env=env, quiet=True)
        say("  OCA addons, our dependencies, test tools ...")
        constraints = venv / "odoo-constraints.txt"
        constraints.write_text((odoo_src / "requirements.txt").read_text() + "setuptools<80\n")
        env["PIP_CONSTRAINT"] = str(constraints)
        run(pip + ["-r", str(SETUP / "requirements.txt"), *manifest_python_dependencies()], env=env, quiet=True)
        problem = run([python, "-c", "import odoo, odoo.release; print(odoo.__file__, odoo.release.version)"],
                      quiet=True).stdout
        if str(odoo_src) not in problem:
            raise SetupError(f"The environment imports the wrong Odoo: {problem.strip()}")
        (venv / ".complete").write_text(time.ctime())
    if link.is_symlink() or link.exists():
        if link.resolve() != venv.resolve():
            if link.is_symlink() or link.is_file():
                link.unlink()
            else:
                shutil.rmtree(link)
    if not link.exists():
        link.symlink_to(venv)
    return venv


def ensure_lint_venv() -> Path:
    """pylint-odoo and ruff in an environment of their own, keyed by
    setup/requirements-lint.txt: they need nothing of Odoo's."""
    requirements = SETUP / "requirements-lint.txt"
    digest = hashlib.sha256(sys.version.encode() + requirements.read_bytes()).hexdigest()[:12]
    venv = CACHE / f"lint-py{sys.version_info[0]}{sys.version_info[1]}-{digest}"
    if not (venv / ".complete").exists():
        say(f"Creating the linters' environment {venv} ...")
        shutil.rmtree(venv, ignore_errors=True)
        run([sys.executable, "-m", "venv", str(venv)], quiet=True)
        run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", str(requirements)],
            env=dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1"), quiet=True)
        (venv / ".complete").write_text(time.ctime())
    return venv


def run_linters(results) -> None:
    """ruff (ruff.toml) over the repository and pylint-odoo with the OCA's
    configuration (.pylintrc) over the addons: any message fails."""
    venv = ensure_lint_venv()
    for label, cmd in (
        ("ruff (ruff.toml)", [str(venv / "bin" / "ruff"), "check", "--no-fix", "."]),
        ("pylint-odoo (.pylintrc, the OCA's checks for 18.0)",
         [str(venv / "bin" / "pylint"), "--rcfile=.pylintrc", *OUR_ADDONS]),
    ):
        say(f"== {label}")
        t0 = time.time()
        proc = subprocess.run(cmd, cwd=REPO)
        results.append((label, proc.returncode, time.time() - t0))


# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------


def psql_works(env: dict) -> tuple[bool, str]:
    if not shutil.which("psql"):
        return False, "psql not installed"
    proc = subprocess.run(["psql", "-d", env.get("PGDATABASE", "postgres"), "-Atc", "select 1"],
                          capture_output=True, text=True, env=env, timeout=20)
    return proc.returncode == 0, (proc.stderr or proc.stdout).strip()


def debian_clusters() -> list[dict]:
    if not shutil.which("pg_lsclusters"):
        return []
    proc = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True)
    clusters = []
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 4:
            clusters.append({"version": parts[0], "name": parts[1], "port": parts[2], "status": parts[3]})
    return clusters


#: The role is created by SQL that reads the name as a psql variable (:'role'),
#: passed on stdin: no shell and no SQL quoting of the name anywhere.
ENSURE_ROLE_SQL = (
    "SELECT format('CREATE ROLE %I LOGIN CREATEDB', :'role') "
    "WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \\gexec\n"
)


def ensure_role(user: str, port: str | None = None) -> None:
    """Create the login role ``user`` (with CREATEDB) as the ``postgres`` superuser."""
    cmd = ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
           "-v", f"role={user}", "-d", "postgres", "-f", "-"]
    if port:
        cmd[5:5] = ["-p", str(port)]
    proc = subprocess.run(cmd, input=ENSURE_ROLE_SQL, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        answer = (proc.stderr or proc.stdout).strip().splitlines()
        raise SetupError(f"Could not create the PostgreSQL role '{user}': {answer[-1] if answer else 'no answer'}")


def ensure_postgres() -> dict:
    """Connection settings for Odoo; starts or installs PostgreSQL if needed."""
    pg_vars = {k: v for k, v in os.environ.items() if k.startswith("PG")}
    env = dict(os.environ)
    if pg_vars:
        ok, why = psql_works(env)
        if ok:
            return {"db_host": env.get("PGHOST", ""), "db_port": env.get("PGPORT", ""),
                    "db_user": env.get("PGUSER", getpass.getuser()), "db_password": env.get("PGPASSWORD", "")}
        say(f"PostgreSQL named by {', '.join(sorted(pg_vars))} is not reachable ({why.splitlines()[0] if why else 'no answer'}); "
            "trying this machine's own cluster.")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    local = {"db_host": "", "db_port": "", "db_user": getpass.getuser(), "db_password": ""}
    ok, why = psql_works(env)
    if ok:
        return local
    clusters = debian_clusters()
    if not clusters and is_root() and shutil.which("apt-get"):
        ensure_debian_packages(("postgresql",), "a local database server")
        clusters = debian_clusters()
    if not clusters:
        raise SetupError(
            "No PostgreSQL found. Install one (sudo apt-get install postgresql) or point the "
            "standard variables PGHOST, PGPORT, PGUSER, PGPASSWORD at a PostgreSQL 13+ server."
        )
    cluster = clusters[0]
    if cluster["status"] != "online":
        if not is_root():
            raise SetupError(
                f"PostgreSQL {cluster['version']}/{cluster['name']} is not running. Start it: "
                f"sudo pg_ctlcluster {cluster['version']} {cluster['name']} start"
            )
        say(f"Starting PostgreSQL {cluster['version']}/{cluster['name']} ...")
        run(["pg_ctlcluster", cluster["version"], cluster["name"], "start"], quiet=True)
    if cluster["port"] != "5432":
        env["PGPORT"] = local["db_port"] = cluster["port"]
    ok, why = psql_works(env)
    if not ok and is_root():
        ensure_role(getpass.getuser(), env.get("PGPORT"))
        ok, why = psql_works(env)
    if not ok:
        raise SetupError(
            f"PostgreSQL runs but refuses user '{getpass.getuser()}' ({why.splitlines()[0] if why else ''}). "
            f"Create the role: sudo -u postgres createuser --createdb {getpass.getuser()}"
        )
    return local


# --------------------------------------------------------------------------
# Odoo configuration
# --------------------------------------------------------------------------


def write_odoo_config(venv: Path, odoo_src: Path, pg: dict, name: str, extra: dict | None = None) -> Path:
    LOCAL.mkdir(exist_ok=True)
    site_packages = next((venv / "lib").glob("python3.*/site-packages"))
    addons_path = [str(odoo_src / "odoo" / "addons"), str(site_packages / "odoo" / "addons"), str(REPO)]
    secret_file = LOCAL / "admin_passwd"
    if not secret_file.exists():
        secret_file.write_text(hashlib.sha256(os.urandom(32)).hexdigest()[:24])
        secret_file.chmod(0o600)
    options = {
        "addons_path": ",".join(addons_path),
        "data_dir": str(CACHE / "data"),
        "admin_passwd": secret_file.read_text().strip(),
        "db_host": pg["db_host"] or "False",
        "db_port": pg["db_port"] or "False",
        "db_user": pg["db_user"],
        "db_password": pg["db_password"] or "False",
        "without_demo": "all",
        "max_cron_threads": "1",
        "log_level": "info",
    }
    options.update(extra or {})
    path = LOCAL / name
    path.write_text("[options]\n" + "".join(f"{k} = {v}\n" for k, v in options.items()))
    path.chmod(0o600)
    return path


def odoo_task(venv: Path, config: Path, *args: str, quiet: bool = True) -> str:
    """Run setup/lib/odoo_tasks.py inside the virtual environment."""
    proc = run([str(venv / "bin" / "python"), str(SETUP / "lib" / "odoo_tasks.py"), str(config), *args],
               quiet=quiet)
    return proc.stdout.strip() if quiet else ""


def addons_fingerprint() -> str:
    """Changes whenever a file of our addons changes: then they are updated."""
    digest = hashlib.sha256()
    for addon in OUR_ADDONS:
        for path in sorted((REPO / addon).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and "/tests/" not in str(path):
                digest.update(str(path.relative_to(REPO)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def base_modules() -> list[str]:
    """Everything our addons depend on, outside this repository."""
    modules = {"l10n_nl"}
    for addon in OUR_ADDONS:
        manifest = ast.literal_eval((REPO / addon / "__manifest__.py").read_text())
        modules.update(d for d in manifest.get("depends", []) if d not in OUR_ADDONS)
    return sorted(modules)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------


@contextlib.contextmanager
def setup_lock():
    """One setup at a time per machine: parallel runs would build the same environment or template twice."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "setup.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("Another setup run is preparing the environment or a database; waiting for it ...")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def prepare() -> tuple[Path, Path, dict]:
    check_python()
    with setup_lock():
        odoo_src = ensure_odoo_source()
        pg = ensure_postgres()
        venv = ensure_venv(odoo_src)
    return odoo_src, venv, pg


def sandbox_available() -> bool:
    return (SETUP / "bank_sandbox" / "__main__.py").exists() and not os.environ.get("BANKKOPPELING_NO_SANDBOX")


def command_demo(args) -> int:
    started = time.time()
    # Python and the Odoo source before the port: a busy port is the last
    # thing to fix, and the demo running beside the tests must not hide a
    # wrong ODOO_SRC.
    check_python()
    check_given_odoo_source()
    if port_in_use(args.port) and not args.stop:
        raise SetupError(
            f"Port {args.port} is already in use (another Odoo?). Stop that program "
            f"(./setup/demo --stop, or: fuser -k {args.port}/tcp) or choose another port: ./setup/demo --port 8070"
        )
    odoo_src, venv, pg = prepare()
    ensure_debian_packages(("wkhtmltopdf",), "PDF invoices")
    config = write_odoo_config(venv, odoo_src, pg, "odoo-demo.conf", {
        "dbfilter": f"^{DEMO_DB}$", "list_db": "False", "http_port": str(args.port),
        "proxy_mode": "False",
    })
    sandbox = None
    sandbox_urls = {}
    if sandbox_available():
        sandbox, sandbox_urls = start_sandbox(venv)
    say(f"Preparing the demo database '{DEMO_DB}' ...")
    odoo_task(venv, config, "demo-db", DEMO_DB, addons_fingerprint(), json.dumps(sandbox_urls), quiet=False)
    say(f"Ready in {time.time() - started:.0f} s.")
    odoo_cmd = [str(venv / "bin" / "python"), str(odoo_src / "odoo-bin"), "-c", str(config), "-d", DEMO_DB,
                "--http-port", str(args.port), "--logfile", str(LOCAL / "odoo-demo.log")]
    odoo = subprocess.Popen(odoo_cmd, start_new_session=True)
    (LOCAL / "demo.pids").write_text(" ".join(str(p.pid) for p in (odoo, sandbox) if p))
    for _ in range(120):
        if port_in_use(args.port):
            break
        if odoo.poll() is not None:
            raise SetupError(f"Odoo stopped at start; see {LOCAL / 'odoo-demo.log'}")
        time.sleep(0.5)
    print(
        "\n"
        f"  Odoo with the bank link is running:  http://localhost:{args.port}\n"
        "  Log in as:  admin / admin   (company: De Gouden Korenaar B.V.)\n"
        + (f"  Bank sandbox: ING {sandbox_urls.get('ing', '')}  ABN AMRO {sandbox_urls.get('abnamro', '')}"
           f"  Rabobank {sandbox_urls.get('rabobank', '')}\n"
           f"                Knab, Triodos, ASN Bank, SNS, RegioBank {sandbox_urls.get('nextgenpsd2', '')}"
           f"  bunq {sandbox_urls.get('bunq', '')}\n"
           if sandbox_urls else "")
        + f"  Log file:  {LOCAL / 'odoo-demo.log'}\n"
        + ("  Stop with:  ./setup/demo --stop\n" if args.detach
           else "  Stop with:  Ctrl+C (or ./setup/demo --stop from another terminal)\n"),
        flush=True,
    )
    if args.detach:
        return 0
    try:
        return odoo.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop_processes()


def start_sandbox(venv: Path, ing_port: int = 8443, abnamro_port: int = 8444, rabobank_port: int = 8445,
                  nextgenpsd2_port: int = 8446, bunq_port: int = 8447):
    """Start the local bank sandbox (ING, ABN AMRO and Rabobank, each on its
    own HTTPS port) in the background; certificates are made once and cached."""
    certs = CACHE / "sandbox-certs"
    python = str(venv / "bin" / "python")
    env = dict(os.environ, PYTHONPATH=str(SETUP))
    for port in (ing_port, abnamro_port, rabobank_port, nextgenpsd2_port, bunq_port):
        if port_in_use(port):
            raise SetupError(f"Port {port} (bank sandbox) is already in use: ./setup/demo --stop, "
                             f"or: fuser -k {port}/tcp")
    ready = LOCAL / "bank-sandbox.json"
    ready.unlink(missing_ok=True)
    scenario = SETUP / "bank_sandbox" / "demo_scenario.json"
    log = open(LOCAL / "bank-sandbox.log", "ab")
    proc = subprocess.Popen(
        [python, "-m", "bank_sandbox", "--certs", str(certs), "--ready-file", str(ready),
         "--port", str(ing_port), "--abnamro-port", str(abnamro_port), "--rabobank-port", str(rabobank_port),
         "--nextgenpsd2-port", str(nextgenpsd2_port), "--bunq-port", str(bunq_port),
         "--state-dir", str(CACHE / "sandbox-state"),
         *(["--scenario", str(scenario)] if scenario.exists() else [])],
        env=env, stdout=log, stderr=log, start_new_session=True)
    for _ in range(150):
        if ready.exists():
            ports = json.loads(ready.read_text())
            return proc, {"ing": f"https://127.0.0.1:{ports['ing']}",
                          "abnamro": f"https://127.0.0.1:{ports['abnamro']}",
                          "rabobank": f"https://127.0.0.1:{ports['rabobank']}",
                          # Knab, Triodos, ASN Bank, SNS and RegioBank on one port.
                          "nextgenpsd2": f"https://127.0.0.1:{ports['nextgenpsd2']}",
                          "bunq": f"https://127.0.0.1:{ports['bunq']}",
                          "certs": str(certs)}
        if proc.poll() is not None:
            raise SetupError(f"The bank sandbox stopped at start; see {LOCAL / 'bank-sandbox.log'}")
        time.sleep(0.2)
    proc.terminate()
    raise SetupError(f"The bank sandbox did not start; see {LOCAL / 'bank-sandbox.log'}")


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a child of ours that exited stays a zombie until reaped
    try:
        finished, _status = os.waitpid(pid, os.WNOHANG)
        return finished == 0
    except ChildProcessError:
        return True


def stop_processes() -> int:
    pids_file = LOCAL / "demo.pids"
    if not pids_file.exists():
        say("Nothing to stop.")
        return 0
    pids = [int(pid) for pid in pids_file.read_text().split() if pid.isdigit()]
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    # Wait until they are gone, so that a new start finds its ports free.
    deadline = time.time() + 15
    while pids and time.time() < deadline:
        pids = [pid for pid in pids if process_alive(pid)]
        time.sleep(0.2)
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    pids_file.unlink(missing_ok=True)
    say("Stopped Odoo and the bank sandbox.")
    return 0


def command_test(args) -> int:
    started = time.time()
    odoo_src, venv, pg = prepare()
    python = str(venv / "bin" / "python")
    if not args.no_browser:
        ensure_debian_packages(("chromium", "wkhtmltopdf"), "browser tests and PDF invoices")
        probe = run([python, "-c", "import websocket"], check=False, quiet=True)
        if probe.returncode:
            raise SetupError("websocket-client is missing from the environment: Odoo would SKIP browser "
                             "tests and call them passed. Remove .venv and run ./setup/test again.")
    test_db = args.db
    config = write_odoo_config(venv, odoo_src, pg, f"odoo-test-{test_db}.conf",
                               {"http_port": str(free_port()), "log_level": "warn"})
    env = dict(os.environ, BANKKOPPELING_ODOO_CONFIG=str(config), BANKKOPPELING_ODOO_SRC=str(odoo_src),
               BANKKOPPELING_CACHE=str(CACHE), PYTHONDONTWRITEBYTECODE="1")
    results = []

    def pytest(label, cmd_args, extra_env=None):
        say(f"== {label}")
        t0 = time.time()
        proc = subprocess.run([python, "-m", "pytest", "-p", "no:cacheprovider", *cmd_args],
                              cwd=REPO, env=dict(env, **(extra_env or {})))
        # pytest's exit 5 means nothing was collected: a suite that ran
        # nothing must not pass quietly.
        results.append((label, proc.returncode, time.time() - t0))

    not_plain = ("benchmarks", "e2e", "data", "fuzz", "browser", "__pycache__")
    plain = [str(p) for p in (REPO / "tests").iterdir() if p.is_dir() and p.name not in not_plain]
    if args.only in (None, "lint"):
        run_linters(results)
    if args.only in (None, "plain"):
        pytest("plain Python tests (tools, bank clients against the HTTPS sandbox)", ["-q", "-p", "no:odoo", *plain])
    if args.only in (None, "odoo"):
        say(f"== test database '{test_db}'")
        t0 = time.time()
        with setup_lock():
            odoo_task(venv, config, "test-db", test_db, ",".join(base_modules()), TEMPLATE_GENERATION,
                      ",".join(OUR_ADDONS), quiet=False)
        say(f"   ready in {time.time() - t0:.0f} s")
        addon_tests = args.paths or [str(REPO / a / "tests") for a in OUR_ADDONS
                                     if (REPO / a / "tests" / "__init__.py").exists()]
        if not addon_tests:
            raise SetupError("No Odoo tests found in the addons (tests/__init__.py missing?)")
        odoo_options = ["-q", f"--odoo-config={config}", f"--odoo-database={test_db}", "--odoo-http"]
        pytest("Odoo tests of our addons (pytest-odoo, real PostgreSQL, HTTP)", odoo_options + addon_tests)
        if not args.paths:
            pytest("Odoo's own account tests with our addons installed",
                   odoo_options + [str(odoo_src / "odoo/addons/account/tests" / name) for name in ODOO_ACCOUNT_TESTS])
    if args.only in (None, "browser") and not args.no_browser:
        import browser_stage  # setup/lib/browser_stage.py: demo database, sandbox and Odoo on free ports, Chromium

        results.append(browser_stage.run(sys.modules[__name__], venv, odoo_src, pg, f"{test_db}_browser",
                                         args.paths if args.only == "browser" else ()))
    print("\n" + "=" * 70)
    failed = 0
    for label, code, seconds in results:
        verdict = "passed" if code == 0 else ("RAN NO TEST" if code == 5 else f"FAILED (exit {code})")
        print(f"{label}: {verdict} in {seconds:.0f} s")
        failed += code != 0
    print(f"setup/test: {len(results) - failed} suites passed, {failed} failed, {time.time() - started:.0f} s in all")
    return 1 if failed else 0


#: Odoo's own tests for bank statements, reconciliation, invoices, journals
#: and the dashboard: they must pass with our addons installed.
ODOO_ACCOUNT_TESTS = (
    "test_account_bank_statement.py",
    "test_account_journal.py",
    "test_account_journal_dashboard.py",
    "test_account_move_reconcile.py",
    "test_account_move_out_invoice.py",
    "test_structured_reference.py",
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="setup")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run Odoo with the bank link and the bank sandbox")
    demo.add_argument("--port", type=int, default=8069)
    demo.add_argument("--detach", action="store_true", help="start in the background and return")
    demo.add_argument("--stop", action="store_true", help="stop a demo started earlier")
    test = sub.add_parser("test", help="run every test")
    test.add_argument("--only", choices=("lint", "plain", "odoo", "browser"))
    test.add_argument("--no-browser", action="store_true", help=argparse.SUPPRESS)
    test.add_argument("--db", default=TEST_DB, help="test database name (made anew from a template)")
    test.add_argument("paths", nargs="*", help="with --only odoo or --only browser: just these test files")
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            if args.stop:
                return stop_processes()
            return command_demo(args)
        return command_test(args)
    except SetupError as exc:
        print(f"[bankkoppeling] ERROR: {exc}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("[bankkoppeling] interrupted; the next run picks up where this one stopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
