"""ING bulk credit transfers against the local bank sandbox: real HTTPS,
mutual TLS, signed calls with the application token, the approval page
with TAN, status, rejection with reason code, duplicate refusal."""

import uuid

import pytest
from pain_samples import credit_transfers
from test_ing_client import make_provider

from account_bank_link_payment_order.tools import pain
from l10n_nl_bankkoppeling.tools import provider

RETURN = "https://odoo.example.nl/bank_link/payment/return?state=abc.def"


def own_iban(sb):
    return sb.accounts("ing")[0]["iban"]


def batch(sb, msg_id="PAY-2026-001", payments=None, key=None):
    payments = payments or [
        ("E2E-1", "1210.00", "Zuivel & Co Zeeland", "NL02ABNA0123456789", "Factuur Z-17 (week 46)"),
        ("E2E-2", "99.95", "Bakkerij Müller", "NL81INGB0002345671", "Inkoop meel"),
    ]
    return pain.read_batch(credit_transfers(msg_id, own_iban(sb), payments),
                           idempotency_key=key or str(uuid.uuid4()), redirect_uri=RETURN,
                           psu_ip_address="192.0.2.10")


@pytest.fixture
def ing(bank_sandbox):
    return make_provider(bank_sandbox)


def test_batch_is_approved_with_tan_and_executed(bank_sandbox, ing):
    sent = ing.submit_payment_batch(batch(bank_sandbox))
    assert sent.status.iso_status == "RCVD"
    assert sent.status.phase == provider.PHASE_RECEIVED
    assert sent.approval_url.startswith(bank_sandbox.ing_url + "/payment-initiation/")
    order = bank_sandbox.payment(sent.bank_payment_id)
    # What the file says is what ING got: names in ING's character set.
    assert order["count"] == 2 and str(order["total"]) in ("1309.95", "1309.950")
    assert {p["counterparty_name"] for p in order["payments"]} == {
        "Zuivel Co Zeeland", "Bakkerij Muller"}
    back = bank_sandbox.approve_payment(sent.approval_url)
    assert back == RETURN  # ING returns to our address unchanged: our state survives
    status = ing.payment_batch_status(sent.reference_data)
    assert status.iso_status == "ACCP" and status.phase == provider.PHASE_ACCEPTED
    bank_sandbox.advance_payment(sent.bank_payment_id, to="executed")
    status = ing.payment_batch_status(sent.reference_data)
    assert status.iso_status == "ACSC" and status.final
    signed = [e for e in bank_sandbox.log(bank="ing") if "bulk-payments" in e["path"]]
    assert signed and all(e["client_cert"] for e in signed)


def test_rejection_carries_the_reason_code_and_text(bank_sandbox, ing):
    sent = ing.submit_payment_batch(batch(bank_sandbox))
    bank_sandbox.approve_payment(sent.approval_url)
    bank_sandbox.reject_payment(sent.bank_payment_id, "AM04")
    status = ing.payment_batch_status(sent.reference_data)
    assert status.phase == provider.PHASE_REJECTED
    assert status.reason_code == "AM04"
    assert "saldo" in (status.reason_text or "").lower()


def test_cancel_at_the_approval_page_is_a_rejection(bank_sandbox, ing):
    sent = ing.submit_payment_batch(batch(bank_sandbox))
    bank_sandbox.cancel_payment(sent.approval_url)
    status = ing.payment_batch_status(sent.reference_data)
    assert (status.iso_status, status.reason_code) == ("RJCT", "CUST")


def test_same_key_twice_is_refused_as_duplicate(bank_sandbox, ing):
    key = str(uuid.uuid4())
    ing.submit_payment_batch(batch(bank_sandbox, key=key))
    with pytest.raises(provider.DuplicatePaymentError):
        ing.submit_payment_batch(batch(bank_sandbox, msg_id="PAY-2026-002", key=key))
    assert len(bank_sandbox.payments("ing")) == 1


def test_resubmission_after_rejection_is_accepted(bank_sandbox, ing):
    first = ing.submit_payment_batch(batch(bank_sandbox))
    bank_sandbox.cancel_payment(first.approval_url)
    again = ing.submit_payment_batch(batch(bank_sandbox))
    assert again.bank_payment_id != first.bank_payment_id
    assert again.status.iso_status == "RCVD"


def test_submission_is_never_retried_by_the_client(bank_sandbox, ing):
    bank_sandbox.set_faults({"path": "/v2/bulk-payments/*", "error": "500"})
    with pytest.raises(provider.BankUnavailableError):
        ing.submit_payment_batch(batch(bank_sandbox))
    posts = [e for e in bank_sandbox.log(bank="ing") if e["path"].startswith("/v2/bulk-payments")]
    assert len(posts) == 1


def test_direct_debits_are_not_offered_by_ing(ing):
    support = ing.payment_support(provider.ORDER_DIRECT_DEBIT)
    assert support.how == provider.SUPPORT_FILE
    assert ing.payment_support(provider.ORDER_CREDIT_TRANSFER).how == provider.SUPPORT_API
