# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The registrations of Knab, Triodos Bank and de Volksbank (ASN Bank, the
platform of SNS and RegioBank too) pass the framework's settings
conformance: validation, eligibility with Dutch reasons, and the security
checklist an ordinary Odoo user tries over XML-RPC and HTTP (no secret or
endpoint read or planted, no key served, no registration action such as
Triodos's registration by API called)."""

from odoo.tests import HttpCase, tagged

from odoo.addons.l10n_nl_bankkoppeling.tests import conformance, pem_factory
from odoo.addons.l10n_nl_bankkoppeling.tests.conformance import b64
from odoo.addons.l10n_nl_bankkoppeling.tools import provider

from ..tools import nextgenpsd2_mapping


class NextGenPsd2Settings(conformance.SettingsConformance):
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
    unattended_fetches_per_day = 4
    iban = None

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
        return provider.BankAccount(resource_id="acc-1", iban=self.iban, currency="EUR")

    def ineligible_account(self):
        account = provider.BankAccount(
            resource_id="acc-2", iban=self.iban, currency="USD", eligible=False,
            ineligible_reason=nextgenpsd2_mapping.REASON_FOREIGN_CURRENCY,
        )
        return account, "foreign-currency account (USD)", "vreemde-valutarekening (USD)"


@tagged("post_install", "-at_install")
class TestKnabSettings(NextGenPsd2Settings, HttpCase):
    bank = "knab"
    bank_label = "Knab"
    iban = "NL89KNAB2131337205"
    missing_setting_labels = ("Client id", "Client secret", "TLS certificate (QWAC)", "Signing private key")
    wizard_texts = {"consent_text": ["legal representative", "87 days"],
                    "eligibility_text": ["business current accounts in euro"]}


@tagged("post_install", "-at_install")
class TestTriodosSettings(NextGenPsd2Settings, HttpCase):
    bank = "triodos"
    bank_label = "Triodos Bank"
    iban = "NL63TRIO1904624944"
    missing_setting_labels = ("Client id", "Client secret", "TLS certificate (QWAC)", "Signing private key")
    wizard_texts = {"consent_text": ["one account per consent", "90 days"],
                    "first_fetch_text": ["full history only on the first fetch"]}


@tagged("post_install", "-at_install")
class TestAsnBankSettings(NextGenPsd2Settings, HttpCase):
    bank = "asn"
    bank_label = "ASN Bank"
    iban = "NL82ASNB4149506426"
    # de Volksbank signs nothing: no signing pair is asked for.
    missing_setting_labels = ("Client id", "TLS certificate (QWAC)")
    wizard_texts = {"consent_text": ["ASN Bank", "90 days"],
                    "eligibility_text": ["available balance"]}
