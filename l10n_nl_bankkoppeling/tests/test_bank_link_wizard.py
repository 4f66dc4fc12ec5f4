# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import SAVINGS_IBAN, TEST_IBAN, BankLinkCase, tx


@tagged("post_install", "-at_install")
class TestBankLinkWizard(BankLinkCase):
    def open_wizard(self):
        action = self.journal.action_bank_link_start()
        return self.env[action["res_model"]].browse(action["res_id"])

    def give_consent(self, wizard):
        """What the callback does once the bank said yes."""
        link = wizard.link_id
        tokens = self.bank.exchange_code(
            "good-code", "https://odoo.example/bank_link/callback"
        )
        link._bank_link_store_consent(tokens)
        link._bank_link_sync_accounts()
        wizard._bank_link_consent_given()

    def test_steps_from_company_data_to_linked_journal(self):
        wizard = self.open_wizard()
        self.assertEqual(wizard.step, "data")
        wizard.write({"company_registry": "1234", "provider": "testbank"})
        with self.assertRaisesRegex(UserError, "8 digits"):
            wizard.action_next()
        wizard.company_registry = "10001002"
        wizard.action_next()
        self.assertEqual(wizard.step, "contact")
        self.assertEqual(self.company.company_registry, "10001002")
        wizard.write(
            {
                "legal_representative_name": "Jan de Vries",
                "legal_representative_email": "jan@example.com",
            }
        )
        with self.assertRaisesRegex(UserError, "legal representative"):
            wizard.action_next()
        wizard.legal_representative_confirmed = True
        wizard.action_next()
        self.assertEqual(wizard.step, "consent")
        self.assertTrue(wizard.link_id)
        action = wizard.action_go_to_bank()
        self.assertEqual(
            action["url"], f"/bank_link/start/{wizard.link_id.id}?wizard_id={wizard.id}"
        )
        self.assertEqual(wizard.link_id.state, "consent_pending")
        with self.assertRaisesRegex(UserError, "not given consent"):
            wizard.action_next()
        self.give_consent(wizard)
        self.assertEqual(wizard.step, "accounts")
        current = wizard.line_ids.filtered(lambda ln: ln.iban == TEST_IBAN)
        savings = wizard.line_ids.filtered(lambda ln: ln.iban == SAVINGS_IBAN)
        # The journal's own IBAN is proposed; the savings account cannot be linked.
        self.assertTrue(current.selected)
        self.assertEqual(current.journal_id, self.journal)
        self.assertFalse(savings.selected)
        self.assertEqual(
            savings.ineligible_reason, "Savings accounts cannot be linked."
        )
        current.write({"statement_grouping": "period", "start_date": date(2026, 2, 1)})
        wizard.action_next()
        self.assertEqual(wizard.step, "done")
        account = current.link_account_id
        self.assertTrue(account.active_link)
        self.assertEqual(account.statement_grouping, "period")
        self.assertEqual(account.start_date, date(2026, 2, 1))
        self.assertEqual(self.journal.bank_statements_source, "bank_link")
        self.assertEqual(self.journal.bank_link_state, "linked")

    def test_ineligible_account_is_refused(self):
        wizard = self.open_wizard()
        wizard.write(
            {
                "company_registry": "10001002",
                "provider": "testbank",
                "legal_representative_name": "Jan",
                "legal_representative_email": "jan@example.com",
                "legal_representative_confirmed": True,
            }
        )
        wizard.action_next()
        wizard.action_next()
        self.give_consent(wizard)
        savings = wizard.line_ids.filtered(lambda ln: ln.iban == SAVINGS_IBAN)
        savings.write(
            {
                "selected": True,
                "journal_id": self.journal.copy(
                    {"name": "Spaar", "code": "SPR", "bank_acc_number": False}
                ).id,
            }
        )
        with self.assertRaisesRegex(UserError, "Savings accounts cannot be linked"):
            wizard.action_next()

    def test_iban_of_another_company_is_refused_in_the_wizard(self):
        self.make_link()
        other = self.setup_other_company(name="Kantoorklant B.V.")["company"]
        journal = self.env["account.journal"].create(
            {"name": "Bank", "code": "BNKK", "type": "bank", "company_id": other.id}
        )
        wizard = (
            self.env["account.bank.link.wizard"]
            .with_company(other)
            ._bank_link_open(journal=journal)
        )
        wizard = self.env["account.bank.link.wizard"].browse(wizard["res_id"])
        wizard.write(
            {
                "company_registry": "10001003",
                "provider": "testbank",
                "legal_representative_name": "Piet",
                "legal_representative_email": "piet@example.com",
                "legal_representative_confirmed": True,
            }
        )
        wizard.action_next()
        wizard.action_next()
        self.give_consent(wizard)
        line = wizard.line_ids.filtered(lambda ln: ln.iban == TEST_IBAN)
        line.write({"selected": True, "journal_id": journal.id})
        with self.assertRaisesRegex(ValidationError, self.company.name):
            wizard.action_next()


@tagged("post_install", "-at_install")
class TestBankLinkDiagnosis(BankLinkCase):
    def diagnose(self, journal=None):
        return " | ".join((journal or self.journal)._bank_link_diagnose())

    def test_journal_without_iban(self):
        journal = self.env["account.journal"].create(
            {"name": "Leeg", "code": "LEEG", "type": "bank"}
        )
        self.assertIn("no bank account (IBAN)", self.diagnose(journal))

    def test_iban_not_in_consent(self):
        self.assertIn("not in any consent", self.diagnose())

    def test_account_not_eligible(self):
        link, account = self.make_link()
        account.journal_id = False
        self.env["account.bank.link.account"].create(
            {
                "link_id": link.id,
                "iban": SAVINGS_IBAN,
                "eligible": False,
                "ineligible_reason": "Savings",
            }
        )
        journal = self.journal.copy(
            {"name": "Spaar", "code": "SPR2", "bank_acc_number": SAVINGS_IBAN}
        )
        self.assertIn("does not allow", self.diagnose(journal))

    def test_consent_expired_and_last_error(self):
        link, _account = self.make_link()
        link.state = "expired"
        self.assertIn("expired", self.diagnose())
        link.write({"state": "error", "last_error": "Bank onbereikbaar"})
        self.assertIn("Bank onbereikbaar", self.diagnose())

    @freeze_time("2026-03-04 12:00:00")
    def test_start_date_in_future(self):
        self.make_link(start_date=date(2026, 5, 1))
        self.assertIn("in the future", self.diagnose())

    @freeze_time("2026-03-04 12:00:00")
    def test_no_transactions_yet_says_transfer_a_cent(self):
        _link, account = self.make_link()
        self.assertIn("Nothing fetched yet", self.diagnose())
        account._bank_link_fetch(unattended=False)
        self.assertIn("one cent", self.diagnose())
        self.bank.transactions[TEST_IBAN] = [tx("D1", date(2026, 3, 3), "0.01")]
        account._bank_link_fetch(unattended=False)
        self.assertEqual(self.diagnose(), "No problem found.")

    def test_diagnosis_wizard_opens(self):
        action = self.journal.action_bank_link_diagnose()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        self.assertIn("<li>", str(wizard.result))
