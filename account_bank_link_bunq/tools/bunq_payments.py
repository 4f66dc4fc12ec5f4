"""bunq payment orders as draft payments [C B-doc], NOTES.md "Accounts and payments".

A payment order becomes one ``DraftPayment`` on the linked account: one
entry per payment (``amount``, ``counterparty_alias`` as a Pointer of type
IBAN with the creditor's name, ``description``), ``number_of_required_accepts``
1 (the only value bunq takes) [C B-doc ``DraftPayment``]. bunq sends the
customer no page to approve it: the draft waits in the bunq app, where the
customer accepts or refuses it. Its status comes back from
``GET .../draft-payment/{id}``; an accepted draft carries the Payment or
PaymentBatch it made (``object``) [C B-doc ``DraftPaymentRead``], each
payment then in the account's payment list as one statement line.

The calls need the customer's API context (the link's tokens): the provider
is given a function that returns them, renewed when the session ended.
Direct debits: bunq's API has none for a PSD2 provider; the file is for bunq.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from . import bunq_client, endpoints

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import ibans, provider
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import ibans, provider

#: bunq's limit on a description to an external IBAN [C B-doc DraftPaymentEntry].
DESCRIPTION_MAX = 140
#: Inferred: bunq publishes no maximum of entries per draft; a PaymentBatch of
#: more than this is not described, so larger orders go as the file.
MAX_ENTRIES = 200
#: bunq's draft statuses -> ISO 20022. An accepted draft is paid at once
#: (inferred: bunq books its payments instantly; ``object`` holds them).
DRAFT_ISO = {"PENDING": "PDNG", "ACCEPTED": "ACSC", "REJECTED": "RJCT", "CANCELLED": "CANC"}
#: Statuses bunq may use that the documentation does not list (inferred).
DRAFT_ISO_OTHER = {"EXPIRED": "CANC", "NEEDS_APPROVAL": "PDNG", "APPROVED": "ACCP"}


def description_of(instruction: provider.PaymentInstruction, message_id: str) -> str:
    """The creditor reads the remittance text (or the payment reference); the
    order's message id follows when it fits, so the line names its batch."""
    text = (instruction.structured_reference or instruction.remittance_text or "").strip()
    if message_id and message_id not in text and len(text) + len(message_id) + 1 <= DESCRIPTION_MAX:
        text = f"{text} {message_id}".strip()
    return text[:DESCRIPTION_MAX]


def draft_body(batch: provider.PaymentBatch) -> dict[str, Any]:
    if batch.order_type != provider.ORDER_CREDIT_TRANSFER:
        raise provider.PaymentNotSupportedError("bunq takes no direct debits from a PSD2 provider")
    if not batch.instructions:
        raise provider.InvalidRequestError("The order has no payments")
    if batch.count > MAX_ENTRIES:
        raise provider.InvalidRequestError(f"bunq takes at most {MAX_ENTRIES} payments in one draft")
    entries = []
    for instruction in batch.instructions:
        if instruction.currency != "EUR":
            raise provider.InvalidRequestError("bunq draft payments to an IBAN are in EUR")
        entries.append({
            "amount": {"value": f"{instruction.amount:.2f}", "currency": "EUR"},
            "counterparty_alias": {"type": "IBAN", "value": ibans.compact(instruction.counterparty_iban),
                                   "name": instruction.counterparty_name[:70]},
            "description": description_of(instruction, batch.message_id),
        })
    return {"entries": entries, "number_of_required_accepts": 1}


