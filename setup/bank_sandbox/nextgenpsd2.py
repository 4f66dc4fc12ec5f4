"""Berlin Group NextGenPSD2 (AIS) for Knab, Triodos and de Volksbank (ASN Bank, SNS, RegioBank).

One port, one implementation of the standard flow, a profile per bank for its
deviations. Facts: ../shared/specs/berlingroup/NOTES-knab.md, NOTES-triodos.md,
NOTES-volksbank.md; the tag after a comment names the source there ([C ...]
confirmed by the bank, [I ...] inferred from third-party code). "Inferred"
without a tag is the sandbox's own choice where the notes say nothing.

Each bank lives under its own path prefix, production's path where the bank
has one on a shared host:

* Knab:      ``/knab/openbanking/v1|v2/...`` (API), ``/knab/connect/{authorize,token}`` (login.knab.nl)
* Triodos:   ``/triodos/xs2a-bg/nl/...`` (API, onboarding), ``/triodos/auth/nl/v1/...`` (OAuth, registration)
* Volksbank: ``/psd2/{asnbank,snsbank,regiobank}/v1|v1.1/...`` (as on psd.bancairediensten.nl)
"""

import base64
import binascii
import datetime
import hashlib
import json
import re
import secrets
import urllib.parse
import uuid
from html import escape

from . import httpsig, pages
from .consentflow import redirect_back
from .httpsig import SignatureError
from .nextgenpsd2_payments import NgPaymentsMixin
from .scenario import AMSTERDAM
from .server import BankApp
from .state import fingerprint
from .web import Response, bearer_token, html_response, json_response

MAX_TAN_ATTEMPTS = 3
#: RTS art. 36(5)(b): unattended access (no PSU-IP-Address) at most 4 times a day.
UNATTENDED_PER_DAY = 4

# ---------------------------------------------------------------- profiles
PROFILES = {
    "knab": {
        "name": "Knab", "prefix": "/knab", "api": "/knab/openbanking", "auth": "/knab/connect",
        "consent_version": "v2",  # v2 consent: access is a list of strings [I Y-knab]
        "ais_version": "v1", "sca": "oauth_scope",  # scope AIS:<consentId> [I Y-knab]
        "signed": {"consent": ["digest", "x-request-id", "date", "tpp-redirect-uri"],
                   "data": ["digest", "x-request-id", "date"]},  # [I Y-knab]
        "key_id": "sn_decimal_ca",  # SN=<decimal serial>,CA=<DN> [I Y-knab]
        "frequency_enforced": True, "single_account": False, "unsigned_amounts": False,
        "ids": ("transactionId", "entryReference"), "color": "#00a0dc", "subtitle": "Knab Zakelijk",
    },
    "triodos": {
        "name": "Triodos Bank", "prefix": "/triodos", "api": "/triodos/xs2a-bg/nl", "auth": "/triodos/auth/nl/v1",
        "href_root": "/triodos/xs2a-bg",  # account _links start with /nl/v1/... [I Y-tri]
        "consent_version": "v1", "ais_version": "v1", "sca": "oauth_pkce",  # [C T-auth; I Y-tri for PKCE]
        "signed": {"consent": ["digest", "x-request-id"], "data": ["digest", "x-request-id"]},  # [C T-ais example]
        "key_id": "sn_hex_ca",  # SN=<hex serial>,CA=<issuer DN> [I Y-tri]
        "frequency_enforced": True, "single_account": True,  # one account per consent [C T-faq]
        "unsigned_amounts": True,  # [I Y-tri README]
        "ids": ("transactionId", "entryReference"), "color": "#00836b", "subtitle": "Triodos Internet Bankieren",
    },
}
for _brand, _name, _color in (("asn", "ASN Bank", "#007a5e"), ("sns", "SNS", "#5c2483"),
                              ("regiobank", "RegioBank", "#e8542c")):
    path = "/psd2/" + (_brand + "bank" if _brand != "regiobank" else "regiobank")  # [C V-swagger]
    PROFILES[_brand] = {
        "name": _name, "prefix": path, "api": path, "auth": path + "/v1",
        "consent_version": "v1", "ais_version": "v1.1",  # consent v1, AIS v1.1 [C V-swagger]
        "sca": "oauth_consent_id",  # authorize?...&consentId=... [I Y-vb, T-vb]
        "signed": None,  # mTLS only, no signing [I Y-vb README]
        "frequency_enforced": False,  # "mandatory but not enforced yet" [I Y-vb]
        "single_account": False, "unsigned_amounts": False,
        "ids": ("entryReference",), "color": _color, "subtitle": "Internet Bankieren Zakelijk",
        "volksbank": True, "error_shape": "single",  # TppMessage object [C V-swagger]
    }

# Inferred: ISO bank transaction codes (domain-family-subfamily) per kind.
ISO_CODES = {"sepa": "PMNT-RCDT-ESCT", "sepa_out": "PMNT-ICDT-ESCT", "ideal": "PMNT-ICDT-ESCT",
             "card": "PMNT-CCRD-POSD", "atm": "PMNT-CCRD-CWDL", "direct_debit": "PMNT-IDDT-ESDD",
             "costs": "ACMT-MDOP-CHRG"}
# Inferred: de Volksbank's numeric codes (the Swagger's example is 7241).
VOLKSBANK_CODES = {"sepa": 7241, "sepa_out": 7242, "ideal": 7243, "card": 7251, "atm": 7252,
                   "direct_debit": 7261, "costs": 7290}
DEFAULT_CODES = {400: "FORMAT_ERROR", 401: "TOKEN_INVALID", 403: "SERVICE_BLOCKED", 404: "RESOURCE_UNKNOWN",
                 405: "SERVICE_INVALID", 429: "ACCESS_EXCEEDED"}


