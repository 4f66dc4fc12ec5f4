"""bunq as a :class:`~provider.BankProvider` (account information).

How bunq's API context fits the framework's :class:`~provider.TokenSet`:

* ``access_token``: the whole API context as JSON (our key pair,
  installation token, bunq's public key, the customer's API key, the
  session token and its expiry). Stored as the framework's secrets
  (admin-only fields), never logged;
* ``refresh_token``: the customer's OAuth access token, which is bunq's
  long-lived API key for the grant [C B-doc];
* ``expires_at``: the session's end. When it is near or bunq ends the
  session (401), the framework calls :meth:`BunqProvider.refresh`, which
  opens a new session on the same installation; nothing rotates.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import requests

from . import bunq_client, bunq_mapping, bunq_payments, endpoints

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import paging, provider
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import paging, provider

_logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class BunqConfig:
    #: ``https://api.bunq.com/v1`` in production (see endpoints.py).
    api_base_url: str
    authorize_url: str
    token_url: str
    #: The OAuth client of our PSD2 registration.
    client_id: str
    client_secret: str = dataclasses.field(repr=False)
    #: ``True``, ``False`` or the path of a CA bundle.
    verify: bool | str = True
    timeout: float = 30.0
    #: IPs bunq may accept the customer's key from; ``("*",)`` for a server
    #: whose address changes [C B-doc]. None: the calling IP.
    permitted_ips: tuple[str, ...] | None = None
    #: Payments per page (bunq's maximum, 200, is the fewest calls) [C B-doc].
    page_count: int = bunq_client.MAX_COUNT


class BunqProvider(bunq_payments.BunqPayments, provider.BankProvider):
    code = "bunq"
    name = "bunq"
    # Inferred: bunq describes no end of an OAuth grant; PSD2's 180 days of
    # access without new customer authentication are assumed.
    consent_days = 180
    # Inferred: bunq lists every payment of an account; no limit is published.
    history_months = 24
    # Sessions are renewed, nothing is rotated: the API key stays.
    rotates_refresh_token = False
    iban_bank_codes = ("BUNQ",)
    # The registration (account.bank.registration): bunq's hosts and what it
    # needs. ``api_base_url`` is the API, ``auth_base_url`` the OAuth page the
    # customer opens; the token endpoint follows from them (token_url_for).
    production_hosts = endpoints.PRODUCTION_HOSTS
    production_api_url = endpoints.PRODUCTION_API_URL
    production_auth_url = endpoints.PRODUCTION_AUTHORIZE_URL
    sandbox_api_url = endpoints.SANDBOX_API_URL
    sandbox_auth_url = endpoints.SANDBOX_AUTHORIZE_URL
    local_sandbox_api_path = endpoints.LOCAL_SANDBOX_API_PATH
    local_sandbox_auth_path = endpoints.LOCAL_SANDBOX_AUTH_PATH
    required_settings = ("api_base_url", "auth_base_url", "client_id", "client_secret")

    def __init__(
        self,
        config: BunqConfig,
        *,
        retry: bunq_client.RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        now: Callable[[], datetime.datetime] | None = None,
        link_tokens: Callable[[], provider.TokenSet] | None = None,
    ):
        self.config = config
        #: The link's tokens for payments (bunq_payments.py), renewed when needed.
        self.link_tokens = link_tokens
        self._now = now or (lambda: datetime.datetime.now(datetime.UTC))
        self.client = bunq_client.BunqClient(
            api_base_url=config.api_base_url, authorize_url=config.authorize_url, token_url=config.token_url,
            client_id=config.client_id, client_secret=config.client_secret, permitted_ips=config.permitted_ips,
            verify=config.verify, timeout=config.timeout, retry=retry, sleep=sleep, session=session, now=self._now,
        )

    def __repr__(self) -> str:
        return f"BunqProvider(api_base_url={self.config.api_base_url!r})"

    # ---------------------------------------------------------------- tokens
    def _token_set(self, context: bunq_client.BunqContext) -> provider.TokenSet:
        return provider.TokenSet(access_token=context.to_json(), refresh_token=context.api_key,
                                 expires_at=context.session_expires_at, scope=context.user_type)

    def context_of(self, tokens: provider.TokenSet) -> bunq_client.BunqContext:
        """The stored context; a session about to end is refused here
        (the framework then renews it through :meth:`refresh`)."""
        context = bunq_client.BunqContext.from_json(tokens.access_token)
        if not context.session_valid(self._now()):
            raise provider.TokenExpiredError("bunq's session has ended; a new one is opened")
        return context

    # ---------------------------------------------------------------- OAuth
    def authorization_url(self, redirect_uri: str, state: str) -> str:
        return self.client.authorization_url(redirect_uri, state)

    def exchange_code(self, code: str, redirect_uri: str) -> provider.TokenSet:
        access_token = self.client.token_by_code(code, redirect_uri)
        # The access token is an API key: a new API context for it [C B-doc].
        return self._token_set(self.client.create_context(access_token))

    def refresh(self, tokens: provider.TokenSet) -> provider.TokenSet:
        try:
            context = bunq_client.BunqContext.from_json(tokens.access_token)
        except provider.ConfigurationError:
            if not tokens.refresh_token:
                raise provider.ConsentExpiredError("No bunq API key stored; the consent must be renewed") from None
            return self._token_set(self.client.create_context(tokens.refresh_token))
        return dataclasses.replace(self._token_set(self.client.renew(context)),
                                   consent_valid_until=tokens.consent_valid_until)

    def revoke(self, tokens: provider.TokenSet) -> None:
        """Ends the session (best effort). The grant itself is withdrawn by
        the customer in the bunq app: no call for a third party is described."""
        try:
            self.client.end_session(bunq_client.BunqContext.from_json(tokens.access_token))
        except provider.BankLinkError as error:
            _logger.info("Ending the bunq session failed (%s); the grant is withdrawn in the bunq app", error)

    # ------------------------------------------------------------------ AIS
    def _accounts_payload(self, context: bunq_client.BunqContext) -> Any:
        path = endpoints.MONETARY_ACCOUNTS_PATH.format(user_id=context.user_id)
        return self.client.get(context, path, {"count": bunq_client.MAX_COUNT}, what="accounts")

    def list_accounts(self, tokens: provider.TokenSet) -> list[provider.BankAccount]:
        context = self.context_of(tokens)
        return bunq_mapping.map_accounts(bunq_client.listed(self._accounts_payload(context), "accounts"))

    def fetch_balance(self, tokens: provider.TokenSet, account: provider.BankAccount) -> provider.BankBalance | None:
        """bunq has no balance call: the account's own ``balance`` [C B-doc]."""
        context = self.context_of(tokens)
        path = endpoints.MONETARY_ACCOUNT_PATH.format(user_id=context.user_id, account_id=account.resource_id)
        rows = bunq_client.listed(self.client.get(context, path, what="balance"), "balance")
        if not rows:
            return None
        today = self._now().astimezone(bunq_mapping.AMSTERDAM).date()
        return bunq_mapping.map_balance(*rows[0], today=today)

    def fetch_transactions(
        self,
        tokens: provider.TokenSet,
        account: provider.BankAccount,
        date_from: datetime.date,
        date_to: datetime.date,
    ) -> Iterator[provider.TransactionPage]:
        """Payments newest first, walking ``Pagination.older_url`` back in
        time [C B-doc] until a page reaches before ``date_from`` (bunq's
        listing has no date filter) or there is no older page."""
        if date_from > date_to:
            raise provider.InvalidRequestError(f"Period {date_from} to {date_to} is empty")
        context = self.context_of(tokens)
        first = endpoints.PAYMENTS_PATH.format(user_id=context.user_id, account_id=account.resource_id)
        count = max(1, min(self.config.page_count, bunq_client.MAX_COUNT))

        def fetch(url: str | None, page_number: int) -> tuple[provider.TransactionPage, str | None]:
            what = f"payments page {page_number}"
            payload = (self.client.get(context, url, what=what) if url
                       else self.client.get(context, first, {"count": count}, what=what))
            transactions = bunq_mapping.map_payments(bunq_client.listed(payload, what))
            in_window = [tx for tx in transactions if date_from <= tx.booking_date <= date_to]
            reached_start = any(tx.booking_date < date_from for tx in transactions)
            following = None if reached_start or not transactions else bunq_mapping.older_url(payload)
            return provider.TransactionPage(in_window), following

        yield from paging.follow(fetch, bank="bunq", what="Pagination.older_url")
