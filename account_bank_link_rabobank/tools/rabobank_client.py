"""HTTP client for Rabobank's PSD2 Account Information API (4.0.x).

Plain Python (no Odoo). Facts: ``../shared/specs/rabobank/NOTES.md`` (tags
[C] confirmed by Rabobank, [I] inferred from Yolt's client). In short: OAuth 2
authorization code with HTTP Basic client authentication at the token
endpoint; every call with the QWAC (mutual TLS), ``X-IBM-Client-Id`` and a
draft-cavage signature made with the QSealC (RSA-SHA512, keyId = the
certificate's serial in decimal, headers ``date digest x-request-id``).

Refresh answers carry a new refresh token (Yolt's stub) and this client
treats the old one as spent (inferred): a refresh is never retried by itself.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import requests

from . import endpoints

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import (
        bank_http,
        http_signature,
        paging,
        provider,
    )
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import bank_http, http_signature, paging, provider


BANK = "Rabobank"
RetryPolicy = bank_http.RetryPolicy
SCOPES = "ais.balances.read ais.transactions.read-90days ais.transactions.read-history"  # [C R-ais]
#: Signed headers of AIS and consent-details calls, in this order [I Y SigningUtil].
SIGNED_HEADERS = ("date", "digest", "x-request-id")
#: Gateway text Yolt treats as a passing token-synchronisation fault [I Y].
UNVERIFIED_TEXT = "could not verify that you are authorized"

TOKEN_CODES = {"TOKEN_INVALID", "TOKEN_EXPIRED"}
CONSENT_EXPIRED_CODES = {"CONSENT_EXPIRED"}
CONSENT_INVALID_CODES = {"CONSENT_INVALID", "CONSENT_UNKNOWN"}
CONFIGURATION_CODES = {"CERTIFICATE_INVALID", "SIGNATURE_INVALID", "CERTIFICATE_MISSING",
                       "SIGNATURE_MISSING"}


def parse_json(content: bytes, *, what: str) -> Any:
    return bank_http.parse_json(content, what=what, bank=BANK)


def error_info(response: requests.Response) -> tuple[str | None, str | None]:
    """(code, text) of a Berlin Group ``tppMessages`` body, an IBM gateway
    body (``httpCode``/``moreInformation``) or an OAuth error."""
    try:
        body = json.loads(response.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, None
    if not isinstance(body, dict):
        return None, None
    messages = body.get("tppMessages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        return _text(messages[0].get("code")), _text(messages[0].get("text"))
    if "httpCode" in body:
        return None, _text(body.get("moreInformation") or body.get("httpMessage"))
    return _text(body.get("error")), _text(body.get("error_description"))


def _text(value: Any) -> str | None:
    return str(value)[:512] if value not in (None, "") else None


class RabobankClient:
    """One Rabobank app registration: client id and secret, QWAC, QSealC."""

    def __init__(
        self,
        *,
        api_base_url: str,
        auth_base_url: str,
        client_id: str,
        client_secret: str,
        tls_cert_path: str,
        tls_key_path: str,
        signer: http_signature.HttpSigner,
        verify: bool | str = True,
        timeout: float | tuple[float, float] = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ):
        self.api_base_url = api_base_url.rstrip("/")
        self.auth_base_url = auth_base_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.signer = signer
        self.retry = retry or RetryPolicy()
        self.session = session or requests.Session()
        # The framework's transport: mTLS per request, time-outs, retries.
        self._transport = bank_http.Transport(BANK, self.session, (tls_cert_path, tls_key_path), verify,
                                              timeout, self.retry, sleep)

    def __repr__(self) -> str:
        return f"RabobankClient(api_base_url={self.api_base_url!r}, client_id={self.client_id!r})"

    # ---------------------------------------------------------------- OAuth

    def authorization_url(self, redirect_uri: str, state: str, scope: str = SCOPES) -> str:
        query = urlencode({"response_type": "code", "client_id": self.client_id, "scope": scope,
                           "redirect_uri": redirect_uri, "state": state})
        return f"{self.auth_base_url}{endpoints.AUTHORIZE_PATH}?{query}"

    def token_by_code(self, code: str) -> dict[str, Any]:
        # No redirect_uri: Yolt sends none [I Y]. A code is used once: one attempt.
        return self._token({"grant_type": "authorization_code", "code": code}, "code exchange",
                           provider.InvalidRequestError,
                           "Rabobank refused the authorization code; start the consent again")

    def token_by_refresh(self, refresh_token: str) -> dict[str, Any]:
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token},
                           "token refresh", provider.ConsentExpiredError,
                           "Rabobank refused to refresh the access token; the consent must be renewed")

    def _token(self, form: Mapping[str, str], context: str, refused: type, message: str) -> dict[str, Any]:
        response = self._send("POST", self.auth_base_url + endpoints.TOKEN_PATH, context=context,
                              form=form, retry=False)
        if response.status_code == 401:
            code, text = error_info(response)
            raise provider.ConfigurationError(
                f"Rabobank refused our client id or secret ({context})" + (f": {text}" if text else ""),
                bank_code=code, http_status=401)
        if response.status_code in (400, 403):
            code, text = error_info(response)
            raise refused(message + (f": {text}" if text else ""), bank_code=code,
                          http_status=response.status_code)
        if response.status_code != 200:
            raise self._error(response, context)
        payload = parse_json(response.content, what=context)
        if not isinstance(payload, dict) or not isinstance(payload.get("access_token"), str):
            raise provider.ProtocolError(f"Rabobank's {context} answer has no access_token")
        return payload

    # ------------------------------------------------------------------ AIS

    def get(self, path_or_href: str, access_token: str | None, params: Mapping[str, str] | None = None,
            *, context: str, base: str | None = None) -> Any:
        """A signed GET; ``path_or_href`` is relative to ``base`` (default the
        AIS base, which is also what ``_links`` hrefs are relative to [I Y])."""
        root = base or self.api_base_url + endpoints.AIS_PATH
        if path_or_href.startswith("/"):
            url = root + path_or_href
        else:  # an absolute href must stay on the bank's host (it gets our token)
            url = paging.same_host_url(root, path_or_href, bank=BANK, page_number=0)
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        response = self._send("GET", url, context=context, access_token=access_token)
        if response.status_code != 200:
            raise self._error(response, context)
        return parse_json(response.content, what=context)

    def consent_details(self, consent_id: str) -> Any:
        """Signed, with X-IBM-Client-Id and no bearer token [I Y]."""
        path = endpoints.CONSENT_DETAILS_PATH.format(consent_id=consent_id)
        return self.get(path, None, context="consent details", base=self.api_base_url)

    # --------------------------------------------------------------- errors

    def _error(self, response: requests.Response, context: str) -> provider.BankLinkError:
        status = response.status_code
        code, text = error_info(response)
        kwargs = {"bank_code": code, "http_status": status}
        detail = f": {text}" if text else ""
        retry_after = bank_http.parse_retry_after(response.headers.get("Retry-After"))
        if code in CONFIGURATION_CODES or (status == 401 and "certificate" in (text or "").lower()) \
                or (status == 401 and "client id" in (text or "").lower()):
            return provider.ConfigurationError(f"Rabobank refused our certificate, signature or "
                                               f"client id ({context}){detail}", **kwargs)
        if status == 401 and UNVERIFIED_TEXT in (text or "").lower():
            # Yolt: a synchronisation fault at Rabobank, passes by itself [I Y].
            return provider.BankUnavailableError(f"Rabobank could not check the token yet ({context}){detail}",
                                                 **kwargs)
        if code in TOKEN_CODES or status == 401:
            return provider.TokenExpiredError(f"Rabobank did not accept the access token{detail}", **kwargs)
        if code in CONSENT_EXPIRED_CODES:
            return provider.ConsentExpiredError(f"The consent at Rabobank has ended{detail}", **kwargs)
        if status == 403 and code in CONSENT_INVALID_CODES and "no longer valid" in (text or "").lower():
            return provider.ConsentRevokedError(f"The consent was withdrawn at Rabobank{detail}", **kwargs)
        if status in (403, 404):
            return provider.AccessDeniedError(f"Rabobank refused access ({context}){detail}", **kwargs)
        if status == 400:
            return provider.InvalidRequestError(f"Rabobank refused the request ({context}){detail}", **kwargs)
        if status == 429:
            return provider.RateLimitedError(f"Rabobank limits the number of requests{detail}",
                                             retry_after=retry_after, **kwargs)
        if status >= 500:
            return provider.BankUnavailableError(f"Rabobank is unavailable ({context}){detail}", **kwargs)
        return provider.ProtocolError(f"Unexpected answer from Rabobank ({context}){detail}", **kwargs)

    # ------------------------------------------------------------ transport

    def _headers(self, method: str, url: str, body: bytes, access_token: str | None,
                 extra: Mapping[str, str] | None = None, signed: tuple[str, ...] = SIGNED_HEADERS) -> dict[str, str]:
        headers = {"Accept": "application/json", "X-IBM-Client-Id": self.client_id,
                   "X-Request-ID": str(uuid.uuid4()),
                   "TPP-Signature-Certificate": self.signer.certificate_base64_der, **(extra or {})}
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        return self.signer.signed_headers(self.signer.serial_decimal, method, url, body, signed, headers)

    def _send(self, method: str, url: str, *, context: str, form: Mapping[str, str] | None = None,
              access_token: str | None = None, retry: bool = True, json_body: Any = None,
              extra_headers: Mapping[str, str] | None = None,
              signed: tuple[str, ...] = SIGNED_HEADERS) -> requests.Response:
        """One request, signed unless it goes to the token endpoint (HTTP Basic
        there [I Y]); with ``retry`` 429, 5xx and time-outs are tried again
        (a new signature each time)."""
        if form is not None:
            body = urlencode(form).encode()
            basic = base64.b64encode(f"{self.client_id}:{self._client_secret}".encode()).decode()

            def headers() -> dict[str, str]:
                return {"Accept": "application/json", "Authorization": f"Basic {basic}",
                        "Content-Type": "application/x-www-form-urlencoded"}
        else:
            body = json.dumps(json_body, separators=(",", ":")).encode() if json_body is not None else b""

            def headers() -> dict[str, str]:
                return self._headers(method, url, body, access_token, extra_headers, signed)

        return self._transport.send(method, url, headers, context=context, retry=retry, data=body or None).response
