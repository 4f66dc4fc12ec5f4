"""bunq in the sandbox, checked against bunq's own OpenAPI file
(../shared/specs/bunq/bunq-api-openapi.json) and NOTES.md beside it.

bunq's schemas describe the objects inside the ``{"Response": [...]}``
envelope: a listing's schema is an array of the inner objects
(``PaymentListing``) or of typed wrappers (``MonetaryAccountListing``), and a
create's schema (``InstallationCreate``) is the envelope's items merged.
"""

import json
from decimal import Decimal

import pytest
import requests
import schemas
from bunq_refclient import BunqRefClient, items, new_key

SPEC = "bunq"


@pytest.fixture
def bunq(bank_sandbox):
    return BunqRefClient(bank_sandbox)


def validate_merged(path, method, response):
    assert response.status_code == 200, response.text
    return schemas.validate(SPEC, path, method, 200, items(response))


def validate_error(path, method, response):
    body = response.json()
    assert set(body) == {"Error"} and body["Error"][0]["error_description"]
    # The declared 400 is the shared GenericError response (every 4xx/5xx has its shape).
    assert schemas._response_schema(SPEC, path, method, 400)
    return schemas.validate(SPEC, path, method, 400, body,
                            schema_ref="#/components/responses/GenericError/content/application~1json/schema")


def validate_list(path, method, rows):
    """A listing's schema is an array of the inner objects: each row against the item schema."""
    schema = schemas._response_schema(SPEC, path, method, 200)
    assert schema["type"] == "array"
    for row in rows:
        schemas.validate(SPEC, path, method, 200, row, schema_ref=schema["items"]["$ref"])
    return True


def company_session(bunq):
    bunq.context(bunq.sb.info()["bunq"]["api_key"])
    return bunq


def eligible_ibans(sb):
    return [a["iban"] for a in sb.accounts("bunq") if a["eligible"]]


def all_payments(bunq, account_id, count=25):
    """Walk Pagination.older_url back in time until it is null."""
    url = f"/v1/user/{bunq.user_id}/monetary-account/{account_id}/payment?count={count}"
    rows, pages = [], 0
    while url:
        response = bunq.call("GET", url)
        assert response.status_code == 200, response.text
        assert bunq.verified(response)
        body = response.json()
        validate_list("/user/{userID}/monetary-account/{monetary-accountID}/payment", "get",
                      [item["Payment"] for item in body["Response"]])
        rows.extend(item["Payment"] for item in body["Response"])
        pages += 1
        url = body["Pagination"]["older_url"]
    return rows, pages


def account_ids(bunq):
    response = bunq.call("GET", f"/v1/user/{bunq.user_id}/monetary-account")
    assert response.status_code == 200, response.text
    return {next(iter(item.values()))["alias"][0]["value"]: next(iter(item.values()))["id"]
            for item in response.json()["Response"]}


# ------------------------------------------------------------------ API context
def test_installation_returns_token_and_server_key_in_the_envelope_and_signs_the_answer(bunq):
    response = bunq.install()
    validate_merged("/installation", "post", response)
    assert [list(item) for item in response.json()["Response"]] == [["Id"], ["Token"], ["ServerPublicKey"]]
    assert bunq.verified(response)


def test_installation_refuses_a_key_that_is_not_rsa_2048(bunq):
    small = BunqRefClient(bunq.sb)
    response = small.call("POST", "/v1/installation", {"client_public_key": "not a key"}, token="")
    assert response.status_code == 400
    validate_error("/installation", "post", response)


def test_company_api_key_opens_a_session_with_the_company_as_user(bunq):
    bunq.install()
    device = bunq.device(bunq.sb.info()["bunq"]["api_key"])
    validate_merged("/device-server", "post", device)
    session = bunq.session(bunq.sb.info()["bunq"]["api_key"])
    validate_merged("/session-server", "post", session)
    user = items(session)["UserCompany"]
    assert user["id"] == bunq.sb.info()["bunq"]["company_user_id"]
    assert user["session_timeout"] == 604800  # bunq's default auto-logout: a week
    assert bunq.verified(session)


def test_session_without_a_device_for_the_key_is_refused(bunq):
    bunq.install()
    response = bunq.session(bunq.sb.info()["bunq"]["api_key"])
    assert response.status_code == 400
    assert "device" in response.json()["Error"][0]["error_description"].lower()


