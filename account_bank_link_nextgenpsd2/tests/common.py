# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A demo NextGenPSD2 journal (Knab, Triodos, ASN Bank, SNS or RegioBank)
linked through the local bank sandbox (real HTTPS, mutual TLS, HTTP
signatures at Knab and Triodos, the bank's Dutch consent page with its TAN),
in the shape of Rabobank's tests/common.py: the company's registrations as
./setup/demo makes them, the consent through Odoo's start route, the bank's
page and Odoo's callback, and the journal set as the wizard's last step does."""

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
from odoo.addons.l10n_nl_bankkoppeling.tests.common import run_fetch
from odoo.addons.l10n_nl_bankkoppeling.tests.route_helpers import confirm

from ..tools import nextgenpsd2_client, nextgenpsd2_provider

REPO = Path(__file__).resolve().parents[2]
DEMO_SCENARIO = REPO / "setup" / "bank_sandbox" / "demo_scenario.json"
#: The demo journal of each bank (setup/lib/demo_data.py).
JOURNAL_CODES = {"knab": "KNAB", "triodos": "TRIO", "asn": "ASN", "sns": "SNS", "regiobank": "RGB"}


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
class NextGenPsd2SandboxCase(AccountTestInvoicingCommon, HttpCase):
    country_code = "NL"
    password = "korenaar-nextgenpsd2-1"
    #: Set by the subclass: knab, triodos, asn, sns, regiobank.
    bank = None
    #: Seconds per request of the client.
    client_timeout = 10.0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sandbox, demo_data = import_repo_helpers()
        cls.demo_data = demo_data
        cls.scenario = json.loads(DEMO_SCENARIO.read_text())
        cls.sandbox = cls.enterClassContext(sandbox.running_sandbox(scenario=cls.scenario))
        cls.company = cls.company_data["company"]
        cls.company.company_registry = "81234567"
        # The banks take https redirect URLs only, as a production Odoo has; the test
        # reads the code from the bank's redirect and opens the callback itself.
        parameters = cls.env["ir.config_parameter"].sudo()
        parameters.set_param("web.base.url", "https://korenaar.example")
        parameters.set_param("web.base.url.freeze", "True")
        cls.journals = demo_data.ensure_journals(cls.env, cls.company, remember_ids=False)
        cls.journal = cls.journals[JOURNAL_CODES[cls.bank]]
        cls.iban = cls.journal.bank_acc_number.replace(" ", "")
        cls.registrations = demo_data.ensure_bank_registrations(
            cls.env,
            cls.company,
            {"nextgenpsd2": cls.sandbox.nextgenpsd2_url, "certs": str(cls.sandbox.certs.directory)},
        )
        cls.link = cls.env["account.bank.link"].create({
            "company_id": cls.company.id,
            "provider": cls.bank,
            "legal_representative_name": demo_data.LEGAL_REPRESENTATIVE[0],
            "legal_representative_email": demo_data.LEGAL_REPRESENTATIVE[1],
            "legal_representative_confirmed": True,
        })
        cls.user = new_test_user(
            cls.env,
            login=f"korenaar_{cls.bank}",
            password=cls.password,
            groups="account.group_account_manager,account.group_account_user",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    @classmethod
    def _request_handler(cls, session, request, /, **kwargs):
        # Odoo's test harness raises every time-out below 10 s to 10 s; the
        # client's own applies to the sandbox on loopback.
        if urlsplit(request.url).hostname in (HOST, "localhost"):
            return _super_send(session, request, **kwargs)
        return super()._request_handler(session, request, **kwargs)

    def setUp(self):
        super().setUp()
        self.bank_today = datetime.date.fromisoformat(self.sandbox.info()["today"])
        # Waiting between retries is not under test: record the waits.
        self.sleeps = []
        self.retry_policy = nextgenpsd2_client.RetryPolicy()
        original_init = nextgenpsd2_provider.NextGenPsd2Provider.__init__
        test = self

        def init_without_waiting(provider, config, **kwargs):
            kwargs["sleep"] = test.sleeps.append
            kwargs["retry"] = test.retry_policy
            config = dataclasses.replace(config, timeout=test.client_timeout)
            original_init(provider, config, **kwargs)

        self.patch(nextgenpsd2_provider.NextGenPsd2Provider, "__init__", init_without_waiting)

    # ------------------------------------------------------------ linking

    def give_consent(self, link):
        """The browser: Odoo's start route, the bank's consent page (TAN), Odoo's callback."""
        self.authenticate(self.user.login, self.password)
        start_url = link.with_user(self.user).action_start_consent()["url"]
        response = confirm(self, start_url)
        self.assertEqual(response.status_code, 303, response.text[:1000])
        back = self.sandbox.approve_nextgenpsd2(self.bank, response.headers["Location"], [self.iban])
        query = dict(parse_qsl(urlsplit(back).query))
        self.assertIn("code", query, back)
        response = self.url_open("/bank_link/callback?" + urlencode(query), allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:1000])
        self.env.invalidate_all()
        self.assertEqual(link.state, "linked", link.last_error)

    def link_and_fetch(self, days=150):
        """The demo journal linked from ``days`` back (longer than the sandbox's
        history, Triodos's 140 days included) and fetched once:
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

    def opening_balance(self):
        accounts = self.sandbox.scenario()[self.bank]["accounts"]
        index = [a["iban"] for a in self.sandbox.accounts(self.bank)].index(self.iban)
        return Decimal(str(accounts[index]["opening_balance"]))

    def assert_complete(self, account):
        """Every booked transaction at the bank is in Odoo exactly once: the
        count and the sum (the bank's booked balance minus the opening balance)."""
        expected = self.sandbox_account()
        lines = self.statement_lines(account)
        import_ids = lines.mapped("unique_import_id")
        self.assertEqual(len(import_ids), len(set(import_ids)), "a transaction is imported twice")
        self.assertEqual(len(lines), expected["booked"])
        total = sum((Decimal(str(amount)) for amount in lines.mapped("amount")), Decimal(0))
        self.assertEqual(total, Decimal(str(expected["balance"])) - self.opening_balance())
        return lines

    def bank_calls(self, path_part):
        return [entry for entry in self.sandbox.log(self.bank) if path_part in entry["path"]]

    def messages(self, record):
        messages = self.env["mail.message"].search([("model", "=", record._name), ("res_id", "=", record.id)])
        return " ".join(html2plaintext(m.body) for m in messages if m.body)
