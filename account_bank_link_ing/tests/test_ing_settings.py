# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ING's settings pass the framework's conformance suite (validation,
eligibility, security checklist), plus what only ING has: a signing
certificate next to the TLS one, a trust anchor for the sandbox, the
consent redirect to ING's login host and the upgrade of links that kept
the settings themselves."""

import base64
import importlib.util
import os
import stat
from pathlib import Path

from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, tagged

from odoo.addons.l10n_nl_bankkoppeling.tests import conformance, pem_factory
from odoo.addons.l10n_nl_bankkoppeling.tests.conformance import b64
from odoo.addons.l10n_nl_bankkoppeling.tools import provider as bank_provider

from ..tools import ing_provider

SANDBOX_URL_PARAMETER = "account_bank_link_ing.sandbox_url"
MIGRATION = Path(__file__).resolve().parents[1] / "migrations" / "18.0.1.2.0" / "post-migration.py"


def load_migration():
    spec = importlib.util.spec_from_file_location("ing_post_migration_1_2_0", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


migration = load_migration()

CREDENTIAL_FIELDS = ("tls_certificate", "tls_key", "signing_certificate", "signing_key", "ca_certificate", "client_id")


@tagged("post_install", "-at_install")
class TestIngSettings(conformance.SettingsConformance, HttpCase):
    bank = "ing"
    bank_label = "ING"
    tls_certificate_field = "tls_certificate"
    tls_key_field = "tls_key"
    tls_certificate_label = "TLS certificate (QWAC)"
    tls_certificate_expiry_field = "tls_certificate_expiry"
    secret_fields = CREDENTIAL_FIELDS
    key_fields = ("tls_key", "signing_key")
    ca_certificate_field = "ca_certificate"
    environment_field = "environment"
    endpoint_fields = ("api_base_url",)
    missing_setting_labels = ("TLS certificate (QWAC)", "Signing private key")
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
            "client_id": "my-ing-app",
            "tls_certificate": b64(self.tls_certificate_pem),
            "tls_key": b64(pem_factory.key_pem(self.tls_key)),
            "signing_certificate": b64(self.signing_cert_pem),
            "signing_key": b64(pem_factory.key_pem(self.signing_key)),
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
        self.settings.environment = "production"
        self.assertEqual(self.settings.api_base_url, "https://api.ing.com")
        self.env["ir.config_parameter"].set_param(SANDBOX_URL_PARAMETER, "https://127.0.0.1:8443/")
        self.settings.environment = "sandbox"
        self.assertEqual(self.settings.api_base_url, "https://127.0.0.1:8443")

    def test_signing_certificate_is_shown_too(self):
        self.configure()
        self.assertIn("TLS TPP", self.settings.tls_certificate_subject)
        self.assertIn("Seal TPP", self.settings.signing_certificate_subject)
        self.assertTrue(self.settings.signing_certificate_expiry)

    def test_upload_is_checked_before_saving(self):
        """The form warns on upload already, before the save refuses."""
        form_record = self.env["account.bank.registration"].new(
            {
                "provider": "ing",
                "tls_certificate": b64(self.tls_certificate_pem),
                "tls_key": b64(pem_factory.key_pem(self.signing_key)),
            }
        )
        result = form_record._onchange_pem_files()
        self.assertIn("does not belong to", result["warning"]["message"])
        form_record.tls_key = b64(pem_factory.key_pem(self.tls_key))
        self.assertFalse(form_record._onchange_pem_files())
        self.assertEqual(form_record.tls_certificate_expiry, self.tls_certificate.not_valid_after.date())

    def test_other_files_are_refused(self):
        with self.assertRaises(ValidationError) as caught:
            self.settings.signing_certificate = b64(pem_factory.key_pem(self.signing_key))
        self.assertIn("not a certificate in PEM format", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self.settings.signing_key = b64(self.signing_cert_pem)
        self.assertIn("not a private key in PEM format", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self.settings.tls_key = b64(pem_factory.key_pem(self.tls_key, password=b"geheim"))
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

    def test_planted_ca_attachment_is_refused(self):
        registration = self.production_settings()
        # The attack: an attachment that claims to be the CA field's value.
        self.assert_refused(self.clerk, "ir.attachment", "create", {
            "name": "ca.pem", "res_model": "account.bank.registration", "res_id": registration.id,
            "res_field": "ca_certificate", "datas": b64(self.sandbox_ca).decode(),
        })
        registration.invalidate_recordset()
        self.assertFalse(registration.ca_certificate)
        self.assertIs(self.link._bank_link_get_provider().config.verify, True)

    def test_sandbox_ca_is_never_used_by_a_production_link(self):
        registration = self.production_settings()
        registration.write({"environment": "sandbox", "ca_certificate": b64(self.sandbox_ca)})
        self.assertNotEqual(self.link._bank_link_get_provider().config.verify, True)
        registration.environment = "production"
        self.assertIs(self.link._bank_link_get_provider().config.verify, True)

    def test_endpoint_changes_are_tracked(self):
        registration = self.production_settings()
        self.env.flush_all()
        self.env.cr.precommit.run()  # the configured registration as committed
        registration.write({"environment": "sandbox"})
        registration.write({"api_base_url": "https://sandbox.example.test"})
        self.env.flush_all()
        self.env.cr.precommit.run()  # tracking values are written at commit
        tracked = registration.message_ids.tracking_value_ids.field_id.mapped("name")
        self.assertIn("environment", tracked)
        self.assertIn("api_base_url", tracked)

    def test_consent_redirect_only_to_ings_login_host(self):
        hosts = ing_provider.authorization_hosts(ing_provider.PRODUCTION_URL, production=True)
        self.assertEqual(hosts, ("myaccount.ing.com",))
        self.production_settings()
        provider = self.link._bank_link_get_provider()
        self.patch(type(provider.client), "authorization_server_location",
                   lambda client, *args: "https://attacker.example/granting/x/NL")
        with self.assertRaisesRegex(Exception, "outside its own hosts"):
            provider.authorization_url("https://odoo.example/cb", "state")
        self.patch(type(provider.client), "authorization_server_location",
                   lambda client, *args: "https://myaccount.ing.com/granting/x/NL")
        self.assertTrue(provider.authorization_url("https://odoo.example/cb", "state")
                        .startswith("https://myaccount.ing.com/granting/x/NL?"))

    def test_upgrade_makes_the_registration_from_the_last_configured_link(self):
        """Before 18.0.1.2.0 every ING link carried the settings: the
        upgrade makes the company's registration from its last configured
        link and leaves no copy of a secret on any link."""
        self.settings.unlink()
        Link = self.env["account.bank.link"]
        old, last, unconfigured = Link.create([{"provider": "ing"}] * 3)
        cr = self.env.cr
        # The columns of the old fields, as an upgraded database has them.
        for column in migration.COLUMNS:
            kind = "bytea" if column.endswith(("_certificate", "_key")) else "varchar"
            cr.execute(f"ALTER TABLE account_bank_link ADD COLUMN {column} {kind}")  # noqa: S608
        values = {
            "ing_environment": "sandbox",
            "ing_base_url": "https://127.0.0.1:8443",
            "ing_client_id": "my-ing-app",
            "ing_tls_certificate": b64(self.tls_certificate_pem),
            "ing_tls_certificate_name": "qwac.pem",
            "ing_tls_key": b64(pem_factory.key_pem(self.tls_key)),
            "ing_signing_certificate": b64(self.signing_cert_pem),
            "ing_signing_key": b64(pem_factory.key_pem(self.signing_key)),
            "ing_ca_certificate": b64(self.sandbox_ca),
        }
        for link, client_id in ((old, "older-app"), (last, "my-ing-app")):
            cr.execute(
                "UPDATE account_bank_link SET " + ", ".join(f"{column} = %s" for column in values)  # noqa: S608
                + " WHERE id = %s",
                [*dict(values, ing_client_id=client_id).values(), link.id],
            )
        migration.migrate(cr, "18.0.1.1.0")
        registration = self.env["account.bank.registration"].search(
            [("provider", "=", "ing"), ("company_id", "=", self.env.company.id)]
        )
        self.assertEqual(registration.client_id, "my-ing-app")
        self.assertEqual(registration.api_base_url, "https://127.0.0.1:8443")
        self.assertEqual(registration.tls_certificate_name, "qwac.pem")
        self.assertEqual(base64.b64decode(registration.tls_key), pem_factory.key_pem(self.tls_key))
        self.assertEqual(base64.b64decode(registration.ca_certificate), self.sandbox_ca)
        self.assertEqual(registration.tls_certificate_expiry, self.tls_certificate.not_valid_after.date())
        cr.execute(
            "SELECT count(*) FROM account_bank_link WHERE id IN %s AND (ing_tls_key IS NOT NULL "
            "OR ing_signing_key IS NOT NULL OR ing_client_id IS NOT NULL)",
            [(old.id, last.id, unconfigured.id)],
        )
        self.assertEqual(cr.fetchone()[0], 0, "a secret stayed on a link")
        # Every link of the company works with it.
        self.assertEqual(old._bank_link_get_provider().config.client_id, "my-ing-app")
