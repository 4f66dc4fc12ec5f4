# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Attacks on the bunq registration's secrets and endpoints, as an ordinary
Odoo user (not a link administrator) tries them over XML-RPC and HTTP
against the running test server. The link itself still works for them: it
reads the registration with sudo, in code only."""

import xmlrpc.client

from odoo.tests import HttpCase, new_test_user, tagged

SECRET_FIELDS = ("client_secret", "api_key", "api_base_url", "auth_base_url", "client_id")


@tagged("post_install", "-at_install")
class TestBunqAttacks(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registration = cls.env["account.bank.registration"].create({
            "provider": "bunq",
            "environment": "production",
            "client_id": "bunq-oauth-client",
            "client_secret": "bunq-oauth-secret",
            "api_key": "bunq-psd2-api-key",
        })
        cls.link = cls.env["account.bank.link"].create({"provider": "bunq"})
        company = cls.env.company
        cls.clerk = new_test_user(  # invoicing only: a bank-link user by implication
            cls.env, login="bunq_clerk", groups="account.group_account_invoice",
            company_id=company.id, company_ids=[company.id],
        )
        cls.accountant = new_test_user(
            cls.env, login="bunq_accountant",
            groups="account.group_account_manager,account.group_account_user",
            company_id=company.id, company_ids=[company.id],
        )

    def rpc(self, user, model, method, *args, **kwargs):
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, user.id, user.login, model, method, list(args), kwargs
        )

    def assert_refused(self, user, model, method, *args, **kwargs):
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.rpc(user, model, method, *args, **kwargs)
        self.assertRegex(caught.exception.faultString, "not allowed|AccessError|access|rights")

    def test_a_bank_link_user_cannot_read_the_registration_over_xmlrpc(self):
        for user in (self.clerk, self.accountant):
            self.assertTrue(user.has_group("l10n_nl_bankkoppeling.group_bank_link_user"))
            self.assertFalse(user.has_group("l10n_nl_bankkoppeling.group_bank_link_admin"))
            self.assert_refused(user, "account.bank.registration", "search_read", [], fields=["name"])
            self.assert_refused(user, "account.bank.registration", "read", [self.registration.id],
                                list(SECRET_FIELDS))

    def test_a_bank_link_user_cannot_plant_or_change_a_registration(self):
        self.assert_refused(self.accountant, "account.bank.registration", "write", [self.registration.id],
                            {"api_base_url": "https://api.bunq.com.attacker.example/v1"})
        self.assert_refused(self.accountant, "account.bank.registration", "create",
                            {"provider": "bunq", "environment": "sandbox"})
        self.assertEqual(self.registration.api_base_url, "https://api.bunq.com/v1")
        self.assertEqual(self.registration.auth_base_url, "https://oauth.bunq.com/auth")

    def test_the_link_secrets_are_not_served_by_web_content(self):
        self.authenticate(self.clerk.login, self.clerk.login)
        for field in ("client_secret", "api_key"):
            response = self.url_open(
                f"/web/content/account.bank.registration/{self.registration.id}/{field}?download=true"
            )
            self.assertNotIn(b"bunq-", response.content)
            self.assertNotEqual(response.status_code, 200, f"{field} was served")

    def test_no_credential_is_an_ir_attachment(self):
        rows = self.rpc(
            self.accountant, "ir.attachment", "search_read",
            [("res_model", "in", ("account.bank.registration", "account.bank.link"))], fields=["datas", "res_field"],
        )
        self.assertEqual(rows, [])

    def test_the_users_link_still_builds_its_provider_with_bunqs_token_host(self):
        # Through sudo in code: the user's link works, the secrets stay unread.
        provider = self.link.with_user(self.accountant)._bank_link_get_provider()
        self.assertEqual(provider.config.client_id, "bunq-oauth-client")
        self.assertEqual(provider.config.token_url, "https://api.oauth.bunq.com/v1/token")
        self.assertNotIn("bunq-oauth-secret", repr(provider.config))
