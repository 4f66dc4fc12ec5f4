"""Rabobank Payment Initiation (single SEPA credit transfer), NOTES.md section 7 [I Y].

``POST /openapi/payments/payment-initiation/pis/v1/payments/sepa-credit-transfers``
without an OAuth token: mTLS, ``X-IBM-Client-Id`` and a signature over
``date digest tpp-nok-redirect-uri tpp-redirect-uri x-request-id``. The body
is Berlin Group's single payment, but ``instructedAmount`` carries
``content`` instead of ``amount``. The user signs at ``_links.scaRedirect``;
the status is polled at ``.../{paymentId}/status``. No bulk: Rabobank's bulk
API is not described publicly (NOTES.md), so batches go as pain.001 files.
"""

import re

from . import pages
from .approval import OrderApprovalMixin
from .payment_admin import bank_status
from .payments import OPEN, PaymentBook, PaymentError, money, new_submission
from .web import html_response, json_response, redirect

PIS = "/openapi/payments/payment-initiation/pis/v1/payments/sepa-credit-transfers"
STATUS_PATH = re.compile(r"^" + PIS + r"/([0-9a-f-]{36})/status$")
PAGE_PATH = re.compile(r"^/betalen/([0-9a-f-]{36})/?$")
PIS_SIGNED_HEADERS = ["date", "digest", "tpp-nok-redirect-uri", "tpp-redirect-uri", "x-request-id"]
IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$")
# Inferred: Berlin Group scaStatus per stage of the sandbox's life cycle.
SCA_STATUS = {"received": "received", "authorising": "started", "authorised": "finalised",
              "accepted": "finalised", "executed": "finalised", "rejected": "failed", "cancelled": "failed"}


class RaboPisError(Exception):
    def __init__(self, status, code, text, path=None):
        super().__init__(text)
        self.status, self.code, self.text, self.path = status, code, text, path


def _text(data, key, limit, required=False):
    value = data.get(key)
    if value in (None, ""):
        if required:
            raise RaboPisError(400, "FORMAT_ERROR", f"{key} is required", key)
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise RaboPisError(400, "FORMAT_ERROR", f"{key} must be text of at most {limit} characters", key)
    return value


def _iban(data, key, required):
    account = data.get(key)
    iban = account.get("iban") if isinstance(account, dict) else None
    if not iban:
        if required:
            raise RaboPisError(400, "FORMAT_ERROR", f"{key}.iban is required", f"{key}.iban")
        return None
    if not isinstance(iban, str) or not IBAN.match(iban):
        raise RaboPisError(400, "FORMAT_ERROR", f"{key}.iban is not an IBAN", f"{key}.iban")
    return iban


class RaboPaymentsMixin(OrderApprovalMixin):
    """Mixed into RabobankApp: needs its _check_call helpers and state."""

    def is_payment_path(self, path):
        return path == PIS or bool(STATUS_PATH.match(path)) or bool(PAGE_PATH.match(path))

    def payments_api(self, request):
        page = PAGE_PATH.match(request.path)
        if page:
            return self.payment_page(request, page.group(1))
        from .rabobank import tpp_error

        # Initiation signs both redirect URIs; the status GET signs as AIS does [I Y].
        if request.path == PIS and request.method == "POST":
            self._check_call(request, PIS_SIGNED_HEADERS)
        else:
            self._check_call(request)
        try:
            status = STATUS_PATH.match(request.path)
            if status:
                if request.method != "GET":
                    raise RaboPisError(405, "SERVICE_INVALID", "Use GET for the status")
                return self._status(status.group(1))
            if request.method != "POST":
                raise RaboPisError(405, "SERVICE_INVALID", "Use POST to initiate a payment")
            return self._initiate(request)
        except RaboPisError as error:
            return tpp_error(error.status, error.code, error.text, error.path)

    def _initiate(self, request):
        redirect_uri = request.headers.get("TPP-Redirect-URI", "")
        nok_uri = request.headers.get("TPP-Nok-Redirect-URI", "")
        if not redirect_uri.startswith("https://") or not nok_uri.startswith("https://"):
            raise RaboPisError(400, "FORMAT_ERROR", "TPP-Redirect-URI and TPP-Nok-Redirect-URI are required",
                               "TPP-Redirect-URI")
        data = request.get_json(force=True, silent=True)
        if not isinstance(data, dict):
            raise RaboPisError(400, "FORMAT_ERROR", "The body must be a JSON object", "body")
        amount = data.get("instructedAmount")
        if not isinstance(amount, dict) or "content" not in amount:
            # Rabobank's own field name [I Y]; Berlin Group's "amount" is refused here.
            raise RaboPisError(400, "FORMAT_ERROR", "instructedAmount.content is required",
                               "instructedAmount.content")
        if amount.get("currency") != "EUR":
            raise RaboPisError(400, "FORMAT_ERROR", "SEPA credit transfers are in EUR", "instructedAmount.currency")
        try:
            value = money(str(amount["content"]))
        except PaymentError as error:
            raise RaboPisError(400, "FORMAT_ERROR", str(error), "instructedAmount.content") from None
        debtor = _iban(data, "debtorAccount", required=False)  # may be left out [I Y]
        if debtor:
            account = self.state.current_scenario().account_by_iban("rabobank", debtor)
            if account is None or not account.eligible:
                raise RaboPisError(400, "FORMAT_ERROR", f"{debtor} is not a Rabobank payment account",
                                   "debtorAccount.iban")
        payment = {
            "end_to_end_id": _text(data, "endToEndIdentification", 35) or "NOTPROVIDED",
            "amount": str(value), "currency": "EUR",
            "counterparty_name": _text(data, "creditorName", 70, required=True),
            "counterparty_iban": _iban(data, "creditorAccount", required=True),
            "remittance": _text(data, "remittanceInformationUnstructured", 140),
        }
        submission = new_submission("rabobank", "credit_transfer", [payment], format="json", original=data,
                                    account=debtor, batch_booking=False, client_id=self._settings()["client_id"],
                                    redirect_uri=redirect_uri, nok_redirect_uri=nok_uri,
                                    request_id=request.headers["X-Request-ID"].lower())
        submission["approval_url"] = f"https://{request.host}/betalen/{submission['id']}"
        PaymentBook(self.state).add(submission)
        return json_response({"paymentId": submission["id"], "transactionStatus": bank_status(submission),
                              "_links": {"scaRedirect": {"href": submission["approval_url"]}}}, 201)

    def _status(self, payment_id):
        submission = PaymentBook(self.state).get(payment_id, "rabobank")
        if submission is None:
            raise RaboPisError(404, "RESOURCE_UNKNOWN", "The payment is unknown", "paymentId")
        return json_response({"transactionStatus": bank_status(submission),
                              "scaStatus": SCA_STATUS[submission["status"]]})

    def order_return(self, submission, approved):
        return redirect(submission["redirect_uri"] if approved else submission["nok_redirect_uri"])

    def payment_page(self, request, payment_id):
        submission = PaymentBook(self.state).get(payment_id, "rabobank")
        if submission is None:
            return html_response(pages.error_page("rabobank", "Onbekende of verlopen opdracht."), 404)
        if request.method == "POST":
            return self.continue_order_page(request)
        if submission["status"] not in OPEN:
            return html_response(pages.error_page("rabobank", "Deze opdracht is al verwerkt."), 409)
        return self.start_order_page(submission)
