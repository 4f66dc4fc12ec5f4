"""Knab, Triodos, ASN Bank, SNS and RegioBank as :class:`~provider.BankProvider` (account information).

One provider class for the standard flow; a bank is a subclass naming its
profile. Between the start of the consent and the code exchange the provider
keeps the consent id (and Triodos's PKCE verifier) in ``flow_store``, a
mapping the caller keeps with the link (the framework's link record; a dict
in plain Python). The consent id then travels with the tokens: in
``TokenSet.scope`` as ``AIS:<consentId>``, as Knab's own scope carries it.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import logging
import secrets
import time
import zoneinfo
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

import requests

from . import nextgenpsd2_client, nextgenpsd2_mapping, nextgenpsd2_payments, profiles

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import http_signature, paging, provider
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import http_signature, paging, provider

AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")
_logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class NextGenPsd2Config:
    #: Empty: the profile's production URLs.
    api_base_url: str = ""
    auth_base_url: str = ""
    #: Knab and de Volksbank: from the bank's portal; Triodos: from :meth:`register_client`.
    client_id: str = ""
    client_secret: str = dataclasses.field(default="", repr=False)
    tls_cert_path: str = ""
    tls_key_path: str = ""
    signing_cert_path: str = ""
    signing_key_path: str = dataclasses.field(default="", repr=False)
    verify: bool | str = True
    timeout: float = 30.0
    #: The registration's environment is the sandbox (see :func:`check_redirect_uri`).
    sandbox: bool = False


check_redirect_uri = nextgenpsd2_client.check_redirect_uri


def consent_id_of(tokens: provider.TokenSet) -> str | None:
    for part in (tokens.scope or "").split():
        if part.startswith("AIS:"):
            return part[4:]
    return None


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class NextGenPsd2Provider(nextgenpsd2_payments.NextGenPsd2Payments, provider.BankProvider):
    """The standard flow; a subclass names its bank's profile and the provider facts."""

    profile: profiles.Profile | None = None
    # The registration (account.bank.registration) needs at least these; Knab and
    # Triodos sign with the QSealC, so their subclasses ask for it too.
    required_settings = ("api_base_url", "auth_base_url", "client_id", "client_secret", "tls_certificate", "tls_key")

    def __init__(
        self,
        config: NextGenPsd2Config,
        *,
        flow_store: MutableMapping[str, Any] | None = None,
        psu_ip_address: str | None = None,
        retry: nextgenpsd2_client.RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        now: Callable[[], datetime.datetime] | None = None,
    ):
        if self.profile is None:
            raise TypeError("Use the provider class of a bank (KnabProvider, TriodosProvider, ...)")
        self.config = config
        #: Kept by the caller between authorization_url and exchange_code.
        self.flow_store = flow_store if flow_store is not None else {}
        #: The user's IP address while the user is present; None for unattended fetches.
        self.psu_ip_address = psu_ip_address
        self._now = now or (lambda: datetime.datetime.now(datetime.UTC))
        profile = self.profile
        signer = None
        if profile.signed_consent_headers or profile.signed_data_headers:
            signer = http_signature.HttpSigner.from_files(config.signing_key_path, config.signing_cert_path,
                                                          bank=profile.name)
        self.client = nextgenpsd2_client.NextGenPsd2Client(
            profile, api_base_url=config.api_base_url or profile.api_base_url,
            auth_base_url=config.auth_base_url or profile.auth_base_url, client_id=config.client_id,
            client_secret=config.client_secret, tls_cert_path=config.tls_cert_path, tls_key_path=config.tls_key_path,
            signer=signer, verify=config.verify, timeout=config.timeout, retry=retry, sleep=sleep, session=session,
            today=self._today)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(api_base_url={self.client.api_base_url!r})"

    def _today(self) -> datetime.date:
        return self._now().astimezone(AMSTERDAM).date()

    # ---------------------------------------------------------------- registration

    def register_client(self, redirect_uris: list[str]) -> dict[str, Any]:
        """Triodos only: once per certificate; store ``client_id`` and ``client_secret`` it returns."""
        if self.profile.consent_auth != profiles.AUTH_CERTIFICATE:
            raise provider.ConfigurationError(f"{self.name} registers clients in its portal, not by API")
        for uri in redirect_uris:
            check_redirect_uri(uri, sandbox=self.config.sandbox)
        return self.client.register_client(redirect_uris)

    # ---------------------------------------------------------------- consent + OAuth

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """Creates the consent resource (the user is present: PSU-IP-Address), then the bank's URL."""
        if not self.psu_ip_address:
            raise provider.ConfigurationError("A consent is made with the user present: PSU-IP-Address is missing")
        check_redirect_uri(redirect_uri, sandbox=self.config.sandbox)
        consent = self.client.create_consent(redirect_uri, self.psu_ip_address)
        verifier = challenge = None
        if self.profile.sca == profiles.SCA_REDIRECT_PKCE:
            verifier, challenge = pkce_pair()
        self.flow_store["pending"] = {"consent_id": consent["consentId"], "code_verifier": verifier,
                                      "redirect_uri": redirect_uri}
        return self.client.authorization_url(consent, redirect_uri, state, challenge)

    def exchange_code(self, code: str, redirect_uri: str) -> provider.TokenSet:
        pending = self.flow_store.pop("pending", None) or {}
        payload = self.client.token_by_code(code, redirect_uri, pending.get("code_verifier"))
        consent_id = pending.get("consent_id")
        if not consent_id:
            raise provider.ProtocolError(f"No {self.name} consent was started for this code")
        self.flow_store.pop("history_read", None)
        self.flow_store["redirect_uri"] = redirect_uri
        return self._token_set(payload, None, consent_id)

    def refresh(self, tokens: provider.TokenSet) -> provider.TokenSet:
        if not tokens.refresh_token:
            raise provider.ConsentExpiredError("No refresh token stored; the consent must be renewed")
        payload = self.client.token_by_refresh(tokens.refresh_token, self.flow_store.get("redirect_uri"))
        return self._token_set(payload, tokens, consent_id_of(tokens))

    def revoke(self, tokens: provider.TokenSet) -> None:
        """``DELETE`` the consent resource (best effort)."""
        consent_id = consent_id_of(tokens)
        if consent_id:
            self.client.delete_consent(consent_id)

    def consent_status(self, tokens: provider.TokenSet) -> str | None:
        """``received``, ``valid``, ``expired``, ``revokedByPsu``, ``terminatedByTpp``..."""
        consent_id = consent_id_of(tokens)
        return self.client.consent_status(consent_id) if consent_id else None

    def _token_set(self, payload: Mapping[str, Any], previous: provider.TokenSet | None,
                   consent_id: str | None) -> provider.TokenSet:
        now = self._now()
        seconds = payload.get("expires_in")
        try:
            expires_at = now + datetime.timedelta(seconds=int(seconds)) if seconds not in (None, "") else None
        except (TypeError, ValueError):
            expires_at = None
        scope = payload.get("scope") if isinstance(payload.get("scope"), str) else ""
        if consent_id and f"AIS:{consent_id}" not in scope.split():
            scope = f"{scope} AIS:{consent_id}".strip()
        until = previous.consent_valid_until if previous else \
            self._today() + datetime.timedelta(days=self.profile.consent_request_days)
        return provider.TokenSet(
            access_token=payload["access_token"],
            refresh_token=payload.get("refresh_token") or (previous.refresh_token if previous else None),
            expires_at=expires_at, scope=scope, consent_valid_until=until)

    # ---------------------------------------------------------------- AIS

    def _get(self, tokens: provider.TokenSet, path: str, params: Mapping[str, str] | None = None, *,
             context: str) -> Any:
        consent_id = consent_id_of(tokens)
        if not consent_id:
            raise provider.ConsentExpiredError(f"No {self.name} consent id is stored; the consent must be renewed")
        return self.client.get(path, tokens.access_token, consent_id, params, context=context,
                               psu_ip_address=self.psu_ip_address)

    def list_accounts(self, tokens: provider.TokenSet) -> list[provider.BankAccount]:
        return nextgenpsd2_mapping.map_accounts(self.profile, self._get(tokens, "/accounts", context="accounts"))

    def fetch_balance(self, tokens: provider.TokenSet, account: provider.BankAccount) -> provider.BankBalance | None:
        payload = self._get(tokens, f"/accounts/{account.resource_id}/balances", context="balance")
        return nextgenpsd2_mapping.map_balance(self.profile, payload)

    def fetch_transactions(
        self,
        tokens: provider.TokenSet,
        account: provider.BankAccount,
        date_from: datetime.date,
        date_to: datetime.date,
    ) -> Iterator[provider.TransactionPage]:
        """Booked transactions, following ``_links.next``. A bank that serves the full history
        only once (Triodos) gets the older period only on the first fetch; later ones start
        within its window and say so."""
        if date_from > date_to:
            raise provider.InvalidRequestError(f"Period {date_from} to {date_to} is empty")
        profile, notices, adjusted = self.profile, (), None
        if profile.later_history_days is not None:
            read = list(self.flow_store.get("history_read") or [])
            oldest = self._today() - datetime.timedelta(days=profile.later_history_days)
            if account.resource_id in read and date_from < oldest:
                date_from = adjusted = oldest
                notices = (provider.Notice(provider.NOTICE_HISTORY_SPENT,
                                           {"bank": profile.name, "days": profile.later_history_days}),)
            elif account.resource_id not in read:
                # Assigned, not appended: the caller's store saves on assignment.
                self.flow_store["history_read"] = [*read, account.resource_id]
        params = {"bookingStatus": "booked", "dateFrom": date_from.isoformat(), "dateTo": date_to.isoformat()}

        def fetch(href: str | None, page_number: int) -> tuple[provider.TransactionPage, str | None]:
            context = f"transactions page {page_number}"
            if href:
                payload = self._get(tokens, href, context=context)
            else:
                payload = self._get(tokens, f"/accounts/{account.resource_id}/transactions", params, context=context)
            transactions, next_href = nextgenpsd2_mapping.map_transactions(profile, payload)
            if page_number == 1:
                return provider.TransactionPage(transactions, adjusted_date_from=adjusted, notices=notices), next_href
            return provider.TransactionPage(transactions), next_href

        yield from paging.follow(fetch, bank=profile.name, what="_links.next")


