"""ING as a :class:`~provider.BankProvider`: glue between client and mapping."""

from __future__ import annotations

import dataclasses
import datetime
import zoneinfo
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from . import ing_client, ing_mapping, ing_payments

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import endpoints, http_signature, oauth, paging, provider
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import endpoints, http_signature, oauth, paging, provider

#: Scopes of the consent: balances and transactions of payment accounts.
AIS_SCOPE = "payment-accounts:balances:view payment-accounts:transactions:view"
PRODUCTION_URL = "https://api.ing.com"
#: The hosts a production link may talk to (bank-protocols.md).
PRODUCTION_HOSTS = ("api.ing.com",)
#: Where ING's API sends the user to give consent in production
#: ("location" of the authorization-server-url call, bank-protocols.md).
PRODUCTION_AUTHORIZATION_HOSTS = ("myaccount.ing.com",)
#: [inferred] the consent page of ING's own sandbox; not confirmed by ING.
SANDBOX_AUTHORIZATION_HOSTS = ("myaccount.sandbox.ing.com",)
AMSTERDAM = zoneinfo.ZoneInfo(provider.BANK_TIMEZONE)
SANDBOX_URL = "https://api.sandbox.ing.com"


@dataclasses.dataclass(frozen=True)
class IngConfig:
    """One ING TPP registration. Holds file paths, never key material."""

    base_url: str
    client_id: str
    #: QWAC certificate and key: mutual TLS.
    tls_cert_path: str
    tls_key_path: str
    #: QSealC certificate and key: HTTP signatures.
    signing_cert_path: str
    signing_key_path: str
    #: ``True``, ``False`` or the path of a CA bundle to trust for ING's host.
    verify: bool | str = True
    #: Seconds per request (connect and read).
    timeout: float = 30.0
    country_code: str = "NL"
    #: Hosts the consent page ING's API names may be on; empty: any https.
    authorization_hosts: tuple[str, ...] = ()


def authorization_hosts(base_url: str, production: bool) -> tuple[str, ...]:
    """Where the consent redirect may go: ING's login host in production;
    in a sandbox also the host of the configured API (the local sandbox
    serves its consent page itself)."""
    if production:
        return PRODUCTION_AUTHORIZATION_HOSTS
    own = endpoints.host(base_url)
    return SANDBOX_AUTHORIZATION_HOSTS + ((own,) if own else ())


