"""ING Payment Initiation API v2 (spec 2.0.2): bulk and single SEPA credit transfers.

What ING's PSD2 interface offers, and therefore all the sandbox offers:
- bulk: ``POST /v1|v2/bulk-payments/sepa-credit-transfers`` with a **JSON**
  body (up to 5000 payments); ING's spec has no bulk pain.001 endpoint;
- single: ``POST /v1/payments/sepa-credit-transfers`` (JSON) and
  ``POST /v1/payments/pain.001-sepa-credit-transfers`` (XML, one payment only);
- no direct debits: ING's PSD2 API has no collection product, so
  ``sepa-direct-debits`` (or any other product) answers 404 PRODUCT_UNKNOWN.
Calls use the *application* token (client credentials) + mTLS + an HTTP
Signature covering ``(request-target) date digest x-request-id``.
"""

import datetime
import re
import uuid
import xml.etree.ElementTree as ET

from . import pages
from .approval import OrderApprovalMixin
from .httpsig import SignatureError
from .payment_admin import bank_status
from .payments import OPEN, REJECTED, PainError, PaymentBook, PaymentError, money, new_submission, parse_pain
from .web import Response, bearer_token, html_response, json_response

PRODUCTS = {"sepa-credit-transfers"}
KNOWN_PRODUCTS = {"sepa-credit-transfers", "cross-border-credit-transfers", "domestic-credit-transfers"}
ING_TEXT = re.compile(r"^[a-zA-Z0-9?:()./,'+ -]+$")
IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[a-zA-Z0-9]{1,30}$")
AMOUNT = re.compile(r"^[0-9]{1,14}(\.[0-9]{1,3})?$")
BULK_LIMIT = 5000
PAYMENT_PATH = re.compile(
    r"^/(?P<version>v[12])/(?P<service>payments|bulk-payments)/(?P<product>[a-z0-9.-]+)"
    r"(?:/(?P<id>[^/]+)(?P<status>/status)?)?$")
PAGE_PATH = re.compile(r"^/payment-initiation/([0-9a-f-]{36})/([A-Z]{2})/?$")
# ING's PIS spec lists these tppMessage codes only (no NOT_FOUND, no SERVICE_UNAVAILABLE).
PIS_CODES = {400: "FORMAT_ERROR", 401: "INVALID_HEADER", 403: "SERVICE_BLOCKED", 404: "RESOURCE_UNKNOWN",
             405: "FORMAT_ERROR", 422: "PAYMENT_FAILED", 429: "SERVICE_BLOCKED"}


def pis_code(status):
    return PIS_CODES.get(status, "ING_ERROR")


class PisError(Exception):
    def __init__(self, status, code, text, path=None):
        super().__init__(text)
        self.status, self.code, self.text, self.path = status, code, text, path


def _check_text(value, path, limit, required=False):
    if value is None or value == "":
        if required:
            raise PisError(400, "FORMAT_ERROR", f"{path} is required", path)
        return None
    if not isinstance(value, str) or len(value) > limit or not ING_TEXT.match(value):
        raise PisError(400, "FORMAT_ERROR",
                       f"{path} must be at most {limit} characters of a-z A-Z 0-9 ? : ( ) . / , ' + - and space",
                       path)
    return value


def _check_iban(account, path, required=True):
    if not isinstance(account, dict) or not account.get("iban"):
        if required:
            raise PisError(400, "FORMAT_ERROR", f"{path}.iban is required for SEPA credit transfers", f"{path}.iban")
        return None
    iban = account["iban"]
    if not isinstance(iban, str) or not IBAN.match(iban):
        raise PisError(400, "FORMAT_ERROR", f"{path}.iban is not an IBAN", f"{path}.iban")
    return iban


def _json_payment(item, path):
    if not isinstance(item, dict):
        raise PisError(400, "FORMAT_ERROR", f"{path} must be an object", path)
    amount = item.get("instructedAmount")
    if not isinstance(amount, dict) or not isinstance(amount.get("amount"), str) \
            or not AMOUNT.match(amount["amount"]):
        raise PisError(400, "FORMAT_ERROR", f"{path}.instructedAmount.amount must be a string like \"12.50\"",
                       f"{path}.instructedAmount.amount")
    if amount.get("currency") != "EUR":
        raise PisError(400, "FORMAT_ERROR", "SEPA credit transfers are in EUR", f"{path}.instructedAmount.currency")
    try:
        value = money(amount["amount"])
    except PaymentError as error:
        raise PisError(400, "FORMAT_ERROR", str(error), f"{path}.instructedAmount.amount") from None
    structured = item.get("remittanceInformationStructured")
    reference = None
    if structured is not None:
        if not isinstance(structured, dict):
            raise PisError(400, "FORMAT_ERROR", "must be an object", f"{path}.remittanceInformationStructured")
        reference = _check_text(structured.get("reference"), f"{path}.remittanceInformationStructured.reference",
                                35, required=True)
    return {
        "end_to_end_id": _check_text(item.get("endToEndIdentification"), f"{path}.endToEndIdentification", 35)
        or "NOTPROVIDED",
        "amount": str(value),
        "currency": "EUR",
        "counterparty_name": _check_text(item.get("creditorName"), f"{path}.creditorName", 70, required=True),
        "counterparty_iban": _check_iban(item.get("creditorAccount"), f"{path}.creditorAccount"),
        "counterparty_bic": item.get("creditorAgent"),
        "remittance": _check_text(item.get("remittanceInformationUnstructured"),
                                  f"{path}.remittanceInformationUnstructured", 140),
        "reference": reference,
    }


