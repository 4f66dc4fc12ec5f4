"""ING Payment Initiation as the sandbox plays it: bulk JSON, pain.001 single, approval, status, booking."""

import datetime
import json
import urllib.parse
import uuid
from decimal import Decimal

import pytest
import requests
from refclient import IngClient, digest_of, http_date, sign
from schemas import validate

BULK = "/v1/bulk-payments/{payment-product}"
BULK_STATUS = "/v1/bulk-payments/{payment-product}/{paymentId}/status"
REDIRECT = "https://tpp.example/payment-return?order=17"
DEBTOR = "NL69INGB0123456789"


def pis(ing, method, path, body=b"", content_type="application/json", extra=None, token=None,
        request_id=True, cert="default"):
    """A Payment Initiation call: application token + signature over (request-target) date digest x-request-id."""
    date, digest = http_date(), digest_of(body)
    headers = {"Date": date, "Digest": digest, "Authorization": f"Bearer {token or ing.app_token}"}
    signed = [("(request-target)", f"{method.lower()} {path}"), ("date", date), ("digest", digest)]
    names = "(request-target) date digest"
    if request_id:
        headers["X-Request-ID"] = request_id if isinstance(request_id, str) else str(uuid.uuid4())
        signed.append(("x-request-id", headers["X-Request-ID"]))
        names += " x-request-id"
    headers["Signature"] = (f'keyId="{ing.client_id}",algorithm="rsa-sha256",headers="{names}",'
                            f'signature="{sign(ing.key, signed)}"')
    if body:
        headers["Content-Type"] = content_type
    if method == "POST":
        headers.update({"TPP-Redirect-URI": REDIRECT, "PSU-IP-Address": "192.0.2.10"})
    headers.update(extra or {})
    return ing._send(method, path, body, headers, cert=cert)


def bulk_body(amounts=("125.00", "74.50", "1200.10"), debtor=DEBTOR, **extra):
    creditors = ["NL91ABNA0417164300", "NL44RABO0123456789", "NL20INGB0001234567"]
    payments = [{
        "endToEndIdentification": f"ORDER17-{i + 1}",
        "instructedAmount": {"amount": amount, "currency": "EUR"},
        "creditorAccount": {"iban": creditors[i % len(creditors)]},
        "creditorName": f"Leverancier {i + 1} B.V.",
        "remittanceInformationUnstructured": f"Factuur 2026-{i + 100}",
    } for i, amount in enumerate(amounts)]
    body = {"payments": payments, **extra}
    if debtor:
        body["debtorAccount"] = {"iban": debtor}
    return body


@pytest.fixture
def ing(bank_sandbox):
    client = IngClient(bank_sandbox)
    client.get_application_token()
    return client


def submit(ing, body, path="/v1/bulk-payments/sepa-credit-transfers", **kwargs):
    return pis(ing, "POST", path, json.dumps(body).encode(), **kwargs)


def submitted(ing, body=None):
    response = submit(ing, body or bulk_body())
    assert response.status_code == 201, response.text
    return response.json()


def status_of(ing, payment_id):
    path = f"/v1/bulk-payments/sepa-credit-transfers/{payment_id}/status"
    response = pis(ing, "GET", path)
    assert response.status_code == 200, response.text
    validate("ing-pis", BULK_STATUS, "GET", 200, response.json())
    return response.json()


def booked(bank_sandbox, iban=DEBTOR):
    """Today's booked transactions of ``iban`` through the AIS API (a fresh consent)."""
    reader = IngClient(bank_sandbox)
    tokens = reader.consent([iban])
    account = next(a for a in bank_sandbox.accounts("ing") if a["iban"] == iban)
    today = bank_sandbox.info()["today"]
    response = reader.get(f"/v3/accounts/{account['resourceId']}/transactions?dateFrom={today}",
                          tokens["access_token"])
    assert response.status_code == 200, response.text
    validate("ing-ais", "/v3/accounts/{account-id}/transactions", "get", 200, response.json())
    return response.json()["transactions"]["booked"]


# ------------------------------------------------------------------ submission

