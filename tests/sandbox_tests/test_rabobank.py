"""Rabobank in the sandbox, checked against ../shared/specs/rabobank/NOTES.md and
examples-from-yolt-stubs.json (field names and shapes of the recorded answers)."""

import datetime
import json
from pathlib import Path

import pytest
import requests
from refclient import RaboClient

SPECS = Path(__file__).resolve().parents[2] / ".." / "shared" / "specs" / "rabobank"
EXAMPLES_FILE = SPECS / "examples-from-yolt-stubs.json"
# NOTES.md section 6, "Transaction fields".
NOTES_TRANSACTION_FIELDS = {
    "entryReference", "endToEndId", "mandateId", "creditorId", "bookingDate", "valueDate", "transactionAmount",
    "creditorAccount", "creditorName", "creditorAgent", "debtorAccount", "debtorName", "debtorAgent",
    "ultimateCreditor", "ultimateDebtor", "remittanceInformationUnstructured", "remittanceInformationStructured",
    "purposeCode", "instructedAmount", "currencyExchange", "initiatingPartyName",
    "paymentInformationIdentification", "numberOfTransactions", "reasonCode", "raboBookingDateTime",
    "raboDetailedTransactionType", "raboTransactionTypeName"}


def _examples():
    if not EXAMPLES_FILE.exists():
        pytest.skip("the Rabobank examples (../shared/specs/rabobank) are not on this machine")
    return json.loads(EXAMPLES_FILE.read_text())["examples"]


def example(method, path_end, status=200, query_has=None):
    for item in _examples():
        if (item["method"] == method and item["path"].endswith(path_end) and item["status"] == status
                and (query_has is None or query_has in (item["query"] or {}))):
            return item["responseBody"]
    raise AssertionError(f"no example {method} {path_end} {status}")


@pytest.fixture
def rabo(bank_sandbox):
    return RaboClient(bank_sandbox)


def eligible(sb):
    return [a for a in sb.accounts("rabobank") if a["eligible"]]


def all_booked(rabo, token, resource_id, params):
    """Follow transactions._links.next to the end; the hrefs are relative to the AIS base."""
    pages, rows = 0, []
    response = rabo.ais_get(f"/accounts/{resource_id}/transactions", token, params=params)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()["transactions"]
        rows.extend(body["booked"])
        pages += 1
        following = body["_links"].get("next")
        if not following:
            return rows, pages
        assert following["href"].startswith(f"/accounts/{resource_id}/transactions?")
        response = rabo.ais_get(following["href"], token)


# ------------------------------------------------------------------ OAuth
def test_token_answer_has_the_fields_and_lifetimes_of_rabobanks_token_stub(rabo):
    token = rabo.consent()
    stub = example("POST", "/oauth2/token")
    assert set(token) == set(stub)
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["refresh_token_expires_in"] == 2592000
    assert token["metadata"].startswith("a:consentId ")
    assert set(token["scope"].split()) == set(rabo.scope.split())


def test_consent_page_is_rabobanks_in_dutch_with_the_scopes_explained(rabo):
    page = requests.get(rabo.authorize_url(), verify=rabo.sb.certs.ca, timeout=30)
    assert page.status_code == 200
    assert "Rabobank" in page.text and 'lang="nl"' in page.text
    assert "Eenmalig de volledige transactiehistorie bekijken" in page.text
    savings = next(a for a in rabo.sb.accounts("rabobank") if not a["eligible"])
    assert f'value="{savings["resourceId"]}" disabled' in page.text


def test_unknown_scope_or_client_is_refused_on_the_page(rabo):
    bad_scope = requests.get(rabo.authorize_url(scope="ais.everything"), verify=rabo.sb.certs.ca, timeout=30)
    assert bad_scope.status_code == 400 and "scope" in bad_scope.text


def test_cancel_on_the_page_returns_access_denied(rabo):
    callback = rabo.sb.cancel_consent("rabobank", rabo.authorize_url(state="x1"))
    query = rabo.sb.query_of(callback)
    assert query == {"error": "access_denied", "state": "x1"}


