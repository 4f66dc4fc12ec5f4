"""Rabobank as a :class:`~provider.BankProvider` (account information)."""

from __future__ import annotations

import dataclasses
import datetime
import logging
import zoneinfo
from collections.abc import Iterator
from typing import Any

from . import endpoints, rabobank_client, rabobank_mapping, rabobank_payments

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import http_signature, oauth, paging, provider
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import http_signature, oauth, paging, provider

AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")

_logger = logging.getLogger(__name__)

#: ais.transactions.read-90days [C R-ais].
RECENT_DAYS = 90
#: Rabobank gives the full history only once after consent [C R-ais].
NOTICE_HISTORY_SPENT = provider.Notice(provider.NOTICE_HISTORY_SPENT, {"bank": "Rabobank", "days": RECENT_DAYS})


@dataclasses.dataclass(frozen=True)
class RabobankConfig:
    #: ``https://api.rabobank.nl/openapi`` in production (see endpoints.py).
    api_base_url: str
    #: ``https://oauth.rabobank.nl/openapi/oauth2`` in production.
    auth_base_url: str
    client_id: str
    client_secret: str = dataclasses.field(repr=False)
    tls_cert_path: str = ""
    tls_key_path: str = ""
    signing_cert_path: str = ""
    signing_key_path: str = dataclasses.field(default="", repr=False)
    #: ``True``, ``False`` or the path of a CA bundle.
    verify: bool | str = True
    timeout: float = 30.0


