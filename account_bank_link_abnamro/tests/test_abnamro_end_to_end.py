# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""End to end: an Odoo user links the two demo ABN AMRO journals through the
local bank sandbox (real HTTPS, mutual TLS, API key, consent pages with TAN):
two consents, one per account, then fetches, also after the access tokens
expired and the refresh tokens rotated. Nothing is mocked."""

import datetime
import json
import sys
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.l10n_nl_bankkoppeling.tests.common import run_fetch
from odoo.addons.l10n_nl_bankkoppeling.tests.route_helpers import confirm

REPO = Path(__file__).resolve().parents[2]
DEMO_SCENARIO = REPO / "setup" / "bank_sandbox" / "demo_scenario.json"
FIRST_IBAN = "NL91ABNA0417164300"
SECOND_IBAN = "NL09ABNA0532013000"
OPENING = {FIRST_IBAN: Decimal("8000.00"), SECOND_IBAN: Decimal("2500.00")}
PASSWORD = "korenaar-boekhouder-2"


def import_repo_helpers():
    """tests/sandbox.py (starts the sandbox) and setup/lib/demo_data.py (the
    demo's journals and links): the test uses what ./setup/demo uses."""
    for folder in (REPO / "tests", REPO / "setup" / "lib"):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    import demo_data
    import sandbox

    return sandbox, demo_data


@tagged("post_install", "-at_install")
class TestAbnAmroEndToEnd(AccountTestInvoicingCommon, HttpCase):
    country_code = "NL"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sandbox, demo_data = import_repo_helpers()
        cls.sandbox = cls.enterClassContext(
            # As a dict, not scenario_file=: reset() reloads only a dict.
            sandbox.running_sandbox(scenario=json.loads(DEMO_SCENARIO.read_text()))
        )
        cls.company = cls.company_data["company"]
        cls.company.company_registry = "81234567"
        cls.journals = demo_data.ensure_journals(cls.env, cls.company, remember_ids=False)
        cls.links = demo_data.ensure_bank_links(
            cls.env,
            cls.company,
            {
                "ing": cls.sandbox.ing_url,
                "abnamro": cls.sandbox.abnamro_url,
                "certs": str(cls.sandbox.certs.directory),
            },
            remember_ids=False,
        )
        cls.user = new_test_user(
            cls.env,
            login="korenaar_boekhouder_abn",
            password=PASSWORD,
            groups="account.group_account_manager,account.group_account_user",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        self.bank_today = datetime.date.fromisoformat(self.sandbox.info()["today"])

    def sandbox_account(self, iban):
        return next(a for a in self.sandbox.accounts("abnamro") if a["iban"] == iban)

    def consent_at_the_bank(self, start_url, iban):
        """The browser: Odoo's start route, ABN AMRO's page (one account,
        TAN), Odoo's callback."""
        self.authenticate(self.user.login, PASSWORD)
        response = confirm(self, start_url)
        self.assertEqual(response.status_code, 303, response.text[:1000])
        bank_page = response.headers["Location"]
        self.assertTrue(
            bank_page.startswith(self.sandbox.abnamro_url + "/as/authorization.oauth2?"), bank_page
        )
        back = self.sandbox.approve_abnamro(bank_page, iban=iban)
        self.assertEqual(urlsplit(back).path, "/bank_link/callback")
        query = dict(parse_qsl(urlsplit(back).query))
        self.assertIn("code", query, back)
        response = self.url_open("/bank_link/callback?" + urlencode(query), allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:1000])
        self.env.invalidate_all()
        return response.headers["Location"]

    def statement_lines(self, account):
        return self.env["account.bank.statement.line"].search(
            [("nl_bank_link_account_id", "=", account.id), ("nl_is_balance_correction", "=", False)]
        )

    def test_two_accounts_two_consents_and_statements(self):
        first_journal = self.journals["ABN"].with_user(self.user)
        second_journal = self.journals["ABN2"].with_user(self.user)
        action = first_journal.action_bank_link_start()
        wizard = self.env["account.bank.link.wizard"].with_user(self.user).browse(action["res_id"])
        # Started from a journal with an ABN AMRO IBAN: the bank is chosen.
        self.assertEqual(wizard.provider, "abnamro")
        wizard.action_next()
        # The demo's draft link knows the legal representative already.
        self.assertEqual(wizard.legal_representative_name, "Anna de Graaf")
        self.assertEqual(wizard.legal_representative_email, "directie@goudenkorenaar.example")
        wizard.legal_representative_confirmed = True
        wizard.action_next()
        self.assertEqual(wizard.step, "consent")
        link = wizard.link_id
        self.assertEqual(link, self.links["abnamro"])
        self.assertIn("2 accounts below still need one", wizard.consent_text)
        self.assertEqual(wizard.abnamro_consents_missing, 2)

        # First consent: the first account.
        landing = self.consent_at_the_bank(wizard.action_go_to_bank()["url"], FIRST_IBAN)
        # back in the wizard's dialog (an action with target "new"), not on a bare record
        resume = self.env.ref("l10n_nl_bankkoppeling.action_bank_link_wizard_resume")
        self.assertTrue(landing.endswith(f"/odoo/action-{resume.id}/{wizard.id}"), landing)
        self.assertEqual(link.state, "linked")
        self.assertEqual(link.account_ids.mapped("iban"), [FIRST_IBAN])
        # The wizard stays at the consent step for the second account and
        # the link shows which consent is done.
        self.assertEqual(wizard.step, "consent")
        self.assertEqual(wizard.abnamro_consents_missing, 1)
        self.assertIn("1 account below still needs its consent", wizard.consent_text)
        progress = str(link.abnamro_consent_progress)
        self.assertIn("NL91 ABNA 0417 1643 00</strong>: consent given", progress)
        self.assertIn("NL09 ABNA 0532 0130 00</strong>: no consent yet", progress)

        # Second consent: the second account.
        self.consent_at_the_bank(wizard.action_go_to_bank()["url"], SECOND_IBAN)
        self.assertEqual(sorted(link.account_ids.mapped("iban")), sorted([FIRST_IBAN, SECOND_IBAN]))
        self.assertTrue(all(link.account_ids.mapped("abnamro_consent_given")))
        self.assertEqual(wizard.step, "accounts")
        self.assertEqual(wizard.abnamro_consents_missing, 0)

        start = self.bank_today - datetime.timedelta(days=90)
        first_line = wizard.line_ids.filtered(lambda ln: ln.iban == FIRST_IBAN)
        second_line = wizard.line_ids.filtered(lambda ln: ln.iban == SECOND_IBAN)
        self.assertTrue(first_line.selected)
        self.assertEqual(first_line.journal_id, self.journals["ABN"])
        first_line.start_date = start
        second_line.write({"selected": True, "journal_id": self.journals["ABN2"].id, "start_date": start})
        wizard.action_next()
        self.assertEqual(wizard.step, "done")
        self.assertIn("can take a few days", wizard.first_fetch_text)

        # Linking queued the first import of both accounts.
        for journal in (first_journal, second_journal):
            journal.invalidate_recordset()
            self.assertEqual(journal.bank_link_job_state, "queued")
        for journal, iban in ((first_journal, FIRST_IBAN), (second_journal, SECOND_IBAN)):
            journal.invalidate_recordset()
            self.assertEqual(journal.bank_link_state, "linked")
            account = journal.bank_link_account_id
            self.assertEqual(account.iban, iban)
            params = run_fetch(self.env, journal)
            self.assertEqual(params["type"], "success", params["message"])
            expected = self.sandbox_account(iban)
            lines = self.statement_lines(account)
            self.assertEqual(len(lines), expected["booked"], iban)
            self.assertEqual(set(lines.journal_id.ids), {journal.id})
            total = sum(Decimal(str(amount)) for amount in lines.mapped("amount"))
            self.assertEqual(total, Decimal(str(expected["balance"])) - OPENING[iban])
            self.assertEqual(Decimal(str(account.bank_balance)), Decimal(str(expected["balance"])))
            self.assertEqual(len(lines.statement_id), len(set(lines.mapped("date"))))

        payment = self.statement_lines(first_journal.bank_link_account_id).filtered(
            lambda ln: ln.unique_import_id and "DEMO-ABN-0001" in ln.unique_import_id
        )
        self.assertEqual(len(payment), 1)
        self.assertEqual(payment.amount, 2420.0)
        self.assertEqual(payment.nl_structured_reference, "0123456789012345")
        self.assertEqual(payment.date, self.bank_today - datetime.timedelta(days=2))

        # Each account's access token expires (7200 s): each fetch refreshes
        # its own consent. ABN AMRO rotates refresh tokens and the sandbox
        # revokes a consent whose old refresh token comes back, so two rounds
        # only pass when each rotated token was stored for its own account.
        for _round in range(2):
            self.sandbox.advance_clock(7300, calendar=False)
            for journal in (first_journal, second_journal):
                params = run_fetch(self.env, journal)
                self.assertEqual(params["type"], "success", params["message"])
        log = self.sandbox.log(bank="abnamro")
        refreshes = [e for e in log if e.get("grant_type") == "refresh_token"]
        self.assertEqual(len(refreshes), 4)
        self.assertTrue(all(e["status"] == 200 for e in refreshes))
        self.assertFalse([e for e in log if e.get("note") == "refresh_token_reused"])
        for journal in (first_journal, second_journal):
            account = journal.bank_link_account_id
            self.assertEqual(len(self.statement_lines(account)), self.sandbox_account(account.iban)["booked"])
        self.assertEqual(link.state, "linked")
