"""The sandbox's Knab, Triodos and de Volksbank (ASN, SNS, RegioBank) against the notes and the specs.

Every answer the reference client gets is validated against the Berlin Group
NextGenPSD2 1.3.12 OpenAPI, or for de Volksbank against its own Swagger files.
"""

import datetime
import re
import urllib.parse

import pytest
from refclient_nextgenpsd2 import REDIRECT, VOLKSBANK, NgClient
from schemas import validate

BANKS = ("knab", "triodos", "asn", "sns", "regiobank")
SIGNING = ("knab", "triodos")


def check(bank, path, method, response, schema_ref=None):
    """Validate ``response`` against the bank's spec; ``path`` as the spec writes it."""
    body = response.json()
    if bank in VOLKSBANK:
        if path.endswith("consents"):
            return validate("volksbank-consent", path, method, response.status_code, body)
        return validate("volksbank-ais", "/v1.1" + path[3:], method, response.status_code, body)
    if schema_ref:
        return validate("berlingroup", path, method, response.status_code, body, schema_ref=schema_ref)
    return validate("berlingroup", path, method, response.status_code, body)


def error_code(bank, response):
    body = response.json()
    return body["code"] if bank in VOLKSBANK else body["tppMessages"][0]["code"]


@pytest.fixture
def linked(bank_sandbox, request):
    client = NgClient(bank_sandbox, request.param)
    client.link()
    return client


def _all_transactions(client, account_id, psu_ip="192.0.2.10", **params):
    rows, pages = [], 0
    response = client.get(f"{client.ais}/accounts/{account_id}/transactions", psu_ip=psu_ip,
                          params={"bookingStatus": "booked", "dateFrom": "2020-01-01", **params})
    while True:
        assert response.status_code == 200, response.text
        check(client.bank, "/v1/accounts/{account-id}/transactions", "GET", response)
        pages += 1
        report = response.json()["transactions"]
        rows.extend(report["booked"])
        href = report["_links"].get("next", {}).get("href")
        if not href:
            return rows, pages
        response = client.get(href, psu_ip=psu_ip)


@pytest.mark.parametrize("linked", BANKS, indirect=True)
def test_link_and_fetch_validate_against_the_specs(linked, bank_sandbox):
    client = linked
    accounts = client.get(client.ais + "/accounts", psu_ip="192.0.2.10")
    assert accounts.status_code == 200, accounts.text
    check(client.bank, "/v1/accounts", "GET", accounts)
    listed = accounts.json()["accounts"]
    expected = [a for a in bank_sandbox.accounts(client.bank) if a["eligible"]]
    if client.bank == "triodos":
        expected = expected[:1]  # one account per consent [C T-faq]
    assert [a.get("iban") for a in listed] == [a["iban"] for a in expected]
    account = listed[0]
    balances = client.get(f"{client.ais}/accounts/{account['resourceId']}/balances", psu_ip="192.0.2.10")
    check(client.bank, "/v1/accounts/{account-id}/balances", "GET", balances)
    kinds = [b["balanceType"] for b in balances.json()["balances"]]
    assert kinds == (["interimAvailable"] if client.bank in VOLKSBANK else ["closingBooked", "expected"])
    rows, pages = _all_transactions(client, account["resourceId"])
    info = next(a for a in bank_sandbox.accounts(client.bank) if a["iban"] == account["iban"])
    assert len(rows) == info["booked"] and pages > 1
    identities = [r.get("transactionId") or r["entryReference"] for r in rows]
    assert len(set(identities)) == len(rows)
    structured = [r["remittanceInformationStructured"] for r in rows if "remittanceInformationStructured" in r]
    assert structured, "the demo data has betalingskenmerken"
    if client.bank in VOLKSBANK:
        assert all(isinstance(r["bankTransactionCode"], int) for r in rows)
        assert all(re.fullmatch(r"\d{8}-\d{8}", r["entryReference"]) for r in rows)
        assert {s["referenceIssuer"] for s in structured} <= {"CUR", "ISO"}
    if client.bank == "knab":
        assert all(isinstance(s, str) for s in structured)  # a plain string [I Y-knab]
        assert all("transactionDate" in r for r in rows)
    if client.bank == "triodos":
        assert all(not r["transactionAmount"]["amount"].startswith("-") for r in rows)  # unsigned [I Y-tri]
        assert any("debtorName" in r for r in rows) and any("creditorName" in r for r in rows)


