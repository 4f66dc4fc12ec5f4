# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ABN AMRO's settings pass the framework's conformance suite (validation,
eligibility, security checklist), plus what only ABN AMRO has: an API key,
three endpoints per environment, the consent redirect to ABN AMRO's login
host, and a renewed link that takes over the configured one's settings."""

from odoo.tests import HttpCase, tagged

from odoo.addons.l10n_nl_bankkoppeling.tests import conformance, pem_factory
from odoo.addons.l10n_nl_bankkoppeling.tests.conformance import b64
from odoo.addons.l10n_nl_bankkoppeling.tools import provider as bank_provider

from ..models.account_bank_link import SANDBOX_URL_PARAMETER
from ..tools import abnamro_provider
from .common import FIRST_IBAN


@tagged("post_install", "-at_install")
class TestAbnAmroSettings(conformance.SettingsConformance, HttpCase):
    bank = "abnamro"
    bank_label = "ABN AMRO"
    settings_model = "account.bank.link"
    tls_certificate_field = "abnamro_tls_certificate"
    tls_key_field = "abnamro_tls_key"
    tls_certificate_label = "ABN AMRO TLS certificate (QWAC)"
    tls_certificate_expiry_field = "abnamro_tls_certificate_expiry"
    secret_fields = (
        "abnamro_tls_certificate",
        "abnamro_tls_key",
        "abnamro_ca_certificate",
        "abnamro_api_key",
        "abnamro_client_id",
    )
    key_fields = ("abnamro_tls_key",)
    ca_certificate_field = "abnamro_ca_certificate"
    environment_field = "abnamro_environment"
    endpoint_fields = ("abnamro_api_url", "abnamro_auth_url", "abnamro_token_url")
    missing_setting_labels = ("ABN AMRO API key",)
    wizard_texts = {
        "consent_text": ["per account", "starts at ABN AMRO"],
        "first_fetch_text": ["can take a few days"],
    }
    unattended_fetches_per_day = 1

    def configure_values(self):
        return {
            "abnamro_client_id": "my-abn-app",
            "abnamro_api_key": "secret-api-key",
            "abnamro_tls_certificate": b64(self.tls_certificate_pem),
            "abnamro_tls_key": b64(pem_factory.key_pem(self.tls_key)),
        }

    def eligible_account(self):
        return bank_provider.BankAccount(resource_id=FIRST_IBAN, iban=FIRST_IBAN, currency="EUR")

    def ineligible_account(self):
        account = bank_provider.BankAccount(resource_id=FIRST_IBAN, iban=FIRST_IBAN, currency="USD")
        return account, "foreign-currency account (USD)", "vreemde-valutarekening (USD)"

    def test_provider_is_built_from_the_settings(self):
        self.env["ir.config_parameter"].set_param(SANDBOX_URL_PARAMETER, "https://127.0.0.1:8444")
        link = self.configure(self.env["account.bank.link"].create({"provider": "abnamro"}))
        provider = link._bank_link_get_provider()
        self.assertIsInstance(provider, abnamro_provider.AbnAmroProvider)
        config = provider.config
        self.assertEqual(config.api_base_url, "https://127.0.0.1:8444")
        self.assertEqual(config.token_url, "https://127.0.0.1:8444/as/token.oauth2")
        self.assertEqual(config.api_key, "secret-api-key")
        self.assertNotIn("secret-api-key", repr(config))
        with open(config.tls_key_path, "rb") as file:
            self.assertEqual(file.read(), pem_factory.key_pem(self.tls_key))
        self.assertTrue(provider.one_account_per_consent)

    def test_environments(self):
        self.link.abnamro_environment = "production"
        self.assertEqual(self.link.abnamro_api_url, "https://api.abnamro.com")
        self.assertTrue(self.link.abnamro_auth_url.startswith("https://auth.connect.abnamro.com"))
        self.link.abnamro_environment = "sandbox"
        self.assertEqual(self.link.abnamro_api_url, abnamro_provider.SANDBOX_API_URL)

    def test_consent_redirect_only_to_abn_amros_login_host(self):
        # The consent redirect is built on the login URL: ABN AMRO's host only.
        link = self.production_settings().sudo()
        consent = link._bank_link_get_provider().authorization_url("https://odoo.example/cb", "s")
        self.assertTrue(consent.startswith("https://auth.connect.abnamro.com/"))

    def test_new_link_takes_the_settings_of_the_configured_one(self):
        self.configure()
        renewed = self.env["account.bank.link"].create({"provider": "abnamro"})
        self.assertEqual(renewed.abnamro_tls_certificate_expiry, self.tls_certificate.not_valid_after.date())
        self.assertEqual(renewed.sudo().abnamro_api_key, "secret-api-key")
