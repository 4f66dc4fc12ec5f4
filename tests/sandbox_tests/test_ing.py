"""ING as the sandbox plays it: mTLS, HTTP Signatures, consent, AIS v3, errors."""

import datetime
import urllib.parse

import pytest
import requests
from refclient import AIS_SCOPE, IngClient, digest_of, load_key
from schemas import validate

TOKEN = "/oauth2/token"
ERROR = "#/components/schemas/Error"


def _today(sb):
    return datetime.date.fromisoformat(sb.info()["today"])


@pytest.fixture
def ing(bank_sandbox):
    return IngClient(bank_sandbox)


@pytest.fixture
def consented(ing):
    tokens = ing.consent()
    return ing, tokens


# ------------------------------------------------------------------ application token

def test_application_token_answer_matches_spec(ing):
    response = ing.application_token_request()
    assert response.status_code == 200, response.text
    validate("ing-oauth", TOKEN, "post", 200, response.json())
    assert response.json()["client_id"]


def test_token_endpoint_refuses_request_without_client_certificate(ing):
    response = ing.application_token_request(cert=None)
    assert response.status_code == 401
    validate("ing-oauth", TOKEN, "post", 400, response.json(), schema_ref=ERROR)


def test_tls_refuses_client_certificate_of_other_ca(ing, bank_sandbox):
    with pytest.raises(requests.exceptions.SSLError):
        ing.application_token_request(cert=bank_sandbox.certs.other_client)


def test_wrong_digest_is_refused(ing):
    response = ing.application_token_request(digest=digest_of(b"grant_type=something_else"))
    assert response.status_code == 400
    assert "Digest" in response.json()["message"]
    validate("ing-oauth", TOKEN, "post", 400, response.json())


def test_body_changed_after_signing_is_refused(ing):
    response = ing.application_token_request(body=b"grant_type=client_credentials&scope=x",
                                             signed_body=b"grant_type=client_credentials")
    assert response.status_code == 400


def test_signature_by_wrong_key_is_refused(ing, bank_sandbox):
    response = ing.application_token_request(key=load_key(bank_sandbox.certs.other_signing_key))
    assert response.status_code == 401
    assert "verification failed" in response.json()["message"]
    validate("ing-oauth", TOKEN, "post", 400, response.json(), schema_ref=ERROR)


def test_missing_signing_certificate_is_refused(ing):
    response = ing.application_token_request(cert_header=None)
    assert response.status_code == 401
    assert "TPP-Signature-Certificate" in response.json()["message"]


def test_signing_certificate_of_other_ca_is_refused(bank_sandbox):
    rogue = IngClient(bank_sandbox, signing_cert=bank_sandbox.certs.other_signing_cert,
                      signing_key=bank_sandbox.certs.other_signing_key)
    response = rogue.application_token_request()
    assert response.status_code == 401
    assert "trusted CA" in response.json()["message"]


def test_key_id_must_name_the_certificate_serial(ing):
    response = ing.application_token_request(key_id="SN=1234ABCD")
    assert response.status_code == 401
    assert "serial" in response.json()["message"]


def test_stale_date_is_refused(ing):
    response = ing.application_token_request(date="Mon, 02 Jan 2023 10:00:00 GMT")
    assert response.status_code == 401
    assert "Date" in response.json()["message"]


def test_one_line_pem_with_markers_and_bare_base64_are_both_accepted(ing, bank_sandbox):
    with open(bank_sandbox.certs.ing_signing_cert) as handle:
        lines = [line.strip() for line in handle if line.strip()]
    bare = "".join(line for line in lines if not line.startswith("-----"))
    assert ing.application_token_request(cert_header=bare).status_code == 200
    assert ing.application_token_request().status_code == 200


# ------------------------------------------------------------------ consent

def test_authorization_server_url_answer_matches_spec(ing, bank_sandbox):
    ing.get_application_token()
    url, response = ing.authorization_url()
    validate("ing-oauth", "/oauth2/authorization-server-url", "get", 200, response.json())
    location = response.json()["location"]
    assert location.startswith(bank_sandbox.ing_url + "/granting/") and location.endswith("/NL")


def test_authorization_server_url_needs_signature(ing):
    ing.get_application_token()
    query = urllib.parse.urlencode({"scope": AIS_SCOPE})
    response = ing.signed("GET", "/oauth2/authorization-server-url?" + query, ing.app_token,
                          request_id=False, tamper="signature")
    assert response.status_code == 401


