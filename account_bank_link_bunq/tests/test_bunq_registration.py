# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The bunq registration (account.bank.registration) refuses what would
send keys and tokens elsewhere; the link builds its provider from it (the
three bunq hosts), names what is missing, knows bunq from the IBAN and
explains in the user's words why an account cannot be linked."""

from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, tagged

from odoo.addons.l10n_nl_bankkoppeling.tools import provider

from ..tools import bunq_mapping, endpoints

SANDBOX_URL_PARAMETER = "account_bank_link_bunq.sandbox_url"


@tagged("post_install", "-at_install")
class TestBunqRegistration(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param(SANDBOX_URL_PARAMETER, "")
        cls.registration = cls.env["account.bank.registration"].create({
            "provider": "bunq",
            "environment": "production",
            "client_id": "oauth-client",
            "client_secret": "oauth-secret",
            "api_key": "psd2-api-key",
        })
        cls.link = cls.env["account.bank.link"].create({"provider": "bunq"})

    def test_production_uses_bunqs_three_hosts(self):
        self.assertEqual(self.registration.api_base_url, endpoints.PRODUCTION_API_URL)
        self.assertEqual(self.registration.auth_base_url, endpoints.PRODUCTION_AUTHORIZE_URL)
        config = self.link._bunq_config()
        self.assertEqual(config.api_base_url, "https://api.bunq.com/v1")
        self.assertEqual(config.authorize_url, "https://oauth.bunq.com/auth")
        self.assertEqual(config.token_url, "https://api.oauth.bunq.com/v1/token")
        self.assertEqual((config.client_id, config.client_secret), ("oauth-client", "oauth-secret"))
        self.assertIs(config.verify, True)

    def test_sandbox_endpoints_are_bunqs_sandbox_or_the_local_one(self):
        self.registration.environment = "sandbox"
        config = self.link._bunq_config()
        self.assertEqual(config.api_base_url, endpoints.SANDBOX_API_URL)
        self.assertEqual(config.token_url, endpoints.SANDBOX_TOKEN_URL)
        self.env["ir.config_parameter"].sudo().set_param(SANDBOX_URL_PARAMETER, "https://127.0.0.1:8447")
        self.registration.environment = "production"
        self.registration.environment = "sandbox"
        config = self.link._bunq_config()
        self.assertEqual(config.api_base_url, "https://127.0.0.1:8447/v1")
        self.assertEqual(config.authorize_url, "https://127.0.0.1:8447/auth")
        self.assertEqual(config.token_url, "https://127.0.0.1:8447/v1/token")

    def test_http_and_foreign_hosts_are_refused(self):
        with self.assertRaisesRegex(ValidationError, "api.bunq.com"):
            self.registration.write({"api_base_url": "https://bunq.attacker.example/v1"})
        with self.assertRaisesRegex(ValidationError, "api.bunq.com"):
            self.registration.write({"auth_base_url": "https://bunq.attacker.example/auth"})
        with self.assertRaisesRegex(ValidationError, "https://"):
            self.registration.write({"environment": "sandbox", "api_base_url": "http://127.0.0.1:8447/v1"})

    def test_missing_settings_are_named(self):
        self.registration.write({"client_secret": False})
        with self.assertRaises(UserError) as caught:
            self.link._bank_link_get_provider()
        message = caught.exception.args[0]
        self.assertIn("Client secret", message)
        self.assertNotIn("Client id", message)

    def test_without_registration_the_error_names_the_bank(self):
        self.registration.unlink()
        with self.assertRaisesRegex(UserError, "bunq is not configured"):
            self.link._bank_link_get_provider()

    def test_the_wizard_knows_bunq_from_the_iban(self):
        journal = self.env["account.journal"].create({
            "name": "bunq Zakelijk", "code": "BQTST", "type": "bank",
            "bank_acc_number": "NL55BUNQ9137818406",
        })
        wizard = self.env["account.bank.link.wizard"].create({"journal_id": journal.id})
        self.assertEqual(wizard.provider, "bunq")
        self.assertIn("bunq app", wizard.consent_text)

    def test_ineligible_accounts_are_explained_in_dutch(self):
        account = provider.BankAccount(
            resource_id="5002", iban="NL48BUNQ2709263521", currency="EUR", eligible=False,
            ineligible_reason=bunq_mapping.REASON_SAVINGS,
        )
        self.env["res.lang"]._activate_lang("nl_NL")
        link = self.link.with_context(lang="nl_NL")
        eligible, reason = link._bank_link_account_eligibility(account)
        self.assertFalse(eligible)
        self.assertEqual(reason, "Spaarrekeningen van bunq kunnen niet worden gekoppeld.")
        eligible, reason = self.link._bank_link_account_eligibility(provider.BankAccount(
            resource_id="5003", iban="NL48BUNQ2709263521", currency="USD", eligible=False,
            ineligible_reason=bunq_mapping.REASON_FOREIGN_CURRENCY))
        self.assertIn("(USD)", reason)
        eligible, _reason = self.link._bank_link_account_eligibility(
            provider.BankAccount(resource_id="5000", iban="NL55BUNQ9137818406"))
        self.assertTrue(eligible)
