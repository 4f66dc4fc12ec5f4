# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ABN AMRO passes the framework's conformance suite against the local bank
sandbox (consent, refresh with rotation, paging, the fault matrix with card
payments without transactionId, the OAuth state), plus what only ABN AMRO
does: two accounts, two consents through the wizard, each refreshing its
own rotating token; card rows alike in every field, once each."""

import datetime
from decimal import Decimal

from odoo.tests import tagged

from odoo.addons.l10n_nl_bankkoppeling.tests import conformance
from odoo.addons.l10n_nl_bankkoppeling.tests.common import run_fetch

from .common import CARD_ROWS, FIRST_IBAN, OPENING, SECOND_IBAN, AbnAmroSandboxCase


@tagged("post_install", "-at_install")
class TestAbnAmroConformance(conformance.SandboxConformance, AbnAmroSandboxCase):
    def test_two_accounts_two_consents_and_statements(self):
        first_journal = self.journals["ABN"].with_user(self.user)
        second_journal = self.journals["ABN2"].with_user(self.user)
        wizard, action = self.walk_wizard_to_the_bank(first_journal)
        link = wizard.link_id
        self.assertEqual(link, self.link)
        self.assertIn("2 accounts below still need one", wizard.consent_text)
        self.assertEqual(wizard.abnamro_consents_missing, 2)

        # First consent: the first account.
        self.consent_for(action["url"], FIRST_IBAN)
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
        self.consent_for(wizard.action_go_to_bank()["url"], SECOND_IBAN)
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
            lambda ln: "DEMO-ABN-0001" in ln.unique_import_id
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
        refreshes = self.refreshes()
        self.assertEqual(len(refreshes), 4)
        self.assertTrue(all(e["status"] == 200 for e in refreshes))
        self.assertFalse([e for e in self.bank_log() if e.get("note") == "refresh_token_reused"])
        for journal in (first_journal, second_journal):
            account = journal.bank_link_account_id
            self.assertEqual(len(self.statement_lines(account)), self.sandbox_account(account.iban)["booked"])
        self.assertEqual(link.state, "linked")

    def test_card_rows_once_across_three_fetches(self):
        journal, account = self.link_and_fetch()
        first = self.assert_card_rows_once(account)
        yesterday = self.bank_today - datetime.timedelta(days=1)
        self.assertEqual(len(first.filtered(lambda ln: ln.date == yesterday and ln.amount == -4.35)), 2)
        # Fetch 2 reads the last days again (overlap): nothing new.
        self.assert_fetch_succeeds(journal)
        self.assertEqual(self.card_lines(account), first)
        # A third card payment alike the two of yesterday is booked late on
        # yesterday, and one today: fetch 3 adds exactly those two.
        self.sandbox.add_transactions("abnamro", FIRST_IBAN, [dict(CARD_ROWS[0]), dict(CARD_ROWS[0], days_ago=0)])
        self.assert_fetch_succeeds(journal)
        third = self.assert_card_rows_once(account)
        self.assertEqual(len(third - first), 2)
        self.assertEqual(len(third.filtered(lambda ln: ln.date == yesterday and ln.amount == -4.35)), 3)
        self.assert_complete(account)
        self.assertLessEqual(account.last_fetched_date - datetime.timedelta(days=account.overlap_days), yesterday)