def test_consent_page_shows_accounts_and_greys_out_ineligible_ones(ing, bank_sandbox):
    ing.get_application_token()
    url, _ = ing.authorization_url()
    page = requests.get(url, verify=bank_sandbox.certs.ca, timeout=30)
    assert page.status_code == 200
    html = page.text
    assert "Toestemming geven" in html and "#ff6200" in html
    accounts = bank_sandbox.accounts("ing")
    for account in accounts:
        assert account["resourceId"] in html
    ineligible = [a for a in accounts if not a["eligible"]]
    assert len(ineligible) == 3
    assert html.count(" disabled>") == 3
    assert "Spaarrekeningen" in html and "vreemde valuta" in html and "privérekening" in html


def test_consent_page_refuses_ineligible_account_and_wrong_tan(ing, bank_sandbox):
    ing.get_application_token()
    url, _ = ing.authorization_url()
    browser = requests.Session()
    page = browser.get(url, verify=bank_sandbox.certs.ca, timeout=30)
    session = page.text.split('name="session" value="')[1].split('"')[0]
    savings = next(a for a in bank_sandbox.accounts("ing") if a["kind"] == "savings")
    answer = browser.post(url, data={"session": session, "step": "accounts", "action": "approve",
                                     "accounts": [savings["resourceId"]]}, verify=bank_sandbox.certs.ca)
    assert answer.status_code == 400 and "niet gekoppeld" in answer.text
    current = next(a for a in bank_sandbox.accounts("ing") if a["eligible"])
    answer = browser.post(url, data={"session": session, "step": "accounts", "action": "approve",
                                     "accounts": [current["resourceId"]]}, verify=bank_sandbox.certs.ca)
    assert answer.status_code == 200 and "Sandbox-TAN: <strong>123456</strong>" in answer.text
    answer = browser.post(url, data={"session": session, "step": "tan", "action": "approve", "tan": "000000"},
                          verify=bank_sandbox.certs.ca, allow_redirects=False)
    assert answer.status_code == 400 and "Onjuiste code" in answer.text


def test_cancel_redirects_with_access_denied_and_state(ing, bank_sandbox):
    ing.get_application_token()
    url, _ = ing.authorization_url(state="keep-me")
    callback = bank_sandbox.cancel_consent("ing", url)
    assert callback.startswith("https://tpp.example/callback?")
    assert bank_sandbox.query_of(callback) == {"error": "access_denied", "state": "keep-me"}


def test_code_exchange_gives_tokens_matching_spec_and_code_is_single_use(ing, bank_sandbox):
    ing.get_application_token()
    url, _ = ing.authorization_url(state="s1")
    callback = bank_sandbox.approve_ing(url)
    query = bank_sandbox.query_of(callback)
    assert query["state"] == "s1"
    response = ing.token_request(grant_type="authorization_code", code=query["code"],
                                 redirect_uri="https://tpp.example/callback")
    assert response.status_code == 200, response.text
    tokens = response.json()
    validate("ing-oauth", TOKEN, "post", 200, tokens)
    assert tokens["expires_in"] == 900 and tokens["refresh_token"]
    again = ing.token_request(grant_type="authorization_code", code=query["code"])
    assert again.status_code == 400
    validate("ing-oauth", TOKEN, "post", 400, again.json())
    # A replayed code revokes what it produced (RFC 6749 4.1.2).
    assert ing.get("/v3/accounts", tokens["access_token"]).status_code == 401


def test_code_exchange_needs_application_token_of_same_client(ing, bank_sandbox):
    ing.get_application_token()
    url, _ = ing.authorization_url()
    code = bank_sandbox.query_of(bank_sandbox.approve_ing(url))["code"]
    body = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code}).encode()
    response = ing.signed("POST", TOKEN, "not-a-token", body, request_id=False)
    assert response.status_code == 401


# ------------------------------------------------------------------ refresh and revoke

