"""The browser stage of ./setup/test: the demo story in a real browser.

Prepares a database like the demo's (a copy of the test template plus
setup/lib/demo_data.py), starts the bank sandbox and Odoo on free ports, runs
``pytest tests/browser`` against them with Debian's Chromium driven by
Playwright, and stops everything again. Screenshots land in
.local/screenshots/ on every run.

A missing Chromium or Playwright makes the stage FAIL: a browser test that
is skipped proves nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
LABEL = "browser tests (Chromium + Playwright: link, fetch, reconcile, renew, diagnose, unlink, invite)"


def _missing_browser(python: str) -> str | None:
    chromium = os.environ.get("BANKKOPPELING_CHROMIUM") or CHROMIUM
    if not (Path(chromium).is_file() and os.access(chromium, os.X_OK)):
        return f"Chromium is missing ({chromium}): sudo apt-get install chromium"
    probe = subprocess.run([python, "-c", "import playwright.sync_api"], capture_output=True, text=True)
    if probe.returncode:
        return "Playwright for Python is missing from the environment: remove .venv and run ./setup/test again"
    return None


def _start_sandbox(python: str, setup: Path, certs: Path, work: Path, log: Path) -> tuple[subprocess.Popen, dict]:
    ready = work / "sandbox-ready.json"
    scenario = setup / "bank_sandbox" / "demo_scenario.json"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [python, "-m", "bank_sandbox", "--certs", str(certs), "--ready-file", str(ready),
             "--port", "0", "--abnamro-port", "0", "--rabobank-port", "0", "--nextgenpsd2-port", "0",
             "--bunq-port", "0", "--tan", "123456",
             *(["--scenario", str(scenario)] if scenario.exists() else [])],
            cwd=str(setup), env=dict(os.environ, PYTHONPATH=str(setup)),
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 60
    while not ready.exists():
        if proc.poll() is not None or time.time() > deadline:
            _stop(proc)
            raise RuntimeError(f"the bank sandbox did not start; see {log}")
        time.sleep(0.1)
    ports = json.loads(ready.read_text())
    return proc, {"ing": f"https://127.0.0.1:{ports['ing']}",
                  "abnamro": f"https://127.0.0.1:{ports['abnamro']}",
                  "rabobank": f"https://127.0.0.1:{ports['rabobank']}",
                  # Knab, Triodos and de Volksbank (account_bank_link_nextgenpsd2's registrations).
                  "nextgenpsd2": f"https://127.0.0.1:{ports['nextgenpsd2']}",
                  "bunq": f"https://127.0.0.1:{ports['bunq']}",
                  "certs": str(certs)}


def _wait_for_odoo(proc: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Odoo stopped at start; see {log}")
        try:
            with urllib.request.urlopen(url + "/web/login", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Odoo did not answer on {url}; see {log}")


def _stop(proc: subprocess.Popen | None) -> None:
    if not proc or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def run(setup_module, venv: Path, odoo_src: Path, pg: dict, db: str, pytest_args=()) -> tuple[str, int, float]:
    """Run the stage; returns (label, exit code, seconds) for the summary."""
    s = setup_module
    started = time.time()
    python = str(venv / "bin" / "python")
    s.say(f"== {LABEL}")
    problem = _missing_browser(python)
    if problem:
        print(f"[bankkoppeling] browser tests FAILED: {problem}", flush=True)
        return LABEL, 3, time.time() - started
    screenshots = s.LOCAL / "screenshots"
    shutil.rmtree(screenshots, ignore_errors=True)
    screenshots.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="bankkoppeling_browser_"))
    port = s.free_port()
    base_url = f"http://127.0.0.1:{port}"
    config = s.write_odoo_config(venv, odoo_src, pg, f"odoo-browser-{db}.conf", {
        "http_port": str(port), "dbfilter": f"^{db}$", "list_db": "False", "log_level": "warn",
        "proxy_mode": "False",
    })
    sandbox = odoo = None
    try:
        sandbox, urls = _start_sandbox(python, s.SETUP, s.CACHE / "sandbox-certs", work,
                                       s.LOCAL / "browser-sandbox.log")
        t0 = time.time()
        with s.setup_lock():
            s.odoo_task(venv, config, "browser-db", db, ",".join(s.base_modules()), s.TEMPLATE_GENERATION,
                        ",".join(s.OUR_ADDONS), json.dumps(urls), base_url, quiet=False)
        s.say(f"   database '{db}' with the demo story ready in {time.time() - t0:.0f} s")
        log = s.LOCAL / "odoo-browser.log"
        log.unlink(missing_ok=True)
        odoo = subprocess.Popen(
            [python, str(odoo_src / "odoo-bin"), "-c", str(config), "-d", db, "--http-port", str(port),
             "--logfile", str(log)], start_new_session=True)
        _wait_for_odoo(odoo, base_url, log)
        env = dict(os.environ, BANKKOPPELING_BROWSER_URL=base_url, BANKKOPPELING_BROWSER_DB=db,
                   BANKKOPPELING_BROWSER_SANDBOX=json.dumps(urls),
                   BANKKOPPELING_SCREENSHOTS=str(screenshots), BANKKOPPELING_ODOO_LOG=str(log),
                   PYTHONDONTWRITEBYTECODE="1")
        proc = subprocess.run([python, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:odoo", "-q",
                               *(pytest_args or [str(s.REPO / "tests" / "browser")])],
                              cwd=s.REPO, env=env)
        code = proc.returncode
    except (RuntimeError, s.SetupError) as error:
        print(f"[bankkoppeling] browser tests FAILED: {error}", flush=True)
        code = 3
    finally:
        _stop(odoo)
        _stop(sandbox)
        shutil.rmtree(work, ignore_errors=True)
    s.say(f"   screenshots: {screenshots}")
    return LABEL, code, time.time() - started
