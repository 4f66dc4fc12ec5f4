"""ING Payment Initiation API (PSD2, v2.0.2): bulk SEPA credit transfers.

Plain Python (no Odoo). Written from ING's ``Payment-Initiation-API.json``:

* ``POST /v2/bulk-payments/sepa-credit-transfers`` takes up to 5,000
  transactions as JSON (the pain.001 XML endpoint takes ONE payment only, so
  a batch cannot go as a file). It is authorised by the *application* token
  (client credentials, scope ``payment-accounts:orders:create``) and signed
  like every ING call; ING answers with ``paymentId``, ``transactionStatus``
  (RCVD) and ``_links.scaRedirect``, where the user approves the batch in
  Mijn ING; ING then sends the browser to our ``TPP-Redirect-URI``.
* ``GET /v1/bulk-payments/sepa-credit-transfers/{paymentId}/status`` gives the
  ISO 20022 status and ``stsRsnInf`` (reason code and additional text).
* Direct debits: ING's public PSD2 API has none. The user uploads the
  pain.008 file in Mijn ING Zakelijk. *Unconfirmed*: ING's (non-public)
  accounting-partner connection is reported to take direct-debit batches
  from some Dutch packages; its interface is not published, so not used.
* *Unconfirmed*: whether ING refuses a repeated ``X-Request-ID`` as a
  duplicate; we send our idempotency key there, never retry a submission by
  ourselves, and read a 409 or a ``DUPLICATE`` message as "already received".
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

from . import ing_client

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import provider
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import provider

PRODUCT = "sepa-credit-transfers"
SUBMIT_PATH = f"/v2/bulk-payments/{PRODUCT}"
STATUS_PATH = "/v1/bulk-payments/{product}/{payment_id}/status"
MAX_TRANSACTIONS = 5000
#: Characters ING accepts in names, references and texts (the spec's pattern).
_ALLOWED = re.compile(r"[^a-zA-Z0-9?:()./,'+ -]")


def swift_text(value: str | None, max_length: int) -> str | None:
    """``value`` in ING's character set: accents dropped, other characters
    replaced by a space, cut at ``max_length``. None for nothing left."""
    if not value:
        return None
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    cleaned = " ".join(_ALLOWED.sub(" ", plain).split())[:max_length].strip()
    return cleaned or None


def amount_text(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')):f}"


def bulk_body(batch: provider.PaymentBatch) -> dict[str, Any]:
    """The ``BulkPaymentInitiationSct_jsonV2`` body of a credit-transfer batch."""
    if batch.order_type != provider.ORDER_CREDIT_TRANSFER:
        raise provider.PaymentNotSupportedError("ING's bulk payments are credit transfers only")
    if not 1 <= batch.count <= MAX_TRANSACTIONS:
        raise provider.InvalidRequestError(
            f"ING takes 1 to {MAX_TRANSACTIONS} payments in one batch, not {batch.count}"
        )
    payments = []
    for instruction in batch.instructions:
        payment: dict[str, Any] = {
            "instructedAmount": {"amount": amount_text(instruction.amount),
                                 "currency": instruction.currency},
            "creditorAccount": {"iban": instruction.counterparty_iban},
            "creditorName": swift_text(instruction.counterparty_name, 70) or "-",
        }
        end_to_end = swift_text(instruction.end_to_end_id, 35)
        if end_to_end:
            payment["endToEndIdentification"] = end_to_end
        if instruction.counterparty_bic:
            payment["creditorAgent"] = instruction.counterparty_bic
        if instruction.structured_reference:
            # A Dutch betalingskenmerk (CUR) or an RF reference: the
            # creditor's package reconciles on it, so it must stay structured.
            reference = instruction.structured_reference
            payment["remittanceInformationStructured"] = {
                "reference": swift_text(reference, 35),
                "type": {"codeOrProprietary": {"code": "SCOR"},
                         "issuer": "ISO" if reference.upper().startswith("RF") else "CUR"},
            }
        else:
            text = swift_text(instruction.remittance_text, 140)
            if text:
                payment["remittanceInformationUnstructured"] = text
        payments.append(payment)
    body: dict[str, Any] = {
        "debtorAccount": {"iban": batch.account_iban, "currency": batch.currency},
        "batchBookingPreferred": batch.batch_booking,
        "payments": payments,
    }
    name = swift_text(batch.account_name, 70)
    if name:
        body["debtorName"] = name
    if batch.requested_date:
        body["requestedExecutionDate"] = batch.requested_date.isoformat()
    return body


def map_status(payload: Any) -> provider.PaymentStatus:
    """A ``PaymentStatusResponse`` (or initiation response) as PaymentStatus."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("transactionStatus"), str):
        raise provider.ProtocolError("ING's payment status answer has no transactionStatus")
    status = payload["transactionStatus"]
    if status not in provider.ISO_STATUS_PHASES:
        raise provider.ProtocolError(f"ING sent an unknown payment status {status!r}")
    code = text = None
    for info in payload.get("stsRsnInf") or ():
        if not isinstance(info, Mapping):
            continue
        reason = info.get("rsn") if isinstance(info.get("rsn"), Mapping) else {}
        code = code or reason.get("cd") or reason.get("prtry")
        extra = [str(t) for t in info.get("addtlInf") or () if t]
        if extra and not text:
            text = "; ".join(extra)[:512]
    return provider.PaymentStatus(iso_status=status, bank_status=status,
                                  reason_code=code, reason_text=text)


