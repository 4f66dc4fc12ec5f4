"""bunq: its own public API (no Berlin Group), as a PSD2 provider sees it.

Facts from ../shared/specs/bunq/NOTES.md and bunq's OpenAPI file beside it
(``bunq-api-openapi.json``, whose description is the developer guide); the tag
after a comment names the source there ([C B-doc] bunq's documentation,
[C B-sdk] bunq's own SDK, [I ...] inferred). Behaviour marked "inferred"
without a tag is the sandbox's own choice where bunq says nothing.

The API context: ``POST /v1/installation`` (the client's public key; answers an
installation token and the server's public key), ``/v1/device-server`` and
``/v1/session-server`` (the API key as ``secret``; answers a session token and
the user). Request bodies are signed by the client (``X-Bunq-Client-Signature``,
RSA PKCS#1 v1.5 over SHA-256 of the body) and every answer by the sandbox
(``X-Bunq-Server-Signature``, the same over the answer's body) [C B-doc].

OAuth for the customer's consent: ``/auth`` (a bunq-style page in Dutch) and
``POST /v1/token`` with every parameter in the URL; the access token is then
the API key of a new API context, whose session user is a ``UserApiKey``
[C B-doc]. In production the three are on three hosts (``oauth.bunq.com``,
``api.oauth.bunq.com``, ``api.bunq.com``); here they share one port.

No mTLS: bunq's API is called without a client certificate [C B-doc]; the
PSD2 provider identifies itself once, with its QSealC, at
``/v1/payment-service-provider-credential``.

Draft payments (the PSD2 provider's payments, accepted by the customer in the
bunq app, here a sandbox page): bunq_payments.py.

Own admin endpoint: ``GET /_sandbox/bunq`` (users, installations, sessions).
"""

import base64
import binascii
import datetime
import json
import re
import secrets
import time
import uuid
from decimal import Decimal
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from . import pages
from .bunq_payments import APP_PATH, DRAFT_PATH, BunqDraftPaymentsMixin
from .consentflow import ConsentFlowMixin
from .scenario import AMSTERDAM
from .server import BankApp
from .state import fingerprint
from .web import html_response, issued_by, json_response

V1 = "/v1"
PSP_USER_ID = 7010  # the PSD2 provider's user (inferred: any id)
OAUTH_CLIENT_ID = 3301  # id of the one OAuth client (inferred)
#: Lifetime of an installation and of a PSD2 API key: bunq publishes none (inferred: long).
LONG_LIFE = 10 * 365 * 86400
#: The PSD2 provider's first session lasts an hour [C B-doc].
PSP_FIRST_SESSION = 3600
RATE_LIMITS = {"GET": 3, "POST": 5, "PUT": 2, "DELETE": 2}  # per 3 s per IP per endpoint [C B-doc]
RATE_WINDOW = 3.0
SESSION_SERVER_WINDOW = 30.0  # 1 request per 30 s [C B-doc]
USER_PATH = re.compile(r"^/v1/user/(\d+)(/.*)?$")
ACCOUNT_PATH = re.compile(r"^/monetary-account(?:-bank)?(?:/(\d+))?$")
PAYMENT_PATH = re.compile(r"^/monetary-account/(\d+)/payment(?:/(\d+))?$")
OAUTH_CLIENT_PATH = re.compile(r"^/oauth-client(?:/(\d+))?(/callback-url)?$")
SESSION_PATH = re.compile(r"^/v1/session/(\d+)$")
#: The sandbox's transaction kinds -> bunq's payment type and sub-type [C B-doc for the values].
PAYMENT_TYPES = {"sepa": ("EBA_SCT", "SCT"), "ideal": ("IDEAL", "PAYMENT"), "card": ("FIS", "PAYMENT"),
                 "atm": ("FIS", "WITHDRAWAL"), "direct_debit": ("EBA_SDD", "SDD"),
                 "costs": ("BUNQ", "BILLING"), "batch_ct": ("EBA_SCT", "SCT"), "batch_dd": ("EBA_SDD", "SDD")}
BUNQ_FEES = ("bunq B.V.", "NL19BUNQ2025302520")  # inferred: the counterparty of bunq's own fees