def test_session_server_without_signature_is_466(bunq):
    bunq.install()
    bunq.device(bunq.sb.info()["bunq"]["api_key"])
    response = bunq.session(bunq.sb.info()["bunq"]["api_key"], sign=False)
    assert response.status_code == 466
    assert bunq.verified(response)


def test_a_body_signed_with_another_key_is_refused(bunq):
    bunq.install()
    bunq.device(bunq.sb.info()["bunq"]["api_key"])
    response = bunq.session(bunq.sb.info()["bunq"]["api_key"], key=new_key())
    assert response.status_code == 466
    assert "signature" in response.json()["Error"][0]["error_description"]


def test_device_with_an_unknown_api_key_is_refused(bunq):
    bunq.install()
    response = bunq.device("no-such-key")
    assert response.status_code == 400
    validate_error("/device-server", "post", response)


def test_missing_mandatory_headers_are_refused(bunq):
    response = requests.post(bunq.base + "/v1/installation", json={"client_public_key": "x"},
                             verify=bunq.sb.certs.ca, timeout=30, headers={"User-Agent": ""})
    assert response.status_code == 400


# ------------------------------------------------------------------ PSD2 registration
def test_psd2_registration_gives_an_api_key_whose_first_session_lasts_an_hour(bunq):
    response = bunq.register_psp()
    assert response.status_code == 200, response.text
    credential = items(response)["CredentialPasswordIp"]
    assert credential["status"] == "PENDING_FIRST_USE" and credential["token_value"]
    api_key = credential["token_value"]
    assert bunq.device(api_key).status_code == 200
    session = bunq.session(api_key)
    validate_merged("/session-server", "post", session)
    assert items(session)["UserPaymentServiceProvider"]["session_timeout"] == 3600
    # The OAuth client and its callback URL.
    created = bunq.call("POST", f"/v1/user/{bunq.user_id}/oauth-client", {"status": "ACTIVE"})
    validate_merged("/user/{userID}/oauth-client", "post", created)
    client_id = items(created)["Id"]["id"]
    callback = bunq.call("POST", f"/v1/user/{bunq.user_id}/oauth-client/{client_id}/callback-url",
                         {"url": "https://odoo.example/bank/callback"})
    validate_merged("/user/{userID}/oauth-client/{oauth-clientID}/callback-url", "post", callback)
    read = bunq.call("GET", f"/v1/user/{bunq.user_id}/oauth-client/{client_id}")
    client = items(read)["OauthClient"]
    schemas.validate(SPEC, "/user/{userID}/oauth-client/{itemId}", "get", 200, client)
    assert client["client_id"] == bunq.sb.info()["bunq"]["client_id"] and client["secret"]
    assert [entry["url"] for entry in client["callback_url"]] == ["https://odoo.example/bank/callback"]
    # A PSD2 provider sees no accounts of its own.
    assert bunq.call("GET", f"/v1/user/{bunq.user_id}/monetary-account").json()["Response"] == []
    # Once a callback is registered, another redirect URI is refused on the consent page.
    page = requests.get(bunq.authorize_url(redirect_uri="https://evil.example/cb"), verify=bunq.sb.certs.ca,
                        timeout=30)
    assert page.status_code == 400 and "niet geregistreerd" in page.text


def test_psd2_registration_with_a_certificate_of_another_ca_is_refused(bunq):
    response = bunq.register_psp(bunq.sb.certs.other_signing_cert, bunq.sb.certs.other_signing_key)
    assert response.status_code == 400
    validate_error("/payment-service-provider-credential", "post", response)


def test_psd2_registration_with_a_certificate_naming_no_psd2_role_is_refused(bunq):
    response = bunq.register_psp(bunq.sb.certs.rabobank_signing_cert, bunq.sb.certs.rabobank_signing_key)
    assert response.status_code == 400
    assert "PSD2 role" in response.json()["Error"][0]["error_description"]


def test_psd2_registration_signed_with_another_key_is_refused(bunq):
    response = bunq.register_psp(bunq.sb.certs.bunq_psp_cert, bunq.sb.certs.rabobank_signing_key)
    assert response.status_code == 400
    assert "signature" in response.json()["Error"][0]["error_description"]


