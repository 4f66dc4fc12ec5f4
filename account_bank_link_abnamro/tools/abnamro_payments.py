"""ABN AMRO Payment Initiation (PSD2) v1.2.1: batch files (SCT and SDD).

Plain Python (no Odoo). Written from ABN AMRO's ``sepa-payment-v1.yaml``,
"Batch payments tutorial":

1. Consent: the OAuth authorization code flow with scope
   ``psd2:payment:batchsct:write`` (credit transfers) or
   ``psd2:payment:batchsdd:write`` (direct debits; the account holder needs
   a direct-debit contract). The account holder picks ONE account.
2. ``GET /v1/consentinfo`` names that account; it must be the batch's own
   account (``DbtrAcct`` of the pain.001, ``CdtrAcct`` of the pain.008).
3. ``POST /v1/payments/batch`` with the pain.001.001.03 / pain.008.001.02
   file gzipped and base64-encoded. ABN AMRO answers RECEIVED (with an id,
   a SHA-256 of the file and an ``authorizationUrl``) or REJECTED.
4. The account holder authorises the batch in Internet Banking or Access
   Online. The spec says: "A method for retrieving the status of the batch
   payment is not yet available": the status stays *received* until the
   batch is seen on the account's statement.

*Unconfirmed*: the spec's response schema for the batch POST is the flat
``TransactionStatusResponse`` (``transactionId``, ``status``), its tutorial
shows ``{"sepaBatchPaymentInstruction": {"id", "hash", "status",
"authorizationUrl"}}``: both are read. "There is no duplicate check on any
of the payment methods" (spec): our idempotency key guards against sending
twice; a 409 is still read as a duplicate refusal.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from . import abnamro_client

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import ibans, provider
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import ibans, provider

BATCH_PATH = "/v1/payments/batch"
SCOPES = {
    provider.ORDER_CREDIT_TRANSFER: "psd2:payment:batchsct:write",
    provider.ORDER_DIRECT_DEBIT: "psd2:payment:batchsdd:write",
}
#: pain versions ABN AMRO's batch API takes.
PAIN_VERSIONS = {
    provider.ORDER_CREDIT_TRANSFER: "pain.001.001.03",
    provider.ORDER_DIRECT_DEBIT: "pain.008.001.02",
}
STATUS_TO_ISO = {"RECEIVED": "RCVD", "STORED": "RCVD", "REJECTED": "RJCT"}
#: The spec's ``fileName`` is at most 18 characters.
FILE_NAME_MAX = 18


def batch_file_name(batch: provider.PaymentBatch) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]", "", batch.message_id or "batch")
    return (stem[: FILE_NAME_MAX - 4] or "batch") + ".xml"


def batch_body(batch: provider.PaymentBatch) -> dict[str, Any]:
    if batch.pain_version and batch.pain_version != PAIN_VERSIONS.get(batch.order_type):
        raise provider.InvalidRequestError(
            f"ABN AMRO takes {PAIN_VERSIONS.get(batch.order_type)} files for this order, "
            f"not {batch.pain_version}"
        )
    if batch.pain_xml.count(b"<PmtInf>") > 1:
        # *Unconfirmed*: ABN AMRO's error MESSAGE_BAI556_0017 "One PmtMtd tag
        # allowed only", read as one payment-information block per file.
        raise provider.InvalidRequestError(
            "ABN AMRO takes one payment block per file: make one order per execution "
            "date, scheme (CORE/B2B) and sequence type"
        )
    # mtime=0: the same file gives the same bytes, whatever the clock.
    data = base64.b64encode(gzip.compress(batch.pain_xml, mtime=0)).decode("ascii")
    return {"sepaBatchPaymentInstruction": {"fileName": batch_file_name(batch), "fileData": data}}


def map_batch_answer(payload: Any, pain_xml: bytes) -> provider.PaymentSubmission:
    if not isinstance(payload, Mapping):
        raise provider.ProtocolError("ABN AMRO's answer to the batch is not an object")
    body = payload.get("sepaBatchPaymentInstruction")
    body = body if isinstance(body, Mapping) else payload
    status = str(body.get("status") or "").upper()
    if status not in STATUS_TO_ISO:
        raise provider.ProtocolError(f"ABN AMRO sent an unknown batch status {status!r}")
    batch_id = body.get("id") or body.get("transactionId")
    hash_value = body.get("hash")
    if status == "RECEIVED":
        if not batch_id:
            raise provider.ProtocolError("ABN AMRO received the batch but gave no id")
        expected = hashlib.sha256(pain_xml).hexdigest()
        if hash_value and str(hash_value).lower() != expected:
            # The bank computed its hash on what it unpacked: a different
            # hash means it holds another file than we sent.
            raise provider.ProtocolError(
                "ABN AMRO's hash of the batch differs from the file we sent",
                reference=str(batch_id),
            )
    # ``reason`` is not in ABN AMRO's spec (a REJECTED answer there only
    # means "a syntax error in the XML file"); read when present.
    reason = body.get("reason") if isinstance(body.get("reason"), Mapping) else {}
    reason_text = reason.get("text_en") or reason.get("text_nl") or (
        "ABN AMRO refused the file (syntax error)" if status == "REJECTED" else None)
    if reason.get("detail"):
        reason_text = f"{reason_text}: {reason['detail']}"
    return provider.PaymentSubmission(
        bank_payment_id=str(batch_id) if batch_id else None,
        status=provider.PaymentStatus(
            iso_status=STATUS_TO_ISO[status],
            bank_status=status,
            reason_code=str(reason["code"]) if reason.get("code") else None,
            reason_text=str(reason_text)[:512] if reason_text else None,
        ),
        approval_url=body.get("authorizationUrl") if isinstance(body.get("authorizationUrl"), str)
        else None,
        reference_data={"batch_id": str(batch_id)} if batch_id else {},
    )


class AbnAmroPayments:
    """Payment-initiation methods of :class:`AbnAmroProvider`."""

    client: abnamro_client.AbnAmroClient

    def payment_support(self, order_type: str) -> provider.PaymentSupport:
        what = ("credit transfers" if order_type == provider.ORDER_CREDIT_TRANSFER
                else "direct debits (with an ABN AMRO direct-debit contract)")
        return provider.PaymentSupport(
            order_type=order_type,
            how=provider.SUPPORT_API,
            explanation=f"ABN AMRO takes batches of {what}: you give consent for the "
            "account, the file goes to ABN AMRO and you authorise it in Internet "
            "Banking. ABN AMRO reports no status: the batch counts as executed when "
            "it is on the statement.",
            needs_consent=True,
            has_status=False,
        )

    def payment_consent_url(self, order_type: str, redirect_uri: str, state: str) -> str:
        base = self.client.auth_base_url
        if not base.endswith(".oauth2"):
            base += abnamro_client.AUTHORIZE_PATH
        query = urlencode({
            "scope": SCOPES[order_type],
            "client_id": self.client.client_id,
            "response_type": "code",
            "flow": "code",
            "redirect_uri": redirect_uri,
            "bank": "NLAA01",
            "state": state,
        })
        return f"{base}?{query}"

    def exchange_payment_code(
        self, order_type: str, code: str, redirect_uri: str
    ) -> provider.TokenSet:
        payload = self.client.token_by_code(code, redirect_uri)
        scope = payload.get("scope") if isinstance(payload.get("scope"), str) else None
        return provider.TokenSet(access_token=payload["access_token"], scope=scope)

    def submit_payment_batch(
        self, batch: provider.PaymentBatch, tokens: provider.TokenSet | None = None
    ) -> provider.PaymentSubmission:
        if tokens is None:
            raise provider.ConsentExpiredError("ABN AMRO needs a consent for this batch")
        body = batch_body(batch)
        info = self.client.consent_info(tokens.access_token)
        consent_iban = ibans.compact((info or {}).get("iban")) or ""
        if not ibans.same(consent_iban, batch.account_iban):
            raise provider.AccessDeniedError(
                f"The consent at ABN AMRO is for account {consent_iban or '?'}, the batch is "
                f"for {batch.account_iban}: choose that account at ABN AMRO"
            )
        scopes = str((info or {}).get("scopes") or "").split()
        if scopes and SCOPES[batch.order_type] not in scopes:
            raise provider.AccessDeniedError(
                f"The consent at ABN AMRO does not include {SCOPES[batch.order_type]}")
        url = self.client.api_base_url + BATCH_PATH
        # One attempt: ABN AMRO has no duplicate check, a second post after
        # a lost answer would put the batch twice in Internet Banking.
        response = self.client._send(
            "POST", url, access_token=tokens.access_token, context="payment batch",
            retry=False, json_body=body,
            extra_headers={"X-Request-ID": _uuid(batch.idempotency_key)},
        )
        if response.status_code == 400:
            info = abnamro_client.error_info(response)
            return provider.PaymentSubmission(
                bank_payment_id=None,
                status=provider.PaymentStatus(
                    iso_status="RJCT", bank_status="REJECTED",
                    reason_code=info.code, reason_text=info.message),
            )
        if response.status_code == 409:
            info = abnamro_client.error_info(response)
            raise provider.DuplicatePaymentError(
                "ABN AMRO already received this batch" + (f": {info.message}" if info.message else ""),
                bank_code=info.code, http_status=409, reference=info.trace_id)
        if response.status_code not in (200, 201):
            raise self.client._error(response, "payment batch")
        payload = abnamro_client.parse_json(response.content, what="payment batch")
        return map_batch_answer(payload, batch.pain_xml)


def _uuid(key: str) -> str:
    try:
        return str(uuid.UUID(key))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, key))