def _stamp(moment):
    """bunq's time format: UTC ``YYYY-MM-DD hh:mm:ss.ffffff`` [C B-doc]."""
    return datetime.datetime.fromtimestamp(moment, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _money(value, currency):
    return {"value": f"{Decimal(value):.2f}", "currency": currency}


def error(status, description, translated=None):
    """``{"Error": [...]}`` [C B-doc]."""
    return json_response({"Error": [{"error_description": description,
                                     "error_description_translated": translated or description}]}, status)


def envelope(*items, pagination=None):
    body = {"Response": list(items)}
    if pagination is not None:
        body["Pagination"] = pagination
    return json_response(body)


class BunqError(Exception):
    def __init__(self, response):
        super().__init__(response.status_code)
        self.response = response


class BunqApp(BunqDraftPaymentsMixin, ConsentFlowMixin, BankApp):
    bank = "bunq"
    single_account = False  # the user picks the accounts to share (inferred)

    def __init__(self, state, cert_checker, settings):
        super().__init__(state, cert_checker, settings)
        key_path = settings.get("bunq_server_key")
        if key_path and Path(key_path).exists():
            self.server_key = serialization.load_pem_private_key(Path(key_path).read_bytes(), None)
        else:
            self.server_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.server_public_pem = self.server_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        ca_path = settings.get("ca")
        self.ca_cert = x509.load_pem_x509_certificate(Path(ca_path).read_bytes()) if ca_path else None
        self.hits = {}  # (ip, method, endpoint) -> recent request times, for the rate limits

    def _settings(self):
        return self.state.current_scenario().bunq

    def _accounts(self):
        return self.state.current_scenario().accounts["bunq"]

    @staticmethod
    def account_id(index):
        return 5000 + index

    # ------------------------------------------------------------ signing
    def finish_response(self, request, response, fault):
        """Every answer signed over its body [C B-doc]; a fault may spoil it."""
        body = response.get_data()
        signature = self.server_key.sign(body, padding.PKCS1v15(), hashes.SHA256())
        if fault and fault.get("error") == "bad_server_signature":
            signature = bytes(b ^ 0x5A for b in signature)
        # ``"unsigned": true`` on a fault: a gateway's answer, without bunq's signature.
        if response.mimetype == "application/json" and not (fault and fault.get("unsigned")):
            response.headers["X-Bunq-Server-Signature"] = base64.b64encode(signature).decode()
        response.headers["X-Bunq-Client-Response-Id"] = str(uuid.uuid4())
        if request.headers.get("X-Bunq-Client-Request-Id"):
            response.headers["X-Bunq-Client-Request-Id"] = request.headers["X-Bunq-Client-Request-Id"]
        return response

    def fault_before(self, fault, request):
        if fault["error"] == "bad_server_signature":
            return None
        if fault["error"] == "expire_session":
            token = request.headers.get("X-Bunq-Client-Authentication", "")
            with self.state.lock:
                record = self.state.tokens.get(token)
                if record and record["kind"] == "session":
                    record["expires_at"] = self.state.now() - 1
            return None
        return super().fault_before(fault, request)

    def consent_of_request(self, request):
        record = self.state.raw_token(request.headers.get("X-Bunq-Client-Authentication", ""))
        return record.get("consent_id") if record else None

    def error_response(self, request, status, fault):
        fault = fault or {}
        if request.path == V1 + "/token":
            return json_response({"error": "invalid_request" if status < 500 else "server_error",
                                  "error_description": fault.get("message") or "Sandbox fault"}, status)
        text = fault.get("message") or {
            401: "Insufficient authentication.", 403: "Insufficient authorisation.",
            429: "Too many requests. You can do a maximum of 3 GET calls per 3 second to this endpoint.",
            491: "bunq is in maintenance."}.get(status, "Sandbox fault")
        return error(status, text)

    # ------------------------------------------------------------ routing
    def dispatch(self, request):
        path = request.path
        try:
            if path == "/auth":
                return self.authorize(request)
            app = APP_PATH.match(path)
            if app:
                return self.app_page(request, app.group(1))
            if path == V1 + "/token":
                if request.method != "POST":
                    return json_response({"error": "invalid_request", "error_description": "Use POST"}, 405)
                return self.token(request)
            if not path.startswith(V1 + "/"):
                return error(404, "Route not found.")
            self._check_headers(request)
            self._rate_limit(request)
            if path == V1 + "/installation" and request.method == "POST":
                return self.installation(request)
            if path == V1 + "/device-server" and request.method == "POST":
                return self.device_server(request)
            if path == V1 + "/session-server" and request.method == "POST":
                return self.session_server(request)
            if path == V1 + "/payment-service-provider-credential" and request.method == "POST":
                return self.psp_credential(request)
            session = SESSION_PATH.match(path)
            if session and request.method == "DELETE":
                return self.delete_session(request, int(session.group(1)))
            user = USER_PATH.match(path)
            if user:
                return self.user_api(request, int(user.group(1)), user.group(2) or "")
        except BunqError as failure:
            return failure.response
        return error(404, "Route not found.")

    def _check_headers(self, request):
        # Mandatory on every call [C B-doc].
        missing = [name for name in ("Cache-Control", "User-Agent") if not request.headers.get(name)]
        if missing:
            raise BunqError(error(400, f"Missing header(s): {', '.join(missing)}."))

    def _rate_limit(self, request):
        if not self._settings().get("rate_limits"):
            return
        endpoint = re.sub(r"/\d+", "/{id}", request.path)
        limit, window = RATE_LIMITS.get(request.method, 3), RATE_WINDOW
        if endpoint == V1 + "/session-server":
            limit, window = 1, SESSION_SERVER_WINDOW
        key = (request.remote_addr, request.method, endpoint)
        now = time.monotonic()
        with self.state.lock:
            recent = [moment for moment in self.hits.get(key, []) if now - moment < window]
            if len(recent) >= limit:
                self.hits[key] = recent
                # bunq documents no Retry-After (inferred: none sent).
                raise BunqError(error(429, f"Too many requests. You can do a maximum of {limit} "
                                           f"{request.method} calls per {window:g} second to this endpoint."))
            recent.append(now)
            self.hits[key] = recent

    # ------------------------------------------------------------ signatures
    def _verify_client_signature(self, request, public_pem, required):
        """RSA PKCS#1 v1.5 SHA-256 over the body [C B-doc]; missing where
        required: 466 [C B-doc]; wrong: 466 too (inferred)."""
        header = request.headers.get("X-Bunq-Client-Signature")
        if not header:
            if required:
                raise BunqError(error(466, "Request signature is required for this operation."))
            return
        try:
            key = serialization.load_pem_public_key(public_pem.encode())
            key.verify(base64.b64decode(header, validate=True), request.get_data(), padding.PKCS1v15(),
                       hashes.SHA256())
        except (InvalidSignature, ValueError, binascii.Error, UnsupportedAlgorithm):
            raise BunqError(error(466, "The request signature is invalid.")) from None

    def _body(self, request):
        try:
            body = json.loads(request.get_data(as_text=True) or "{}")
        except ValueError:
            raise BunqError(error(400, "Request body is not valid JSON.")) from None
        if not isinstance(body, dict):
            raise BunqError(error(400, "Request body must be a JSON object."))
        return body

    def _installation(self, request):
        token = request.headers.get("X-Bunq-Client-Authentication", "")
        record = self.state.token(token, "installation", "bunq")
        if record is None:
            raise BunqError(error(401, "Insufficient authentication."))
        return token, record

    # ------------------------------------------------------------ API context
    def installation(self, request):
        public_pem = self._body(request).get("client_public_key")
        try:
            key = serialization.load_pem_public_key(str(public_pem or "").encode())
        except (ValueError, UnsupportedAlgorithm):
            key = None
        if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
            return error(400, "The public key is not a valid RSA public key of at least 2048 bits.")
        with self.state.lock:
            number = sum(1 for t in self.state.tokens.values() if t["kind"] == "installation") + 1
        token = self.state.issue_token("installation", "bunq", LONG_LIFE, public_key=public_pem,
                                       installation_id=number, devices=[])
        now = _stamp(self.state.now())
        return envelope({"Id": {"id": number}},
                        {"Token": {"id": number + 100000, "created": now, "updated": now, "token": token}},
                        {"ServerPublicKey": {"server_public_key": self.server_public_pem}})

    def _api_key(self, secret):
        """(user type, user id, consent id) of an API key, or None."""
        settings = self._settings()
        if secret and secrets.compare_digest(secret, settings["api_key"]):
            return "company", settings["company_user_id"], None
        record = self.state.token(secret, "api_key", "bunq")
        if record is None:
            return None
        return record["user_type"], record["user_id"], record.get("consent_id")

    def device_server(self, request):
        token, record = self._installation(request)
        self._verify_client_signature(request, record["public_key"], required=False)
        body = self._body(request)
        if not body.get("description") or not body.get("secret"):
            return error(400, "Fields description and secret are required.")
        if self._api_key(body["secret"]) is None:
            return error(400, "The API key or the OAuth access token is not valid.")
        permitted = body.get("permitted_ips")
        if permitted is not None and not isinstance(permitted, list):
            return error(400, "permitted_ips must be a list.")
        with self.state.lock:
            device_id = 800 + sum(len(t.get("devices", [])) for t in self.state.tokens.values())
            # A standard key binds to the calling IP; "*" makes it a wildcard key [C B-doc].
            record["devices"].append({"id": device_id, "secret_fp": fingerprint(body["secret"]),
                                      "ips": permitted or [request.remote_addr]})
            self.state.save()
        return envelope({"Id": {"id": device_id}})

    def session_server(self, request):
        token, record = self._installation(request)
        # Mandatory for opening a session [C B-doc].
        self._verify_client_signature(request, record["public_key"], required=True)
        secret = self._body(request).get("secret")
        known = self._api_key(secret or "")
        if known is None:
            # The grant was withdrawn or never existed (inferred: bunq's wording unknown).
            return error(401, "The API key or the OAuth access token is not valid.")
        device = next((d for d in record.get("devices", []) if d["secret_fp"] == fingerprint(secret)), None)
        if device is None:
            return error(400, "No device has been registered for this API key and installation.")
        if "*" not in device["ips"] and request.remote_addr not in device["ips"]:
            return error(403, "This IP address is not permitted for this API key.")
        user_type, user_id, consent_id = known
        settings = self._settings()
        timeout = settings["session_timeout"]
        if user_type == "psp" and self.state.raw_token(secret).get("first_session_open", True):
            timeout = PSP_FIRST_SESSION  # then 90 days [C B-doc]
            with self.state.lock:
                self.state.tokens[secret]["first_session_open"] = False
        elif user_type == "psp":
            timeout = 90 * 86400
        with self.state.lock:
            session_id = 600 + sum(1 for t in self.state.tokens.values() if t["kind"] == "session")
        session = self.state.issue_token("session", "bunq", timeout, installation=token, session_id=session_id,
                                         user_type=user_type, user_id=user_id, consent_id=consent_id,
                                         api_key_fp=fingerprint(secret))
        now = _stamp(self.state.now())
        return envelope({"Id": {"id": session_id}},
                        {"Token": {"id": session_id, "token": session}},
                        self._user_object(user_type, user_id, consent_id, timeout, now))

    def _user_object(self, user_type, user_id, consent_id, timeout, now):
        settings = self._settings()
        company = {"id": settings["company_user_id"], "created": now, "updated": now,
                   "name": settings["company_name"], "display_name": settings["company_name"],
                   "public_nick_name": settings["company_name"], "country": "NL", "language": "nl_NL",
                   "region": "nl_NL", "status": "ACTIVE", "sub_status": "NONE", "session_timeout": timeout}
        psp = {"id": PSP_USER_ID, "created": now, "updated": now, "status": "ACTIVE", "sub_status": "NONE",
               "display_name": "Sandbox TPP B.V.", "public_nick_name": "Sandbox TPP",
               "certificate_distinguished_name": "CN=Sandbox TPP QSealC (bunq) AISP PISP",
               "language": "nl_NL", "region": "nl_NL", "session_timeout": timeout}
        if user_type == "company":
            return {"UserCompany": company}
        if user_type == "psp":
            return {"UserPaymentServiceProvider": psp}
        # An OAuth grant: the PSD2 provider requested, the company granted [C B-doc].
        return {"UserApiKey": {"id": user_id, "created": now, "updated": now,
                               "requested_by_user": {"UserPaymentServiceProvider": psp},
                               "granted_by_user": {"UserCompany": company}}}

    def psp_credential(self, request):
        """PSD2 registration: the QSealC, its chain and a signature with its key
        over ``<client public key>\\n<installation token>`` [C B-doc; B-sdk for the string]."""
        token, record = self._installation(request)
        body = self._body(request)
        try:
            certificate = x509.load_pem_x509_certificate(
                str(body.get("client_payment_service_provider_certificate") or "").encode())
        except ValueError:
            return error(400, "The certificate is not a valid PEM certificate.")
        if not body.get("client_payment_service_provider_certificate_chain"):
            return error(400, "The certificate chain is required.")
        if self.ca_cert is not None and not issued_by(certificate, self.ca_cert):
            return error(400, "The certificate is not issued by a trusted authority.")
        common_name = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        roles = common_name[0].value if common_name else ""
        if not any(role in roles for role in ("AISP", "PISP")):
            # The sandbox takes the roles from the CN [C B-doc].
            return error(400, "The certificate names no PSD2 role (AISP, PISP).")
        signed = (record["public_key"] + "\n" + token).encode()
        try:
            certificate.public_key().verify(base64.b64decode(str(body.get("client_public_key_signature") or ""),
                                                             validate=True),
                                            signed, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError, binascii.Error):
            return error(400, "The public key signature does not match the certificate.")
        api_key = self.state.issue_token("api_key", "bunq", LONG_LIFE, user_type="psp", user_id=PSP_USER_ID,
                                         certificate_fp=fingerprint(certificate.subject.rfc4514_string()))
        now = _stamp(self.state.now())
        # The SDK reads a CredentialPasswordIp whose token_value is the API key [C B-sdk].
        return envelope({"CredentialPasswordIp": {
            "id": 2200 + len(self.state.tokens), "created": now, "updated": now, "status": "PENDING_FIRST_USE",
            "expiry_time": _stamp(self.state.now() + 3600), "token_value": api_key}})

    def _session(self, request):
        token = request.headers.get("X-Bunq-Client-Authentication", "")
        record = self.state.raw_token(token)
        if not record or record["kind"] != "session" or record["bank"] != "bunq":
            raise BunqError(error(401, "Insufficient authentication."))
        if self.state.token(token, "session", "bunq") is None:
            raise BunqError(error(401, "Insufficient authentication."))
        installation = self.state.raw_token(record["installation"])
        self._verify_client_signature(request, installation["public_key"], required=request.method != "GET")
        return token, record

    def delete_session(self, request, session_id):
        token, record = self._session(request)
        if record["session_id"] != session_id:
            return error(404, "Session not found.")
        with self.state.lock:
            record["status"] = "deleted"
            self.state.save()
        return envelope()

    # ------------------------------------------------------------ user API
    def user_api(self, request, user_id, rest):
        token, session = self._session(request)
        if session["user_id"] != user_id:
            return error(403, "Insufficient authorisation.")
        client = OAUTH_CLIENT_PATH.match(rest)
        if client:
            return self.oauth_client(request, session, client.group(1), client.group(2))
        visible = self._visible_accounts(session)
        draft = DRAFT_PATH.match(rest)
        if draft:
            return self.draft_payments(request, session, visible, int(draft.group(1)),
                                       int(draft.group(2)) if draft.group(2) else None)
        if request.method != "GET":
            return error(405, "Method not allowed.")
        payments = PAYMENT_PATH.match(rest)
        if payments:
            account = visible.get(int(payments.group(1)))
            if account is None:
                return error(404, "Monetary account not found.")
            if payments.group(2):
                return self.one_payment(account, int(payments.group(2)))
            return self.list_payments(request, account, rest)
        accounts = ACCOUNT_PATH.match(rest)
        if accounts:
            if accounts.group(1):
                account = visible.get(int(accounts.group(1)))
                if account is None:
                    return error(404, "Monetary account not found.")
                return envelope(self._render_account(*account))
            only_bank = rest.startswith("/monetary-account-bank")
            rendered = [self._render_account(index, acc) for index, acc in visible.values()
                        if not only_bank or acc.kind != "savings"]
            if only_bank:
                rendered = [{"MonetaryAccountBank": item["MonetaryAccountBank"]} for item in rendered]
            return envelope(*rendered, pagination={"future_url": None, "newer_url": None, "older_url": None})
        return error(404, "Route not found.")

    def _visible_accounts(self, session):
        """monetary account id -> (index, account) this session's user may read."""
        accounts = {self.account_id(index): (index, account) for index, account in enumerate(self._accounts())}
        if session["user_type"] == "company":
            return accounts
        if session["user_type"] == "psp":
            return {}
        with self.state.lock:
            consent = self.state.consents.get(session.get("consent_id")) or {}
        chosen = set(consent.get("accounts", []))
        return {key: value for key, value in accounts.items() if value[1].resource_id in chosen}

    def _render_account(self, index, account):
        settings = self._settings()
        now = _stamp(self.state.now())
        data = {
            "id": self.account_id(index), "created": now, "updated": now, "currency": account.currency,
            "description": account.product, "display_name": account.holder,
            "daily_limit": _money("10000", account.currency), "balance": _money(account.booked_balance, account.currency),
            "alias": [{"type": "IBAN", "value": account.iban, "name": account.holder}],
            "public_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"bunq:{account.iban}")),
            "status": "ACTIVE", "sub_status": "NONE", "user_id": settings["company_user_id"],
        }
        if account.kind == "savings":
            return {"MonetaryAccountSavings": data}
        data["overdraft_limit"] = _money("0", account.currency)
        data["country_iban"] = "NL"
        return {"MonetaryAccountBank": data}

    # ------------------------------------------------------------ payments
    def _payments(self, index, account):
        """Booked records as bunq payments, newest first. The id grows with
        time and stays the same when rows are added later (a client keeps it
        as the payment's identity): the moment to the second, then the
        record's position among that second's rows."""
        rows = []
        for record in account.booked:
            day = datetime.date.fromisoformat(record["booking_date"]).toordinal()
            clock = datetime.time.fromisoformat(record["time"])
            seconds = clock.hour * 3600 + clock.minute * 60 + clock.second
            rows.append(((day * 86400 + seconds) * 1000 + int(record.get("seq", 0)) % 1000, record))
        rows.sort(key=lambda row: row[0], reverse=True)
        return rows

    def _render_payment(self, index, account, payment_id, record):
        local = datetime.datetime.combine(datetime.date.fromisoformat(record["booking_date"]),
                                          datetime.time.fromisoformat(record["time"]), tzinfo=AMSTERDAM)
        created = local.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        kind = record.get("kind", "sepa")
        payment_type, sub_type = PAYMENT_TYPES.get(kind, ("EBA_SCT", "SCT"))
        name = record.get("counterparty_name") or ""
        iban = record.get("counterparty_iban") or ""
        if kind == "costs":
            name, iban = BUNQ_FEES
        elif iban[4:8] == "BUNQ" and kind == "sepa":
            payment_type, sub_type = "BUNQ", "PAYMENT"
        counterparty = {"display_name": name, "country": "NL",
                        "label_user": {"display_name": name, "country": "NL"}}
        if iban:
            counterparty["iban"] = iban
        if kind in ("card", "atm") and record.get("card"):
            counterparty["country"] = "NL"
            counterparty["label_user"]["display_name"] = f"{name} {record['card'].get('city', '')}".strip()
        # bunq has no structured-reference field: a betalingskenmerk is in the
        # description, where the payer typed it (inferred).
        description = record.get("description") or ""
        reference = record.get("reference")
        if reference and reference not in description.replace(" ", ""):
            description = f"{description} {reference}".strip()
        data = {
            "id": payment_id, "created": created, "updated": created,
            "monetary_account_id": self.account_id(index),
            "amount": _money(record["amount"], record.get("currency", account.currency)),
            "alias": {"iban": account.iban, "display_name": account.holder, "country": "NL", "is_light": False,
                      "label_user": {"display_name": account.holder, "country": "NL"}},
            "counterparty_alias": counterparty, "description": description,
            "type": payment_type, "sub_type": sub_type,
            "balance_after_mutation": _money(record["balance_after"], account.currency),
            "attachment": [], "request_reference_split_the_bill": [],
        }
        return {"Payment": data}

    def one_payment(self, account_entry, payment_id):
        index, account = account_entry
        for pid, record in self._payments(index, account):
            if pid == payment_id:
                return envelope(self._render_payment(index, account, pid, record))
        return error(404, "Payment not found.")

    def list_payments(self, request, account_entry, rest):
        """``count`` (default 10, max 200), ``older_id`` / ``newer_id``;
        ``Pagination`` with ``older_url`` / ``newer_url`` / ``future_url``
        [C B-doc]. Newest first (inferred from the doc's example)."""
        index, account = account_entry
        settings = self._settings()
        args = request.args
        try:
            count = int(args.get("count", settings["page_count_default"]))
            older_id = int(args["older_id"]) if "older_id" in args else None
            newer_id = int(args["newer_id"]) if "newer_id" in args else None
        except ValueError:
            return error(400, "count, older_id and newer_id must be integers.")
        if not 1 <= count <= settings["page_count_max"]:
            return error(400, f"count must be between 1 and {settings['page_count_max']}.")
        if older_id is not None and newer_id is not None:
            return error(400, "Use older_id or newer_id, not both.")
        rows = self._payments(index, account)
        if older_id is not None:
            page = [row for row in rows if row[0] < older_id][:count]
        elif newer_id is not None:
            page = [row for row in rows if row[0] > newer_id][-count:]
        else:
            page = rows[:count]
        base = f"{V1}/user/{request.path.split('/')[3]}{rest}?count={count}"
        ids = [pid for pid, _ in page]
        older = newer = future = None
        if ids:
            if any(pid < min(ids) for pid, _ in rows):
                older = f"{base}&older_id={min(ids)}"
            if any(pid > max(ids) for pid, _ in rows):
                newer = f"{base}&newer_id={max(ids)}"
            else:
                future = f"{base}&newer_id={max(ids)}"
        return envelope(*(self._render_payment(index, account, pid, record) for pid, record in page),
                        pagination={"future_url": future, "newer_url": newer, "older_url": older})

    # ------------------------------------------------------------ OAuth client
    def oauth_client(self, request, session, client_id, callback):
        """One OAuth client per user [C B-doc]; the sandbox's is pre-made."""
        if session["user_type"] != "psp":
            return error(403, "Only a payment service provider can manage an OAuth client.")
        settings = self._settings()
        with self.state.lock:
            client = self.state.grant_requests.setdefault("bunq_oauth_client", {"callback_urls": []})
        if client_id is None:
            if request.method == "POST":
                return envelope({"Id": {"id": OAUTH_CLIENT_ID}})
            return envelope({"OauthClient": self._render_client(client, settings)},
                            pagination={"future_url": None, "newer_url": None, "older_url": None})
        if int(client_id) != OAUTH_CLIENT_ID:
            return error(404, "OAuth client not found.")
        if callback:
            if request.method == "POST":
                url = self._body(request).get("url")
                if not isinstance(url, str) or not url.startswith(("https://", "http://localhost",
                                                                   "http://127.0.0.1")):
                    return error(400, "The callback URL must be an https URL.")
                with self.state.lock:
                    client["callback_urls"].append(url)
                    self.state.save()
                return envelope({"Id": {"id": 100 + len(client["callback_urls"])}})
            return envelope(*({"OauthCallbackUrl": {"id": 101 + n, "url": url}}
                              for n, url in enumerate(client["callback_urls"])))
        return envelope({"OauthClient": self._render_client(client, settings)})

    @staticmethod
    def _render_client(client, settings):
        return {"id": OAUTH_CLIENT_ID, "status": "ACTIVE", "display_name": "Sandbox TPP",
                "client_id": settings["client_id"], "secret": settings["client_secret"],
                "callback_url": [{"id": 101 + n, "url": url} for n, url in enumerate(client["callback_urls"])]}

    # ------------------------------------------------------------ OAuth
    def _registered_redirect(self, redirect_uri):
        """Redirect URLs are registered with the OAuth client [C B-doc]; with
        none registered the sandbox accepts any (inferred, for tests)."""
        with self.state.lock:
            urls = (self.state.grant_requests.get("bunq_oauth_client") or {}).get("callback_urls") or []
        return not urls or any(redirect_uri.startswith(url) for url in urls)

    def authorize(self, request):
        if request.method == "POST":
            return self.continue_consent_page(request)
        args = request.args
        problems = []
        if args.get("client_id") != self._settings()["client_id"]:
            problems.append("onbekende client_id")
        if args.get("response_type") != "code":
            problems.append("response_type moet code zijn")
        if not args.get("redirect_uri"):
            problems.append("redirect_uri ontbreekt")
        elif not self._registered_redirect(args["redirect_uri"]):
            problems.append("redirect_uri is niet geregistreerd bij deze OAuth-client")
        if problems:
            return html_response(pages.error_page("bunq", "; ".join(problems)), 400)
        return self.start_consent_page({
            "client_id": args["client_id"], "redirect_uri": args["redirect_uri"], "state": args.get("state"),
            "scopes": ["bunq:ais"], "tpp_name": "Uw boekhoudpakket",
        })

    def grant_consent(self, session):
        settings = self._settings()
        now = self.state.now()
        consent_id = str(uuid.uuid4())
        with self.state.lock:
            self.state.consents[consent_id] = {
                "id": consent_id, "bank": "bunq", "status": "active", "created": now,
                "client_id": session["client_id"], "accounts": session["chosen"],
                "valid_until": now + settings["consent_days"] * 86400,
                "user_api_key_id": 9000 + sum(1 for c in self.state.consents.values() if c["bank"] == "bunq"),
            }
            self.state.save()
        return self.state.issue_code("bunq", settings["code_ttl"], consent_id=consent_id,
                                     client_id=session["client_id"], redirect_uri=session["redirect_uri"],
                                     state=session.get("state"))

    def token(self, request):
        """Every parameter in the URL, no body [C B-doc]."""
        args = request.args
        settings = self._settings()
        if request.get_data():
            return json_response({"error": "invalid_request",
                                  "error_description": "The request should only contain URL parameters."}, 400)
        if args.get("grant_type") != "authorization_code":
            return json_response({"error": "unsupported_grant_type",
                                  "error_description": "Only authorization_code is supported."}, 400)
        if args.get("client_id") != settings["client_id"] or not secrets.compare_digest(
                args.get("client_secret", ""), settings["client_secret"]):
            return json_response({"error": "invalid_client", "error_description": "Client authentication failed."},
                                 401)
        code = args.get("code", "")
        with self.state.lock:
            record = self.state.codes.get(code)
            valid = (record and record["bank"] == "bunq" and not record["used"]
                     and record["expires_at"] >= self.state.now()
                     and record["redirect_uri"] == args.get("redirect_uri"))
            if record and valid:
                record["used"] = True
                self.state.save()
        if not valid:
            return json_response({"error": "invalid_grant",
                                  "error_description": "The authorization code is invalid or expired."}, 400)
        with self.state.lock:
            consent = self.state.consents[record["consent_id"]]
        access_token = self.state.issue_token(
            "api_key", "bunq", settings["consent_days"] * 86400, user_type="oauth",
            user_id=consent["user_api_key_id"], consent_id=record["consent_id"])
        # No expiry and no refresh token are described [C B-doc].
        return json_response({"access_token": access_token, "token_type": "bearer", "state": record.get("state")})

    # ------------------------------------------------------------ admin
    def admin_bunq(self, request):
        with self.state.lock:
            sessions = [{"id": t["session_id"], "user_type": t["user_type"], "status": t["status"],
                         "expires_at": t["expires_at"]}
                        for t in self.state.tokens.values() if t["bank"] == "bunq" and t["kind"] == "session"]
            installations = sum(1 for t in self.state.tokens.values()
                                if t["bank"] == "bunq" and t["kind"] == "installation")
        return json_response({"server_public_key": self.server_public_pem, "sessions": sessions,
                              "installations": installations, "company_user_id": self._settings()["company_user_id"],
                              "accounts": [{"id": self.account_id(i), "iban": a.iban, "product": a.product,
                                            "kind": a.kind, "resourceId": a.resource_id}
                                           for i, a in enumerate(self._accounts())]})


__all__ = ["BunqApp"]