def test_token_endpoint_needs_basic_auth_and_the_client_certificate(rabo):
    callback = rabo.sb.approve_rabobank(rabo.authorize_url())
    code = rabo.sb.query_of(callback)["code"]
    wrong_secret = rabo.token_request(secret="wrong", grant_type="authorization_code", code=code)
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    no_cert = rabo.token_request(cert=None, grant_type="authorization_code", code=code)
    assert no_cert.status_code == 401
    good = rabo.token_request(grant_type="authorization_code", code=code)
    assert good.status_code == 200
    again = rabo.token_request(grant_type="authorization_code", code=code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_refresh_gives_new_tokens_without_metadata_and_spends_the_old_refresh_token(rabo):
    token = rabo.consent()
    refreshed = rabo.token_request(grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert refreshed.status_code == 200
    body = refreshed.json()
    assert set(body) == set(example("POST", "/oauth2/token")) - {"metadata"}
    assert body["refresh_token"] != token["refresh_token"]
    reused = rabo.token_request(grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    accounts = rabo.ais_get("/accounts", body["access_token"])
    assert accounts.status_code == 200


def test_access_token_lasts_an_hour_refresh_token_30_days(rabo):
    token = rabo.consent()
    rabo.sb.advance_clock(3601, calendar=False)
    expired = rabo.ais_get("/accounts", token["access_token"])
    assert expired.status_code == 401
    assert set(expired.json()) == set(example("GET", "/ais/accounts", 401))
    rabo.sb.advance_clock(30 * 86400, calendar=False)
    late = rabo.token_request(grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


def test_consent_ends_after_180_days_even_with_fresh_refresh_tokens(rabo):
    token = rabo.consent()
    refresh = token["refresh_token"]
    for _ in range(6):  # 6 x 29 days = 174 days: every refresh inside its 30 days
        rabo.sb.advance_clock(29 * 86400, calendar=False)
        answer = rabo.token_request(grant_type="refresh_token", refresh_token=refresh)
        assert answer.status_code == 200, answer.text
        refresh = answer.json()["refresh_token"]
    assert answer.json()["refresh_token_expires_in"] <= 6 * 86400 + 1
    rabo.sb.advance_clock(7 * 86400, calendar=False)
    answer = rabo.token_request(grant_type="refresh_token", refresh_token=refresh)
    assert answer.status_code == 400


# ------------------------------------------------------------------ accounts and balances
def test_accounts_have_the_shape_of_the_example_and_only_the_consented_ones(rabo):
    first = eligible(rabo.sb)[0]
    token = rabo.consent(ibans=[first["iban"]])
    response = rabo.ais_get("/accounts", token["access_token"])
    assert response.status_code == 200
    accounts = response.json()["accounts"]
    stub_account = example("GET", "/ais/accounts")["accounts"][0]
    assert [a["iban"] for a in accounts] == [first["iban"]]
    assert set(accounts[0]) == set(stub_account)
    assert accounts[0]["status"] == "enabled" and accounts[0]["ownerName"]
    assert accounts[0]["_links"]["transactions"]["href"] == f"/accounts/{first['resourceId']}/transactions"


def test_balances_answer_only_expected_as_in_the_example(rabo):
    first = eligible(rabo.sb)[0]
    token = rabo.consent()
    response = rabo.ais_get(f"/accounts/{first['resourceId']}/balances", token["access_token"])
    assert response.status_code == 200
    body = response.json()
    stub = example("GET", "/balances")
    assert set(body) == set(stub) and set(body["balances"][0]) == set(stub["balances"][0])
    assert [b["balanceType"] for b in body["balances"]] == ["expected"]
    assert float(body["balances"][0]["balanceAmount"]["amount"]) == pytest.approx(first["expected_balance"])


def test_balances_need_the_balances_scope(rabo):
    first = eligible(rabo.sb)[0]
    token = rabo.consent(scope="ais.transactions.read-90days")
    response = rabo.ais_get(f"/accounts/{first['resourceId']}/balances", token["access_token"])
    assert response.status_code == 403
    assert response.json()["tppMessages"][0]["code"] == "CONSENT_INVALID"


def test_account_outside_the_consent_is_unknown(rabo):
    first, second = eligible(rabo.sb)[:2]
    token = rabo.consent(ibans=[first["iban"]])
    response = rabo.ais_get(f"/accounts/{second['resourceId']}/balances", token["access_token"])
    assert response.status_code == 404
    assert response.json()["tppMessages"][0]["code"] == "RESOURCE_UNKNOWN_PATH_ACCOUNTID"


# ------------------------------------------------------------------ transactions
def test_transactions_have_the_example_shape_and_default_to_90_days(rabo):
    first = eligible(rabo.sb)[0]
    token = rabo.consent(scope="ais.transactions.read-90days")
    rows, pages = all_booked(rabo, token["access_token"], first["resourceId"], {"bookingStatus": "booked"})
    assert pages > 1  # 400 days x 3 a day: more than one page of 90 days
    today = datetime.date.fromisoformat(rabo.sb.info()["today"])
    assert min(r["bookingDate"] for r in rows) >= (today - datetime.timedelta(days=90)).isoformat()
    ids = [r["entryReference"] for r in rows]
    assert len(ids) == len(set(ids))
    stub = example("GET", "/transactions", query_has="dateFrom")
    assert set(stub) == {"account", "transactions"}
    stub_keys = set().union(*(set(t) for t in stub["transactions"]["booked"]))
    for row in rows:
        assert set(row) <= stub_keys | NOTES_TRANSACTION_FIELDS, set(row) - stub_keys - NOTES_TRANSACTION_FIELDS
        assert isinstance(row["transactionAmount"]["amount"], str)
        side = "creditor" if row["transactionAmount"]["amount"].startswith("-") else "debtor"
        assert row[f"{side}Name"]
        assert not isinstance(row.get("remittanceInformationStructured", ""), dict)


def test_only_booked_is_supported(rabo):
    first = eligible(rabo.sb)[0]
    token = rabo.consent()
    response = rabo.ais_get(f"/accounts/{first['resourceId']}/transactions", token["access_token"],
                            params={"bookingStatus": "pending"})
    assert response.status_code == 400 and response.json()["tppMessages"][0]["code"] == "FORMAT_ERROR"


def test_full_history_once_after_consent_then_90_days_only(rabo):
    first = eligible(rabo.sb)[0]
    token = rabo.consent()
    old = {"bookingStatus": "booked", "dateFrom": "2000-01-01T00:00:00.000Z"}
    history, _ = all_booked(rabo, token["access_token"], first["resourceId"], old)
    today = datetime.date.fromisoformat(rabo.sb.info()["today"])
    assert min(r["bookingDate"] for r in history) < (today - datetime.timedelta(days=300)).isoformat()
    again = rabo.ais_get(f"/accounts/{first['resourceId']}/transactions", token["access_token"], params=old)
    assert again.status_code == 400
    assert again.json()["tppMessages"][0]["code"] == "PERIOD_INVALID"
    recent, _ = all_booked(rabo, token["access_token"], first["resourceId"], {"bookingStatus": "booked"})
    assert recent and len(recent) < len(history)


def test_history_is_refused_without_its_scope(rabo):
    first = eligible(rabo.sb)[0]
    token = rabo.consent(scope="ais.balances.read ais.transactions.read-90days")
    response = rabo.ais_get(f"/accounts/{first['resourceId']}/transactions", token["access_token"],
                            params={"bookingStatus": "booked", "dateFrom": "2020-01-01"})
    assert response.status_code == 400 and response.json()["tppMessages"][0]["code"] == "PERIOD_INVALID"


def test_paging_is_complete_and_a_forged_page_token_is_refused(rabo):
    first = eligible(rabo.sb)[0]
    token = rabo.consent()
    rows, pages = all_booked(rabo, token["access_token"], first["resourceId"], {"bookingStatus": "booked"})
    today = datetime.date.fromisoformat(rabo.sb.info()["today"])
    since = (today - datetime.timedelta(days=90)).isoformat()
    # Every transaction the bank holds in the window, exactly once, newest first.
    assert [r["bookingDate"] for r in rows] == sorted((r["bookingDate"] for r in rows), reverse=True)
    assert pages == -(-len(rows) // 50)
    forged = rabo.ais_get(f"/accounts/{first['resourceId']}/transactions", token["access_token"],
                          params={"bookingStatus": "booked", "nextPageToken": "forged"})
    assert forged.status_code == 400
    assert since <= rows[-1]["bookingDate"]


# ------------------------------------------------------------------ signature and headers
@pytest.mark.parametrize("change, status, code", [
    ({"key_id": "12345"}, 401, "SIGNATURE_INVALID"),
    ({"algorithm": "rsa-sha256"}, 400, "FORMAT_ERROR"),
    ({"names": ("date", "digest")}, 400, "FORMAT_ERROR"),
    ({"tamper": "signature"}, 401, "SIGNATURE_INVALID"),
    ({"drop": ("TPP-Signature-Certificate",)}, 400, "FORMAT_ERROR"),
    ({"drop": ("Signature",)}, 400, "FORMAT_ERROR"),
    ({"digest": "sha-512=AAAA"}, 400, "FORMAT_ERROR"),
    ({"digest": "md5=AAAA"}, 400, "FORMAT_ERROR"),
])
def test_bad_signatures_are_refused_with_berlin_group_messages(rabo, change, status, code):
    token = rabo.consent()
    response = rabo.ais_get("/accounts", token["access_token"], **change)
    assert response.status_code == status, response.text
    message = response.json()["tppMessages"][0]
    assert message["category"] == "ERROR" and message["code"] == code


def test_signing_certificate_of_another_ca_is_refused(rabo):
    import base64

    from cryptography.hazmat.primitives import serialization
    from refclient import load_cert, load_key

    token = rabo.consent()
    rabo.key = load_key(rabo.sb.certs.other_signing_key)
    rabo.cert = load_cert(rabo.sb.certs.other_signing_cert)
    rabo.cert_b64 = base64.b64encode(rabo.cert.public_bytes(serialization.Encoding.DER)).decode()
    response = rabo.ais_get("/accounts", token["access_token"])
    assert response.status_code == 401
    assert response.json()["tppMessages"][0]["code"] == "CERTIFICATE_INVALID"


def test_gateway_refusals_come_in_the_ibm_shape(rabo):
    token = rabo.consent()
    stub = example("GET", "/ais/accounts", 401)
    no_client_id = rabo.ais_get("/accounts", token["access_token"], drop=("X-IBM-Client-Id",))
    assert no_client_id.status_code == 401 and set(no_client_id.json()) == set(stub)
    no_cert = rabo.ais_get("/accounts", token["access_token"], cert=None)
    assert no_cert.status_code == 401 and no_cert.json()["httpCode"] == "401"
    bad_token = rabo.ais_get("/accounts", "not-a-token")
    assert bad_token.status_code == 401 and bad_token.json()["httpMessage"] == "Unauthorized"


# ------------------------------------------------------------------ consent details
def test_consent_details_list_each_scope_per_iban_and_turn_expired(rabo):
    first = eligible(rabo.sb)[0]
    token = rabo.consent(ibans=[first["iban"]])
    consent_id = token["metadata"].split()[-1]
    path = f"/openapi/oauth2/v1/consents/{consent_id}"
    response = rabo.get(path)  # signed, no bearer token
    assert response.status_code == 200, response.text
    body = response.json()
    stub = example("GET", "/oauth2/v1/consents/b75f5ee4-6b25-41af-bb9c-31128d09151b")
    assert set(body) == set(stub) and body["consentId"] == consent_id
    assert set(body["access"]) == set(rabo.scope.split())
    entry = body["access"]["ais.balances.read"][0]
    assert set(entry) == set(stub["access"]["ais.balances.read"][0])
    assert entry["iban"] == first["iban"] and entry["status"] == "valid"
    rabo.sb.end_consents("rabobank", "expire")
    after = rabo.get(path).json()
    assert {e["status"] for rows in after["access"].values() for e in rows} == {"expired"}
    refused = rabo.ais_get("/accounts", token["access_token"])
    assert refused.status_code == 403 and refused.json()["tppMessages"][0]["code"] == "CONSENT_EXPIRED"


def test_spent_history_shows_as_expired_in_the_consent_details(rabo):
    first = eligible(rabo.sb)[0]
    token = rabo.consent(ibans=[first["iban"]])
    all_booked(rabo, token["access_token"], first["resourceId"],
               {"bookingStatus": "booked", "dateFrom": "2001-01-01"})
    details = rabo.get("/openapi/oauth2/v1/consents/" + token["metadata"].split()[-1]).json()
    assert details["access"]["ais.transactions.read-history"][0]["status"] == "expired"
    assert details["access"]["ais.transactions.read-90days"][0]["status"] == "valid"


# ------------------------------------------------------------------ faults
def test_faults_apply_to_rabobank_in_its_error_shapes(rabo):
    token = rabo.consent()
    rabo.sb.set_faults({"bank": "rabobank", "path": "/openapi/payments/account-information/ais/accounts",
                        "error": "429", "retry_after": 3},
                       {"bank": "rabobank", "path": "/openapi/oauth2/token", "error": "503"})
    limited = rabo.ais_get("/accounts", token["access_token"])
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    assert limited.json()["tppMessages"][0]["code"] == "ACCESS_EXCEEDED"
    down = rabo.token_request(grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert down.status_code == 503 and down.json()["error"] == "temporarily_unavailable"
    assert rabo.ais_get("/accounts", token["access_token"]).status_code == 200
    rabo.sb.set_faults({"bank": "rabobank", "path": "/openapi/payments/*", "error": "revoke_consent"})
    revoked = rabo.ais_get("/accounts", token["access_token"])
    assert revoked.status_code == 403 and revoked.json()["tppMessages"][0]["code"] == "CONSENT_INVALID"
    log = rabo.sb.log("rabobank")
    assert any(entry.get("fault") == "429" for entry in log)


def test_malformed_signing_certificate_is_refused(rabo):
    token = rabo.consent()
    response = rabo.ais_get("/accounts", token["access_token"], extra={"TPP-Signature-Certificate": "bm90LWEtY2VydA=="})
    assert response.status_code == 400
    assert response.json()["tppMessages"][0]["code"] == "CERTIFICATE_INVALID"


def test_demo_scenario_has_a_rabobank_zakelijk_account_with_the_story(tmp_path):
    from bank_sandbox.scenario import Scenario, load_file

    path = Path(__file__).resolve().parents[2] / "setup" / "bank_sandbox" / "demo_scenario.json"
    scenario = Scenario(load_file(path))
    account = next(a for a in scenario.accounts["rabobank"] if a.product == "Rabobank Zakelijk")
    assert account.iban.startswith("NL") and account.iban[4:8] == "RABO" and account.eligible
    names = {r.get("counterparty_name") for r in account.booked}
    assert {"Jansen & Zn. V.O.F.", "Visser Zorggroep"} <= names
