"""ABN AMRO as a :class:`~provider.BankProvider`."""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Iterator, Mapping
from typing import Any

from . import abnamro_client, abnamro_mapping, abnamro_payments

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import ibans, paging, provider
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import ibans, paging, provider

_logger = logging.getLogger(__name__)

SANDBOX_API_URL = "https://api-sandbox.abnamro.com"
PRODUCTION_API_URL = "https://api.abnamro.com"
# *unconfirmed* which OAuth host is current; see bank-protocols.md.
SANDBOX_AUTH_URL = "https://auth-sandbox.connect.abnamro.com"
SANDBOX_TOKEN_URL = "https://auth-sandbox.connect.abnamro.com:8443/as/token.oauth2"


@dataclasses.dataclass(frozen=True)
class AbnAmroConfig:
    api_base_url: str
    #: Host of the authorize page (``/as/authorization.oauth2`` is appended
    #: unless the URL already ends in ``.oauth2``).
    auth_base_url: str
    token_url: str
    client_id: str
    api_key: str = dataclasses.field(repr=False)
    tls_cert_path: str
    tls_key_path: str
    #: ``True``, ``False`` or the path of a CA bundle.
    verify: bool | str = True
    timeout: float = 30.0


class AbnAmroProvider(abnamro_payments.AbnAmroPayments, provider.BankProvider):
    code = "abnamro"
    name = "ABN AMRO"
    iban_bank_codes = ("ABNA",)
    # ABN AMRO's accounting-package link delivers once a day; one scheduled
    # fetch a day also leaves room for manual ones under the PSD2 limit.
    max_unattended_fetches_per_day = 1
    one_account_per_consent = True
    # Each refresh returns a new refresh token and kills the old one: the
    # framework must persist the returned TokenSet before anything else, and
    # this provider never sends a refresh token twice by itself.
    rotates_refresh_token = True

    def make_client(self, config: AbnAmroConfig, transport: dict[str, Any]) -> abnamro_client.AbnAmroClient:
        return abnamro_client.AbnAmroClient(
            api_base_url=config.api_base_url,
            auth_base_url=config.auth_base_url,
            token_url=config.token_url,
            client_id=config.client_id,
            api_key=config.api_key,
            **transport,
        )

    def __repr__(self) -> str:
        return f"AbnAmroProvider(api_base_url={self.config.api_base_url!r})"

    # ---------------------------------------------------------------- OAuth

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        return self.client.authorization_url(redirect_uri, state)

    def exchange_code(self, code: str, redirect_uri: str) -> provider.TokenSet:
        tokens = self._token_set(self.client.token_by_code(code, redirect_uri), previous=None)
        # The code is spent: a failing consent-info call must not lose the
        # tokens, the validity is then counted from today by the framework.
        try:
            valid_until = self._consent_end(tokens)
        except provider.BankLinkError as error:
            _logger.warning("ABN AMRO consent info after code exchange failed: %s", error)
            return tokens
        return dataclasses.replace(tokens, consent_valid_until=valid_until)

    def refresh(self, tokens: provider.TokenSet) -> provider.TokenSet:
        if not tokens.refresh_token:
            raise provider.ConsentExpiredError("No refresh token stored; the consent must be renewed")
        return self._token_set(self.client.token_by_refresh(tokens.refresh_token), previous=tokens)

    def revoke(self, tokens: provider.TokenSet) -> None:
        """ABN AMRO documents no revocation endpoint for AIS consents; the
        user withdraws the consent in the ABN AMRO app or Internet Banking.
        Forgetting the tokens is all this side can do."""
        _logger.info("ABN AMRO has no revoke call; the consent is withdrawn at the bank")

    def _token_set(
        self, payload: Mapping[str, Any], previous: provider.TokenSet | None
    ) -> provider.TokenSet:
        now = self._now()
        refresh_token = payload.get("refresh_token") or None
        if refresh_token is None and previous is not None:
            # Not expected from a rotating bank; keeping the old token is the
            # only way not to lose the consent outright.
            _logger.warning("ABN AMRO's refresh answer has no new refresh token")
            refresh_token = previous.refresh_token
        expires_in = payload.get("expires_in")
        expires_at = None
        if expires_in not in (None, "") and not isinstance(expires_in, bool):
            try:
                expires_at = now + datetime.timedelta(seconds=int(expires_in))
            except (TypeError, ValueError):
                expires_at = None
        return provider.TokenSet(
            access_token=payload["access_token"],
            refresh_token=refresh_token,
            expires_at=expires_at,
            scope=payload.get("scope") if isinstance(payload.get("scope"), str) else None,
            consent_valid_until=previous.consent_valid_until if previous else None,
        )

    def consent_valid_until(self, tokens: provider.TokenSet) -> datetime.date | None:
        if tokens.consent_valid_until:
            return tokens.consent_valid_until
        return self._consent_end(tokens)

    def _consent_end(self, tokens: provider.TokenSet) -> datetime.date | None:
        """The consent's last day from ``/v1/consentinfo``.

        *unconfirmed*: ABN AMRO's spec calls ``valid`` "time that the token
        is valid"; the protocol doc reads it as the consent's end. A moment
        within a day of the access token's own expiry is taken to be the
        token's, and then the framework counts the consent days itself,
        instead of asking the user to renew a consent every day.
        """
        info = self.client.consent_info(tokens.access_token)
        if not isinstance(info, Mapping):
            raise provider.ProtocolError("ABN AMRO's consent info is not an object")
        valid = info.get("valid")
        end = abnamro_mapping.consent_valid_until(valid)
        if end is None:
            return None
        moment = datetime.datetime.fromtimestamp(int(str(valid).strip().split(".")[0]),
                                                 datetime.UTC)
        token_end = tokens.expires_at or self._now()
        if moment <= token_end + datetime.timedelta(days=1):
            return None
        return end

    # ------------------------------------------------------------------ AIS

    def list_accounts(self, tokens: provider.TokenSet) -> list[provider.BankAccount]:
        info = self.client.consent_info(tokens.access_token)
        if not isinstance(info, Mapping):
            raise provider.ProtocolError("ABN AMRO's consent info is not an object")
        iban = ibans.compact(info.get("iban"))
        details = self.client.account_details(tokens.access_token, iban) if iban else None
        return [abnamro_mapping.map_account(info, details)]

    def fetch_balance(
        self, tokens: provider.TokenSet, account: provider.BankAccount
    ) -> provider.BankBalance | None:
        return abnamro_mapping.map_balance(
            self.client.account_balance(tokens.access_token, account.resource_id)
        )

    def fetch_transactions(
        self,
        tokens: provider.TokenSet,
        account: provider.BankAccount,
        date_from: datetime.date,
        date_to: datetime.date,
    ) -> Iterator[provider.TransactionPage]:
        """Pages of booked transactions, newest first, until no nextPageKey.

        *unconfirmed*: whether ``bookDateFrom``/``bookDateTo`` are inclusive;
        the protocol doc reads them as the period itself and so do we.
        """
        if date_from > date_to:
            raise provider.InvalidRequestError(f"Period {date_from} to {date_to} is empty")

        def fetch(
            next_key: str | None, page_number: int
        ) -> tuple[provider.TransactionPage, str | None]:
            payload = self.client.transactions_page(
                tokens.access_token, account.resource_id, date_from, date_to, next_key,
                context=f"transactions page {page_number}",
            )
            transactions, next_key = abnamro_mapping.map_transactions(payload)
            return provider.TransactionPage(transactions=transactions), next_key

        yield from paging.follow(fetch, bank="ABN AMRO", what="nextPageKey")
