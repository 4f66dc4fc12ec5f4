"""A payment order as bunq's draft payment: one entry per payment with a
Pointer to the IBAN and the creditor's name, the description within bunq's
140 characters; bunq's draft statuses as the framework's phases."""

import datetime
from decimal import Decimal

import pytest

from account_bank_link_bunq.tools import bunq_payments
from l10n_nl_bankkoppeling.tools import provider


def batch(*instructions, order_type=provider.ORDER_CREDIT_TRANSFER):
    return provider.PaymentBatch(
        order_type=order_type, idempotency_key="k", message_id="PO/2026/0007", account_iban="NL55BUNQ9137818406",
        account_name="De Gouden Korenaar B.V.", currency="EUR",
        total=sum((i.amount for i in instructions), Decimal(0)), requested_date=datetime.date(2026, 12, 3),
        instructions=tuple(instructions))


def instruction(amount="418.60", text="INK-001", iban="NL81 INGB 0002 3456 71", name="Meelfabriek Holland B.V."):
    return provider.PaymentInstruction(end_to_end_id="E2E-1", amount=Decimal(amount), currency="EUR",
                                       counterparty_name=name, counterparty_iban=iban, remittance_text=text)


def test_each_payment_is_an_entry_with_a_pointer_to_the_iban_and_the_order_in_the_description():
    body = bunq_payments.draft_body(batch(instruction(), instruction("99.95", "INK-002", "NL02ABNA0123456789",
                                                                     "Zuivel - Co Zeeland")))
    assert body["number_of_required_accepts"] == 1
    assert body["entries"][0] == {
        "amount": {"value": "418.60", "currency": "EUR"},
        "counterparty_alias": {"type": "IBAN", "value": "NL81INGB0002345671", "name": "Meelfabriek Holland B.V."},
        "description": "INK-001 PO/2026/0007"}
    assert body["entries"][1]["amount"]["value"] == "99.95"


def test_a_long_remittance_stays_within_bunqs_140_characters_and_keeps_its_start():
    text = "Factuur " + "9" * 140
    description = bunq_payments.draft_body(batch(instruction(text=text)))["entries"][0]["description"]
    assert len(description) == 140 and description.startswith("Factuur 999")


def test_direct_debits_and_empty_or_too_large_orders_are_not_sent():
    with pytest.raises(provider.PaymentNotSupportedError):
        bunq_payments.draft_body(batch(instruction(), order_type=provider.ORDER_DIRECT_DEBIT))
    with pytest.raises(provider.InvalidRequestError):
        bunq_payments.draft_body(batch())
    with pytest.raises(provider.InvalidRequestError):
        bunq_payments.draft_body(batch(*[instruction()] * (bunq_payments.MAX_ENTRIES + 1)))


def draft(status, **extra):
    return {"Response": [{"DraftPayment": {"id": 4100, "status": status, **extra}}]}


@pytest.mark.parametrize(("status", "extra", "iso", "phase"), [
    ("PENDING", {}, "PDNG", provider.PHASE_RECEIVED),
    ("ACCEPTED", {"object": {"Payment": {"id": 1}}}, "ACSC", provider.PHASE_EXECUTED),
    ("ACCEPTED", {}, "ACCP", provider.PHASE_ACCEPTED),
    ("REJECTED", {}, "RJCT", provider.PHASE_REJECTED),
    ("CANCELLED", {}, "CANC", provider.PHASE_REJECTED),
])
def test_bunqs_draft_status_is_the_frameworks_phase(status, extra, iso, phase):
    mapped = bunq_payments.map_draft_status(draft(status, **extra))
    assert (mapped.iso_status, mapped.phase, mapped.bank_status) == (iso, phase, status)


def test_an_unknown_draft_status_is_a_protocol_error():
    with pytest.raises(provider.ProtocolError):
        bunq_payments.map_draft_status(draft("SOMETHING_NEW"))
