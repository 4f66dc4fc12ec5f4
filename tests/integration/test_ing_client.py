"""ING client against the local bank sandbox: real HTTPS, mutual TLS, HTTP
Signatures, OAuth, pagination and every fault the sandbox can inject."""

import datetime

import pytest

from account_bank_link_ing.tools import ing_client, ing_mapping
from account_bank_link_ing.tools.ing_provider import IngConfig, IngProvider, utc_start_of_local_day
from l10n_nl_bankkoppeling.tools import provider

REDIRECT_URI = "https://odoo.example.nl/bank_link/callback"
TRANSACTIONS = "/v3/accounts/*/transactions"


class Sleeps(list):
    """Injected instead of time.sleep: records the backoff, waits nothing."""

    def __call__(self, seconds):
        self.append(seconds)


def make_provider(sb, sleeps=None, *, timeout=10.0, max_attempts=4, tls=None, client_id=""):
    tls_cert, tls_key = tls or sb.certs.ing_tls
    config = IngConfig(
        base_url=sb.ing_url,
        client_id=client_id,
        tls_cert_path=tls_cert,
        tls_key_path=tls_key,
        signing_cert_path=sb.certs.ing_signing_cert,
        signing_key_path=sb.certs.ing_signing_key,
        verify=sb.certs.ca,
        timeout=timeout,
    )
    return IngProvider(
        config,
        sleep=sleeps if sleeps is not None else Sleeps(),
        retry=ing_client.RetryPolicy(max_attempts=max_attempts, base_delay=1.0, max_delay=8.0),
    )


def consent(sb, ing, ibans=None):
    url = ing.authorization_url(REDIRECT_URI, "state-123")
    redirect = sb.approve_ing(url, ibans)
    query = sb.query_of(redirect)
    assert query["state"] == "state-123"
    return ing.exchange_code(query["code"], REDIRECT_URI)


def main_account(sb, ing, tokens):
    iban = sb.accounts("ing")[0]["iban"]
    return next(a for a in ing.list_accounts(tokens) if a.iban == iban)


def period(sb, days):
    today = datetime.date.fromisoformat(sb.info()["today"])
    return today - datetime.timedelta(days=days), today


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def ing(bank_sandbox, sleeps):
    return make_provider(bank_sandbox, sleeps)


@pytest.fixture
def tokens(bank_sandbox, ing):
    return consent(bank_sandbox, ing)


# ---------------------------------------------------------------- consent


def test_consent_gives_tokens_and_the_chosen_accounts(bank_sandbox, ing):
    url = ing.authorization_url(REDIRECT_URI, "s-1")
    query = bank_sandbox.query_of(url)
    assert query["response_type"] == "code"
    assert query["scope"] == "payment-accounts:balances:view payment-accounts:transactions:view"
    assert query["redirect_uri"] == REDIRECT_URI and query["state"] == "s-1"
    assert query["client_id"]  # the one ING assigned to our certificate

    redirect = bank_sandbox.approve_ing(url)
    tokens = ing.exchange_code(bank_sandbox.query_of(redirect)["code"], REDIRECT_URI)
    assert tokens.access_token and tokens.refresh_token
    assert tokens.expires_at > datetime.datetime.now(datetime.UTC)
    assert "<hidden>" in repr(tokens) and tokens.access_token not in repr(tokens)

    chosen = {a["iban"] for a in bank_sandbox.accounts("ing") if a["eligible"]}
    accounts = ing.list_accounts(tokens)
    assert {a.iban for a in accounts} == chosen
    assert all(a.eligible and a.resource_id for a in accounts)


def test_our_eligibility_agrees_with_the_bank_for_every_account(bank_sandbox):
    for account in bank_sandbox.accounts("ing"):
        eligible, reason = ing_mapping.eligibility(account["product"], account["currency"])
        assert eligible is account["eligible"], (account["product"], reason)


