# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Attacks on ING's keys and endpoints, as an ordinary Odoo user tries them:
over XML-RPC and HTTP against the running test server (security issue,
items 1 to 3). Each was seen succeeding before the fix."""

import base64
import xmlrpc.client

from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.l10n_nl_bankkoppeling.tests import pem_factory

from ..tools import ing_provider

KEY_FIELDS = ("ing_tls_key", "ing_signing_key")
CREDENTIAL_FIELDS = (
    "ing_tls_certificate", "ing_tls_key", "ing_signing_certificate",
    "ing_signing_key", "ing_ca_certificate",
)
ENDPOINT_FIELDS = ("ing_environment", "ing_base_url")


def b64(data):
    return base64.b64encode(data)


@tagged("post_install", "-at_install")
class TestIngAttacks(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tls_key, signing_key = pem_factory.make_key(), pem_factory.make_key()
        cls.tls_key_pem = pem_factory.key_pem(tls_key)
        cls.signing_key_pem = pem_factory.key_pem(signing_key)
        tls_cert, _cert = pem_factory.certificate_pem(tls_key, "TLS TPP")
        signing_cert, _cert = pem_factory.certificate_pem(signing_key, "Seal TPP")
        ca_key = pem_factory.make_key()
        cls.sandbox_ca, _cert = pem_factory.certificate_pem(ca_key, "Sandbox CA")
        cls.link = cls.env["account.bank.link"].create({
            "provider": "ing",
            "ing_environment": "production",
            "ing_client_id": "app",
            "ing_tls_certificate": b64(tls_cert),
            "ing_tls_key": b64(cls.tls_key_pem),
            "ing_signing_certificate": b64(signing_cert),
            "ing_signing_key": b64(cls.signing_key_pem),
        })
        company = cls.env.company
        cls.clerk = new_test_user(  # invoicing only: a bank-link user by implication
            cls.env, login="ing_clerk", groups="account.group_account_invoice",
            company_id=company.id, company_ids=[company.id],
        )
        cls.accountant = new_test_user(
            cls.env, login="ing_accountant",
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

    # -- item 1: private keys through attachments --------------------------

    def test_no_key_bytes_in_any_attachment_a_user_can_read(self):
        for user in (self.clerk, self.accountant):
            rows = self.rpc(
                user, "ir.attachment", "search_read",
                [("res_model", "=", "account.bank.link"), ("res_field", "!=", False)],
                fields=["datas", "res_field"],
            )
            self.assertEqual(rows, [], "credential files are field attachments again")
        # Not even the system keeps them there: there is nothing to serve.
        self.assertFalse(self.env["ir.attachment"].sudo().search_count(
            [("res_model", "=", "account.bank.link"), ("res_field", "in", CREDENTIAL_FIELDS)]))

    def test_web_content_serves_no_key_to_a_user(self):
        self.authenticate(self.clerk.login, self.clerk.login)
        for field in KEY_FIELDS:
            response = self.url_open(
                f"/web/content/account.bank.link/{self.link.id}/{field}?download=true"
            )
            self.assertNotIn(b"PRIVATE KEY", response.content)
            self.assertNotEqual(response.status_code, 200, f"{field} was served")

    def test_user_cannot_read_key_fields_over_rpc(self):
        for field in CREDENTIAL_FIELDS:
            self.assert_refused(self.clerk, "account.bank.link", "read", [self.link.id], [field])

    # -- item 3: planted trust anchor ---------------------------------------

    def test_planted_ca_attachment_is_never_trusted(self):
        # The attack: an attachment that claims to be the CA field's value.
        planted = self.rpc(self.clerk, "ir.attachment", "create", {
            "name": "ca.pem", "res_model": "account.bank.link", "res_id": self.link.id,
            "res_field": "ing_ca_certificate", "datas": b64(self.sandbox_ca).decode(),
        })
        self.assertTrue(planted)  # an attachment on a record the user can read...
        link = self.link.sudo()
        link.invalidate_recordset()
        self.assertFalse(link.ing_ca_certificate)  # ...is not the field's value
        self.assertIs(link._ing_config().verify, True)

    def test_user_cannot_switch_to_sandbox_or_upload_a_ca(self):
        self.assert_refused(self.clerk, "account.bank.link", "write", [self.link.id],
                            {"ing_environment": "sandbox"})
        self.assert_refused(self.clerk, "account.bank.link", "write", [self.link.id],
                            {"ing_ca_certificate": b64(self.sandbox_ca).decode()})
        self.assertEqual(self.link.sudo().ing_environment, "production")

    def test_user_cannot_create_a_link_with_planted_credentials(self):
        for vals in (
            {"ing_ca_certificate": b64(self.sandbox_ca).decode()},
            {"ing_tls_key": b64(self.tls_key_pem).decode()},
            {"ing_environment": "sandbox"},
            {"ing_base_url": "https://attacker.example"},
        ):
            self.assert_refused(self.clerk, "account.bank.link", "create",
                                {"provider": "ing", **vals})

    def test_sandbox_ca_is_never_used_by_a_production_link(self):
        link = self.link.sudo()
        link.write({"ing_environment": "sandbox", "ing_ca_certificate": b64(self.sandbox_ca)})
        self.assertNotEqual(link._ing_config().verify, True)
        link.ing_environment = "production"
        self.assertIs(link._ing_config().verify, True)

    # -- item 2: endpoints chosen by non-admins ------------------------------

    def test_user_cannot_read_or_point_the_endpoint_elsewhere(self):
        for field in ENDPOINT_FIELDS:
            self.assert_refused(self.clerk, "account.bank.link", "read", [self.link.id], [field])
        self.assert_refused(self.accountant, "account.bank.link", "write", [self.link.id],
                            {"ing_base_url": "http://127.0.0.1:9"})
        self.assertEqual(self.link.sudo().ing_base_url, ing_provider.PRODUCTION_URL)

    def test_even_an_administrator_cannot_send_tokens_to_another_host(self):
        link = self.link.sudo()
        for url in ("http://api.ing.com", "https://api.ing.com.attacker.example",
                    "https://127.0.0.1:9"):
            with self.assertRaises(Exception) as caught:
                with self.env.cr.savepoint():
                    link.ing_base_url = url
                    link.flush_recordset()
            self.assertIn("ING API URL", str(caught.exception))
        link.ing_environment = "sandbox"
        link.ing_base_url = "https://127.0.0.1:8443"  # a sandbox may be local, https still
        with self.assertRaises(ValidationError):
            with self.env.cr.savepoint():
                link.ing_base_url = "http://127.0.0.1:8443"
                link.flush_recordset()

    def test_endpoint_changes_are_tracked(self):
        link = self.link.sudo()
        link.write({"ing_environment": "sandbox"})
        link.write({"ing_base_url": "https://sandbox.example.test"})
        self.env.flush_all()
        self.env.cr.precommit.run()  # tracking values are written at commit
        tracked = link.message_ids.tracking_value_ids.field_id.mapped("name")
        self.assertIn("ing_environment", tracked)
        self.assertIn("ing_base_url", tracked)

    def test_consent_redirect_only_to_ings_login_host(self):
        hosts = ing_provider.authorization_hosts(ing_provider.PRODUCTION_URL, production=True)
        self.assertEqual(hosts, ("myaccount.ing.com",))
        provider = self.link.sudo()._bank_link_get_provider()
        self.patch(type(provider.client), "authorization_server_location",
                   lambda client, *args: "https://attacker.example/granting/x/NL")
        with self.assertRaisesRegex(Exception, "outside its own hosts"):
            provider.authorization_url("https://odoo.example/cb", "state")
        self.patch(type(provider.client), "authorization_server_location",
                   lambda client, *args: "https://myaccount.ing.com/granting/x/NL")
        self.assertTrue(provider.authorization_url("https://odoo.example/cb", "state")
                        .startswith("https://myaccount.ing.com/granting/x/NL?"))

    def test_upgrade_moves_uploaded_keys_out_of_attachments_and_drops_planted_ones(self):
        """Links of an earlier version kept their keys as field attachments:
        the upgrade moves an administrator's upload into the admin-only
        column and deletes every such attachment, a planted one unused."""
        Attachment = self.env["ir.attachment"].sudo()
        link = self.env["account.bank.link"].create({"provider": "ing"})
        self.env.cr.execute("UPDATE account_bank_link SET ing_tls_key = NULL WHERE id = %s",
                            [link.id])
        link.invalidate_recordset()
        Attachment.create({  # what the old version stored for the administrator
            "name": "ing_tls_key", "res_model": "account.bank.link", "res_id": link.id,
            "res_field": "ing_tls_key", "datas": b64(self.tls_key_pem),
        })
        self.rpc(self.clerk, "ir.attachment", "create", {  # and what a clerk planted
            "name": "ca.pem", "res_model": "account.bank.link", "res_id": link.id,
            "res_field": "ing_ca_certificate", "datas": b64(self.sandbox_ca).decode(),
        })
        self.env["account.bank.link"]._bank_link_move_credentials_from_attachments(
            CREDENTIAL_FIELDS)
        link.invalidate_recordset()
        self.assertEqual(base64.b64decode(link.sudo().ing_tls_key), self.tls_key_pem)
        self.assertFalse(link.sudo().ing_ca_certificate)
        self.assertFalse(Attachment.search_count(
            [("res_model", "=", "account.bank.link"), ("res_field", "in", CREDENTIAL_FIELDS)]))
