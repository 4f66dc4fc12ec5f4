"""One profile per NextGenPSD2 bank: data plus a few small hooks.

The standard flow is in ``nextgenpsd2_client.py``; a profile says only where a
bank deviates. Facts: ``../shared/specs/berlingroup/NOTES-knab.md``,
``NOTES-triodos.md``, ``NOTES-volksbank.md``. Tags: [C ...] confirmed by the
bank, [I ...] inferred from third-party code (Yolt's, Tink's). Every fact
tagged [I] in the notes is marked "inferred" here; see readme/DEVELOP.md for
the list per bank. A new NextGenPSD2 bank is a new profile.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping
from typing import Any

#: How the TPP authenticates when it creates a consent.
AUTH_APP_TOKEN = "app_token"  # client-credentials token first (Knab)
AUTH_CERTIFICATE = "certificate"  # the registered certificate only (Triodos)
AUTH_CLIENT_ID = "client_id"  # the plain client id in Authorization (de Volksbank)

#: How the user's SCA is started.
SCA_SCOPE = "scope"  # our own authorize URL with scope AIS:<consentId> (Knab)
SCA_REDIRECT_PKCE = "sca_redirect_pkce"  # the bank's _links.scaRedirect plus PKCE (Triodos)
SCA_CONSENT_PARAM = "consent_param"  # authorize?consentId=...&scope=AIS (de Volksbank)


def _bank_offered_access() -> dict[str, Any]:
    """Empty lists: the user picks the accounts at the bank."""
    return {"accounts": [], "balances": [], "transactions": []}


@dataclasses.dataclass(frozen=True)
class Profile:
    code: str
    name: str
    #: Production API base (the consent and AIS paths below are relative to it).
    api_base_url: str
    #: Production OAuth base (``/authorize`` and ``/token`` below it).
    auth_base_url: str
    #: The only hosts a production link may send tokens and secrets to.
    production_hosts: tuple[str, ...]
    consent_path: str = "/v1/consents"
    ais_path: str = "/v1"
    consent_auth: str = AUTH_CERTIFICATE
    sca: str = SCA_SCOPE
    #: Body ``access`` of the consent request.
    consent_access: Callable[[], Any] = _bank_offered_access
    #: Days we ask the consent for (``validUntil`` = today + this).
    consent_request_days: int = 90
    frequency_per_day: int = 4
    #: Headers signed on consent creation and on data calls; None = no signing.
    signed_consent_headers: tuple[str, ...] | None = None
    signed_data_headers: tuple[str, ...] | None = None
    #: keyId of the signature from the signer (``SN=...,CA=...``).
    key_id: Callable[[Any], str] | None = None
    #: Scope of the authorize URL (SCA_SCOPE), ``{consent_id}`` filled in.
    authorize_scope: str = ""
    #: Token endpoint: parameters in the query string instead of the body.
    token_params_in_query: bool = False
    #: Refresh with client id and secret in the body instead of HTTP Basic.
    refresh_secret_in_body: bool = False
    #: Amounts come unsigned: the side of the counterparty gives the direction.
    unsigned_amounts: bool = False
    #: Fields tried, in order, for the dedup identity of a transaction.
    identity_fields: tuple[str, ...] = ("transactionId", "entryReference")
    #: Balance types preferred, in order.
    balance_types: tuple[str, ...] = ("closingBooked", "interimBooked", "expected", "interimAvailable")
    #: Days of history after the first transactions request of a consent (None: no cap).
    later_history_days: int | None = None
    #: Extra headers of the token endpoint.
    token_headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: Payment initiation of one SEPA credit transfer (None: the bank offers us none, the file).
    pis_path: str | None = None
    #: Its status, ``{payment_id}`` filled in.
    pis_status_path: str = ""
    #: The ``_links`` entry the user approves the payment at.
    pis_sca_link: str = "scaRedirect"
    #: A structured reference as ``remittanceInformationStructured`` (else in the free text).
    pis_structured_reference: bool = False
    #: Takes ``requestedExecutionDate`` (else a future date is refused, never ignored).
    pis_execution_date: bool = False

    def valid_until(self, today: datetime.date) -> str:
        return (today + datetime.timedelta(days=self.consent_request_days)).isoformat()


# ------------------------------------------------------------------ Knab
def _knab_key_id(signer: Any) -> str:
    # Decimal serial and the *subject* DN without spaces, as Yolt sends it; the Berlin
    # Group example has hex serial and issuer DN. Inferred [I Y-knab]: verify with Knab.
    subject = signer.certificate.subject.rfc4514_string().replace(" ", "")
    return f"SN={signer.certificate.serial_number},CA={subject}"


KNAB = Profile(
    code="knab",
    name="Knab",
    # Every Knab fact is inferred from Yolt's client [I Y-knab]: Knab's portal was not readable.
    api_base_url="https://tpp-loket.knab.nl/openbanking",
    auth_base_url="https://login.knab.nl/connect",
    production_hosts=("tpp-loket.knab.nl", "login.knab.nl"),
    consent_path="/v2/consents",  # consent v2, inferred [I Y-knab]
    consent_auth=AUTH_APP_TOKEN,  # client credentials, scope psd2, inferred [I Y-knab]
    sca=SCA_SCOPE,
    # v2 body: access is a list of strings, no IBANs; inferred [I Y-knab].
    consent_access=lambda: ["accounts", "transactions", "balances"],
    consent_request_days=87,  # Yolt asks today + 87 days; inferred [I Y-knab]
    signed_consent_headers=("digest", "x-request-id", "date", "tpp-redirect-uri"),  # inferred [I Y-knab]
    signed_data_headers=("digest", "x-request-id", "date"),  # inferred [I Y-knab]
    key_id=_knab_key_id,
    authorize_scope="psd2 offline_access AIS:{consent_id}",  # inferred [I Y-knab]
    refresh_secret_in_body=True,  # refresh: secret in the body, not Basic; inferred [I Y-knab]
    token_headers={"Cache-Control": "no-cache"},  # inferred [I Y-knab]
    identity_fields=("transactionId", "entryReference"),  # inferred: Yolt reads transactionId [I Y-knab]
    # Instant SCT, Berlin Group body, debtor account required, executed on submit [I Y-knab];
    # its status path is the Berlin Group one, inferred. No bulk payments in the notes.
    pis_path="/v1/payments/instant-sepa-credit-transfers",
    pis_status_path="/v1/payments/instant-sepa-credit-transfers/{payment_id}/status",
    pis_sca_link="scaRedirect",  # Berlin Group redirect approach; inferred [I Y-knab "redirect for SCA"]
)


# ------------------------------------------------------------------ Triodos
def _triodos_key_id(signer: Any) -> str:
    # Hex serial, issuer DN (RFC 1779); inferred [I Y-tri].
    return f"SN={signer.certificate.serial_number:X},CA={signer.certificate.issuer.rfc4514_string()}"


TRIODOS = Profile(
    code="triodos",
    name="Triodos Bank",
    # mTLS host for TPP calls, the NL tenant in the path [C T-env; I Y-tri for the auth path].
    api_base_url="https://api-ma.triodos.com/xs2a-bg/nl",
    auth_base_url="https://api-ma.triodos.com/auth/nl/v1",
    # api.triodos.com: the browser-side authorisation host (no client certificate) [C T-env].
    production_hosts=("api-ma.triodos.com", "api.triodos.com"),
    consent_auth=AUTH_CERTIFICATE,  # registered by dynamic client registration [C T-reg]
    sca=SCA_REDIRECT_PKCE,  # OAuth2 SCA, implicit start [C T-auth]; PKCE inferred [I Y-tri]
    # Bank-offered consent [C T-auth]; the empty lists are inferred [I Y-tri].
    consent_access=_bank_offered_access,
    signed_consent_headers=("digest", "x-request-id"),  # [C T-ais example]
    signed_data_headers=("digest", "x-request-id"),  # inferred [I Y-tri]
    key_id=_triodos_key_id,
    # Inferred: Triodos's transaction ids; entryReference as fallback [I Y-tri].
    identity_fields=("transactionId", "entryReference"),
    unsigned_amounts=True,  # inferred [I Y-tri README, quoting Triodos]
    later_history_days=90,  # full history only on the first request, then 90 days [C T-faq]
    # No pis_path: NOTES-triodos.md describes no payment interface; orders are the pain.001 file.
)


# ------------------------------------------------------------------ de Volksbank
def _volksbank(code: str, name: str, path: str) -> Profile:
    return Profile(
        code=code,
        name=name,
        # One platform, the brand a path segment [C V-swagger]. Yolt lists api.<brand>.nl as API
        # hosts (inferred [I Y-vb README]); the Swagger files name psd.bancairediensten.nl.
        api_base_url=f"https://psd.bancairediensten.nl/psd2/{path}",
        auth_base_url=f"https://psd.bancairediensten.nl/psd2/{path}/v1",
        production_hosts=("psd.bancairediensten.nl",),
        consent_path="/v1/consents",  # consent v1 [C V-swagger]; v2 exists [C V-sandbox], not built
        ais_path="/v1.1",  # [C V-swagger]
        consent_auth=AUTH_CLIENT_ID,  # plain client id in Authorization [C V-swagger; I Y-vb]
        sca=SCA_CONSENT_PARAM,  # authorize?consentId=...&scope=AIS, inferred [I Y-vb, T-vb]
        consent_access=_bank_offered_access,  # empty lists, inferred [I Y-vb]
        frequency_per_day=4,  # Yolt sends 10, "not enforced yet" [I Y-vb]; we keep the RTS 4
        signed_consent_headers=None,  # mTLS only, no signing; inferred [I Y-vb README]
        signed_data_headers=None,
        token_params_in_query=True,  # inferred [I Y-vb, T-vb]
        identity_fields=("entryReference",),  # no transactionId in the Swagger [C V-swagger]
        balance_types=("interimAvailable",),  # the only one supported; inferred [I Y-vb README]
        # One SEPA credit transfer; status under /v1.1 [C V-swagger]. No bulk initiation (a bulk
        # status only). The user approves at _links.scaOAuth [C V-swagger]; what is behind it inferred.
        pis_path="/v1/payments/sepa-credit-transfers",
        pis_status_path="/v1.1/payments/sepa-credit-transfers/{payment_id}/status",
        pis_sca_link="scaOAuth",
        pis_structured_reference=True,  # string of 35 with issuerSRI [C V-swagger]
        pis_execution_date=True,  # requestedExecutionDate [C V-swagger]
    )


ASN = _volksbank("asn", "ASN Bank", "asnbank")
SNS = _volksbank("sns", "SNS", "snsbank")
REGIOBANK = _volksbank("regiobank", "RegioBank", "regiobank")

PROFILES = {profile.code: profile for profile in (KNAB, TRIODOS, ASN, SNS, REGIOBANK)}
