"""OAuth 2.0 parts every bank's provider shares: the :class:`TokenSet` of a
token endpoint's answer (code exchange and refresh, with and without a
rotating refresh token) and the refresh token a refresh needs.

Plain Python, no Odoo imports.

Why no library (requests-oauthlib, authlib): neither is a dependency yet
(setup/requirements.txt), and what they would standardise is the smallest
part of each bank's token call. The token request itself is a form of four
fields; what differs per bank is everything around it: ING signs the call
(HTTP signature with its application token from a client-credentials call
over mutual TLS), ABN AMRO sends its client id in the form and no secret,
only mutual TLS, Rabobank authenticates with HTTP Basic and signs its API
calls. The transport (mutual TLS, retries with Retry-After, time-outs) is
``bank_http``'s, and a refused code or refresh must become the framework's
typed errors (``InvalidRequestError``, ``ConsentExpiredError``) with the
bank's own error code, which each client reads from its bank's error body.
A library would sit between our session and the bank and take none of that
off our hands; so the clients build the request and this module reads the
answer the same way for every bank.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from typing import Any

from . import provider

_logger = logging.getLogger(__name__)


def expiry(now: datetime.datetime, seconds: Any) -> datetime.datetime | None:
    """``now`` plus ``seconds`` (an ``expires_in``), None when absent or no number."""
    if isinstance(seconds, bool) or seconds in (None, ""):
        return None
    try:
        return now + datetime.timedelta(seconds=int(seconds))
    except (TypeError, ValueError):
        return None


def refresh_token_of(tokens: provider.TokenSet) -> str:
    """The refresh token a refresh sends; without one the consent must be renewed."""
    if not tokens.refresh_token:
        raise provider.ConsentExpiredError("No refresh token stored; the consent must be renewed")
    return tokens.refresh_token


def token_set(
    payload: Mapping[str, Any],
    previous: provider.TokenSet | None = None,
    *,
    now: datetime.datetime,
    rotating: bool = False,
    bank: str = "",
) -> provider.TokenSet:
    """The :class:`TokenSet` of a token endpoint's JSON answer: after a code
    exchange (``previous`` None) or a refresh (``previous`` the tokens it
    refreshed). An answer to a refresh without a refresh token keeps the
    old one and its expiry: ING answers so, its token stays valid; from a
    bank that rotates (``rotating``) it is not expected, and keeping the old
    token is then the only way not to lose the consent outright."""
    refresh_token = payload.get("refresh_token") or None
    refresh_expires_at = expiry(now, payload.get("refresh_token_expires_in"))
    if refresh_token is None and previous is not None:
        if rotating:
            _logger.warning("%s's refresh answer has no new refresh token", bank or "The bank")
        refresh_token = previous.refresh_token
        refresh_expires_at = refresh_expires_at or previous.refresh_expires_at
    scope = payload.get("scope")
    return provider.TokenSet(
        access_token=payload["access_token"],
        refresh_token=refresh_token,
        expires_at=expiry(now, payload.get("expires_in")),
        refresh_expires_at=refresh_expires_at,
        scope=scope if isinstance(scope, str) else None,
        consent_valid_until=previous.consent_valid_until if previous else None,
    )