@pytest.mark.parametrize("linked", BANKS, indirect=True)
def test_consent_status_and_delete(linked):
    client = linked
    status = client.consent_call("GET", "/status")
    assert status.status_code == 200 and status.json()["consentStatus"] == "valid"
    if client.bank not in VOLKSBANK:
        check(client.bank, "/v1/consents/{consentId}/status", "GET", status)
        details = client.consent_call("GET")
        check(client.bank, "/v1/consents/{consentId}", "GET", details)
        assert details.json()["access"]["accounts"]
    assert client.consent_call("DELETE").status_code == 204
    assert client.consent_call("GET", "/status").json()["consentStatus"] == "terminatedByTpp"
    refused = client.get(client.ais + "/accounts")
    assert refused.status_code == 401 and error_code(client.bank, refused) == "CONSENT_INVALID"
    check(client.bank, "/v1/accounts", "GET", refused)


@pytest.mark.parametrize("linked", BANKS, indirect=True)
@pytest.mark.parametrize("fault, code", [("expire_consent", "CONSENT_EXPIRED"), ("revoke_consent", "CONSENT_INVALID")])
def test_consent_ended_at_the_bank(linked, bank_sandbox, fault, code):
    client = linked
    bank_sandbox.set_faults({"bank": client.bank, "path": "*/accounts", "error": fault})
    refused = client.get(client.ais + "/accounts")
    assert refused.status_code == 401 and error_code(client.bank, refused) == code
    check(client.bank, "/v1/accounts", "GET", refused)
    # The refresh token died with the consent.
    again = client.token(grant_type="refresh_token", refresh_token=client.tokens["refresh_token"],
                         **({"redirect_uri": REDIRECT} if client.bank in VOLKSBANK else {}))
    assert again.status_code == 400


@pytest.mark.parametrize("linked", BANKS, indirect=True)
def test_faults_401_429_5xx(linked, bank_sandbox):
    client = linked
    bank_sandbox.set_faults({"bank": client.bank, "path": "*/accounts", "error": "429", "retry_after": 3},
                            {"bank": client.bank, "path": "*/accounts", "error": "503"},
                            {"bank": client.bank, "path": "*/accounts", "error": "401"})
    limited = client.get(client.ais + "/accounts")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    assert error_code(client.bank, limited) == "ACCESS_EXCEEDED"
    if client.bank not in VOLKSBANK:  # de Volksbank's Swagger declares no 429/503
        check(client.bank, "/v1/accounts", "GET", limited)
    unavailable = client.get(client.ais + "/accounts")
    assert unavailable.status_code == 503
    unauthorised = client.get(client.ais + "/accounts")
    assert unauthorised.status_code == 401
    check(client.bank, "/v1/accounts", "GET", unauthorised)
    assert client.get(client.ais + "/accounts").status_code == 200


@pytest.mark.parametrize("linked", SIGNING, indirect=True)
def test_unattended_access_is_limited_to_four_a_day(linked, bank_sandbox):
    """No PSU-IP-Address: the RTS 4-a-day rule per account; with it (the user is present): no limit."""
    client = linked
    account = client.get(client.ais + "/accounts").json()["accounts"][0]["resourceId"]
    path = f"{client.ais}/accounts/{account}/transactions"
    params = {"bookingStatus": "booked", "dateFrom": datetime.date.today().isoformat()}
    for _ in range(4):
        assert client.get(path, params=params).status_code == 200
    exceeded = client.get(path, params=params)
    assert exceeded.status_code == 429 and error_code(client.bank, exceeded) == "ACCESS_EXCEEDED"
    check(client.bank, "/v1/accounts/{account-id}/transactions", "GET", exceeded)
    assert client.get(path, params=params, psu_ip="192.0.2.10").status_code == 200


@pytest.mark.parametrize("linked", BANKS, indirect=True)
def test_consent_id_and_request_id_are_checked(linked, bank_sandbox):
    client = linked
    missing = client.get(client.ais + "/accounts", drop=("Consent-ID",))
    assert missing.status_code == 400 and error_code(client.bank, missing) == "FORMAT_ERROR"
    wrong = client.get(client.ais + "/accounts", consent_id="0" * 24)
    assert wrong.status_code == 401 and error_code(client.bank, wrong) == "CONSENT_INVALID"
    no_id = client.get(client.ais + "/accounts", drop=("X-Request-ID",))
    assert no_id.status_code == 400
    no_cert = client.get(client.ais + "/accounts", cert=None)
    assert no_cert.status_code == 401


@pytest.mark.parametrize("bank", BANKS)
def test_consent_needs_psu_ip_address_and_validates(bank_sandbox, bank):
    client = NgClient(bank_sandbox, bank)
    if bank == "triodos":
        client.register()
    if bank == "knab":
        client.application_token()
    refused = client.create_consent(psu_ip=None)
    assert refused.status_code == 400
    created = client.create_consent()
    assert created.status_code == 201, created.text
    if bank in VOLKSBANK:
        check(bank, "/v1/consents", "POST", created)
        assert created.headers["ASPSP-SCA-Approach"] == "REDIRECT"
    else:
        check(bank, "/v1/consents", "POST", created)
    page = client.send("GET", client.authorize_url(created.json()), cert=None)
    assert page.status_code == 200 and 'lang="nl"' in page.text and "Toestemming geven" in page.text