@provider.register
class RabobankProvider(rabobank_payments.RabobankPayments, provider.BankProvider):
    code = "rabobank"
    name = "Rabobank"
    consent_days = 180  # [C R-oauth]
    # Inferred: "the whole online-available history" has no published length.
    history_months = 24
    # The refresh answer carries a new refresh token [I Y]; inferred that the old one dies.
    rotates_refresh_token = True
    iban_bank_codes = ("RABO",)
    max_payments_per_order = 1  # single SEPA credit transfers only [I Y]
    # The registration (account.bank.registration): Rabobank's hosts and what it needs.
    production_hosts = endpoints.PRODUCTION_HOSTS
    production_api_url = endpoints.PRODUCTION_API_URL
    production_auth_url = endpoints.PRODUCTION_AUTH_URL
    sandbox_api_url = endpoints.SANDBOX_API_URL
    sandbox_auth_url = endpoints.SANDBOX_AUTH_URL
    local_sandbox_api_path = endpoints.LOCAL_SANDBOX_API_PATH
    local_sandbox_auth_path = endpoints.LOCAL_SANDBOX_AUTH_PATH
    required_settings = ("api_base_url", "auth_base_url", "client_id", "client_secret", "tls_certificate",
                         "tls_key", "signing_certificate", "signing_key")
    config_class = RabobankConfig

    def make_client(self, config: RabobankConfig, transport: dict[str, Any]) -> rabobank_client.RabobankClient:
        # RSA-SHA512 and a SHA-512 Digest [I Y; C R-sign for the digest].
        signer = http_signature.HttpSigner.from_files(
            config.signing_key_path, config.signing_cert_path, digest="SHA-512", bank="Rabobank")
        return rabobank_client.RabobankClient(
            api_base_url=config.api_base_url, auth_base_url=config.auth_base_url,
            client_id=config.client_id, client_secret=config.client_secret, signer=signer, **transport,
        )

    def __repr__(self) -> str:
        return f"RabobankProvider(api_base_url={self.config.api_base_url!r})"

    # ---------------------------------------------------------------- OAuth

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        return self.client.authorization_url(redirect_uri, state)

    def exchange_code(self, code: str, redirect_uri: str) -> provider.TokenSet:
        payload = self.client.token_by_code(code)
        tokens = self._token_set(payload, previous=None)
        consent_id = rabobank_mapping.consent_id_of(payload)
        if not consent_id:
            return tokens
        # The code is spent: a failing details call must not lose the tokens;
        # the framework then counts consent_days itself.
        try:
            until = rabobank_mapping.consent_valid_until(self.client.consent_details(consent_id))
        except provider.BankLinkError as error:
            _logger.warning("Rabobank consent details after code exchange failed: %s", error)
            return tokens
        return dataclasses.replace(tokens, consent_valid_until=until)

    def refresh(self, tokens: provider.TokenSet) -> provider.TokenSet:
        return self._token_set(self.client.token_by_refresh(oauth.refresh_token_of(tokens)), previous=tokens)

    def revoke(self, tokens: provider.TokenSet) -> None:
        """No revocation call is described; the user withdraws the consent in
        Rabo Internet Bankieren [C R-ais]. Forgetting the tokens is all we can do."""
        _logger.info("Rabobank has no revoke call; the consent is withdrawn at the bank")

    # ------------------------------------------------------------------ AIS

    def list_accounts(self, tokens: provider.TokenSet) -> list[provider.BankAccount]:
        return rabobank_mapping.map_accounts(self.client.get("/accounts", tokens.access_token, context="accounts"))

    def fetch_balance(self, tokens: provider.TokenSet, account: provider.BankAccount) -> provider.BankBalance | None:
        payload = self.client.get(f"/accounts/{account.resource_id}/balances", tokens.access_token,
                                  context="balance")
        return rabobank_mapping.map_balance(payload)

    def fetch_transactions(
        self,
        tokens: provider.TokenSet,
        account: provider.BankAccount,
        date_from: datetime.date,
        date_to: datetime.date,
    ) -> Iterator[provider.TransactionPage]:
        """Booked transactions, following ``_links.next``.

        Older than 90 days needs ``ais.transactions.read-history``, which
        works once after consent [C R-ais]: asked for when the period starts
        earlier; when Rabobank refuses the period (spent, or not granted),
        the last 90 days are fetched and the first page says so.
        """
        if date_from > date_to:
            raise provider.InvalidRequestError(f"Period {date_from} to {date_to} is empty")
        recent_from = self._now().astimezone(AMSTERDAM).date() - datetime.timedelta(days=RECENT_DAYS)
        notices: tuple[str, ...] = ()
        adjusted = None
        first_payload = None
        if date_from < recent_from:
            try:
                first_payload = self._page(tokens, account, date_from, date_to, None, 1)
            except provider.InvalidRequestError as error:
                if error.bank_code != "PERIOD_INVALID":
                    raise
                _logger.info("Rabobank refused the history read (%s); fetching the last 90 days", error)
                date_from, adjusted, notices = recent_from, recent_from, (NOTICE_HISTORY_SPENT,)

        def fetch(href: str | None, page_number: int) -> tuple[provider.TransactionPage, str | None]:
            nonlocal first_payload
            if page_number == 1 and first_payload is not None:
                payload, first_payload = first_payload, None
            else:
                payload = self._page(tokens, account, date_from, date_to, href, page_number)
            transactions, next_href = rabobank_mapping.map_transactions(payload)
            if page_number == 1:
                return provider.TransactionPage(transactions, adjusted_date_from=adjusted,
                                                notices=notices), next_href
            return provider.TransactionPage(transactions), next_href

        yield from paging.follow(fetch, bank="Rabobank", what="_links.next")

    def _page(self, tokens: provider.TokenSet, account: provider.BankAccount, date_from: datetime.date,
              date_to: datetime.date, href: str | None, page_number: int) -> Any:
        context = f"transactions page {page_number}"
        if href:
            return self.client.get(href, tokens.access_token, context=context)
        # Inferred: ISO dates (Berlin Group); Yolt sends UTC date-times instead.
        params = {"bookingStatus": "booked", "dateFrom": date_from.isoformat(), "dateTo": date_to.isoformat()}
        return self.client.get(f"/accounts/{account.resource_id}/transactions", tokens.access_token,
                               params, context=context)
