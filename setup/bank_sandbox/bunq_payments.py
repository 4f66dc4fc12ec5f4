"""bunq draft payments: a PSD2 provider prepares, the customer accepts in the bunq app.

``POST /v1/user/{userID}/monetary-account/{monetary-accountID}/draft-payment``
with ``entries`` (``amount``, ``counterparty_alias`` as a Pointer
``{"type": "IBAN", "value", "name"}``, ``description``) and
``number_of_required_accepts`` (only 1 is valid) answers ``{"Id": {"id"}}``;
``GET .../draft-payment/{id}`` answers the ``DraftPayment`` with its
``status`` and, once accepted, ``object`` (the Payment or PaymentBatch)
[C B-doc, OpenAPI ``DraftPayment``, ``DraftPaymentEntry``, ``DraftPaymentRead``].
bunq returns no page for the customer: the draft waits in the bunq app.

Sandbox-only: the bunq app is the page ``/sandbox-app/draft-payment/<id>``
(review, the app's PIN as TAN, accept or refuse), reachable from the admin
summary's ``approval_url``; no real bunq host has it. An accepted draft is
executed at once, one bunq payment per entry in the account's payment list
(inferred: bunq books its payments instantly; the sandbox does not wait for
the payment life cycle's clock). Statuses: ``PENDING``, ``ACCEPTED``,
``REJECTED``, ``CANCELLED`` (inferred: bunq's documentation names the field,
not its values; these are the SDK's).
"""

import re

from . import dutch, pages
from .approval import OrderApprovalMixin, done_page
from .payments import (
    ACCEPTED,
    AUTHORISED,
    CANCELLED,
    EXECUTED,
    REJECTED,
    PaymentBook,
    PaymentError,
    money,
    new_submission,
)
from .web import html_response

DRAFT_PATH = re.compile(r"^/monetary-account/(\d+)/draft-payment(?:/(\d+))?$")
APP_PATH = re.compile(r"^/sandbox-app/draft-payment/([0-9a-f-]{36})/?$")
#: bunq's limit on a description to an external IBAN [C B-doc DraftPaymentEntry].
DESCRIPTION_MAX = 140
#: Inferred: bunq publishes no limit of entries per draft; the sandbox takes up to 200.
MAX_ENTRIES = 200
FIRST_DRAFT_ID = 4100


def draft_status(submission):
    status = submission["status"]
    if status in (AUTHORISED, ACCEPTED, EXECUTED):
        return "ACCEPTED"
    if status == CANCELLED:
        return "CANCELLED"
    if status == REJECTED:
        return "REJECTED"
    return "PENDING"


class DraftError(Exception):
    def __init__(self, text):
        super().__init__(text)
        self.text = text


def _entry(index, entry):
    where = f"entries[{index}]"
    if not isinstance(entry, dict):
        raise DraftError(f"{where} must be an object.")
    amount = entry.get("amount")
    if not isinstance(amount, dict) or not isinstance(amount.get("value"), str):
        raise DraftError(f"{where}.amount.value is required (a string).")
    if amount.get("currency") != "EUR":
        raise DraftError(f"{where}.amount.currency must be EUR.")
    try:
        value = money(amount["value"])
    except PaymentError as error:
        raise DraftError(f"{where}.amount: {error}") from None
    alias = entry.get("counterparty_alias")
    if not isinstance(alias, dict) or alias.get("type") != "IBAN":
        raise DraftError(f"{where}.counterparty_alias must be a Pointer of type IBAN.")
    iban = str(alias.get("value") or "").replace(" ", "").upper()
    if not dutch.is_valid_iban(iban):
        raise DraftError(f"{where}.counterparty_alias.value is not a valid IBAN.")
    # A payment to an external IBAN needs the name of its holder [C B-doc Pointer].
    name = alias.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DraftError(f"{where}.counterparty_alias.name is required for an IBAN.")
    description = entry.get("description", "")
    if not isinstance(description, str) or len(description) > DESCRIPTION_MAX:
        raise DraftError(f"{where}.description must be text of at most {DESCRIPTION_MAX} characters.")
    return {"end_to_end_id": f"bunq-{index + 1}", "amount": str(value), "currency": "EUR",
            "counterparty_name": name.strip(), "counterparty_iban": iban, "remittance": description,
            "merchant_reference": entry.get("merchant_reference")}


