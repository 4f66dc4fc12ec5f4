"""HTTP client for ING's PSD2 APIs: mutual TLS, HTTP Signatures, OAuth 2.

Plain Python (no Odoo). Speaks the protocol described in
``bank-protocols.md`` ("ING: PSD2 Account Information API (AIS v3)"):

* every call goes over mutual TLS with the QWAC certificate;
* the application token (client credentials) is signed with the QSealC key
  (``keyId="SN=<serial>"``) and carries the certificate in
  ``TPP-Signature-Certificate``;
* every later call carries ``Authorization: Bearer`` plus a ``Signature``
  header whose keyId is the client id.

Answers come back as parsed JSON (floats as :class:`~decimal.Decimal`);
failures as the typed errors of ``provider.py``. Transient failures (429,
5xx, time-outs) are retried here with a capped exponential backoff, so the
framework only sees them once the bank keeps failing.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

import requests

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import (
        bank_http,
        http_signature,
        provider,
    )
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import bank_http, http_signature, provider

RetryPolicy = bank_http.RetryPolicy
parse_retry_after = bank_http.parse_retry_after


def parse_json(content: bytes, *, what: str) -> Any:
    return bank_http.parse_json(content, what=what, bank="ING")

_logger = logging.getLogger(__name__)

TOKEN_PATH = "/oauth2/token"
REVOKE_PATH = "/oauth2/token/revoke"
AUTHORIZATION_SERVER_URL_PATH = "/oauth2/authorization-server-url"

#: Headers ING requires in the signature of the client-credentials call and
#: of the other OAuth calls (OAuth 2.0 API spec v2.3.5).
OAUTH_SIGNED_HEADERS = ("(request-target)", "date", "digest")
#: Headers ING requires in the signature of AIS calls (AIS spec v3.1.5).
AIS_SIGNED_HEADERS = ("(request-target)", "date", "digest", "x-request-id")

#: Seconds before its expiry at which a cached application token is renewed,
#: so that it cannot expire between our check and ING's.
APP_TOKEN_MARGIN = 60


# --------------------------------------------------------------------------
# JSON and error bodies
# --------------------------------------------------------------------------


def error_details(response: requests.Response) -> tuple[str | None, str | None]:
    """(code, text) from a ``tppMessages`` or OAuth ``message`` error body."""
    try:
        body = json.loads(response.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, None
    if not isinstance(body, dict):
        return None, None
    messages = body.get("tppMessages")
    if isinstance(messages, list) and messages:
        errors = [m for m in messages if isinstance(m, dict)]
        first = next((m for m in errors if m.get("category") == "ERROR"), errors[0] if errors else {})
        return _text(first.get("code")), _text(first.get("text"))
    if "message" in body or "error" in body:
        code = _text(body.get("error"))
        text = _text(body.get("message")) or _text(body.get("error_description"))
        return code, text
    return None, None


def _text(value: Any) -> str | None:
    return str(value)[:512] if value not in (None, "") else None


# --------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------


class _AppToken:
    """The cached application (client-credentials) token; repr hides it."""

    __slots__ = ("value", "expires_at", "client_id")

    def __init__(self, value: str, expires_at: float, client_id: str | None):
        self.value = value
        self.expires_at = expires_at
        self.client_id = client_id

    def __repr__(self) -> str:
        return "_AppToken(<hidden>)"


class IngClient:
    """One ING TPP registration (client id + certificates) on one host."""

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        tls_cert_path: str,
        tls_key_path: str,
        signer: http_signature.HttpSigner,
        verify: bool | str = True,
        timeout: float | tuple[float, float] = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.signer = signer
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._monotonic = monotonic
        self._app_token: _AppToken | None = None
        self.session = session or requests.Session()
        # Passed with every request, not set on the session: requests lets
        # REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's verify.
        self._cert = (tls_cert_path, tls_key_path)
        self._verify = verify

    def __repr__(self) -> str:
        return f"IngClient(base_url={self.base_url!r}, client_id={self.client_id!r})"

    def url(self, path_or_url: str) -> str:
        """Absolute URL of a path or of an ``href`` that may be relative."""
        return urljoin(self.base_url + "/", path_or_url)

    # ---------------------------------------------------------------- OAuth

    def application_token(self) -> str:
        """A valid application token, fetched again shortly before expiry."""
        token = self._app_token
        if token is None or self._monotonic() >= token.expires_at - APP_TOKEN_MARGIN:
            token = self._request_application_token()
            self._app_token = token
        return token.value

    def _request_application_token(self) -> _AppToken:
        body = urlencode({"grant_type": "client_credentials"}).encode("ascii")
        url = self.url(TOKEN_PATH)

        def headers() -> dict[str, str]:
            return self.signer.signed_headers(
                self.signer.key_serial_id, "POST", url, body, OAUTH_SIGNED_HEADERS,
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "application/json",
                    "TPP-Signature-Certificate": self.signer.certificate_one_line,
                },
                header="Authorization", prefix="Signature ",
            )

        response = self._send("POST", url, headers, body, context="application token")
        if response.status_code != 200:
            code, text = error_details(response)
            if response.status_code in (400, 401, 403):
                raise provider.ConfigurationError(
                    "ING refused the application's certificate or client id"
                    + (f": {text}" if text else ""),
                    bank_code=code,
                    http_status=response.status_code,
                )
            raise self._unexpected(response, "application token")
        payload = parse_json(response.content, what="application token")
        access_token = _required_str(payload, "access_token", "application token")
        expires_in = _int_or(payload.get("expires_in"), 900)
        client_id = payload.get("client_id") if isinstance(payload.get("client_id"), str) else None
        if client_id and client_id != self.client_id:
            # eIDAS onboarding without the developer portal: ING derives the
            # client id from the certificate and tells it here; later
            # signatures and the consent URL must use this one.
            _logger.info("ING assigned client id %s (configured: %s)", client_id,
                         self.client_id or "none")
            self.client_id = client_id
        return _AppToken(access_token, self._monotonic() + expires_in, client_id)

    def authorization_server_location(
        self, redirect_uri: str, scope: str, country_code: str = "NL"
    ) -> str:
        """The ``location`` where the user grants the consent (without the
        OAuth parameters, which the caller appends)."""
        query = urlencode(
            {"scope": scope, "redirect_uri": redirect_uri, "country_code": country_code},
            quote_via=quote,
        )
        response = self._app_call("GET", f"{AUTHORIZATION_SERVER_URL_PATH}?{query}", None,
                                  context="authorization server url")
        if response.status_code != 200:
            code, text = error_details(response)
            if response.status_code == 400:
                raise provider.InvalidRequestError(
                    "ING refused the consent request" + (f": {text}" if text else ""),
                    bank_code=code, http_status=400,
                )
            raise self._unexpected(response, "authorization server url")
        payload = parse_json(response.content, what="authorization server url")
        return _required_str(payload, "location", "authorization server url")

    def token_by_code(self, code: str, redirect_uri: str) -> dict[str, Any]:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        # One attempt: a code is single-use, and presenting it again after a
        # lost answer makes the bank revoke what the first use produced.
        response = self._app_call("POST", TOKEN_PATH, form, context="code exchange", retry=False)
        if response.status_code in (400, 401, 403):
            bank_code, text = error_details(response)
            raise provider.InvalidRequestError(
                "ING refused the authorization code; start the consent again"
                + (f": {text}" if text else ""),
                bank_code=bank_code, http_status=response.status_code,
            )
        return self._token_payload(response, "code exchange")

    def token_by_refresh(self, refresh_token: str) -> dict[str, Any]:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        response = self._app_call("POST", TOKEN_PATH, form, context="token refresh")
        if response.status_code in (400, 401, 403):
            bank_code, text = error_details(response)
            raise provider.ConsentExpiredError(
                "ING refused to refresh the access token; the consent must be renewed"
                + (f": {text}" if text else ""),
                bank_code=bank_code, http_status=response.status_code,
            )
        return self._token_payload(response, "token refresh")

    def revoke(self, refresh_token: str) -> None:
        form = {"token": refresh_token, "token_type_hint": "refresh_token"}
        response = self._app_call("POST", REVOKE_PATH, form, context="revoke")
        if response.status_code in (200, 204):
            return
        bank_code, text = error_details(response)
        if response.status_code == 400:
            # ING answers 400 for a token it no longer knows: nothing left to
            # revoke, which is what the caller wanted.
            _logger.info("ING revoke: token unknown at the bank (%s)", bank_code or text)
            return
        raise self._unexpected(response, "revoke")

    def _token_payload(self, response: requests.Response, context: str) -> dict[str, Any]:
        if response.status_code != 200:
            raise self._unexpected(response, context)
        payload = parse_json(response.content, what=context)
        _required_str(payload, "access_token", context)
        return payload

    def _app_call(
        self, method: str, path: str, form: Mapping[str, str] | None, *, context: str,
        retry: bool = True,
    ) -> requests.Response:
        """A call authorised by the application token; renews that token once
        when ING says it is no longer valid (ING may forget it before expiry)."""
        body = urlencode(form).encode("ascii") if form is not None else b""
        url = self.url(path)
        for attempt in (1, 2):
            app_token = self.application_token()

            def headers() -> dict[str, str]:
                extra = {"Authorization": f"Bearer {app_token}", "Accept": "application/json"}
                if form is not None:
                    extra["Content-Type"] = "application/x-www-form-urlencoded"
                return self.signer.signed_headers(
                    self.client_id, method, url, body, OAUTH_SIGNED_HEADERS, extra
                )

            response = self._send(method, url, headers, body if form is not None else None,
                                  context=context, retry=retry)
            if response.status_code == 401 and attempt == 1:
                # Renewing the application token is harmless for ING (its
                # refresh tokens do not rotate); a second 401 is the answer.
                self._app_token = None
                continue
            return response
        return response

    # ------------------------------------------------------------------ AIS

    def ais_get(self, access_token: str, path_or_url: str, *, context: str) -> requests.Response:
        """A signed AIS GET; returns the 200 response or raises a typed error."""
        url = self.url(path_or_url)
        if not self.client_id:
            # The keyId of AIS signatures is the client id, which ING hands
            # out with the application token when none was configured:
            # signing with an empty one costs a refused call and a refresh.
            self.application_token()

        def headers() -> dict[str, str]:
            return self.signer.signed_headers(
                self.client_id, "GET", url, b"", AIS_SIGNED_HEADERS,
                {
                    "Authorization": f"Bearer {access_token}",
                    "X-Request-ID": str(uuid.uuid4()),
                    "Accept": "application/json",
                },
            )

        response = self._send("GET", url, headers, None, context=context)
        if response.status_code != 200:
            raise self._ais_error(response, context)
        return response

    def _ais_error(self, response: requests.Response, context: str) -> provider.BankLinkError:
        status = response.status_code
        code, text = error_details(response)
        reference = response.headers.get("X-Request-ID")
        detail = f": {text}" if text else ""
        kwargs = {"bank_code": code, "http_status": status, "reference": reference}
        if status == 401:
            # Also when the consent ended: the framework then refreshes, and
            # the refused refresh says ConsentExpiredError. Guessing from the
            # text here would turn a plain expiry into a lost consent.
            return provider.TokenExpiredError(f"ING did not accept the access token{detail}", **kwargs)
        if status == 403:
            hint = f"{code or ''} {text or ''}".lower()
            if "consent" in hint and ("revoked" in hint or "withdrawn" in hint):
                return provider.ConsentRevokedError(f"The consent was withdrawn at ING{detail}", **kwargs)
            if "consent" in hint and ("expired" in hint or "ended" in hint):
                return provider.ConsentExpiredError(f"The consent at ING has ended{detail}", **kwargs)
            return provider.AccessDeniedError(
                f"The consent does not give access to this at ING ({context}){detail}", **kwargs
            )
        if status == 404:
            return provider.AccessDeniedError(
                f"ING does not know this account, or the consent does not cover it{detail}",
                **kwargs,
            )
        if status in (400, 405, 406):
            return provider.InvalidRequestError(f"ING refused the request ({context}){detail}",
                                                **kwargs)
        return self._unexpected(response, context)

    def _unexpected(self, response: requests.Response, context: str) -> provider.BankLinkError:
        code, text = error_details(response)
        return provider.ProtocolError(
            f"Unexpected answer from ING ({context})" + (f": {text}" if text else ""),
            bank_code=code,
            http_status=response.status_code,
            reference=response.headers.get("X-Request-ID"),
        )

    # ------------------------------------------------------------ transport

    def _send(
        self,
        method: str,
        url: str,
        headers: Callable[[], dict[str, str]],
        body: bytes | None,
        *,
        context: str,
        retry: bool = True,
    ) -> requests.Response:
        """One request with retries on 429, 5xx and time-outs (unless not ``retry``).

        ``headers`` is called again for every attempt: Date, X-Request-ID and
        the signature must be fresh. Returns any other response as it is.
        """
        max_attempts = self.retry.max_attempts if retry else 1
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.session.request(
                    method, url, data=body, headers=headers(), timeout=self.timeout,
                    cert=self._cert, verify=self._verify, allow_redirects=False,
                )
            except requests.exceptions.SSLError as error:
                raise provider.ConfigurationError(
                    f"TLS with ING failed ({context}); check the certificates: {error}"
                ) from None
            except (requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError):
                raise provider.ProtocolError(f"ING's answer was cut short ({context})") from None
            except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as error:
                if attempt >= max_attempts:
                    raise provider.BankUnavailableError(
                        f"ING did not answer ({context}) after {attempt} attempt(s): "
                        f"{type(error).__name__}"
                    ) from None
                self._wait(attempt, None, context, type(error).__name__)
                continue
            except (requests.exceptions.RequestException, OSError) as error:
                # Bad URL, unreadable certificate or key file, ...: ours to fix.
                raise provider.ConfigurationError(
                    f"Cannot call ING ({context}): {type(error).__name__}: {error}"
                ) from None
            _logger.debug("ING %s %s -> %s", method, urlsplit(url).path, response.status_code)
            if response.status_code == 429 or response.status_code >= 500:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                too_long = retry_after is not None and retry_after > self.retry.max_delay
                if attempt >= max_attempts or too_long:
                    raise self._transient_error(response, context, retry_after, attempt)
                self._wait(attempt, retry_after, context, str(response.status_code))
                continue
            return response

    def _wait(self, attempt: int, retry_after: float | None, context: str, why: str) -> None:
        delay = self.retry.delay(attempt, retry_after)
        _logger.info("ING %s: %s, attempt %d, retrying in %.1f s", context, why, attempt, delay)
        self._sleep(delay)

    def _transient_error(
        self, response: requests.Response, context: str, retry_after: float | None, attempt: int
    ) -> provider.BankLinkError:
        code, text = error_details(response)
        kwargs = {
            "bank_code": code,
            "http_status": response.status_code,
            "reference": response.headers.get("X-Request-ID"),
        }
        detail = f": {text}" if text else ""
        if response.status_code == 429:
            return provider.RateLimitedError(
                f"ING limits the number of requests ({context}, {attempt} attempts){detail}",
                retry_after=retry_after, **kwargs,
            )
        return provider.BankUnavailableError(
            f"ING is unavailable ({context}, {attempt} attempts){detail}", **kwargs
        )


def _required_str(payload: Any, key: str, context: str) -> str:
    value = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(value, str) or not value:
        raise provider.ProtocolError(f"ING's {context} answer has no {key!r}")
    return value


def _int_or(value: Any, default: int) -> int:
    if isinstance(value, bool):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