def test_bulk_submission_answers_rcvd_with_sca_redirect_per_spec(ing, bank_sandbox):
    response = submit(ing, bulk_body())
    assert response.status_code == 201, response.text
    validate("ing-pis", BULK, "POST", 201, response.json())
    data = response.json()
    assert data["transactionStatus"] == "RCVD"
    assert response.headers["ASPSP-SCA-Approach"] == "REDIRECT"
    assert response.headers["Location"] == f"/v1/bulk-payments/sepa-credit-transfers/{data['paymentId']}"
    assert response.headers["X-Request-ID"] and response.headers["X-ING-Response-ID"]
    redirect = urllib.parse.urlsplit(data["_links"]["scaRedirect"])
    assert redirect.path == f"/payment-initiation/{data['paymentId']}/NL" and redirect.query == "type=bulk"
    order = bank_sandbox.payment(data["paymentId"])
    assert (order["count"], order["total"], order["account"]) == (3, "1399.60", DEBTOR)


def test_v2_bulk_and_details_return_what_was_sent(ing):
    body = bulk_body(batchBookingPreferred=True, requestedExecutionDate=None)
    body.pop("requestedExecutionDate")
    response = submit(ing, body, path="/v2/bulk-payments/sepa-credit-transfers")
    assert response.status_code == 201, response.text
    validate("ing-pis", "/v2/bulk-payments/{payment-product}", "POST", 201, response.json())
    payment_id = response.json()["paymentId"]
    details = pis(ing, "GET", f"/v2/bulk-payments/sepa-credit-transfers/{payment_id}")
    assert details.status_code == 200
    validate("ing-pis", "/v2/bulk-payments/{payment-product}/{paymentId}", "GET", 200, details.json())
    assert details.json() == body


def test_payment_initiation_needs_application_token_signature_and_headers(ing, bank_sandbox):
    body = json.dumps(bulk_body()).encode()
    no_cert = pis(ing, "POST", "/v1/bulk-payments/sepa-credit-transfers", body, cert=None)
    assert no_cert.status_code == 401
    validate("ing-pis", BULK, "POST", 401, no_cert.json())
    customer_like = pis(ing, "POST", "/v1/bulk-payments/sepa-credit-transfers", body, token="not-a-token")
    assert customer_like.status_code == 401 and customer_like.json()["tppMessages"][0]["code"] == "INVALID_HEADER"
    unsigned_request_id = pis(ing, "POST", "/v1/bulk-payments/sepa-credit-transfers", body, request_id=False)
    assert unsigned_request_id.status_code == 400
    no_redirect = pis(ing, "POST", "/v1/bulk-payments/sepa-credit-transfers", body,
                      extra={"TPP-Redirect-URI": ""})
    assert no_redirect.status_code == 400
    assert no_redirect.json()["tppMessages"][0]["path"] == "TPP-Redirect-URI"
    validate("ing-pis", BULK, "POST", 400, no_redirect.json())
    assert bank_sandbox.payments("ing") == []


@pytest.mark.parametrize("mutate, path", [
    (lambda b: b["payments"][0].update(creditorName="Bakkerij & Zn"), "payments[0].creditorName"),
    (lambda b: b["payments"][1]["instructedAmount"].update(amount="12,50"), "payments[1].instructedAmount.amount"),
    (lambda b: b["payments"][2]["instructedAmount"].update(currency="USD"), "payments[2].instructedAmount.currency"),
    (lambda b: b["payments"][0].update(endToEndIdentification="X" * 36), "payments[0].endToEndIdentification"),
    (lambda b: b.update(debtorAccount={"iban": "NL91ABNA0417164300"}), "debtorAccount.iban"),
    (lambda b: b.update(payments=[]), "payments"),
])
def test_invalid_bulk_is_refused_whole_with_the_field_path(ing, bank_sandbox, mutate, path):
    body = bulk_body()
    mutate(body)
    response = submit(ing, body)
    assert response.status_code == 400, response.text
    validate("ing-pis", BULK, "POST", 400, response.json())
    message = response.json()["tppMessages"][0]
    assert message["code"] == "FORMAT_ERROR" and message["path"] == path
    assert bank_sandbox.payments("ing") == []


def test_direct_debits_are_not_offered_by_ing(ing):
    response = submit(ing, bulk_body(), path="/v1/bulk-payments/sepa-direct-debits")
    assert response.status_code == 404
    validate("ing-pis", BULK, "POST", 404, response.json())
    assert response.json()["tppMessages"][0]["code"] == "PRODUCT_UNKNOWN"


