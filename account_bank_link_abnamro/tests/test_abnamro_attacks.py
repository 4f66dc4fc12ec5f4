# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Attacks on ABN AMRO's key, API key and endpoints as an ordinary Odoo
user tries them, over XML-RPC and HTTP (security issue, items 1 to 3)."""

import base64
import xmlrpc.client

from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.l10n_nl_bankkoppeling.tests import pem_factory

from ..models.account_bank_link import PRODUCTION_API_URL

CREDENTIAL_FIELDS = ("abnamro_tls_certificate", "abnamro_tls_key", "abnamro_ca_certificate")
ENDPOINT_FIELDS = (
    "abnamro_environment", "abnamro_api_url", "abnamro_auth_url", "abnamro_token_url",
)


@tagged("post_install", "-at_install")
class TestAbnAmroAttacks(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        key = pem_factory.make_key()
        cls.key_pem = pem_factory.key_pem(key)
        certificate, _cert = pem_factory.certificate_pem(key, "TLS TPP")
        cls.link = cls.env["account.bank.link"].create({
            "provider": "abnamro",
            "abnamro_environment": "production",
            "abnamro_client_id": "app",
            "abnamro_api_key": "api-key-secret-123",
            "abnamro_tls_certificate": base64.b64encode(certificate),
            "abnamro_tls_key": base64.b64encode(cls.key_pem),
        })
        company = cls.env.company
        cls.clerk = new_test_user(
            cls.env, login="abn_clerk", groups="account.group_account_invoice",
            company_id=company.id, company_ids=[company.id],
        )

    def rpc(self, model, method, *args, **kwargs):
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, self.clerk.id, self.clerk.login, model, method, list(args),
            kwargs,
        )

    def assert_refused(self, model, method, *args, **kwargs):
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.rpc(model, method, *args, **kwargs)
        self.assertRegex(caught.exception.faultString, "not allowed|AccessError|access|rights")

    def test_key_is_in_no_attachment_and_no_route_serves_it(self):
        rows = self.rpc("ir.attachment", "search_read",
                        [("res_model", "=", "account.bank.link"), ("res_field", "!=", False)],
                        fields=["datas"])
        self.assertEqual(rows, [])
        self.authenticate(self.clerk.login, self.clerk.login)
        response = self.url_open(
            f"/web/content/account.bank.link/{self.link.id}/abnamro_tls_key?download=true")
        self.assertNotEqual(response.status_code, 200)
        self.assertNotIn(b"PRIVATE KEY", response.content)

    def test_user_reads_no_credential_no_api_key_no_endpoint(self):
        for field in (*CREDENTIAL_FIELDS, *ENDPOINT_FIELDS, "abnamro_api_key"):
            self.assert_refused("account.bank.link", "read", [self.link.id], [field])

    def test_user_cannot_redirect_the_api_key(self):
        for field in ENDPOINT_FIELDS[1:]:
            self.assert_refused("account.bank.link", "write", [self.link.id],
                                {field: "http://127.0.0.1:9"})
        self.assert_refused("account.bank.link", "create",
                            {"provider": "abnamro", "abnamro_api_url": "https://attacker.example"})
        self.assertEqual(self.link.sudo().abnamro_api_url, PRODUCTION_API_URL)

    def test_production_endpoints_are_abn_amros_own_https_hosts(self):
        link = self.link.sudo()
        for field in ENDPOINT_FIELDS[1:]:
            for url in ("http://auth.connect.abnamro.com", "https://abnamro.attacker.example"):
                with self.assertRaisesRegex(Exception, "https|own hosts"):
                    with self.env.cr.savepoint():
                        link.write({field: url})
        # The consent redirect is built on the login URL: ABN AMRO's host only.
        consent = link._bank_link_get_provider().authorization_url("https://odoo.example/cb", "s")
        self.assertTrue(consent.startswith("https://auth.connect.abnamro.com/"))