def test_refresh_sometimes_omits_refresh_token_and_rotated_one_is_refused(consented):
    ing, tokens = consented
    first = ing.token_request(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert first.status_code == 200, first.text
    validate("ing-oauth", TOKEN, "post", 200, first.json())
    newer = first.json()["refresh_token"]
    reuse = ing.token_request(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert reuse.status_code == 400
    second = ing.token_request(grant_type="refresh_token", refresh_token=newer)
    assert second.status_code == 200
    assert "refresh_token" not in second.json()  # keep using `newer`
    third = ing.token_request(grant_type="refresh_token", refresh_token=newer)
    assert third.status_code == 200
    assert ing.get("/v3/accounts", third.json()["access_token"]).status_code == 200
    notes = [e.get("note") for e in ing.sb.log("ing")]
    assert notes.count("refresh_token_reused") == 1


def test_revoke_ends_the_consent(consented):
    ing, tokens = consented
    body = urllib.parse.urlencode({"token": tokens["refresh_token"], "token_type_hint": "refresh_token"}).encode()
    response = ing.signed("POST", "/oauth2/token/revoke", ing.app_token, body, request_id=False)
    assert response.status_code == 200
    refused = ing.token_request(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refused.status_code == 400
    assert ing.get("/v3/accounts", tokens["access_token"]).status_code == 401


def test_access_token_really_expires(consented):
    ing, tokens = consented
    assert ing.get("/v3/accounts", tokens["access_token"]).status_code == 200
    ing.sb.advance_clock(tokens["expires_in"] + 1)
    response = ing.get("/v3/accounts", tokens["access_token"])
    assert response.status_code == 401
    validate("ing-ais", "/v3/accounts", "get", 401, response.json())


# ------------------------------------------------------------------ AIS

def test_accounts_lists_only_consented_accounts_and_matches_spec(ing, bank_sandbox):
    current = [a for a in bank_sandbox.accounts("ing") if a["eligible"]]
    tokens = ing.consent(ibans=[current[1]["iban"]])
    response = ing.get("/v3/accounts", tokens["access_token"])
    assert response.status_code == 200
    validate("ing-ais", "/v3/accounts", "get", 200, response.json())
    assert [a["iban"] for a in response.json()["accounts"]] == [current[1]["iban"]]
    assert response.headers["X-Request-ID"]
    other = current[0]["resourceId"]
    refused = ing.get(f"/v3/accounts/{other}/balances", tokens["access_token"])
    assert refused.status_code == 404
    validate("ing-ais", "/v3/accounts/{account-id}/balances", "get", 404, refused.json())
    assert refused.json()["tppMessages"][0]["code"] == "RESOURCE_UNKNOWN"


def test_balances_match_spec_and_booked_balance(consented):
    ing, tokens = consented
    account = ing.sb.accounts("ing")[0]
    response = ing.get(f"/v3/accounts/{account['resourceId']}/balances", tokens["access_token"])
    assert response.status_code == 200
    validate("ing-ais", "/v3/accounts/{account-id}/balances", "get", 200, response.json())
    by_type = {b["balanceType"]: b["balanceAmount"]["amount"] for b in response.json()["balances"]}
    assert by_type["interimBooked"] == pytest.approx(account["balance"])
    assert set(by_type) == {"closingBooked", "interimBooked", "expected"}


def _all_pages(ing, token, first_path):
    pages, path = [], first_path
    while path:
        response = ing.get(path, token)
        assert response.status_code == 200, response.text
        validate("ing-ais", "/v3/accounts/{account-id}/transactions", "get", 200, response.json())
        pages.append(response)
        path = response.json()["transactions"].get("_links", {}).get("next", {}).get("href")
    return pages


def test_transactions_paginate_without_gaps_newest_first(consented):
    ing, tokens = consented
    account = ing.sb.accounts("ing")[0]
    date_from = (_today(ing.sb) - datetime.timedelta(days=500)).isoformat()
    first = f"/v3/accounts/{account['resourceId']}/transactions?dateFrom={date_from}&limit=100"
    pages = _all_pages(ing, tokens["access_token"], first)
    booked = [t for p in pages for t in p.json()["transactions"]["booked"]]
    ids = [t["transactionId"] for t in booked]
    assert len(pages) == -(-account["booked"] // 100)
    assert len(ids) == len(set(ids)) == account["booked"]
    keys = [(t["bookingDate"], t["executionDateTime"]) for t in booked]
    assert keys == sorted(keys, reverse=True)
    assert "?next=" in pages[0].json()["transactions"]["_links"]["next"]["href"]


def test_pending_transactions_exist_on_first_page_only_without_booking_date(consented):
    ing, tokens = consented
    account = ing.sb.accounts("ing")[0]
    pages = _all_pages(ing, tokens["access_token"],
                       f"/v3/accounts/{account['resourceId']}/transactions?limit=5&dateFrom="
                       + (_today(ing.sb) - datetime.timedelta(days=3)).isoformat())
    pending = pages[0].json()["transactions"]["pending"]
    assert len(pending) == account["pending"] >= 1
    assert all("bookingDate" not in t for t in pending)
    assert all(p.json()["transactions"]["pending"] == [] for p in pages[1:])


def test_transactions_added_between_pages_are_neither_lost_nor_repeated(consented):
    ing, tokens = consented
    account = ing.sb.accounts("ing")[1]
    today = _today(ing.sb)
    start = f"/v3/accounts/{account['resourceId']}/transactions?limit=10&dateFrom=" \
            + (today - datetime.timedelta(days=60)).isoformat()
    first = ing.get(start, tokens["access_token"]).json()["transactions"]
    older = (today - datetime.timedelta(days=50)).isoformat()
    ing.sb.add_transactions("ing", account["iban"], [
        {"booking_date": older, "amount": "77.70", "counterparty_name": "Late Booking BV",
         "counterparty_iban": "NL91ABNA0417164300", "description": "Factuur 2026-9999", "id": "LATE0001"}])
    rest = _all_pages(ing, tokens["access_token"], first["_links"]["next"]["href"])
    ids = [t["transactionId"] for t in first["booked"]] + [
        t["transactionId"] for p in rest for t in p.json()["transactions"]["booked"]]
    assert len(ids) == len(set(ids))
    assert "LATE0001" in ids


def test_old_date_from_is_adjusted_and_announced(consented):
    ing, tokens = consented
    account = ing.sb.accounts("ing")[0]
    response = ing.get(f"/v3/accounts/{account['resourceId']}/transactions?dateFrom=2015-01-01&limit=1",
                       tokens["access_token"])
    assert response.status_code == 200
    adjusted = response.headers["X-ING-AIS-ADJUSTED-DATEFROM"]
    assert adjusted == (_today(ing.sb) - datetime.timedelta(days=730)).isoformat() + "T00:00:00Z"
    assert response.headers["X-ING-AIS-TRANSACTION-VALIDITY-PERIOD"] == "730"
    recent = ing.get(f"/v3/accounts/{account['resourceId']}/transactions?limit=1", tokens["access_token"])
    assert "X-ING-AIS-ADJUSTED-DATEFROM" not in recent.headers


@pytest.mark.parametrize("query, status, code", [
    ("dateFrom=2999-01-01", 400, "PERIOD_INVALID"),
    ("dateFrom=2026-02-30", 400, "FORMAT_ERROR"),
    ("dateFrom=2026-01-01T10:00:00", 400, "FORMAT_ERROR"),  # no Z: not UTC
    ("limit=zero", 400, "FORMAT_ERROR"),
    ("next=UNKNOWN", 400, "FORMAT_ERROR"),
])
def test_bad_transaction_queries_answer_tpp_messages(consented, query, status, code):
    ing, tokens = consented
    account = ing.sb.accounts("ing")[0]
    response = ing.get(f"/v3/accounts/{account['resourceId']}/transactions?{query}", tokens["access_token"])
    assert response.status_code == status
    validate("ing-ais", "/v3/accounts/{account-id}/transactions", "get", status, response.json())
    assert response.json()["tppMessages"][0]["code"] == code


def test_date_to_before_date_from_is_period_invalid(consented):
    ing, tokens = consented
    account = ing.sb.accounts("ing")[0]
    response = ing.get(f"/v3/accounts/{account['resourceId']}/transactions?dateFrom=2026-03-01&dateTo=2026-02-01",
                       tokens["access_token"])
    assert response.status_code == 400
    assert response.json()["tppMessages"][0]["code"] == "PERIOD_INVALID"


def test_ais_call_without_signature_or_with_bad_one_is_refused(consented):
    ing, tokens = consented
    bad = ing.get("/v3/accounts", tokens["access_token"], tamper="signature")
    assert bad.status_code == 401
    validate("ing-ais", "/v3/accounts", "get", 401, bad.json())
    unsigned_request_id = ing.get("/v3/accounts", tokens["access_token"], request_id=False)
    assert unsigned_request_id.status_code == 400


def test_ais_call_without_client_certificate_is_refused(consented):
    ing, tokens = consented
    response = ing.get("/v3/accounts", tokens["access_token"], cert=None)
    assert response.status_code == 401
    validate("ing-ais", "/v3/accounts", "get", 401, response.json())


def test_transaction_content_is_realistic(consented):
    ing, tokens = consented
    account = ing.sb.accounts("ing")[0]
    date_from = (_today(ing.sb) - datetime.timedelta(days=400)).isoformat()
    pages = _all_pages(ing, tokens["access_token"],
                       f"/v3/accounts/{account['resourceId']}/transactions?dateFrom={date_from}&limit=100")
    booked = [t for p in pages for t in p.json()["transactions"]["booked"]]
    types = {t["transactionType"] for t in booked}
    assert {"Overschrijving", "Betaalautomaat", "iDEAL", "Incasso", "Diversen"} <= types
    remittances = " ".join(t.get("remittanceInformationUnstructured", "") for t in booked)
    assert "Kosten Zakelijk Betalingsverkeer" in remittances and "<br>" in remittances
    structured = [t["remittanceInformationStructured"] for t in booked if "remittanceInformationStructured" in t]
    assert any("type" in s for s in structured) and any("referenceType" in s for s in structured)
    assert any(t.get("creditorName") == "Belastingdienst" for t in booked)
    assert any(t["endToEndId"] == "NOTPROVIDED" for t in booked)
