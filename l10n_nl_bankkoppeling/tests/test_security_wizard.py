# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The link wizard as a user of another company, or another user of the
same company, tries it over XML-RPC (security issue, item 5)."""

import xmlrpc.client

from odoo.tests import HttpCase, new_test_user, tagged

WIZARD = "account.bank.link.wizard"
LINE = "account.bank.link.wizard.line"


@tagged("post_install", "-at_install")
class TestWizardAcrossCompanies(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Company = cls.env["res.company"]
        cls.company_a = Company.create({"name": "Bakkerij A B.V.", "company_registry": "11111111"})
        cls.company_b = Company.create({"name": "Slagerij B B.V."})
        provider = cls.env["account.bank.link"]._fields["provider"].get_values(cls.env)[0]
        cls.link_a = cls.env["account.bank.link"].create(
            {"company_id": cls.company_a.id, "provider": provider, "state": "linked"})
        cls.account_a = cls.env["account.bank.link.account"].create({
            "link_id": cls.link_a.id, "iban": "NL91ABNA0417164300",
            "holder_name": "Bakkerij A", "resource_id": "a-1",
        })
        cls.user_b = new_test_user(
            cls.env, login="wizard_b", groups="account.group_account_manager",
            company_id=cls.company_b.id, company_ids=[cls.company_b.id],
        )
        cls.colleague_b = new_test_user(
            cls.env, login="wizard_b2", groups="account.group_account_manager",
            company_id=cls.company_b.id, company_ids=[cls.company_b.id],
        )

    def rpc(self, user, model, method, *args, **kwargs):
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, user.id, user.login, model, method, list(args), kwargs)

    def assert_refused(self, user, model, method, *args, **kwargs):
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.rpc(user, model, method, *args, **kwargs)
        return caught.exception.faultString

    def test_wizard_of_another_company_is_refused(self):
        self.assert_refused(self.user_b, WIZARD, "create", {"company_id": self.company_a.id})
        own = self.rpc(self.user_b, WIZARD, "create", {"company_id": self.company_b.id})
        self.assert_refused(self.user_b, WIZARD, "write", [own], {"company_id": self.company_a.id})
        self.assert_refused(self.user_b, WIZARD, "write", [own], {"link_id": self.link_a.id})

    def test_kvk_of_another_company_cannot_be_written(self):
        own = self.rpc(self.user_b, WIZARD, "create",
                       {"company_id": self.company_b.id, "company_registry": "99999999"})
        try:
            self.rpc(self.user_b, WIZARD, "write", [own],
                     {"company_id": self.company_a.id, "provider": "ing"})
            self.rpc(self.user_b, WIZARD, "action_next", [own])
        except xmlrpc.client.Fault as refused:
            # Refused is as good as ignored: what counts is below.
            self.assertTrue(refused.faultString)
        self.company_a.invalidate_recordset()
        self.assertEqual(self.company_a.company_registry, "11111111")

    def test_lines_never_show_another_companys_accounts(self):
        own = self.rpc(self.user_b, WIZARD, "create", {"company_id": self.company_b.id})
        self.assert_refused(self.user_b, LINE, "create",
                            {"wizard_id": own, "link_account_id": self.account_a.id})
        self.assertFalse(self.env[LINE].sudo().search([("wizard_id", "=", own)]))

    def test_a_colleagues_wizard_is_not_readable_or_writable(self):
        own = self.rpc(self.user_b, WIZARD, "create", {"company_id": self.company_b.id})
        self.assertEqual(self.rpc(self.colleague_b, WIZARD, "search", [("id", "=", own)]), [])
        self.assert_refused(self.colleague_b, WIZARD, "read", [own], ["company_registry"])
        self.assert_refused(self.colleague_b, WIZARD, "write", [own],
                            {"legal_representative_email": "attacker@example.com"})
        # The creator still works with it.
        self.assertEqual(self.rpc(self.user_b, WIZARD, "search", [("id", "=", own)]), [own])
