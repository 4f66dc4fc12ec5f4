"""ABN AMRO as a :class:`~provider.BankProvider`."""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from . import abnamro_client, abnamro_mapping, abnamro_payments

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import ibans, oauth, paging, provider
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import ibans, oauth, paging, provider

_logger = logging.getLogger(__name__)

SANDBOX_API_URL = "https://api-sandbox.abnamro.com"
PRODUCTION_API_URL = "https://api.abnamro.com"
# *unconfirmed* which OAuth host is current; see bank-protocols.md.
SANDBOX_AUTH_URL = "https://auth-sandbox.connect.abnamro.com"
PRODUCTION_AUTH_URL = "https://auth.connect.abnamro.com"
#: The hosts a production link may talk to: the API and the OAuth host
#: (consent page and token endpoint). The OAuth host is *unconfirmed*.
PRODUCTION_HOSTS = ("api.abnamro.com", "auth.connect.abnamro.com")
TOKEN_PATH = "/as/token.oauth2"
#: ABN AMRO's own OAuth hosts serve the token endpoint on this port (its
#: sandbox documents it; *unconfirmed* for production).
OAUTH_HOST_SUFFIX = ".connect.abnamro.com"
TOKEN_PORT = 8443


def token_url(auth_base_url: str) -> str:
    """ABN AMRO's token endpoint, derived from the authorisation URL.

    The token endpoint lives on the OAuth host of the consent page, only on
    another port at ABN AMRO's own hosts (8443). Deriving it keeps one
    endpoint less on the registration that an administrator could point
    elsewhere: the token request carries the authorization code and refresh
    token, and goes to the host the registration's endpoint check approved.
    A local sandbox serves it on its own port, under the URL's path."""
    parts = urlsplit(auth_base_url.rstrip("/"))
    netloc, path = parts.netloc, parts.path
    if path.endswith(".oauth2"):  # the authorize page itself was configured
        path = path.rsplit("/as/", 1)[0]
    if (parts.hostname or "").endswith(OAUTH_HOST_SUFFIX) and parts.port is None:
        netloc = f"{parts.hostname}:{TOKEN_PORT}"
    return urlunsplit((parts.scheme, netloc, path + TOKEN_PATH, "", ""))


SANDBOX_TOKEN_URL = token_url(SANDBOX_AUTH_URL)


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


@provider.register
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
    # The registration (account.bank.registration): ABN AMRO's hosts and what it needs.
    production_hosts = PRODUCTION_HOSTS
    production_api_url = PRODUCTION_API_URL
    production_auth_url = PRODUCTION_AUTH_URL
    sandbox_api_url = SANDBOX_API_URL
    sandbox_auth_url = SANDBOX_AUTH_URL
    required_settings = ("api_base_url", "auth_base_url", "client_id", "api_key", "tls_certificate", "tls_key")
    config_class = AbnAmroConfig

    @classmethod
    def config_from_settings(cls, settings: Mapping[str, Any]) -> AbnAmroConfig:
        return super().config_from_settings({**settings, "token_url": token_url(settings["auth_base_url"])})

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
        return self._token_set(self.client.token_by_refresh(oauth.refresh_token_of(tokens)), previous=tokens)

    def revoke(self, tokens: provider.TokenSet) -> None:
        """ABN AMRO documents no revocation endpoint for AIS consents; the
        user withdraws the consent in the ABN AMRO app or Internet Banking.
        Forgetting the tokens is all this side can do."""
        _logger.info("ABN AMRO has no revoke call; the consent is withdrawn at the bank")

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
