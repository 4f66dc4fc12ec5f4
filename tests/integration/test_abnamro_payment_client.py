"""ABN AMRO batch files (SCT pain.001, SDD pain.008) against the local bank
sandbox: consent with the batch scope, consent info, gzip+base64 upload,
the bank's hash, authorisation page, rejection with reason."""

import uuid

import pytest
from pain_samples import credit_transfers, direct_debits
from test_abnamro_client import make_provider

from account_bank_link_payment_order.tools import pain
from l10n_nl_bankkoppeling.tools import provider

CALLBACK = "https://odoo.example.nl/bank_link/payment/callback"


@pytest.fixture
def abn(bank_sandbox):
    return make_provider(bank_sandbox)


def own_iban(sb):
    return sb.accounts("abnamro")[0]["iban"]


def consent(sb, abn, order_type, iban=None):
    url = abn.payment_consent_url(order_type, CALLBACK, "state-pay")
    assert "psd2%3Apayment%3Abatch" in url
    query = sb.query_of(sb.approve_abnamro(url, iban or own_iban(sb)))
    assert query["state"] == "state-pay"
    return abn.exchange_payment_code(order_type, query["code"], CALLBACK)


def sct(iban, msg_id="PAY-ABN-1"):
    return pain.read_batch(credit_transfers(msg_id, iban, [
        ("E-1", "250.00", "Meelfabriek Holland B.V.", "NL81INGB0002345671", "Inkoop 46"),
        ("E-2", "75.50", "Zuivel en Co", "NL16ABNA0441298765", "Boter"),
    ]), idempotency_key=str(uuid.uuid4()))


def test_credit_transfer_batch_is_received_and_authorised(bank_sandbox, abn):
    tokens = consent(bank_sandbox, abn, provider.ORDER_CREDIT_TRANSFER)
    sent = abn.submit_payment_batch(sct(own_iban(bank_sandbox)), tokens)
    assert sent.status.bank_status == "RECEIVED" and sent.status.iso_status == "RCVD"
    assert sent.bank_payment_id and sent.approval_url
    order = next(p for p in bank_sandbox.payments("abnamro") if p["message_id"] == "PAY-ABN-1")
    assert order["count"] == 2
    page = bank_sandbox.approve_payment(sent.approval_url)
    assert "ondertekend" in page.lower()
    assert bank_sandbox.payment(order["id"])["status"] == "authorised"
    assert not abn.payment_support(provider.ORDER_CREDIT_TRANSFER).has_status


def test_direct_debit_batch_is_received(bank_sandbox, abn):
    tokens = consent(bank_sandbox, abn, provider.ORDER_DIRECT_DEBIT)
    batch = pain.read_batch(direct_debits("DD-ABN-1", own_iban(bank_sandbox), [
        ("D-1", "45.00", "Hotel De Zwaan B.V.", "NL82INGB0007356188", "KORENAAR-1", "Factuur 17"),
    ]), idempotency_key=str(uuid.uuid4()))
    sent = abn.submit_payment_batch(batch, tokens)
    assert sent.status.phase == provider.PHASE_RECEIVED


def test_wrong_scope_or_account_is_refused_before_sending(bank_sandbox, abn):
    tokens = consent(bank_sandbox, abn, provider.ORDER_CREDIT_TRANSFER)
    other = bank_sandbox.accounts("abnamro")[1]["iban"]
    with pytest.raises(provider.AccessDeniedError):
        abn.submit_payment_batch(sct(other), tokens)
    assert not bank_sandbox.payments("abnamro")


def test_same_message_twice_is_rejected_with_am05(bank_sandbox, abn):
    tokens = consent(bank_sandbox, abn, provider.ORDER_CREDIT_TRANSFER)
    abn.submit_payment_batch(sct(own_iban(bank_sandbox)), tokens)
    again = abn.submit_payment_batch(sct(own_iban(bank_sandbox)), tokens)
    assert again.status.phase == provider.PHASE_REJECTED
    assert again.status.reason_code == "AM05"


def test_two_payment_blocks_are_refused_here(bank_sandbox, abn):
    xml = credit_transfers("PAY-2", own_iban(bank_sandbox), [("E", "1.00", "A", "NL02ABNA0123456789", "x")])
    xml = xml.replace(b"</PmtInf>", b"</PmtInf><PmtInf></PmtInf>")
    batch = provider.PaymentBatch(
        order_type=provider.ORDER_CREDIT_TRANSFER, idempotency_key="k", message_id="PAY-2",
        account_iban=own_iban(bank_sandbox), account_name="", currency="EUR", total=1, requested_date=None,
        instructions=(), pain_xml=xml, pain_version="pain.001.001.03")
    with pytest.raises(provider.InvalidRequestError, match="one payment block"):
        abn.submit_payment_batch(batch, provider.TokenSet(access_token="x"))
