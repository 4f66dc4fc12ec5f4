"""ABN AMRO client against the local bank sandbox: real HTTPS and mutual TLS,
OAuth with rotating refresh tokens, newest-first pagination, every fault."""

import datetime

import pytest

from account_bank_link_abnamro.tools import abnamro_client
from account_bank_link_abnamro.tools.abnamro_provider import AbnAmroConfig, AbnAmroProvider
from l10n_nl_bankkoppeling.tools import provider

REDIRECT_URI = "https://odoo.example.nl/bank_link/callback"
TRANSACTIONS = "/v1/accounts/*/transactions"


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


def make_provider(sb, sleeps=None, *, timeout=10.0, max_attempts=4, api_key=None, tls=None):
    tls_cert, tls_key = tls or sb.certs.abnamro_tls
    config = AbnAmroConfig(
        api_base_url=sb.abnamro_url,
        auth_base_url=sb.abnamro_url,
        token_url=f"{sb.abnamro_url}/as/token.oauth2",
        client_id=sb.abnamro_client_id,
        api_key=api_key or sb.abnamro_api_key,
        tls_cert_path=tls_cert,
        tls_key_path=tls_key,
        verify=sb.certs.ca,
        timeout=timeout,
    )
    return AbnAmroProvider(
        config,
        sleep=sleeps if sleeps is not None else Sleeps(),
        retry=abnamro_client.RetryPolicy(max_attempts=max_attempts, base_delay=1.0, max_delay=8.0),
    )


def main_iban(sb):
    return sb.accounts("abnamro")[0]["iban"]


def consent(sb, abn, iban=None):
    url = abn.authorization_url(REDIRECT_URI, "state-abn")
    query = sb.query_of(sb.approve_abnamro(url, iban or main_iban(sb)))
    assert query["state"] == "state-abn"
    return abn.exchange_code(query["code"], REDIRECT_URI)


def today(sb):
    return datetime.date.fromisoformat(sb.info()["today"])


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def abn(bank_sandbox, sleeps):
    return make_provider(bank_sandbox, sleeps)


@pytest.fixture
def tokens(bank_sandbox, abn):
    return consent(bank_sandbox, abn)


@pytest.fixture
def account(bank_sandbox, abn, tokens):
    (only,) = abn.list_accounts(tokens)
    return only


# ---------------------------------------------------------------- consent


def test_provider_declares_the_banks_rules(abn):
    assert abn.rotates_refresh_token is True
    assert abn.one_account_per_consent is True
    assert abn.max_unattended_fetches_per_day == 1


def test_authorization_url_asks_what_abn_amro_needs(bank_sandbox, abn):
    query = bank_sandbox.query_of(abn.authorization_url(REDIRECT_URI, "st"))
    assert query["scope"].split() == ["psd2:account:balance:read", "psd2:account:transaction:read",
                                      "psd2:account:details:read"]
    assert (query["bank"], query["flow"], query["response_type"]) == ("NLAA01", "code", "code")
    assert query["client_id"] == bank_sandbox.abnamro_client_id
    assert query["redirect_uri"] == REDIRECT_URI and query["state"] == "st"


def test_consent_covers_the_one_chosen_account(bank_sandbox, abn):
    second = bank_sandbox.accounts("abnamro")[1]
    tokens = consent(bank_sandbox, abn, second["iban"])
    assert tokens.access_token and tokens.refresh_token
    (account,) = abn.list_accounts(tokens)
    assert account.iban == account.resource_id == second["iban"]
    assert account.holder_name == second["holder"]
    assert account.currency == "EUR"
    # The sandbox's consentinfo 'valid' is the access token's expiry (as the
    # spec words it), so no consent end date is derived from it.
    assert tokens.consent_valid_until is None


def test_other_account_is_access_denied(bank_sandbox, abn, tokens):
    other = bank_sandbox.accounts("abnamro")[1]["iban"]
    stranger = provider.BankAccount(resource_id=other, iban=other)
    with pytest.raises(provider.AccessDeniedError) as raised:
        abn.fetch_balance(tokens, stranger)
    assert raised.value.bank_code == "MESSAGE_RST560_0016"


def test_balance(bank_sandbox, abn, tokens, account):
    balance = abn.fetch_balance(tokens, account)
    expected = next(a for a in bank_sandbox.accounts("abnamro") if a["iban"] == account.iban)["balance"]
    assert balance.balance_type == "BOOKBALANCE"
    assert str(balance.amount) == str(expected) or float(balance.amount) == float(expected)


def test_wrong_api_key_is_a_configuration_error(bank_sandbox, abn, tokens, account):
    wrong = make_provider(bank_sandbox, api_key="not-the-key")
    with pytest.raises(provider.ConfigurationError):
        wrong.fetch_balance(tokens, account)


