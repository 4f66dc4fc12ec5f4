# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import TEST_IBAN, BankLinkCase, tx


@tagged("post_install", "-at_install")
class TestBankLinkSecurity(BankLinkCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(
            cls.env,
            login="boekhouder",
            groups="account.group_account_manager,account.group_account_user",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def setUp(self):
        super().setUp()
        self.link, self.account = self.make_link()

    def test_accountant_sees_state_not_tokens(self):
        link = self.link.with_user(self.accountant)
        self.assertEqual(link.state, "linked")
        self.assertEqual(link.account_ids.iban, TEST_IBAN)
        Secret = self.env["account.bank.link.secret"].with_user(self.accountant)
        with self.assertRaises(AccessError):
            Secret.search([])
        with self.assertRaises(AccessError):
            Secret.browse(self.link._bank_link_secret().id).read(["access_token"])

    def test_administrator_reads_tokens(self):
        admin = self.env.ref("base.user_admin")
        admin.company_ids |= self.company
        secret = (
            self.link._bank_link_secret().with_user(admin).with_company(self.company)
        )
        self.assertEqual(secret.access_token, "access-0")

    def test_tokens_never_in_chatter_or_repr(self):
        # Before the revoke the secret still holds the tokens, so the reprs
        # have something to hide.
        secret = self.link._bank_link_secret()
        self.assertEqual(secret.access_token, "access-0")
        self.assertNotIn("access-0", repr(secret))
        self.assertNotIn("access-0", repr(secret._get_token_set()))
        self.assertNotIn("refresh-0", repr(secret._get_token_set()))
        self.link.action_revoke()
        bodies = " ".join(
            self.link.message_ids.mapped("body")
            + self.journal.message_ids.mapped("body")
        )
        self.assertNotIn("access-0", bodies)
        self.assertNotIn("refresh-0", bodies)
        self.assertFalse(self.link._bank_link_secret().access_token)

    @freeze_time("2026-03-04 12:00:00")
    def test_billing_user_can_fetch_without_reading_tokens(self):
        billing = new_test_user(
            self.env,
            login="facturist",
            groups="account.group_account_invoice",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        self.bank.transactions[TEST_IBAN] = [tx("S1", date(2026, 3, 3), "12.50")]
        journal = self.journal.with_user(billing)
        action = journal.action_bank_link_fetch()
        self.assertEqual(action["params"]["type"], "info")
        # The background worker runs as the cron's user, for the billing user.
        self.env["account.bank.link.fetch"]._cron_bank_link_run_queued()
        self.assertEqual(self.statement_lines(self.account).mapped("amount"), [12.5])
        with self.assertRaises(AccessError):
            self.env["account.bank.link.secret"].with_user(billing).search([])

    def test_iban_linked_by_other_company_is_refused_with_its_name(self):
        other = self.setup_other_company(name="Andere B.V.")["company"]
        other_journal = self.env["account.journal"].create(
            {"name": "Bank", "code": "BNKX", "type": "bank", "company_id": other.id}
        )
        with self.assertRaisesRegex(
            ValidationError, f"Andere B.V.|{self.company.name}"
        ) as caught:
            self.make_link(company=other, journal=other_journal)
        self.assertIn(self.company.name, str(caught.exception))

    def test_multi_company_rule_hides_other_companies_links(self):
        other = self.setup_other_company(name="Derde B.V.")["company"]
        outsider = new_test_user(
            self.env,
            login="buitenstaander",
            groups="account.group_account_manager",
            company_id=other.id,
            company_ids=[other.id],
        )
        self.assertFalse(self.env["account.bank.link"].with_user(outsider).search([]))
        with self.assertRaises(AccessError):
            self.link.with_user(outsider).read(["state"])
