"""HTTP client for Berlin Group NextGenPSD2 account information (1.3.x), one for every profile.

Plain Python (no Odoo). The standard flow once: consent resource, SCA by
redirect (the bank's ``scaRedirect``, or an OAuth2 authorize URL), tokens,
consent status and deletion, accounts, balances and booked transactions
following ``_links.next``; ``tppMessages`` errors as the framework's typed
errors. Where a bank deviates, ``profiles.py`` says how. Every call goes over
mutual TLS (the QWAC); a profile with signed headers also signs with the
QSealC (draft-cavage, SHA-256 ``Digest``).

``PSU-IP-Address`` is sent when the user is present (``psu_ip_address``
given); unattended fetches leave it out, and the bank counts them against
the RTS limit of 4 a day.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from . import profiles

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import (
        bank_http,
        http_signature,
        paging,
        provider,
    )
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import bank_http, http_signature, paging, provider

_logger = logging.getLogger(__name__)

RetryPolicy = bank_http.RetryPolicy

TOKEN_CODES = {"TOKEN_INVALID", "TOKEN_EXPIRED", "TOKEN_UNKNOWN"}
CONSENT_EXPIRED_CODES = {"CONSENT_EXPIRED"}
CONSENT_INVALID_CODES = {"CONSENT_INVALID", "CONSENT_UNKNOWN"}
CONFIGURATION_CODES = {"CERTIFICATE_INVALID", "CERTIFICATE_MISSING", "CERTIFICATE_EXPIRED", "CERTIFICATE_BLOCKED",
                       "CERTIFICATE_REVOKED", "SIGNATURE_INVALID", "SIGNATURE_MISSING"}


#: Loopback hosts a *sandbox* registration may send the user back to over http.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def check_redirect_uri(redirect_uri: str, *, sandbox: bool) -> None:
    """The banks send the user back to an https address only (Knab [I Y-knab], Triodos
    registers exact https URIs [C T-reg], de Volksbank inferred [I Y-vb]). Sandbox only:
    an Odoo on this machine over plain http (``./setup/demo``, the browser tests) may be
    the redirect URI, as the local sandbox accepts it; production always needs https."""
    parts = urlsplit(redirect_uri or "")
    if parts.scheme == "https" and parts.hostname:
        return
    if sandbox and parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise provider.ConfigurationError(
        f"The redirect URI {redirect_uri!r} is not an https address: the bank sends the user back to "
        "https only (set web.base.url to Odoo's https address)"
        + ("" if sandbox else "; plain http on this machine is for a sandbox registration only"))


def error_info(response: requests.Response) -> tuple[str | None, str | None]:
    """(code, text) of ``{"tppMessages": [...]}``, a single TppMessage object
    (de Volksbank's Swagger) or an OAuth error body."""
    try:
        body = json.loads(response.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, None
    if not isinstance(body, dict):
        return None, None
    messages = body.get("tppMessages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        body = messages[0]
    if "code" in body or "category" in body:
        return _text(body.get("code")), _text(body.get("text"))
    return _text(body.get("error")), _text(body.get("error_description"))


def _text(value: Any) -> str | None:
    return str(value)[:512] if value not in (None, "") else None


def resolve_href(api_base_url: str, href: str) -> str:
    """A ``_links`` href as an absolute URL on the bank's host.

    Banks write them from the host root (``/psd2/snsbank/v1.1/...``), relative
    to a part of the base path (Triodos: ``/nl/v1/...`` under ``/xs2a-bg``) or
    absolute: the longest tail of the base path that the href starts with is
    where it joins; with none it is taken relative to the API base. An
    absolute URL to another host is refused (it would get the user's token).
    """
    if href.startswith(("https://", "http://")):
        return paging.same_host_url(api_base_url, href, bank=urlsplit(api_base_url).netloc, page_number=0)
    parts = urlsplit(api_base_url)
    segments = [s for s in parts.path.split("/") if s]
    wanted = [s for s in href.split("?")[0].split("/") if s]
    for start in range(len(segments)):
        tail = segments[start:]
        if wanted[:len(tail)] == tail:
            return f"{parts.scheme}://{parts.netloc}/" + "/".join(segments[:start]) + ("/" if start else "") \
                + href.lstrip("/")
    return api_base_url.rstrip("/") + "/" + href.lstrip("/")


class NextGenPsd2Client:
    """One bank registration: profile, base URLs, client id (and secret), QWAC, QSealC."""

    def __init__(
        self,
        profile: profiles.Profile,
        *,
        api_base_url: str,
        auth_base_url: str,
        client_id: str = "",
        client_secret: str = "",
        tls_cert_path: str,
        tls_key_path: str,
        signer: http_signature.HttpSigner | None = None,
        verify: bool | str = True,
        timeout: float | tuple[float, float] = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        today: Callable[[], datetime.date] = datetime.date.today,
    ):
        if (profile.signed_consent_headers or profile.signed_data_headers) and signer is None:
            raise provider.ConfigurationError(f"{profile.name} needs a signing certificate and key (QSealC)")
        self.profile = profile
        self.bank = profile.name
        self.api_base_url = api_base_url.rstrip("/")
        self.auth_base_url = auth_base_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.signer = signer
        self._today = today
        self.session = session or requests.Session()
        self._transport = bank_http.Transport(
            bank=profile.name, session=self.session, cert=(tls_cert_path, tls_key_path), verify=verify,
            timeout=timeout, retry=retry or RetryPolicy(), sleep=sleep)

    def __repr__(self) -> str:
        return f"NextGenPsd2Client(bank={self.profile.code!r}, api_base_url={self.api_base_url!r})"

    # ------------------------------------------------------------ registration (Triodos)

    def register_client(self, redirect_uris: list[str]) -> dict[str, Any]:
        """Dynamic client registration: the signed onboarding call, then OpenID Connect DCR.
        Registering again revokes the earlier client of the certificate [C T-reg]; calls inferred [I Y-tri]."""
        onboarding = self._json(self._send("GET", self.api_base_url + "/onboarding/v1", kind="data",
                                           context="onboarding"), "onboarding")
        token = onboarding.get("access_token") if isinstance(onboarding, dict) else None
        href = paging.next_href({"_links": {"next": (onboarding.get("_links") or {}).get("registration")}}) \
            if isinstance(onboarding, dict) else None
        if not token or not href:
            raise provider.ProtocolError(f"{self.bank}'s onboarding answer has no registration token or link")
        # Form fields and Bearer as Yolt sends them; inferred [I Y-tri].
        form = {"redirect_uris": list(redirect_uris), "initial_access_token": token}
        response = self._transport.send(
            "POST", resolve_href(self.auth_base_url, href),
            lambda: {"Accept": "application/json", "Authorization": f"Bearer {token}"},
            context="client registration", retry=False, data=form)
        answer = self._json(self._checked(response.response, "client registration", expected=(200, 201)),
                            "client registration")
        if not isinstance(answer, dict) or not answer.get("client_id") or not answer.get("client_secret"):
            raise provider.ProtocolError(f"{self.bank}'s registration answer has no client id or secret")
        self.client_id, self._client_secret = answer["client_id"], answer["client_secret"]
        return answer

    # ------------------------------------------------------------ consent

    def application_token(self) -> str:
        """Client credentials, scope ``psd2`` (Knab; inferred [I Y-knab])."""
        payload = self._token({"grant_type": "client_credentials", "scope": "psd2"}, "application token",
                              provider.ConfigurationError, "The bank refused our client credentials")
        return payload["access_token"]

    def create_consent(self, redirect_uri: str, psu_ip_address: str) -> dict[str, Any]:
        """``POST {consent_path}``: a recurring consent the user then confirms at the bank."""
        profile = self.profile
        body = json.dumps({
            "access": profile.consent_access(), "recurringIndicator": True,
            "validUntil": profile.valid_until(self._today()), "frequencyPerDay": profile.frequency_per_day,
            "combinedServiceIndicator": False,
        }).encode()
        extra = {"Content-Type": "application/json", "PSU-IP-Address": psu_ip_address}
        if profile.consent_auth == profiles.AUTH_CLIENT_ID:
            extra["Authorization"] = self.client_id  # [C V-swagger]
        else:
            # Triodos [C T-ais]; Knab inferred [I Y-knab]. de Volksbank takes redirect_uri at authorize.
            extra["TPP-Redirect-URI"] = redirect_uri
        if profile.consent_auth == profiles.AUTH_APP_TOKEN:
            extra["Authorization"] = f"Bearer {self.application_token()}"
        response = self._send("POST", self.api_base_url + profile.consent_path, kind="consent", body=body,
                              extra=extra, context="consent", retry=False)
        if response.status_code == 401:  # our client id, token or certificate, not the user's consent
            code, text = error_info(response)
            raise provider.ConfigurationError(f"{self.bank} refused our credentials when creating the consent"
                                              + (f": {text}" if text else ""), bank_code=code, http_status=401)
        answer = self._json(self._checked(response, "consent", expected=(200, 201)), "consent")
        if not isinstance(answer, dict) or not isinstance(answer.get("consentId"), str):
            raise provider.ProtocolError(f"{self.bank}'s consent answer has no consentId")
        return answer

    def authorization_url(self, consent: Mapping[str, Any], redirect_uri: str, state: str,
                          code_challenge: str | None = None) -> str:
        profile, consent_id = self.profile, consent["consentId"]
        links = consent.get("_links") or {}
        if profile.sca == profiles.SCA_REDIRECT_PKCE:
            href = paging.next_href({"_links": {"next": links.get("scaRedirect")}})
            if not href:
                raise provider.ProtocolError(f"{self.bank}'s consent answer has no scaRedirect link")
            url = resolve_href(self.auth_base_url, href) if not href.startswith("https://") else href
            query = {"redirect_uri": redirect_uri, "state": state, "code_challenge": code_challenge,
                     "code_challenge_method": "S256"}
            return url + ("&" if "?" in url else "?") + urlencode(query)
        if profile.sca == profiles.SCA_CONSENT_PARAM:
            query = {"response_type": "code", "client_id": self.client_id, "consentId": consent_id, "scope": "AIS",
                     "state": state, "redirect_uri": redirect_uri}
        else:
            query = {"response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri,
                     "scope": profile.authorize_scope.format(consent_id=consent_id), "state": state}
        return f"{self.auth_base_url}/authorize?{urlencode(query)}"

    def consent_status(self, consent_id: str) -> str | None:
        answer = self._json(self._checked(self._consent_call("GET", consent_id, "/status"), "consent status"),
                            "consent status")
        return answer.get("consentStatus") if isinstance(answer, dict) else None

    def delete_consent(self, consent_id: str) -> None:
        self._checked(self._consent_call("DELETE", consent_id, ""), "consent deletion", expected=(200, 204))

    def _consent_call(self, method: str, consent_id: str, tail: str) -> requests.Response:
        extra = {"Authorization": self.client_id} if self.profile.consent_auth == profiles.AUTH_CLIENT_ID else {}
        url = f"{self.api_base_url}{self.profile.consent_path}/{consent_id}{tail}"
        return self._send(method, url, kind="data", extra=extra, context="consent " + method.lower(),
                          retry=method == "GET")

    # ------------------------------------------------------------ tokens

    def token_by_code(self, code: str, redirect_uri: str, code_verifier: str | None = None) -> dict[str, Any]:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        if self.profile.refresh_secret_in_body:
            form["client_id"] = self.client_id  # Knab: client_id in the form too; inferred [I Y-knab]
        return self._token(form, "code exchange", provider.InvalidRequestError,
                           f"{self.bank} refused the authorization code; start the consent again")

    def token_by_refresh(self, refresh_token: str, redirect_uri: str | None = None) -> dict[str, Any]:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if self.profile.token_params_in_query and redirect_uri:
            form["redirect_uri"] = redirect_uri  # [I Y-vb]
        if self.profile.refresh_secret_in_body:
            form.update(client_id=self.client_id, client_secret=self._client_secret)  # [I Y-knab]
        return self._token(form, "token refresh", provider.ConsentExpiredError,
                           f"{self.bank} refused to refresh the access token; the consent must be renewed")

    def _token(self, form: Mapping[str, str], context: str, refused: type, message: str) -> dict[str, Any]:
        profile = self.profile
        headers = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded",
                   **profile.token_headers}
        secret_in_body = profile.refresh_secret_in_body and "client_secret" in form
        if not secret_in_body:
            basic = base64.b64encode(f"{self.client_id}:{self._client_secret}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {basic}"
        url = self.auth_base_url + "/token"
        data: Any = form
        if profile.token_params_in_query:  # de Volksbank [I Y-vb, T-vb]
            url, data = f"{url}?{urlencode(form)}", b""
        response = self._transport.send("POST", url, lambda: headers, context=context, retry=False,
                                        data=data).response
        if response.status_code == 401:
            code, text = error_info(response)
            raise provider.ConfigurationError(
                f"{self.bank} refused our client id or secret ({context})" + (f": {text}" if text else ""),
                bank_code=code, http_status=401)
        if response.status_code in (400, 403):
            code, text = error_info(response)
            raise refused(message + (f": {text}" if text else ""), bank_code=code, http_status=response.status_code)
        payload = self._json(self._checked(response, context), context)
        if not isinstance(payload, dict) or not isinstance(payload.get("access_token"), str):
            raise provider.ProtocolError(f"{self.bank}'s {context} answer has no access_token")
        return payload

    # ------------------------------------------------------------ AIS

    def get(self, path_or_href: str, access_token: str, consent_id: str, params: Mapping[str, str] | None = None,
            *, context: str, psu_ip_address: str | None = None) -> Any:
        """A GET with Bearer token and Consent-ID; ``path_or_href`` is ``/accounts...`` (below the
        AIS path) or a ``_links`` href as the bank wrote it."""
        if path_or_href == "/accounts" or path_or_href.startswith("/accounts/"):
            url = self.api_base_url + self.profile.ais_path + path_or_href
        else:
            url = resolve_href(self.api_base_url, path_or_href)
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        extra = {"Authorization": f"Bearer {access_token}", "Consent-ID": consent_id}
        if psu_ip_address:
            extra["PSU-IP-Address"] = psu_ip_address
        return self._json(self._checked(self._send("GET", url, kind="data", extra=extra, context=context), context),
                          context)

    # ------------------------------------------------------------ errors

    def _checked(self, response: requests.Response, context: str, expected: tuple[int, ...] = (200,)) \
            -> requests.Response:
        if response.status_code not in expected:
            raise self._error(response, context)
        return response

    def _json(self, response: requests.Response, what: str) -> Any:
        return bank_http.parse_json(response.content, what=what, bank=self.bank) if response.content else {}

    def _error(self, response: requests.Response, context: str) -> provider.BankLinkError:
        status = response.status_code
        code, text = error_info(response)
        kwargs = {"bank_code": code, "http_status": status}
        detail = f": {text}" if text else ""
        bank = self.bank
        if code in CONFIGURATION_CODES:
            return provider.ConfigurationError(f"{bank} refused our certificate or signature ({context}){detail}",
                                               **kwargs)
        if code in CONSENT_EXPIRED_CODES:
            return provider.ConsentExpiredError(f"The consent at {bank} has ended{detail}", **kwargs)
        if code in CONSENT_INVALID_CODES:
            return provider.ConsentRevokedError(f"The consent at {bank} is no longer valid{detail}", **kwargs)
        if code == "ACCESS_EXCEEDED" or status == 429:
            retry_after = bank_http.parse_retry_after(response.headers.get("Retry-After"))
            return provider.RateLimitedError(f"{bank} limits the number of requests ({context}){detail}",
                                             retry_after=retry_after, **kwargs)
        if code in TOKEN_CODES or status == 401:
            return provider.TokenExpiredError(f"{bank} did not accept the access token{detail}", **kwargs)
        if status in (403, 404):
            return provider.AccessDeniedError(f"{bank} refused access ({context}){detail}", **kwargs)
        if status in (400, 405, 406, 409):
            return provider.InvalidRequestError(f"{bank} refused the request ({context}){detail}", **kwargs)
        if status >= 500:
            return provider.BankUnavailableError(f"{bank} is unavailable ({context}){detail}", **kwargs)
        return provider.ProtocolError(f"Unexpected answer from {bank} ({context}){detail}", **kwargs)

    # ------------------------------------------------------------ transport

    def _headers(self, method: str, url: str, body: bytes, kind: str, extra: Mapping[str, str]) -> dict[str, str]:
        headers = {"Accept": "application/json", "X-Request-ID": str(uuid.uuid4()), **extra}
        if self.profile.consent_auth == profiles.AUTH_CLIENT_ID:
            headers.setdefault("Content-Type", "application/json")  # required by the Swagger [C V-swagger]
        names = self.profile.signed_consent_headers if kind == "consent" else self.profile.signed_data_headers
        if not names:
            return headers
        headers["TPP-Signature-Certificate"] = self.signer.certificate_base64_der
        return self.signer.signed_headers(self.profile.key_id(self.signer), method, url, body, names, headers)

    def _send(self, method: str, url: str, *, kind: str, context: str, body: bytes = b"",
              extra: Mapping[str, str] | None = None, retry: bool = True) -> requests.Response:
        """One request; with ``retry`` 429, 5xx and time-outs are tried again (fresh X-Request-ID and signature)."""
        sent = self._transport.send(method, url, lambda: self._headers(method, url, body, kind, extra or {}),
                                    context=context, retry=retry, data=body or None)
        return sent.response
