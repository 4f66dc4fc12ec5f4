"""ABN AMRO: PingFederate-style OAuth (/as/...) and Account Information API v1."""

import base64
import datetime
import re

from . import pages
from .abnamro_payments import PAGE_PREFIX, PAYMENT_CONSENT_DAYS, PAYMENT_SCOPES, AbnPaymentsMixin
from .consentflow import ConsentFlowMixin
from .server import BankApp
from .state import fingerprint
from .web import bearer_token, html_response, json_response, new_trace_id

ABN_SCOPES = {
    "psd2:account:balance:read",
    "psd2:account:transaction:read",
    "psd2:account:details:read",
    "psd2:account:funds:read",
}
ACCOUNT_PATH = re.compile(r"^/v1/accounts/([0-9A-Za-z]+)/(details|balances|transactions)$")
MUTATION_CODES = {"ideal": "944", "card": "426", "atm": "426", "direct_debit": "247",
                  "costs": "508", "batch_ct": "658", "batch_dd": "654"}  # costs, batch_*: codes unconfirmed
ERRORS = {
    # status: (code, category, message)
    400: ("ERR_1100_004", "BAD_REQUEST", "One of the input parameters is invalid"),
    401: ("ERR_2002_002", "INVALID_ACCESS_TOKEN", "The presented access token is not valid or expired"),
    403: ("ERR_3002_003", "INSUFFICIENT_SCOPE", "Insufficient scope of the token"),
    404: ("ERR_4001_001", "NOT_FOUND", "The requested resource was not found, or a disallowed method was used"),
    429: ("ERR_7002_001", "TOO_MANY_REQUESTS", "Rate limit exceeded"),
    500: ("MESSAGE_BAI560_0005", "BACKEND_ERROR", "A technical error has occurred. Please try again later."),
    503: ("MESSAGE_BAI560_0005", "BACKEND_ERROR", "The service is temporarily unavailable."),
}
NO_ACCOUNT_ACCESS = ("MESSAGE_RST560_0016", "FORBIDDEN", "No access to the requested account")
# Sandbox-chosen (ABN AMRO's codes for these are not public).
MISSING_API_KEY = ("ERR_1001_001", "UNAUTHORIZED", "API-Key header is missing or invalid")
MISSING_CLIENT_CERT = ("ERR_1001_002", "UNAUTHORIZED", "A valid TLS client certificate is required")
WRAP = 32
MAX_LINES = 9


def abn_error(status, code=None, category=None, message=None):
    default_code, default_category, default_message = ERRORS.get(status, ERRORS[500])
    return json_response({"errors": [{
        "code": code or default_code,
        "message": message or default_message,
        "reference": "https://developer.abnamro.com/get-started#authentication",
        "traceId": new_trace_id(),
        "status": status,
        "category": category or default_category,
    }]}, status)


def token_error(error, description, status=400):
    return json_response({"error": error, "error_description": description}, status)


def wrap_lines(fields):
    """32-column lines, cut mid-word as ABN AMRO does; at most nine."""
    lines = []
    for field in fields:
        field = field or ""
        while len(field) > WRAP:
            lines.append(field[:WRAP])
            field = field[WRAP:]
        lines.append(field)
    return lines[:MAX_LINES]


def _months_back(day, months):
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, candidate)
        except ValueError:
            continue


def encode_page_key(key):
    return base64.urlsafe_b64encode("|".join(map(str, key)).encode()).decode().rstrip("=")


def decode_page_key(text):
    try:
        padded = text + "=" * (-len(text) % 4)
        day, time_of_day, seq = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        datetime.date.fromisoformat(day)
        return day, time_of_day, int(seq)
    except ValueError:
        return None


class BadRequest(Exception):
    pass


