# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ABN AMRO's settings on its bank registration pass the framework's
conformance suite (validation, eligibility, security checklist), plus what
only ABN AMRO has: an API key, the token URL derived from the
authorisation URL, the consent redirect to ABN AMRO's login host, and the
upgrade of links that kept the settings themselves."""

import base64
import importlib.util
from pathlib import Path

from odoo.tests import HttpCase, tagged

from odoo.addons.l10n_nl_bankkoppeling.tests import conformance, pem_factory
from odoo.addons.l10n_nl_bankkoppeling.tests.conformance import b64
from odoo.addons.l10n_nl_bankkoppeling.tools import provider as bank_provider

from ..tools import abnamro_provider
from .common import FIRST_IBAN

SANDBOX_URL_PARAMETER = "account_bank_link_abnamro.sandbox_url"
MIGRATION = Path(__file__).resolve().parents[1] / "migrations" / "18.0.1.2.0" / "post-migration.py"


def load_migration():
    spec = importlib.util.spec_from_file_location("abnamro_post_migration_1_2_0", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestAbnAmroSettings(conformance.SettingsConformance, HttpCase):
    bank = "abnamro"
    bank_label = "ABN AMRO"
    tls_certificate_field = "tls_certificate"
    tls_key_field = "tls_key"
    tls_certificate_label = "TLS certificate (QWAC)"
    tls_certificate_expiry_field = "tls_certificate_expiry"
    secret_fields = ("tls_certificate", "tls_key", "ca_certificate", "api_key", "client_id")
    key_fields = ("tls_key",)
    ca_certificate_field = "ca_certificate"
    environment_field = "environment"
    endpoint_fields = ("api_base_url", "auth_base_url")
    missing_setting_labels = ("API key",)
    wizard_texts = {
        "consent_text": ["per account", "starts at ABN AMRO"],
        "first_fetch_text": ["can take a few days"],
    }
    unattended_fetches_per_day = 1

    def configure_values(self):
        return {
            "client_id": "my-abn-app",
            "api_key": "secret-api-key",
            "tls_certificate": b64(self.tls_certificate_pem),
            "tls_key": b64(pem_factory.key_pem(self.tls_key)),
        }

    def eligible_account(self):
        return bank_provider.BankAccount(resource_id=FIRST_IBAN, iban=FIRST_IBAN, currency="EUR")

    def ineligible_account(self):
        account = bank_provider.BankAccount(resource_id=FIRST_IBAN, iban=FIRST_IBAN, currency="USD")
        return account, "foreign-currency account (USD)", "vreemde-valutarekening (USD)"

    def test_provider_is_built_from_the_registration(self):
        self.env["ir.config_parameter"].set_param(SANDBOX_URL_PARAMETER, "https://127.0.0.1:8444")
        self.settings._compute_endpoints()
        self.configure()
        provider = self.link._bank_link_get_provider()
        self.assertIsInstance(provider, abnamro_provider.AbnAmroProvider)
        config = provider.config
        self.assertEqual(config.api_base_url, "https://127.0.0.1:8444")
        self.assertEqual(config.auth_base_url, "https://127.0.0.1:8444")
        # The local sandbox serves the token endpoint on its own port.
        self.assertEqual(config.token_url, "https://127.0.0.1:8444/as/token.oauth2")
        self.assertEqual(config.api_key, "secret-api-key")
        self.assertNotIn("secret-api-key", repr(config))
        with open(config.tls_key_path, "rb") as file:
            self.assertEqual(file.read(), pem_factory.key_pem(self.tls_key))
        self.assertTrue(provider.one_account_per_consent)

    def test_environments_and_the_token_url(self):
        registration = self.production_settings()
        self.assertEqual(registration.api_base_url, "https://api.abnamro.com")
        self.assertEqual(registration.auth_base_url, "https://auth.connect.abnamro.com")
        # ABN AMRO's own OAuth host has its token endpoint on port 8443.
        self.assertEqual(self.link._bank_link_get_provider().config.token_url,
                         "https://auth.connect.abnamro.com:8443/as/token.oauth2")
        registration.environment = "sandbox"
        self.assertEqual(registration.api_base_url, abnamro_provider.SANDBOX_API_URL)

    def test_consent_redirect_only_to_abn_amros_login_host(self):
        # The consent redirect is built on the login URL: ABN AMRO's host only.
        self.production_settings()
        consent = self.link._bank_link_get_provider().authorization_url("https://odoo.example/cb", "s")
        self.assertTrue(consent.startswith("https://auth.connect.abnamro.com/as/authorization.oauth2?"))

    def test_every_link_of_the_company_uses_the_one_registration(self):
        self.configure()
        renewed = self.env["account.bank.link"].create({"provider": "abnamro"})
        self.assertEqual(renewed._bank_link_get_provider().config.api_key, "secret-api-key")
        self.assertNotIn("abnamro_api_key", self.env["account.bank.link"]._fields)

    def test_upgrade_makes_the_registration_from_the_last_configured_link(self):
        """Before 18.0.1.2.0 every ABN AMRO link carried the settings: the
        upgrade makes the company's registration from its last configured
        link, leaves no copy of a secret on any link, and keeps the
        consents of the accounts."""
        migration = load_migration()
        self.settings.unlink()
        Link = self.env["account.bank.link"]
        old, last, unconfigured = Link.create([{"provider": "abnamro"}] * 3)
        last._abnamro_store_consent(FIRST_IBAN, bank_provider.TokenSet(access_token="a", refresh_token="r"), None)
        cr = self.env.cr
        # The columns of the old fields, as an upgraded database has them.
        for column in (*migration.COLUMNS, *migration.DROPPED):
            kind = "bytea" if column.endswith(("_certificate", "_key")) else "varchar"
            cr.execute(f"ALTER TABLE account_bank_link ADD COLUMN {column} {kind}")  # noqa: S608
        values = {
            "abnamro_environment": "sandbox",
            "abnamro_api_url": "https://127.0.0.1:8444",
            "abnamro_auth_url": "https://127.0.0.1:8444",
            "abnamro_token_url": "https://127.0.0.1:8444/as/token.oauth2",
            "abnamro_client_id": "my-abn-app",
            "abnamro_api_key": "secret-api-key",
            "abnamro_tls_certificate": b64(self.tls_certificate_pem),
            "abnamro_tls_certificate_name": "qwac.pem",
            "abnamro_tls_key": b64(pem_factory.key_pem(self.tls_key)),
        }
        for link, client_id in ((old, "older-app"), (last, "my-abn-app")):
            cr.execute(
                "UPDATE account_bank_link SET " + ", ".join(f"{column} = %s" for column in values)  # noqa: S608
                + " WHERE id = %s",
                [*dict(values, abnamro_client_id=client_id).values(), link.id],
            )
        migration.migrate(cr, "18.0.1.1.0")
        registration = self.env["account.bank.registration"].search(
            [("provider", "=", "abnamro"), ("company_id", "=", self.env.company.id)]
        )
        self.assertEqual(registration.client_id, "my-abn-app")
        self.assertEqual(registration.api_key, "secret-api-key")
        self.assertEqual(registration.auth_base_url, "https://127.0.0.1:8444")
        self.assertEqual(registration.tls_certificate_name, "qwac.pem")
        self.assertEqual(base64.b64decode(registration.tls_key), pem_factory.key_pem(self.tls_key))
        self.assertEqual(registration.tls_certificate_expiry, self.tls_certificate.not_valid_after.date())
        cr.execute(
            "SELECT count(*) FROM account_bank_link WHERE id IN %s AND (abnamro_tls_key IS NOT NULL "
            "OR abnamro_api_key IS NOT NULL OR abnamro_client_id IS NOT NULL OR abnamro_token_url IS NOT NULL)",
            [(old.id, last.id, unconfigured.id)],
        )
        self.assertEqual(cr.fetchone()[0], 0, "a secret stayed on a link")
        # Every link of the company works with it; the account's consent stayed.
        config = old._bank_link_get_provider().config
        self.assertEqual((config.client_id, config.token_url), ("my-abn-app", "https://127.0.0.1:8444/as/token.oauth2"))
        self.assertEqual(last._abnamro_consents()[FIRST_IBAN]["refresh_token"], "r")
