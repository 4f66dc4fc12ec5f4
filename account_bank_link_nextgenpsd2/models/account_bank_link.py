# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Knab, Triodos Bank, ASN Bank, SNS and RegioBank on the bank link: one
provider per bank (a profile of the standard flow, tools/profiles.py), built
from the company's bank registration (``account.bank.registration``), with
the consent started between the login redirect and the code exchange kept
as a secret of the link, the user's IP address sent while the user is
present, and the banks' texts in the link wizard."""

from collections.abc import MutableMapping

from odoo import fields, models
from odoo.http import request

from odoo.addons.l10n_nl_bankkoppeling.models.account_bank_link import _SIDE_WRITTEN

from ..tools import nextgenpsd2_mapping, nextgenpsd2_provider

PROVIDERS = nextgenpsd2_provider.PROVIDERS
#: de Volksbank registers a TPP once for its three brands (one client id and
#: secret; inferred [I Y-vb README], the sandbox's scenario does the same):
#: an SNS or RegioBank link without a registration of its own uses the
#: company's ASN Bank registration, with its own brand's path in the URLs.
VOLKSBANK_SHARED = {"sns": "asn", "regiobank": "asn"}
#: The key of the flow state in the link's secret (``bank_data``).
FLOW_KEY = "nextgenpsd2_flow"


class _FlowStore(MutableMapping):
    """The provider's ``flow_store`` (the consent id and Triodos's PKCE
    verifier between the redirect and the code exchange; the accounts whose
    one-time history was read), kept in the link's secret and written at
    every change: the controller's redirect and callback are two requests."""

    def __init__(self, link):
        self._link = link
        self._data = dict(link._bank_link_secret()._get_bank_data().get(FLOW_KEY) or {})

    def __getitem__(self, key):
        return self._data[key]

    def __setitem__(self, key, value):
        self._data[key] = value
        self._save()

    def __delitem__(self, key):
        del self._data[key]
        self._save()

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def _save(self):
        link = self._link
        secret = link._bank_link_secret()
        if secret.id in link.env.cr.precommit.data.get(_SIDE_WRITTEN, set()):
            # The tokens were committed through a second cursor in this
            # transaction (a refresh): the row is written the same way.
            with link.env.registry.cursor() as cr:
                secret.with_env(link.env(cr=cr, su=True))._set_bank_data({FLOW_KEY: dict(self._data)})
            secret.invalidate_recordset()
        else:
            secret._set_bank_data({FLOW_KEY: dict(self._data)})