def test_untrusted_client_certificate_is_a_configuration_error(bank_sandbox, abn):
    redirect = bank_sandbox.approve_abnamro(abn.authorization_url(REDIRECT_URI, "s"))
    stranger = make_provider(bank_sandbox, tls=bank_sandbox.certs.other_client)
    with pytest.raises(provider.ConfigurationError):
        stranger.exchange_code(bank_sandbox.query_of(redirect)["code"], REDIRECT_URI)


# ---------------------------------------------------------------- pagination


def test_all_pages_newest_first_without_gaps_or_duplicates(bank_sandbox, abn, tokens, account):
    expected = next(a for a in bank_sandbox.accounts("abnamro") if a["iban"] == account.iban)["booked"]
    date_from, date_to = today(bank_sandbox) - datetime.timedelta(days=500), today(bank_sandbox)
    bank_sandbox.clear_log()

    pages = list(abn.fetch_transactions(tokens, account, date_from, date_to))

    rows = [t for page in pages for t in page.transactions]
    assert len(pages) >= 5
    assert all(len(page.transactions) == 50 for page in pages[:-1])
    assert len(rows) == expected
    identities = [(t.bank_id, t.booking_date, t.amount, t.balance_after) for t in rows]
    assert len(set(identities)) == len(rows)
    dates = [t.booking_date for t in rows]
    assert dates == sorted(dates, reverse=True)
    assert date_from <= dates[-1] and dates[0] <= date_to
    # The dates go along with every page, also with nextPageKey.
    calls = [e for e in bank_sandbox.log("abnamro") if e["path"].endswith("/transactions")]
    assert len(calls) == len(pages)
    for call in calls:
        assert f"bookDateFrom={date_from.isoformat()}" in call["query"]
        assert f"bookDateTo={date_to.isoformat()}" in call["query"]
    assert all("nextPageKey=" in call["query"] for call in calls[1:])


def test_balance_after_chains_through_the_pages(bank_sandbox, abn, tokens, account):
    rows = [t for page in abn.fetch_transactions(
        tokens, account, today(bank_sandbox) - datetime.timedelta(days=120), today(bank_sandbox))
        for t in page.transactions]
    # Newest first: each row's balance minus its amount is the next row's balance.
    for newer, older in zip(rows, rows[1:], strict=False):
        assert newer.balance_after - newer.amount == older.balance_after


def test_rows_map_with_card_rows_and_references(bank_sandbox, abn, tokens, account):
    rows = [t for page in abn.fetch_transactions(
        tokens, account, today(bank_sandbox) - datetime.timedelta(days=90), today(bank_sandbox))
        for t in page.transactions]
    cards = [t for t in rows if t.is_card_payment]
    assert cards and all(t.bank_id is None and t.counterparty_name for t in cards)
    assert all(",PAS" not in t.counterparty_name for t in cards)
    assert all(t.bank_id for t in rows if not t.is_card_payment)
    structured = [t for t in rows if t.structured_reference]
    assert structured and all(t.structured_reference_issuer in ("CUR", "ISO") for t in structured)
    sepa = [t for t in rows if t.bank_transaction_code in ("654", "658")]
    assert sepa and all(t.counterparty_iban and t.counterparty_name for t in sepa)


# ---------------------------------------------------------------- tokens


def test_refresh_rotates_and_never_reuses_a_refresh_token(bank_sandbox, abn, tokens, account):
    bank_sandbox.clear_log()
    current = tokens
    seen = {tokens.refresh_token}
    for _ in range(3):
        current = abn.refresh(current)
        assert current.refresh_token not in seen
        seen.add(current.refresh_token)
        assert abn.fetch_balance(current, account)
    refreshes = [e for e in bank_sandbox.log("abnamro") if e.get("grant_type") == "refresh_token"]
    assert [e["status"] for e in refreshes] == [200, 200, 200]
    fingerprints = [e["token_fp"] for e in refreshes]
    assert len(set(fingerprints)) == len(fingerprints)
    assert not any(e.get("note") == "refresh_token_reused" for e in bank_sandbox.log("abnamro"))


@pytest.mark.parametrize("status", ["500", "503"])
def test_failed_refresh_is_not_retried_with_the_same_token(bank_sandbox, abn, tokens, sleeps, status):
    bank_sandbox.set_faults({"path": "/as/token.oauth2", "error": status})
    with pytest.raises(provider.BankUnavailableError):
        abn.refresh(tokens)
    token_calls = [e for e in bank_sandbox.log("abnamro") if e["path"] == "/as/token.oauth2"]
    assert token_calls[-1]["status"] == int(status)
    assert sleeps == []
    # Nothing was rotated: the stored token still works.
    assert abn.refresh(tokens).refresh_token


def test_refused_refresh_is_consent_expired(bank_sandbox, abn, tokens):
    bank_sandbox.set_faults({"path": "/as/token.oauth2", "error": "400"})
    with pytest.raises(provider.ConsentExpiredError):
        abn.refresh(tokens)