def test_reused_end_to_end_id_is_refused_as_duplicate_until_the_first_is_rejected(ing, bank_sandbox):
    first = submitted(ing)
    again = submit(ing, bulk_body())
    assert again.status_code == 422
    validate("ing-pis", BULK, "POST", 422, again.json())
    assert "AM05 Duplicate" in again.json()["tppMessages"][0]["text"]
    bank_sandbox.reject_payment(first["paymentId"], "AM04")
    assert submit(ing, bulk_body()).status_code == 201


def test_repeated_x_request_id_is_refused_as_duplicate(ing, bank_sandbox):
    key = str(uuid.uuid4())
    body = bulk_body()
    for payment in body["payments"]:
        del payment["endToEndIdentification"]
    assert submit(ing, body, request_id=key).status_code == 201
    again = submit(ing, body, request_id=key)
    assert again.status_code == 422 and f"X-Request-ID {key}" in again.json()["tppMessages"][0]["text"]
    assert len(bank_sandbox.payments("ing")) == 1
    assert submit(ing, body).status_code == 201  # without ids a fresh request is a new order


# ------------------------------------------------------------------ approval and status

def test_approval_page_shows_the_batch_and_tan_then_redirects_back(ing, bank_sandbox):
    data = submitted(ing)
    browser = requests.Session()
    page = browser.get(data["_links"]["scaRedirect"], verify=bank_sandbox.certs.ca, timeout=30)
    assert page.status_code == 200
    assert "Verzendlijst" in page.text and "#ff6200" in page.text
    assert '<dd class="count">3</dd>' in page.text and "€ 1.399,60" in page.text
    assert "NL69 INGB 0123 4567 89" in page.text
    assert status_of(ing, data["paymentId"])["transactionStatus"] == "ACTC"
    session = page.text.split('name="session" value="')[1].split('"')[0]
    tan_page = browser.post(page.url, data={"session": session, "step": "review", "action": "approve"},
                            verify=bank_sandbox.certs.ca, timeout=30)
    assert "Sandbox-TAN" in tan_page.text
    wrong = browser.post(page.url, data={"session": session, "step": "tan", "action": "approve", "tan": "000000"},
                         verify=bank_sandbox.certs.ca, timeout=30, allow_redirects=False)
    assert wrong.status_code == 400 and "Onjuiste code" in wrong.text
    done = browser.post(page.url, data={"session": session, "step": "tan", "action": "approve",
                                        "tan": bank_sandbox.tan}, verify=bank_sandbox.certs.ca, timeout=30,
                        allow_redirects=False)
    assert done.status_code == 302 and done.headers["Location"] == REDIRECT
    assert status_of(ing, data["paymentId"])["transactionStatus"] == "ACCP"
    again = requests.get(data["_links"]["scaRedirect"], verify=bank_sandbox.certs.ca, timeout=30)
    assert again.status_code == 409


def test_order_without_debtor_account_lets_the_user_choose(ing, bank_sandbox):
    data = submitted(ing, bulk_body(debtor=None))
    second = [a["iban"] for a in bank_sandbox.accounts("ing") if a["eligible"]][1]
    assert bank_sandbox.approve_payment(data["_links"]["scaRedirect"], account=second) == REDIRECT
    assert bank_sandbox.payment(data["paymentId"])["account"] == second


def test_cancel_on_the_page_rejects_with_cust(ing, bank_sandbox):
    data = submitted(ing)
    assert bank_sandbox.cancel_payment(data["_links"]["scaRedirect"]) == REDIRECT
    status = status_of(ing, data["paymentId"])
    assert status["transactionStatus"] == "RJCT" and status["stsRsnInf"][0]["rsn"]["cd"] == "CUST"


def test_status_moves_on_by_the_clock_to_executed_and_books_one_batch_line(ing, bank_sandbox):
    data = submitted(ing)
    before = {t["transactionId"] for t in booked(bank_sandbox)}
    bank_sandbox.approve_payment(data["_links"]["scaRedirect"])
    assert status_of(ing, data["paymentId"])["transactionStatus"] == "ACCP"
    bank_sandbox.advance_clock(31)
    assert status_of(ing, data["paymentId"])["transactionStatus"] == "ACSP"
    bank_sandbox.advance_clock(61)
    assert status_of(ing, data["paymentId"])["transactionStatus"] == "ACSC"
    new = [t for t in booked(bank_sandbox) if t["transactionId"] not in before]
    assert len(new) == 1
    line = new[0]
    assert line["transactionAmount"] == {"currency": "EUR", "amount": -1399.6}
    assert line["transactionType"] == "Verzamelbetaling"
    assert "Verzamelbetaling" in line["remittanceInformationUnstructured"]
    assert data["paymentId"] in line["remittanceInformationUnstructured"]
    assert "Aantal posten: 3" in line["remittanceInformationUnstructured"]


