"""ABN AMRO Payment Initiation (PSD2) v1.2.1: batch SEPA payments and direct debits.

The spec's batch flow, as the sandbox plays it:
1. consent (authorization code) with scope ``psd2:payment:batchsct:write``
   and/or ``psd2:payment:batchsdd:write`` for ONE account (90 days);
2. ``POST /v1/payments/batch`` ``{"sepaBatchPaymentInstruction": {"fileName",
   "fileData": base64(gzip(pain.001.001.03 | pain.008.001.02))}}``;
3. the account holder authorises the batch at ``authorizationUrl`` (Internet
   Banking in production; here a page with a TAN step and no redirect back,
   since the spec defines none);
4. no status call: the spec says a batch status method "is not yet
   available"; execution shows up as a booking in Account Information.
"""

import hashlib
import json
import re
import secrets

from . import pages
from .approval import OrderApprovalMixin
from .payments import PainError, PaymentBook, PaymentError, decode_batch_file, new_submission, parse_pain, reason
from .web import bearer_token, html_response, json_response, new_trace_id

PAYMENT_SCOPES = {"psd2:payment:batchsct:write", "psd2:payment:batchsdd:write"}
SCOPE_FOR_KIND = {"credit_transfer": "psd2:payment:batchsct:write", "direct_debit": "psd2:payment:batchsdd:write"}
FILE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,18}$")
PAGE_PREFIX = "/ibz/batch/"
PAYMENT_CONSENT_DAYS = 90


class BatchRefused(Exception):
    def __init__(self, status, code, message, category="BAD_REQUEST"):
        super().__init__(message)
        self.status, self.code, self.message, self.category = status, code, message, category


def batch_id():
    """ABN AMRO style: 19 characters, e.g. 9106O2454217947S0PD (the account is appended)."""
    return "".join(secrets.choice("0123456789") for _ in range(4)) + "O" + \
        "".join(secrets.choice("0123456789") for _ in range(10)) + "S0PD"