@provider.register
class IngProvider(ing_payments.IngPayments, provider.BankProvider):
    code = "ing"
    name = "ING"
    iban_bank_codes = ("INGB",)
    # ING sends the same refresh token again, or none: never rotated.
    rotates_refresh_token = False
    # The registration (account.bank.registration): ING's host and what it needs.
    production_hosts = PRODUCTION_HOSTS
    production_api_url = PRODUCTION_URL
    sandbox_api_url = SANDBOX_URL
    required_settings = ("api_base_url", "tls_certificate", "tls_key", "signing_certificate", "signing_key")
    config_class = IngConfig

    @classmethod
    def config_from_settings(cls, settings: Mapping[str, Any]) -> IngConfig:
        # ING also returns the client id with every application token; the
        # one ING returns wins (ing_client.py).
        base_url = settings["api_base_url"].rstrip("/")
        production = settings.get("environment") == "production"
        return super().config_from_settings(
            {**settings, "base_url": base_url, "authorization_hosts": authorization_hosts(base_url, production)}
        )

    def make_client(self, config: IngConfig, transport: dict[str, Any]) -> ing_client.IngClient:
        signer = http_signature.HttpSigner.from_files(config.signing_key_path, config.signing_cert_path, bank="ING")
        return ing_client.IngClient(base_url=config.base_url, client_id=config.client_id, signer=signer, **transport)

    def __repr__(self) -> str:
        return f"IngProvider(base_url={self.config.base_url!r})"

    # ---------------------------------------------------------------- OAuth

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        location = self.client.authorization_server_location(
            redirect_uri, AIS_SCOPE, self.config.country_code
        )
        # The user's browser goes there with our state and client id: never
        # to a page outside ING's login host, whatever the API answered.
        try:
            endpoints.validate(location, self.config.authorization_hosts)
        except endpoints.EndpointProblem as problem:
            raise provider.ConfigurationError(
                f"ING named a consent page outside its own hosts ({problem.code})"
            ) from problem
        return add_query(
            location,
            {
                "client_id": self.client.client_id,
                "scope": AIS_SCOPE,
                "state": state,
                "redirect_uri": redirect_uri,
                "response_type": "code",
            },
        )

    def exchange_code(self, code: str, redirect_uri: str) -> provider.TokenSet:
        return self._token_set(self.client.token_by_code(code, redirect_uri), previous=None)

    def refresh(self, tokens: provider.TokenSet) -> provider.TokenSet:
        return self._token_set(self.client.token_by_refresh(oauth.refresh_token_of(tokens)), previous=tokens)

    def revoke(self, tokens: provider.TokenSet) -> None:
        if tokens.refresh_token:
            self.client.revoke(tokens.refresh_token)

    # ------------------------------------------------------------------ AIS

    def list_accounts(self, tokens: provider.TokenSet) -> list[provider.BankAccount]:
        response = self.client.ais_get(tokens.access_token, "/v3/accounts", context="accounts")
        payload = ing_client.parse_json(response.content, what="accounts")
        return ing_mapping.map_accounts(payload)

    def fetch_balance(
        self, tokens: provider.TokenSet, account: provider.BankAccount
    ) -> provider.BankBalance | None:
        path = f"/v3/accounts/{_path_segment(account.resource_id)}/balances"
        response = self.client.ais_get(tokens.access_token, path, context="balances")
        return ing_mapping.map_balance(ing_client.parse_json(response.content, what="balances"))

    def fetch_transactions(
        self,
        tokens: provider.TokenSet,
        account: provider.BankAccount,
        date_from: datetime.date,
        date_to: datetime.date,
    ) -> Iterator[provider.TransactionPage]:
        """Pages of booked transactions, following ``_links.next`` to the end.

        ING filters on the UTC execution moment, not on the booking date, so
        the window is widened to cover the whole Amsterdam days (see
        :func:`utc_start_of_local_day`; a date-only ``dateTo`` already runs to
        23:59:59 UTC). A row whose booking date falls just outside
        [date_from, date_to] is passed on, not dropped: dropping it would
        lose it for good, while the framework deduplicates by id.
        """
        if date_from > date_to:
            raise provider.InvalidRequestError(f"Period {date_from} to {date_to} is empty")
        query = urlencode({"dateFrom": utc_start_of_local_day(date_from),
                           "dateTo": date_to.isoformat()})
        url = self.client.url(
            f"/v3/accounts/{_path_segment(account.resource_id)}/transactions?{query}"
        )

        def fetch(url: str, page_number: int) -> tuple[provider.TransactionPage, str | None]:
            what = f"transactions page {page_number}"
            response = self.client.ais_get(tokens.access_token, url, context=what)
            payload = ing_client.parse_json(response.content, what=what)
            href = ing_mapping.next_href(payload)
            next_url = href and paging.same_host_url(
                self.client.base_url, href, bank="ING", page_number=page_number
            )
            return ing_mapping.map_page(payload, response.headers), next_url

        yield from paging.follow(fetch, url, bank="ING", what="next link")


def utc_start_of_local_day(day: datetime.date) -> str:
    """``dateFrom`` for ING: 00:00 in Amsterdam, in UTC.

    A date alone means 00:00 UTC to ING, which is 01:00 or 02:00 in
    Amsterdam: a card payment at 00:30 on ``day`` would fall outside this
    window, and outside the previous one if that was fetched before it
    happened.
    """
    midnight = datetime.datetime.combine(day, datetime.time(0), tzinfo=AMSTERDAM)
    return midnight.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_query(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` added to (or replacing the same keys in) its query."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _path_segment(value: str) -> str:
    return quote(str(value), safe="")