class KnabProvider(NextGenPsd2Provider):
    profile = profiles.KNAB
    code, name = "knab", "Knab"
    consent_days = 87  # what we ask; inferred [I Y-knab]
    history_months = 18  # inferred: not published
    rotates_refresh_token = False  # inferred
    one_account_per_consent = False  # the user picks accounts at Knab [I Y-knab]
    max_payments_per_order = 1  # single instant credit transfers; no bulk in the notes [I Y-knab]
    iban_bank_codes = ("KNAB",)
    required_settings = (*NextGenPsd2Provider.required_settings, "signing_certificate", "signing_key")
    production_hosts = profiles.KNAB.production_hosts
    production_api_url, production_auth_url = profiles.KNAB.api_base_url, profiles.KNAB.auth_base_url
    # Knab's sandbox hosts (readme/CONFIGURE.md); inferred [I Y-knab].
    sandbox_api_url, sandbox_auth_url = "https://api.knab.nl/openbanking-sandbox", "https://login.knab.io/connect"
    local_sandbox_api_path, local_sandbox_auth_path = "/knab/openbanking", "/knab/connect"


class TriodosProvider(NextGenPsd2Provider):
    profile = profiles.TRIODOS
    code, name = "triodos", "Triodos Bank"
    consent_days = 90  # inferred
    history_months = 24  # inferred; full history on the first fetch only [C T-faq]
    rotates_refresh_token = False  # inferred
    one_account_per_consent = True  # [C T-faq]
    iban_bank_codes = ("TRIO",)
    required_settings = (*NextGenPsd2Provider.required_settings, "signing_certificate", "signing_key")
    production_hosts = profiles.TRIODOS.production_hosts
    production_api_url, production_auth_url = profiles.TRIODOS.api_base_url, profiles.TRIODOS.auth_base_url
    sandbox_api_url = "https://xs2a-sandbox.triodos.com/xs2a-bg/nl"  # [C T-env]
    sandbox_auth_url = "https://xs2a-sandbox.triodos.com/auth/nl/v1"  # path inferred [I Y-tri]
    local_sandbox_api_path, local_sandbox_auth_path = "/triodos/xs2a-bg/nl", "/triodos/auth/nl/v1"


