"""Rabobank Payment Initiation: one SEPA credit transfer per order [I Y],
``../shared/specs/rabobank/NOTES.md`` section 7. No bulk API is described
publicly: an order of more payments is the pain.001 file for Rabo Internet
Bankieren, never several single payments pretending to be one batch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import rabobank_client

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import provider
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import provider

PIS_PATH = "/payments/payment-initiation/pis/v1/payments/sepa-credit-transfers"
#: Signed headers of the initiation; its status is signed as AIS calls are [I Y].
PIS_SIGNED_HEADERS = ("date", "digest", "tpp-nok-redirect-uri", "tpp-redirect-uri", "x-request-id")
ONE_PAYMENT = ("Rabobank's interface takes one payment at a time: send an order with one "
               "payment, or download the pain.001 file and upload it in Rabo Internet Bankieren")


def payment_body(batch: provider.PaymentBatch) -> dict[str, Any]:
    if batch.count != 1:
        raise provider.InvalidRequestError(f"{ONE_PAYMENT} (this order has {batch.count})")
    payment = batch.instructions[0]
    body = {
        "creditorAccount": {"currency": payment.currency, "iban": payment.counterparty_iban},
        "creditorName": payment.counterparty_name[:70],
        "debtorAccount": {"currency": batch.currency, "iban": batch.account_iban},
        "endToEndIdentification": payment.end_to_end_id[:35],
        # Rabobank's own field name, not Berlin Group's "amount" [I Y].
        "instructedAmount": {"content": f"{payment.amount:.2f}", "currency": payment.currency},
    }
    text = payment.structured_reference or payment.remittance_text
    if text:
        body["remittanceInformationUnstructured"] = text[:140]
    return body


def map_status(payload: Any) -> provider.PaymentStatus:
    status = payload.get("transactionStatus") if isinstance(payload, Mapping) else None
    if status not in provider.ISO_STATUS_PHASES:
        raise provider.ProtocolError(f"Rabobank sent an unknown payment status {status!r}")
    return provider.PaymentStatus(iso_status=status, bank_status=status)


class RabobankPayments:
    """Payment-initiation methods of :class:`RabobankProvider`."""

    client: rabobank_client.RabobankClient

    def payment_support(self, order_type: str) -> provider.PaymentSupport:
        if order_type == provider.ORDER_CREDIT_TRANSFER:
            return provider.PaymentSupport(
                order_type=order_type, how=provider.SUPPORT_API, max_transactions=1,
                explanation="Rabobank takes one SEPA credit transfer per order: you approve it "
                "at Rabobank and its status comes back here. Orders of more payments: "
                "upload the file in Rabo Internet Bankieren.")
        return provider.PaymentSupport(
            order_type=order_type, how=provider.SUPPORT_FILE, has_status=False,
            explanation="Rabobank's interface takes no direct debits: download the file and "
            "upload it in Rabo Internet Bankieren.")

    def submit_payment_batch(self, batch: provider.PaymentBatch,
                             tokens: provider.TokenSet | None = None) -> provider.PaymentSubmission:
        if not batch.redirect_uri:
            raise provider.ConfigurationError("A payment needs the address to come back to")
        body = payment_body(batch)
        headers = {"Content-Type": "application/json", "TPP-Redirect-URI": batch.redirect_uri,
                   "TPP-Nok-Redirect-URI": batch.redirect_uri,
                   "PSU-IP-Address": batch.psu_ip_address or "127.0.0.1"}
        # One attempt: after a lost answer a second one could pay twice.
        response = self.client._send("POST", self.client.api_base_url + PIS_PATH, context="payment",
                                     retry=False, json_body=body, extra_headers=headers,
                                     signed=PIS_SIGNED_HEADERS)
        if response.status_code not in (200, 201):
            raise self.client._error(response, "payment")
        payload = rabobank_client.parse_json(response.content, what="payment")
        payment_id = payload.get("paymentId") if isinstance(payload, Mapping) else None
        if not isinstance(payment_id, str) or not payment_id:
            raise provider.ProtocolError("Rabobank's answer to the payment has no paymentId")
        sca = (payload.get("_links") or {}).get("scaRedirect")
        href = sca.get("href") if isinstance(sca, Mapping) else sca
        return provider.PaymentSubmission(
            bank_payment_id=payment_id, status=map_status(payload),
            # Only an https page: the user's browser goes there.
            approval_url=href if isinstance(href, str) and href.startswith("https://") else None,
            reference_data={"payment_id": payment_id})

    def payment_batch_status(self, reference_data: Mapping[str, Any],
                             tokens: provider.TokenSet | None = None) -> provider.PaymentStatus:
        payment_id = str(reference_data.get("payment_id") or "")
        if not payment_id:
            raise provider.InvalidRequestError("No Rabobank payment id to ask the status of")
        payload = self.client.get(f"{PIS_PATH}/{payment_id}/status", None, context="payment status",
                                  base=self.client.api_base_url)
        return map_status(payload)
