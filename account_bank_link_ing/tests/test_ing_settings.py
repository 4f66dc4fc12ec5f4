# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import os
import stat

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.l10n_nl_bankkoppeling.tests import pem_factory
from odoo.addons.l10n_nl_bankkoppeling.tools import provider as bank_provider

from ..models.account_bank_link import SANDBOX_URL_PARAMETER
from ..tools import ing_provider


def b64(data):
    return base64.b64encode(data)


@tagged("post_install", "-at_install")
class TestIngSettings(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tls_key = pem_factory.make_key()
        cls.signing_key = pem_factory.make_key()
        cls.tls_cert_pem, cls.tls_cert = pem_factory.certificate_pem(cls.tls_key, "TLS TPP")
        cls.signing_cert_pem, _cert = pem_factory.certificate_pem(cls.signing_key, "Seal TPP")
        cls.link = cls.env["account.bank.link"].create({"provider": "ing"})

    def configure(self, link=None):
        link = link or self.link
        link.write(
            {
                "ing_client_id": "my-ing-app",
                "ing_tls_certificate": b64(self.tls_cert_pem),
                "ing_tls_key": b64(pem_factory.key_pem(self.tls_key)),
                "ing_signing_certificate": b64(self.signing_cert_pem),
                "ing_signing_key": b64(pem_factory.key_pem(self.signing_key)),
            }
        )
        return link

    # -- provider registration -------------------------------------------

    def test_ing_is_a_bank_to_choose(self):
        labels = dict(
            self.env["account.bank.link"]._fields["provider"]._description_selection(self.env)
        )
        self.assertEqual(labels.get("ing"), "ING")
        wizard = self.env["account.bank.link.wizard"].create({"provider": "ing"})
        self.assertEqual(wizard.provider, "ing")
        self.assertEqual(self.link.name, "ING - %s" % self.env.company.name)

    def test_provider_is_built_from_the_settings(self):
        self.configure()
        provider = self.link._bank_link_get_provider()
        self.assertIsInstance(provider, ing_provider.IngProvider)
        config = provider.config
        self.assertEqual(config.client_id, "my-ing-app")
        self.assertEqual(config.base_url, ing_provider.SANDBOX_URL)
        with open(config.tls_cert_path, "rb") as file:
            self.assertEqual(file.read(), self.tls_cert_pem)
        with open(config.signing_key_path, "rb") as file:
            self.assertEqual(file.read(), pem_factory.key_pem(self.signing_key))
        # Keys on disk are readable by Odoo's own user only.
        mode = stat.S_IMODE(os.stat(config.tls_key_path).st_mode)
        self.assertEqual(mode, 0o600)

    def test_incomplete_settings_name_what_is_missing(self):
        with self.assertRaises(UserError) as caught:
            self.link._bank_link_get_provider()
        self.assertIn("ING TLS certificate (QWAC)", str(caught.exception))
        self.assertIn("ING signing private key", str(caught.exception))

    def test_environment_sets_the_base_url(self):
        self.link.ing_environment = "production"
        self.assertEqual(self.link.ing_base_url, "https://api.ing.com")
        self.env["ir.config_parameter"].set_param(SANDBOX_URL_PARAMETER, "https://127.0.0.1:8443/")
        self.link.ing_environment = "sandbox"
        self.assertEqual(self.link.ing_base_url, "https://127.0.0.1:8443")
        other = self.env["account.bank.link"].create({"provider": "ing"})
        self.assertEqual(other.ing_base_url, "https://127.0.0.1:8443")

    # -- PEM validation on upload ----------------------------------------

    def test_valid_pair_is_accepted_and_expiry_shown(self):
        self.configure()
        self.assertEqual(self.link.ing_tls_certificate_expiry, self.tls_cert.not_valid_after.date())
        self.assertIn("TLS TPP", self.link.ing_tls_certificate_subject)
        self.assertTrue(self.link.ing_signing_certificate_expiry)

    def test_key_of_another_certificate_is_refused(self):
        self.configure()
        with self.assertRaises(ValidationError) as caught:
            self.link.ing_tls_key = b64(pem_factory.key_pem(self.signing_key))
        self.assertIn("does not belong to ING TLS certificate (QWAC)", str(caught.exception))

    def test_expired_certificate_is_refused(self):
        expired_pem, expired = pem_factory.certificate_pem(
            self.tls_key, days_valid=-2, days_ago_start=30
        )
        with self.assertRaises(ValidationError) as caught:
            self.link.ing_tls_certificate = b64(expired_pem)
        message = str(caught.exception)
        self.assertIn("expired on", message)
        self.assertIn(self.link._bank_link_format_date(expired.not_valid_after.date()), message)

    def test_upload_is_checked_before_saving(self):
        """The form warns on upload already, before the save refuses."""
        form_record = self.env["account.bank.link"].new(
            {
                "provider": "ing",
                "ing_tls_certificate": b64(self.tls_cert_pem),
                "ing_tls_key": b64(pem_factory.key_pem(self.signing_key)),
            }
        )
        result = form_record._onchange_ing_pem_files()
        self.assertIn("does not belong to", result["warning"]["message"])
        form_record.ing_tls_key = b64(pem_factory.key_pem(self.tls_key))
        self.assertFalse(form_record._onchange_ing_pem_files())
        self.assertEqual(
            form_record.ing_tls_certificate_expiry, self.tls_cert.not_valid_after.date()
        )

    def test_other_files_are_refused(self):
        with self.assertRaises(ValidationError) as caught:
            self.link.ing_signing_certificate = b64(pem_factory.key_pem(self.signing_key))
        self.assertIn("not a certificate in PEM format", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self.link.ing_signing_key = b64(self.signing_cert_pem)
        self.assertIn("not a private key in PEM format", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self.link.ing_tls_key = b64(pem_factory.key_pem(self.tls_key, password=b"geheim"))
        self.assertIn("protected by a password", str(caught.exception))

    def test_keys_are_for_administrators_only(self):
        self.configure()
        accountant = new_test_user(
            self.env,
            login="ing_boekhouder",
            groups="account.group_account_user,l10n_nl_bankkoppeling.group_bank_link_user",
        )
        link = self.link.with_user(accountant)
        self.assertTrue(link.ing_tls_certificate_expiry)  # visible to the accountant
        with self.assertRaises(AccessError):
            link.read(["ing_tls_key"])
        with self.assertRaises(AccessError):
            link.read(["ing_signing_key"])

    def test_form_shows_keys_to_administrators_only(self):
        accountant = new_test_user(
            self.env,
            login="ing_boekhouder_form",
            groups="account.group_account_user,l10n_nl_bankkoppeling.group_bank_link_user",
        )
        Link = self.env["account.bank.link"]
        admin_form = Link.get_views([(False, "form")])["views"]["form"]["arch"]
        user_form = Link.with_user(accountant).get_views([(False, "form")])["views"]["form"]["arch"]
        for arch in (admin_form, user_form):
            self.assertIn('name="ing_tls_certificate_expiry"', arch)
        self.assertIn('name="ing_tls_key"', admin_form)
        self.assertNotIn('name="ing_tls_key"', user_form)
        self.assertNotIn('name="ing_signing_key"', user_form)

    # -- eligibility, texts, schedule -------------------------------------

    def eligibility(self, product, currency="EUR", iban="NL69INGB0123456789"):
        account = bank_provider.BankAccount(
            resource_id="r1", iban=iban, currency=currency, product=product
        )
        return self.link._bank_link_account_eligibility(account)

    def test_business_current_and_g_accounts_are_eligible(self):
        self.assertEqual(self.eligibility("Zakelijke Rekening"), (True, False))
        self.assertEqual(self.eligibility("G-rekening"), (True, False))

    def test_other_accounts_are_refused_with_a_reason(self):
        eligible, reason = self.eligibility("Zakelijke Spaarrekening")
        self.assertFalse(eligible)
        self.assertIn("savings account", reason)
        eligible, reason = self.eligibility("Zakelijke Rekening", currency="USD")
        self.assertFalse(eligible)
        self.assertIn("USD", reason)
        eligible, reason = self.eligibility("Betaalrekening")
        self.assertFalse(eligible)
        self.assertIn("private account", reason)
        eligible, reason = self.eligibility("Zakelijke Rekening", iban="")
        self.assertFalse(eligible)
        self.assertIn("no IBAN", reason)

    def test_dutch_reason_for_a_dutch_user(self):
        self.env["res.lang"]._activate_lang("nl_NL")
        link = self.link.with_context(lang="nl_NL")
        account = bank_provider.BankAccount(
            resource_id="r1", iban="NL69INGB0123456789", product="Zakelijke Spaarrekening"
        )
        _eligible, reason = link._bank_link_account_eligibility(account)
        self.assertIn("spaarrekening", reason.lower())
        self.assertIn("G-rekeningen", reason)

    def test_wizard_shows_ing_texts(self):
        wizard = self.env["account.bank.link.wizard"].create({"provider": "ing"})
        self.assertIn("legal representative", wizard.consent_text)
        self.assertIn("20:00", wizard.first_fetch_text)
        self.assertIn("G-accounts", wizard.eligibility_text)

    def test_default_schedule_is_four_fetches_a_day(self):
        self.configure()
        self.assertEqual(self.link._bank_link_get_provider().max_unattended_fetches_per_day, 4)
        account = self.env["account.bank.link.account"].create(
            {"link_id": self.link.id, "iban": "NL69INGB0123456789"}
        )
        self.assertEqual(account._bank_link_max_unattended(), 4)
