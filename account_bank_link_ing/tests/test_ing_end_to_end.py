# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""End to end: an Odoo user links the demo ING journal through the local bank
sandbox (real HTTPS, mutual TLS, HTTP signatures, the consent pages with TAN)
and fetches statements. Nothing is mocked."""

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
ING_IBAN = "NL67INGB0006543210"
PASSWORD = "korenaar-boekhouder-1"


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
class TestIngEndToEnd(AccountTestInvoicingCommon, HttpCase):
    country_code = "NL"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sandbox, cls.demo_data = import_repo_helpers()
        cls.sandbox = cls.enterClassContext(
            # As a dict, not scenario_file=: reset() reloads only a dict.
            sandbox.running_sandbox(scenario=json.loads(DEMO_SCENARIO.read_text()))
        )
        cls.company = cls.company_data["company"]
        # As the demo company: with a KvK number the wizard need not write the
        # company (which an accountant may not).
        cls.company.company_registry = "81234567"
        cls.journals = cls.demo_data.ensure_journals(cls.env, cls.company, remember_ids=False)
        cls.sandbox_urls = {
            "ing": cls.sandbox.ing_url,
            "abnamro": cls.sandbox.abnamro_url,
            "certs": str(cls.sandbox.certs.directory),
        }
        cls.links = cls.demo_data.ensure_bank_links(
            cls.env, cls.company, cls.sandbox_urls, remember_ids=False
        )
        cls.user = new_test_user(
            cls.env,
            login="korenaar_boekhouder",
            password=PASSWORD,
            groups="account.group_account_manager,account.group_account_user",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        # Booking dates are Amsterdam dates: the sandbox's today, not ours.
        self.bank_today = datetime.date.fromisoformat(self.sandbox.info()["today"])

    def sandbox_account(self, iban):
        return next(a for a in self.sandbox.accounts("ing") if a["iban"] == iban)

    def walk_wizard_to_the_bank(self, journal):
        action = journal.with_user(self.user).action_bank_link_start()
        wizard = self.env["account.bank.link.wizard"].with_user(self.user).browse(action["res_id"])
        # Started from a journal with an ING IBAN: ING is chosen already.
        self.assertEqual(wizard.provider, "ing")
        self.assertEqual(wizard.company_registry, "81234567")
        wizard.action_next()
        # The demo's draft link knows the legal representative already.
        self.assertEqual(wizard.legal_representative_name, "Anna de Graaf")
        self.assertEqual(wizard.legal_representative_email, "directie@goudenkorenaar.example")
        wizard.legal_representative_confirmed = True
        wizard.action_next()
        self.assertEqual(wizard.step, "consent")
        return wizard, wizard.action_go_to_bank()

    def consent_at_the_bank(self, start_url):
        """The browser: Odoo's start route, the bank's pages, Odoo's callback."""
        self.authenticate(self.user.login, PASSWORD)
        response = confirm(self, start_url)
        self.assertEqual(response.status_code, 303, response.text[:1000])
        bank_page = response.headers["Location"]
        self.assertTrue(bank_page.startswith(self.sandbox.ing_url + "/granting/"), bank_page)
        back = self.sandbox.approve_ing(bank_page)
        query = dict(parse_qsl(urlsplit(back).query))
        self.assertIn("code", query, back)
        self.assertEqual(urlsplit(back).path, "/bank_link/callback")
        response = self.url_open("/bank_link/callback?" + urlencode(query), allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:1000])
        return response.headers["Location"]

    def test_link_demo_journal_and_fetch_statements(self):
        journal = self.journals["ING"]
        demo_link = self.links["ing"]
        self.assertEqual(demo_link.state, "draft")
        wizard, action = self.walk_wizard_to_the_bank(journal)
        # The wizard continues with the demo's configured draft link.
        self.assertEqual(wizard.link_id, demo_link)
        self.assertIn("legal representative", wizard.consent_text)

        landing = self.consent_at_the_bank(action["url"])
        # back in the wizard's dialog (an action with target "new"), not on a bare record
        resume = self.env.ref("l10n_nl_bankkoppeling.action_bank_link_wizard_resume")
        self.assertTrue(landing.endswith(f"/odoo/action-{resume.id}/{wizard.id}"), landing)
        self.env.invalidate_all()

        # The accounts the consent covers appear on the link.
        link = wizard.link_id
        self.assertEqual(link.state, "linked")
        self.assertIn(link.consent_date, {datetime.date.today(), self.bank_today})
        eligible_ibans = {a["iban"] for a in self.sandbox.accounts("ing") if a["eligible"]}
        self.assertEqual(set(link.account_ids.mapped("iban")), eligible_ibans)
        self.assertIn(ING_IBAN, eligible_ibans)
        self.assertTrue(all(link.account_ids.mapped("eligible")))
        self.assertIn("G-rekening", link.account_ids.mapped("product"))

        # The wizard offers the journal's own account, preselected.
        self.assertEqual(wizard.step, "accounts")
        line = wizard.line_ids.filtered(lambda ln: ln.iban == ING_IBAN)
        self.assertTrue(line.selected)
        self.assertEqual(line.journal_id, journal)
        others = wizard.line_ids - line
        self.assertFalse(any(others.mapped("selected")))
        start = self.bank_today - datetime.timedelta(days=90)
        line.start_date = start
        wizard.action_next()
        self.assertEqual(wizard.step, "done")
        self.assertIn("20:00", wizard.first_fetch_text)

        journal = journal.with_user(self.user)
        journal.invalidate_recordset()
        self.assertEqual(journal.bank_link_state, "linked")
        account = journal.bank_link_account_id
        self.assertEqual(account.iban, ING_IBAN)

        # Linking queued the first import; the journal shows it waiting.
        self.assertEqual(journal.bank_link_job_state, "queued")
        self.assertIn("queued", journal.bank_link_job_text)
        params = run_fetch(self.env, journal)
        self.assertEqual(params["type"], "success", params["message"])
        journal.invalidate_recordset()
        self.assertEqual(journal.bank_link_job_state, "done")
        # The first import opened the journal with the bank's own balance:
        # nothing to fix, no opening balance to type in by hand.
        self.assertEqual(journal.bank_link_next_action, "fetch")
        self.assertEqual(journal.bank_link_next_action_label, "Fetch now")

        expected = self.sandbox_account(ING_IBAN)
        lines = self.env["account.bank.statement.line"].search(
            [("nl_bank_link_account_id", "=", account.id), ("nl_is_balance_correction", "=", False)]
        )
        self.assertEqual(len(lines), expected["booked"])
        self.assertEqual(set(lines.journal_id.ids), {journal.id})
        total = sum(Decimal(str(amount)) for amount in lines.mapped("amount"))
        # The sandbox's balance is the scenario's opening balance plus every booking.
        self.assertEqual(total, Decimal(str(expected["balance"])) - Decimal("15250.00"))
        # ING's closingBooked balance is the end of yesterday: today's bookings
        # are not in it.
        today_total = sum(
            Decimal(str(amount))
            for amount in lines.filtered(lambda ln: ln.date == self.bank_today).mapped("amount")
        )
        self.assertEqual(
            Decimal(str(account.bank_balance)), Decimal(str(expected["balance"])) - today_total
        )
        # One statement per booking date.
        statements = lines.statement_id
        self.assertEqual(len(statements), len(set(lines.mapped("date"))))
        # The first opens with the scenario's opening balance, as the bank has it.
        first = statements.sorted("first_line_index")[0]
        self.assertEqual(Decimal(str(first.balance_start)), Decimal("15250.00"))
        self.assertTrue(all(statements.mapped("is_complete")))
        self.assertEqual(account.balance_difference, 0)

        invoice_payment = lines.filtered(lambda ln: ln.unique_import_id and "DEMO-ING-000000000000001" in ln.unique_import_id)
        self.assertEqual(len(invoice_payment), 1)
        self.assertEqual(invoice_payment.amount, 1512.50)
        self.assertEqual(invoice_payment.partner_name, "Hotel De Zwaan B.V.")
        self.assertEqual(invoice_payment.account_number, "NL82INGB0007356188")
        self.assertIn("Factuur 2026-017", invoice_payment.payment_ref)
        self.assertEqual(invoice_payment.nl_structured_reference, "5000056789012345")
        self.assertEqual(invoice_payment.date, self.bank_today - datetime.timedelta(days=3))

        # Fetching again adds nothing: the bank's ids keep lines unique.
        run_fetch(self.env, journal)
        again = self.env["account.bank.statement.line"].search_count(
            [("nl_bank_link_account_id", "=", account.id), ("nl_is_balance_correction", "=", False)]
        )
        self.assertEqual(again, expected["booked"])

        # The sandbox really saw mutual TLS and signed calls for this link.
        log = self.sandbox.log(bank="ing")
        paths = [entry["path"] for entry in log]
        self.assertIn("/oauth2/token", paths)
        self.assertTrue(any(p.endswith("/transactions") for p in paths))
        self.assertTrue(all(entry["client_cert"] for entry in log if entry["path"].startswith("/v3/")))
