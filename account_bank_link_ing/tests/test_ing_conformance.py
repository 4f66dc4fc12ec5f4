# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ING passes the framework's conformance suite against the local bank
sandbox (consent, refresh, paging, the fault matrix, the OAuth state), plus
what only ING does: the wizard's ING path end to end, and the client id
ING assigns when none is configured."""

import datetime
from decimal import Decimal

from odoo.tests import tagged

from odoo.addons.l10n_nl_bankkoppeling.tests import conformance
from odoo.addons.l10n_nl_bankkoppeling.tests.common import run_fetch

from .common import ING_IBAN, IngSandboxCase


@tagged("post_install", "-at_install")
class TestIngConformance(conformance.SandboxConformance, IngSandboxCase):
    def test_link_demo_journal_and_fetch_statements(self):
        """An Odoo user links the demo ING journal through the wizard and
        fetches statements. Nothing is mocked."""
        journal = self.journals["ING"]
        wizard, action = self.walk_wizard_to_the_bank(journal)
        self.assertIn("legal representative", wizard.consent_text)
        self.consent_at_the_bank(action["url"])

        # The accounts the consent covers appear on the link.
        link = wizard.link_id
        self.assertEqual(link.state, "linked")
        eligible_ibans = {a["iban"] for a in self.sandbox.accounts("ing") if a["eligible"]}
        self.assertEqual(set(link.account_ids.mapped("iban")), eligible_ibans)
        self.assertIn(ING_IBAN, eligible_ibans)
        self.assertIn("G-rekening", link.account_ids.mapped("product"))

        # The wizard offers the journal's own account, preselected.
        self.assertEqual(wizard.step, "accounts")
        line = wizard.line_ids.filtered(lambda ln: ln.iban == ING_IBAN)
        self.assertTrue(line.selected)
        self.assertEqual(line.journal_id, journal)
        others = wizard.line_ids - line
        self.assertFalse(any(others.mapped("selected")))
        line.start_date = self.bank_today - datetime.timedelta(days=90)
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

        # Every booking once, ING's closingBooked balance (end of yesterday).
        lines = self.assert_complete(account)
        self.assertEqual(set(lines.journal_id.ids), {journal.id})
        # One statement per booking date.
        statements = lines.statement_id
        self.assertEqual(len(statements), len(set(lines.mapped("date"))))
        # The first opens with the scenario's opening balance, as the bank has it.
        first = statements.sorted("first_line_index")[0]
        self.assertEqual(Decimal(str(first.balance_start)), self.opening_balance)
        self.assertTrue(all(statements.mapped("is_complete")))
        self.assertEqual(account.balance_difference, 0)

        invoice_payment = lines.filtered(lambda ln: "DEMO-ING-000000000000001" in ln.unique_import_id)
        self.assertEqual(len(invoice_payment), 1)
        self.assertEqual(invoice_payment.amount, 1512.50)
        self.assertEqual(invoice_payment.partner_name, "Hotel De Zwaan B.V.")
        self.assertEqual(invoice_payment.account_number, "NL82INGB0007356188")
        self.assertIn("Factuur 2026-017", invoice_payment.payment_ref)
        self.assertEqual(invoice_payment.nl_structured_reference, "5000056789012345")
        self.assertEqual(invoice_payment.date, self.bank_today - datetime.timedelta(days=3))

        # Fetching again adds nothing: the bank's ids keep lines unique.
        run_fetch(self.env, journal)
        self.assertEqual(self.statement_lines(account), lines)
        # The sandbox really saw signed calls with the client certificate.
        paths = [entry["path"] for entry in self.bank_log()]
        self.assertIn("/oauth2/token", paths)
        self.assertTrue(any(p.endswith("/transactions") for p in paths))
        self.assertTrue(all(e["client_cert"] for e in self.bank_log() if e["path"].startswith("/v3/")))

    def test_fetch_without_configured_client_id_needs_no_refresh(self):
        """With no client id configured (eIDAS onboarding without ING's
        developer portal; the demo links) the client takes the one ING
        assigns with the application token before its first signed AIS
        call: no refused call, no needless refresh of the consent."""
        self.configure_client_id = False
        journal, _account = self.link_and_fetch()
        self.link._bank_link_registration().client_id = False
        since = self.log_position()
        self.assert_fetch_succeeds(journal)
        log = self.bank_log(since)
        self.assertEqual([e for e in log if e["status"] == 401], [])
        self.assertEqual(self.refreshes(since), [])
