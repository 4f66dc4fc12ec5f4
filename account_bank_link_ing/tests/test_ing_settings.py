# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ING's settings pass the framework's conformance suite (validation,
eligibility, security checklist), plus what only ING has: a signing
certificate next to the TLS one, a trust anchor for the sandbox, the
consent redirect to ING's login host and the upgrade of older links."""

import base64
import os
import stat

from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, tagged

from odoo.addons.l10n_nl_bankkoppeling.tests import conformance, pem_factory
from odoo.addons.l10n_nl_bankkoppeling.tests.conformance import b64
from odoo.addons.l10n_nl_bankkoppeling.tools import provider as bank_provider

from ..models.account_bank_link import SANDBOX_URL_PARAMETER
from ..tools import ing_provider

CREDENTIAL_FIELDS = (
    "ing_tls_certificate",
    "ing_tls_key",
    "ing_signing_certificate",
    "ing_signing_key",
    "ing_ca_certificate",
)


@tagged("post_install", "-at_install")
class TestIngSettings(conformance.SettingsConformance, HttpCase):
    bank = "ing"
    bank_label = "ING"
    settings_model = "account.bank.link"
    tls_certificate_field = "ing_tls_certificate"
    tls_key_field = "ing_tls_key"
    tls_certificate_label = "ING TLS certificate (QWAC)"
    tls_certificate_expiry_field = "ing_tls_certificate_expiry"
    secret_fields = CREDENTIAL_FIELDS
    key_fields = ("ing_tls_key", "ing_signing_key")
    ca_certificate_field = "ing_ca_certificate"
    environment_field = "ing_environment"
    endpoint_fields = ("ing_base_url",)
    missing_setting_labels = ("ING TLS certificate (QWAC)", "ING signing private key")
    wizard_texts = {
        "consent_text": ["legal representative"],
        "first_fetch_text": ["20:00"],
        "eligibility_text": ["G-accounts"],
    }
    unattended_fetches_per_day = 4

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.signing_key = pem_factory.make_key()
        cls.signing_cert_pem, _cert = pem_factory.certificate_pem(cls.signing_key, "Seal TPP")
        cls.sandbox_ca, _cert = pem_factory.certificate_pem(pem_factory.make_key(), "Sandbox CA")

    def configure_values(self):
        return {
            "ing_client_id": "my-ing-app",
            "ing_tls_certificate": b64(self.tls_certificate_pem),
            "ing_tls_key": b64(pem_factory.key_pem(self.tls_key)),
            "ing_signing_certificate": b64(self.signing_cert_pem),
            "ing_signing_key": b64(pem_factory.key_pem(self.signing_key)),
        }

    def eligibility(self, product, currency="EUR", iban="NL69INGB0123456789"):
        return bank_provider.BankAccount(resource_id="r1", iban=iban, currency=currency, product=product)

    def eligible_account(self):
        return self.eligibility("Zakelijke Rekening")

    def ineligible_account(self):
        return self.eligibility("Zakelijke Spaarrekening"), "This is a savings account", "Dit is een spaarrekening"

    # -- ING's settings ---------------------------------------------------------

    def test_provider_is_built_from_the_settings(self):
        self.configure()
        self.assertEqual(self.link._bank_link_get_provider().max_unattended_fetches_per_day, 4)
        provider = self.link._bank_link_get_provider()
        self.assertIsInstance(provider, ing_provider.IngProvider)
        config = provider.config
        self.assertEqual(config.client_id, "my-ing-app")
        self.assertEqual(config.base_url, ing_provider.SANDBOX_URL)
        with open(config.tls_cert_path, "rb") as file:
            self.assertEqual(file.read(), self.tls_certificate_pem)
        with open(config.signing_key_path, "rb") as file:
            self.assertEqual(file.read(), pem_factory.key_pem(self.signing_key))
        # Keys on disk are readable by Odoo's own user only.
        mode = stat.S_IMODE(os.stat(config.tls_key_path).st_mode)
        self.assertEqual(mode, 0o600)

    def test_environment_sets_the_base_url(self):
        self.link.ing_environment = "production"
        self.assertEqual(self.link.ing_base_url, "https://api.ing.com")
        self.env["ir.config_parameter"].set_param(SANDBOX_URL_PARAMETER, "https://127.0.0.1:8443/")
        self.link.ing_environment = "sandbox"
        self.assertEqual(self.link.ing_base_url, "https://127.0.0.1:8443")
        other = self.env["account.bank.link"].create({"provider": "ing"})
        self.assertEqual(other.ing_base_url, "https://127.0.0.1:8443")

    def test_signing_certificate_is_shown_too(self):
        self.configure()
        self.assertIn("TLS TPP", self.link.ing_tls_certificate_subject)
        self.assertIn("Seal TPP", self.link.ing_signing_certificate_subject)
        self.assertTrue(self.link.ing_signing_certificate_expiry)

    def test_upload_is_checked_before_saving(self):
        """The form warns on upload already, before the save refuses."""
        form_record = self.env["account.bank.link"].new(
            {
                "provider": "ing",
                "ing_tls_certificate": b64(self.tls_certificate_pem),
                "ing_tls_key": b64(pem_factory.key_pem(self.signing_key)),
            }
        )
        result = form_record._onchange_ing_pem_files()
        self.assertIn("does not belong to", result["warning"]["message"])
        form_record.ing_tls_key = b64(pem_factory.key_pem(self.tls_key))
        self.assertFalse(form_record._onchange_ing_pem_files())
        self.assertEqual(form_record.ing_tls_certificate_expiry, self.tls_certificate.not_valid_after.date())

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

    # -- eligibility ------------------------------------------------------------

    def test_g_accounts_are_eligible(self):
        self.assertEqual(self.link._bank_link_account_eligibility(self.eligibility("G-rekening")), (True, False))

    def test_other_accounts_are_refused_with_a_reason(self):
        for account, phrase in (
            (self.eligibility("Zakelijke Rekening", currency="USD"), "USD"),
            (self.eligibility("Betaalrekening"), "private account"),
            (self.eligibility("Zakelijke Rekening", iban=""), "no IBAN"),
        ):
            eligible, reason = self.link._bank_link_account_eligibility(account)
            self.assertFalse(eligible)
            self.assertIn(phrase, reason)

    def test_dutch_reason_names_g_accounts(self):
        self.env["res.lang"]._activate_lang("nl_NL")
        _eligible, reason = self.link.with_context(lang="nl_NL")._bank_link_account_eligibility(
            self.eligibility("Zakelijke Spaarrekening")
        )
        self.assertIn("G-rekeningen", reason)

    # -- ING's trust anchor, tracking, consent host, upgrade ---------------------

    def test_planted_ca_attachment_is_never_trusted(self):
        link = self.production_settings()
        # The attack: an attachment that claims to be the CA field's value.
        planted = self.rpc(self.clerk, "ir.attachment", "create", {
            "name": "ca.pem", "res_model": "account.bank.link", "res_id": link.id,
            "res_field": "ing_ca_certificate", "datas": b64(self.sandbox_ca).decode(),
        })
        self.assertTrue(planted)  # an attachment on a record the user can read...
        link = link.sudo()
        link.invalidate_recordset()
        self.assertFalse(link.ing_ca_certificate)  # ...is not the field's value
        self.assertIs(link._ing_config().verify, True)

    def test_sandbox_ca_is_never_used_by_a_production_link(self):
        link = self.production_settings().sudo()
        link.write({"ing_environment": "sandbox", "ing_ca_certificate": b64(self.sandbox_ca)})
        self.assertNotEqual(link._ing_config().verify, True)
        link.ing_environment = "production"
        self.assertIs(link._ing_config().verify, True)

    def test_endpoint_changes_are_tracked(self):
        link = self.production_settings().sudo()
        self.env.flush_all()
        self.env.cr.precommit.run()  # the configured link as committed
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
        provider = self.production_settings().sudo()._bank_link_get_provider()
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
        tls_key_pem = pem_factory.key_pem(self.tls_key)
        Attachment = self.env["ir.attachment"].sudo()
        link = self.env["account.bank.link"].create({"provider": "ing"})
        self.env.cr.execute("UPDATE account_bank_link SET ing_tls_key = NULL WHERE id = %s", [link.id])
        link.invalidate_recordset()
        Attachment.create({  # what the old version stored for the administrator
            "name": "ing_tls_key", "res_model": "account.bank.link", "res_id": link.id,
            "res_field": "ing_tls_key", "datas": b64(tls_key_pem),
        })
        self.rpc(self.clerk, "ir.attachment", "create", {  # and what a clerk planted
            "name": "ca.pem", "res_model": "account.bank.link", "res_id": link.id,
            "res_field": "ing_ca_certificate", "datas": b64(self.sandbox_ca).decode(),
        })
        self.env["account.bank.link"]._bank_link_move_credentials_from_attachments(CREDENTIAL_FIELDS)
        link.invalidate_recordset()
        self.assertEqual(base64.b64decode(link.sudo().ing_tls_key), tls_key_pem)
        self.assertFalse(link.sudo().ing_ca_certificate)
        self.assertFalse(Attachment.search_count(
            [("res_model", "=", "account.bank.link"), ("res_field", "in", CREDENTIAL_FIELDS)]))