def test_expired_access_token(bank_sandbox, abn, tokens, account):
    bank_sandbox.advance_clock(7300, calendar=False)
    with pytest.raises(provider.TokenExpiredError) as raised:
        abn.fetch_balance(tokens, account)
    assert raised.value.bank_code == "ERR_2002_002"
    assert abn.fetch_balance(abn.refresh(tokens), account)


@pytest.mark.parametrize("fault", ["expire_consent", "revoke_consent"])
def test_consent_ended_at_the_bank(bank_sandbox, abn, tokens, account, fault):
    bank_sandbox.set_faults({"path": TRANSACTIONS, "error": fault})
    with pytest.raises(provider.TokenExpiredError):
        list(abn.fetch_transactions(tokens, account, today(bank_sandbox), today(bank_sandbox)))
    with pytest.raises(provider.ConsentExpiredError):
        abn.refresh(tokens)


# ---------------------------------------------------------------- faults


def fetch_with_fault_on_page_3(sb, abn, tokens, account, fault):
    pages = abn.fetch_transactions(tokens, account, today(sb) - datetime.timedelta(days=500), today(sb))
    received = [next(pages), next(pages)]
    sb.set_faults(fault)
    try:
        received.extend(pages)
    finally:
        pages.close()
    return received


@pytest.mark.parametrize(
    ("fault", "error", "code"),
    [
        ({"error": "401"}, provider.TokenExpiredError, "ERR_2002_002"),
        ({"error": "403"}, provider.AccessDeniedError, "ERR_3002_003"),
        ({"error": "403", "code": "MESSAGE_RST560_0016"}, provider.AccessDeniedError, "MESSAGE_RST560_0016"),
        ({"error": "truncate"}, provider.ProtocolError, None),
        ({"error": "malformed"}, provider.ProtocolError, None),
        ({"error": "500", "count": None}, provider.BankUnavailableError, "MESSAGE_BAI560_0005"),
        ({"error": "429", "count": None}, provider.RateLimitedError, "ERR_7002_001"),
    ],
)
def test_fault_on_page_3_raises_typed_error(bank_sandbox, abn, tokens, account, fault, error, code):
    with pytest.raises(error) as raised:
        fetch_with_fault_on_page_3(bank_sandbox, abn, tokens, account, {"path": TRANSACTIONS, **fault})
    assert raised.value.bank_code == code


def test_429_without_retry_after_backs_off_then_succeeds(bank_sandbox, abn, tokens, account, sleeps):
    bank_sandbox.set_faults({"path": "/v1/accounts/*/balances", "error": "429", "count": 3})
    assert abn.fetch_balance(tokens, account)
    assert sleeps == [1.0, 2.0, 4.0]


def test_429_with_retry_after_is_honoured(bank_sandbox, abn, tokens, account, sleeps):
    bank_sandbox.set_faults({"path": "/v1/accounts/*/balances", "error": "429", "retry_after": 5})
    assert abn.fetch_balance(tokens, account)
    assert sleeps == [5.0]


def test_timeout_is_retried_then_reported(bank_sandbox, sleeps):
    abn = make_provider(bank_sandbox, sleeps, timeout=0.5, max_attempts=2)
    tokens = consent(bank_sandbox, abn)
    (account,) = abn.list_accounts(tokens)
    bank_sandbox.set_faults({"path": "/v1/accounts/*/balances", "error": "timeout", "seconds": 1.5})
    assert abn.fetch_balance(tokens, account)
    bank_sandbox.set_faults({"path": "/v1/accounts/*/balances", "error": "timeout", "seconds": 1.5,
                             "count": 2})
    with pytest.raises(provider.BankUnavailableError):
        abn.fetch_balance(tokens, account)
    assert len(sleeps) == 2


def test_no_token_or_code_reaches_the_log(bank_sandbox, abn, caplog):
    caplog.set_level("DEBUG")
    redirect = bank_sandbox.approve_abnamro(abn.authorization_url(REDIRECT_URI, "s"))
    code = bank_sandbox.query_of(redirect)["code"]
    tokens = abn.exchange_code(code, REDIRECT_URI)
    refreshed = abn.refresh(tokens)
    (account,) = abn.list_accounts(refreshed)
    bank_sandbox.set_faults({"path": TRANSACTIONS, "error": "429"})
    list(abn.fetch_transactions(refreshed, account, today(bank_sandbox), today(bank_sandbox)))
    bank_sandbox.set_faults({"path": "/v1/accounts/*/balances", "error": "401"})
    with pytest.raises(provider.TokenExpiredError) as raised:
        abn.fetch_balance(refreshed, account)
    secrets = [code, tokens.access_token, tokens.refresh_token, refreshed.access_token,
               refreshed.refresh_token, bank_sandbox.abnamro_api_key]
    text = caplog.text + str(raised.value) + repr(raised.value) + repr(abn) + repr(abn.client) + repr(abn.config)
    assert caplog.records
    assert not [s for s in secrets if s and s in text]
