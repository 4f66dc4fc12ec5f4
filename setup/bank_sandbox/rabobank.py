"""Rabobank: OAuth 2.0 (authorization code, HTTP Basic client auth) and AIS 4.0.x.

Facts from ../shared/specs/rabobank/NOTES.md; the tag after a comment names its
source there ([C ...] confirmed by Rabobank, [I ...] inferred from third-party
code). Behaviour marked "inferred" without a tag is the sandbox's own choice
where the notes say nothing.

Paths are production's under ``/openapi``: the authorisation server
(``oauth.rabobank.nl/openapi/oauth2/...``) and the API host
(``api.rabobank.nl/openapi/...``) share this one port.
"""

import base64
import binascii
import datetime
import re
import secrets
import urllib.parse
import uuid

from . import httpsig, pages
from .consentflow import ConsentFlowMixin
from .httpsig import SignatureError
from .rabobank_payments import RaboPaymentsMixin
from .scenario import AMSTERDAM
from .server import BankApp
from .state import fingerprint
from .web import bearer_token, html_response, json_response

OAUTH = "/openapi/oauth2"
AIS = "/openapi/payments/account-information/ais"
CONSENT_PATH = re.compile(r"^/openapi/oauth2/v1/consents/([^/]+)$")
ACCOUNT_PATH = re.compile(r"^/accounts/([^/]+)(?:/(balances|transactions))?$")
BALANCES = "ais.balances.read"
RECENT = "ais.transactions.read-90days"
HISTORY = "ais.transactions.read-history"
CONSENTS_READ = "oauth2.consents.read"  # [I Y token stub]
AIS_SCOPES = {BALANCES, RECENT, HISTORY}
KNOWN_SCOPES = AIS_SCOPES | {CONSENTS_READ}
# Signed headers for AIS and consent details, in this order [I Y SigningUtil].
SIGNED_HEADERS = ["date", "digest", "x-request-id"]
ALGORITHMS = ("rsa-sha512",)  # Yolt: SHA-256 was refused despite the docs [I Y]
UNVERIFIED = "This server could not verify that you are authorized to access the URL"
# Inferred: Rabobank's MT940-style type codes (the stub shows "id" / "102" for iDEAL).
TYPE_CODES = {"sepa": ("cb", "100"), "ideal": ("id", "102"), "card": ("ba", "103"), "atm": ("ga", "104"),
              "direct_debit": ("ei", "105"), "costs": ("db", "106"), "batch_ct": ("cb", "107"),
              "batch_dd": ("ei", "108")}
DEFAULT_TPP_CODES = {400: "FORMAT_ERROR", 404: "RESOURCE_UNKNOWN_PATH", 405: "SERVICE_INVALID",
                     429: "ACCESS_EXCEEDED"}


def gateway_error(status, message=None):
    """IBM API Connect shape of gateway errors (401/403/500) [I Y stubs]."""
    reason = {401: "Unauthorized", 403: "Forbidden", 500: "Internal Server Error",
              503: "Service Unavailable"}.get(status, "Error")
    return json_response({"httpCode": str(status), "httpMessage": reason,
                          "moreInformation": message or reason}, status)


def tpp_error(status, code, text, path=None):
    """Berlin Group ``tppMessages`` of application errors [I Y TppMessageInformation]."""
    message = {"category": "ERROR", "code": code, "text": text[:500]}
    if path:
        message["path"] = path
    return json_response({"tppMessages": [message]}, status)


def oauth_error(error, description, status=400):
    return json_response({"error": error, "error_description": description}, status)


class CertificateError(SignatureError):
    """The QSealC in TPP-Signature-Certificate is unusable."""


class RaboError(Exception):
    def __init__(self, response):
        super().__init__(response.status_code)
        self.response = response