def test_individual_booking_when_batch_booking_is_not_preferred(ing, bank_sandbox):
    data = submitted(ing, bulk_body(batchBookingPreferred=False))
    bank_sandbox.approve_payment(data["_links"]["scaRedirect"])
    bank_sandbox.advance_payment(data["paymentId"], to="executed")
    lines = [t for t in booked(bank_sandbox) if t["endToEndId"].startswith("ORDER17-")]
    assert sorted(t["transactionAmount"]["amount"] for t in lines) == [-1200.1, -125.0, -74.5]


def test_payment_rejected_inside_the_batch_is_left_out_and_reported(ing, bank_sandbox):
    data = submitted(ing)
    bank_sandbox.approve_payment(data["_links"]["scaRedirect"])
    bank_sandbox.reject_payment(data["paymentId"], "AC04", end_to_end_id="ORDER17-3")
    bank_sandbox.advance_payment(data["paymentId"], to="executed")
    status = status_of(ing, data["paymentId"])
    assert status["transactionStatus"] == "PART"
    assert status["stsRsnInf"][0]["rsn"]["cd"] == "AC04"
    assert "endToEndId: ORDER17-3" in status["stsRsnInf"][0]["addtlInf"]
    batch = [t for t in booked(bank_sandbox) if t.get("transactionType") == "Verzamelbetaling"]
    assert batch[0]["transactionAmount"]["amount"] == -199.5
    assert "Aantal posten: 2" in batch[0]["remittanceInformationUnstructured"]


def test_invalid_creditor_iban_is_refused_as_ac01_at_submission(ing, bank_sandbox):
    body = bulk_body()
    body["payments"][1]["creditorAccount"]["iban"] = "NL00RABO0123456789"
    response = submit(ing, body)
    assert response.status_code == 201
    validate("ing-pis", BULK, "POST", 201, response.json())
    assert response.json()["tppMessages"][0]["category"] == "WARNING"
    assert bank_sandbox.payment(response.json()["paymentId"])["total"] == "1325.10"


@pytest.mark.parametrize("code, dutch", [("AM04", "Onvoldoende saldo"), ("AC01", "Rekeningnummer onjuist"),
                                         ("MD01", "Geen machtiging"), ("AM05", "Dubbele aanlevering")])
def test_rejection_reports_iso_code_and_texts(ing, bank_sandbox, code, dutch):
    data = submitted(ing)
    bank_sandbox.approve_payment(data["_links"]["scaRedirect"])
    bank_sandbox.reject_payment(data["paymentId"], code)
    status = status_of(ing, data["paymentId"])
    assert status["transactionStatus"] == "RJCT"
    assert status["stsRsnInf"][0]["rsn"]["cd"] == code
    assert dutch in status["stsRsnInf"][0]["addtlInf"][0]
    bank_sandbox.advance_clock(800)  # a final status never moves on (token lives 900 s)
    assert status_of(ing, data["paymentId"])["transactionStatus"] == "RJCT"


def test_insufficient_funds_rejects_the_batch_at_execution(ing, bank_sandbox):
    balance = Decimal(str(next(a for a in bank_sandbox.accounts("ing") if a["iban"] == DEBTOR)["balance"]))
    data = submitted(ing, bulk_body(amounts=(f"{balance + 1:.2f}",)))
    bank_sandbox.approve_payment(data["_links"]["scaRedirect"])
    bank_sandbox.advance_payment(data["paymentId"], to="executed")
    status = status_of(ing, data["paymentId"])
    assert status["transactionStatus"] == "RJCT" and status["stsRsnInf"][0]["rsn"]["cd"] == "AM04"
    assert not [t for t in booked(bank_sandbox) if t.get("transactionType") == "Verzamelbetaling"]


def test_status_of_unknown_payment_or_wrong_service_is_404(ing, bank_sandbox):
    data = submitted(ing)
    unknown = pis(ing, "GET", f"/v1/bulk-payments/sepa-credit-transfers/{uuid.uuid4()}/status")
    assert unknown.status_code == 404
    validate("ing-pis", BULK_STATUS, "GET", 404, unknown.json())
    wrong_service = pis(ing, "GET", f"/v1/payments/sepa-credit-transfers/{data['paymentId']}/status")
    assert wrong_service.status_code == 404


