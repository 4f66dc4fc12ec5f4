"""HTTP client for ABN AMRO's PSD2 Account Information API (v1).

Plain Python (no Odoo). Protocol: ``bank-protocols.md``, "ABN AMRO: Account
Information API (PSD2, v1)": OAuth 2 authorization code flow, mutual TLS on
the token endpoint, ``API-Key`` on every call, no HTTP signatures.

Refresh tokens ROTATE: the old one dies when used. This client therefore
never retries a refresh by itself (not after a time-out, not after a 5xx):
sending the same refresh token twice would at best fail and at worst look
like token replay to the bank. The caller (the framework, see
``BankProvider.rotates_refresh_token``) must persist the returned TokenSet
before doing anything else.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urljoin

import requests

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import bank_http, provider
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import bank_http, provider

RetryPolicy = bank_http.RetryPolicy


def parse_json(content: bytes, *, what: str) -> Any:
    return bank_http.parse_json(content, what=what, bank="ABN AMRO")

_logger = logging.getLogger(__name__)

SCOPES = "psd2:account:balance:read psd2:account:transaction:read psd2:account:details:read"
AUTHORIZE_PATH = "/as/authorization.oauth2"

#: errors[].code -> what it means for the framework.
TOKEN_EXPIRED_CODES = {"ERR_2002_002"}
INSUFFICIENT_SCOPE_CODES = {"ERR_3002_003"}
NO_ACCESS_CODES = {"MESSAGE_RST560_0016"}
RATE_LIMIT_CODES = {"ERR_7002_001"}


@dataclasses.dataclass(frozen=True)
class ErrorInfo:
    code: str | None = None
    message: str | None = None
    trace_id: str | None = None


def error_info(response: requests.Response) -> ErrorInfo:
    """The first entry of ``errors[]``, or an OAuth ``error`` body."""
    try:
        body = json.loads(response.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return ErrorInfo()
    if not isinstance(body, dict):
        return ErrorInfo()
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return ErrorInfo(_text(first.get("code")), _text(first.get("message")),
                         _text(first.get("traceId")))
    return ErrorInfo(_text(body.get("error")), _text(body.get("error_description") or body.get("message")))


def _text(value: Any) -> str | None:
    return str(value)[:512] if value not in (None, "") else None


class AbnAmroClient:
    """One ABN AMRO app registration (client id, API key, certificate)."""

    def __init__(
        self,
        *,
        api_base_url: str,
        auth_base_url: str,
        token_url: str,
        client_id: str,
        api_key: str,
        tls_cert_path: str,
        tls_key_path: str,
        verify: bool | str = True,
        timeout: float | tuple[float, float] = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ):
        self.api_base_url = api_base_url.rstrip("/")
        self.auth_base_url = auth_base_url.rstrip("/")
        self.token_url = token_url
        self.client_id = client_id
        self._api_key = api_key
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.session = session or requests.Session()
        self._transport = bank_http.Transport(
            "ABN AMRO", self.session, (tls_cert_path, tls_key_path), verify, timeout, self.retry,
            sleep,
        )

    def __repr__(self) -> str:
        return f"AbnAmroClient(api_base_url={self.api_base_url!r}, client_id={self.client_id!r})"

    # ---------------------------------------------------------------- OAuth

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        base = self.auth_base_url
        if not base.endswith(".oauth2"):
            base += AUTHORIZE_PATH
        query = urlencode({
            "scope": SCOPES,
            "client_id": self.client_id,
            "response_type": "code",
            "flow": "code",
            "redirect_uri": redirect_uri,
            "bank": "NLAA01",
            "state": state,
        })
        return f"{base}?{query}"

    def token_by_code(self, code: str, redirect_uri: str) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "client_id": self.client_id,
            "code": code,
            "redirect_uri": redirect_uri,
        }
        # A code lives 60 seconds and is used once: one attempt only.
        response = self._send("POST", self.token_url, form=form, context="code exchange",
                              retry=False)
        if response.status_code in (400, 401, 403):
            info = error_info(response)
            raise provider.InvalidRequestError(
                "ABN AMRO refused the authorization code; start the consent again"
                + (f": {info.message}" if info.message else ""),
                bank_code=info.code, http_status=response.status_code,
            )
        return self._token_payload(response, "code exchange")

    def token_by_refresh(self, refresh_token: str) -> dict[str, Any]:
        form = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "refresh_token": refresh_token,
        }
        response = self._send("POST", self.token_url, form=form, context="token refresh",
                              retry=False)
        if response.status_code in (400, 401, 403):
            info = error_info(response)
            raise provider.ConsentExpiredError(
                "ABN AMRO refused to refresh the access token; the consent must be renewed"
                + (f": {info.message}" if info.message else ""),
                bank_code=info.code, http_status=response.status_code, reference=info.trace_id,
            )
        return self._token_payload(response, "token refresh")

    def _token_payload(self, response: requests.Response, context: str) -> dict[str, Any]:
        if response.status_code != 200:
            raise self._error(response, context)
        payload = parse_json(response.content, what=context)
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            raise provider.ProtocolError(f"ABN AMRO's {context} answer has no access_token")
        return payload

    # ------------------------------------------------------------------ AIS

    def get(self, access_token: str, path: str, params: Mapping[str, str] | None = None,
            *, context: str) -> Any:
        """A GET on the API; the parsed JSON of a 200 or a typed error."""
        url = urljoin(self.api_base_url + "/", path.lstrip("/"))
        if params:
            url += "?" + urlencode(params)
        response = self._send("GET", url, access_token=access_token, context=context)
        if response.status_code != 200:
            raise self._error(response, context)
        return parse_json(response.content, what=context)

    def consent_info(self, access_token: str) -> Any:
        return self.get(access_token, "/v1/consentinfo", context="consent info")

    def account_details(self, access_token: str, iban: str) -> Any:
        return self.get(access_token, f"/v1/accounts/{quote(iban, safe='')}/details",
                        context="account details")

    def account_balance(self, access_token: str, iban: str) -> Any:
        return self.get(access_token, f"/v1/accounts/{quote(iban, safe='')}/balances",
                        context="balance")

    def transactions_page(
        self,
        access_token: str,
        iban: str,
        book_date_from: datetime.date,
        book_date_to: datetime.date,
        next_page_key: str | None,
        *,
        context: str,
    ) -> Any:
        # ABN AMRO wants the dates again with every nextPageKey.
        params = {"bookDateFrom": book_date_from.isoformat(), "bookDateTo": book_date_to.isoformat()}
        if next_page_key:
            params["nextPageKey"] = next_page_key
        return self.get(access_token, f"/v1/accounts/{quote(iban, safe='')}/transactions",
                        params, context=context)

    # --------------------------------------------------------------- errors

    def _error(self, response: requests.Response, context: str) -> provider.BankLinkError:
        status = response.status_code
        info = error_info(response)
        kwargs = {"bank_code": info.code, "http_status": status, "reference": info.trace_id}
        detail = f": {info.message}" if info.message else ""
        hint = f"{info.code or ''} {info.message or ''}".lower()
        if info.code in TOKEN_EXPIRED_CODES:
            return provider.TokenExpiredError(f"ABN AMRO did not accept the access token{detail}",
                                              **kwargs)
        if info.code in INSUFFICIENT_SCOPE_CODES:
            return provider.AccessDeniedError(
                f"The consent does not include this ({context}): insufficient scope{detail}", **kwargs)
        if info.code in NO_ACCESS_CODES:
            return provider.AccessDeniedError(
                f"The consent gives no access to this account{detail}", **kwargs)
        if info.code in RATE_LIMIT_CODES:
            return provider.RateLimitedError(f"ABN AMRO limits the number of requests{detail}",
                                             retry_after=bank_http.parse_retry_after(
                                                 response.headers.get("Retry-After")), **kwargs)
        if status == 401 and ("api-key" in hint or "certificate" in hint):
            return provider.ConfigurationError(f"ABN AMRO refused our credentials{detail}", **kwargs)
        if status == 401:
            # Also when the consent ended: the refused refresh that follows
            # tells the framework so (ConsentExpiredError).
            return provider.TokenExpiredError(f"ABN AMRO did not accept the access token{detail}",
                                              **kwargs)
        if status == 403 and "consent" in hint and ("revoked" in hint or "withdrawn" in hint):
            return provider.ConsentRevokedError(f"The consent was withdrawn at ABN AMRO{detail}",
                                                **kwargs)
        if status == 403 and "consent" in hint and ("expired" in hint or "ended" in hint):
            return provider.ConsentExpiredError(f"The consent at ABN AMRO has ended{detail}", **kwargs)
        if status in (403, 404):
            return provider.AccessDeniedError(
                f"ABN AMRO refused access ({context}){detail}", **kwargs)
        if status == 400:
            return provider.InvalidRequestError(f"ABN AMRO refused the request ({context}){detail}",
                                                **kwargs)
        if status == 429:
            return provider.RateLimitedError(f"ABN AMRO limits the number of requests{detail}",
                                             retry_after=bank_http.parse_retry_after(
                                                 response.headers.get("Retry-After")), **kwargs)
        if status >= 500:
            return provider.BankUnavailableError(f"ABN AMRO is unavailable ({context}){detail}",
                                                 **kwargs)
        return provider.ProtocolError(f"Unexpected answer from ABN AMRO ({context}){detail}",
                                      **kwargs)

    # ------------------------------------------------------------ transport

    def _send(
        self,
        method: str,
        url: str,
        *,
        form: Mapping[str, str] | None = None,
        access_token: str | None = None,
        context: str,
        retry: bool = True,
        json_body: Any = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """One request; with ``retry`` 429, 5xx and time-outs are tried again."""
        headers = {"API-Key": self._api_key, "Accept": "application/json",
                   **(extra_headers or {})}
        if access_token is not None:
            headers["Authorization"] = f"Bearer {access_token}"
        return self._transport.send(
            method, url, lambda: headers, context=context, retry=retry,
            data=form, json_body=json_body,
        ).response