class AbnPaymentsMixin(OrderApprovalMixin):
    """Mixed into AbnAmroApp."""

    def order_accounts(self, submission):
        return []  # the consent fixed the account

    def batch_page(self, request):
        token = request.path[len(PAGE_PREFIX):].strip("/")
        if request.method == "POST":
            return self.continue_order_page(request)
        submission = PaymentBook(self.state).by_token(token) if token else None
        if submission is None or submission["bank"] != "abnamro":
            return html_response(pages.error_page("abnamro", "Onbekende batch."), 404)
        return self.start_order_page(submission)

    def post_batch(self, request):
        from .abnamro import MISSING_API_KEY, MISSING_CLIENT_CERT, abn_error

        settings = self._settings()
        if request.method != "POST":
            return abn_error(404)
        if settings["require_client_cert_for_api"] and self.certs.from_environ(request.environ) is None:
            return abn_error(401, *MISSING_CLIENT_CERT)
        if request.headers.get("API-Key") != settings["api_key"]:
            return abn_error(401, *MISSING_API_KEY)
        record = self.state.token(bearer_token(request), "access", "abnamro")
        if not record:
            return abn_error(401)
        consent = dict(self.state.consents[record["consent_id"]], id=record["consent_id"])
        try:
            submission = self._batch_submission(request, consent)
        except BatchRefused as error:
            response = abn_error(error.status, error.code, error.category, error.message)
        else:
            response = json_response(self._batch_answer(request, submission), 201)
        if request.headers.get("X-Request-ID"):
            response.headers["X-Request-ID"] = request.headers["X-Request-ID"]
        response.headers["Trace-Id"] = new_trace_id()
        return response

    def _batch_submission(self, request, consent):
        scopes = set(consent["scope"].split()) & PAYMENT_SCOPES
        if not scopes:
            raise BatchRefused(403, "MESSAGE_BAI556_0021", "No scope present in authorization token.",
                               "INSUFFICIENT_SCOPE")
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            body = None
        instruction = body.get("sepaBatchPaymentInstruction") if isinstance(body, dict) else None
        if not isinstance(instruction, dict):
            raise BatchRefused(400, "ERR_1100_004", "The body needs sepaBatchPaymentInstruction")
        file_name = instruction.get("fileName")
        if not isinstance(file_name, str) or not FILE_NAME.match(file_name):
            raise BatchRefused(400, "MESSAGE_BAI556_0002",
                               "Batch file name provided is blank or having invalid characters.")
        try:
            xml = decode_batch_file(instruction.get("fileData") or "")
        except PaymentError as error:
            raise BatchRefused(400, error.kind, str(error)) from None
        common = {"file_name": file_name, "hash": hashlib.sha256(xml).hexdigest(),
                  "consent_id": consent["id"], "original_size": len(xml)}
        try:
            parsed = parse_pain(xml)
        except PainError as error:
            if error.kind == "type":
                raise BatchRefused(400, "MESSAGE_BAI556_0016", "File Type is not in PAIN format.") from None
            # Well-formed enough to be a PAIN file but wrong inside: the bank
            # takes it and rejects it (status REJECTED), as the tutorial says.
            return self._rejected(consent, "credit_transfer", "FF01", str(error), common)
        if len(parsed["blocks"]) > 1:
            raise BatchRefused(400, "MESSAGE_BAI556_0017", "One PmtMtd tag allowed only.")
        block = parsed["blocks"][0]
        if not block["account"]:
            raise BatchRefused(400, "MESSAGE_BAI556_0014", "Initiating party account number is blank or missing.")
        if block["account"] != consent["accounts"][0]:
            raise BatchRefused(400, "MESSAGE_BAI556_0001", "Invalid initiating party account number.")
        if SCOPE_FOR_KIND[parsed["kind"]] not in scopes:
            raise BatchRefused(403, "MESSAGE_BAI556_0024", "Wrong scope is provided in authorization token.",
                               "INSUFFICIENT_SCOPE")
        fields = dict(common, format=parsed["message"], account=block["account"], message_id=parsed["message_id"],
                      payment_information_ids=[block["id"]], batch_booking=block["batch_booking"],
                      requested_date=block["date"], creditor_id=block["creditor_id"],
                      local_instrument=block["local_instrument"], sequence_type=block["sequence_type"])
        account = self.state.current_scenario().account_by_iban("abnamro", block["account"])
        if parsed["kind"] == "direct_debit" and not (account and account.data.get("sdd_contract", True)):
            return self._rejected(consent, "direct_debit", "AG01", "no direct debit contract for this account",
                                  fields, parsed["payments"])
        book = PaymentBook(self.state)
        duplicate = book.duplicate_of("abnamro", block["account"], message_id=parsed["message_id"])
        if duplicate:
            return self._rejected(consent, parsed["kind"], "AM05",
                                  f"MsgId {parsed['message_id']} was already received in batch {duplicate['id']}",
                                  fields, parsed["payments"])
        submission = new_submission("abnamro", parsed["kind"], parsed["payments"], **fields)
        submission["id"] = f"{batch_id()};{block['account']}"
        if submission["status"] != "rejected":
            submission["approval_url"] = f"https://{request.host}{PAGE_PREFIX}{submission['approval_token']}"
        return book.add(submission)

    def _rejected(self, consent, kind, code, detail, fields, payments=()):
        fields = dict(fields)
        fields.setdefault("account", consent["accounts"][0])
        submission = new_submission("abnamro", kind, [dict(p) for p in payments], **fields)
        submission["id"] = f"{batch_id()};{fields['account']}"
        submission["status"] = "rejected"
        submission["reason"] = reason(code, detail)
        return PaymentBook(self.state).add(submission)

    def _batch_answer(self, submission_request, submission):
        account = self.state.current_scenario().account_by_iban("abnamro", submission["account"])
        received = submission["status"] != "rejected"
        answer = {
            # The schema (TransactionStatusResponse) and the tutorial's sample
            # disagree; the sandbox answers both shapes at once.
            "transactionId": submission["id"],
            "status": "STORED" if received else "REJECTED",
            "accountNumber": submission["account"],
            "sepaBatchPaymentInstruction": {
                "id": submission["id"],
                "status": "RECEIVED" if received else "REJECTED",
            },
        }
        if account is not None:
            answer["accountHolderName"] = account.holder
        if received:
            answer["authorizationUrl"] = submission["approval_url"]
            answer["sepaBatchPaymentInstruction"]["hash"] = submission["hash"]
            answer["sepaBatchPaymentInstruction"]["authorizationUrl"] = submission["approval_url"]
        else:
            # Sandbox only: ABN AMRO documents no reason in this answer.
            answer["sepaBatchPaymentInstruction"]["reason"] = submission["reason"]
        return answer


__all__ = ["AbnPaymentsMixin", "PAYMENT_SCOPES", "PAYMENT_CONSENT_DAYS"]