class IngPaymentsMixin(OrderApprovalMixin):
    """Mixed into IngApp: needs its _application_token helpers and state."""

    def is_payment_path(self, path):
        return bool(PAYMENT_PATH.match(path)) or bool(PAGE_PATH.match(path))

    def payments_api(self, request):
        page = PAGE_PATH.match(request.path)
        if page:
            return self.payment_page(request, page.group(1))
        try:
            response = self._payments_route(request, PAYMENT_PATH.match(request.path))
        except PisError as error:
            from .ing import tpp_error

            response = tpp_error(error.status, error.code, error.text, request, error.path)
        response.headers["X-Request-ID"] = request.headers.get("X-Request-ID", "")
        response.headers["X-ING-Response-ID"] = str(uuid.uuid4())
        return response

    # ------------------------------------------------------------ checks
    def _pis_auth(self, request):
        """mTLS + application token + signature incl. x-request-id: the client record."""
        if not self._require_client_cert(request):
            raise PisError(401, "INVALID_HEADER", "A valid TLS client certificate is required")
        record = self.state.token(bearer_token(request), "application", "ing")
        if not record:
            raise PisError(401, "INVALID_HEADER", "The application access token is invalid or expired",
                           "Authorization")
        try:
            uuid.UUID(request.headers.get("X-Request-ID", ""))
        except ValueError:
            raise PisError(400, "FORMAT_ERROR", "X-Request-ID must be a UUID", "X-Request-ID") from None
        try:
            self._verify_client_signature(
                request, record["client_id"], ["(request-target)", "date", "digest", "x-request-id"])
        except SignatureError as error:
            raise PisError(error.status, "INVALID_HEADER", str(error), "Signature") from None
        return record

    def _payments_route(self, request, match):
        record = self._pis_auth(request)
        service, product = match.group("service"), match.group("product")
        xml = product.startswith("pain.001-")
        bare = product[len("pain.001-"):] if xml else product
        if bare not in KNOWN_PRODUCTS:
            raise PisError(404, "PRODUCT_UNKNOWN",
                           f"Payment product {product} is unknown; ING offers credit transfers only "
                           "(no direct debits) through this API", "payment-product")
        if bare not in PRODUCTS:
            raise PisError(400, "PRODUCT_INVALID", f"The sandbox offers sepa-credit-transfers only, not {bare}",
                           "payment-product")
        if xml and service == "bulk-payments":
            raise PisError(404, "PRODUCT_UNKNOWN", "Bulk payments are JSON only", "payment-product")
        version, payment_id = match.group("version"), match.group("id")
        if payment_id is None:
            if request.method != "POST":
                raise PisError(405, "FORMAT_ERROR", "Use POST to initiate a payment")
            if version == "v2" and service == "payments":
                raise PisError(404, "RESOURCE_UNKNOWN", "No such resource")
            return self._initiate(request, record, service, product, version, xml)
        submission = self._own_submission(record, payment_id, service, xml)
        if match.group("status"):
            if request.method != "GET":
                raise PisError(405, "FORMAT_ERROR", "Use GET for the status")
            if version == "v2" and not xml:
                raise PisError(404, "RESOURCE_UNKNOWN", "No such resource")
            return self._status(submission, xml, version)
        if request.method == "GET":
            if xml:
                return Response(submission["original"], status=200, mimetype="application/xml")
            return json_response(submission["original"])
        if request.method == "DELETE" and not xml and version == "v1":
            return self._cancel(submission)
        raise PisError(405, "FORMAT_ERROR", f"{request.method} is not allowed here")

    def _own_submission(self, record, payment_id, service, xml):
        submission = PaymentBook(self.state).get(payment_id, "ing")
        if (not submission or submission.get("client_id") != record["client_id"]
                or submission.get("service") != service or (submission.get("format") != "json") != xml):
            raise PisError(404, "RESOURCE_UNKNOWN", "The payment is unknown", "paymentId")
        return submission

    # ------------------------------------------------------------ initiation
    def _initiate(self, request, record, service, product, version, xml):
        redirect_uri = request.headers.get("TPP-Redirect-URI", "")
        if not redirect_uri.startswith(("https://", "http://")):
            raise PisError(400, "FORMAT_ERROR", "TPP-Redirect-URI is required (an absolute URI)", "TPP-Redirect-URI")
        if not request.headers.get("PSU-IP-Address"):
            raise PisError(400, "FORMAT_ERROR", "PSU-IP-Address is required", "PSU-IP-Address")
        if xml:
            submission = self._from_pain(request)
        else:
            submission = self._from_json(request, service)
        submission.update(client_id=record["client_id"], redirect_uri=redirect_uri, service=service,
                          product=product, api_version=version)
        book = PaymentBook(self.state)
        request_id = request.headers["X-Request-ID"].lower()
        duplicate = book.duplicate_of("ing", submission.get("account"), submission.get("message_id"),
                                      [p["end_to_end_id"] for p in submission["payments"]], request_id)
        if duplicate:
            if duplicate.get("request_id") == request_id:
                what = f"X-Request-ID {request_id}"
            elif submission.get("message_id") and duplicate.get("message_id") == submission["message_id"]:
                what = f"MsgId {submission['message_id']}"
            else:
                what = "an endToEndIdentification"
            raise PisError(422, "PAYMENT_FAILED",
                           f"AM05 Duplicate order: {what} was already used in payment {duplicate['id']}")
        submission["request_id"] = request_id
        country = "NL"
        kind = "?type=bulk" if service == "bulk-payments" else ""
        submission["approval_url"] = f"https://{request.host}/payment-initiation/{submission['id']}/{country}{kind}"
        book.add(submission)
        base = f"/v1/{service}/{product}/{submission['id']}"
        links = {"scaRedirect": submission["approval_url"], "self": base, "status": base + "/status"}
        if xml:
            links["status"] = f"/{'v2' if version == 'v2' else 'v1'}/payments/{product}/{submission['id']}/status"
        if submission.get("requested_date") and submission["requested_date"] > self._today():
            links["delete"] = base
        answer = {"transactionStatus": bank_status(submission), "paymentId": submission["id"], "_links": links}
        warnings = [f"{p['reason']['code']} {p['reason']['text_en']}: {p['end_to_end_id']}"
                    for p in submission["payments"] if p["status"] == REJECTED][:20]
        if submission.get("asked_date") and submission["asked_date"] < self._today():
            warnings.append(f"requestedExecutionDate {submission['asked_date']} lies in the past; "
                            f"the payment is executed from {self._today()}")
        if warnings:
            answer["tppMessages"] = [{"category": "WARNING", "code": "PAYMENT_FAILED", "text": text[:512]}
                                     for text in warnings]
        response = json_response(answer, 201)
        response.headers["Location"] = base
        response.headers["ASPSP-SCA-Approach"] = "REDIRECT"
        return response

    def _today(self):
        return self.state.current_scenario().today.isoformat()

    def _debtor(self, data, path="debtorAccount"):
        iban = _check_iban(data.get("debtorAccount"), path, required=False)
        if iban:
            account = self.state.current_scenario().account_by_iban("ing", iban)
            if account is None or not account.eligible:
                raise PisError(400, "FORMAT_ERROR", f"{iban} is not an ING payment account that can be used",
                               f"{path}.iban")
        return iban

    def _requested_date(self, value):
        if value is None:
            return None
        try:
            day = datetime.date.fromisoformat(value)
        except (TypeError, ValueError):
            raise PisError(400, "FORMAT_ERROR", "requestedExecutionDate must be yyyy-mm-dd", "requestedExecutionDate") from None
        # A date in the past is moved to today and announced (spec: ACWC
        # "accepted with change ... such as requested execution date").
        return max(day.isoformat(), self._today())

    def _from_json(self, request, service):
        try:
            data = request.get_json(force=True, silent=False)
        except Exception:
            data = None
        if not isinstance(data, dict):
            raise PisError(400, "FORMAT_ERROR", "The body must be a JSON object", "body")
        if service == "bulk-payments":
            items = data.get("payments")
            if not isinstance(items, list) or not items:
                raise PisError(400, "FORMAT_ERROR", "payments must hold at least one payment", "payments")
            if len(items) > BULK_LIMIT:
                raise PisError(400, "FORMAT_ERROR", f"A bulk payment holds at most {BULK_LIMIT} payments", "payments")
            payments = [_json_payment(item, f"payments[{i}]") for i, item in enumerate(items)]
            batch_booking = data.get("batchBookingPreferred", True)
            if not isinstance(batch_booking, bool):
                raise PisError(400, "FORMAT_ERROR", "batchBookingPreferred must be true or false",
                               "batchBookingPreferred")
        else:
            payments = [_json_payment(data, "body")]
            batch_booking = False
        return new_submission(
            "ing", "credit_transfer", payments, format="json", original=data,
            account=self._debtor(data), batch_booking=batch_booking,
            requested_date=self._requested_date(data.get("requestedExecutionDate")),
            asked_date=data.get("requestedExecutionDate"))

    def _from_pain(self, request):
        try:
            parsed = parse_pain(request.get_data())
        except PainError as error:
            raise PisError(400, "FORMAT_ERROR", f"pain.001: {error}", "body") from None
        if parsed["kind"] != "credit_transfer":
            raise PisError(400, "FORMAT_ERROR", "Only pain.001 credit transfers are accepted", "body")
        if len(parsed["payments"]) != 1 or len(parsed["blocks"]) != 1:
            raise PisError(400, "FORMAT_ERROR", "The pain.001 message can only contain one payment initiation "
                           "request; use bulk-payments for more", "body")
        block = parsed["blocks"][0]
        account = self._debtor({"debtorAccount": {"iban": block["account"]}} if block["account"] else {},
                               "DbtrAcct")
        return new_submission(
            "ing", "credit_transfer", parsed["payments"], format=parsed["message"],
            original=request.get_data(as_text=True), account=account, batch_booking=False,
            message_id=parsed["message_id"], payment_information_ids=[block["id"]],
            requested_date=self._requested_date(block["date"]), asked_date=block["date"])

    # ------------------------------------------------------------ status / cancel
    def _status(self, submission, xml, version):
        code = bank_status(submission)
        reasons = status_reasons(submission)
        if xml:
            return Response(pain002(submission, code, reasons, "pain.002.001.11" if version == "v2"
                                    else "pain.002.001.03"), status=200, mimetype="application/xml")
        body = {"transactionStatus": code}
        if reasons:
            body["stsRsnInf"] = [{"rsn": {"cd": r["code"]}, "addtlInf": r["lines"]} for r in reasons]
        return json_response(body)

    def _cancel(self, submission):
        """Before authorisation, or while a future-dated payment waits (spec: _links.delete)."""
        future = (submission.get("requested_date") or "") > self._today()
        if not (submission["status"] in OPEN or (future and submission["status"] in ("authorised", "accepted"))):
            raise PisError(400, "PAYMENT_FAILED",
                           f"The payment is {bank_status(submission)} and can no longer be cancelled")
        PaymentBook(self.state).cancel(submission)
        return Response("", status=204)

    # ------------------------------------------------------------ approval page
    def payment_page(self, request, payment_id):
        submission = PaymentBook(self.state).get(payment_id, "ing")
        if submission is None:
            return html_response(pages.error_page("ing", "Onbekende of verlopen opdracht."), 404)
        if request.method == "POST":
            return self.continue_order_page(request)
        return self.start_order_page(submission)