class AccountBankLink(models.Model):
    _inherit = "account.bank.link"

    provider = fields.Selection(
        selection_add=[(code, cls.name) for code, cls in PROVIDERS.items()],
        ondelete={code: "cascade" for code in PROVIDERS},
    )

    def _bank_link_provider_class(self):
        return PROVIDERS.get(self.provider) or super()._bank_link_provider_class()

    def _bank_link_registration(self):
        if self.provider in VOLKSBANK_SHARED:
            self.ensure_one()
            registrations = self.env["account.bank.registration"].sudo().search(
                [("company_id", "=", self.company_id.id),
                 ("provider", "in", (self.provider, VOLKSBANK_SHARED[self.provider]))]
            )
            # The brand's own registration first, else the shared one.
            own = registrations.filtered(lambda registration: registration.provider == self.provider)
            if own or registrations:
                return (own or registrations)[:1]
        return super()._bank_link_registration()

    def _bank_link_get_provider(self):
        if self.provider not in PROVIDERS:
            return super()._bank_link_get_provider()
        self.ensure_one()
        return PROVIDERS[self.provider](
            self._nextgenpsd2_config(),
            flow_store=_FlowStore(self),
            psu_ip_address=self._nextgenpsd2_psu_ip_address(),
        )

    def _nextgenpsd2_psu_ip_address(self):
        """The user's IP address when the user is at the screen (an HTTP
        request: the consent, the callback, a fetch run in the request);
        None in the scheduled fetch, which the bank counts against the 4
        unattended fetches a day. Behind a reverse proxy Odoo needs
        ``proxy_mode`` for this to be the user's address."""
        if request and getattr(request, "httprequest", None) and not self.env.context.get("bank_link_unattended"):
            return request.httprequest.remote_addr or None
        return None

    def _nextgenpsd2_config(self):
        registration = self._bank_link_registration()._bank_registration_ready()
        api_url = registration.api_base_url.rstrip("/")
        auth_url = registration.auth_base_url.rstrip("/")
        if registration.provider != self.provider:
            # de Volksbank's shared registration: the brand is a path segment.
            own, brand = PROVIDERS[registration.provider], PROVIDERS[self.provider]
            shared_path, brand_path = own.local_sandbox_api_path, brand.local_sandbox_api_path
            api_url = api_url.replace(shared_path, brand_path)
            auth_url = auth_url.replace(shared_path, brand_path)
        return nextgenpsd2_provider.NextGenPsd2Config(
            api_base_url=api_url,
            auth_base_url=auth_url,
            client_id=registration.client_id,
            client_secret=registration.client_secret,
            tls_cert_path=registration._bank_link_pem_path("tls_certificate", "-tls.pem"),
            tls_key_path=registration._bank_link_pem_path("tls_key", "-tls.key"),
            # de Volksbank does not sign (mTLS only): its registration may hold no QSealC.
            signing_cert_path=registration.signing_certificate
            and registration._bank_link_pem_path("signing_certificate", "-signing.pem") or "",
            signing_key_path=registration.signing_key
            and registration._bank_link_pem_path("signing_key", "-signing.key") or "",
            verify=registration._bank_registration_verify(),
            sandbox=registration.environment == "sandbox",
        )

    def _bank_link_wizard_texts(self):
        texts = super()._bank_link_wizard_texts()
        if self.provider == "knab":
            texts.update(
                consent=self.env._(
                    "You are sent to Knab. Log in as the company's legal representative, "
                    "choose the business accounts and confirm; the consent lasts 87 days. "
                    "Afterwards you come back here."
                ),
                eligibility=self.env._(
                    "Knab links business current accounts in euro. Savings accounts "
                    "without an IBAN cannot be linked."
                ),
            )
        elif self.provider == "triodos":
            texts.update(
                consent=self.env._(
                    "You are sent to Triodos Bank. Log in as the company's legal "
                    "representative and choose one account: Triodos gives one account "
                    "per consent, so link a second account with a second link. The "
                    "consent lasts 90 days."
                ),
                eligibility=self.env._(
                    "Triodos Bank links one euro payment account per consent."
                ),
                first_fetch=self.env._(
                    "Triodos Bank gives the full history only on the first fetch after "
                    "the consent; later fetches get the last 90 days."
                ),
            )
        elif self.provider in ("asn", "sns", "regiobank"):
            texts.update(
                consent=self.env._(
                    "You are sent to %(bank)s. Log in as the company's legal "
                    "representative, choose the accounts and confirm; the consent lasts "
                    "90 days. Afterwards you come back here.",
                    bank=PROVIDERS[self.provider].name,
                ),
                eligibility=self.env._(
                    "%(bank)s links euro payment accounts. The balance shown is the "
                    "available balance, including what is not booked yet.",
                    bank=PROVIDERS[self.provider].name,
                ),
            )
        return texts

    def _bank_link_account_eligibility(self, bank_account):
        eligible, reason = super()._bank_link_account_eligibility(bank_account)
        if self.provider not in PROVIDERS or eligible:
            return eligible, reason
        # The provider's reasons are English; the user reads them in Dutch.
        reasons = {
            nextgenpsd2_mapping.REASON_NO_IBAN: self.env._(
                "This account has no IBAN (savings or card account)."
            ),
            nextgenpsd2_mapping.REASON_FOREIGN_CURRENCY: self.env._(
                "This is a foreign-currency account (%(currency)s): only euro accounts "
                "can be linked.",
                currency=bank_account.currency or "-",
            ),
            nextgenpsd2_mapping.REASON_NOT_CURRENT: self.env._(
                "Only current accounts can be linked; this is a savings account."
            ),
            nextgenpsd2_mapping.REASON_NOT_ENABLED: self.env._(
                "This account is blocked or closed at the bank."
            ),
        }
        return False, reasons.get(bank_account.ineligible_reason, reason)
