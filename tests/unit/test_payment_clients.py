"""Payment-initiation mappings, one function at a time: the pain file read
back, ING's bulk body and statuses, ABN AMRO's batch body and answers."""

import base64
import gzip
import hashlib
from decimal import Decimal

import pytest
from pain_samples import XSD, credit_transfers, direct_debits

from account_bank_link_abnamro.tools import abnamro_payments
from account_bank_link_ing.tools import ing_payments
from account_bank_link_payment_order.tools import pain
from l10n_nl_bankkoppeling.tools import provider

OWN = "NL67INGB0006543210"
PAYMENTS = [
    ("E2E-1", "1210.00", "Zuivel & Co Zeeland", "NL02ABNA0123456789", "Factuur Z-17"),
    ("E2E-2", "99.95", "Bakkerij Müller", "NL81INGB0002345671", "Inkoop meel €"),
]


def sct(**kwargs):
    return pain.read_batch(credit_transfers("PAY-1", OWN, PAYMENTS), idempotency_key="k", **kwargs)


# ------------------------------------------------------------------ pain


def test_sample_files_are_valid_against_the_xsd():
    pain.validate(credit_transfers("PAY-1", OWN, PAYMENTS), XSD["pain.001.001.03"])
    pain.validate(direct_debits("DD-1", OWN, [("D", "5.00", "X", "NL02ABNA0123456789", "M", "t")]),
                  XSD["pain.008.001.02"])


def test_xsd_violation_is_named():
    broken = credit_transfers("PAY-1", OWN, PAYMENTS).replace(b"<ChrgBr>SLEV</ChrgBr>", b"<ChrgBr>X</ChrgBr>")
    with pytest.raises(pain.PainError, match="pain.001.001.03.xsd"):
        pain.validate(broken, XSD["pain.001.001.03"])


def test_read_batch_gives_what_the_file_says():
    batch = sct()
    assert batch.order_type == provider.ORDER_CREDIT_TRANSFER
    assert batch.total == Decimal("1309.95") and batch.count == 2
    assert batch.account_iban == OWN and batch.message_id == "PAY-1"
    assert [i.end_to_end_id for i in batch.instructions] == ["E2E-1", "E2E-2"]


def test_control_sum_that_does_not_add_up_is_refused():
    xml = credit_transfers("PAY-1", OWN, PAYMENTS).replace(b"<CtrlSum>1309.95</CtrlSum>", b"<CtrlSum>1309.96</CtrlSum>", 1)
    with pytest.raises(pain.PainError, match="control sum"):
        pain.read_batch(xml, idempotency_key="k")


def test_entities_and_other_documents_are_refused():
    with pytest.raises(pain.PainError, match="DOCTYPE"):
        pain.read_batch(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Document>&e;</Document>',
                        idempotency_key="k")
    with pytest.raises(pain.PainError, match="neither"):
        pain.read_batch(b"<Document xmlns='urn:x'><Other/></Document>", idempotency_key="k")


# ------------------------------------------------------------------- ING


def test_bulk_body_in_ings_character_set():
    body = ing_payments.bulk_body(sct())
    names = [p["creditorName"] for p in body["payments"]]
    assert names == ["Zuivel Co Zeeland", "Bakkerij Muller"]
    assert body["payments"][1]["remittanceInformationUnstructured"] == "Inkoop meel"
    assert body["payments"][0]["instructedAmount"] == {"amount": "1210.00", "currency": "EUR"}
    assert body["debtorAccount"]["iban"] == OWN and body["batchBookingPreferred"] is True


def test_betalingskenmerk_stays_structured():
    xml = credit_transfers("PAY-1", OWN, PAYMENTS[:1]).replace(
        b"<RmtInf><Ustrd>Factuur Z-17</Ustrd></RmtInf>",
        b"<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>CUR</Issr></Tp>"
        b"<Ref>5000056789012345</Ref></CdtrRefInf></Strd></RmtInf>")
    body = ing_payments.bulk_body(pain.read_batch(xml, idempotency_key="k"))
    structured = body["payments"][0]["remittanceInformationStructured"]
    assert structured["reference"] == "5000056789012345"
    assert structured["type"]["issuer"] == "CUR"
    assert "remittanceInformationUnstructured" not in body["payments"][0]


