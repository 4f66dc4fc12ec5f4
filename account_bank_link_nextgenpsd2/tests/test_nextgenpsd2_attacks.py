# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Attacks on a NextGenPSD2 bank's registration (Knab; the others share the model)'s secrets and endpoints, as an
ordinary Odoo user (not a link administrator) tries them over XML-RPC and
HTTP against the running test server. The link itself still works for
them: it reads the registration with sudo, in code only."""

import base64
import xmlrpc.client

from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.l10n_nl_bankkoppeling.tests import pem_factory

SECRET_FIELDS = ("client_secret", "tls_key", "signing_key", "tls_certificate", "api_base_url", "client_id")


def b64(data):
    return base64.b64encode(data)


@tagged("post_install", "-at_install")
class TestNextGenPsd2Attacks(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tls_key, signing_key = pem_factory.make_key(), pem_factory.make_key()
        tls_cert, _cert = pem_factory.certificate_pem(tls_key, "TLS TPP")
        signing_cert, _cert = pem_factory.certificate_pem(signing_key, "Seal TPP")
        cls.registration = cls.env["account.bank.registration"].create({
            "provider": "knab",
            "environment": "production",
            "client_id": "app-id",
            "client_secret": "app-secret",
            "tls_certificate": b64(tls_cert),
            "tls_key": b64(pem_factory.key_pem(tls_key)),
            "signing_certificate": b64(signing_cert),
            "signing_key": b64(pem_factory.key_pem(signing_key)),
        })
        cls.link = cls.env["account.bank.link"].create({"provider": "knab"})
        company = cls.env.company
        cls.clerk = new_test_user(  # invoicing only: a bank-link user by implication
            cls.env, login="knab_clerk", groups="account.group_account_invoice",
            company_id=company.id, company_ids=[company.id],
        )
        cls.accountant = new_test_user(
            cls.env, login="knab_accountant",
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
        original = self.registration.api_base_url
        self.assertTrue(original)
        self.assert_refused(self.accountant, "account.bank.registration", "write", [self.registration.id],
                            {"api_base_url": "https://tpp-loket.knab.nl.attacker.example"})
        self.assert_refused(self.accountant, "account.bank.registration", "create",
                            {"provider": "knab", "environment": "sandbox"})
        self.assertEqual(self.registration.api_base_url, original)

    def test_a_bank_link_user_cannot_trigger_triodos_registration_over_xmlrpc(self):
        # Registering again would replace the client id and secret every Triodos link uses.
        triodos = self.env["account.bank.registration"].create({
            "provider": "triodos", "environment": "sandbox",
            "client_id": "registered-client", "client_secret": "registered-secret",
        })
        for user in (self.clerk, self.accountant):
            with self.assertRaises(xmlrpc.client.Fault) as caught:
                self.rpc(user, "account.bank.registration", "action_nextgenpsd2_register_client", [triodos.id])
            # Refused for the user's rights (4: AccessError), not for a missing certificate.
            self.assertEqual(caught.exception.faultCode, 4, caught.exception.faultString)
        self.assertEqual((triodos.client_id, triodos.client_secret), ("registered-client", "registered-secret"))
        self.assertFalse(triodos.message_ids.filtered(lambda message: "Registered at" in (message.body or "")))

    def test_web_content_serves_no_key_to_a_user(self):
        self.authenticate(self.clerk.login, self.clerk.login)
        for field in ("tls_key", "signing_key"):
            response = self.url_open(
                f"/web/content/account.bank.registration/{self.registration.id}/{field}?download=true"
            )
            self.assertNotIn(b"PRIVATE KEY", response.content)
            self.assertNotEqual(response.status_code, 200, f"{field} was served")

    def test_no_credential_is_an_ir_attachment(self):
        rows = self.rpc(
            self.accountant, "ir.attachment", "search_read",
            [("res_model", "=", "account.bank.registration")], fields=["datas", "res_field"],
        )
        self.assertEqual(rows, [])
        self.assertFalse(self.env["ir.attachment"].sudo().search_count(
            [("res_model", "=", "account.bank.registration")]))

    def test_the_users_link_still_builds_its_provider(self):
        # Through sudo in code: the user's link works, the secrets stay unread.
        provider = self.link.with_user(self.accountant)._bank_link_get_provider()
        self.assertEqual(provider.config.client_id, "app-id")
        self.assertNotIn("app-secret", repr(provider.config))