@pytest.mark.parametrize("bank", SIGNING)
def test_signature_is_required(bank_sandbox, bank):
    client = NgClient(bank_sandbox, bank)
    if bank == "triodos":
        client.register()
    else:
        client.application_token()
    assert client.create_consent(drop=("Signature",)).status_code == 400
    bad = client.create_consent(tamper="signature")
    assert bad.status_code == 401 and bad.json()["tppMessages"][0]["code"] == "SIGNATURE_INVALID"


def test_knab_consent_needs_the_application_token(bank_sandbox):
    client = NgClient(bank_sandbox, "knab")
    refused = client.create_consent()
    assert refused.status_code == 401
    client.application_token()
    consent, tokens = client.link()
    assert tokens["scope"] == f"psd2 offline_access AIS:{consent['consentId']}"
    refreshed = client.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 200 and "refresh_token" not in refreshed.json()


def test_triodos_pkce_single_account_and_history(bank_sandbox):
    client = NgClient(bank_sandbox, "triodos")
    client.register()
    consent = client.create_consent().json()
    callback = bank_sandbox.approve_nextgenpsd2("triodos", client.authorize_url(consent))
    code = bank_sandbox.query_of(callback)["code"]
    wrong = client.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier="x" * 50)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    # Two accounts at once: refused on the page.
    consent = client.create_consent().json()
    ibans = [a["iban"] for a in bank_sandbox.accounts("triodos")]
    with pytest.raises(AssertionError, match="één rekening"):
        bank_sandbox.approve_nextgenpsd2("triodos", client.authorize_url(consent), ibans)
    client.link()
    account = client.get(client.ais + "/accounts").json()["accounts"][0]
    first, _ = _all_transactions(client, account["resourceId"])
    second, _ = _all_transactions(client, account["resourceId"])
    cutoff = (datetime.date.today() - datetime.timedelta(days=91)).isoformat()
    assert min(r["bookingDate"] for r in first) < cutoff  # full history on the first request [C T-faq]
    assert min(r["bookingDate"] for r in second) >= cutoff  # then silently 90 days
    # The link's hrefs are relative to /xs2a-bg [I Y-tri].
    assert account["_links"]["transactions"]["href"].startswith("/nl/v1/accounts/")


@pytest.mark.parametrize("bank", VOLKSBANK)
def test_volksbank_client_id_query_token_and_brands(bank_sandbox, bank):
    client = NgClient(bank_sandbox, bank)
    client.client_id = "Bearer " + client.client_id
    assert client.create_consent().status_code == 401
    client = NgClient(bank_sandbox, bank)
    client.link()
    # The token endpoint reads the query string only [I Y-vb]: a form body is not enough.
    form = client.send("POST", client.auth + "/token", body={"grant_type": "refresh_token",
                                                              "refresh_token": client.tokens["refresh_token"]},
                       auth=(client.client_id, client.client_secret))
    assert form.status_code == 400
    refreshed = client.token(grant_type="refresh_token", refresh_token=client.tokens["refresh_token"],
                             redirect_uri=REDIRECT)
    assert refreshed.status_code == 200 and refreshed.json()["expires_in"] == 600
    # One registration serves the three brands, but a consent stays with its brand.
    other = NgClient(bank_sandbox, next(b for b in VOLKSBANK if b != bank))
    answer = other.get(other.ais + "/accounts", access_token=client.tokens["access_token"],
                       consent_id=client.consent_id)
    assert answer.status_code == 401


# ------------------------------------------------------------------ payments (PIS)
PAYING = ("knab", "asn", "sns", "regiobank")


def payment_body(client, **changes):
    own = client.sb.accounts(client.bank)[0]["iban"]
    return {"instructedAmount": {"currency": "EUR", "amount": "418.60"},
            "debtorAccount": {"iban": own, "currency": "EUR"},
            "creditorAccount": {"iban": "NL91ABNA0417164300", "currency": "EUR"},
            "creditorName": "Groothandel Meel B.V.", "endToEndIdentification": "KOR-2026-0001",
            "remittanceInformationUnstructured": "Factuur 2026-0117", **changes}


