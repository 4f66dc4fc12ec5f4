"""ABN AMRO as the sandbox plays it: one-account consent, rotating refresh tokens, API v1."""

import datetime

import pytest
import requests
from refclient import AbnClient
from schemas import validate

TX = "/accounts/{accountNumber}/transactions"


@pytest.fixture
def abn(bank_sandbox):
    return AbnClient(bank_sandbox)


@pytest.fixture
def consented(abn):
    return abn, abn.consent()


def _eligible(sb):
    return [a for a in sb.accounts("abnamro") if a["eligible"]]


def _today(sb):
    return datetime.date.fromisoformat(sb.info()["today"])


# ------------------------------------------------------------------ consent and tokens

def test_consent_page_offers_one_account_choice_in_abn_amro_style(abn, bank_sandbox):
    page = requests.get(abn.authorize_url(), verify=bank_sandbox.certs.ca, timeout=30)
    assert page.status_code == 200
    assert "Toestemming geven" in page.text and "#00857a" in page.text
    assert 'type="radio"' in page.text and 'type="checkbox"' not in page.text
    assert page.text.count(" disabled>") == 1  # the savings deposit


def test_choosing_two_accounts_is_refused(abn, bank_sandbox):
    browser = requests.Session()
    url = abn.authorize_url()
    page = browser.get(url, verify=bank_sandbox.certs.ca, timeout=30)
    session = page.text.split('name="session" value="')[1].split('"')[0]
    answer = browser.post(url, data={"session": session, "step": "accounts", "action": "approve",
                                     "accounts": [a["iban"] for a in _eligible(bank_sandbox)]},
                          verify=bank_sandbox.certs.ca, timeout=30)
    assert answer.status_code == 400 and "één rekening" in answer.text


def test_unknown_client_id_gets_an_error_page_not_a_redirect(abn, bank_sandbox):
    url = abn.authorize_url().replace(bank_sandbox.abnamro_client_id, "intruder")
    page = requests.get(url, verify=bank_sandbox.certs.ca, timeout=30, allow_redirects=False)
    assert page.status_code == 400 and "client_id" in page.text


def test_code_exchange_and_consentinfo(consented, bank_sandbox):
    abn, tokens = consented
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 7200
    info = abn.get("/v1/consentinfo", tokens["access_token"])
    assert info.status_code == 200
    validate("abnamro-ais", "/consentinfo", "get", 200, info.json())
    assert info.json()["iban"] == _eligible(bank_sandbox)[0]["iban"]
    assert set(info.json()["scopes"].split()) == set(abn.scope.split())


def test_code_is_valid_sixty_seconds(abn, bank_sandbox):
    code = bank_sandbox.query_of(bank_sandbox.approve_abnamro(abn.authorize_url()))["code"]
    bank_sandbox.advance_clock(61)
    response = abn.token_request(grant_type="authorization_code", code=code, redirect_uri=abn.redirect_uri)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_token_endpoint_needs_client_certificate(abn, bank_sandbox):
    code = bank_sandbox.query_of(bank_sandbox.approve_abnamro(abn.authorize_url()))["code"]
    response = abn.token_request(cert=None, grant_type="authorization_code", code=code,
                                 redirect_uri=abn.redirect_uri)
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    with pytest.raises(requests.exceptions.SSLError):
        abn.token_request(cert=bank_sandbox.certs.other_client, grant_type="authorization_code",
                          code=code, redirect_uri=abn.redirect_uri)


