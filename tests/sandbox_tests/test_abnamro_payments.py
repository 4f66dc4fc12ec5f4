"""ABN AMRO batch SEPA payments and direct debits as the sandbox plays them."""

import base64
import gzip
import hashlib

import pytest
import requests
from refclient import AbnClient
from schemas import validate

BATCH = "/payments/batch"
SCT_SCOPE = "psd2:payment:batchsct:write"
SDD_SCOPE = "psd2:payment:batchsdd:write"
ACCOUNT = "NL02ABNA0123456789"

SCT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn>
<GrpHdr><MsgId>{msg}</MsgId><CreDtTm>2026-11-21T09:00:00</CreDtTm><NbOfTxs>{count}</NbOfTxs><CtrlSum>{total}</CtrlSum>
<InitgPty><Nm>Bakkerij De Korenbloem B.V.</Nm></InitgPty></GrpHdr>
<PmtInf><PmtInfId>{msg}-PI1</PmtInfId><PmtMtd>TRF</PmtMtd><BtchBookg>{batch}</BtchBookg><NbOfTxs>{count}</NbOfTxs>
<CtrlSum>{total}</CtrlSum><PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf><ReqdExctnDt>{date}</ReqdExctnDt>
<Dbtr><Nm>Bakkerij De Korenbloem B.V.</Nm></Dbtr><DbtrAcct><Id><IBAN>{account}</IBAN></Id></DbtrAcct>
<DbtrAgt><FinInstnId><BIC>ABNANL2A</BIC></FinInstnId></DbtrAgt><ChrgBr>SLEV</ChrgBr>{items}</PmtInf>
</CstmrCdtTrfInitn></Document>"""
SCT_ITEM = """<CdtTrfTxInf><PmtId><EndToEndId>{e2e}</EndToEndId></PmtId><Amt><InstdAmt Ccy="EUR">{amount}</InstdAmt></Amt>
<Cdtr><Nm>{name}</Nm></Cdtr><CdtrAcct><Id><IBAN>{iban}</IBAN></Id></CdtrAcct>
<RmtInf><Ustrd>Factuur {e2e}</Ustrd></RmtInf></CdtTrfTxInf>"""

SDD = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"><CstmrDrctDbtInitn>
<GrpHdr><MsgId>{msg}</MsgId><CreDtTm>2026-11-21T09:00:00</CreDtTm><NbOfTxs>{count}</NbOfTxs><CtrlSum>{total}</CtrlSum>
<InitgPty><Nm>Bakkerij De Korenbloem B.V.</Nm></InitgPty></GrpHdr>
<PmtInf><PmtInfId>{msg}-PI1</PmtInfId><PmtMtd>DD</PmtMtd><BtchBookg>true</BtchBookg><NbOfTxs>{count}</NbOfTxs>
<CtrlSum>{total}</CtrlSum><PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl><LclInstrm><Cd>CORE</Cd></LclInstrm>
<SeqTp>RCUR</SeqTp></PmtTpInf><ReqdColltnDt>{date}</ReqdColltnDt><Cdtr><Nm>Bakkerij De Korenbloem B.V.</Nm></Cdtr>
<CdtrAcct><Id><IBAN>{account}</IBAN></Id></CdtrAcct><CdtrAgt><FinInstnId><BIC>ABNANL2A</BIC></FinInstnId></CdtrAgt>
<ChrgBr>SLEV</ChrgBr><CdtrSchmeId><Id><PrvtId><Othr><Id>NL12ZZZ123456780000</Id><SchmeNm><Prtry>SEPA</Prtry></SchmeNm>
</Othr></PrvtId></Id></CdtrSchmeId>{items}</PmtInf></CstmrDrctDbtInitn></Document>"""
SDD_ITEM = """<DrctDbtTxInf><PmtId><EndToEndId>{e2e}</EndToEndId></PmtId><InstdAmt Ccy="EUR">{amount}</InstdAmt>
<DrctDbtTx><MndtRltdInf><MndtId>MND-{e2e}</MndtId><DtOfSgntr>2026-01-15</DtOfSgntr></MndtRltdInf></DrctDbtTx>
<DbtrAgt><FinInstnId><BIC>RABONL2U</BIC></FinInstnId></DbtrAgt><Dbtr><Nm>{name}</Nm></Dbtr>
<DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct><RmtInf><Ustrd>Factuur {e2e}</Ustrd></RmtInf></DrctDbtTxInf>"""

