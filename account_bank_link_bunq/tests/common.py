# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The demo bunq journal linked through the local bank sandbox (real HTTPS,
bunq's API context with signed requests and signed answers, bunq's consent
page in Dutch), in the shape of Rabobank's tests/common.py: the company's
bank registration as ./setup/demo makes it, the consent through Odoo's start
route, bunq's page and Odoo's callback, and the journal set as the wizard's
last step does."""

import dataclasses
import datetime
import json
import sys
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import HOST, _super_send
from odoo.tools import html2plaintext

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.l10n_nl_bankkoppeling.tests.common import run_fetch, with_payment_group
from odoo.addons.l10n_nl_bankkoppeling.tests.route_helpers import confirm

from ..tools import bunq_client, bunq_provider

REPO = Path(__file__).resolve().parents[2]
DEMO_SCENARIO = REPO / "setup" / "bank_sandbox" / "demo_scenario.json"
BUNQ_IBAN = "NL55BUNQ9137818406"
OPENING_BALANCE = Decimal("4200.00")
#: Small pages: a fetch spans several pages (paging is under test).
PAGE_COUNT = 25


def import_repo_helpers():
    """tests/sandbox.py (starts the sandbox) and setup/lib/demo_data.py (the
    demo's journals and registrations): the test uses what ./setup/demo uses."""
    for folder in (REPO / "tests", REPO / "setup" / "lib"):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    import demo_data
    import sandbox

    return sandbox, demo_data


@tagged("post_install", "-at_install")
class BunqSandboxCase(AccountTestInvoicingCommon, HttpCase):
    country_code = "NL"
    password = "korenaar-bunq-1"
    bank = "bunq"
    iban = BUNQ_IBAN
    #: Seconds per request of the client.
    client_timeout = 10.0

    @classmethod
    def get_default_groups(cls):
        return with_payment_group(cls.env, super().get_default_groups())

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sandbox, demo_data = import_repo_helpers()
        cls.demo_data = demo_data
        cls.scenario = json.loads(DEMO_SCENARIO.read_text())
        cls.sandbox = cls.enterClassContext(sandbox.running_sandbox(scenario=cls.scenario))
        cls.company = cls.company_data["company"]
        cls.company.company_registry = "81234567"
        cls.journals = demo_data.ensure_journals(cls.env, cls.company, remember_ids=False)
        cls.journal = cls.journals["BUNQ"]
        info = cls.sandbox.info()["bunq"]
        registrations = demo_data.ensure_bank_registrations(
            cls.env,
            cls.company,
            {
                "bunq": cls.sandbox.bunq_url,
                "bunq_client_id": info["client_id"],
                "bunq_client_secret": info["client_secret"],
                "certs": str(cls.sandbox.certs.directory),
            },
        )
        cls.registration = registrations["bunq"]
        cls.link = cls.env["account.bank.link"].create({
            "company_id": cls.company.id,
            "provider": "bunq",
            "legal_representative_name": demo_data.LEGAL_REPRESENTATIVE[0],
            "legal_representative_email": demo_data.LEGAL_REPRESENTATIVE[1],
            "legal_representative_confirmed": True,
        })
        cls.user = new_test_user(
            cls.env,
            login="korenaar_bunq",
            password=cls.password,
            groups="account.group_account_manager,account.group_account_user",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.user.groups_id |= with_payment_group(cls.env, cls.env["res.groups"])

    @classmethod
    def _request_handler(cls, session, request, /, **kwargs):
        # Odoo's test harness raises every time-out below 10 s to 10 s; the
        # client's own applies to the sandbox on loopback.
        if urlsplit(request.url).hostname in (HOST, "localhost"):
            return _super_send(session, request, **kwargs)
        return super()._request_handler(session, request, **kwargs)

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        self.bank_today = datetime.date.fromisoformat(self.sandbox.info()["today"])
        # Waiting between retries is not under test: record the waits.
        self.sleeps = []
        self.retry_policy = bunq_client.RetryPolicy()
        original_init = bunq_provider.BunqProvider.__init__
        test = self

        def init_without_waiting(provider, config, **kwargs):
            kwargs["sleep"] = test.sleeps.append
            kwargs["retry"] = test.retry_policy
            config = dataclasses.replace(config, timeout=test.client_timeout, page_count=PAGE_COUNT)
            original_init(provider, config, **kwargs)

        self.patch(bunq_provider.BunqProvider, "__init__", init_without_waiting)

    # ------------------------------------------------------------ linking

    def give_consent(self, link, ibans=None):
        """The browser: Odoo's start route, bunq's page, Odoo's callback."""
        self.authenticate(self.user.login, self.password)
        start_url = link.with_user(self.user).action_start_consent()["url"]
        response = confirm(self, start_url)
        self.assertEqual(response.status_code, 303, response.text[:1000])
        bank_page = response.headers["Location"]
        self.assertTrue(bank_page.startswith(self.sandbox.bunq_url + "/auth?"), bank_page)
        back = self.sandbox.approve_bunq(bank_page, ibans)
        query = dict(parse_qsl(urlsplit(back).query))
        self.assertIn("code", query, back)
        response = self.url_open("/bank_link/callback?" + urlencode(query), allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:1000])
        self.env.invalidate_all()
        self.assertEqual(link.state, "linked", link.last_error)

    def link_and_fetch(self, days=70):
        """The demo bunq journal linked from ``days`` back and fetched once:
        (journal as the accountant, its account at the bank)."""
        self.give_consent(self.link)
        account = self.link.account_ids.filtered(lambda a: a.iban == self.iban)
        self.assertTrue(account, self.link.account_ids.mapped("iban"))
        account.write(
            {
                "journal_id": self.journal.id,
                "start_date": self.bank_today - datetime.timedelta(days=days),
            }
        )
        journal = self.journal.with_user(self.user)
        self.assert_fetch_succeeds(journal)
        self.assert_complete(account)
        return journal, account

    # ------------------------------------------------------------ fetching

    def fetch(self, journal):
        return run_fetch(self.env, journal)

    def assert_fetch_succeeds(self, journal):
        params = self.fetch(journal)
        self.assertEqual(params["type"], "success", params["message"])

    def statement_lines(self, account):
        return self.env["account.bank.statement.line"].search(
            [("nl_bank_link_account_id", "=", account.id), ("nl_is_balance_correction", "=", False)]
        )

    def sandbox_account(self):
        return next(a for a in self.sandbox.accounts(self.bank) if a["iban"] == self.iban)

    def assert_complete(self, account):
        """Every booked payment at the bank is in Odoo exactly once: the
        count and the sum (the bank's balance minus the opening balance)."""
        expected = self.sandbox_account()
        lines = self.statement_lines(account)
        import_ids = lines.mapped("unique_import_id")
        self.assertEqual(len(import_ids), len(set(import_ids)), "a payment is imported twice")
        self.assertEqual(len(lines), expected["booked"])
        total = sum((Decimal(str(amount)) for amount in lines.mapped("amount")), Decimal(0))
        self.assertEqual(total, Decimal(str(expected["balance"])) - OPENING_BALANCE)
        return lines

    def bank_calls(self, path_part):
        return [entry for entry in self.sandbox.log(self.bank) if path_part in entry["path"]]

    def last_message(self, record):
        messages = self.env["mail.message"].search(
            [("model", "=", record._name), ("res_id", "=", record.id)], order="id desc", limit=5
        )
        return next((html2plaintext(m.body) for m in messages if m.body), "")