def test_delete_before_authorisation_cancels(ing, bank_sandbox):
    data = submitted(ing)
    response = pis(ing, "DELETE", f"/v1/bulk-payments/sepa-credit-transfers/{data['paymentId']}")
    assert response.status_code == 204
    assert status_of(ing, data["paymentId"])["transactionStatus"] == "CANC"


# ------------------------------------------------------------------ single payments

PAIN001 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn>
<GrpHdr><MsgId>{msg}</MsgId><CreDtTm>2026-11-21T09:00:00</CreDtTm><NbOfTxs>1</NbOfTxs><CtrlSum>250.00</CtrlSum>
<InitgPty><Nm>Bakkerij De Korenbloem B.V.</Nm></InitgPty></GrpHdr>
<PmtInf><PmtInfId>{msg}-1</PmtInfId><PmtMtd>TRF</PmtMtd><NbOfTxs>1</NbOfTxs><CtrlSum>250.00</CtrlSum>
<ReqdExctnDt>{date}</ReqdExctnDt><Dbtr><Nm>Bakkerij De Korenbloem B.V.</Nm></Dbtr>
<DbtrAcct><Id><IBAN>NL69INGB0123456789</IBAN></Id></DbtrAcct><DbtrAgt><FinInstnId><BIC>INGBNL2A</BIC></FinInstnId></DbtrAgt>
<CdtTrfTxInf><PmtId><EndToEndId>{msg}-E2E</EndToEndId></PmtId><Amt><InstdAmt Ccy="EUR">250.00</InstdAmt></Amt>
<Cdtr><Nm>Meelfabriek De Hoop</Nm></Cdtr><CdtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></CdtrAcct>
<RmtInf><Ustrd>Factuur 88123</Ustrd></RmtInf></CdtTrfTxInf></PmtInf></CstmrCdtTrfInitn></Document>"""


def test_single_pain001_payment_and_pain002_status(ing, bank_sandbox):
    today = bank_sandbox.info()["today"]
    xml = PAIN001.format(msg="MSG-0001", date=today).encode()
    path = "/v1/payments/pain.001-sepa-credit-transfers"
    response = pis(ing, "POST", path, xml, content_type="application/xml")
    assert response.status_code == 201, response.text
    validate("ing-pis", "/v1/payments/pain.001-{payment-product}", "POST", 201, response.json())
    payment_id = response.json()["paymentId"]
    assert "type=bulk" not in response.json()["_links"]["scaRedirect"]
    duplicate = pis(ing, "POST", path, xml, content_type="application/xml")
    assert duplicate.status_code == 422 and "MsgId MSG-0001" in duplicate.json()["tppMessages"][0]["text"]
    bank_sandbox.approve_payment(response.json()["_links"]["scaRedirect"])
    bank_sandbox.advance_payment(payment_id, to="executed")
    status = pis(ing, "GET", f"/v2/payments/pain.001-sepa-credit-transfers/{payment_id}/status")
    assert status.status_code == 200 and status.headers["Content-Type"].startswith("application/xml")
    assert "pain.002.001.11" in status.text and "<PmtInfSts>ACSC</PmtInfSts>" in status.text
    line = [t for t in booked(bank_sandbox) if t["endToEndId"] == "MSG-0001-E2E"]
    assert line and line[0]["transactionAmount"]["amount"] == -250.0
    assert line[0]["creditorName"] == "Meelfabriek De Hoop"


def test_pain001_with_two_payments_is_refused(ing, bank_sandbox):
    xml = PAIN001.format(msg="MSG-0002", date=bank_sandbox.info()["today"])
    xml = xml.replace("<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>").replace("250.00</CtrlSum>", "500.00</CtrlSum>")
    transaction = xml[xml.index("<CdtTrfTxInf>"):xml.index("</PmtInf>")]
    xml = xml.replace("</PmtInf>", transaction.replace("MSG-0002-E2E", "MSG-0002-E2F") + "</PmtInf>")
    response = pis(ing, "POST", "/v1/payments/pain.001-sepa-credit-transfers", xml.encode(),
                   content_type="application/xml")
    assert response.status_code == 400 and "one payment" in response.json()["tppMessages"][0]["text"]


def test_single_json_payment(ing, bank_sandbox):
    body = bulk_body(amounts=("42.00",))["payments"][0]
    body["debtorAccount"] = {"iban": DEBTOR}
    response = submit(ing, body, path="/v1/payments/sepa-credit-transfers")
    assert response.status_code == 201, response.text
    validate("ing-pis", "/v1/payments/{payment-product}", "POST", 201, response.json())
    payment_id = response.json()["paymentId"]
    status = pis(ing, "GET", f"/v1/payments/sepa-credit-transfers/{payment_id}/status")
    validate("ing-pis", "/v1/payments/{payment-product}/{paymentId}/status", "GET", 200, status.json())
    details = pis(ing, "GET", f"/v1/payments/sepa-credit-transfers/{payment_id}")
    validate("ing-pis", "/v1/payments/{payment-product}/{paymentId}", "GET", 200, details.json())


# ------------------------------------------------------------------ faults

@pytest.mark.parametrize("status", [401, 429, 500, 503])
def test_faults_on_payment_endpoints_answer_in_ing_format(ing, bank_sandbox, status):
    bank_sandbox.set_faults({"path": "/v1/bulk-payments/*", "error": str(status), "retry_after": 3})
    response = submit(ing, bulk_body())
    assert response.status_code == status
    validate("ing-pis", BULK, "POST", status, response.json())
    assert bank_sandbox.payments("ing") == []
    assert submit(ing, bulk_body()).status_code == 201


def test_timeout_fault_on_status_still_answers_late(ing, bank_sandbox):
    data = submitted(ing)
    bank_sandbox.set_faults({"path": "/v1/bulk-payments/*/status", "error": "timeout", "seconds": 1.5})
    started = datetime.datetime.now()
    assert status_of(ing, data["paymentId"])["transactionStatus"] == "RCVD"
    assert (datetime.datetime.now() - started).total_seconds() >= 1.5


def test_slow_submission_is_still_taken_and_a_retry_with_the_same_request_id_is_refused(ing, bank_sandbox):
    """What a client sees after its own time-out: the bank did create the order."""
    bank_sandbox.set_faults({"path": "/v2/bulk-payments/*", "method": "POST", "error": "timeout", "seconds": 1})
    key = str(uuid.uuid4())
    slow = submit(ing, bulk_body(), path="/v2/bulk-payments/sepa-credit-transfers", request_id=key)
    assert slow.status_code == 201
    retry = submit(ing, bulk_body(), path="/v2/bulk-payments/sepa-credit-transfers", request_id=key)
    assert retry.status_code == 422 and slow.json()["paymentId"] in retry.json()["tppMessages"][0]["text"]
    assert len(bank_sandbox.payments("ing")) == 1


def test_orders_survive_a_sandbox_restart_with_state_dir(tmp_path):
    from sandbox import running_sandbox

    with running_sandbox(state_dir=tmp_path) as first:
        client = IngClient(first)
        client.get_application_token()
        payment_id = submitted(client)["paymentId"]
    with running_sandbox(state_dir=tmp_path) as second:
        client.sb, client.base = second, second.ing_url
        assert status_of(client, payment_id)["transactionStatus"] == "RCVD"
        assert second.payment(payment_id)["count"] == 3


def test_requested_date_in_the_past_is_moved_to_today_with_a_warning(ing, bank_sandbox):
    today = datetime.date.fromisoformat(bank_sandbox.info()["today"])
    past = (today - datetime.timedelta(days=3)).isoformat()
    response = submit(ing, bulk_body(requestedExecutionDate=past))
    assert response.status_code == 201
    validate("ing-pis", BULK, "POST", 201, response.json())
    assert past in response.json()["tppMessages"][0]["text"]
    order = bank_sandbox.payment(response.json()["paymentId"])
    assert order["requested_date"] == today.isoformat()


def test_future_dated_bulk_waits_and_can_be_deleted_after_authorisation(ing, bank_sandbox):
    today = datetime.date.fromisoformat(bank_sandbox.info()["today"])
    later = (today + datetime.timedelta(days=5)).isoformat()
    data = submitted(ing, bulk_body(requestedExecutionDate=later))
    assert data["_links"]["delete"] == data["_links"]["self"]
    bank_sandbox.approve_payment(data["_links"]["scaRedirect"])
    bank_sandbox.advance_clock(200)
    assert status_of(ing, data["paymentId"])["transactionStatus"] == "ACSP"  # not before its date
    assert pis(ing, "DELETE", data["_links"]["self"]).status_code == 204
    assert status_of(ing, data["paymentId"])["transactionStatus"] == "CANC"
