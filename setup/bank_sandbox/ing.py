"""ING: OAuth 2.0 with HTTP Signatures and the Account Information API v3."""

import datetime
import re
import secrets
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from . import httpsig, pages
from .consentflow import ConsentFlowMixin
from .httpsig import SignatureError
from .ing_payments import IngPaymentsMixin, pis_code
from .scenario import AMSTERDAM
from .server import BankApp, new_reference
from .web import bearer_token, html_response, json_response

APPLICATION_SCOPES = (
    "payment-accounts:balances:view payment-accounts:transactions:view "
    "payment-accounts:orders:create greetings:view"
)
AIS_SCOPES = {"payment-accounts:balances:view", "payment-accounts:transactions:view"}
GRANTING_PATH = re.compile(r"^/granting/([0-9a-f]+)/([A-Z]{2})/?$")
ACCOUNT_PATH = re.compile(r"^/v3/accounts/([^/]+)/(balances|transactions)$")

TRANSACTION_TYPES = {
    "sepa": "Overschrijving",
    "ideal": "iDEAL",
    "card": "Betaalautomaat",
    "atm": "Geldautomaat",
    "direct_debit": "Incasso",
    "costs": "Diversen",
    "batch_ct": "Verzamelbetaling",
    "batch_dd": "Incasso",
}
TPP_MESSAGE_CODES = {
    400: "FORMAT_ERROR",
    401: "INVALID_HEADER",
    403: "SERVICE_BLOCKED",
    404: "RESOURCE_UNKNOWN",
    405: "FORMAT_ERROR",
    406: "FORMAT_ERROR",
    429: "SERVICE_BLOCKED",
    500: "ING_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def oauth_error(message, status):
    return json_response({"message": message}, status)


def tpp_error(status, code, text, request=None, path=None):
    message = {"category": "ERROR", "code": code, "text": text[:512]}
    if path:
        message["path"] = path
    response = json_response({"tppMessages": [message]}, status)
    if request is not None and request.headers.get("X-Request-ID"):
        response.headers["X-Request-ID"] = request.headers["X-Request-ID"]
    return response


class AisError(Exception):
    def __init__(self, status, code, text, path=None):
        super().__init__(text)
        self.status, self.code, self.text, self.path = status, code, text, path


def _utc_iso(day, time_of_day):
    local = datetime.datetime.combine(
        datetime.date.fromisoformat(day), datetime.time.fromisoformat(time_of_day), tzinfo=AMSTERDAM)
    return local.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _parse_ing_datetime(value, name, end_of_day):
    """dateFrom/dateTo: a date or a UTC date-time ending in Z."""
    try:
        if len(value) == 10:
            day = datetime.date.fromisoformat(value)
            moment = datetime.time(23, 59, 59) if end_of_day else datetime.time(0, 0, 0)
            return datetime.datetime.combine(day, moment, tzinfo=datetime.UTC)
        if not value.endswith("Z"):
            raise ValueError
        parsed = datetime.datetime.fromisoformat(value[:-1])
        return parsed.replace(tzinfo=datetime.UTC)
    except ValueError:
        raise AisError(400, "FORMAT_ERROR", f"{name} must be yyyy-mm-dd or a UTC date-time ending in Z", name) from None


def _uses_spec_key_names(transaction_id):
    return bool(transaction_id) and int(transaction_id[-1], 36) % 2 == 1


class IngApp(IngPaymentsMixin, ConsentFlowMixin, BankApp):
    bank = "ing"
    single_account = False

    # ------------------------------------------------------------ routing
    def dispatch(self, request):
        path = request.path
        if path == "/oauth2/token" and request.method == "POST":
            return self.token(request)
        if path == "/oauth2/token/revoke" and request.method == "POST":
            return self.revoke(request)
        if path == "/oauth2/authorization-server-url" and request.method == "GET":
            return self.authorization_server_url(request)
        granting = GRANTING_PATH.match(path)
        if granting:
            return self.granting_page(request, granting.group(1))
        if path.startswith("/v3/"):
            return self.ais(request)
        if self.is_payment_path(path):
            return self.payments_api(request)
        if path.startswith("/oauth2/"):
            return oauth_error("Not found", 404)
        return tpp_error(404, "NOT_FOUND", "No such resource", request)

    def error_response(self, request, status, fault):
        text = (fault or {}).get("message") or {
            401: "The access token is expired or invalid",
            403: "Access to this resource is blocked",
            429: "Too many requests",
            500: "An unexpected error occurred",
            503: "The service is temporarily unavailable",
        }.get(status, "Error")
        if request.path.startswith("/oauth2/"):
            return oauth_error(text, status)
        default = pis_code(status) if self.is_payment_path(request.path) else TPP_MESSAGE_CODES.get(status, "ING_ERROR")
        code = (fault or {}).get("code") or default
        return tpp_error(status, code, text, request)

    # ------------------------------------------------------------ checks
    def _settings(self):
        return self.state.current_scenario().ing

    def _require_client_cert(self, request):
        return self.certs.from_environ(request.environ) is not None

    def _verify_client_signature(self, request, client_id, required_headers):
        """Signature header of a call made with a bearer token: keyId = client_id."""
        header = request.headers.get("Signature")
        if not header:
            raise SignatureError("Signature header is missing", 400)
        params = httpsig.parse_params(header)
        if params["keyId"] != client_id:
            raise SignatureError("Signature keyId is not the client_id of this token")
        pem = self.state.ing_clients.get(client_id)
        if not pem:
            raise SignatureError("Unknown client")
        certificate = x509.load_pem_x509_certificate(pem.encode())
        httpsig.check_date(request.environ, self._settings()["signature_max_skew_seconds"])
        httpsig.verify(certificate.public_key(), params, request.environ, required_headers)
        httpsig.check_digest(request.environ, request.get_data())

    def _application_token(self, request):
        """(record, error response) for calls made with the application token."""
        if not self._require_client_cert(request):
            return None, oauth_error("A valid TLS client certificate is required", 401)
        record = self.state.token(bearer_token(request), "application", "ing")
        if not record:
            return None, oauth_error("The application access token is invalid or expired", 401)
        try:
            self._verify_client_signature(request, record["client_id"], ["(request-target)", "date", "digest"])
        except SignatureError as error:
            return None, oauth_error(str(error), error.status)
        return record, None

    # ------------------------------------------------------------ OAuth
    def token(self, request):
        if not self._require_client_cert(request):
            return oauth_error("A valid TLS client certificate is required", 401)
        grant_type = request.form.get("grant_type")
        request.environ["sandbox.log"]["grant_type"] = grant_type
        if grant_type == "client_credentials":
            return self._client_credentials(request)
        if grant_type not in ("authorization_code", "refresh_token"):
            return oauth_error("grant_type must be client_credentials, authorization_code or refresh_token", 400)
        app_token, error = self._application_token(request)
        if error:
            return error
        if grant_type == "authorization_code":
            return self._authorization_code(request, app_token)
        return self._refresh(request, app_token)

    def _client_credentials(self, request):
        settings = self._settings()
        header = request.headers.get("Authorization", "")
        if not header.startswith("Signature "):
            return oauth_error('Authorization must be "Signature keyId=..., signature=..."', 401)
        try:
            params = httpsig.parse_params(header[len("Signature "):])
            serial = httpsig.key_id_serial(params["keyId"])
            cert_header = request.headers.get("TPP-Signature-Certificate")
            if not cert_header:
                raise SignatureError("TPP-Signature-Certificate header is missing", 401)
            certificate = httpsig.load_one_line_certificate(cert_header)
            if not self.certs.issued_by_ca(certificate):
                raise SignatureError("The signing certificate is not issued by a trusted CA")
            if certificate.serial_number != serial:
                raise SignatureError("keyId serial does not match TPP-Signature-Certificate")
            httpsig.check_date(request.environ, settings["signature_max_skew_seconds"])
            httpsig.verify(certificate.public_key(), params, request.environ,
                           ["(request-target)", "date", "digest"])
            httpsig.check_digest(request.environ, request.get_data())
        except SignatureError as error:
            return oauth_error(str(error), error.status)
        fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
        client_id = str(uuid.uuid5(uuid.NAMESPACE_OID, "ing-client:" + fingerprint))
        with self.state.lock:
            self.state.ing_clients[client_id] = certificate.public_bytes(serialization.Encoding.PEM).decode()
        lifetime = settings["application_token_expires_in"]
        token = self.state.issue_token("application", "ing", lifetime, client_id=client_id)
        return json_response({
            "access_token": token,
            "expires_in": lifetime,
            "scope": APPLICATION_SCOPES,
            "token_type": "Bearer",
            "client_id": client_id,
        })

    def _customer_tokens(self, consent_id, client_id, scope, with_refresh=True):
        settings = self._settings()
        access = self.state.issue_token("access", "ing", settings["access_token_expires_in"],
                                        client_id=client_id, consent_id=consent_id)
        answer = {
            "access_token": access,
            "expires_in": settings["access_token_expires_in"],
            "scope": scope,
            "token_type": "Bearer",
            "client_id": client_id,
        }
        if with_refresh:
            answer["refresh_token"] = self.state.issue_token(
                "refresh", "ing", settings["refresh_token_expires_in"],
                client_id=client_id, consent_id=consent_id)
            answer["refresh_token_expires_in"] = settings["refresh_token_expires_in"]
        return answer

    def _authorization_code(self, request, app_token):
        code = request.form.get("code", "")
        with self.state.lock:
            record = self.state.codes.get(code)
            if not record or record["bank"] != "ing" or record["client_id"] != app_token["client_id"]:
                return oauth_error("The authorization code is invalid", 400)
            if record["used"]:
                # RFC 6749 4.1.2: a replayed code revokes what it produced.
                self.state.end_consent(record["consent_id"], "revoked")
                return oauth_error("The authorization code was already used", 400)
            if record["expires_at"] < self.state.now():
                return oauth_error("The authorization code has expired", 400)
            redirect_uri = request.form.get("redirect_uri")
            if redirect_uri and record.get("redirect_uri") and redirect_uri != record["redirect_uri"]:
                return oauth_error("redirect_uri does not match the authorization request", 400)
            record["used"] = True
            self.state.save()
        consent = self.state.consents[record["consent_id"]]
        return json_response(self._customer_tokens(record["consent_id"], app_token["client_id"], consent["scope"]))

    def _refresh(self, request, app_token):
        presented = request.form.get("refresh_token", "")
        from .state import fingerprint

        request.environ["sandbox.log"]["token_fp"] = fingerprint(presented) if presented else None
        raw = self.state.raw_token(presented)
        if raw and raw.get("status") == "rotated":
            request.environ["sandbox.log"]["note"] = "refresh_token_reused"
        record = self.state.token(presented, "refresh", "ing")
        if not record or record["client_id"] != app_token["client_id"]:
            return oauth_error("The refresh token is invalid, expired or revoked", 400)
        with self.state.lock:
            consent = self.state.consents[record["consent_id"]]
            consent["refreshes"] = consent.get("refreshes", 0) + 1
            policy = self._settings()["refresh_token_policy"]
            new_refresh = policy == "always" or (policy == "alternate" and consent["refreshes"] % 2 == 1)
            if new_refresh:
                # A newer refresh token replaces the old one: a client that
                # keeps using the old one is refused (stricter than ING's docs).
                record["status"] = "rotated"
            self.state.save()
        return json_response(self._customer_tokens(
            record["consent_id"], record["client_id"], consent["scope"], with_refresh=new_refresh))

    def revoke(self, request):
        app_token, error = self._application_token(request)
        if error:
            return error
        token = request.form.get("token")
        if not token:
            return oauth_error("token is required", 400)
        record = self.state.raw_token(token)
        if record and record["bank"] == "ing" and record.get("client_id") == app_token["client_id"]:
            if record.get("consent_id"):
                self.state.end_consent(record["consent_id"], "revoked")
        # RFC 7009: unknown tokens are not an error.
        return json_response({}, 200)

    def authorization_server_url(self, request):
        app_token, error = self._application_token(request)
        if error:
            return error
        scope = request.args.get("scope", "")
        scopes = scope.split()
        if not scopes or not set(scopes) <= AIS_SCOPES | set(APPLICATION_SCOPES.split()):
            return oauth_error("scope is required and must hold known scopes", 400)
        reference = new_reference()
        with self.state.lock:
            self.state.grant_requests[reference] = {
                "client_id": app_token["client_id"],
                "scope": " ".join(scopes),
                "redirect_uri": request.args.get("redirect_uri"),
                "country_code": request.args.get("country_code", "NL"),
                "created": self.state.now(),
            }
            self.state.save()
        country = request.args.get("country_code", "NL").upper()
        return json_response({"location": f"https://{request.host}/granting/{reference}/{country}"})

    # ------------------------------------------------------------ consent page
    def granting_page(self, request, reference):
        with self.state.lock:
            grant = self.state.grant_requests.get(reference)
        if not grant:
            return html_response(pages.error_page("ing", "Onbekend of verlopen verzoek."), 404)
        if request.method == "POST":
            return self.continue_consent_page(request)
        args = request.args
        problems = []
        if args.get("client_id") != grant["client_id"]:
            problems.append("client_id hoort niet bij dit verzoek")
        if args.get("response_type") != "code":
            problems.append("response_type moet code zijn")
        redirect_uri = args.get("redirect_uri") or grant.get("redirect_uri")
        if not redirect_uri:
            problems.append("redirect_uri ontbreekt")
        elif grant.get("redirect_uri") and redirect_uri != grant["redirect_uri"]:
            problems.append("redirect_uri wijkt af van het eerdere verzoek")
        if problems:
            # Never redirect to an unverified redirect_uri: show the error.
            return html_response(pages.error_page("ing", "; ".join(problems)), 400)
        scopes = (args.get("scope") or grant["scope"]).split()
        return self.start_consent_page({
            "client_id": grant["client_id"],
            "redirect_uri": redirect_uri,
            "state": args.get("state"),
            "scopes": scopes,
            "tpp_name": self._tpp_name(grant["client_id"]),
            "reference": reference,
        })

    def _tpp_name(self, client_id):
        pem = self.state.ing_clients.get(client_id)
        if not pem:
            return "Uw boekhoudpakket"
        certificate = x509.load_pem_x509_certificate(pem.encode())
        names = certificate.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
        return names[0].value if names else "Uw boekhoudpakket"

    def grant_consent(self, session):
        settings = self._settings()
        consent_id = self.state.new_consent(
            "ing",
            client_id=session["client_id"],
            accounts=session["chosen"],
            scope=" ".join(session["scopes"]),
            valid_until=self.state.now() + settings["refresh_token_expires_in"],
        )
        with self.state.lock:
            self.state.grant_requests.pop(session["reference"], None)
        return self.state.issue_code("ing", settings["code_ttl"], consent_id=consent_id,
                                     client_id=session["client_id"], redirect_uri=session["redirect_uri"])

    # ------------------------------------------------------------ AIS
    def ais(self, request):
        try:
            consent, record = self._ais_auth(request)
            if request.method != "GET":
                raise AisError(405, "FORMAT_ERROR", "Only GET is allowed")
            response = self._ais_route(request, consent)
        except AisError as error:
            return tpp_error(error.status, error.code, error.text, request, error.path)
        response.headers["X-Request-ID"] = request.headers.get("X-Request-ID", "")
        return response

    def _ais_auth(self, request):
        if not self._require_client_cert(request):
            raise AisError(401, "INVALID_HEADER", "A valid TLS client certificate is required")
        record = self.state.token(bearer_token(request), "access", "ing")
        if not record:
            raw = self.state.raw_token(bearer_token(request) or "")
            text = "The access token is expired or revoked" if raw else "The access token is invalid"
            raise AisError(401, "INVALID_HEADER", text)
        try:
            uuid.UUID(request.headers.get("X-Request-ID", ""))
        except ValueError:
            raise AisError(400, "FORMAT_ERROR", "X-Request-ID must be a UUID", "X-Request-ID") from None
        try:
            self._verify_client_signature(
                request, record["client_id"], ["(request-target)", "date", "digest", "x-request-id"])
        except SignatureError as error:
            raise AisError(error.status, "INVALID_HEADER", str(error), "Signature") from None
        return self.state.consents[record["consent_id"]], record

    def _ais_route(self, request, consent):
        scenario = self.state.current_scenario()
        if request.path == "/v3/accounts":
            accounts = [a for a in scenario.accounts["ing"] if a.resource_id in consent["accounts"]]
            return json_response({"accounts": [self._account_json(a) for a in accounts]})
        match = ACCOUNT_PATH.match(request.path)
        if not match:
            raise AisError(404, "NOT_FOUND", "No such resource")
        account = scenario.account_by_resource_id("ing", match.group(1))
        if account is None or account.resource_id not in consent["accounts"]:
            raise AisError(404, "RESOURCE_UNKNOWN", "The account is unknown or not covered by the consent")
        needed = "payment-accounts:balances:view" if match.group(2) == "balances" else "payment-accounts:transactions:view"
        if needed not in consent["scope"].split():
            raise AisError(403, "SERVICE_BLOCKED", f"The consent does not include {needed}")
        if match.group(2) == "balances":
            return self._balances(account)
        return self._transactions(request, account, scenario)

    def _account_json(self, account):
        base = f"/v3/accounts/{account.resource_id}"
        return {
            "resourceId": account.resource_id,
            "iban": account.iban,
            "name": account.holder,
            "currency": account.currency,
            "product": account.product,
            "_links": {"balances": {"href": f"{base}/balances"}, "transactions": {"href": f"{base}/transactions"}},
        }

    def _balances(self, account):
        now = datetime.datetime.fromtimestamp(self.state.now(), datetime.UTC)
        last_change = now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        today = self.state.current_scenario().today
        yesterday_balance = account.opening_balance
        for record in account.booked:
            if record["booking_date"] < today.isoformat():
                yesterday_balance = record["balance_after"]

        def balance(kind, amount, reference_date):
            return {
                "balanceType": kind,
                "balanceAmount": {"currency": account.currency, "amount": amount},
                "lastChangeDateTime": last_change,
                "referenceDate": reference_date.isoformat(),
            }

        return json_response({
            "account": {"iban": account.iban, "currency": account.currency},
            "balances": [
                balance("closingBooked", yesterday_balance, today - datetime.timedelta(days=1)),
                balance("interimBooked", account.booked_balance, today),
                balance("expected", account.expected_balance(), today),
            ],
        })

    def _transactions(self, request, account, scenario):
        settings = scenario.ing
        headers = {}
        cursor_key = request.args.get("next")
        if cursor_key:
            with self.state.lock:
                cursor = self.state.cursors.get(cursor_key)
            if not cursor or cursor["account"] != account.resource_id:
                raise AisError(400, "FORMAT_ERROR", "The next cursor is unknown or expired", "next")
            date_from = datetime.date.fromisoformat(cursor["from"])
            date_to = datetime.date.fromisoformat(cursor["to"])
            limit, after, first_page = cursor["limit"], tuple(cursor["after"]), False
        else:
            now = datetime.datetime.fromtimestamp(self.state.now(), datetime.UTC)
            raw_from, raw_to = request.args.get("dateFrom"), request.args.get("dateTo")
            moment_to = _parse_ing_datetime(raw_to, "dateTo", True) if raw_to else now
            if raw_from:
                moment_from = _parse_ing_datetime(raw_from, "dateFrom", False)
            else:
                moment_from = datetime.datetime.combine(
                    min(moment_to, now).date(), datetime.time(0), tzinfo=datetime.UTC)
            if moment_from > now:
                raise AisError(400, "PERIOD_INVALID", "dateFrom may not be in the future", "dateFrom")
            if moment_to < moment_from:
                raise AisError(400, "PERIOD_INVALID", "dateTo is before dateFrom", "dateTo")
            date_from, date_to = moment_from.date(), moment_to.date()
            oldest = scenario.today - datetime.timedelta(days=settings["history_days"])
            if date_from < oldest:
                date_from = oldest
                headers["X-ING-AIS-ADJUSTED-DATEFROM"] = f"{oldest.isoformat()}T00:00:00Z"
                headers["X-ING-AIS-TRANSACTION-VALIDITY-PERIOD"] = str(settings["history_days"])
            limit = self._limit(request, settings)
            after, first_page = None, True

        lowest, highest = date_from.isoformat(), date_to.isoformat()
        newest_first = sorted(
            (r for r in account.booked if lowest <= r["booking_date"] <= highest),
            key=lambda r: (r["booking_date"], r["time"], r["seq"]), reverse=True)
        if after is not None:
            newest_first = [r for r in newest_first if (r["booking_date"], r["time"], r["seq"]) < after]
        page, rest = newest_first[:limit], newest_first[limit:]
        body = {
            "account": {"iban": account.iban, "currency": account.currency},
            "transactions": {
                "booked": [self._transaction_json(r) for r in page],
                "pending": [self._transaction_json(r) for r in account.pending
                            if first_page and lowest <= r["booking_date"] <= highest],
                "info": [],
            },
        }
        if rest:
            last = page[-1]
            key = "CQR" + secrets.token_hex(8).upper()
            self.state.remember_cursor(key, {
                "account": account.resource_id, "from": lowest, "to": highest, "limit": limit,
                "after": [last["booking_date"], last["time"], last["seq"]],
            })
            body["transactions"]["_links"] = {
                "next": {"href": f"/v3/accounts/{account.resource_id}/transactions?next={key}"}}
        return json_response(body, headers=headers)

    def _limit(self, request, settings):
        raw = request.args.get("limit")
        if raw is None:
            return settings["page_limit_default"]
        if not raw.isdigit() or int(raw) < 1:
            raise AisError(400, "FORMAT_ERROR", "limit must be a positive integer", "limit")
        return min(int(raw), settings["page_limit_max"])

    def _transaction_json(self, record):
        amount = record["amount"]
        counterparty_name = record.get("counterparty_name") or ""
        data = {
            "transactionId": record["id"],
            "endToEndId": record.get("end_to_end_id") or "NOTPROVIDED",
        }
        if record["status"] == "booked":
            data["bookingDate"] = record["booking_date"]
        data["valueDate"] = record.get("value_date") or record["booking_date"]
        data["executionDateTime"] = _utc_iso(record["booking_date"], record["time"])
        data["transactionAmount"] = {"currency": record["currency"], "amount": amount}
        party = "debtor" if amount > 0 else "creditor"
        if record["kind"] == "costs" and not counterparty_name:
            counterparty_name = "ING Bank N.V."
        if counterparty_name:
            data[f"{party}Name"] = counterparty_name
        if record.get("counterparty_iban"):
            account = {"iban": record["counterparty_iban"]}
            if record.get("counterparty_bic"):
                account["bic"] = record["counterparty_bic"]
            data[f"{party}Account"] = account
        data["transactionType"] = TRANSACTION_TYPES.get(record["kind"], "Overschrijving")
        data["remittanceInformationUnstructured"] = self._remittance(record, counterparty_name)
        reference = record.get("reference")
        if reference:
            issuer = "ISO" if reference.upper().startswith("RF") else "CUR"
            # ING's spec names the keys referenceType/-Issuer, its examples
            # type/issuer: the sandbox sends both spellings, per transaction.
            if _uses_spec_key_names(record["id"]):
                data["remittanceInformationStructured"] = {
                    "referenceType": "SCOR", "referenceIssuer": issuer, "reference": reference}
            else:
                data["remittanceInformationStructured"] = {"type": "SCOR", "issuer": issuer, "reference": reference}
        return data

    def _remittance(self, record, counterparty_name):
        kind = record["kind"]
        if kind in ("card", "atm"):
            card = record.get("card") or {}
            day = datetime.date.fromisoformat(record["booking_date"]).strftime("%d-%m-%Y")
            return (f"Pasvolgnr: 001 {day} {record['time'][:5]}<br>"
                    f"Transactie: {card.get('terminal', '')} Term: {card.get('terminal', '')[:4]}01<br>"
                    f"{counterparty_name} {card.get('city', '')}".strip())
        if kind == "costs":
            return record.get("description") or "Kosten Zakelijk Betalingsverkeer"
        if kind in ("batch_ct", "batch_dd"):
            # One booking for a whole batch: Mijn ING shows the batch, not its payments.
            batch = record.get("batch") or {}
            parts = [record.get("description") or "Verzamelbetaling", f"Batch ID: {batch.get('id', '')}",
                     f"Aantal posten: {batch.get('count', '')}"]
            if batch.get("message_id"):
                parts.append(f"Bericht ID: {batch['message_id']}")
            return "<br>".join(parts)
        parts = [f"Naam: {counterparty_name}"] if counterparty_name else []
        if record.get("description"):
            parts.append(f"Omschrijving: {record['description']}")
        if record.get("counterparty_iban"):
            parts.append(f"IBAN: {record['counterparty_iban']}")
        if kind == "direct_debit":
            parts.append(f"Machtiging ID: {record.get('mandate_id', '')}")
            parts.append(f"Incassant ID: {record.get('creditor_id', '')}")
        if record.get("end_to_end_id"):
            parts.append(f"Kenmerk: {record['end_to_end_id']}")
        return "<br>".join(parts)