class AsnProvider(NextGenPsd2Provider):
    profile = profiles.ASN
    code, name = "asn", "ASN Bank"
    consent_days = 90  # inferred [I Y-vb]
    history_months = 18  # inferred
    rotates_refresh_token = False  # inferred
    one_account_per_consent = False  # inferred [I Y-vb]
    max_payments_per_order = 1  # single credit transfers; the Swagger has no bulk initiation [C V-swagger]
    iban_bank_codes = ("ASNB",)
    production_hosts = profiles.ASN.production_hosts
    production_api_url, production_auth_url = profiles.ASN.api_base_url, profiles.ASN.auth_base_url
    # The sandbox is behind the production gateway, under .../<brand>/sandbox [C V-sandbox].
    sandbox_api_url, sandbox_auth_url = f"{profiles.ASN.api_base_url}/sandbox", f"{profiles.ASN.api_base_url}/sandbox/v1"
    local_sandbox_api_path, local_sandbox_auth_path = "/psd2/asnbank", "/psd2/asnbank/v1"


class SnsProvider(AsnProvider):
    profile = profiles.SNS
    code, name = "sns", "SNS"
    iban_bank_codes = ("SNSB",)
    production_api_url, production_auth_url = profiles.SNS.api_base_url, profiles.SNS.auth_base_url
    sandbox_api_url, sandbox_auth_url = f"{profiles.SNS.api_base_url}/sandbox", f"{profiles.SNS.api_base_url}/sandbox/v1"
    local_sandbox_api_path, local_sandbox_auth_path = "/psd2/snsbank", "/psd2/snsbank/v1"


class RegioBankProvider(AsnProvider):
    profile = profiles.REGIOBANK
    code, name = "regiobank", "RegioBank"
    iban_bank_codes = ("RBRB",)
    production_api_url, production_auth_url = profiles.REGIOBANK.api_base_url, profiles.REGIOBANK.auth_base_url
    sandbox_api_url = f"{profiles.REGIOBANK.api_base_url}/sandbox"
    sandbox_auth_url = f"{profiles.REGIOBANK.api_base_url}/sandbox/v1"
    local_sandbox_api_path, local_sandbox_auth_path = "/psd2/regiobank", "/psd2/regiobank/v1"


PROVIDERS = {cls.code: cls for cls in (KnabProvider, TriodosProvider, AsnProvider, SnsProvider, RegioBankProvider)}
