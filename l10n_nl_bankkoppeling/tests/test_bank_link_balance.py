# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date
from decimal import Decimal

from freezegun import freeze_time

from odoo.tests import tagged

from ..tools import provider as bp
from .common import TEST_IBAN, BankLinkCase, tx


@tagged("post_install", "-at_install")
class TestBankLinkBalance(BankLinkCase):
    def setUp(self):
        super().setUp()
        self.link, self.account = self.make_link()
        self.bank.transactions[TEST_IBAN] = [
            tx("B1", date(2026, 3, 2), "100.00"),
            tx("B2", date(2026, 3, 3), "-30.00"),
        ]

    def set_bank_balance(self, amount, on_date=date(2026, 3, 3)):
        currency = self.company.currency_id.name
        self.bank.balances[TEST_IBAN] = bp.BankBalance(
            Decimal(amount), currency, "closingBooked", on_date
        )

    def journal_has_earlier_statement(self):
        """A statement entered before the link (opening 0, net 0): the first
        import then does not take its opening balance from the bank."""
        self.env["account.bank.statement"].create(
            {
                "name": "Before the link",
                "journal_id": self.journal.id,
                "balance_start": 0.0,
                "balance_end_real": 0.0,
                "line_ids": [
                    (0, 0, {"date": date(2026, 2, 27), "payment_ref": "in", "amount": 10.0}),
                    (0, 0, {"date": date(2026, 2, 27), "payment_ref": "out", "amount": -10.0}),
                ],
            }
        )

    @freeze_time("2026-03-04 08:00:00")
    def test_matching_balance_leaves_statements_complete(self):
        self.set_bank_balance("70.00")
        self.account._bank_link_fetch(unattended=False)
        self.assertEqual(self.account.balance_difference, 0)
        statements = self.statement_lines(self.account).statement_id
        self.assertTrue(all(statements.mapped("is_complete")))
        self.assertEqual(self.journal.bank_link_status_level, "ok")

    @freeze_time("2026-03-04 08:00:00")
    def test_mismatch_is_shown_on_journal_statement_and_chatter(self):
        self.journal_has_earlier_statement()
        self.set_bank_balance("95.00")
        self.account._bank_link_fetch(unattended=False)
        self.assertAlmostEqual(self.account.balance_difference, 25.0)
        last = self.statement_lines(self.account).statement_id.sorted(
            "first_line_index"
        )[-1]
        # Odoo's own statement check flags the statement.
        self.assertAlmostEqual(last.balance_end_real, 95.0)
        self.assertAlmostEqual(last.balance_end, 70.0)
        self.assertFalse(last.is_complete)
        self.assertIn("Balance check", self.journal.message_ids[0].body)
        self.assertEqual(self.journal.bank_link_status_level, "danger")
        self.assertIn("differs", self.journal.bank_link_status)
        # Never silently corrected when the company did not ask for it.
        self.assertFalse(
            self.statement_lines(self.account).filtered("nl_is_balance_correction")
        )

    @freeze_time("2026-03-04 08:00:00")
    def test_correction_line_when_company_enables_it(self):
        self.company.bank_link_balance_correction = True
        self.journal_has_earlier_statement()
        self.set_bank_balance("95.00")
        self.account._bank_link_fetch(unattended=False)
        correction = self.statement_lines(self.account).filtered(
            "nl_is_balance_correction"
        )
        self.assertEqual(len(correction), 1)
        self.assertAlmostEqual(correction.amount, 25.0)
        self.assertEqual(correction.date, date(2026, 3, 3))
        self.assertIn("correction", correction.payment_ref.lower())
        self.assertTrue(correction.statement_id.is_complete)
        self.assertEqual(self.account.balance_difference, 0)
        self.assertIn("correction line", self.journal.message_ids[0].body)
        # The next fetch finds no difference and books nothing more.
        self.account._bank_link_fetch(unattended=False)
        self.assertEqual(
            len(
                self.statement_lines(self.account).filtered("nl_is_balance_correction")
            ),
            1,
        )

    @freeze_time("2026-03-04 08:00:00")
    def test_balance_of_an_earlier_day_is_compared_at_that_day(self):
        # The bank's balance is of 2 March: the 3 March booking does not count.
        self.set_bank_balance("100.00", on_date=date(2026, 3, 2))
        self.account._bank_link_fetch(unattended=False)
        self.assertEqual(self.account.balance_difference, 0)
