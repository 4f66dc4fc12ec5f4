"""Browser tests: the demo story in Debian's Chromium, driven by Playwright.

Run them with ``./setup/test --only browser`` (part of ``./setup/test``): it
prepares a database like the demo's, starts the bank sandbox and Odoo on
free ports and passes their addresses in BANKKOPPELING_BROWSER_* variables.
The tests run in file order and build on each other, as a user's morning
does: link the banks, fetch, reconcile, renew, diagnose.

No browser is downloaded: Playwright launches /usr/bin/chromium. When
Chromium or Playwright is missing the tests FAIL, never skip.
"""

from __future__ import annotations

import json
import os
import re
import xmlrpc.client
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("BANKKOPPELING_CHROMIUM") or "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 800}
LOGIN, PASSWORD = "admin", "admin"
#: what the sandbox's consent pages accept (setup/bank_sandbox, --tan)
SANDBOX_TAN = "123456"


def _setting(name):
    value = os.environ.get(f"BANKKOPPELING_BROWSER_{name}")
    if not value:
        pytest.fail(f"BANKKOPPELING_BROWSER_{name} is not set: run these tests with ./setup/test --only browser "
                    "(it starts Odoo and the bank sandbox for them)", pytrace=False)
    return value


@pytest.fixture(scope="session")
def odoo_url():
    return _setting("URL").rstrip("/")


@pytest.fixture(scope="session")
def sandbox_urls():
    return json.loads(_setting("SANDBOX"))


class Rpc:
    """The database as the administrator sees it, over XML-RPC: counts and
    states to compare with the screen, and test set-up a user cannot do
    (a consent that ends soon)."""

    def __init__(self, url, db):
        self.db = db
        self.uid = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common").authenticate(db, LOGIN, PASSWORD, {})
        assert self.uid, "the administrator cannot log in over XML-RPC"
        self.models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

    def __call__(self, model, method, *args, **kwargs):
        return self.models.execute_kw(self.db, self.uid, PASSWORD, model, method, list(args), kwargs)

    def search_read(self, model, domain, fields, **kwargs):
        return self(model, "search_read", domain, fields=fields, **kwargs)

    def count(self, model, domain):
        return self(model, "search_count", domain)

    def journal(self, code):
        journals = self.search_read("account.journal", [("code", "=", code)], ["id", "name"])
        assert journals, f"the demo has no journal {code}"
        return journals[0]


@pytest.fixture(scope="session")
def rpc(odoo_url):
    return Rpc(odoo_url, _setting("DB"))


@pytest.fixture(scope="session")
def screenshots():
    folder = Path(os.environ.get("BANKKOPPELING_SCREENSHOTS")
                  or Path(__file__).resolve().parents[2] / ".local" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium is missing ({CHROMIUM}): sudo apt-get install chromium", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is missing: it is in setup/requirements.txt", pytrace=False)
    with sync_playwright() as playwright:
        # --no-sandbox: Chromium refuses its own sandbox when run as root (CI containers)
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def context(browser, odoo_url):
    # The bank sandbox has its own test CA; the real banks have public certificates.
    ctx = browser.new_context(viewport=VIEWPORT, locale="nl-NL", timezone_id="Europe/Amsterdam",
                              ignore_https_errors=True)
    ctx.set_default_timeout(30_000)
    page = ctx.new_page()
    page.goto(f"{odoo_url}/web/login")
    page.fill("input[name=login]", LOGIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    # The first login builds the assets (and partner_autocomplete calls out): slow on a busy machine.
    page.wait_for_selector(".o_main_navbar", timeout=180_000)
    page.close()
    yield ctx
    ctx.close()


class Shooter:
    def __init__(self, page, folder, prefix):
        self.page, self.folder, self.prefix = page, folder, prefix

    def __call__(self, name):
        # the state was asserted before; let animations (dialogs, toasts) settle for the picture
        self.page.wait_for_timeout(400)
        self.page.screenshot(path=str(self.folder / f"{self.prefix}-{name}.png"))


@pytest.fixture
def page(context, request):
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    page.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture
def shot(page, screenshots, request):  # noqa: D103
    prefix = re.sub(r"^test_", "", request.node.name)
    return Shooter(page, screenshots, prefix)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        page = item.funcargs.get("page")
        folder = item.funcargs.get("screenshots")
        if page and folder and not page.is_closed():
            # what the user saw when the test failed, and where
            page.screenshot(path=str(folder / f"FAILED-{item.name}.png"))
            report.sections.append(("browser", f"page at failure: {page.url}"))
