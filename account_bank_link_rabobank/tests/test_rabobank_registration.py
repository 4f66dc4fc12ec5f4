# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The Rabobank registration (account.bank.registration) passes the
framework's settings conformance (validation, eligibility, security
checklist), plus what only Rabobank has: its own authorisation server next
to the API, a client secret, the local sandbox's endpoints and the bank
chosen from a Rabobank IBAN."""

from psycopg2 import IntegrityError

from odoo.exceptions import UserError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.l10n_nl_bankkoppeling.tests import conformance, pem_factory
from odoo.addons.l10n_nl_bankkoppeling.tests.conformance import b64
from odoo.addons.l10n_nl_bankkoppeling.tools import provider

from ..tools import endpoints, rabobank_mapping

SANDBOX_URL_PARAMETER = "account_bank_link_rabobank.sandbox_url"
RABO_IBAN = "NL65RABO3982597919"


@tagged("post_install", "-at_install")
class TestRabobankRegistration(conformance.SettingsConformance, HttpCase):
    bank = "rabobank"
    bank_label = "Rabobank"
    tls_certificate_field = "tls_certificate"
    tls_key_field = "tls_key"
    tls_certificate_label = "TLS certificate (QWAC)"
    tls_certificate_expiry_field = "tls_certificate_expiry"
    secret_fields = ("client_secret", "tls_certificate", "tls_key", "signing_certificate", "signing_key",
                     "ca_certificate", "client_id")
    key_fields = ("tls_key", "signing_key")
    ca_certificate_field = "ca_certificate"
    environment_field = "environment"
    endpoint_fields = ("api_base_url", "auth_base_url")
    missing_setting_labels = ("Client id", "Client secret", "TLS certificate (QWAC)", "Signing private key")
    wizard_texts = {
        "consent_text": ["legal representative", "180 days"],
        "first_fetch_text": ["90 days"],
        "eligibility_text": ["euro payment accounts"],
    }
    unattended_fetches_per_day = 4

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.signing_key = pem_factory.make_key()
        cls.signing_cert_pem, _cert = pem_factory.certificate_pem(cls.signing_key, "Seal TPP")

    def configure_values(self):
        return {
            "client_id": "app-id",
            "client_secret": "app-secret",
            "tls_certificate": b64(self.tls_certificate_pem),
            "tls_key": b64(pem_factory.key_pem(self.tls_key)),
            "signing_certificate": b64(self.signing_cert_pem),
            "signing_key": b64(pem_factory.key_pem(self.signing_key)),
        }

    def eligible_account(self):
        return provider.BankAccount(resource_id="r1", iban=RABO_IBAN, currency="EUR")

    def ineligible_account(self):
        account = provider.BankAccount(
            resource_id="r1", iban=RABO_IBAN, currency="USD", eligible=False,
            ineligible_reason=rabobank_mapping.REASON_FOREIGN_CURRENCY,
        )
        return account, "foreign-currency account (USD)", "vreemde-valutarekening (USD)"

    # -- Rabobank's registration --------------------------------------------------

    def test_production_endpoints_are_rabobanks_own(self):
        registration = self.production_settings()
        self.assertEqual(registration.api_base_url, endpoints.PRODUCTION_API_URL)
        self.assertEqual(registration.auth_base_url, endpoints.PRODUCTION_AUTH_URL)
        config = self.link._bank_link_get_provider().config
        self.assertEqual(config.api_base_url, "https://api.rabobank.nl/openapi")
        self.assertEqual(config.auth_base_url, "https://oauth.rabobank.nl/openapi/oauth2")
        self.assertEqual((config.client_id, config.client_secret), ("app-id", "app-secret"))
        self.assertIs(config.verify, True)
        # The user's link has the secret, never in its representation (logs).
        config = self.link.with_user(self.accountant)._bank_link_get_provider().config
        self.assertEqual(config.client_id, "app-id")
        self.assertNotIn("app-secret", repr(config))

    def test_sandbox_endpoints_follow_the_local_sandbox_parameter(self):
        self.env["ir.config_parameter"].sudo().set_param(SANDBOX_URL_PARAMETER, "")
        registration = self.production_settings()
        registration.environment = "sandbox"
        self.assertEqual(registration.api_base_url, endpoints.SANDBOX_API_URL)
        self.env["ir.config_parameter"].sudo().set_param(SANDBOX_URL_PARAMETER, "https://127.0.0.1:8445")
        registration.environment = "production"
        registration.environment = "sandbox"
        self.assertEqual(registration.api_base_url, "https://127.0.0.1:8445/openapi")
        self.assertEqual(registration.auth_base_url, "https://127.0.0.1:8445/openapi/oauth2")

    def test_a_foreign_host_is_refused_in_production_naming_rabobanks_hosts(self):
        registration = self.production_settings()
        for field in ("api_base_url", "auth_base_url"):
            with self.assertRaisesRegex(ValidationError, "api.rabobank.nl, oauth.rabobank.nl"):
                registration.write({field: "https://rabobank.attacker.example/openapi"})

    def test_the_signing_key_must_fit_its_certificate(self):
        self.configure()
        with self.assertRaisesRegex(ValidationError, "does not belong to Signing certificate"):
            self.settings.signing_key = b64(pem_factory.key_pem(self.tls_key))
        with self.assertRaisesRegex(ValidationError, "not a private key"):
            self.settings.tls_key = b64(self.tls_certificate_pem)

    def test_certificate_subjects_are_shown(self):
        self.configure()
        self.assertIn("TLS TPP", self.settings.tls_certificate_subject)
        self.assertIn("Seal TPP", self.settings.signing_certificate_subject)
        self.assertTrue(self.settings.signing_certificate_expiry)

    def test_missing_settings_name_only_what_is_missing(self):
        self.configure()
        self.settings.write({"client_secret": False, "signing_key": False})
        with self.assertRaises(UserError) as caught:
            self.link._bank_link_get_provider()
        message = caught.exception.args[0]
        self.assertIn("Client secret", message)
        self.assertIn("Signing private key", message)
        self.assertNotIn("Client id", message)

    def test_without_registration_the_error_names_the_bank(self):
        self.settings.unlink()
        with self.assertRaisesRegex(UserError, "Rabobank is not configured"):
            self.link._bank_link_get_provider()

    def test_one_registration_per_company_and_bank(self):
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            self.env["account.bank.registration"].create({"provider": "rabobank"})

    def test_the_wizard_knows_rabobank_from_the_iban(self):
        journal = self.env["account.journal"].create({
            "name": "Rabobank Zakelijk", "code": "RBTST", "type": "bank", "bank_acc_number": RABO_IBAN,
        })
        wizard = self.env["account.bank.link.wizard"].create({"journal_id": journal.id})
        self.assertEqual(wizard.provider, "rabobank")
        self.assertIn("90 days", wizard.first_fetch_text)

    def test_the_sandbox_ca_is_never_trusted_in_production(self):
        ca_cert, _cert = pem_factory.certificate_pem(pem_factory.make_key(), "Sandbox CA")
        registration = self.production_settings()
        registration.ca_certificate = b64(ca_cert)
        self.assertIs(self.link._bank_link_get_provider().config.verify, True)
        registration.environment = "sandbox"
        verify = self.link._bank_link_get_provider().config.verify
        self.assertTrue(verify.endswith("-ca.pem"), verify)
        with open(verify, "rb") as handle:
            self.assertEqual(handle.read(), ca_cert)
