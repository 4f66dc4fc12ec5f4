"""Rabobank single SEPA credit transfer in the sandbox, per NOTES.md section 7
and the PIS examples of examples-from-yolt-stubs.json."""

import pytest
from refclient import RaboClient
from test_rabobank import example


@pytest.fixture
def rabo(bank_sandbox):
    return RaboClient(bank_sandbox)


def payment(**changes):
    body = {"creditorAccount": {"currency": "EUR", "iban": "NL39RABO0555482075"},
            "creditorAddress": {"country": "NL"}, "creditorName": "Technische Unie B.V.",
            "endToEndIdentification": "E2E-RABO-1",
            "instructedAmount": {"content": "125.50", "currency": "EUR"},
            "remittanceInformationUnstructured": "Factuur 2026-0042"}
    body.update(changes)
    return body


def test_initiation_answers_like_the_example_and_the_user_signs_at_sca_redirect(rabo):
    answer = rabo.initiate(payment())
    assert answer.status_code == 201, answer.text
    body = answer.json()
    stub = example("POST", "/sepa-credit-transfers", 201)
    assert set(body) == set(stub) and set(body["_links"]) == {"scaRedirect"}
    assert body["transactionStatus"] == "ACTC"
    status = rabo.payment_status(body["paymentId"])
    assert status.status_code == 200 and set(status.json()) >= {"transactionStatus", "scaStatus"}
    debtor = next(a for a in rabo.sb.accounts("rabobank") if a["eligible"])
    back = rabo.sb.approve_payment(body["_links"]["scaRedirect"]["href"], account=debtor["iban"])
    assert back == "https://tpp.example/rabo/ok"
    after = rabo.payment_status(body["paymentId"]).json()
    assert after["transactionStatus"] == "ACCP" and after["scaStatus"] == "finalised"
    rabo.sb.advance_payment(body["paymentId"], to="executed")
    assert rabo.payment_status(body["paymentId"]).json()["transactionStatus"] == "ACSC"


def test_cancel_at_the_bank_goes_to_the_nok_redirect(rabo):
    body = rabo.initiate(payment()).json()
    back = rabo.sb.cancel_payment(body["_links"]["scaRedirect"]["href"])
    assert back == "https://tpp.example/rabo/nok"
    assert rabo.payment_status(body["paymentId"]).json()["transactionStatus"] == "RJCT"


def test_berlin_group_amount_field_is_refused(rabo):
    answer = rabo.initiate(payment(instructedAmount={"amount": "125.50", "currency": "EUR"}))
    assert answer.status_code == 400
    assert answer.json()["tppMessages"][0]["path"] == "instructedAmount.content"


def test_signature_must_cover_the_redirect_uris(rabo):
    answer = rabo.initiate(payment(), names=("date", "digest", "x-request-id"))
    assert answer.status_code == 400
    assert answer.json()["tppMessages"][0]["code"] == "FORMAT_ERROR"


def test_unknown_payment_status_is_404(rabo):
    answer = rabo.payment_status("00000000-0000-0000-0000-000000000000")
    assert answer.status_code == 404
