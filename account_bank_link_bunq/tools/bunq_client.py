"""HTTP client for bunq's public API, as a PSD2 provider uses it.

Plain Python (no Odoo). Facts: ``../shared/specs/bunq/NOTES.md`` (tags [C]
bunq's own documentation or SDK, [I] inferred). Why not bunq's own SDK:
``readme/DEVELOP.md``.

In short: an *API context* per API key: an RSA key pair, ``POST
/installation`` (our public key; bunq answers an installation token and its
own public key), ``POST /device-server`` and ``POST /session-server`` (the
API key as ``secret``; bunq answers a session token). Request bodies are
signed with our private key (``X-Bunq-Client-Signature``); every answer is
signed by bunq (``X-Bunq-Server-Signature``) and checked here with bunq's
public key. A customer's consent is OAuth: the access token of the code
exchange is used *as an API key* for a new API context.

The context is a value (:class:`BunqContext`) the caller keeps and passes in;
nothing is global, nothing is written to disk, so one client serves any
number of companies and consents at the same time.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import requests
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from . import endpoints

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import bank_http, paging, provider
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import bank_http, paging, provider

_logger = logging.getLogger(__name__)

BANK = "bunq"
RetryPolicy = bank_http.RetryPolicy
USER_AGENT = "bankkoppeling-odoo/18.0"
#: Renew the session when fewer seconds than this remain [C B-sdk: 30 s].
SESSION_MARGIN_SECONDS = 30
#: Most payments per page [C B-doc].
MAX_COUNT = 200
#: bunq's "missing or wrong request signature" status [C B-doc].
SIGNATURE_STATUS = 466
#: bunq's user error and maintenance statuses [C B-doc].
USER_ERROR_STATUS = 490
MAINTENANCE_STATUS = 491
#: The user objects a session answer may carry [C B-doc].
USER_TYPES = ("UserApiKey", "UserCompany", "UserPerson", "UserPaymentServiceProvider")


def parse_json(content: bytes, *, what: str) -> Any:
    return bank_http.parse_json(content, what=what, bank=BANK)


def generate_private_key_pem() -> str:
    """A fresh RSA-2048 key pair, private key as PKCS#8 PEM [C B-doc]."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_key_pem(private_key_pem: str) -> str:
    key = _private_key(private_key_pem)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _private_key(pem: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise provider.ConfigurationError("The bunq key is not a readable PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise provider.ConfigurationError("The bunq key must be an RSA key")
    return key


def sign(private_key_pem: str, data: bytes) -> str:
    """RSA PKCS#1 v1.5 over SHA-256 of ``data``, base64 [C B-doc, B-sdk security.py]."""
    signature = _private_key(private_key_pem).sign(data, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def verify(server_public_key_pem: str, body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` is bunq's over the answer's body [C B-doc]."""
    if not signature:
        return False
    try:
        key = serialization.load_pem_public_key(server_public_key_pem.encode())
        key.verify(base64.b64decode(signature, validate=True), body, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError, TypeError, binascii.Error, UnsupportedAlgorithm, AttributeError):
        return False
    return True


def _utc(moment: datetime.datetime) -> datetime.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


@dataclasses.dataclass(frozen=True)
class BunqContext:
    """One API context: what bunq gave us for one API key. Every field but
    the ids is secret; ``repr`` shows none of them."""

    private_key_pem: str
    installation_token: str
    server_public_key_pem: str
    api_key: str
    device_id: int | None = None
    session_token: str | None = None
    session_id: int | None = None
    session_expires_at: datetime.datetime | None = None
    user_id: int | None = None
    #: ``UserApiKey`` (a customer's OAuth grant), ``UserCompany``, ``UserPaymentServiceProvider``...
    user_type: str | None = None

    def __repr__(self) -> str:
        return (f"BunqContext(user_id={self.user_id!r}, user_type={self.user_type!r}, "
                f"session_id={self.session_id!r}, session_expires_at={self.session_expires_at!r}, "
                f"keys and tokens hidden)")

    __str__ = __repr__

    def session_valid(self, now: datetime.datetime, margin: float = SESSION_MARGIN_SECONDS) -> bool:
        return bool(self.session_token and self.session_expires_at
                    and _utc(self.session_expires_at) - _utc(now) > datetime.timedelta(seconds=margin))

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        if self.session_expires_at:
            data["session_expires_at"] = _utc(self.session_expires_at).isoformat()
        return json.dumps({"bunq_context": 1, **data}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> BunqContext:
        try:
            data = json.loads(text)
            if data.pop("bunq_context", None) != 1:
                raise ValueError("not a bunq context")
            if data.get("session_expires_at"):
                data["session_expires_at"] = datetime.datetime.fromisoformat(data["session_expires_at"])
            return cls(**data)
        except (ValueError, TypeError, AttributeError):
            raise provider.ConfigurationError("The stored bunq API context cannot be read; link the account again") \
                from None


@dataclasses.dataclass(frozen=True)
class PspRegistration:
    """What the PSD2 registration gives: our PSD2 API key, its context, and
    the OAuth client the customers' consents go through."""

    context: BunqContext
    oauth_client_id: int
    client_id: str
    client_secret: str = dataclasses.field(repr=False)


def _items(payload: Any, what: str) -> list[Mapping[str, Any]]:
    """``{"Response": [{"Type": {...}}, ...]}`` -> the list [C B-doc]."""
    rows = payload.get("Response") if isinstance(payload, Mapping) else None
    if not isinstance(rows, list) or not all(isinstance(row, Mapping) for row in rows):
        raise provider.ProtocolError(f"bunq's {what} answer has no Response list")
    return rows


def merged(payload: Any, what: str) -> dict[str, Any]:
    """A create answer's items (``Id``, ``Token``, ...) as one mapping."""
    result: dict[str, Any] = {}
    for row in _items(payload, what):
        result.update(row)
    return result


def listed(payload: Any, what: str) -> list[tuple[str, Mapping[str, Any]]]:
    """A listing's items as (object type, object)."""
    rows = []
    for row in _items(payload, what):
        for kind, value in row.items():
            if isinstance(value, Mapping):
                rows.append((kind, value))
    return rows


def error_text(response: requests.Response) -> str | None:
    """``{"Error": [{"error_description": ...}]}`` or OAuth's ``error_description``."""
    try:
        body = json.loads(response.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if isinstance(body, Mapping):
        errors = body.get("Error")
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
            text = errors[0].get("error_description")
            return str(text)[:512] if text else None
        if body.get("error_description") or body.get("error"):
            return str(body.get("error_description") or body.get("error"))[:512]
    return None


class BunqClient:
    """bunq's API for one PSD2 registration (the OAuth client) and environment."""

    def __init__(
        self,
        *,
        api_base_url: str,
        authorize_url: str,
        token_url: str,
        client_id: str = "",
        client_secret: str = "",
        device_description: str = "Odoo bankkoppeling",
        permitted_ips: tuple[str, ...] | None = None,
        verify: bool | str = True,
        timeout: float | tuple[float, float] = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        now: Callable[[], datetime.datetime] | None = None,
    ):
        self.api_base_url = api_base_url.rstrip("/")
        self.authorize_url = authorize_url
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.device_description = device_description
        self.permitted_ips = list(permitted_ips) if permitted_ips else None
        self.now = now or (lambda: datetime.datetime.now(datetime.UTC))
        self.session = session or requests.Session()
        # No client certificate: bunq's API has no mTLS [C B-doc].
        self._transport = bank_http.Transport(bank=BANK, session=self.session, cert=None, verify=verify,
                                              timeout=timeout, retry=retry or RetryPolicy(), sleep=sleep)

    def __repr__(self) -> str:
        return f"BunqClient(api_base_url={self.api_base_url!r}, client_id={self.client_id!r})"

    # ------------------------------------------------------------ API context
    def install(self, api_key: str, private_key_pem: str | None = None) -> BunqContext:
        """``POST /installation``: bunq's public key and an installation token."""
        private_key_pem = private_key_pem or generate_private_key_pem()
        body = {"client_public_key": public_key_pem(private_key_pem)}
        payload = self._call("POST", endpoints.INSTALLATION_PATH, None, body, what="installation",
                             verify_answer=False)
        items = merged(payload, "installation")
        try:
            token = items["Token"]["token"]
            server_key = items["ServerPublicKey"]["server_public_key"]
        except (KeyError, TypeError):
            raise provider.ProtocolError("bunq's installation answer lacks Token or ServerPublicKey") from None
        return BunqContext(private_key_pem=private_key_pem, installation_token=str(token),
                           server_public_key_pem=str(server_key), api_key=api_key)

    def register_device(self, context: BunqContext) -> BunqContext:
        body: dict[str, Any] = {"description": self.device_description, "secret": context.api_key}
        if self.permitted_ips:
            body["permitted_ips"] = self.permitted_ips
        payload = self._call("POST", endpoints.DEVICE_SERVER_PATH, context, body, what="device registration",
                             token=context.installation_token, refused=provider.ConsentExpiredError)
        device = merged(payload, "device registration").get("Id") or {}
        return dataclasses.replace(context, device_id=device.get("id"))

    def open_session(self, context: BunqContext) -> BunqContext:
        """``POST /session-server`` (signed [C B-doc]): a new session token.

        A refused API key means the customer's grant is gone: the consent
        must be given again (inferred: bunq answers 401 or 400). bunq does
        not tell a grant that ended from one withdrawn in the app, so this
        is the framework's "consent needed again" (an ended consent), as a
        refused refresh is at the other banks (bank-protocols.md)."""
        payload = self._call("POST", endpoints.SESSION_SERVER_PATH, context, {"secret": context.api_key},
                             what="session", token=context.installation_token,
                             refused=provider.ConsentExpiredError)
        items = merged(payload, "session")
        token = (items.get("Token") or {}).get("token")
        if not token:
            raise provider.ProtocolError("bunq's session answer has no token")
        user_type = next((kind for kind in USER_TYPES if isinstance(items.get(kind), Mapping)), None)
        if user_type is None:
            raise provider.ProtocolError("bunq's session answer names no user")
        user = items[user_type]
        timeout = self._session_timeout(user_type, user)
        return dataclasses.replace(
            context, session_token=str(token), session_id=(items.get("Id") or {}).get("id"),
            session_expires_at=self.now() + datetime.timedelta(seconds=timeout),
            user_id=user.get("id"), user_type=user_type)

    @staticmethod
    def _session_timeout(user_type: str, user: Mapping[str, Any]) -> int:
        """The session lasts the user's ``session_timeout``; for a UserApiKey
        that of the requesting user [C B-sdk api_context.py]."""
        if user_type == "UserApiKey":
            requested = user.get("requested_by_user") or {}
            user = next((value for value in requested.values() if isinstance(value, Mapping)), {})
        try:
            return max(int(user.get("session_timeout") or 0), 0) or 3600
        except (TypeError, ValueError):
            return 3600  # inferred: the shortest session bunq describes (a PSD2 provider's first)

    def create_context(self, api_key: str) -> BunqContext:
        """Installation, device and session for ``api_key`` (a customer's
        OAuth access token, or our own PSD2 API key)."""
        return self.open_session(self.register_device(self.install(api_key)))

    def renew(self, context: BunqContext) -> BunqContext:
        """A new session on the same installation and device; a whole new
        context when bunq no longer knows the installation's device."""
        try:
            return self.open_session(context)
        except (provider.InvalidRequestError, provider.ConsentExpiredError) as error:
            # bunq may have dropped the installation or device; a fresh
            # context tells that apart from a withdrawn grant (refused again).
            _logger.info("bunq refused a new session on the stored installation (%s); installing again", error)
            return self.create_context(context.api_key)

    def end_session(self, context: BunqContext) -> None:
        if context.session_id is None or not context.session_token:
            return
        self._call("DELETE", endpoints.SESSION_PATH.format(session_id=context.session_id), context, None,
                   what="end session", retry=False)

    # ------------------------------------------------------------ PSD2 registration
    def register_psp(self, *, certificate_pem: str, chain_pem: str, certificate_key_pem: str,
                     callback_url: str) -> PspRegistration:
        """PSD2 registration [C B-doc; B-sdk for the signed string]: a fresh
        installation, the QSealC with its chain and a signature with the
        QSealC's key over ``<our public key>\\n<installation token>``; bunq
        answers our PSD2 API key. Then device, session, and the OAuth client
        with ``callback_url`` registered."""
        bootstrap = self.install(api_key="")
        signed = (public_key_pem(bootstrap.private_key_pem) + "\n" + bootstrap.installation_token).encode()
        body = {"client_payment_service_provider_certificate": certificate_pem,
                "client_payment_service_provider_certificate_chain": chain_pem,
                "client_public_key_signature": sign(certificate_key_pem, signed)}
        payload = self._call("POST", endpoints.PSP_CREDENTIAL_PATH, bootstrap, body, what="PSD2 registration",
                             token=bootstrap.installation_token, refused=provider.ConfigurationError, retry=False)
        credential = merged(payload, "PSD2 registration").get("CredentialPasswordIp") or {}
        api_key = credential.get("token_value")
        if not api_key:
            raise provider.ProtocolError("bunq's PSD2 registration answer has no API key (token_value)")
        context = self.open_session(self.register_device(dataclasses.replace(bootstrap, api_key=str(api_key))))
        path = endpoints.OAUTH_CLIENT_PATH.format(user_id=context.user_id)
        created = merged(self._call("POST", path, context, {"status": "ACTIVE"}, what="OAuth client"),
                         "OAuth client")
        client_number = (created.get("Id") or {}).get("id")
        self._call("POST", f"{path}/{client_number}/callback-url", context, {"url": callback_url},
                   what="OAuth callback URL")
        client = merged(self._call("GET", f"{path}/{client_number}", context, None, what="OAuth client"),
                        "OAuth client").get("OauthClient") or {}
        if not client.get("client_id") or not client.get("secret"):
            raise provider.ProtocolError("bunq's OAuth client has no client_id or secret")
        return PspRegistration(context=context, oauth_client_id=int(client_number),
                               client_id=str(client["client_id"]), client_secret=str(client["secret"]))

    # ------------------------------------------------------------ OAuth
    def authorization_url(self, redirect_uri: str, state: str) -> str:
        query = urlencode({"response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri,
                           "state": state})
        return f"{self.authorize_url}?{query}"

    def token_by_code(self, code: str, redirect_uri: str) -> str:
        """The access token; every parameter in the URL, no body [C B-doc].
        A code is used once: one attempt."""
        query = urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                           "client_id": self.client_id, "client_secret": self._client_secret})
        sent = self._transport.send("POST", f"{self.token_url}?{query}",
                                    lambda: {"Accept": "application/json", "User-Agent": USER_AGENT,
                                             "Cache-Control": "no-cache"},
                                    context="code exchange", retry=False)
        response = sent.response
        text = error_text(response)
        detail = f": {text}" if text else ""
        if response.status_code == 401:
            raise provider.ConfigurationError(f"bunq refused our OAuth client id or secret{detail}",
                                              http_status=401)
        if response.status_code == 400:
            raise provider.InvalidRequestError(f"bunq refused the authorization code; start the consent again{detail}",
                                               http_status=400)
        if response.status_code != 200:
            raise self._error(response, "code exchange")
        payload = parse_json(response.content, what="code exchange")
        token = payload.get("access_token") if isinstance(payload, Mapping) else None
        if not isinstance(token, str) or not token:
            raise provider.ProtocolError("bunq's code exchange answer has no access_token")
        return token

    # ------------------------------------------------------------ data
    def get(self, context: BunqContext, path_or_url: str, params: Mapping[str, Any] | None = None, *,
            what: str) -> Any:
        """A GET with the session token. ``path_or_url`` is relative to the
        API base (``/user/...``) or a Pagination URL (``/v1/user/...``)."""
        if path_or_url.startswith("/v1/"):
            url = paging.same_host_url(self.api_base_url, path_or_url, bank=BANK, page_number=0)
        else:
            url = self.api_base_url + path_or_url
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        return self._call("GET", url, context, None, what=what)

    # ------------------------------------------------------------ transport
    def _headers(self, context: BunqContext | None, token: str | None, body: bytes) -> dict[str, str]:
        headers = {"Accept": "application/json", "Cache-Control": "no-cache", "User-Agent": USER_AGENT,
                   "X-Bunq-Client-Request-Id": str(uuid.uuid4()), "X-Bunq-Geolocation": "0 0 0 0 000",
                   "X-Bunq-Language": "nl_NL", "X-Bunq-Region": "nl_NL"}
        if body:
            headers["Content-Type"] = "application/json"
        if token:
            headers["X-Bunq-Client-Authentication"] = token
            # The SDK signs every call [C B-sdk]; bunq requires it for sessions and payments [C B-doc].
            headers["X-Bunq-Client-Signature"] = sign(context.private_key_pem, body)
        return headers

    def _call(self, method: str, path_or_url: str, context: BunqContext | None, body: Any, *, what: str,
              token: str | None = None, verify_answer: bool = True,
              refused: type[provider.BankLinkError] | None = None, retry: bool = True) -> Any:
        """One call; the answer's signature checked, the envelope's JSON
        returned. ``token`` defaults to the context's session token;
        ``refused``: the error a 400/401 becomes (API context calls)."""
        url = path_or_url if path_or_url.startswith("https://") else self.api_base_url + path_or_url
        data = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        if token is None and context is not None:
            token = context.session_token
        # The body bytes are what is signed: send exactly these.
        sent = self._transport.send(method, url, lambda: self._headers(context, token, data), context=what,
                                    retry=retry, data=data or None)
        response = sent.response
        if verify_answer and context is not None and not verify(
                context.server_public_key_pem, response.content, response.headers.get("X-Bunq-Server-Signature")):
            if response.status_code == 429 or response.status_code >= 500:
                # A gateway's own answer (unsigned): only its status is used, to wait and retry.
                raise self._error(response, what, trusted=False)
            # Not bunq's answer (or altered on the way): nothing of it is used.
            raise provider.ProtocolError(f"bunq's answer ({what}) does not carry a valid server signature",
                                         http_status=response.status_code,
                                         reference=response.headers.get("X-Bunq-Client-Response-Id"))
        if response.status_code != 200:
            raise self._error(response, what, refused=refused)
        return parse_json(response.content, what=what)

    def _error(self, response: requests.Response, what: str, *,
               refused: type[provider.BankLinkError] | None = None, trusted: bool = True) -> provider.BankLinkError:
        status = response.status_code
        text = error_text(response) if trusted else None
        detail = f": {text}" if text else ""
        kwargs = {"http_status": status, "reference": response.headers.get("X-Bunq-Client-Response-Id")}
        if status == SIGNATURE_STATUS:
            return provider.ConfigurationError(f"bunq refused our request signature ({what}){detail}", **kwargs)
        if refused is not None and status in (400, 401):
            if "device" in (text or "").lower() and status == 400:
                return provider.InvalidRequestError(f"bunq knows no device for this key ({what}){detail}", **kwargs)
            return refused(f"bunq no longer accepts this key ({what}){detail}", **kwargs)
        if status == 401:
            # The session ended (expired, or ended at bunq): open a new one.
            return provider.TokenExpiredError(f"bunq's session has ended ({what}){detail}", **kwargs)
        if status == 403 and refused is not None:
            return provider.ConfigurationError(f"bunq refused this server's IP address ({what}){detail}", **kwargs)
        if status in (403, 404):
            return provider.AccessDeniedError(f"bunq refused access ({what}){detail}", **kwargs)
        if status in (400, USER_ERROR_STATUS):
            return provider.InvalidRequestError(f"bunq refused the request ({what}){detail}", **kwargs)
        if status == 429:
            return provider.RateLimitedError(
                f"bunq limits the number of requests{detail}",
                retry_after=bank_http.parse_retry_after(response.headers.get("Retry-After")), **kwargs)
        if status >= 500 or status == MAINTENANCE_STATUS:
            return provider.BankUnavailableError(f"bunq is unavailable ({what}){detail}", **kwargs)
        return provider.ProtocolError(f"Unexpected answer from bunq ({what}){detail}", **kwargs)