PARTIES = [("Meelfabriek De Hoop", "NL91ABNA0417164300"), ("Drukkerij Van Dijk", "NL44RABO0123456789"),
           ("Hanos Horeca", "NL20INGB0001234567")]


def pain(kind, msg, amounts, date, account=ACCOUNT, batch="true"):
    template, item = (SCT, SCT_ITEM) if kind == "sct" else (SDD, SDD_ITEM)
    items = "".join(item.format(e2e=f"{msg}-{i + 1}", amount=amount, name=PARTIES[i % 3][0], iban=PARTIES[i % 3][1])
                    for i, amount in enumerate(amounts))
    total = f"{sum(float(a) for a in amounts):.2f}"
    return template.format(msg=msg, count=len(amounts), total=total, date=date, account=account,
                           batch=batch, items=items).encode()


def file_data(xml):
    return base64.b64encode(gzip.compress(xml)).decode()


@pytest.fixture
def abn(bank_sandbox):
    return AbnClient(bank_sandbox)


def payment_consent(abn, bank_sandbox, scope=f"{SCT_SCOPE} {SDD_SCOPE}", iban=ACCOUNT):
    callback = bank_sandbox.approve_abnamro(abn.authorize_url(scope=scope), iban)
    code = bank_sandbox.query_of(callback)["code"]
    response = abn.token_request(grant_type="authorization_code", code=code, redirect_uri=abn.redirect_uri)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def post_batch(abn, token, xml=None, file_name="order17.xml", raw=None):
    body = raw if raw is not None else {"sepaBatchPaymentInstruction": {"fileName": file_name,
                                                                         "fileData": file_data(xml)}}
    return requests.post(abn.base + "/v1/payments/batch", json=body, timeout=30, verify=abn.sb.certs.ca,
                         cert=abn.tls, headers={"Authorization": f"Bearer {token}",
                                                "API-Key": abn.sb.abnamro_api_key,
                                                "X-Request-ID": "bc69c490-9524-413f-971a-21f1aecd9fe5"})


@pytest.fixture
def token(abn, bank_sandbox):
    return payment_consent(abn, bank_sandbox)


@pytest.fixture
def today(bank_sandbox):
    return bank_sandbox.info()["today"]


def booked_today(abn, bank_sandbox, today):
    access = abn.consent(ACCOUNT)["access_token"]
    response = abn.get(f"/v1/accounts/{ACCOUNT}/transactions", access,
                       params={"bookDateFrom": today, "bookDateTo": today})
    assert response.status_code == 200, response.text
    return response.json()["transactions"]


# ------------------------------------------------------------------ consent

def test_payment_consent_is_one_account_and_shows_in_consentinfo(abn, bank_sandbox, token):
    info = abn.get("/v1/consentinfo", token)
    assert info.status_code == 200
    validate("abnamro-pis", "/consentinfo", "GET", 200, info.json())
    assert info.json()["iban"] == ACCOUNT and SCT_SCOPE in info.json()["scopes"]
    consent = [c for c in bank_sandbox.consents() if c["accounts"] == [ACCOUNT]][0]
    days = (consent["valid_until"] - bank_sandbox.advance_clock(0)["now"]) / 86400
    assert 89.9 < days <= 90


def test_payment_and_account_information_scopes_cannot_be_combined(abn, bank_sandbox):
    url = abn.authorize_url(scope=f"{SCT_SCOPE} psd2:account:balance:read")
    page = requests.get(url, verify=bank_sandbox.certs.ca, timeout=30, allow_redirects=False)
    assert page.status_code == 400 and "gecombineerd" in page.text


# ------------------------------------------------------------------ submission

def test_sct_batch_is_received_with_authorization_url(abn, bank_sandbox, token, today):
    xml = pain("sct", "SCT-0001", ["125.00", "74.50", "1200.10"], today)
    response = post_batch(abn, token, xml)
    assert response.status_code == 201, response.text
    validate("abnamro-pis", BATCH, "POST", 201, response.json())
    data = response.json()
    assert data["status"] == "STORED" and data["sepaBatchPaymentInstruction"]["status"] == "RECEIVED"
    assert data["transactionId"].endswith(";" + ACCOUNT) and data["accountNumber"] == ACCOUNT
    assert data["sepaBatchPaymentInstruction"]["hash"] == hashlib.sha256(xml).hexdigest()
    assert response.headers["X-Request-ID"] == "bc69c490-9524-413f-971a-21f1aecd9fe5" and response.headers["Trace-Id"]
    order = bank_sandbox.payment(data["transactionId"])
    assert (order["kind"], order["count"], order["total"], order["message_id"]) == \
        ("credit_transfer", 3, "1399.60", "SCT-0001")