def test_code_cannot_be_exchanged_twice(bank_sandbox, ing):
    redirect = bank_sandbox.approve_ing(ing.authorization_url(REDIRECT_URI, "s"))
    code = bank_sandbox.query_of(redirect)["code"]
    ing.exchange_code(code, REDIRECT_URI)
    with pytest.raises(provider.InvalidRequestError):
        ing.exchange_code(code, REDIRECT_URI)


def test_balance_is_yesterdays_closing_booked(bank_sandbox, ing, tokens):
    balance = ing.fetch_balance(tokens, main_account(bank_sandbox, ing, tokens))
    today = datetime.date.fromisoformat(bank_sandbox.info()["today"])
    assert balance.balance_type == "closingBooked"
    assert balance.reference_date == today - datetime.timedelta(days=1)
    assert balance.currency == "EUR"


# ---------------------------------------------------------------- pagination


def test_all_pages_without_gaps_or_duplicates(bank_sandbox, ing, tokens):
    account = main_account(bank_sandbox, ing, tokens)
    expected = next(a for a in bank_sandbox.accounts("ing") if a["iban"] == account.iban)["booked"]
    date_from, date_to = period(bank_sandbox, 700)  # inside ING's 730 days of history
    bank_sandbox.clear_log()

    pages = list(ing.fetch_transactions(tokens, account, date_from, date_to))

    ids = [t.bank_id for page in pages for t in page.transactions]
    assert len(pages) >= 5
    assert len(ids) == len(set(ids)) == expected
    requests_made = [e for e in bank_sandbox.log("ing") if e["path"].endswith("/transactions")]
    assert len(requests_made) == len(pages)
    assert all(e["status"] == 200 for e in requests_made)
    assert f"dateFrom={utc_start_of_local_day(date_from)}" in requests_made[0]["query"]
    assert all("next=" in e["query"] for e in requests_made[1:])
    assert all(page.adjusted_date_from is None for page in pages)


def test_booked_rows_map_to_complete_transactions(bank_sandbox, ing, tokens):
    account = main_account(bank_sandbox, ing, tokens)
    transactions = [t for page in ing.fetch_transactions(tokens, account, *period(bank_sandbox, 60))
                    for t in page.transactions]
    assert transactions
    for tx in transactions:
        assert tx.bank_id and tx.currency == "EUR" and tx.booking_date
        assert "<br>" not in tx.remittance_text
    assert any(t.is_card_payment for t in transactions)
    assert any(t.structured_reference for t in transactions)
    assert {t.structured_reference_issuer for t in transactions if t.structured_reference} <= {"CUR", "ISO"}
    # Debits name the creditor, credits the debtor; both appear in the data.
    assert any(t.amount < 0 and t.counterparty_name for t in transactions)
    assert any(t.amount > 0 and t.counterparty_name for t in transactions)


def test_history_cut_short_is_reported(bank_sandbox, ing, tokens):
    account = main_account(bank_sandbox, ing, tokens)
    date_from, date_to = period(bank_sandbox, 1000)
    pages = list(ing.fetch_transactions(tokens, account, date_from, date_to))
    today = datetime.date.fromisoformat(bank_sandbox.info()["today"])
    assert pages[0].adjusted_date_from == today - datetime.timedelta(days=730)
    assert pages[0].notices


# ---------------------------------------------------------------- tokens


def test_refresh_keeps_the_old_refresh_token_when_none_is_returned(bank_sandbox, ing, tokens):
    # The sandbox alternates: a new refresh token on the 1st refresh, none on the 2nd.
    first = ing.refresh(tokens)
    assert first.refresh_token != tokens.refresh_token
    second = ing.refresh(first)
    assert second.refresh_token == first.refresh_token
    assert second.access_token != first.access_token
    # The kept refresh token still works, and the old access token was replaced.
    third = ing.refresh(second)
    ing.list_accounts(third)
    refreshes = [e for e in bank_sandbox.log("ing") if e.get("grant_type") == "refresh_token"]
    assert [e["status"] for e in refreshes] == [200, 200, 200]
    assert not any(e.get("note") == "refresh_token_reused" for e in refreshes)


