# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The Rabobank registration (account.bank.registration) refuses what
would only fail later at the bank, or send tokens elsewhere; the link
builds its provider from it and names what is missing."""

import base64

from psycopg2 import IntegrityError

from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.l10n_nl_bankkoppeling.tests import pem_factory
from odoo.addons.l10n_nl_bankkoppeling.tools import provider

from ..tools import endpoints, rabobank_mapping

SANDBOX_URL_PARAMETER = "account_bank_link_rabobank.sandbox_url"


def b64(data):
    return base64.b64encode(data)


@tagged("post_install", "-at_install")
class TestRabobankRegistration(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param(SANDBOX_URL_PARAMETER, "")
        tls_key, signing_key = pem_factory.make_key(), pem_factory.make_key()
        cls.tls_key = pem_factory.key_pem(tls_key)
        cls.signing_key = pem_factory.key_pem(signing_key)
        cls.tls_cert, _cert = pem_factory.certificate_pem(tls_key, "TLS TPP")
        cls.signing_cert, _cert = pem_factory.certificate_pem(signing_key, "Seal TPP")
        cls.registration = cls.env["account.bank.registration"].create({
            "provider": "rabobank",
            "environment": "production",
            "client_id": "app-id",
            "client_secret": "app-secret",
            "tls_certificate": b64(cls.tls_cert),
            "tls_key": b64(cls.tls_key),
            "signing_certificate": b64(cls.signing_cert),
            "signing_key": b64(cls.signing_key),
        })
        cls.link = cls.env["account.bank.link"].create({"provider": "rabobank"})

    def test_production_endpoints_are_rabobanks_own(self):
        self.assertEqual(self.registration.api_base_url, endpoints.PRODUCTION_API_URL)
        self.assertEqual(self.registration.auth_base_url, endpoints.PRODUCTION_AUTH_URL)
        config = self.link._rabobank_config()
        self.assertEqual(config.api_base_url, "https://api.rabobank.nl/openapi")
        self.assertEqual(config.auth_base_url, "https://oauth.rabobank.nl/openapi/oauth2")
        self.assertEqual((config.client_id, config.client_secret), ("app-id", "app-secret"))
        self.assertIs(config.verify, True)

    def test_sandbox_endpoints_follow_the_local_sandbox_parameter(self):
        self.registration.environment = "sandbox"
        self.assertEqual(self.registration.api_base_url, endpoints.SANDBOX_API_URL)
        self.env["ir.config_parameter"].sudo().set_param(SANDBOX_URL_PARAMETER, "https://127.0.0.1:8445")
        self.registration.environment = "production"
        self.registration.environment = "sandbox"
        self.assertEqual(self.registration.api_base_url, "https://127.0.0.1:8445/openapi")
        self.assertEqual(self.registration.auth_base_url, "https://127.0.0.1:8445/openapi/oauth2")

    def test_an_http_endpoint_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "https://"):
            self.registration.write({"environment": "sandbox", "api_base_url": "http://127.0.0.1:8445/openapi"})

    def test_a_foreign_host_is_refused_in_production(self):
        for field in ("api_base_url", "auth_base_url"):
            with self.assertRaisesRegex(ValidationError, "api.rabobank.nl, oauth.rabobank.nl"):
                self.registration.write({field: "https://rabobank.attacker.example/openapi"})
        # The sandbox may be anywhere (https), production never.
        self.registration.write({"environment": "sandbox", "api_base_url": "https://sandbox.example/openapi"})

    def test_a_key_of_another_certificate_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "does not belong to Signing certificate"):
            self.registration.signing_key = b64(self.tls_key)
        with self.assertRaisesRegex(ValidationError, "not a private key"):
            self.registration.tls_key = b64(self.tls_cert)

    def test_certificate_facts_are_shown(self):
        self.assertTrue(self.registration.tls_certificate_expiry)
        self.assertIn("TLS TPP", self.registration.tls_certificate_subject)
        self.assertIn("Seal TPP", self.registration.signing_certificate_subject)

    def test_missing_settings_are_named(self):
        self.registration.write({"client_secret": False, "signing_key": False})
        with self.assertRaises(UserError) as caught:
            self.link._bank_link_get_provider()
        message = caught.exception.args[0]
        self.assertIn("Client secret", message)
        self.assertIn("Signing private key", message)
        self.assertNotIn("Client id", message)

    def test_without_registration_the_error_names_the_bank(self):
        self.registration.unlink()
        with self.assertRaisesRegex(UserError, "Rabobank is not configured"):
            self.link._bank_link_get_provider()

    def test_one_registration_per_company_and_bank(self):
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            self.env["account.bank.registration"].create({"provider": "rabobank"})

    def test_the_wizard_knows_rabobank_from_the_iban(self):
        journal = self.env["account.journal"].create({
            "name": "Rabobank Zakelijk", "code": "RBTST", "type": "bank",
            "bank_acc_number": "NL65RABO3982597919",
        })
        wizard = self.env["account.bank.link.wizard"].create({"journal_id": journal.id})
        self.assertEqual(wizard.provider, "rabobank")
        self.assertIn("90 days", wizard.first_fetch_text)

    def test_ineligible_accounts_are_explained_in_the_users_words(self):
        account = provider.BankAccount(
            resource_id="r1", iban="NL65RABO3982597919", currency="USD", eligible=False,
            ineligible_reason=rabobank_mapping.REASON_FOREIGN_CURRENCY,
        )
        eligible, reason = self.link._bank_link_account_eligibility(account)
        self.assertFalse(eligible)
        self.assertIn("(USD)", reason)
        eligible, _reason = self.link._bank_link_account_eligibility(
            provider.BankAccount(resource_id="r2", iban="NL65RABO3982597919"))
        self.assertTrue(eligible)

    def test_the_sandbox_ca_is_never_trusted_in_production(self):
        ca_cert, _cert = pem_factory.certificate_pem(pem_factory.make_key(), "Sandbox CA")
        self.registration.ca_certificate = b64(ca_cert)
        self.assertIs(self.link._rabobank_config().verify, True)
        self.registration.environment = "sandbox"
        verify = self.link._rabobank_config().verify
        self.assertTrue(verify.endswith("-ca.pem"), verify)
        with open(verify, "rb") as handle:
            self.assertEqual(handle.read(), ca_cert)