class IngPayments:
    """Payment-initiation methods of :class:`IngProvider` (``self.client``
    is its :class:`ing_client.IngClient`)."""

    client: ing_client.IngClient

    def payment_support(self, order_type: str) -> provider.PaymentSupport:
        if order_type == provider.ORDER_CREDIT_TRANSFER:
            return provider.PaymentSupport(
                order_type=order_type,
                how=provider.SUPPORT_API,
                explanation="The batch goes to ING; you approve it in Mijn ING "
                "Zakelijk and its status comes back here.",
                max_transactions=MAX_TRANSACTIONS,
            )
        return provider.PaymentSupport(
            order_type=order_type,
            how=provider.SUPPORT_FILE,
            explanation="ING's payment interface takes no direct debits: download "
            "the file and upload it in Mijn ING Zakelijk.",
            has_status=False,
        )

    def submit_payment_batch(
        self, batch: provider.PaymentBatch, tokens: provider.TokenSet | None = None
    ) -> provider.PaymentSubmission:
        if not batch.redirect_uri:
            raise provider.ConfigurationError("A payment batch needs the address to come back to")
        body = json.dumps(bulk_body(batch), separators=(",", ":")).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "TPP-Redirect-URI": batch.redirect_uri,
            "PSU-IP-Address": batch.psu_ip_address or "127.0.0.1",
        }
        response = self._pis_call("POST", SUBMIT_PATH, body, headers,
                                  request_id=_uuid(batch.idempotency_key),
                                  context="payment batch", retry=False)
        if response.status_code not in (200, 201):
            raise self._payment_error(response, "payment batch")
        payload = ing_client.parse_json(response.content, what="payment batch")
        payment_id = payload.get("paymentId") if isinstance(payload, Mapping) else None
        if not isinstance(payment_id, str) or not payment_id:
            raise provider.ProtocolError("ING's answer to the payment batch has no paymentId")
        links = payload.get("_links") if isinstance(payload.get("_links"), Mapping) else {}
        status_link = links.get("status") if isinstance(links.get("status"), str) else None
        return provider.PaymentSubmission(
            bank_payment_id=payment_id,
            status=map_status(payload),
            approval_url=links.get("scaRedirect") if isinstance(links.get("scaRedirect"), str) else None,
            reference_data={"payment_id": payment_id, "product": PRODUCT,
                            "status_path": self._own_path(status_link)},
        )

    def payment_batch_status(
        self, reference_data: Mapping[str, Any], tokens: provider.TokenSet | None = None
    ) -> provider.PaymentStatus:
        payment_id = str(reference_data.get("payment_id") or "")
        if not payment_id:
            raise provider.InvalidRequestError("No ING payment id to ask the status of")
        path = reference_data.get("status_path") or STATUS_PATH.format(
            product=quote(str(reference_data.get("product") or PRODUCT), safe=""),
            payment_id=quote(payment_id, safe=""),
        )
        response = self._pis_call("GET", path, b"", {}, request_id=str(uuid.uuid4()),
                                  context="payment status", retry=True)
        if response.status_code != 200:
            raise self._payment_error(response, "payment status")
        return map_status(ing_client.parse_json(response.content, what="payment status"))

    # ------------------------------------------------------------ helpers

    def _own_path(self, link: str | None) -> str | None:
        """The path of a link ING gave, only when it points to ING's own host."""
        if not link:
            return None
        url = self.client.url(link)
        here, there = urlsplit(self.client.base_url), urlsplit(url)
        if (there.scheme, there.netloc) != (here.scheme, here.netloc):
            return None
        path = there.path
        # ING's examples leave out the version ("/bulk-payments/..."): the
        # status lives under /v1 in the spec.
        if path.startswith("/bulk-payments/"):
            path = "/v1" + path
        return path + (f"?{there.query}" if there.query else "")

    def _pis_call(self, method, path, body, extra_headers, *, request_id, context, retry):
        """A signed call with the application token; renews that token once
        on 401 (ING may forget it before its expiry)."""
        client = self.client
        url = client.url(path)
        for attempt in (1, 2):
            app_token = client.application_token()

            def headers() -> dict[str, str]:
                return client.signer.signed_headers(
                    client.client_id, method, url, body, ing_client.AIS_SIGNED_HEADERS,
                    {
                        "Authorization": f"Bearer {app_token}",
                        "X-Request-ID": request_id,
                        "Accept": "application/json",
                        **extra_headers,
                    },
                )

            response = client._send(method, url, headers, body if method != "GET" else None,
                                    context=context, retry=retry)
            if response.status_code == 401 and attempt == 1:
                client._app_token = None
                continue
            return response
        return response

    def _payment_error(self, response, context: str) -> provider.BankLinkError:
        status = response.status_code
        code, text = ing_client.error_details(response)
        kwargs = {"bank_code": code, "http_status": status,
                  "reference": response.headers.get("X-Request-ID")}
        detail = f": {text}" if text else ""
        if status == 409 or "DUPLICATE" in f"{code or ''} {text or ''}".upper():
            return provider.DuplicatePaymentError(
                f"ING already received this batch ({context}){detail}", **kwargs)
        if status in (400, 404, 405, 406, 422):
            return provider.InvalidRequestError(f"ING refused the {context}{detail}", **kwargs)
        if status in (401, 403):
            return provider.ConfigurationError(
                f"ING refused our application for payments ({context}){detail}", **kwargs)
        return client_unexpected(self.client, response, context)


def client_unexpected(client, response, context):
    return client._unexpected(response, context)


def _uuid(key: str) -> str:
    """ING wants a UUID in X-Request-ID; our key is one already, else hash it."""
    try:
        return str(uuid.UUID(key))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, key))