def test_expired_access_token_raises_token_expired(bank_sandbox, ing, tokens):
    bank_sandbox.advance_clock(1000, calendar=False)  # access tokens live 900 s
    with pytest.raises(provider.TokenExpiredError):
        ing.list_accounts(tokens)
    # The application token expired too; the client gets a new one by itself.
    fresh = ing.refresh(tokens)
    assert ing.list_accounts(fresh)


def test_revoke_ends_the_consent(bank_sandbox, ing, tokens):
    ing.revoke(tokens)
    with pytest.raises(provider.ConsentExpiredError):
        ing.refresh(tokens)
    assert any(c["status"] == "revoked" for c in bank_sandbox.consents())


@pytest.mark.parametrize("fault", ["expire_consent", "revoke_consent"])
def test_consent_ended_at_the_bank(bank_sandbox, ing, tokens, fault):
    account = main_account(bank_sandbox, ing, tokens)
    bank_sandbox.set_faults({"path": TRANSACTIONS, "error": fault})
    with pytest.raises(provider.TokenExpiredError):
        list(ing.fetch_transactions(tokens, account, *period(bank_sandbox, 10)))
    # What the framework does next: refresh once. Refused: the user must renew.
    with pytest.raises(provider.ConsentExpiredError):
        ing.refresh(tokens)


def test_untrusted_client_certificate_is_a_configuration_error(bank_sandbox):
    ing = make_provider(bank_sandbox, tls=bank_sandbox.certs.other_client)
    with pytest.raises(provider.ConfigurationError):
        ing.authorization_url(REDIRECT_URI, "s")


# ---------------------------------------------------------------- faults


def fetch_with_fault_on_page_3(sb, ing, tokens, fault):
    """Two good pages, then ``fault``: the generator must raise, not end."""
    account = main_account(sb, ing, tokens)
    pages = ing.fetch_transactions(tokens, account, *period(sb, 700))
    received = [next(pages), next(pages)]
    sb.set_faults(fault)
    try:
        received.extend(pages)
    finally:
        pages.close()
    return received


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"error": "401"}, provider.TokenExpiredError),
        ({"error": "403"}, provider.AccessDeniedError),
        ({"error": "truncate"}, provider.ProtocolError),
        ({"error": "malformed"}, provider.ProtocolError),
        ({"error": "500", "count": None}, provider.BankUnavailableError),
        ({"error": "429", "count": None}, provider.RateLimitedError),
    ],
)
def test_fault_on_page_3_raises_typed_error(bank_sandbox, ing, tokens, fault, error):
    with pytest.raises(error):
        fetch_with_fault_on_page_3(bank_sandbox, ing, tokens, {"path": TRANSACTIONS, **fault})


def test_429_with_retry_after_is_honoured_then_succeeds(bank_sandbox, ing, tokens, sleeps):
    bank_sandbox.set_faults({"path": "/v3/accounts", "error": "429", "retry_after": 3, "count": 2})
    assert ing.list_accounts(tokens)
    assert sleeps == [3.0, 3.0]


def test_429_without_retry_after_backs_off_exponentially(bank_sandbox, ing, tokens, sleeps):
    bank_sandbox.set_faults({"path": "/v3/accounts", "error": "429", "count": None})
    with pytest.raises(provider.RateLimitedError) as raised:
        ing.list_accounts(tokens)
    assert sleeps == [1.0, 2.0, 4.0]
    assert raised.value.http_status == 429 and raised.value.retry_after is None


def test_long_retry_after_is_passed_on_instead_of_slept(bank_sandbox, ing, tokens, sleeps):
    bank_sandbox.set_faults({"path": "/v3/accounts", "error": "429", "retry_after": 3600})
    with pytest.raises(provider.RateLimitedError) as raised:
        ing.list_accounts(tokens)
    assert sleeps == [] and raised.value.retry_after == 3600