def test_direct_debit_is_no_ing_bulk():
    batch = pain.read_batch(direct_debits("DD", OWN, [("D", "5.00", "X", "NL02ABNA0123456789", "M", "t")]),
                            idempotency_key="k")
    with pytest.raises(provider.PaymentNotSupportedError):
        ing_payments.bulk_body(batch)


@pytest.mark.parametrize("payload, phase, code", [
    ({"transactionStatus": "RCVD"}, provider.PHASE_RECEIVED, None),
    ({"transactionStatus": "ACSP"}, provider.PHASE_ACCEPTED, None),
    ({"transactionStatus": "ACSC"}, provider.PHASE_EXECUTED, None),
    ({"transactionStatus": "RJCT", "stsRsnInf": [{"rsn": {"cd": "AM04"}, "addtlInf": ["Onvoldoende saldo"]}]},
     provider.PHASE_REJECTED, "AM04"),
    ({"transactionStatus": "PART", "stsRsnInf": [{"rsn": {"prtry": "X1"}}]}, provider.PHASE_REJECTED, "X1"),
])
def test_ing_status(payload, phase, code):
    status = ing_payments.map_status(payload)
    assert (status.phase, status.reason_code) == (phase, code)


@pytest.mark.parametrize("payload", [{}, {"transactionStatus": "BOGUS"}, [], {"transactionStatus": 3}])
def test_ing_status_not_understood(payload):
    with pytest.raises(provider.ProtocolError):
        ing_payments.map_status(payload)


# -------------------------------------------------------------- ABN AMRO


def test_abnamro_batch_body_is_gzip_base64_of_the_file():
    batch = sct()
    body = abnamro_payments.batch_body(batch)["sepaBatchPaymentInstruction"]
    assert gzip.decompress(base64.b64decode(body["fileData"])) == batch.pain_xml
    assert len(body["fileName"]) <= 18


def test_abnamro_answer_in_both_documented_shapes():
    xml = sct().pain_xml
    digest = hashlib.sha256(xml).hexdigest()
    nested = {"sepaBatchPaymentInstruction": {"id": "9106O;NL", "hash": digest, "status": "RECEIVED",
                                              "authorizationUrl": "https://abn/ibz/1"}}
    flat = {"transactionId": "9106O;NL", "status": "STORED"}
    for payload in (nested, flat):
        sent = abnamro_payments.map_batch_answer(payload, xml)
        assert sent.bank_payment_id == "9106O;NL" and sent.status.phase == provider.PHASE_RECEIVED


def test_abnamro_hash_of_another_file_is_a_protocol_error():
    payload = {"sepaBatchPaymentInstruction": {"id": "1", "hash": "00" * 32, "status": "RECEIVED"}}
    with pytest.raises(provider.ProtocolError, match="hash"):
        abnamro_payments.map_batch_answer(payload, sct().pain_xml)


def test_abnamro_rejected_file_with_reason():
    payload = {"sepaBatchPaymentInstruction": {"status": "REJECTED", "reason": {
        "code": "FF01", "text_en": "Invalid file format", "detail": "NbOfTxs"}}}
    sent = abnamro_payments.map_batch_answer(payload, b"")
    assert sent.status.phase == provider.PHASE_REJECTED
    assert (sent.status.reason_code, sent.status.reason_text) == ("FF01", "Invalid file format: NbOfTxs")


def test_provider_without_payments_offers_the_file():
    class Plain(provider.BankProvider):
        name = "Bank"
        authorization_url = exchange_code = refresh = revoke = list_accounts = None
        fetch_transactions = fetch_balance = None

    Plain.__abstractmethods__ = frozenset()
    bank = Plain()
    assert bank.payment_support(provider.ORDER_CREDIT_TRANSFER).how == provider.SUPPORT_FILE
    with pytest.raises(provider.PaymentNotSupportedError):
        bank.submit_payment_batch(sct())


def test_batch_repr_hides_the_file():
    batch = sct()
    assert b"<CstmrCdtTrfInitn>" in batch.pain_xml  # there is a file to hide
    text = repr(batch)
    assert "pain_xml" not in text
    assert "CstmrCdtTrfInitn" not in text and "<?xml" not in text
    # What the batch is stays readable in a log line.
    assert "PAY-1" in text and repr(batch.total) in text