# ------------------------------------------------------------------ OAuth
def test_consent_page_is_bunqs_in_dutch_and_greys_out_the_savings_account(bunq):
    page = requests.get(bunq.authorize_url(), verify=bunq.sb.certs.ca, timeout=30)
    assert page.status_code == 200
    assert 'lang="nl"' in page.text and "bunq" in page.text and "Toestemming geven" in page.text
    assert "Naam, IBAN, saldo en transacties" in page.text
    assert "bunq Zakelijk" in page.text
    savings = next(a for a in bunq.sb.accounts("bunq") if not a["eligible"])
    assert f'value="{savings["resourceId"]}" disabled' in page.text


def test_token_call_takes_its_parameters_in_the_url_and_a_code_once(bunq):
    callback = bunq.sb.approve_bunq(bunq.authorize_url(state="abc"))
    query = bunq.sb.query_of(callback)
    assert query["state"] == "abc"
    with_body = requests.post(bunq.base + "/v1/token", data={"grant_type": "authorization_code",
                                                            "code": query["code"]},
                              verify=bunq.sb.certs.ca, timeout=30)
    assert with_body.status_code == 400
    wrong_secret = bunq.token(query["code"], secret="wrong")
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    answer = bunq.token(query["code"])
    assert answer.status_code == 200
    assert set(answer.json()) == {"access_token", "token_type", "state"}
    assert answer.json()["token_type"] == "bearer" and answer.json()["state"] == "abc"
    again = bunq.token(query["code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_access_token_as_api_key_gives_a_user_api_key_session_on_the_chosen_accounts(bunq):
    first, second = eligible_ibans(bunq.sb)
    access_token = bunq.consent(ibans=[first])
    session = bunq.context(access_token)
    validate_merged("/session-server", "post", session)
    user = items(session)["UserApiKey"]
    assert "UserCompany" in user["granted_by_user"] and "UserPaymentServiceProvider" in user["requested_by_user"]
    response = bunq.call("GET", f"/v1/user/{bunq.user_id}/monetary-account")
    assert bunq.verified(response)
    validate_list("/user/{userID}/monetary-account", "get", response.json()["Response"])
    accounts = [item["MonetaryAccountBank"] for item in response.json()["Response"]]
    assert [a["alias"][0] for a in accounts] == [
        {"type": "IBAN", "value": first, "name": "Bakkerij De Korenbloem B.V."}]
    expected = next(a for a in bunq.sb.accounts("bunq") if a["iban"] == first)
    assert accounts[0]["balance"] == {"value": f"{expected['balance']:.2f}", "currency": "EUR"}
    assert accounts[0]["description"] == "bunq Zakelijk"
    # Another user's path, or an account outside the consent, is refused.
    assert bunq.call("GET", "/v1/user/4011/monetary-account").status_code == 403
    other = account_ids(company_session(BunqRefClient(bunq.sb)))[second]
    assert bunq.call("GET", f"/v1/user/{bunq.user_id}/monetary-account/{other}/payment").status_code == 404


# ------------------------------------------------------------------ payments
def test_payments_page_back_in_time_through_older_url_until_null(bunq):
    access_token = bunq.consent()
    bunq.context(access_token)
    iban = eligible_ibans(bunq.sb)[0]
    account_id = account_ids(bunq)[iban]
    rows, pages = all_payments(bunq, account_id, count=20)
    expected = next(a for a in bunq.sb.accounts("bunq") if a["iban"] == iban)
    assert len(rows) == expected["booked"] and pages == -(-expected["booked"] // 20)
    ids = [row["id"] for row in rows]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)  # newest first, no doubles
    assert rows[0]["balance_after_mutation"]["value"] == f"{expected['balance']:.2f}"
    assert {row["type"] for row in rows} <= {"BUNQ", "EBA_SCT", "EBA_SDD", "IDEAL", "SWIFT", "FIS"}
    assert all(row["monetary_account_id"] == account_id for row in rows)
    named = [row for row in rows if row["counterparty_alias"].get("iban")]
    assert named and all(row["counterparty_alias"]["display_name"] for row in named)
    assert all(len(row["created"]) == 26 for row in rows)  # YYYY-MM-DD hh:mm:ss.ffffff


def test_default_count_is_10_newer_url_goes_forward_and_count_over_200_is_refused(bunq):
    company_session(bunq)
    account_id = account_ids(bunq)[eligible_ibans(bunq.sb)[0]]
    base = f"/v1/user/{bunq.user_id}/monetary-account/{account_id}/payment"
    first = bunq.call("GET", base).json()
    assert len(first["Response"]) == 10
    assert first["Pagination"]["newer_url"] is None and first["Pagination"]["future_url"]
    second = bunq.call("GET", first["Pagination"]["older_url"]).json()
    back = bunq.call("GET", second["Pagination"]["newer_url"]).json()
    assert [i["Payment"]["id"] for i in back["Response"]] == [i["Payment"]["id"] for i in first["Response"]]
    one = first["Response"][3]["Payment"]
    single = bunq.call("GET", f"{base}/{one['id']}")
    schemas.validate(SPEC, "/user/{userID}/monetary-account/{monetary-accountID}/payment/{itemId}", "get", 200,
                     items(single)["Payment"])
    assert items(single)["Payment"] == one
    refused = bunq.call("GET", base + "?count=201")
    assert refused.status_code == 400
    validate_error("/user/{userID}/monetary-account/{monetary-accountID}/payment", "get", refused)


def test_a_betalingskenmerk_is_in_the_description(bunq):
    iban = eligible_ibans(bunq.sb)[0]
    bunq.sb.add_transactions("bunq", iban, [{"days_ago": 0, "amount": "250.00", "counterparty_name": "Gemeente Utrecht",
                                            "counterparty_iban": "NL91ABNA0417164300", "description": "",
                                            "reference": "5000056789012345", "time": "23:59:59"}])
    company_session(bunq)
    newest = bunq.call("GET", f"/v1/user/{bunq.user_id}/monetary-account/{account_ids(bunq)[iban]}/payment?count=1")
    payment = newest.json()["Response"][0]["Payment"]
    assert payment["description"] == "5000056789012345"
    assert payment["counterparty_alias"]["iban"] == "NL91ABNA0417164300"
    assert payment["amount"] == {"value": "250.00", "currency": "EUR"}


# ------------------------------------------------------------------ faults
def test_sandbox_faults_answer_in_bunqs_error_envelope_signed(bunq):
    company_session(bunq)
    path = f"/v1/user/{bunq.user_id}/monetary-account"
    for status in ("401", "500", "503"):
        bunq.sb.set_faults({"bank": "bunq", "path": path, "error": status})
        response = bunq.call("GET", path)
        assert response.status_code == int(status)
        assert response.json()["Error"][0]["error_description"]
        assert bunq.verified(response)


def test_rate_limits_answer_429_after_three_gets_in_three_seconds(bunq):
    bunq.sb.set_scenario({"bunq": {"rate_limits": True}})
    company_session(bunq)
    path = f"/v1/user/{bunq.user_id}/monetary-account"
    statuses = [bunq.call("GET", path).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert "maximum of 3 GET" in bunq.call("GET", path).json()["Error"][0]["error_description"]
    # session-server: one per 30 seconds.
    second = bunq.session(bunq.sb.info()["bunq"]["api_key"])
    assert second.status_code == 429


def test_an_expired_session_is_401_and_a_new_session_works(bunq):
    api_key = bunq.sb.info()["bunq"]["api_key"]
    company_session(bunq)
    path = f"/v1/user/{bunq.user_id}/monetary-account"
    assert bunq.call("GET", path).status_code == 200
    bunq.sb.advance_clock(604800 + 1, calendar=False)
    expired = bunq.call("GET", path)
    assert expired.status_code == 401
    bunq.session_token = None
    assert bunq.session(api_key).status_code == 200
    assert bunq.call("GET", path).status_code == 200


def test_expire_session_fault_ends_the_calling_session(bunq):
    company_session(bunq)
    path = f"/v1/user/{bunq.user_id}/monetary-account"
    bunq.sb.set_faults({"bank": "bunq", "path": path, "error": "expire_session"})
    assert bunq.call("GET", path).status_code == 401


def test_a_spoilt_server_signature_does_not_verify(bunq):
    company_session(bunq)
    path = f"/v1/user/{bunq.user_id}/monetary-account"
    bunq.sb.set_faults({"bank": "bunq", "path": path, "error": "bad_server_signature"})
    spoilt = bunq.call("GET", path)
    assert spoilt.status_code == 200 and not bunq.verified(spoilt)
    assert bunq.verified(bunq.call("GET", path))


def test_a_revoked_grant_ends_its_sessions_and_its_api_key(bunq):
    access_token = bunq.consent()
    bunq.context(access_token)
    path = f"/v1/user/{bunq.user_id}/monetary-account"
    assert bunq.call("GET", path).status_code == 200
    bunq.sb.end_consents("bunq", "revoke")
    assert bunq.call("GET", path).status_code == 401
    bunq.session_token = None
    refused = bunq.session(access_token)
    assert refused.status_code == 401
    validate_error("/session-server", "post", refused)


def test_a_post_with_session_but_without_signature_is_466(bunq):
    api_key = items(bunq.register_psp())["CredentialPasswordIp"]["token_value"]
    bunq.device(api_key)
    bunq.session(api_key)
    response = bunq.call("POST", f"/v1/user/{bunq.user_id}/oauth-client", {"status": "ACTIVE"}, sign=False)
    assert response.status_code == 466


def test_admin_shows_sessions_accounts_and_the_server_key_on_the_bunq_port(bunq):
    company_session(bunq)
    admin = requests.get(bunq.base + "/_sandbox/bunq", verify=bunq.sb.certs.ca, timeout=30).json()
    assert [s["user_type"] for s in admin["sessions"]] == ["company"] and admin["installations"] == 1
    assert [a["product"] for a in admin["accounts"]] == ["bunq Zakelijk", "bunq Zakelijk Btw-potje",
                                                         "bunq Spaarrekening"]
    assert "BEGIN PUBLIC KEY" in admin["server_public_key"]
    assert "token" not in json.dumps(admin["sessions"])


# ------------------------------------------------------------------ draft payments
DRAFTS = "/user/{userID}/monetary-account/{monetary-accountID}/draft-payment"


def draft_body(*entries):
    """A DraftPayment as bunq documents it: entries with amount, a Pointer to the IBAN and a description."""
    return {"number_of_required_accepts": 1, "entries": [
        {"amount": {"value": value, "currency": "EUR"},
         "counterparty_alias": {"type": "IBAN", "value": iban, "name": name},
         "description": description} for value, iban, name, description in entries]}


def granted_account(bunq):
    bunq.context(bunq.consent())
    iban = eligible_ibans(bunq.sb)[0]
    return iban, account_ids(bunq)[iban]


def test_a_draft_payment_waits_in_the_app_and_its_payments_are_booked_when_accepted(bunq):
    iban, account_id = granted_account(bunq)
    # The generated history moves with today's date and may end below zero: deposit enough
    # that the order is covered whatever the balance (bunq has no overdraft here).
    balance = Decimal(str(next(a for a in bunq.sb.accounts("bunq") if a["iban"] == iban)["balance"]))
    deposit = Decimal("1000.00") + max(Decimal(0), -balance)
    bunq.sb.add_transactions("bunq", iban, [{"days_ago": 1, "amount": str(deposit), "description": "Storting",
                                             "counterparty_name": "De Korenbloem", "counterparty_iban":
                                             "NL91ABNA0417164300"}])
    before = next(a for a in bunq.sb.accounts("bunq") if a["iban"] == iban)
    body = draft_body(("418.60", "NL81INGB0002345671", "Meelfabriek Holland B.V.", "INK-001 PO/2026/0001"),
                      ("99.95", "NL02ABNA0123456789", "Zuivel & Co Zeeland", "INK-002 PO/2026/0001"))
    # Our request is bunq's DraftPayment schema, the answer its DraftPaymentCreate.
    schemas.validate(SPEC, DRAFTS, "post", 200, body, schema_ref="#/components/schemas/DraftPayment")
    path = f"/v1/user/{bunq.user_id}/monetary-account/{account_id}/draft-payment"
    created = bunq.call("POST", path, body)
    validate_merged(DRAFTS, "post", created)
    assert bunq.verified(created)
    draft_id = items(created)["Id"]["id"]
    one = bunq.call("GET", f"{path}/{draft_id}")
    draft = one.json()["Response"][0]["DraftPayment"]
    schemas.validate(SPEC, DRAFTS + "/{itemId}", "get", 200, draft)
    assert draft["status"] == "PENDING" and "object" not in draft
    assert [e["amount"]["value"] for e in draft["entries"]] == ["418.60", "99.95"]
    # Nothing is paid before the customer accepts in the app.
    assert next(a for a in bunq.sb.accounts("bunq") if a["iban"] == iban)["booked"] == before["booked"]
    at_bank = next(p for p in bunq.sb.payments("bunq") if p["bank_status"] == "PENDING")
    assert at_bank["approval_url"].startswith(bunq.base + "/sandbox-app/draft-payment/")
    page = bunq.sb.approve_payment(at_bank["approval_url"])
    assert "Opdracht ondertekend" in page
    draft = bunq.call("GET", f"{path}/{draft_id}").json()["Response"][0]["DraftPayment"]
    schemas.validate(SPEC, DRAFTS + "/{itemId}", "get", 200, draft)
    assert draft["status"] == "ACCEPTED", bunq.sb.payments("bunq")[0]["reason"]
    booked = draft["object"]["PaymentBatch"]["payments"]["Payment"]
    assert sorted(p["amount"]["value"] for p in booked) == ["-418.60", "-99.95"]
    # One bunq payment per entry in the account's list, with the entry's IBAN and description.
    rows, _pages = all_payments(bunq, account_id, count=200)
    mine = [row for row in rows if "PO/2026/0001" in row["description"]]
    assert {(row["counterparty_alias"]["iban"], row["amount"]["value"]) for row in mine} == {
        ("NL81INGB0002345671", "-418.60"), ("NL02ABNA0123456789", "-99.95")}
    listing = bunq.call("GET", path).json()["Response"]
    validate_list(DRAFTS, "get", [item["DraftPayment"] for item in listing])


def test_a_draft_refused_in_the_app_is_rejected_and_nothing_is_booked(bunq):
    iban, account_id = granted_account(bunq)
    before = next(a for a in bunq.sb.accounts("bunq") if a["iban"] == iban)["booked"]
    path = f"/v1/user/{bunq.user_id}/monetary-account/{account_id}/draft-payment"
    draft_id = items(bunq.call("POST", path, draft_body(
        ("12.00", "NL81INGB0002345671", "Meelfabriek Holland B.V.", "INK-009"))))["Id"]["id"]
    at_bank = next(p for p in bunq.sb.payments("bunq"))
    bunq.sb.cancel_payment(at_bank["approval_url"])
    draft = bunq.call("GET", f"{path}/{draft_id}").json()["Response"][0]["DraftPayment"]
    assert draft["status"] == "REJECTED" and "object" not in draft
    assert next(a for a in bunq.sb.accounts("bunq") if a["iban"] == iban)["booked"] == before


@pytest.mark.parametrize(("change", "words"), [
    (lambda b: b.update(number_of_required_accepts=2), "number_of_required_accepts"),
    (lambda b: b.update(entries=[]), "entries"),
    (lambda b: b["entries"][0]["counterparty_alias"].update(value="NL00INGB0002345671"), "IBAN"),
    (lambda b: b["entries"][0]["counterparty_alias"].pop("name"), "name"),
    (lambda b: b["entries"][0]["amount"].update(currency="USD"), "EUR"),
    (lambda b: b["entries"][0].update(description="x" * 141), "140"),
])
def test_a_draft_bunq_would_refuse_is_400_in_bunqs_error_envelope(bunq, change, words):
    _iban, account_id = granted_account(bunq)
    body = draft_body(("12.00", "NL81INGB0002345671", "Meelfabriek Holland B.V.", "INK-009"))
    change(body)
    response = bunq.call("POST", f"/v1/user/{bunq.user_id}/monetary-account/{account_id}/draft-payment", body)
    assert response.status_code == 400
    validate_error(DRAFTS, "post", response)
    assert words in response.json()["Error"][0]["error_description"]
    assert bunq.sb.payments("bunq") == []


def test_a_draft_on_an_account_outside_the_consent_or_unsigned_is_refused(bunq):
    first, second = eligible_ibans(bunq.sb)
    bunq.context(bunq.consent(ibans=[first]))
    other = account_ids(company_session(BunqRefClient(bunq.sb)))[second]
    body = draft_body(("12.00", "NL81INGB0002345671", "Meelfabriek Holland B.V.", "INK-009"))
    outside = bunq.call("POST", f"/v1/user/{bunq.user_id}/monetary-account/{other}/draft-payment", body)
    assert outside.status_code == 404
    mine = account_ids(bunq)[first]
    unsigned = bunq.call("POST", f"/v1/user/{bunq.user_id}/monetary-account/{mine}/draft-payment", body, sign=False)
    assert unsigned.status_code == 466
    assert bunq.sb.payments("bunq") == []