def test_single_500_is_retried(bank_sandbox, ing, tokens, sleeps):
    bank_sandbox.set_faults({"path": "/v3/accounts", "error": "500"})
    assert ing.list_accounts(tokens)
    assert sleeps == [1.0]


def test_timeout_is_retried_then_reported(bank_sandbox, sleeps):
    ing = make_provider(bank_sandbox, sleeps, timeout=0.5, max_attempts=2)
    tokens = consent(bank_sandbox, ing)
    bank_sandbox.set_faults({"path": "/v3/accounts", "error": "timeout", "seconds": 1.5})
    assert ing.list_accounts(tokens)  # second attempt is served
    bank_sandbox.set_faults({"path": "/v3/accounts", "error": "timeout", "seconds": 1.5, "count": 2})
    with pytest.raises(provider.BankUnavailableError):
        ing.list_accounts(tokens)
    assert len(sleeps) == 2


@pytest.mark.parametrize("status", ["400", "403"])
def test_refused_refresh_is_consent_expired(bank_sandbox, ing, tokens, status):
    bank_sandbox.set_faults({"path": "/oauth2/token", "error": status})
    with pytest.raises(provider.ConsentExpiredError):
        ing.refresh(tokens)


def test_401_on_token_endpoint_renews_the_application_token_once(bank_sandbox, ing, tokens):
    # ING may forget an application token before its expiry: renew, retry.
    bank_sandbox.set_faults({"path": "/oauth2/token", "error": "401"})
    assert ing.refresh(tokens).access_token
    calls = [(e["status"], e.get("grant_type")) for e in bank_sandbox.log("ing")
             if e["path"] == "/oauth2/token"]
    assert calls[-3:] == [(401, None), (200, "client_credentials"), (200, "refresh_token")]


def test_failed_code_exchange_is_not_retried(bank_sandbox, ing, sleeps):
    redirect = bank_sandbox.approve_ing(ing.authorization_url(REDIRECT_URI, "s"))
    bank_sandbox.set_faults({"path": "/oauth2/token", "error": "500"})
    with pytest.raises(provider.BankUnavailableError):
        ing.exchange_code(bank_sandbox.query_of(redirect)["code"], REDIRECT_URI)
    assert sleeps == []


def test_missing_certificate_file_is_a_configuration_error(bank_sandbox, tmp_path):
    ing = make_provider(bank_sandbox, tls=(str(tmp_path / "nope.pem"), str(tmp_path / "nope.key")))
    with pytest.raises(provider.ConfigurationError):
        ing.authorization_url(REDIRECT_URI, "s")


def test_no_token_or_code_reaches_the_log(bank_sandbox, ing, caplog):
    caplog.set_level("DEBUG")
    redirect = bank_sandbox.approve_ing(ing.authorization_url(REDIRECT_URI, "s"))
    code = bank_sandbox.query_of(redirect)["code"]
    tokens = ing.exchange_code(code, REDIRECT_URI)
    refreshed = ing.refresh(tokens)
    bank_sandbox.set_faults({"path": "/v3/accounts", "error": "429", "retry_after": 1})
    account = main_account(bank_sandbox, ing, refreshed)
    list(ing.fetch_transactions(refreshed, account, *period(bank_sandbox, 5)))
    bank_sandbox.set_faults({"path": "/v3/accounts", "error": "401"})
    with pytest.raises(provider.TokenExpiredError) as raised:
        ing.list_accounts(refreshed)
    secrets = [code, tokens.access_token, tokens.refresh_token, refreshed.access_token,
               refreshed.refresh_token, ing.client.application_token()]
    text = caplog.text + str(raised.value) + repr(raised.value) + repr(ing) + repr(ing.client)
    assert caplog.records  # the client does log
    assert not [s for s in secrets if s and s in text]