def test_refresh_rotates_and_reuse_revokes_the_chain(consented, bank_sandbox):
    abn, tokens = consented
    first = abn.token_request(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert abn.get("/v1/consentinfo", rotated["access_token"]).status_code == 200

    reuse = abn.token_request(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    # Reuse means the old token leaked: the whole consent is revoked.
    assert abn.token_request(grant_type="refresh_token",
                             refresh_token=rotated["refresh_token"]).status_code == 400
    refused = abn.get("/v1/consentinfo", rotated["access_token"])
    assert refused.status_code == 401
    validate("abnamro-ais", "/consentinfo", "get", 401, refused.json())
    assert refused.json()["errors"][0]["code"] == "ERR_2002_002"
    log = bank_sandbox.log("abnamro")
    assert [e.get("note") for e in log].count("refresh_token_reused") == 1
    fingerprints = [e["token_fp"] for e in log if e.get("grant_type") == "refresh_token"]
    assert fingerprints[0] == fingerprints[1] != fingerprints[2]


def test_access_token_expires_after_expires_in(consented, bank_sandbox):
    abn, tokens = consented
    bank_sandbox.advance_clock(7201)
    assert abn.get("/v1/consentinfo", tokens["access_token"]).status_code == 401
    refreshed = abn.token_request(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 200
    assert abn.get("/v1/consentinfo", refreshed.json()["access_token"]).status_code == 200


# ------------------------------------------------------------------ API

def test_details_and_balances_match_spec(consented, bank_sandbox):
    abn, tokens = consented
    account = _eligible(bank_sandbox)[0]
    details = abn.get(f"/v1/accounts/{account['iban']}/details", tokens["access_token"])
    assert details.status_code == 200
    validate("abnamro-ais", "/accounts/{accountNumber}/details", "get", 200, details.json())
    assert details.json()["accountHolderName"] == account["holder"]
    balance = abn.get(f"/v1/accounts/{account['iban']}/balances", tokens["access_token"])
    validate("abnamro-ais", "/accounts/{accountNumber}/balances", "get", 200, balance.json())
    assert balance.json()["amount"] == pytest.approx(account["balance"])
    assert balance.json()["balanceType"] == "BOOKBALANCE"


def test_api_key_is_required(consented, bank_sandbox):
    abn, tokens = consented
    response = abn.get("/v1/consentinfo", tokens["access_token"], api_key=None)
    assert response.status_code == 401
    validate("abnamro-ais", "/consentinfo", "get", 401, response.json())


def test_api_needs_client_certificate(consented):
    abn, tokens = consented
    assert abn.get("/v1/consentinfo", tokens["access_token"], cert=None).status_code == 401


def test_other_account_is_forbidden(consented, bank_sandbox):
    abn, tokens = consented
    other = _eligible(bank_sandbox)[1]["iban"]
    response = abn.get(f"/v1/accounts/{other}/transactions", tokens["access_token"])
    assert response.status_code == 403
    validate("abnamro-ais", TX, "get", 403, response.json())
    assert response.json()["errors"][0]["code"] == "MESSAGE_RST560_0016"


def test_missing_scope_is_forbidden(abn, bank_sandbox):
    tokens = abn.consent(scope="psd2:account:balance:read")
    iban = _eligible(bank_sandbox)[0]["iban"]
    response = abn.get(f"/v1/accounts/{iban}/transactions", tokens["access_token"])
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "ERR_3002_003"
    assert abn.get(f"/v1/accounts/{iban}/balances", tokens["access_token"]).status_code == 200


def _all_pages(abn, token, iban, date_from, date_to):
    pages, key = [], None
    while True:
        params = {"bookDateFrom": date_from, "bookDateTo": date_to}
        if key:
            params["nextPageKey"] = key
        response = abn.get(f"/v1/accounts/{iban}/transactions", token, params=params)
        assert response.status_code == 200, response.text
        validate("abnamro-ais", TX, "get", 200, response.json())
        pages.append(response.json())
        key = response.json().get("nextPageKey")
        if not key:
            return pages


def test_transactions_paginate_50_newest_first_without_gaps(consented, bank_sandbox):
    abn, tokens = consented
    account = _eligible(bank_sandbox)[0]
    today = _today(bank_sandbox)
    pages = _all_pages(abn, tokens["access_token"], account["iban"],
                       (today - datetime.timedelta(days=500)).isoformat(), today.isoformat())
    rows = [t for p in pages for t in p["transactions"]]
    assert all(len(p["transactions"]) == 50 for p in pages[:-1])
    assert len(rows) == account["booked"]
    keys = [(t["bookDate"], t["transactionTimestamp"]) for t in rows]
    assert keys == sorted(keys, reverse=True)
    identified = [t["transactionId"] for t in rows if t["transactionId"]]
    assert len(identified) == len(set(identified))
    # Running balance: each row's balance minus its amount is the next (older) row's balance.
    for newer, older in zip(rows, rows[1:], strict=False):
        assert newer["balanceAfterMutation"] - newer["amount"] == pytest.approx(older["balanceAfterMutation"])
    assert rows[0]["balanceAfterMutation"] == pytest.approx(account["balance"])


def test_next_page_without_dates_is_refused(consented, bank_sandbox):
    abn, tokens = consented
    iban = _eligible(bank_sandbox)[0]["iban"]
    today = _today(bank_sandbox)
    first = abn.get(f"/v1/accounts/{iban}/transactions", tokens["access_token"],
                    params={"bookDateFrom": (today - datetime.timedelta(days=90)).isoformat(),
                            "bookDateTo": today.isoformat()}).json()
    response = abn.get(f"/v1/accounts/{iban}/transactions", tokens["access_token"],
                       params={"nextPageKey": first["nextPageKey"]})
    assert response.status_code == 400
    validate("abnamro-ais", TX, "get", 400, response.json())


def test_history_is_limited_to_18_months(consented, bank_sandbox):
    abn, tokens = consented
    iban = _eligible(bank_sandbox)[0]["iban"]
    today = _today(bank_sandbox)
    too_old = abn.get(f"/v1/accounts/{iban}/transactions", tokens["access_token"],
                      params={"bookDateFrom": (today - datetime.timedelta(days=560)).isoformat(),
                              "bookDateTo": today.isoformat()})
    assert too_old.status_code == 400 and "18 months" in too_old.json()["errors"][0]["message"]
    fine = abn.get(f"/v1/accounts/{iban}/transactions", tokens["access_token"],
                   params={"bookDateFrom": (today - datetime.timedelta(days=540)).isoformat(),
                           "bookDateTo": today.isoformat()})
    assert fine.status_code == 200


def test_transaction_rows_look_like_abn_amro(consented, bank_sandbox):
    abn, tokens = consented
    account = _eligible(bank_sandbox)[0]
    today = _today(bank_sandbox)
    rows = [t for p in _all_pages(abn, tokens["access_token"], account["iban"],
                                  (today - datetime.timedelta(days=400)).isoformat(), today.isoformat())
            for t in p["transactions"]]
    assert {"654", "658", "247", "944", "426"} <= {t["mutationCode"] for t in rows}
    cards = [t for t in rows if t["mutationCode"] == "426"]
    assert cards and all(t["transactionId"] == "" for t in cards)
    assert any(t["descriptionLines"][0].startswith("BEA") for t in cards)
    assert any(t["descriptionLines"][0].startswith("GEA") for t in cards)
    assert all(len(line) <= 32 for t in rows for line in t["descriptionLines"])
    assert all(len(t["descriptionLines"]) <= 9 for t in rows)
    assert all(len(t["counterPartyName"]) <= 24 for t in rows)
    # The 16-digit kenmerk never fits after its label: it is cut across two lines.
    with_kenmerk = [t for t in rows if any(ln.startswith("Betalingskenmerk: ") for ln in t["descriptionLines"])]
    assert with_kenmerk
    for row in with_kenmerk:
        lines = row["descriptionLines"]
        index = next(i for i, ln in enumerate(lines) if ln.startswith("Betalingskenmerk: "))
        assert len(lines[index]) == 32 and lines[index + 1][:2].isdigit()
    stamp = rows[0]["transactionTimestamp"]
    datetime.datetime.strptime(stamp, "%Y-%m-%d-%H:%M:%S.%f")
    assert any("Naam: Nederlandse Loterij Organi" == line for t in rows for line in t["descriptionLines"])
