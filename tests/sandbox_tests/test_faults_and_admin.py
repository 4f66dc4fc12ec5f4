"""Fault switch, request log and scenario changes through the admin API."""

import json
import time

import pytest
import requests
from refclient import AbnClient, IngClient
from schemas import validate


@pytest.fixture
def ing_consented(bank_sandbox):
    ing = IngClient(bank_sandbox)
    return ing, ing.consent()


@pytest.fixture
def abn_consented(bank_sandbox):
    abn = AbnClient(bank_sandbox)
    return abn, abn.consent()


def test_429_with_retry_after_hits_only_the_matching_path_and_count(ing_consented, bank_sandbox):
    ing, tokens = ing_consented
    account = bank_sandbox.accounts("ing")[0]["resourceId"]
    bank_sandbox.set_faults({"path": "/v3/accounts/*/transactions", "error": "429", "retry_after": 7, "count": 2})
    assert ing.get("/v3/accounts", tokens["access_token"]).status_code == 200
    for _ in range(2):
        limited = ing.get(f"/v3/accounts/{account}/transactions", tokens["access_token"])
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
        assert limited.json()["tppMessages"][0]["category"] == "ERROR"
    assert ing.get(f"/v3/accounts/{account}/transactions", tokens["access_token"]).status_code == 200


def test_abn_429_without_retry_after(abn_consented, bank_sandbox):
    abn, tokens = abn_consented
    bank_sandbox.set_faults({"path": "/v1/*", "error": "429", "bank": "abnamro"})
    response = abn.get("/v1/consentinfo", tokens["access_token"])
    assert response.status_code == 429 and "Retry-After" not in response.headers
    assert response.json()["errors"][0]["code"] == "ERR_7002_001"


@pytest.mark.parametrize("status", [401, 403, 500, 503])
def test_status_faults_answer_in_the_bank_error_format(abn_consented, bank_sandbox, status):
    abn, tokens = abn_consented
    bank_sandbox.set_faults({"path": "/v1/consentinfo", "error": str(status)})
    response = abn.get("/v1/consentinfo", tokens["access_token"])
    assert response.status_code == status
    if status != 503:  # the spec declares no 503
        validate("abnamro-ais", "/consentinfo", "get", status, response.json())
    assert abn.get("/v1/consentinfo", tokens["access_token"]).status_code == 200


def test_ing_503_matches_spec(ing_consented, bank_sandbox):
    ing, tokens = ing_consented
    account = bank_sandbox.accounts("ing")[0]["resourceId"]
    bank_sandbox.set_faults({"path": "/v3/accounts/*/balances", "error": "503"})
    response = ing.get(f"/v3/accounts/{account}/balances", tokens["access_token"])
    assert response.status_code == 503
    validate("ing-ais", "/v3/accounts/{account-id}/balances", "get", 503, response.json())
    assert response.json()["tppMessages"][0]["code"] == "SERVICE_UNAVAILABLE"


def test_timeout_fault_outlasts_the_client_timeout(abn_consented, bank_sandbox):
    abn, tokens = abn_consented
    bank_sandbox.set_faults({"path": "/v1/consentinfo", "error": "timeout", "seconds": 2})
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(abn.base + "/v1/consentinfo", timeout=0.5, verify=bank_sandbox.certs.ca,
                     cert=bank_sandbox.certs.abnamro_tls,
                     headers={"Authorization": f"Bearer {tokens['access_token']}",
                              "API-Key": bank_sandbox.abnamro_api_key})
    assert time.monotonic() - started < 1.5


def test_truncated_page_is_not_json(ing_consented, bank_sandbox):
    ing, tokens = ing_consented
    account = bank_sandbox.accounts("ing")[0]["resourceId"]
    bank_sandbox.set_faults({"path": "/v3/accounts/*/transactions", "error": "truncate"})
    response = ing.get(f"/v3/accounts/{account}/transactions?limit=20", tokens["access_token"])
    assert response.status_code == 200
    assert response.text.startswith('{"account"')
    with pytest.raises(ValueError):
        json.loads(response.text)


def test_malformed_answer_is_html_labelled_json(abn_consented, bank_sandbox):
    abn, tokens = abn_consented
    bank_sandbox.set_faults({"path": "/v1/consentinfo", "error": "malformed"})
    response = abn.get("/v1/consentinfo", tokens["access_token"])
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        response.json()