class AbnAmroApp(AbnPaymentsMixin, ConsentFlowMixin, BankApp):
    bank = "abnamro"
    single_account = True

    def _settings(self):
        return self.state.current_scenario().abnamro

    def dispatch(self, request):
        path = request.path
        if path == "/as/authorization.oauth2":
            return self.authorize(request)
        if path == "/as/token.oauth2":
            if request.method != "POST":
                return token_error("invalid_request", "Use POST", 405)
            return self.token(request)
        if path == "/v1/payments/batch":
            return self.post_batch(request)
        if path.startswith(PAGE_PREFIX):
            return self.batch_page(request)
        if path.startswith("/v1/"):
            return self.api(request)
        return abn_error(404)

    def error_response(self, request, status, fault):
        fault = fault or {}
        if request.path.startswith("/as/"):
            error = {401: "invalid_client", 429: "temporarily_unavailable",
                     503: "temporarily_unavailable"}.get(status, "server_error" if status >= 500 else "invalid_request")
            return token_error(error, fault.get("message") or "Sandbox fault", status)
        return abn_error(status, fault.get("code"), fault.get("category"), fault.get("message"))

    # ------------------------------------------------------------ consent
    def authorize(self, request):
        if request.method == "POST":
            return self.continue_consent_page(request)
        args = request.args
        settings = self._settings()
        problems = []
        if args.get("client_id") != settings["client_id"]:
            problems.append("onbekende client_id")
        if args.get("response_type") != "code":
            problems.append("response_type moet code zijn")
        if not args.get("redirect_uri"):
            problems.append("redirect_uri ontbreekt")
        scopes = args.get("scope", "").replace("+", " ").split()
        if not scopes or not set(scopes) <= ABN_SCOPES | PAYMENT_SCOPES:
            problems.append("onbekende of ontbrekende scope")
        elif set(scopes) & ABN_SCOPES and set(scopes) & PAYMENT_SCOPES:
            # Spec: "Scopes for different products cannot be combined."
            problems.append("scopes voor verschillende producten kunnen niet gecombineerd worden")
        if problems:
            return html_response(pages.error_page("abnamro", "; ".join(problems)), 400)
        return self.start_consent_page({
            "client_id": args["client_id"],
            "redirect_uri": args["redirect_uri"],
            "state": args.get("state"),
            "scopes": scopes,
            "tpp_name": "Uw boekhoudpakket",
        })

    def grant_consent(self, session):
        settings = self._settings()
        lifetime = settings["refresh_token_expires_in"]
        if set(session["scopes"]) & PAYMENT_SCOPES:
            lifetime = PAYMENT_CONSENT_DAYS * 86400  # "All payment initiation consents are valid for 90 days."
        consent_id = self.state.new_consent(
            "abnamro",
            client_id=session["client_id"],
            accounts=session["chosen_ibans"],
            scope=" ".join(session["scopes"]),
            valid_until=self.state.now() + lifetime,
        )
        return self.state.issue_code("abnamro", settings["code_ttl"], consent_id=consent_id,
                                     client_id=session["client_id"], redirect_uri=session["redirect_uri"])

    # ------------------------------------------------------------ tokens
    def token(self, request):
        if self.certs.from_environ(request.environ) is None:
            return token_error("invalid_client", "A valid TLS client certificate is required", 401)
        settings = self._settings()
        form = request.form
        grant_type = form.get("grant_type")
        request.environ["sandbox.log"]["grant_type"] = grant_type
        if form.get("client_id") != settings["client_id"]:
            return token_error("invalid_client", "Unknown client_id", 401)
        if grant_type == "authorization_code":
            return self._authorization_code(form, settings)
        if grant_type == "refresh_token":
            return self._refresh(request, form, settings)
        return token_error("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")

    def _issue(self, consent_id, settings):
        consent = self.state.consents[consent_id]
        access = self.state.issue_token("access", "abnamro", settings["access_token_expires_in"],
                                        client_id=consent["client_id"], consent_id=consent_id)
        refresh = self.state.issue_token("refresh", "abnamro", settings["refresh_token_expires_in"],
                                         client_id=consent["client_id"], consent_id=consent_id)
        return json_response({
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": settings["access_token_expires_in"],
            "scope": consent["scope"],
        })

    def _authorization_code(self, form, settings):
        with self.state.lock:
            record = self.state.codes.get(form.get("code", ""))
            if not record or record["bank"] != "abnamro" or record["client_id"] != form.get("client_id"):
                return token_error("invalid_grant", "Authorization code is invalid")
            if record["used"]:
                self.state.end_consent(record["consent_id"], "revoked")
                return token_error("invalid_grant", "Authorization code was already used")
            if record["expires_at"] < self.state.now():
                return token_error("invalid_grant", "Authorization code has expired")
            if form.get("redirect_uri") != record["redirect_uri"]:
                return token_error("invalid_grant", "redirect_uri does not match the authorization request")
            record["used"] = True
            self.state.save()
        return self._issue(record["consent_id"], settings)

    def _refresh(self, request, form, settings):
        presented = form.get("refresh_token", "")
        log = request.environ["sandbox.log"]
        log["token_fp"] = fingerprint(presented) if presented else None
        with self.state.lock:
            raw = self.state.raw_token(presented)
            if raw and raw["kind"] == "refresh" and raw["status"] == "rotated":
                log["note"] = "refresh_token_reused"
                if settings["revoke_chain_on_refresh_reuse"]:
                    self.state.end_consent(raw["consent_id"], "revoked")
                return token_error("invalid_grant", "Refresh token was already used")
            record = self.state.token(presented, "refresh", "abnamro")
            if not record or record["client_id"] != form.get("client_id"):
                return token_error("invalid_grant", "Refresh token is invalid, expired or revoked")
            record["status"] = "rotated"
            self.state.save()
        return self._issue(record["consent_id"], settings)

    # ------------------------------------------------------------ API
    def api(self, request):
        settings = self._settings()
        if request.method != "GET":
            return abn_error(404)
        if settings["require_client_cert_for_api"] and self.certs.from_environ(request.environ) is None:
            return abn_error(401, *MISSING_CLIENT_CERT)
        if request.headers.get("API-Key") != settings["api_key"]:
            return abn_error(401, *MISSING_API_KEY)
        record = self.state.token(bearer_token(request), "access", "abnamro")
        if not record:
            return abn_error(401)
        consent = self.state.consents[record["consent_id"]]
        scopes = consent["scope"].split()
        if request.path == "/v1/consentinfo":
            return json_response({"iban": consent["accounts"][0], "scopes": consent["scope"],
                                  "valid": int(record["expires_at"])})
        match = ACCOUNT_PATH.match(request.path)
        if not match:
            return abn_error(404)
        iban, resource = match.group(1).upper(), match.group(2)
        needed = {"details": "psd2:account:details:read", "balances": "psd2:account:balance:read",
                  "transactions": "psd2:account:transaction:read"}[resource]
        if needed not in scopes:
            return abn_error(403)
        if iban not in consent["accounts"]:
            return abn_error(403, *NO_ACCOUNT_ACCESS)
        account = self.state.current_scenario().account_by_iban("abnamro", iban)
        if account is None:
            return abn_error(404)
        if resource == "details":
            return json_response({"accountNumber": account.iban, "currency": account.currency,
                                  "accountHolderName": account.holder})
        if resource == "balances":
            return json_response({"accountNumber": account.iban, "balanceType": "BOOKBALANCE",
                                  "amount": account.booked_balance, "currency": account.currency})
        try:
            return self._transactions(request, account, settings)
        except BadRequest as error:
            return abn_error(400, message=str(error))

    def _transactions(self, request, account, settings):
        args = request.args
        today = self.state.current_scenario().today
        raw_from, raw_to, page_key = args.get("bookDateFrom"), args.get("bookDateTo"), args.get("nextPageKey")
        if page_key and not (raw_from and raw_to):
            raise BadRequest("bookDateFrom and bookDateTo must be sent again with nextPageKey")
        try:
            date_from = datetime.date.fromisoformat(raw_from) if raw_from else None
            date_to = datetime.date.fromisoformat(raw_to) if raw_to else today
        except ValueError:
            raise BadRequest("bookDateFrom and bookDateTo must be yyyy-mm-dd") from None
        oldest = _months_back(today, settings["history_months"])
        if date_from is not None:
            if date_from < oldest:
                raise BadRequest(f"bookDateFrom may not be before {oldest.isoformat()} "
                                 f"({settings['history_months']} months of history)")
            if date_to < date_from:
                raise BadRequest("bookDateTo is before bookDateFrom")
        after = None
        if page_key:
            after = decode_page_key(page_key)
            if after is None:
                raise BadRequest("nextPageKey is invalid")
        lowest = (date_from or oldest).isoformat()
        highest = date_to.isoformat()
        rows = sorted((r for r in account.booked if lowest <= r["booking_date"] <= highest),
                      key=lambda r: (r["booking_date"], r["time"], r["seq"]), reverse=True)
        if after is not None:
            rows = [r for r in rows if (r["booking_date"], r["time"], r["seq"]) < after]
        size = settings["page_size"]
        page, rest = rows[:size], rows[size:]
        body = {"accountNumber": account.iban, "transactions": [self._transaction_json(r) for r in page]}
        # Without dates the bank answers only the latest page (spec).
        if rest and date_from is not None:
            last = page[-1]
            body["nextPageKey"] = encode_page_key((last["booking_date"], last["time"], last["seq"]))
        return json_response(body)

    def _transaction_json(self, record):
        kind = record["kind"]
        amount = record["amount"]
        if kind == "sepa":
            code = "654" if amount > 0 else "658"
        else:
            code = MUTATION_CODES.get(kind, "658")
        stamp = f"{record['booking_date']}-{record['time']}.{record['seq'] % 1000:03d}"
        return {
            "transactionId": record["id"] if kind not in ("card", "atm") else "",
            "mutationCode": code,
            "descriptionLines": self._description_lines(record),
            "transactionTimestamp": stamp,
            "bookDate": record["booking_date"],
            "balanceAfterMutation": record["balance_after"],
            "counterPartyAccountNumber": record.get("counterparty_iban") or "",
            "counterPartyName": (record.get("counterparty_name") or "")[:24],
            "amount": amount,
            "currency": record["currency"],
            "status": "EXECUTED",
        }

    def _description_lines(self, record):
        kind = record["kind"]
        name = record.get("counterparty_name") or ""
        if kind in ("card", "atm"):
            card = record.get("card") or {}
            day = datetime.date.fromisoformat(record["booking_date"]).strftime("%d.%m.%y")
            prefix = "BEA" if kind == "card" else "GEA"
            return wrap_lines([
                f"{prefix}, Betaalpas",
                f"{name},PAS{card.get('card_number', '321')}",
                f"NR:{card.get('terminal', '')}, {day}/{record['time'][:5]}",
                card.get("city", ""),
            ])
        if kind == "costs":
            return wrap_lines(["ABN AMRO Bank N.V.", record.get("description") or "Kosten Zakelijk Betalingsverkeer"])
        if kind in ("batch_ct", "batch_dd"):
            batch = record.get("batch") or {}
            fields = ["SEPA Verzamelbetaling" if kind == "batch_ct" else "SEPA Incasso batch",
                      f"Batch ID: {batch.get('id', '')}", f"Aantal posten: {batch.get('count', '')}"]
            if batch.get("message_id"):
                fields.append(f"Bericht ID: {batch['message_id']}")
            if batch.get("creditor_id"):
                fields.append(f"Incassant ID: {batch['creditor_id']}")
            return wrap_lines(fields)
        if kind == "direct_debit":
            fields = ["SEPA Incasso algemeen doorlopend", f"Incassant: {record.get('creditor_id', '')}",
                      f"Naam: {name}", f"Machtiging: {record.get('mandate_id', '')}"]
        elif kind == "ideal":
            fields = ["SEPA iDEAL", f"IBAN: {record.get('counterparty_iban', '')}",
                      f"BIC: {record.get('counterparty_bic', '')}", f"Naam: {name}"]
        else:
            fields = ["SEPA Overboeking", f"IBAN: {record.get('counterparty_iban', '')}",
                      f"BIC: {record.get('counterparty_bic', '')}", f"Naam: {name}"]
        if record.get("reference"):
            # 34 characters: the kenmerk always runs over into the next line.
            fields.append(f"Betalingskenmerk: {record['reference']}")
        if record.get("description"):
            fields.append(f"Omschrijving: {record['description']}")
        if kind == "direct_debit" and record.get("counterparty_iban"):
            fields.append(f"IBAN: {record['counterparty_iban']}")
        if record.get("end_to_end_id"):
            fields.append(f"Kenmerk: {record['end_to_end_id']}")
        return wrap_lines(fields)
