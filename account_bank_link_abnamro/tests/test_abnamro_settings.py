# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.l10n_nl_bankkoppeling.tests import pem_factory
from odoo.addons.l10n_nl_bankkoppeling.tools import provider as bank_provider

from ..models.account_bank_link import SANDBOX_URL_PARAMETER
from ..tools import abnamro_provider


def b64(data):
    return base64.b64encode(data)


@tagged("post_install", "-at_install")
class TestAbnAmroSettings(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key = pem_factory.make_key()
        cls.other_key = pem_factory.make_key()
        cls.cert_pem, cls.cert = pem_factory.certificate_pem(cls.key, "ABN TPP")
        cls.link = cls.env["account.bank.link"].create({"provider": "abnamro"})

    def configure(self, link=None):
        link = link or self.link
        link.write(
            {
                "abnamro_client_id": "my-abn-app",
                "abnamro_api_key": "secret-api-key",
                "abnamro_tls_certificate": b64(self.cert_pem),
                "abnamro_tls_key": b64(pem_factory.key_pem(self.key)),
            }
        )
        return link

    def test_abnamro_is_a_bank_to_choose(self):
        labels = dict(
            self.env["account.bank.link"]._fields["provider"]._description_selection(self.env)
        )
        self.assertEqual(labels.get("abnamro"), "ABN AMRO")
        self.assertEqual(self.link.name, "ABN AMRO - %s" % self.env.company.name)

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
            self.assertEqual(file.read(), pem_factory.key_pem(self.key))
        self.assertTrue(provider.one_account_per_consent)

    def test_environments(self):
        self.link.abnamro_environment = "production"
        self.assertEqual(self.link.abnamro_api_url, "https://api.abnamro.com")
        self.assertTrue(self.link.abnamro_auth_url.startswith("https://auth.connect.abnamro.com"))
        self.link.abnamro_environment = "sandbox"
        self.assertEqual(self.link.abnamro_api_url, abnamro_provider.SANDBOX_API_URL)

    def test_incomplete_settings_name_what_is_missing(self):
        with self.assertRaises(UserError) as caught:
            self.link._bank_link_get_provider()
        self.assertIn("ABN AMRO API key", str(caught.exception))

    def test_certificate_and_key_are_checked_on_upload(self):
        self.configure()
        self.assertEqual(self.link.abnamro_tls_certificate_expiry, self.cert.not_valid_after.date())
        with self.assertRaises(ValidationError) as caught:
            self.link.abnamro_tls_key = b64(pem_factory.key_pem(self.other_key))
        self.assertIn("does not belong to ABN AMRO TLS certificate (QWAC)", str(caught.exception))
        expired_pem, _expired = pem_factory.certificate_pem(self.key, days_valid=-1, days_ago_start=10)
        with self.assertRaises(ValidationError) as caught:
            self.link.abnamro_tls_certificate = b64(expired_pem)
        self.assertIn("expired on", str(caught.exception))

    def test_api_key_and_private_key_are_for_administrators_only(self):
        self.configure()
        accountant = new_test_user(
            self.env,
            login="abn_boekhouder",
            groups="account.group_account_user,l10n_nl_bankkoppeling.group_bank_link_user",
        )
        link = self.link.with_user(accountant)
        self.assertTrue(link.abnamro_tls_certificate_expiry)
        for name in ("abnamro_api_key", "abnamro_tls_key", "abnamro_client_id"):
            with self.assertRaises(AccessError):
                link.read([name])

    def test_wizard_shows_abnamro_texts(self):
        wizard = self.env["account.bank.link.wizard"].create({"provider": "abnamro"})
        self.assertIn("per account", wizard.consent_text)
        self.assertIn("starts at ABN AMRO", wizard.consent_text)
        self.assertIn("can take a few days", wizard.first_fetch_text)

    def test_default_schedule_is_once_a_day(self):
        self.configure()
        account = self.env["account.bank.link.account"].create(
            {"link_id": self.link.id, "iban": "NL91ABNA0417164300"}
        )
        self.assertEqual(account._bank_link_max_unattended(), 1)

    def test_foreign_currency_account_is_refused(self):
        account = bank_provider.BankAccount(
            resource_id="NL91ABNA0417164300", iban="NL91ABNA0417164300", currency="USD"
        )
        eligible, reason = self.link._bank_link_account_eligibility(account)
        self.assertFalse(eligible)
        self.assertIn("USD", reason)

    def test_new_link_takes_the_settings_of_the_configured_one(self):
        self.configure()
        renewed = self.env["account.bank.link"].create({"provider": "abnamro"})
        self.assertEqual(renewed.abnamro_tls_certificate_expiry, self.cert.not_valid_after.date())
        self.assertEqual(renewed.sudo().abnamro_api_key, "secret-api-key")