def _utc_stamp(day, time_of_day):
    local = datetime.datetime.combine(datetime.date.fromisoformat(day),
                                      datetime.time.fromisoformat(time_of_day), tzinfo=AMSTERDAM)
    return local.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _parse_moment(value, name):
    """A date, or a UTC date-time as Yolt sends (``2018-10-02T08:18:32.009Z``) [I Y]."""
    try:
        if len(value) == 10:
            return datetime.date.fromisoformat(value)
        if not value.endswith("Z"):
            raise ValueError
        return datetime.datetime.fromisoformat(value[:-1].split(".")[0]).date()
    except ValueError:
        raise RaboError(tpp_error(400, "FORMAT_ERROR", f"{name} must be yyyy-mm-dd or a UTC date-time", name)) from None


class RabobankApp(RaboPaymentsMixin, ConsentFlowMixin, BankApp):
    bank = "rabobank"
    single_account = False  # several accounts per consent, chosen on the page [I Y]

    def _settings(self):
        return self.state.current_scenario().rabobank

    # ------------------------------------------------------------ routing
    def dispatch(self, request):
        path = request.path
        try:
            if path == OAUTH + "/authorize":
                return self.authorize(request)
            if path == OAUTH + "/token":
                if request.method != "POST":
                    return oauth_error("invalid_request", "Use POST", 405)
                return self.token(request)
            consent = CONSENT_PATH.match(path)
            if consent and request.method == "GET":
                return self.consent_details(request, consent.group(1))
            if path.startswith(AIS + "/") and request.method == "GET":
                return self.ais(request, path[len(AIS):])
            if self.is_payment_path(path):
                return self.payments_api(request)
        except RaboError as error:
            return error.response
        return tpp_error(404, "RESOURCE_UNKNOWN_PATH", "No such resource")

    def error_response(self, request, status, fault):
        fault = fault or {}
        if request.path.startswith(OAUTH + "/token") or request.path.startswith(OAUTH + "/authorize"):
            error = {401: "invalid_client", 429: "temporarily_unavailable",
                     503: "temporarily_unavailable"}.get(status, "server_error" if status >= 500 else "invalid_request")
            return oauth_error(error, fault.get("message") or "Sandbox fault", status)
        if fault.get("code") or status not in (401, 403, 500, 503):
            return tpp_error(status, fault.get("code") or DEFAULT_TPP_CODES.get(status, "FORMAT_ERROR"),
                             fault.get("message") or "Sandbox fault")
        return gateway_error(status, fault.get("message"))

    # ------------------------------------------------------------ consent pages
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
            # One redirect URI per app [I Y]; the sandbox asks for it always (inferred).
            problems.append("redirect_uri ontbreekt")
        scopes = args.get("scope", "").split()
        if not scopes or not set(scopes) <= KNOWN_SCOPES or not set(scopes) & AIS_SCOPES:
            problems.append("onbekende of ontbrekende scope")
        if problems:
            return html_response(pages.error_page("rabobank", "; ".join(problems)), 400)
        return self.start_consent_page({
            "client_id": args["client_id"], "redirect_uri": args["redirect_uri"],
            "state": args.get("state"), "scopes": scopes, "tpp_name": "Uw boekhoudpakket",
        })

    def grant_consent(self, session):
        settings = self._settings()
        consent_id = str(uuid.uuid4())
        now = self.state.now()
        with self.state.lock:
            self.state.consents[consent_id] = {
                "id": consent_id, "bank": "rabobank", "status": "active", "created": now,
                "client_id": session["client_id"], "accounts": session["chosen"],
                "scope": " ".join(session["scopes"]),
                "valid_until": now + settings["consent_days"] * 86400,  # 180 days [C R-oauth]
                "history_used": [],  # read-history is one-time, per account [C R-ais]
            }
            self.state.save()
        return self.state.issue_code("rabobank", settings["code_ttl"], consent_id=consent_id,
                                     client_id=session["client_id"], redirect_uri=session["redirect_uri"])

    # ------------------------------------------------------------ tokens
    def _basic_client(self, request):
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            client_id, _, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        settings = self._settings()
        if client_id == settings["client_id"] and secrets.compare_digest(secret, settings["client_secret"]):
            return client_id
        return None

    def token(self, request):
        if self.certs.from_environ(request.environ) is None:
            return oauth_error("invalid_client", "A valid TLS client certificate is required", 401)
        client_id = self._basic_client(request)
        if client_id is None:
            # HTTP Basic client_id:client_secret [I Y]
            return oauth_error("invalid_client", "Client authentication (HTTP Basic) failed", 401)
        grant_type = request.form.get("grant_type")
        request.environ["sandbox.log"]["grant_type"] = grant_type
        if grant_type == "authorization_code":
            return self._authorization_code(request.form, client_id)
        if grant_type == "refresh_token":
            return self._refresh(request, client_id)
        return oauth_error("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")

    def _authorization_code(self, form, client_id):
        with self.state.lock:
            record = self.state.codes.get(form.get("code", ""))
            if not record or record["bank"] != "rabobank" or record["client_id"] != client_id:
                return oauth_error("invalid_grant", "Authorization code is invalid")
            if record["used"]:
                return oauth_error("invalid_grant", "Authorization code was already used")
            if record["expires_at"] < self.state.now():
                return oauth_error("invalid_grant", "Authorization code has expired")
            # Yolt sends no redirect_uri [I Y]; one that is sent must match (RFC 6749 4.1.3).
            if form.get("redirect_uri") and form["redirect_uri"] != record["redirect_uri"]:
                return oauth_error("invalid_grant", "redirect_uri does not match the authorization request")
            record["used"] = True
            self.state.save()
        return self._issue(record["consent_id"], with_metadata=True)

    def _refresh(self, request, client_id):
        presented = request.form.get("refresh_token", "")
        log = request.environ["sandbox.log"]
        log["token_fp"] = fingerprint(presented) if presented else None
        with self.state.lock:
            raw = self.state.raw_token(presented)
            if raw and raw["kind"] == "refresh" and raw["status"] == "rotated":
                # Inferred: the refresh answer carries a new refresh token [I Y stub],
                # so the old one is spent.
                log["note"] = "refresh_token_reused"
                return oauth_error("invalid_grant", "Refresh token was already used")
            record = self.state.token(presented, "refresh", "rabobank")
            if not record or record["client_id"] != client_id:
                return oauth_error("invalid_grant", "Refresh token is invalid, expired or revoked")
            record["status"] = "rotated"
            self.state.save()
        return self._issue(record["consent_id"], with_metadata=False)

    def _issue(self, consent_id, with_metadata):
        settings = self._settings()
        consent = self.state.consents[consent_id]
        left = consent["valid_until"] - self.state.now()
        refresh_lifetime = min(settings["refresh_token_expires_in"], left)
        access = self.state.issue_token("access", "rabobank", settings["access_token_expires_in"],
                                        client_id=consent["client_id"], consent_id=consent_id)
        refresh = self.state.issue_token("refresh", "rabobank", refresh_lifetime,
                                         client_id=consent["client_id"], consent_id=consent_id)
        body = {
            "token_type": "Bearer",
            "access_token": access,
            "expires_in": settings["access_token_expires_in"],
            "consented_on": int(consent["created"]),
            "scope": consent["scope"],
            "refresh_token": refresh,
            "refresh_token_expires_in": int(refresh_lifetime),
        }
        if with_metadata:
            # Only the code exchange names the consent, as in Yolt's stubs [I Y].
            body["metadata"] = f"a:consentId {consent_id}"
        return json_response(body)

    # ------------------------------------------------------------ checks of every API call
    def _check_call(self, request, signed_headers=SIGNED_HEADERS):
        """mTLS, X-IBM-Client-Id, X-Request-ID and the HTTP signature."""
        if self.certs.from_environ(request.environ) is None:
            raise RaboError(gateway_error(401, "A valid TLS client certificate is required"))
        if request.headers.get("X-IBM-Client-Id") != self._settings()["client_id"]:
            raise RaboError(gateway_error(401, "Client id not registered."))
        try:
            uuid.UUID(request.headers.get("X-Request-ID", ""))
        except ValueError:
            raise RaboError(tpp_error(400, "FORMAT_ERROR", "X-Request-ID must be a UUID", "X-Request-ID")) from None
        try:
            self._verify_signature(request, signed_headers)
        except CertificateError as error:
            raise RaboError(tpp_error(error.status, "CERTIFICATE_INVALID", str(error), "TPP-Signature-Certificate")) from None
        except SignatureError as error:
            code = "SIGNATURE_INVALID" if error.status == 401 else "FORMAT_ERROR"
            raise RaboError(tpp_error(error.status, code, str(error), "Signature")) from None

    def _verify_signature(self, request, signed_headers):
        """keyId = decimal serial of the QSealC sent in TPP-Signature-Certificate [I Y; C R-sign]."""
        header = request.headers.get("Signature")
        if not header:
            raise SignatureError("Signature header is missing", 400)
        params = httpsig.parse_params(header)
        cert_header = request.headers.get("TPP-Signature-Certificate")
        if not cert_header:
            raise SignatureError("TPP-Signature-Certificate header is missing", 400)
        try:
            certificate = httpsig.load_one_line_certificate(cert_header)
        except SignatureError as error:
            raise CertificateError(str(error), 400) from None
        if not self.certs.issued_by_ca(certificate):
            raise CertificateError("The signing certificate is not issued by a trusted CA")
        if params["keyId"] != str(certificate.serial_number):
            raise SignatureError("Signature keyId is not the serial number of the signing certificate")
        if params["headers"].lower().split() != signed_headers:
            raise SignatureError("Signature must cover: " + " ".join(signed_headers), 400)
        httpsig.check_date(request.environ, self._settings()["signature_max_skew_seconds"])
        httpsig.verify(certificate.public_key(), params, request.environ, signed_headers, ALGORITHMS)
        httpsig.check_digest(request.environ, request.get_data())

    # ------------------------------------------------------------ consent details
    def consent_details(self, request, consent_id):
        """Signed, X-IBM-Client-Id, no bearer token [I Y]."""
        self._check_call(request)
        consent = self.state.consents.get(consent_id)
        if not consent or consent["bank"] != "rabobank" or consent["client_id"] != self._settings()["client_id"]:
            raise RaboError(tpp_error(404, "CONSENT_UNKNOWN", "The consent is unknown"))
        scenario = self.state.current_scenario()
        active = self.state.consent_active(consent_id)
        until = datetime.datetime.fromtimestamp(consent["valid_until"], AMSTERDAM).date().isoformat()
        access = {}
        for scope in consent["scope"].split():
            if scope not in AIS_SCOPES:
                continue
            rows = []
            for resource_id in consent["accounts"]:
                account = scenario.account_by_resource_id("rabobank", resource_id)
                spent = scope == HISTORY and resource_id in consent.get("history_used", [])
                # Inferred: a spent one-time history read shows as expired.
                rows.append({"iban": account.iban, "currency": account.currency,
                             "status": "valid" if active and not spent else "expired", "validUntil": until})
            access[scope] = rows
        return json_response({"consentId": consent_id, "access": access})

    # ------------------------------------------------------------ AIS
    def ais(self, request, path):
        self._check_call(request)
        token = bearer_token(request)
        record = self.state.token(token, "access", "rabobank")
        if not record:
            raw = self.state.raw_token(token) if token else None
            consent = self.state.consents.get(raw["consent_id"]) if raw else None
            if consent and not self.state.consent_active(raw["consent_id"]):
                # Inferred: Yolt sees a 403 and then reads the consent details [I Y].
                code = "CONSENT_EXPIRED" if consent["status"] != "revoked" else "CONSENT_INVALID"
                raise RaboError(tpp_error(403, code, "The consent is no longer valid"))
            raise RaboError(gateway_error(401, "Invalid or expired access token"))
        consent_id = record["consent_id"]
        consent = self.state.consents[consent_id]
        scopes = consent["scope"].split()
        scenario = self.state.current_scenario()
        if path == "/accounts":
            accounts = [a for a in scenario.accounts["rabobank"] if a.resource_id in consent["accounts"]]
            return json_response({"accounts": [self._account_json(a) for a in accounts]})
        match = ACCOUNT_PATH.match(path)
        if not match:
            raise RaboError(tpp_error(404, "RESOURCE_UNKNOWN_PATH", "No such resource"))
        account = scenario.account_by_resource_id("rabobank", match.group(1))
        if account is None or account.resource_id not in consent["accounts"]:
            raise RaboError(tpp_error(404, "RESOURCE_UNKNOWN_PATH_ACCOUNTID",
                                      "The account is unknown or not covered by the consent", "account-id"))
        if match.group(2) is None:
            return json_response({"account": self._account_json(account)})
        if match.group(2) == "balances":
            if BALANCES not in scopes:
                raise RaboError(tpp_error(403, "CONSENT_INVALID", f"The consent does not include {BALANCES}"))
            return self._balances(account)
        if not set(scopes) & {RECENT, HISTORY}:
            raise RaboError(tpp_error(403, "CONSENT_INVALID", "The consent does not include transactions"))
        return self._transactions(request, account, consent, scenario)

    def _account_json(self, account):
        base = f"/accounts/{account.resource_id}"
        return {
            "resourceId": account.resource_id,
            "iban": account.iban,
            "currency": account.currency,
            "status": "enabled",
            "ownerName": account.holder,  # 4.0.x renamed name -> ownerName [I Y]
            "_links": {"balances": {"href": f"{base}/balances"}, "transactions": {"href": f"{base}/transactions"}},
        }

    def _balances(self, account):
        last = account.booked[-1] if account.booked else None
        if last:
            stamp = _utc_stamp(last["booking_date"], last["time"])
        else:
            stamp = datetime.datetime.fromtimestamp(self.state.now(), datetime.UTC).strftime(
                "%Y-%m-%dT%H:%M:%S.000Z")
        # Only "expected" [I Y].
        return json_response({
            "account": {"iban": account.iban, "currency": account.currency},
            "balances": [{"balanceType": "expected",
                          "balanceAmount": {"amount": str(account.expected_balance()), "currency": account.currency},
                          "lastChangeDateTime": stamp}],
        })

    def _transactions(self, request, account, consent, scenario):
        settings = scenario.rabobank
        args = request.args
        if args.get("bookingStatus") != "booked":
            # Only booked is supported [I Y].
            raise RaboError(tpp_error(400, "FORMAT_ERROR", "bookingStatus must be booked", "bookingStatus"))
        page_token = args.get("nextPageToken")
        if page_token:
            with self.state.lock:
                cursor = self.state.cursors.get("rabo:" + page_token)
            if not cursor or cursor["account"] != account.resource_id or cursor["consent"] != consent["id"]:
                raise RaboError(tpp_error(400, "FORMAT_ERROR", "nextPageToken is unknown or expired", "nextPageToken"))
            date_from = datetime.date.fromisoformat(cursor["from"])
            date_to = datetime.date.fromisoformat(cursor["to"])
            after, history = tuple(cursor["after"]), cursor["history"]
        else:
            date_from, date_to, history = self._period(args, account, consent, scenario, settings)
            after = None
        lowest, highest = date_from.isoformat(), date_to.isoformat()
        # Inferred: newest first, as ING and ABN AMRO answer.
        rows = sorted((r for r in account.booked if lowest <= r["booking_date"] <= highest),
                      key=lambda r: (r["booking_date"], r["time"], r["seq"]), reverse=True)
        if after is not None:
            rows = [r for r in rows if (r["booking_date"], r["time"], r["seq"]) < after]
        page, rest = rows[:settings["page_size"]], rows[settings["page_size"]:]
        links = {"account": {"href": f"/accounts/{account.resource_id}"}}
        if rest:
            last = page[-1]
            key = secrets.token_urlsafe(18)
            self.state.remember_cursor("rabo:" + key, {
                "account": account.resource_id, "consent": consent["id"], "from": lowest, "to": highest,
                "after": [last["booking_date"], last["time"], last["seq"]], "history": history})
            query = urllib.parse.urlencode({"bookingStatus": "booked", "dateFrom": lowest, "dateTo": highest,
                                            "nextPageToken": key})
            links["next"] = {"href": f"/accounts/{account.resource_id}/transactions?{query}"}
        elif history:
            # Inferred: the one-time history read is spent once its last page is served.
            with self.state.lock:
                used = consent.setdefault("history_used", [])
                if account.resource_id not in used:
                    used.append(account.resource_id)
                self.state.save()
        own = {"iban": account.iban, "currency": account.currency}
        return json_response({
            "account": own,
            "transactions": {"booked": [self._transaction_json(r, own) for r in page], "_links": links},
        })

    def _period(self, args, account, consent, scenario, settings):
        today = scenario.today
        date_to = _parse_moment(args["dateTo"], "dateTo") if args.get("dateTo") else today
        recent_oldest = today - datetime.timedelta(days=settings["recent_days"])
        date_from = _parse_moment(args["dateFrom"], "dateFrom") if args.get("dateFrom") else recent_oldest
        if date_from > today:
            raise RaboError(tpp_error(400, "PERIOD_INVALID", "dateFrom may not be in the future", "dateFrom"))
        if date_to < date_from:
            raise RaboError(tpp_error(400, "PERIOD_INVALID", "dateTo is before dateFrom", "dateTo"))
        scopes = consent["scope"].split()
        if date_from >= recent_oldest:
            if RECENT not in scopes and HISTORY not in scopes:
                raise RaboError(tpp_error(403, "CONSENT_INVALID", "The consent does not include transactions"))
            return date_from, date_to, False
        if HISTORY in scopes and account.resource_id not in consent.get("history_used", []):
            oldest = today - datetime.timedelta(days=settings["history_days"])
            return max(date_from, oldest), date_to, True
        # Inferred: older than 90 days without (or after) the one-time history read.
        raise RaboError(tpp_error(
            400, "PERIOD_INVALID",
            f"dateFrom may not be before {recent_oldest.isoformat()} (ais.transactions.read-90days); "
            "the full history (ais.transactions.read-history) can be read once after consent", "dateFrom"))

    def _transaction_json(self, record, own):
        amount = record["amount"]
        name = record.get("counterparty_name") or ""
        if record["kind"] == "costs" and not name:
            name = "Rabobank"
        other = {"iban": record["counterparty_iban"]} if record.get("counterparty_iban") else {}
        if amount < 0:
            data = {"creditorAccount": other, "creditorName": name, "debtorAccount": own}
            if record.get("counterparty_bic"):
                data["creditorAgent"] = record["counterparty_bic"]
        else:
            data = {"debtorAccount": other, "debtorName": name, "creditorAccount": own}
            if record.get("counterparty_bic"):
                data["debtorAgent"] = record["counterparty_bic"]
        type_name, detailed = TYPE_CODES.get(record["kind"], ("cb", "100"))
        body = {
            "entryReference": record["id"],
            "bookingDate": record["booking_date"],
            "valueDate": record.get("value_date") or record["booking_date"],
            "transactionAmount": {"currency": record["currency"], "amount": str(amount)},
            **data,
            "raboBookingDateTime": _utc_stamp(record["booking_date"], record["time"]),
            "raboDetailedTransactionType": detailed,
            "raboTransactionTypeName": type_name,
        }
        if record.get("end_to_end_id"):
            body["endToEndId"] = record["end_to_end_id"]
        if record["kind"] == "direct_debit":
            body["mandateId"] = record.get("mandate_id", "")
            body["creditorId"] = record.get("creditor_id", "")
        if record.get("reference"):
            body["remittanceInformationStructured"] = record["reference"]  # a plain string [I Y]
        lines = self._description_lines(record)
        if lines:
            body["remittanceInformationUnstructured"] = "\n".join(lines)
        return body

    def _description_lines(self, record):
        kind = record["kind"]
        if kind in ("card", "atm"):
            card = record.get("card") or {}
            day = datetime.date.fromisoformat(record["booking_date"]).strftime("%d-%m-%Y")
            return [f"Pasnr. {card.get('card_number', '321')} {day} {record['time'][:5]}",
                    f"{record.get('counterparty_name') or ''} {card.get('city', '')}".strip()]
        if kind in ("batch_ct", "batch_dd"):
            batch = record.get("batch") or {}
            return [record.get("description") or "Verzamelbetaling", f"Batch ID: {batch.get('id', '')}",
                    f"Aantal posten: {batch.get('count', '')}"]
        return [record["description"]] if record.get("description") else []

