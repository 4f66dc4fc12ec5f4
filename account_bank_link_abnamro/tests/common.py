# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The first demo ABN AMRO journal linked through the local bank sandbox
(real HTTPS, mutual TLS, API key, the bank's consent pages), for tests that
need a working link to start from. The link wizard itself (two consents)
is tested end to end in test_abnamro_end_to_end.py; these tests give the
one consent (Odoo's start route, the bank's page, Odoo's callback) and set
the journal as the wizard's last step does."""

import dataclasses
import datetime
import json
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import HOST, _super_send
from odoo.tools import html2plaintext

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.account_bank_link_abnamro.tools import abnamro_client, abnamro_provider
from odoo.addons.l10n_nl_bankkoppeling.tests.common import run_fetch, with_payment_group
from odoo.addons.l10n_nl_bankkoppeling.tests.route_helpers import confirm

from .test_abnamro_end_to_end import DEMO_SCENARIO, FIRST_IBAN, OPENING, import_repo_helpers

OPENING_BALANCE = OPENING[FIRST_IBAN]
#: Small pages: a fetch of a few days then spans several pages, so that a
#: fault can hit a page in the middle of it.
PAGE_SIZE = 4
#: Card payments (mutationCode 426) come without transactionId. Two alike
#: in every field on one day: only their number tells them apart.
CARD_ROWS = [
    {"days_ago": days_ago, "kind": "card", "amount": "-4.35", "counterparty_name": "Bakker Bart Utrecht",
     "time": "08:12:00", "card": {"terminal": "5GYV99", "card_number": "321", "city": "UTRECHT"}}
    for days_ago in (1, 1, 4)
]


@tagged("post_install", "-at_install")
class AbnAmroSandboxCase(AccountTestInvoicingCommon, HttpCase):
    country_code = "NL"
    password = "korenaar-abn-faults-1"
    #: Seconds per request of the client; the time-out test shortens it.
    client_timeout = 10.0

    @classmethod
    def get_default_groups(cls):
        return with_payment_group(cls.env, super().get_default_groups())

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sandbox, demo_data = import_repo_helpers()
        cls.scenario = json.loads(DEMO_SCENARIO.read_text())
        cls.scenario["abnamro"]["page_size"] = PAGE_SIZE
        first = next(a for a in cls.scenario["abnamro"]["accounts"] if a["iban"] == FIRST_IBAN)
        first["transactions"] = first.get("transactions", []) + CARD_ROWS
        cls.sandbox = cls.enterClassContext(sandbox.running_sandbox(scenario=cls.scenario))
        cls.company = cls.company_data["company"]
        cls.company.company_registry = "81234567"
        cls.journals = demo_data.ensure_journals(cls.env, cls.company, remember_ids=False)
        links = demo_data.ensure_bank_links(
            cls.env,
            cls.company,
            {
                "ing": cls.sandbox.ing_url,
                "abnamro": cls.sandbox.abnamro_url,
                "certs": str(cls.sandbox.certs.directory),
            },
            remember_ids=False,
        )
        cls.link = links["abnamro"]
        cls.link.legal_representative_confirmed = True
        cls.user = new_test_user(
            cls.env,
            login="korenaar_abn_faults",
            password=cls.password,
            groups="account.group_account_manager,account.group_account_user",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.user.groups_id |= with_payment_group(cls.env, cls.env["res.groups"])

    @classmethod
    def _request_handler(cls, session, request, /, **kwargs):
        # Odoo's test harness raises every time-out below 10 s to 10 s; the
        # time-out tests need the client's own, short one (loopback only).
        if urlsplit(request.url).hostname in (HOST, "localhost"):
            return _super_send(session, request, **kwargs)
        return super()._request_handler(session, request, **kwargs)

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        self.bank_today = datetime.date.fromisoformat(self.sandbox.info()["today"])
        # Waiting between retries is not under test: record the waits
        # instead of sleeping them. The retries themselves are real.
        self.sleeps = []
        self.retry_policy = abnamro_client.RetryPolicy()
        original_init = abnamro_provider.AbnAmroProvider.__init__
        test = self

        def init_without_waiting(provider, config, **kwargs):
            kwargs["sleep"] = test.sleeps.append
            kwargs["retry"] = test.retry_policy
            config = dataclasses.replace(config, timeout=test.client_timeout)
            original_init(provider, config, **kwargs)

        self.patch(abnamro_provider.AbnAmroProvider, "__init__", init_without_waiting)

    # ------------------------------------------------------------ linking

    def give_consent(self, link):
        """The browser: Odoo's start route, ABN AMRO's page (one account,
        TAN), Odoo's callback."""
        self.authenticate(self.user.login, self.password)
        start_url = link.with_user(self.user).action_start_consent()["url"]
        response = confirm(self, start_url)
        self.assertEqual(response.status_code, 303, response.text[:1000])
        back = self.sandbox.approve_abnamro(response.headers["Location"], iban=FIRST_IBAN)
        query = dict(parse_qsl(urlsplit(back).query))
        self.assertIn("code", query, back)
        response = self.url_open("/bank_link/callback?" + urlencode(query), allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:1000])
        self.env.invalidate_all()
        self.assertEqual(link.state, "linked", link.last_error)

    def link_and_fetch(self):
        """The first demo ABN AMRO journal linked from 90 days back and
        fetched once: (journal as the accountant, its account at the bank)."""
        self.give_consent(self.link)
        account = self.link.account_ids.filtered(lambda a: a.iban == FIRST_IBAN)
        self.assertTrue(account, self.link.account_ids.mapped("iban"))
        account.write(
            {
                "journal_id": self.journals["ABN"].id,
                "start_date": self.bank_today - datetime.timedelta(days=90),
            }
        )
        journal = self.journals["ABN"].with_user(self.user)
        self.assert_fetch_succeeds(journal)
        self.assert_complete(account)
        return journal, account

    # ------------------------------------------------------------ fetching

    def fetch(self, journal):
        """Fetch now as the user does, then the queued fetch as the background
        worker runs it; the result as a notification's params."""
        return run_fetch(self.env, journal)

    def assert_fetch_succeeds(self, journal):
        params = self.fetch(journal)
        self.assertEqual(params["type"], "success", params["message"])

    def statement_lines(self, account):
        return self.env["account.bank.statement.line"].search(
            [("nl_bank_link_account_id", "=", account.id), ("nl_is_balance_correction", "=", False)]
        )

    def sandbox_account(self):
        return next(a for a in self.sandbox.accounts("abnamro") if a["iban"] == FIRST_IBAN)

    def assert_complete(self, account, bank_ids=()):
        """Every booked transaction at the bank is in Odoo exactly once: the
        count, the sum (the bank's balance minus the opening balance) and
        the bank's ids of ``bank_ids`` each on one line."""
        expected = self.sandbox_account()
        lines = self.statement_lines(account)
        import_ids = lines.mapped("unique_import_id")
        self.assertEqual(len(import_ids), len(set(import_ids)), "a transaction is imported twice")
        self.assertEqual(len(lines), expected["booked"])
        total = sum((Decimal(str(amount)) for amount in lines.mapped("amount")), Decimal(0))
        self.assertEqual(total, Decimal(str(expected["balance"])) - OPENING_BALANCE)
        for bank_id in bank_ids:
            found = lines.filtered(lambda ln, b=bank_id: ln.unique_import_id.endswith(b))
            self.assertEqual(len(found), 1, bank_id)
        self.assertFalse(
            self.env["account.bank.statement.line"].search_count(
                [("nl_bank_link_account_id", "=", account.id), ("nl_is_balance_correction", "=", True)]
            ),
            "a balance correction hides a lost or doubled transaction",
        )
        self.assertEqual(Decimal(str(account.bank_balance)), Decimal(str(expected["balance"])))
        return lines

    def bank_rows(self, link, date_from, date_to):
        """The bank's own rows of the window, read from its API with the
        consent's access token (a plain GET: it changes nothing)."""
        consent = link._abnamro_consents()[FIRST_IBAN]
        session = self.sandbox.session("abnamro")
        headers = {"Authorization": f"Bearer {consent['access_token']}", "API-Key": self.sandbox.abnamro_api_key}
        params = {"bookDateFrom": date_from.isoformat(), "bookDateTo": date_to.isoformat()}
        rows = []
        while True:
            response = session.get(
                f"{self.sandbox.abnamro_url}/v1/accounts/{FIRST_IBAN}/transactions",
                params=params, headers=headers, timeout=30,
            )
            self.assertEqual(response.status_code, 200, response.text[:500])
            body = response.json()
            rows += body["transactions"]
            if not body.get("nextPageKey"):
                return rows
            params["nextPageKey"] = body["nextPageKey"]

    def last_message(self, record):
        messages = self.env["mail.message"].search(
            [("model", "=", record._name), ("res_id", "=", record.id)], order="id desc", limit=5
        )
        # Tracked field changes are messages without a body.
        return next((html2plaintext(m.body) for m in messages if m.body), "")

    def assert_told(self, journal, link, text):
        """``text`` is the latest message in the journal's and the link's chatter."""
        for record in (journal, link):
            message = " ".join(self.last_message(record).split())
            self.assertIn(" ".join(text.split()), message, record._name)
