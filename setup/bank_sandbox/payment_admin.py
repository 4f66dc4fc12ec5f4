"""Admin API for payment orders (loopback only, like the other /_sandbox/ endpoints)."""

import logging

from .payments import REASONS, PaymentBook, PaymentError, count_and_total
from .web import json_response

ING_STATUS = {"received": "RCVD", "authorising": "ACTC", "authorised": "ACCP", "accepted": "ACSP",
              "executed": "ACSC", "rejected": "RJCT", "cancelled": "CANC"}
ABN_STATUS = {"received": "STORED", "authorising": "STORED", "authorised": "AUTHORIZED",
              "accepted": "INPROGRESS", "executed": "EXECUTED", "rejected": "REJECTED",
              "cancelled": "REJECTED"}

# Inferred: Berlin Group codes as the 201 answer shows ("ACTC") [I Y]; ACSC/ACSP: money left.
RABO_STATUS = {"received": "ACTC", "authorising": "ACTC", "authorised": "ACCP", "accepted": "ACSP",
               "executed": "ACSC", "rejected": "RJCT", "cancelled": "CANC"}


def bank_status(submission):
    """The status code the bank itself would use for this order."""
    if submission["bank"] == "ing":
        code = ING_STATUS[submission["status"]]
        if code == "ACSC" and any(p["status"] == "rejected" for p in submission["payments"]):
            return "PART"
        return code
    if submission.get("berlin_group"):  # Knab, de Volksbank (nextgenpsd2_payments.py)
        from .nextgenpsd2_payments import payment_status

        return payment_status(submission)
    if submission["bank"] == "rabobank":
        return RABO_STATUS[submission["status"]]
    if submission["bank"] == "bunq":
        from .bunq_payments import draft_status

        return draft_status(submission)
    return ABN_STATUS[submission["status"]]


def summary(submission):
    count, total = count_and_total(submission)
    return {
        "id": submission["id"],
        "bank": submission["bank"],
        "kind": submission["kind"],
        "format": submission.get("format"),
        "product": submission.get("product"),
        "status": submission["status"],
        "bank_status": bank_status(submission),
        "reason": submission["reason"],
        "message_id": submission.get("message_id"),
        "payment_information_ids": submission.get("payment_information_ids", []),
        "account": submission.get("account"),
        "requested_date": submission.get("requested_date"),
        "batch_booking": submission["batch_booking"],
        "count": count,
        "total": f"{total:.2f}",
        "payments": [
            {k: p.get(k) for k in ("end_to_end_id", "amount", "counterparty_name", "counterparty_iban",
                                   "mandate_id", "status", "reason")}
            for p in submission["payments"]
        ],
        "approval_url": submission.get("approval_url"),
        "bookings": submission["bookings"],
        "history": submission["history"],
    }


class PaymentAdminMixin:
    def tick_payments(self):
        try:
            PaymentBook(self.state).tick()
        except Exception:  # a broken order must not take the bank down
            logging.getLogger("bank_sandbox").exception("payment tick failed")

    def _payment_from_body(self, request):
        body = self._json_body(request) or {}
        book = PaymentBook(self.state)
        submission = book.get(str(body.get("id", "")))
        if submission is None:
            raise KeyError(f"no payment order {body.get('id')!r}")
        return body, book, submission

    def admin_payments(self, request):
        """GET: every order (``?bank=``, ``?status=``), newest last."""
        bank = request.args.get("bank")
        status = request.args.get("status")
        orders = [summary(s) for s in PaymentBook(self.state).list(bank)]
        if status:
            orders = [o for o in orders if o["status"] == status]
        return json_response({"payments": orders})

    def admin_payments_advance(self, request):
        """POST {"id", "to"?: authorised|accepted|executed, "account"?}: the bank moves on."""
        body, book, submission = self._payment_from_body(request)
        if body.get("account") and not submission.get("account"):
            submission["account"] = body["account"].replace(" ", "").upper()
        try:
            book.advance(submission, body.get("to"))
        except PaymentError as error:
            return json_response({"message": str(error)}, 409)
        return json_response(summary(submission))

    def admin_payments_reject(self, request):
        """POST {"id", "code", "end_to_end_id"?, "detail"?}: refuse the order or one payment."""
        body, book, submission = self._payment_from_body(request)
        code = body.get("code", "MS03")
        if code not in REASONS:
            raise ValueError(f"unknown reason code {code}; known: {', '.join(sorted(REASONS))}")
        try:
            book.reject(submission, code, body.get("detail"), body.get("end_to_end_id"))
        except PaymentError as error:
            return json_response({"message": str(error)}, 409)
        return json_response(summary(submission))

    def admin_payments_reasons(self, request):
        return json_response({"reasons": {code: {"text_nl": nl, "text_en": en}
                                          for code, (nl, en) in REASONS.items()}})