def map_draft_status(payload: Any) -> provider.PaymentStatus:
    rows = bunq_client.listed(payload, "draft payment")
    draft = next((data for kind, data in rows if kind == "DraftPayment"), None)
    status = draft.get("status") if isinstance(draft, Mapping) else None
    iso = DRAFT_ISO.get(status) or DRAFT_ISO_OTHER.get(status)
    if iso is None:
        raise provider.ProtocolError(f"bunq sent an unknown draft payment status {status!r}")
    if iso == "ACSC" and not draft.get("object"):
        # Accepted, the payments not made yet (inferred: bunq shows them at once).
        iso = "ACCP"
    reason = {"RJCT": "Refused in the bunq app", "CANC": "Cancelled at bunq"}.get(iso)
    return provider.PaymentStatus(iso_status=iso, bank_status=str(status), reason_text=reason)


class BunqPayments:
    """Payment methods of :class:`~bunq_provider.BunqProvider`."""

    client: bunq_client.BunqClient
    #: The link's tokens, the session renewed when it ended (set by the addon).
    link_tokens: Callable[[], provider.TokenSet] | None = None
    max_payments_per_order = MAX_ENTRIES

    def payment_support(self, order_type: str) -> provider.PaymentSupport:
        if order_type == provider.ORDER_CREDIT_TRANSFER:
            return provider.PaymentSupport(
                order_type=order_type, how=provider.SUPPORT_API, max_transactions=MAX_ENTRIES,
                explanation="The order goes to bunq as a draft payment: you accept it in the bunq app "
                "and its status comes back here.")
        return provider.PaymentSupport(
            order_type=order_type, how=provider.SUPPORT_FILE, has_status=False,
            explanation="bunq's interface takes no direct debits: download the file and upload it at bunq.")

    def _payment_context(self, tokens: provider.TokenSet | None) -> bunq_client.BunqContext:
        if tokens is None:
            if self.link_tokens is None:
                raise provider.ConfigurationError("No bunq consent to send payments with")
            tokens = self.link_tokens()
        return self.context_of(tokens)

    def _account_id(self, context: bunq_client.BunqContext, iban: str) -> int:
        for _kind, data in bunq_client.listed(self._accounts_payload(context), "accounts"):
            aliases = data.get("alias") if isinstance(data, Mapping) else None
            for alias in aliases or []:
                if isinstance(alias, Mapping) and alias.get("type") == "IBAN" and ibans.same(alias.get("value"), iban):
                    return int(data["id"])
        raise provider.AccessDeniedError(f"The bunq consent does not cover {iban}")

    def submit_payment_batch(self, batch: provider.PaymentBatch,
                             tokens: provider.TokenSet | None = None) -> provider.PaymentSubmission:
        body = draft_body(batch)
        context = self._payment_context(tokens)
        account_id = self._account_id(context, batch.account_iban)
        path = endpoints.DRAFT_PAYMENTS_PATH.format(user_id=context.user_id, account_id=account_id)
        # One attempt: after a lost answer a second draft could pay twice.
        payload = self.client._call("POST", path, context, body, what="draft payment", retry=False)
        draft_id = (bunq_client.merged(payload, "draft payment").get("Id") or {}).get("id")
        if not isinstance(draft_id, int):
            raise provider.ProtocolError("bunq's answer to the draft payment has no id")
        return provider.PaymentSubmission(
            bank_payment_id=str(draft_id),
            status=provider.PaymentStatus(iso_status="PDNG", bank_status="PENDING"),
            # No page: the customer accepts the draft in the bunq app.
            approval_url=None,
            reference_data={"user_id": context.user_id, "account_id": account_id, "draft_id": draft_id})

    def payment_batch_status(self, reference_data: Mapping[str, Any],
                             tokens: provider.TokenSet | None = None) -> provider.PaymentStatus:
        try:
            account_id = int(reference_data["account_id"])
            draft_id = int(reference_data["draft_id"])
        except (KeyError, TypeError, ValueError):
            raise provider.InvalidRequestError("No bunq draft payment to ask the status of") from None
        context = self._payment_context(tokens)
        path = endpoints.DRAFT_PAYMENT_PATH.format(user_id=context.user_id, account_id=account_id,
                                                   draft_id=draft_id)
        return map_draft_status(self.client.get(context, path, what="draft payment status"))