@pytest.mark.parametrize("raw, status, code", [
    ({"sepaBatchPaymentInstruction": {"fileName": "", "fileData": "x"}}, 400, "MESSAGE_BAI556_0002"),
    ({"sepaBatchPaymentInstruction": {"fileName": "a-very-long-file-name.xml", "fileData": "x"}}, 400,
     "MESSAGE_BAI556_0002"),
    ({"sepaBatchPaymentInstruction": {"fileName": "f.xml", "fileData": "no base64!"}}, 400, "MESSAGE_BAI556_0013"),
    ({"sepaBatchPaymentInstruction": {"fileName": "f.xml", "fileData": base64.b64encode(b"<?xml").decode()}}, 400,
     "MESSAGE_BAI556_0015"),
    ({"sepaBatchPaymentInstruction": {"fileName": "f.xml", "fileData": file_data(b"PK zip")}}, 400,
     "MESSAGE_BAI556_0003"),
    ({"sepaBatchPaymentInstruction": {"fileName": "f.xml", "fileData": file_data(
        b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>')}}, 400,
     "MESSAGE_BAI556_0016"),
])
def test_unusable_files_are_refused_with_abn_amro_codes(abn, bank_sandbox, token, raw, status, code):
    response = post_batch(abn, token, raw=raw)
    assert response.status_code == status, response.text
    validate("abnamro-pis", BATCH, "POST", status, response.json())
    assert response.json()["errors"][0]["code"] == code
    assert bank_sandbox.payments("abnamro") == []


def test_other_account_two_blocks_and_wrong_scope_are_refused(abn, bank_sandbox, today):
    token = payment_consent(abn, bank_sandbox, scope=SCT_SCOPE)
    other = post_batch(abn, token, pain("sct", "SCT-0002", ["10.00"], today, account="NL45ABNA2821898142"))
    assert other.status_code == 400 and other.json()["errors"][0]["code"] == "MESSAGE_BAI556_0001"
    xml = pain("sct", "SCT-0003", ["10.00"], today).decode()
    block = xml[xml.index("<PmtInf>"):xml.index("</PmtInf>") + len("</PmtInf>")]
    xml = xml.replace("</PmtInf>", "</PmtInf>" + block.replace("SCT-0003-PI1", "SCT-0003-PI2"), 1)
    xml = xml.replace("<NbOfTxs>1</NbOfTxs><CtrlSum>10.00</CtrlSum>\n<InitgPty>", "<NbOfTxs>2</NbOfTxs>"
                      "<CtrlSum>20.00</CtrlSum>\n<InitgPty>")
    two = post_batch(abn, token, xml.encode())
    assert two.status_code == 400 and two.json()["errors"][0]["code"] == "MESSAGE_BAI556_0017"
    sdd = post_batch(abn, token, pain("sdd", "SDD-0001", ["10.00"], today))
    assert sdd.status_code == 403 and sdd.json()["errors"][0]["code"] == "MESSAGE_BAI556_0024"
    validate("abnamro-pis", BATCH, "POST", 403, sdd.json())
    ais_token = abn.consent(ACCOUNT)["access_token"]
    no_scope = post_batch(abn, ais_token, pain("sct", "SCT-0004", ["10.00"], today))
    assert no_scope.status_code == 403 and no_scope.json()["errors"][0]["code"] == "MESSAGE_BAI556_0021"


def test_wrong_control_sum_is_taken_but_rejected(abn, bank_sandbox, token, today):
    xml = pain("sct", "SCT-0005", ["10.00", "20.00"], today).replace(b"<CtrlSum>30.00</CtrlSum>\n<InitgPty>",
                                                                      b"<CtrlSum>31.00</CtrlSum>\n<InitgPty>")
    response = post_batch(abn, token, xml)
    assert response.status_code == 201
    validate("abnamro-pis", BATCH, "POST", 201, response.json())
    assert response.json()["status"] == "REJECTED" and "authorizationUrl" not in response.json()
    assert response.json()["sepaBatchPaymentInstruction"]["reason"]["code"] == "FF01"


def test_same_message_id_twice_is_rejected_as_duplicate(abn, bank_sandbox, token, today):
    xml = pain("sct", "SCT-0006", ["10.00"], today)
    assert post_batch(abn, token, xml).json()["status"] == "STORED"
    again = post_batch(abn, token, xml)
    assert again.status_code == 201
    validate("abnamro-pis", BATCH, "POST", 201, again.json())
    assert again.json()["status"] == "REJECTED"
    assert again.json()["sepaBatchPaymentInstruction"]["reason"]["code"] == "AM05"
    orders = bank_sandbox.payments("abnamro")
    assert [o["status"] for o in orders] == ["received", "rejected"]


def test_sdd_without_contract_is_rejected(abn, bank_sandbox, today):
    scenario = bank_sandbox.scenario()
    scenario["abnamro"]["accounts"][0]["sdd_contract"] = False
    bank_sandbox.set_scenario(scenario)
    token = payment_consent(abn, bank_sandbox)
    response = post_batch(abn, token, pain("sdd", "SDD-0002", ["10.00"], today))
    assert response.json()["status"] == "REJECTED"
    assert response.json()["sepaBatchPaymentInstruction"]["reason"]["code"] == "AG01"


# ------------------------------------------------------------------ approval, execution, booking

def test_sct_batch_approved_with_tan_executes_as_one_debit_line(abn, bank_sandbox, token, today):
    data = post_batch(abn, token, pain("sct", "SCT-0007", ["125.00", "74.50", "1200.10"], today)).json()
    page = requests.get(data["authorizationUrl"], verify=bank_sandbox.certs.ca, timeout=30)
    assert page.status_code == 200 and "Batch autoriseren" in page.text and "#00857a" in page.text
    assert '<dd class="count">3</dd>' in page.text and "€ 1.399,60" in page.text
    final = bank_sandbox.approve_payment(data["authorizationUrl"])
    assert "Opdracht ondertekend" in final  # no redirect: the spec defines none for batches
    assert bank_sandbox.payment(data["transactionId"])["bank_status"] == "AUTHORIZED"
    bank_sandbox.advance_clock(31)
    assert bank_sandbox.payment(data["transactionId"])["bank_status"] == "INPROGRESS"
    bank_sandbox.advance_clock(61)
    assert bank_sandbox.payment(data["transactionId"])["bank_status"] == "EXECUTED"
    rows = booked_today(abn, bank_sandbox, today)
    batch = [r for r in rows if "SEPA Verzamelbetaling" in r["descriptionLines"]]
    assert len(batch) == 1
    validate("abnamro-ais", "/accounts/{accountNumber}/transactions", "GET", 200,
             {"accountNumber": ACCOUNT, "transactions": batch})
    assert batch[0]["amount"] == -1399.6
    assert "Batch ID: SCT-0007-PI1" in batch[0]["descriptionLines"]
    assert "Bericht ID: SCT-0007" in batch[0]["descriptionLines"]


def test_sdd_batch_executes_as_one_credit_line_without_refused_debtor(abn, bank_sandbox, token, today):
    data = post_batch(abn, token, pain("sdd", "SDD-0003", ["55.00", "45.00", "100.00"], today)).json()
    assert data["status"] == "STORED"
    bank_sandbox.approve_payment(data["authorizationUrl"])
    bank_sandbox.reject_payment(data["transactionId"], "MD01", end_to_end_id="SDD-0003-2")
    order = bank_sandbox.advance_payment(data["transactionId"], to="executed")
    assert order["status"] == "executed" and order["total"] == "155.00"
    refused = [p for p in order["payments"] if p["status"] == "rejected"]
    assert refused[0]["reason"] == {"code": "MD01", "text_nl": "Geen machtiging", "text_en": "No mandate"}
    rows = [r for r in booked_today(abn, bank_sandbox, today) if "SEPA Incasso batch" in r["descriptionLines"]]
    assert len(rows) == 1 and rows[0]["amount"] == 155.0
    assert "Incassant ID: NL12ZZZ1234567800" in "".join(rows[0]["descriptionLines"])


def test_cancel_on_the_batch_page(abn, bank_sandbox, token, today):
    data = post_batch(abn, token, pain("sct", "SCT-0008", ["10.00"], today)).json()
    assert "geannuleerd" in bank_sandbox.cancel_payment(data["authorizationUrl"])
    order = bank_sandbox.payment(data["transactionId"])
    assert order["status"] == "rejected" and order["reason"]["code"] == "CUST"
    # After a refusal the same MsgId may be sent again.
    assert post_batch(abn, token, pain("sct", "SCT-0008", ["10.00"], today)).json()["status"] == "STORED"


def test_individual_booking_when_btchbookg_is_false(abn, bank_sandbox, token, today):
    data = post_batch(abn, token, pain("sct", "SCT-0009", ["11.00", "22.00"], today, batch="false")).json()
    bank_sandbox.approve_payment(data["authorizationUrl"])
    bank_sandbox.advance_payment(data["transactionId"], to="executed")
    rows = [r for r in booked_today(abn, bank_sandbox, today) if r["amount"] in (-11.0, -22.0)]
    assert len(rows) == 2 and all(r["mutationCode"] == "658" for r in rows)


# ------------------------------------------------------------------ faults

@pytest.mark.parametrize("status", [401, 500])
def test_faults_on_the_batch_endpoint(abn, bank_sandbox, token, today, status):
    bank_sandbox.set_faults({"path": "/v1/payments/batch", "error": str(status)})
    response = post_batch(abn, token, pain("sct", "SCT-0010", ["10.00"], today))
    assert response.status_code == status
    validate("abnamro-pis", BATCH, "POST", status, response.json())
    assert bank_sandbox.payments("abnamro") == []


def test_429_on_the_batch_endpoint_keeps_abn_error_format(abn, bank_sandbox, token, today):
    bank_sandbox.set_faults({"path": "/v1/payments/batch", "error": "429", "retry_after": 2})
    response = post_batch(abn, token, pain("sct", "SCT-0011", ["10.00"], today))
    assert response.status_code == 429 and response.headers["Retry-After"] == "2"
    validate("abnamro-pis", BATCH, "POST", 500, response.json())  # the spec declares no 429: same Errors schema
    assert response.json()["errors"][0]["code"] == "ERR_7002_001"


def test_scenario_payments_settings_manual_mode_and_refused_counterparty(abn, bank_sandbox, today):
    scenario = bank_sandbox.scenario()
    scenario["payments"] = {"accept_after_seconds": None, "execute_after_seconds": None,
                            "reject_counterparties": {PARTIES[1][1]: "AC04"}}
    bank_sandbox.set_scenario(scenario)
    token = payment_consent(abn, bank_sandbox)
    data = post_batch(abn, token, pain("sct", "SCT-0012", ["10.00", "20.00", "30.00"], today)).json()
    bank_sandbox.approve_payment(data["authorizationUrl"])
    bank_sandbox.advance_clock(7200)
    assert bank_sandbox.payment(data["transactionId"])["status"] == "authorised"  # nothing moves by itself
    order = bank_sandbox.advance_payment(data["transactionId"], to="executed")
    assert order["total"] == "40.00" and order["count"] == 2
    assert [p["reason"]["code"] for p in order["payments"] if p["reason"]] == ["AC04"]
    reasons = requests.get(bank_sandbox.abnamro_url + "/_sandbox/payments/reasons", verify=bank_sandbox.certs.ca,
                           timeout=30).json()["reasons"]
    assert reasons["AC04"]["text_nl"] == "Rekening opgeheven"
    bank_sandbox.reset()
    assert bank_sandbox.payments() == []


def test_admin_refuses_moves_of_a_final_order(abn, bank_sandbox, token, today):
    data = post_batch(abn, token, pain("sct", "SCT-0013", ["10.00"], today)).json()
    bank_sandbox.reject_payment(data["transactionId"], "AM04")
    with pytest.raises(RuntimeError, match="409"):
        bank_sandbox.advance_payment(data["transactionId"])
    with pytest.raises(RuntimeError, match="400"):
        bank_sandbox.reject_payment(data["transactionId"], "XX99")
    page = requests.get(data["authorizationUrl"], verify=bank_sandbox.certs.ca, timeout=30)
    assert page.status_code == 409