def redirect_uri_ok(uri):
    """https, as the banks demand [I Y-knab; C T-reg; I Y-vb]. Local sandbox only, not the
    banks: an Odoo on this machine over plain http (./setup/demo, the browser tests) may be
    sent back to as well; the addon sends such a URI for a sandbox registration only."""
    parts = urllib.parse.urlsplit(uri or "")
    return (parts.scheme == "https" and bool(parts.hostname)) or (
        parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1"))


def volksbank_entry_number(record_id):
    """The part of de Volksbank's ``entryReference`` (``<booking date>-<number>``, inferred
    shape) that follows from the sandbox's transaction id; a test that added the
    transaction finds it by this (the bank gives no ``transactionId`` [C V-swagger])."""
    # Letters and digits only: an id added by a test may hold dashes ("FAULT-ASN-...-1001").
    tail = "".join(c for c in record_id if c.isalnum())[-8:] or "0"
    return f"{int(tail, 36) % 10**8:08d}"


def brand(profile):
    """(CSS, logo HTML) of a bank's pages: the consent pages here, the payment approval
    pages of approval.py (through pages.BRANDS)."""
    color = profile["color"]
    style = (f"body{{margin:0;font-family:Arial,Helvetica,sans-serif;background:#f4f4f4;color:#222}}"
             f"header{{background:{color};padding:14px 24px;color:#fff}}.logo{{font-weight:bold;font-size:24px}}"
             ".logo small{display:block;font-size:12px;font-weight:normal}"
             "main{max-width:620px;margin:28px auto;background:#fff;padding:24px 32px;border-radius:6px}"
             f"h1{{color:{color};font-size:24px;margin-top:0}}.account{{display:flex;gap:12px;padding:12px 0;"
             "border-bottom:1px solid #e4e4e4}.account.disabled{color:#999}.reason{font-size:13px;color:#999}"
             ".iban{font-family:monospace;font-size:15px}button{border:0;padding:11px 22px;font-size:16px;"
             f"cursor:pointer;border-radius:4px}}.primary{{background:{color};color:#fff}}"
             f".secondary{{background:#fff;color:{color};border:1px solid {color}}}"
             ".sandbox{background:#fffbe0;border:1px dashed #c8a800;padding:8px 12px;margin:12px 0}"
             ".error{color:#c00;font-weight:bold}")
    logo = f'<div class="logo">{escape(profile["name"])}<small>{escape(profile["subtitle"])}</small></div>'
    return style, logo


for _bank, _profile in PROFILES.items():
    pages.BRANDS[_bank] = brand(_profile)  # the payment approval pages (approval.py) in the bank's look


class NgError(Exception):
    def __init__(self, response):
        super().__init__(response.status_code)
        self.response = response


def oauth_error(error, description, status=400):
    return json_response({"error": error, "error_description": description}, status)


def _date(value, name, error):
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise NgError(error(400, "FORMAT_ERROR", f"{name} must be yyyy-mm-dd")) from None


class NextGenPsd2BankApp(NgPaymentsMixin, BankApp):
    """One NextGenPSD2 bank (``bank`` = profile key) behind :class:`NextGenPsd2Router`."""

    def __init__(self, bank, state, cert_checker, settings):
        super().__init__(state, cert_checker, settings)
        self.bank = bank
        self.profile = PROFILES[bank]

    def _settings(self):
        return self.state.current_scenario().raw[self.bank]

    # ------------------------------------------------------------ errors
    def tpp_error(self, status, code, text, headers=None):
        message = {"category": "ERROR", "code": code, "text": text[:500]}
        body = message if self.profile.get("error_shape") == "single" else {"tppMessages": [message]}
        return json_response(body, status, headers)

    def error_response(self, request, status, fault):
        fault = fault or {}
        if request.path.startswith(self.profile["auth"] + "/token") or request.path.endswith("/registration"):
            error = {401: "invalid_client", 429: "temporarily_unavailable",
                     503: "temporarily_unavailable"}.get(status, "server_error" if status >= 500 else "invalid_request")
            return oauth_error(error, fault.get("message") or "Sandbox fault", status)
        code = fault.get("code") or DEFAULT_CODES.get(status, "INTERNAL_SERVER_ERROR" if status >= 500 else "FORMAT_ERROR")
        return self.tpp_error(status, code, fault.get("message") or "Sandbox fault")

    # ------------------------------------------------------------ routing
    def dispatch(self, request):
        path, method = request.path, request.method
        profile = self.profile
        api, auth = profile["api"], profile["auth"]
        try:
            answer = self.payments_dispatch(request)
            if answer is not None:
                return answer
            if path == auth + "/authorize":
                return self.consent_page(request) if method == "POST" else self.authorize(request)
            if path == auth + "/token" and method == "POST":
                return self.token(request)
            if self.bank == "triodos" and path == auth + "/registration" and method == "POST":
                return self.register_client(request)
            if self.bank == "triodos" and path == api + "/onboarding/v1" and method == "GET":
                return self.onboarding(request)
            consents = f"{api}/{profile['consent_version']}/consents"
            if path == consents and method == "POST":
                return self.create_consent(request)
            match = re.fullmatch(re.escape(consents) + r"/([^/]+)(/status|/authorisations/[^/]+)?", path)
            if match:
                return self.consent_resource(request, match.group(1), match.group(2) or "")
            ais = f"{api}/{profile['ais_version']}/accounts"
            if path == ais or path.startswith(ais + "/"):
                if method != "GET":
                    return self.tpp_error(405, "SERVICE_INVALID", "Use GET")
                return self.ais(request, path[len(ais):])
        except NgError as error:
            return error.response
        return self.tpp_error(404, "RESOURCE_UNKNOWN", "No such resource")

    # ------------------------------------------------------------ common checks
    def _require_cert(self, request, oauth=False):
        if self.certs.from_environ(request.environ) is None:
            text = "A valid TLS client certificate (QWAC) is required"
            raise NgError(oauth_error("invalid_client", text, 401) if oauth
                          else self.tpp_error(401, "CERTIFICATE_MISSING", text))

    def _request_id(self, request):
        try:
            uuid.UUID(request.headers.get("X-Request-ID", ""))
        except ValueError:
            raise NgError(self.tpp_error(400, "FORMAT_ERROR", "X-Request-ID must be a UUID")) from None

    def _check_signature(self, request, kind):
        """Digest + draft-cavage Signature with the QSealC in TPP-Signature-Certificate."""
        names = (self.profile.get("signed") or {}).get(kind)
        if not names:
            return None
        try:
            header = request.headers.get("Signature")
            if not header:
                raise SignatureError("Signature header is missing", 400)
            params = httpsig.parse_params(header)
            cert_header = request.headers.get("TPP-Signature-Certificate")
            if not cert_header:
                raise SignatureError("TPP-Signature-Certificate header is missing", 400)
            certificate = httpsig.load_one_line_certificate(cert_header)
            if not self.certs.issued_by_ca(certificate):
                return self._raise(401, "CERTIFICATE_INVALID", "The signing certificate is not issued by a trusted CA")
            serial, _, ca = params["keyId"].partition(",")
            if not serial.upper().startswith("SN=") or not ca.upper().startswith("CA="):
                raise SignatureError('keyId must be "SN=<serial>,CA=<distinguished name>"')
            if self.profile["key_id"] == "sn_decimal_ca":
                expected = str(certificate.serial_number)  # decimal, Yolt's reading [I Y-knab]
            else:
                expected = "%X" % certificate.serial_number  # hex [I Y-tri]
            if serial[3:].upper().lstrip("0") != expected.lstrip("0"):
                raise SignatureError("keyId does not name the serial number of the signing certificate")
            if params["headers"].lower().split() != names:
                raise SignatureError("Signature must cover: " + " ".join(names), 400)
            if "date" in names:
                httpsig.check_date(request.environ, self._settings().get("signature_max_skew_seconds", 300))
            httpsig.verify(certificate.public_key(), params, request.environ, names, ("rsa-sha256", "rsa-sha512"))
            httpsig.check_digest(request.environ, request.get_data())
        except SignatureError as error:
            code = "SIGNATURE_INVALID" if error.status == 401 else "FORMAT_ERROR"
            raise NgError(self.tpp_error(error.status, code, str(error))) from None
        return certificate

    def _raise(self, status, code, text):
        raise NgError(self.tpp_error(status, code, text))

    def _basic(self, request):
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None, None
        try:
            client_id, _, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        return client_id, secret

    def _client_ok(self, client_id, secret):
        if self.bank == "triodos":
            client = self.state.grant_requests.get("triodos-client:" + (client_id or ""))
            return bool(client and client["status"] == "active"  # a new registration revokes it [C T-reg]
                        and secrets.compare_digest(secret or "", client["client_secret"]))
        settings = self._settings()
        return client_id == settings["client_id"] and secrets.compare_digest(secret or "", settings["client_secret"])

    # ------------------------------------------------------------ Triodos: dynamic client registration
    def onboarding(self, request):
        """Signed GET -> initial access token for one registration [I Y-tri]."""
        self._require_cert(request)
        self._request_id(request)
        certificate = self._check_signature(request, "consent")
        token = self.state.issue_token("client-reg", "triodos", 600, cert=_cert_fp(certificate))
        return json_response({"access_token": token, "token_type": "Bearer", "expires_in": 600, "scope": "client-reg",
                              "_links": {"registration": {"href": self.profile["auth"] + "/registration"}}})

    def register_client(self, request):
        """OpenID Connect DCR; a new registration revokes the previous one [C T-reg]."""
        self._require_cert(request, oauth=True)
        token = request.form.get("initial_access_token") or bearer_token(request)
        record = self.state.token(token, "client-reg", "triodos")
        if not record:
            return oauth_error("invalid_token", "The initial access token is invalid or expired", 401)
        redirect_uris = request.form.getlist("redirect_uris")
        if not redirect_uris or not all(redirect_uri_ok(u) for u in redirect_uris):
            return oauth_error("invalid_redirect_uri", "redirect_uris must be https URLs")
        client_id, client_secret = "tri-" + secrets.token_hex(8), secrets.token_urlsafe(24)
        with self.state.lock:
            record["status"] = "used"
            for key, client in list(self.state.grant_requests.items()):
                if key.startswith("triodos-client:") and client["cert"] == record["cert"]:
                    client["status"] = "revoked"
            self.state.grant_requests["triodos-client:" + client_id] = {
                "client_secret": client_secret, "redirect_uris": redirect_uris, "cert": record["cert"],
                "status": "active"}
            self.state.save()
        return json_response({"client_id": client_id, "client_secret": client_secret,
                              "redirect_uris": redirect_uris, "token_endpoint_auth_method": "client_secret_basic",
                              "tls_client_certificate_bound_access_tokens": True}, 201)

    def _triodos_client_of(self, certificate):
        fp = _cert_fp(certificate)
        with self.state.lock:
            for key, client in self.state.grant_requests.items():
                if key.startswith("triodos-client:") and client["cert"] == fp and client["status"] == "active":
                    return key.split(":", 1)[1], client
        return None, None

    # ------------------------------------------------------------ consent resource
    def create_consent(self, request):
        profile, settings = self.profile, self._settings()
        self._require_cert(request)
        self._request_id(request)
        client_id = None
        if self.bank == "knab":
            record = self.state.token(bearer_token(request), "app", "knab")
            if not record:
                self._raise(401, "TOKEN_INVALID", "An application token (client credentials) is required")
            client_id = record["client_id"]
        elif profile.get("volksbank"):
            # The plain client id, no "Bearer" [C V-swagger; I Y-vb].
            if request.headers.get("Authorization") != settings["client_id"]:
                self._raise(401, "TOKEN_INVALID", "Authorization must be the registered client id")
            client_id = settings["client_id"]
        certificate = self._check_signature(request, "consent")
        if self.bank == "triodos":
            client_id, _client = self._triodos_client_of(certificate)
            if not client_id:
                self._raise(401, "CERTIFICATE_INVALID", "No client is registered for this certificate")
        if not request.headers.get("PSU-IP-Address"):
            # The user is present when a consent is made [C V-sandbox; I Y-knab, Y-tri].
            self._raise(400, "FORMAT_ERROR", "PSU-IP-Address is required")
        if profile["sca"] != "oauth_consent_id" and not redirect_uri_ok(request.headers.get("TPP-Redirect-URI", "")):
            self._raise(400, "FORMAT_ERROR", "TPP-Redirect-URI is required")
        access, valid_until, frequency = self._consent_body(request)
        consent_id = secrets.token_hex(12)
        authorisation_id = secrets.token_hex(8)
        end = datetime.datetime.combine(valid_until, datetime.time(23, 59, 59), AMSTERDAM).timestamp()
        with self.state.lock:
            self.state.consents[consent_id] = {
                "id": consent_id, "bank": self.bank, "status": "received", "created": self.state.now(),
                "client_id": client_id, "accounts": [], "valid_until": end, "valid_until_day": valid_until.isoformat(),
                "frequency": frequency, "authorisation_id": authorisation_id, "usage": {}, "history_used": [],
                "redirect_uri": request.headers.get("TPP-Redirect-URI"), "access": access,
            }
            self.state.save()
        return json_response(self._consent_created(consent_id, authorisation_id, client_id), 201,
                             {"ASPSP-SCA-Approach": "REDIRECT", "X-Request-ID": request.headers["X-Request-ID"]})

    def _consent_body(self, request):
        """(access, validUntil capped at the bank's maximum, frequencyPerDay) of a consent request."""
        profile, settings = self.profile, self._settings()
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._raise(400, "FORMAT_ERROR", "The body must be a JSON object")
        for field in ("access", "recurringIndicator", "validUntil", "frequencyPerDay", "combinedServiceIndicator"):
            if field not in body:
                self._raise(400, "FORMAT_ERROR", f"{field} is required")
        access = body["access"]
        if profile["consent_version"] == "v2":
            if not isinstance(access, list) or not set(access) <= {"accounts", "balances", "transactions"} or not access:
                self._raise(400, "FORMAT_ERROR", "access must be a list of accounts, balances, transactions")
        elif not isinstance(access, dict) or any(not isinstance(access.get(k), list)
                                                 for k in ("accounts", "balances", "transactions")):
            self._raise(400, "FORMAT_ERROR", "access needs accounts, balances and transactions lists")
        elif any(access[k] for k in ("accounts", "balances", "transactions")):
            # Bank-offered consent: the user picks the accounts [C T-auth; I Y-vb].
            self._raise(400, "FORMAT_ERROR", "Give empty lists: the account holder chooses the accounts")
        today = self.state.current_scenario().today
        valid_until = _date(body["validUntil"], "validUntil", self.tpp_error)
        if valid_until < today:
            self._raise(400, "FORMAT_ERROR", "validUntil lies in the past")
        valid_until = min(valid_until, today + datetime.timedelta(days=settings["max_consent_days"]))
        frequency = body["frequencyPerDay"]
        if not isinstance(frequency, int) or frequency < 1 or body["recurringIndicator"] is not True:
            self._raise(400, "FORMAT_ERROR", "A recurring consent with frequencyPerDay >= 1 is required")
        return access, valid_until, frequency

    def _consent_created(self, consent_id, authorisation_id, client_id):
        profile = self.profile
        consents = f"{profile['api']}/{profile['consent_version']}/consents/{consent_id}"
        body = {"consentId": consent_id, "consentStatus": "received"}
        if profile.get("volksbank"):
            body["_links"] = {"scaOAuth": {"href": profile["auth"] + "/authorize"}}  # [C V-swagger]
            return body
        links = {"self": {"href": consents}, "status": {"href": consents + "/status"}}
        if self.bank == "knab":
            # Knab answers "valid" at once; the OAuth step binds it [I Y-knab].
            body["consentStatus"] = "valid"
            links["scaOAuth"] = {"href": profile["auth"] + "/.well-known/openid-configuration"}
        else:
            query = urllib.parse.urlencode({"response_type": "code", "client_id": client_id,
                                            "scope": f"openid offline_access AIS:{consent_id}",
                                            "authorisationId": authorisation_id})
            links["scaOAuth"] = {"href": profile["auth"] + "/.well-known/openid-configuration"}
            links["scaRedirect"] = {"href": f"{profile['auth']}/authorize?{query}"}
            links["scaStatus"] = {"href": f"{consents}/authorisations/{authorisation_id}"}
            body["authorisationId"] = authorisation_id
        body["_links"] = links
        return body

    def _own_consent(self, request, consent_id):
        consent = self.state.consents.get(consent_id)
        if not consent or consent["bank"] != self.bank:
            self._raise(403, "CONSENT_UNKNOWN", "The consent is unknown")
        return consent

    def consent_resource(self, request, consent_id, tail):
        """GET consent / status, PUT authorisation (Triodos), DELETE consent."""
        self._require_cert(request)
        self._request_id(request)
        if self.profile.get("volksbank"):
            if request.headers.get("Authorization") != self._settings()["client_id"]:
                self._raise(401, "TOKEN_INVALID", "Authorization must be the registered client id")
        else:
            self._check_signature(request, "data")
        consent = self._own_consent(request, consent_id)
        status = self.consent_status(consent_id)
        if tail.startswith("/authorisations/"):
            if request.method not in ("GET", "PUT"):
                self._raise(405, "SERVICE_INVALID", "Use GET or PUT")
            return json_response({"scaStatus": "finalised" if consent["status"] != "received" else "received"})
        if request.method == "DELETE" and not tail:
            if consent["status"] in ("active", "received"):
                self.state.end_consent(consent_id, "terminated")
            return Response("", status=204)
        if request.method != "GET":
            self._raise(405, "SERVICE_INVALID", "Use GET or DELETE")
        if tail == "/status":
            return json_response({"consentStatus": status})
        access = consent["access"]
        if isinstance(access, list):
            access = {name: [] for name in access}
        scenario = self.state.current_scenario()
        chosen = [scenario.account_by_resource_id(self.bank, r) for r in consent["accounts"]]
        refs = [{"iban": a.iban} for a in chosen if a]
        if refs:
            access = {"accounts": refs, "balances": refs, "transactions": refs}
        return json_response({
            "access": access, "recurringIndicator": True, "validUntil": consent["valid_until_day"],
            "frequencyPerDay": consent["frequency"], "lastActionDate": scenario.today.isoformat(),
            "consentStatus": status})

    def consent_status(self, consent_id):
        consent = self.state.consents[consent_id]
        if consent["status"] == "active":
            return "valid" if consent["valid_until"] >= self.state.now() else "expired"
        return {"received": "received", "expired": "expired", "revoked": "revokedByPsu",
                "terminated": "terminatedByTpp", "rejected": "rejected"}.get(consent["status"], "rejected")

    # ------------------------------------------------------------ authorize + consent page (Dutch, TAN)
    def authorize(self, request):
        args, profile = request.args, self.profile
        problems, consent_id = [], None
        if args.get("response_type") != "code":
            problems.append("response_type moet code zijn")
        redirect_uri = args.get("redirect_uri", "")
        if not redirect_uri_ok(redirect_uri):
            problems.append("redirect_uri ontbreekt of is geen https-adres")
        client_id = args.get("client_id", "")
        if self.bank == "triodos":
            client = self.state.grant_requests.get("triodos-client:" + client_id)
            if not client or client["status"] != "active":
                problems.append("onbekende client_id")
            elif redirect_uri not in client["redirect_uris"]:
                problems.append("redirect_uri is niet geregistreerd")  # must match exactly [C T-reg]
            if args.get("code_challenge_method") != "S256" or len(args.get("code_challenge", "")) < 43:
                problems.append("PKCE (code_challenge, S256) ontbreekt")  # [I Y-tri]
        elif client_id != self._settings()["client_id"]:
            problems.append("onbekende client_id")
        if profile["sca"] == "oauth_consent_id":
            consent_id = args.get("consentId")
            if args.get("scope") != "AIS":
                problems.append("scope moet AIS zijn")  # [I Y-vb, T-vb]
        else:
            scopes = args.get("scope", "").split()
            ais = [s[4:] for s in scopes if s.startswith("AIS:")]
            consent_id = ais[0] if len(ais) == 1 else None
            needed = {"psd2", "offline_access"} if self.bank == "knab" else {"openid", "offline_access"}
            if not needed <= set(scopes):
                problems.append("scope moet " + " ".join(sorted(needed)) + " AIS:<consentId> bevatten")
        consent = self.state.consents.get(consent_id or "")
        if not consent or consent["bank"] != self.bank or consent["status"] != "received":
            problems.append("onbekende of al gebruikte toestemming (consentId)")
        elif consent["client_id"] != client_id:
            problems.append("de toestemming hoort bij een andere client_id")
        if problems:
            return html_response(self._page("Er ging iets mis", f'<p class="error">{escape("; ".join(problems))}</p>'), 400)
        session = secrets.token_urlsafe(16)
        with self.state.lock:
            self.state.page_sessions[session] = {
                "bank": self.bank, "consent_id": consent_id, "client_id": client_id, "redirect_uri": redirect_uri,
                "state": args.get("state"), "code_challenge": args.get("code_challenge"), "step": "accounts",
                "tan_attempts": 0}
        return html_response(self._accounts_page(session))

    def consent_page(self, request):
        session_id = request.form.get("session", "")
        with self.state.lock:
            session = self.state.page_sessions.get(session_id)
        if not session or session["bank"] != self.bank:
            return html_response(self._page("Er ging iets mis", '<p class="error">Deze sessie is verlopen. '
                                            "Begin opnieuw.</p>"), 400)
        if request.form.get("action") == "cancel":
            self._end_session(session_id)
            with self.state.lock:
                self.state.consents[session["consent_id"]]["status"] = "rejected"
                self.state.save()
            return redirect_back(session["redirect_uri"], error="access_denied", state=session.get("state"))
        step = request.form.get("step")
        if step == "accounts" and session["step"] == "accounts":
            chosen = request.form.getlist("accounts")
            accounts = {a.resource_id: a for a in self._accounts()}
            error = None
            if not chosen:
                error = "Kies een rekening." if self.profile["single_account"] else "Kies ten minste één rekening."
            elif self.profile["single_account"] and len(chosen) != 1:
                error = "U kunt voor één rekening tegelijk toestemming geven."
            elif any(c not in accounts or not accounts[c].eligible for c in chosen):
                error = "Deze rekening kan niet gekoppeld worden."
            if error:
                return html_response(self._accounts_page(session_id, error), 400)
            with self.state.lock:
                session.update(chosen=chosen, step="tan")
            return html_response(self._tan_page(session_id, session))
        if step == "tan" and session["step"] == "tan":
            if request.form.get("tan", "").strip() != self.settings["tan"]:
                with self.state.lock:
                    session["tan_attempts"] += 1
                if session["tan_attempts"] >= MAX_TAN_ATTEMPTS:
                    self._end_session(session_id)
                    return redirect_back(session["redirect_uri"], error="access_denied", state=session.get("state"))
                return html_response(self._tan_page(session_id, session, "Onjuiste code. Probeer het opnieuw."), 400)
            self._end_session(session_id)
            with self.state.lock:
                consent = self.state.consents[session["consent_id"]]
                consent["accounts"] = session["chosen"]
                consent["sca_done"] = True
                self.state.save()
            code = self.state.issue_code(self.bank, self._settings()["code_ttl"], consent_id=session["consent_id"],
                                         client_id=session["client_id"], redirect_uri=session["redirect_uri"],
                                         code_challenge=session.get("code_challenge"))
            return redirect_back(session["redirect_uri"], code=code, state=session.get("state"))
        return html_response(self._page("Er ging iets mis", '<p class="error">Onverwachte stap. Begin opnieuw.</p>'), 400)

    def _end_session(self, session_id):
        with self.state.lock:
            self.state.page_sessions.pop(session_id, None)

    def _accounts(self):
        return self.state.current_scenario().accounts[self.bank]

    def _page(self, title, body):
        style, logo = brand(self.profile)
        return ('<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{escape(title)}</title>'
                f"<style>{style}</style></head><body><header>{logo}</header><main><h1>{escape(title)}</h1>"
                f"{body}</main></body></html>")

    def _accounts_page(self, session_id, error=None):
        single = self.profile["single_account"]
        kind = "radio" if single else "checkbox"
        rows = []
        for account in self._accounts():
            disabled = "" if account.eligible else " disabled"
            reason = "" if account.eligible else f'<div class="reason">{escape(account.ineligible_reason)}</div>'
            grouped = " ".join(account.iban[i:i + 4] for i in range(0, len(account.iban), 4))
            rows.append(f'<label class="account{disabled and " disabled"}"><input type="{kind}" name="accounts" '
                        f'value="{escape(account.resource_id)}"{disabled}><div><div><strong>{escape(account.product)}'
                        f'</strong> &middot; {escape(account.holder)}</div><div class="iban">{escape(grouped)}</div>'
                        f"{reason}</div></label>")
        body = ("<p><strong>Uw boekhoudpakket</strong> vraagt toegang tot uw rekeninggegevens:</p>"
                '<ul class="scopes"><li>Rekeninggegevens en saldo bekijken</li><li>Transacties bekijken</li></ul>'
                + (f'<p class="error">{escape(error)}</p>' if error else "")
                + f'<form method="post"><input type="hidden" name="session" value="{escape(session_id)}">'
                '<input type="hidden" name="step" value="accounts">'
                f"<p>{'Kies de rekening' if single else 'Kies de rekeningen'} waarvoor u toestemming geeft:</p>"
                + "".join(rows)
                + '<p><button class="primary" name="action" value="approve">Doorgaan</button> '
                '<button class="secondary" name="action" value="cancel">Annuleren</button></p></form>')
        return self._page("Toestemming geven", body)

    def _tan_page(self, session_id, session, error=None):
        accounts = {a.resource_id: a for a in self._accounts()}
        chosen = "".join(f'<li class="iban">{escape(accounts[r].iban)}</li>' for r in session["chosen"])
        body = (f"<p>U geeft toestemming voor:</p><ul>{chosen}</ul>"
                + (f'<p class="error">{escape(error)}</p>' if error else "")
                + f'<div class="sandbox">Sandbox-TAN: <strong>{escape(self.settings["tan"])}</strong></div>'
                f'<form method="post"><input type="hidden" name="session" value="{escape(session_id)}">'
                '<input type="hidden" name="step" value="tan"><p><label>Vul uw TAN-code in: <input name="tan" '
                'inputmode="numeric" autocomplete="one-time-code" autofocus></label></p>'
                '<p><button class="primary" name="action" value="approve">Bevestigen</button> '
                '<button class="secondary" name="action" value="cancel">Annuleren</button></p></form>')
        return self._page("Toestemming bevestigen", body)

    # ------------------------------------------------------------ tokens
    def token(self, request):
        self._require_cert(request, oauth=True)
        volksbank = self.profile.get("volksbank")
        # de Volksbank: token parameters in the query string [I Y-vb, T-vb].
        params = request.args if volksbank else request.form
        grant_type = params.get("grant_type")
        request.environ["sandbox.log"]["grant_type"] = grant_type
        client_id, secret = self._basic(request)
        if self.bank == "knab" and grant_type == "refresh_token" and client_id is None:
            # Knab's refresh puts client_id and client_secret in the body [I Y-knab].
            client_id, secret = params.get("client_id"), params.get("client_secret")
        if not self._client_ok(client_id, secret):
            return oauth_error("invalid_client", "Client authentication failed", 401)
        if grant_type == "client_credentials" and self.bank == "knab":
            if params.get("scope") != "psd2":
                return oauth_error("invalid_scope", "scope must be psd2")
            lifetime = self._settings()["application_token_expires_in"]
            token = self.state.issue_token("app", "knab", lifetime, client_id=client_id)
            return json_response({"access_token": token, "token_type": "Bearer", "expires_in": lifetime, "scope": "psd2"})
        if grant_type == "authorization_code":
            return self._code_grant(params, client_id)
        if grant_type == "refresh_token":
            return self._refresh_grant(request, params, client_id)
        return oauth_error("unsupported_grant_type", "Unsupported grant_type")

    def _code_grant(self, params, client_id):
        with self.state.lock:
            record = self.state.codes.get(params.get("code", ""))
            if not record or record["bank"] != self.bank or record["client_id"] != client_id:
                return oauth_error("invalid_grant", "Authorization code is invalid")
            if record["used"] or record["expires_at"] < self.state.now():
                return oauth_error("invalid_grant", "Authorization code is used or expired")
            if params.get("redirect_uri") != record["redirect_uri"]:
                return oauth_error("invalid_grant", "redirect_uri does not match the authorization request")
            if record.get("code_challenge"):
                verifier = params.get("code_verifier", "")
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if digest != record["code_challenge"]:
                    return oauth_error("invalid_grant", "code_verifier does not match the code_challenge")
            record["used"] = True
            consent = self.state.consents[record["consent_id"]]
            consent["status"] = "active"
            self.state.save()
        return self._issue(record["consent_id"], client_id, with_refresh=True)

    def _refresh_grant(self, request, params, client_id):
        presented = params.get("refresh_token", "")
        request.environ["sandbox.log"]["token_fp"] = fingerprint(presented) if presented else None
        with self.state.lock:
            record = self.state.token(presented, "refresh", self.bank)
            if not record or record["client_id"] != client_id:
                if self.profile.get("volksbank"):
                    return oauth_error("invalid_request", "Access or Refresh token expired")  # [I Y-vb]
                return oauth_error("invalid_grant", "Refresh token is invalid, expired or revoked")
        # Inferred for all three: the refresh token stays (none in the answer).
        return self._issue(record["consent_id"], client_id, with_refresh=False)

    def _issue(self, consent_id, client_id, with_refresh):
        settings = self._settings()
        consent = self.state.consents[consent_id]
        lifetime = settings["access_token_expires_in"]
        access = self.state.issue_token("access", self.bank, lifetime, client_id=client_id, consent_id=consent_id)
        if self.bank == "knab":
            scope = f"psd2 offline_access AIS:{consent_id}"  # [I Y-knab]
        elif self.bank == "triodos":
            scope = "openid offline_access"  # [I Y-tri]
        else:
            scope = "AIS"  # [I Y-vb]
        body = {"access_token": access, "token_type": "Bearer", "expires_in": lifetime, "scope": scope}
        if with_refresh:
            left = consent["valid_until"] - self.state.now()
            body["refresh_token"] = self.state.issue_token(
                "refresh", self.bank, min(settings["refresh_token_expires_in"], left), client_id=client_id,
                consent_id=consent_id)
        if self.bank == "triodos":
            body["id_token"] = "sandbox." + secrets.token_urlsafe(16) + ".unsigned"
        return json_response(body)

    # ------------------------------------------------------------ AIS
    def _data_call(self, request):
        """Token, Consent-ID, X-Request-ID, signature, certificate and the 4-a-day rule."""
        self._require_cert(request)
        self._request_id(request)
        if self.profile.get("volksbank") and "Content-Type" not in request.headers:
            # Required by the Swagger even on a GET [C V-swagger]; inferred that it is enforced.
            self._raise(400, "FORMAT_ERROR", "Content-Type is required")
        self._check_signature(request, "data")
        token = bearer_token(request)
        record = self.state.token(token, "access", self.bank)
        if not record:
            raw = self.state.raw_token(token) if token else None
            consent = self.state.consents.get(raw["consent_id"]) if raw and raw.get("consent_id") else None
            if consent and not self.state.consent_active(raw["consent_id"]):
                code = "CONSENT_EXPIRED" if consent["status"] in ("expired", "active") else "CONSENT_INVALID"
                self._raise(401, code, "The consent is no longer valid")
            self._raise(401, "TOKEN_EXPIRED" if raw else "TOKEN_INVALID", "The access token is invalid or expired")
        consent_header = request.headers.get("Consent-ID")
        if not consent_header:
            self._raise(400, "FORMAT_ERROR", "Consent-ID is required")
        if consent_header != record["consent_id"]:
            self._raise(401, "CONSENT_INVALID", "Consent-ID does not belong to the access token")
        return self.state.consents[record["consent_id"]]

    def _count_access(self, request, consent, resource_id):
        """No PSU-IP-Address: an unattended access, at most min(frequencyPerDay, 4) a day per account."""
        if request.headers.get("PSU-IP-Address") or not self.profile["frequency_enforced"]:
            return
        key = f"{self.state.current_scenario().today.isoformat()}:{resource_id}"
        with self.state.lock:
            used = consent["usage"].get(key, 0)
            if used >= min(consent["frequency"], UNATTENDED_PER_DAY):
                self._raise(429, "ACCESS_EXCEEDED", "The number of unattended accesses for today is used up")
            consent["usage"][key] = used + 1
            self.state.save()

    def ais(self, request, tail):
        consent = self._data_call(request)
        scenario = self.state.current_scenario()
        if tail == "":
            accounts = [a for a in scenario.accounts[self.bank] if a.resource_id in consent["accounts"]]
            return json_response({"accounts": [self._account_json(a) for a in accounts]})
        match = re.fullmatch(r"/([^/]+)(/balances|/transactions)?", tail)
        account = scenario.account_by_resource_id(self.bank, match.group(1)) if match else None
        if account is None or account.resource_id not in consent["accounts"]:
            self._raise(404, "RESOURCE_UNKNOWN", "The account is unknown or not covered by the consent")
        if not match.group(2):
            return json_response({"account": self._account_json(account)})
        if not match.group(2).endswith("transactions"):
            self._count_access(request, consent, account.resource_id + ":balances")
            return self._balances(account)
        if not request.args.get("nextPageKey") and not request.args.get("edgeToken") \
                and not request.args.get("pageKey") and not request.args.get("entryReferenceFrom"):
            self._count_access(request, consent, account.resource_id)  # a new listing, not its next page
        return self._transactions(request, account, consent, scenario)

    def _href(self, path):
        """Links as each bank writes them: Triodos relative to /xs2a-bg [I Y-tri], others from the host root."""
        root = self.profile.get("href_root")
        return path[len(root):] if root and path.startswith(root) else path

    def _account_json(self, account):
        base = f"{self.profile['api']}/{self.profile['ais_version']}/accounts/{account.resource_id}"
        data = {"resourceId": account.resource_id, "currency": account.currency, "name": account.product,
                "product": account.product, "ownerName": account.holder}
        if self.profile.get("volksbank"):
            return {**data, "iban": account.iban}  # no _links, no cashAccountType [C V-swagger]
        if self.bank == "knab" and account.kind == "savings":
            data["bban"] = account.iban[8:]  # savings with only a BBAN [I Y-knab]
            data["cashAccountType"] = "SVGS"
        else:
            data["iban"] = account.iban
            data["cashAccountType"] = "CACC"  # Triodos: always CACC [C T-faq]
        data["usage"] = "ORGA"
        data["status"] = "enabled"
        data["_links"] = {"balances": {"href": self._href(base + "/balances")},
                          "transactions": {"href": self._href(base + "/transactions")}}
        return data

    def _balances(self, account):
        last = account.booked[-1]["booking_date"] if account.booked else self.state.current_scenario().today.isoformat()
        amount = {"currency": account.currency, "amount": f"{account.booked_balance:.2f}"}
        if self.profile.get("volksbank"):
            # Only interimAvailable [I Y-vb README].
            available = {"currency": account.currency, "amount": f"{account.expected_balance():.2f}"}
            return json_response({"balances": [{"balanceType": "interimAvailable", "balanceAmount": available,
                                                "lastChangeDateTime": f"{last}T18:00:00.000Z"}]})
        return json_response({
            "account": {"iban": account.iban, "currency": account.currency},
            "balances": [{"balanceType": "closingBooked", "balanceAmount": amount, "referenceDate": last},
                         {"balanceType": "expected",
                          "balanceAmount": {"currency": account.currency,
                                            "amount": f"{account.expected_balance():.2f}"}}]})

    def _transactions(self, request, account, consent, scenario):
        settings, args = self._settings(), request.args
        if args.get("bookingStatus") != "booked":
            # Only booked is delivered [I Y-vb]; the sandbox asks it of every bank (inferred).
            self._raise(400, "FORMAT_ERROR", "bookingStatus must be booked")
        cursor_key = args.get("edgeToken") or args.get("pageKey")
        today = scenario.today
        if cursor_key:
            with self.state.lock:
                cursor = self.state.cursors.get("ngp:" + cursor_key)
            if not cursor or cursor["account"] != account.resource_id or cursor["consent"] != consent["id"]:
                self._raise(400, "FORMAT_ERROR", "The page key is unknown or expired")
            date_from, date_to = (datetime.date.fromisoformat(cursor[k]) for k in ("from", "to"))
            start = cursor["start"]
        else:
            if not args.get("dateFrom") and not args.get("entryReferenceFrom"):
                self._raise(400, "FORMAT_ERROR", "dateFrom is required")
            date_to = _date(args["dateTo"], "dateTo", self.tpp_error) if args.get("dateTo") else today
            date_from = _date(args["dateFrom"], "dateFrom", self.tpp_error) if args.get("dateFrom") else \
                today - datetime.timedelta(days=settings["history_days"])
            if date_to < date_from or date_from > today:
                self._raise(400, "PERIOD_INVALID", "The period is invalid")
            oldest = today - datetime.timedelta(days=settings["history_days"])
            if self.bank == "triodos":
                if account.resource_id in consent["history_used"]:
                    # Silently capped at 90 days after the first request [C T-faq].
                    oldest = max(oldest, today - datetime.timedelta(days=settings["recent_days"]))
                else:
                    with self.state.lock:
                        consent["history_used"].append(account.resource_id)
                        self.state.save()
            date_from = max(date_from, oldest)
            start = 0
        rows = [r for r in account.booked if date_from.isoformat() <= r["booking_date"] <= date_to.isoformat()]
        reference_from = args.get("entryReferenceFrom")
        if reference_from and not cursor_key:
            refs = [self._entry_reference(r) for r in rows]
            if reference_from not in refs:
                self._raise(400, "FORMAT_ERROR", "entryReferenceFrom is unknown")
            start = refs.index(reference_from)
        size = settings["page_size"]
        page, more = rows[start:start + size], len(rows) > start + size
        path = f"{self.profile['api']}/{self.profile['ais_version']}/accounts/{account.resource_id}"
        links = {"account": {"href": self._href(path)}}
        if more:
            if self.profile.get("volksbank"):
                # Volksbank's own next link: entryReferenceFrom of the next row [I Y-vb stubs].
                query = urllib.parse.urlencode({"bookingStatus": "booked", "limit": size, "pageDirection": "next",
                                                "dateFrom": date_from.isoformat(), "dateTo": date_to.isoformat(),
                                                "entryReferenceFrom": self._entry_reference(rows[start + size])})
            else:
                key = secrets.token_urlsafe(18)
                self.state.remember_cursor("ngp:" + key, {"account": account.resource_id, "consent": consent["id"],
                                                          "from": date_from.isoformat(), "to": date_to.isoformat(),
                                                          "start": start + size})
                name = "edgeToken" if self.bank == "triodos" else "pageKey"  # Triodos: opaque edgeToken [I Y-tri]
                query = urllib.parse.urlencode({"bookingStatus": "booked", name: key})
            links["next"] = {"href": self._href(path + "/transactions?" + query)}
        own = {"iban": account.iban, "currency": account.currency}
        return json_response({"account": own, "transactions": {
            "booked": [self._transaction_json(r, own) for r in page], "_links": links}})

    def _entry_reference(self, record):
        if not self.profile.get("volksbank"):
            return record["id"]
        return f"{record['booking_date'].replace('-', '')}-{volksbank_entry_number(record['id'])}"

    def _transaction_json(self, record, own):
        profile = self.profile
        amount = record["amount"]
        name = record.get("counterparty_name") or (profile["name"] if record["kind"] == "costs" else "")
        other = {"iban": record["counterparty_iban"]} if record.get("counterparty_iban") else None
        body = {"bookingDate": record["booking_date"], "valueDate": record.get("value_date") or record["booking_date"]}
        if "transactionId" in profile["ids"]:
            body["transactionId"] = record["id"]
        body["entryReference"] = self._entry_reference(record) if profile.get("volksbank") else "E" + record["id"][-12:]
        shown = abs(amount) if profile["unsigned_amounts"] else amount
        body["transactionAmount"] = {"currency": record["currency"], "amount": f"{shown:.2f}"}
        if profile["unsigned_amounts"]:
            # Triodos: only the counterparty's side tells the direction [I Y-tri README].
            if amount < 0:
                body.update({"creditorName": name, "creditorAccount": other or {"iban": ""}})
            else:
                body.update({"debtorName": name, "debtorAccount": other or {"iban": ""}})
            if not other:
                body.pop("creditorAccount" if amount < 0 else "debtorAccount")
                body["creditorName" if amount < 0 else "debtorName"] = name
        elif amount < 0:
            body.update({"creditorName": name, "debtorAccount": own, **({"creditorAccount": other} if other else {})})
        else:
            body.update({"debtorName": name, "creditorAccount": own, **({"debtorAccount": other} if other else {})})
        if record.get("end_to_end_id"):
            body["endToEndId"] = record["end_to_end_id"]
        if record["kind"] == "direct_debit":
            body["mandateId"] = record.get("mandate_id", "")
            body["creditorId"] = record.get("creditor_id", "")
        reference = record.get("reference")
        if reference:
            if profile.get("volksbank"):
                issuer = "ISO" if reference.upper().startswith("RF") else "CUR"
                body["remittanceInformationStructured"] = {"reference": reference, "referenceIssuer": issuer}
            else:
                # Berlin Group 1.3.12: a plain string (Max140Text), as Knab sends it [I Y-knab];
                # inferred for Triodos.
                body["remittanceInformationStructured"] = reference
        lines = self._description(record)
        if lines:
            body["remittanceInformationUnstructured"] = " ".join(lines)
        kind = "sepa_out" if record["kind"] == "sepa" and amount < 0 else record["kind"]
        if profile.get("volksbank"):
            body["bankTransactionCode"] = VOLKSBANK_CODES.get(kind, 7241)
            body["proprietaryBankTransactionCode"] = record["kind"].upper()
        else:
            body["bankTransactionCode"] = ISO_CODES.get(kind, "PMNT-RCDT-ESCT")
        if self.bank == "knab":
            body["transactionDate"] = record["booking_date"]  # Knab extension [I Y-knab]
            body["proprietaryBankTransactionCode"] = record["kind"].upper()
        return body

    @staticmethod
    def _description(record):
        if record["kind"] in ("card", "atm"):
            card = record.get("card") or {}
            day = datetime.date.fromisoformat(record["booking_date"]).strftime("%d-%m-%Y")
            return [f"Pasnr. {card.get('card_number', '321')} {day} {record['time'][:5]}",
                    f"{record.get('counterparty_name') or ''} {card.get('city', '')}".strip()]
        return [record["description"]] if record.get("description") else []


def _cert_fp(certificate):
    from cryptography.hazmat.primitives import serialization

    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


class NextGenPsd2Router:
    """The WSGI application on the NextGenPSD2 port: each request to its bank by path prefix."""

    bank = "nextgenpsd2"

    def __init__(self, state, cert_checker, settings):
        self.apps = {bank: NextGenPsd2BankApp(bank, state, cert_checker, settings) for bank in PROFILES}
        # Longest prefix first; the admin API answers on this port too.
        self.routes = sorted(((p["prefix"] + "/", self.apps[b]) for b, p in PROFILES.items()),
                             key=lambda item: -len(item[0]))

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        for prefix, app in self.routes:
            if path.startswith(prefix):
                return app(environ, start_response)
        if path.startswith("/_sandbox/"):
            return self.apps["knab"](environ, start_response)
        response = json_response({"tppMessages": [{"category": "ERROR", "code": "RESOURCE_UNKNOWN",
                                                   "text": "No NextGenPSD2 bank under this path"}]}, 404)
        return response(environ, start_response)
