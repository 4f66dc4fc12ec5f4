"""NextGenPSD2 payment initiation (PIS): one SEPA credit transfer per order, where a
profile has a payment path (Knab, de Volksbank); the bank's SCA page by redirect, the
status by ``GET .../status``, both mapped on the framework's payment contract.

No bank here offers a bulk initiation we could rely on: Knab's notes name none, de
Volksbank's Swagger has only a bulk *status*, Triodos's notes no payment interface at all.
So an order of more payments, a direct-debit order or any Triodos order is the pain.001
file for the bank's portal (the framework says so on the order, in Dutch), never several
single payments pretending to be one batch.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

from . import nextgenpsd2_client, profiles

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import provider
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import provider

#: de Volksbank's own words in the initiation answer [C V-swagger], as ISO codes.
BANK_STATUS = {"REJECTED": "RJCT", "UNKNOWN": "PDNG"}


def payment_body(profile: profiles.Profile, batch: provider.PaymentBatch, today: datetime.date) -> dict[str, Any]:
    """The Berlin Group JSON of the order's one payment."""
    if batch.count != 1:
        raise provider.InvalidRequestError(
            f"{profile.name}'s interface takes one payment at a time (this order has {batch.count}): "
            "upload the pain.001 file in the bank's portal")
    payment = batch.instructions[0]
    body: dict[str, Any] = {
        "instructedAmount": {"currency": payment.currency, "amount": f"{payment.amount:.2f}"},
        # Knab requires the debtor account [I Y-knab]; de Volksbank takes it [C V-swagger].
        "debtorAccount": {"iban": batch.account_iban, "currency": batch.currency},
        "creditorAccount": {"iban": payment.counterparty_iban, "currency": payment.currency},
        "creditorName": payment.counterparty_name[:70],
        "endToEndIdentification": payment.end_to_end_id[:35],
    }
    reference = payment.structured_reference
    if reference and profile.pis_structured_reference and len(reference) <= 35:
        # de Volksbank: a string of at most 35 with issuerSRI "CUR" for the Dutch
        # betalingskenmerk [C V-swagger]; an RF reference goes as ISO (inferred).
        body["remittanceInformationStructured"] = reference
        body["issuerSRI"] = "ISO" if reference.upper().startswith("RF") else "CUR"
    elif reference or payment.remittance_text:
        body["remittanceInformationUnstructured"] = (reference or payment.remittance_text)[:140]
    if batch.requested_date and batch.requested_date > today:
        if not profile.pis_execution_date:
            # Knab's instant transfer is executed on submit [I Y-knab]: it cannot wait for a date.
            raise provider.InvalidRequestError(
                f"{profile.name} executes the payment at once; this order asks for {batch.requested_date}: "
                "send it on that day or upload the pain.001 file")
        body["requestedExecutionDate"] = batch.requested_date.isoformat()  # [C V-swagger]
    return body


def map_status(profile: profiles.Profile, payload: Any) -> provider.PaymentStatus:
    word = payload.get("transactionStatus") if isinstance(payload, Mapping) else None
    iso = BANK_STATUS.get(word, word)
    if iso not in provider.ISO_STATUS_PHASES:
        raise provider.ProtocolError(f"{profile.name} sent an unknown payment status {word!r}")
    return provider.PaymentStatus(iso_status=iso, bank_status=word)


class NextGenPsd2Payments:
    """Payment methods of :class:`~nextgenpsd2_provider.NextGenPsd2Provider`."""

    def payment_support(self, order_type: str) -> provider.PaymentSupport:
        profile = self.profile
        if order_type == provider.ORDER_CREDIT_TRANSFER and profile.pis_path:
            return provider.PaymentSupport(
                order_type=order_type, how=provider.SUPPORT_API, max_transactions=1,
                explanation=f"{profile.name} takes one SEPA credit transfer per order: you approve it at "
                "the bank and its status comes back here. Orders of more payments: upload the file in "
                "the bank's portal.")
        return provider.PaymentSupport(
            order_type=order_type, how=provider.SUPPORT_FILE, has_status=False,
            explanation=f"{profile.name}'s interface takes no such orders from us: download the file and "
            "upload it in the bank's portal.")

    def _pis_headers(self, batch_or_none: provider.PaymentBatch | None = None) -> dict[str, str]:
        client = self.client
        extra = {"Content-Type": "application/json"}
        if self.profile.consent_auth == profiles.AUTH_CLIENT_ID:
            extra["Authorization"] = client.client_id  # [C V-swagger]
        else:
            extra["Authorization"] = f"Bearer {client.application_token()}"  # as the consent; inferred [I Y-knab]
        if batch_or_none is not None:
            extra["TPP-Redirect-URI"] = batch_or_none.redirect_uri
            extra["PSU-IP-Address"] = batch_or_none.psu_ip_address or self.psu_ip_address or ""
        return extra

    def submit_payment_batch(self, batch: provider.PaymentBatch,
                             tokens: provider.TokenSet | None = None) -> provider.PaymentSubmission:
        profile, client = self.profile, self.client
        if not profile.pis_path:
            raise provider.PaymentNotSupportedError(f"{profile.name} offers no payment interface to us")
        if batch.order_type != provider.ORDER_CREDIT_TRANSFER:
            raise provider.PaymentNotSupportedError(f"{profile.name} takes no direct debits from us")
        nextgenpsd2_client.check_redirect_uri(batch.redirect_uri, sandbox=self.config.sandbox)
        body = json.dumps(payment_body(profile, batch, self._today())).encode()
        extra = self._pis_headers(batch)
        if not extra["PSU-IP-Address"]:
            raise provider.ConfigurationError("A payment is initiated with the user present: PSU-IP-Address is missing")
        # One attempt: after a lost answer a second one could pay twice.
        response = client._send("POST", client.api_base_url + profile.pis_path, kind="consent", body=body,
                                extra=extra, context="payment", retry=False)
        payload = client._json(client._checked(response, "payment", expected=(200, 201)), "payment")
        payment_id = payload.get("paymentId") if isinstance(payload, Mapping) else None
        if not isinstance(payment_id, str) or not payment_id:
            raise provider.ProtocolError(f"{profile.name}'s answer to the payment has no paymentId")
        link = (payload.get("_links") or {}).get(profile.pis_sca_link)
        href = link.get("href") if isinstance(link, Mapping) else link
        return provider.PaymentSubmission(
            bank_payment_id=payment_id, status=map_status(profile, payload),
            # Only an https page on the bank's host: the user's browser goes there.
            approval_url=href if isinstance(href, str) and href.startswith("https://") else None,
            reference_data={"payment_id": payment_id})

    def payment_batch_status(self, reference_data: Mapping[str, Any],
                             tokens: provider.TokenSet | None = None) -> provider.PaymentStatus:
        profile, client = self.profile, self.client
        payment_id = str(reference_data.get("payment_id") or "")
        if not payment_id or not profile.pis_status_path:
            raise provider.InvalidRequestError(f"No {profile.name} payment id to ask the status of")
        url = client.api_base_url + profile.pis_status_path.format(payment_id=payment_id)
        response = client._send("GET", url, kind="data", extra=self._pis_headers(), context="payment status")
        return map_status(profile, client._json(client._checked(response, "payment status"), "payment status"))