class BunqDraftPaymentsMixin(OrderApprovalMixin):
    """Mixed into BunqApp: needs its envelope helpers, accounts and state."""

    # ------------------------------------------------------------ API
    def draft_payments(self, request, session, visible, account_id, draft_id):
        from .bunq import envelope, error

        account_entry = visible.get(account_id)
        if account_entry is None:
            return error(404, "Monetary account not found.")
        if session["user_type"] == "psp":
            return error(403, "Insufficient authorisation.")
        index, account = account_entry
        book = PaymentBook(self.state)
        if draft_id is None and request.method == "POST":
            try:
                submission = self._new_draft(request, account)
            except DraftError as failure:
                return error(400, failure.text)
            book.add(submission)
            return envelope({"Id": {"id": submission["draft_id"]}})
        if request.method != "GET":
            return error(405, "Method not allowed.")
        drafts = [s for s in book.list("bunq") if s.get("monetary_account_id") == account_id
                  and s.get("consent_id") == session.get("consent_id")]
        if draft_id is None:
            drafts.sort(key=lambda s: s["draft_id"], reverse=True)
            return envelope(*({"DraftPayment": self._render_draft(s, index, account)} for s in drafts),
                            pagination={"future_url": None, "newer_url": None, "older_url": None})
        found = next((s for s in drafts if s["draft_id"] == draft_id), None)
        if found is None:
            return error(404, "Draft payment not found.")
        return envelope({"DraftPayment": self._render_draft(found, index, account)})

    def _new_draft(self, request, account):
        body = self._body(request)
        if body.get("number_of_required_accepts") != 1:
            raise DraftError("number_of_required_accepts must be 1.")
        entries = body.get("entries")
        if not isinstance(entries, list) or not entries:
            raise DraftError("entries is required: at least one entry.")
        if len(entries) > MAX_ENTRIES:
            raise DraftError(f"A draft payment holds at most {MAX_ENTRIES} entries.")
        payments = [_entry(index, entry) for index, entry in enumerate(entries)]
        with self.state.lock:
            number = sum(1 for s in self.state.payments.values() if s["bank"] == "bunq")
        session = self.state.raw_token(request.headers.get("X-Bunq-Client-Authentication", "")) or {}
        submission = new_submission(
            "bunq", "credit_transfer", payments, format="json", original=body, account=account.iban,
            batch_booking=False, draft_id=FIRST_DRAFT_ID + number, monetary_account_id=self.account_id(
                self._accounts().index(account)), consent_id=session.get("consent_id"),
            request_id=request.headers.get("X-Bunq-Client-Request-Id"))
        submission["approval_url"] = f"https://{request.host}/sandbox-app/draft-payment/{submission['id']}"
        return submission

    def _render_draft(self, submission, index, account):
        from .bunq import _money, _stamp

        own = {"iban": account.iban, "display_name": account.holder, "country": "NL",
               "label_user": {"display_name": account.holder, "country": "NL"}}
        entries = [{
            "id": submission["draft_id"] * 10 + number,
            "amount": _money(payment["amount"], payment.get("currency", "EUR")),
            "counterparty_alias": {"iban": payment["counterparty_iban"], "display_name": payment["counterparty_name"],
                                   "country": payment["counterparty_iban"][:2],
                                   "label_user": {"display_name": payment["counterparty_name"]}},
            "description": payment.get("remittance") or "", "alias": own, "type": "REGULAR",
        } for number, payment in enumerate(submission["payments"])]
        data = {"id": submission["draft_id"], "monetary_account_id": submission["monetary_account_id"],
                "user_alias_created": {"display_name": "Sandbox TPP"},
                "status": draft_status(submission), "type": "REGULAR", "entries": entries,
                "responses": [], "request_reference_split_the_bill": []}
        if submission["status"] in (REJECTED, CANCELLED, AUTHORISED, ACCEPTED, EXECUTED):
            moment = submission.get(f"{submission['status']}_at")
            if moment:
                data["responses"] = [{"status": data["status"],
                                      "user_alias_created": {"display_name": account.holder}}]
                data["updated"] = _stamp(moment)
        if submission["status"] == EXECUTED:
            payments = {row[0]: row for row in self._payments(index, account)}
            booked = [self._render_payment(index, account, pid, record)["Payment"]
                      for pid, record in payments.values() if record.get("id") in submission["bookings"]]
            data["object"] = ({"Payment": booked[0]} if len(booked) == 1
                              else {"PaymentBatch": {"payments": {"Payment": booked}}})
        return data

    # ------------------------------------------------------------ the bunq app (sandbox page)
    def app_page(self, request, payment_id):
        submission = PaymentBook(self.state).get(payment_id, "bunq")
        if submission is None:
            return html_response(pages.error_page("bunq", "Onbekende betaling."), 404)
        if request.method == "POST":
            return self.continue_order_page(request)
        return self.start_order_page(submission)

    def order_return(self, submission, approved):
        """Accepted in the app: bunq carries the payments out at once (inferred)."""
        if approved:
            try:
                PaymentBook(self.state).advance(submission, EXECUTED)
            except PaymentError:
                pass  # refused at execution (funds, counterparty): the status tells
        return html_response(done_page("bunq", approved))


__all__ = ["BunqDraftPaymentsMixin", "draft_status"]