def status_reasons(submission):
    """[{code, lines}] for stsRsnInf: the order's reason, else each refused payment."""
    def lines(reason, prefix=None):
        texts = ([prefix] if prefix else []) + [f"{reason['text_nl']} / {reason['text_en']}"]
        if reason.get("detail"):
            texts.append(reason["detail"])
        return [t[:105] for t in texts]

    if submission["reason"]:
        return [{"code": submission["reason"]["code"], "lines": lines(submission["reason"])}]
    return [{"code": p["reason"]["code"], "lines": lines(p["reason"], f"endToEndId: {p['end_to_end_id']}")}
            for p in submission["payments"] if p["status"] == REJECTED and p.get("reason")]


def pain002(submission, code, reasons, message):
    ns = f"urn:iso:std:iso:20022:tech:xsd:{message}"
    ET.register_namespace("", ns)

    def sub(parent, tag, text=None):
        node = ET.SubElement(parent, f"{{{ns}}}{tag}")
        if text is not None:
            node.text = text
        return node

    document = ET.Element(f"{{{ns}}}Document")
    report = sub(document, "CstmrPmtStsRpt")
    header = sub(report, "GrpHdr")
    sub(header, "MsgId", uuid.uuid4().hex[:35])
    sub(header, "CreDtTm", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    group = sub(report, "OrgnlGrpInfAndSts")
    sub(group, "OrgnlMsgId", submission.get("message_id") or submission["id"][:35])
    sub(group, "OrgnlMsgNmId", submission.get("format") or "pain.001.001.03")
    info = sub(report, "OrgnlPmtInfAndSts")
    sub(info, "OrgnlPmtInfId", (submission.get("payment_information_ids") or [submission["id"]])[0][:35])
    sub(info, "PmtInfSts", code)
    for reason in reasons:
        status_reason = sub(info, "StsRsnInf")
        sub(sub(status_reason, "Rsn"), "Cd", reason["code"])
        for line in reason["lines"]:
            sub(status_reason, "AddtlInf", line)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(document, encoding="unicode")).encode()


__all__ = ["IngPaymentsMixin", "pis_code"]