def check_payment(bank, response, status=False):
    if bank in VOLKSBANK:
        if status:
            return validate("volksbank-pis-status", "/v1.1/payments/sepa-credit-transfers/{payment-id}/status",
                            "GET", response.status_code, response.json())
        return validate("volksbank-pis", "/v1/payments/sepa-credit-transfers", "POST", response.status_code,
                        response.json())
    path = "/v1/{payment-service}/{payment-product}" + ("/{paymentId}/status" if status else "")
    return validate("berlingroup", path, "GET" if status else "POST", response.status_code, response.json())


@pytest.mark.parametrize("bank", PAYING)
def test_single_credit_transfer_approved_executed_and_booked(bank_sandbox, bank):
    client = NgClient(bank_sandbox, bank)
    if bank == "knab":
        client.application_token()
    created = client.initiate_payment(payment_body(client))
    assert created.status_code == 201, created.text
    check_payment(bank, created)
    answer = created.json()
    assert answer["transactionStatus"] == "RCVD"
    sca = answer["_links"]["scaRedirect" if bank == "knab" else "scaOAuth"]["href"]
    assert sca.startswith("https://")
    status = client.payment_status(answer["paymentId"])
    assert status.status_code == 200, status.text
    check_payment(bank, status, status=True)
    # The account holder signs with the TAN on the bank's Dutch page; back to the TPP.
    page = client.send("GET", sca, cert=None)
    assert page.status_code == 200 and 'lang="nl"' in page.text and "418,60" in page.text
    assert bank_sandbox.approve_payment(sca) == REDIRECT
    assert client.payment_status(answer["paymentId"]).json()["transactionStatus"] == "ACCP"
    bank_sandbox.advance_payment(answer["paymentId"], to="executed")
    executed = client.payment_status(answer["paymentId"])
    check_payment(bank, executed, status=True)
    assert executed.json()["transactionStatus"] == "ACSC"
    assert bank_sandbox.payment(answer["paymentId"])["bank_status"] == "ACSC"


@pytest.mark.parametrize("bank", PAYING)
def test_payment_initiation_is_checked(bank_sandbox, bank):
    client = NgClient(bank_sandbox, bank)
    if bank == "knab":
        assert client.initiate_payment(payment_body(client), authorization="Bearer nope").status_code == 401
        client.application_token()
        assert client.initiate_payment(payment_body(client), drop=("Signature",)).status_code == 400
        # Knab wants the debtor account [I Y-knab].
        assert client.initiate_payment(payment_body(client, debtorAccount=None)).status_code == 400
    else:
        assert client.initiate_payment(payment_body(client), authorization="Bearer " + client.client_id).status_code == 401
        # de Volksbank: the debtor account may be left out [C V-swagger]; chosen on the page.
        assert client.initiate_payment(payment_body(client, debtorAccount=None)).status_code == 201
    assert client.initiate_payment(payment_body(client), psu_ip=None).status_code == 400
    assert client.initiate_payment(payment_body(client, creditorName="")).status_code == 400
    wrong = payment_body(client, instructedAmount={"currency": "EUR", "amount": "1.001"})
    assert client.initiate_payment(wrong).status_code == 400
    # The sandbox only (the banks want https): http on this machine, never another host.
    assert client.initiate_payment(payment_body(client), redirect="http://127.0.0.1:8069/x").status_code == 201
    assert client.initiate_payment(payment_body(client), redirect="http://tpp.example/x").status_code == 400
    assert client.payment_status("0" * 8 + "-0000-0000-0000-" + "0" * 12).status_code == 404


def test_triodos_offers_no_payment_interface_here(bank_sandbox):
    # NOTES-triodos.md describes no PIS: the sandbox has none, the addon offers the file.
    client = NgClient(bank_sandbox, "triodos")
    client.register()
    answer = client.send("POST", client.api + "/v1/payments/sepa-credit-transfers",
                         client.signed("consent", b"{}", {"Content-Type": "application/json"}), b"{}")
    assert answer.status_code == 404


@pytest.mark.parametrize("bank", ("knab", "asn"))
def test_consent_redirect_over_http_only_on_this_machine(bank_sandbox, bank):
    """Sandbox only: an Odoo on this machine over http (the demo) may be the redirect URI."""
    client = NgClient(bank_sandbox, bank)
    if bank == "knab":
        client.application_token()
    consent = client.create_consent().json()
    url = client.authorize_url(consent)
    local = url.replace(urllib.parse.quote(REDIRECT, safe=""), urllib.parse.quote("http://127.0.0.1:8069/cb", safe=""))
    foreign = url.replace(urllib.parse.quote(REDIRECT, safe=""), urllib.parse.quote("http://tpp.example/cb", safe=""))
    assert client.send("GET", foreign, cert=None).status_code == 400
    assert client.send("GET", local, cert=None).status_code == 200