def test_expired_consent_refuses_api_and_refresh(ing_consented, bank_sandbox):
    ing, tokens = ing_consented
    bank_sandbox.set_faults({"path": "/v3/accounts", "error": "expire_consent"})
    response = ing.get("/v3/accounts", tokens["access_token"])
    assert response.status_code == 401
    refresh = ing.token_request(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refresh.status_code == 400
    assert [c["status"] for c in bank_sandbox.consents() if c["bank"] == "ing"] == ["expired"]


def test_revoke_consent_fault_on_abn_token_endpoint(abn_consented, bank_sandbox):
    abn, tokens = abn_consented
    bank_sandbox.set_faults({"path": "/as/token.oauth2", "error": "revoke_consent"})
    response = abn.token_request(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_faults_can_be_cleared(abn_consented, bank_sandbox):
    abn, tokens = abn_consented
    bank_sandbox.set_faults({"path": "/v1/*", "error": "500", "count": None})
    assert abn.get("/v1/consentinfo", tokens["access_token"]).status_code == 500
    assert abn.get("/v1/consentinfo", tokens["access_token"]).status_code == 500
    bank_sandbox.clear_faults()
    assert abn.get("/v1/consentinfo", tokens["access_token"]).status_code == 200


def test_log_lists_requests_but_never_tokens_or_codes(ing_consented, abn_consented, bank_sandbox):
    ing, ing_tokens = ing_consented
    abn, abn_tokens = abn_consented
    ing.token_request(grant_type="refresh_token", refresh_token=ing_tokens["refresh_token"])
    abn.token_request(grant_type="refresh_token", refresh_token=abn_tokens["refresh_token"])
    log = bank_sandbox.log()
    text = json.dumps(log)
    for secret in (ing_tokens["access_token"], ing_tokens["refresh_token"], ing.app_token,
                   abn_tokens["access_token"], abn_tokens["refresh_token"]):
        assert secret not in text
    assert {"method", "path", "status"} <= set(log[0])
    assert ("POST", "/oauth2/token", 200) in {(e["method"], e["path"], e["status"]) for e in log}
    import urllib.parse

    for entry in log:
        for key, value in urllib.parse.parse_qsl(entry["query"]):
            if key in ("code", "state", "token", "refresh_token"):
                assert value == "***"


def test_added_transaction_arrives_with_its_betalingskenmerk(ing_consented, bank_sandbox):
    ing, tokens = ing_consented
    account = bank_sandbox.accounts("ing")[0]
    bank_sandbox.add_transactions("ing", account["iban"], [{
        "days_ago": 0, "amount": "1250.00", "counterparty_name": "Klant BV",
        "counterparty_iban": "NL91ABNA0417164300", "description": "Factuur 2026-017",
        "reference": "5000056789012345", "id": "DEMO-INV-017"}])
    response = ing.get(f"/v3/accounts/{account['resourceId']}/transactions?limit=100", tokens["access_token"])
    booked = {t["transactionId"]: t for t in response.json()["transactions"]["booked"]}
    paid = booked["DEMO-INV-017"]
    assert paid["transactionAmount"]["amount"] == 1250.0
    assert paid["debtorAccount"] == {"iban": "NL91ABNA0417164300", "bic": "ABNANL2A"}
    assert paid["remittanceInformationStructured"]["reference"] == "5000056789012345"
    assert "Omschrijving: Factuur 2026-017" in paid["remittanceInformationUnstructured"]


def test_scenario_replacement_changes_accounts(bank_sandbox):
    bank_sandbox.set_scenario({"abnamro": {"accounts": [
        {"iban": "NL91ABNA0417164300", "holder": "Klant BV", "opening_balance": "10.00",
         "transactions": [{"days_ago": 1, "amount": "-2.50", "kind": "costs",
                           "description": "Kosten Zakelijk Betalingsverkeer"}]}]}})
    accounts = bank_sandbox.accounts("abnamro")
    assert [(a["iban"], a["booked"], a["balance"]) for a in accounts] == [("NL91ABNA0417164300", 1, 7.5)]


def test_scenario_with_wrong_iban_check_digits_is_refused(bank_sandbox):
    with pytest.raises(RuntimeError, match="check digits"):
        bank_sandbox.set_scenario({"ing": {"accounts": [{"iban": "NL00INGB0123456789"}]}})
    assert bank_sandbox.accounts("ing")[0]["iban"] == "NL69INGB0123456789"
