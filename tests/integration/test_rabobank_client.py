"""Rabobank client against the local bank sandbox: real HTTPS, mutual TLS,
RSA-SHA512 HTTP signatures, OAuth with Basic auth, _links.next paging, the
one-time history read and the faults the sandbox can inject."""

import datetime
from decimal import Decimal

import pytest

from account_bank_link_rabobank.tools import endpoints, rabobank_client
from account_bank_link_rabobank.tools.rabobank_provider import (
    NOTICE_HISTORY_SPENT,
    RabobankConfig,
    RabobankProvider,
)
from l10n_nl_bankkoppeling.tools import provider

REDIRECT_URI = "https://odoo.example.nl/bank_link/callback"
TRANSACTIONS = "/openapi/payments/account-information/ais/accounts/*/transactions"
ACCOUNTS = "/openapi/payments/account-information/ais/accounts"


class Sleeps(list):
    """Injected instead of time.sleep: records the backoff, waits nothing."""

    def __call__(self, seconds):
        self.append(seconds)


def make_provider(sb, sleeps=None, *, timeout=10.0, max_attempts=4, tls=None, secret=None):
    tls_cert, tls_key = tls or sb.certs.rabobank_tls
    config = RabobankConfig(
        api_base_url=sb.rabobank_url + "/openapi",
        auth_base_url=sb.rabobank_url + "/openapi/oauth2",
        client_id=sb.rabobank_client_id,
        client_secret=secret or sb.rabobank_client_secret,
        tls_cert_path=tls_cert,
        tls_key_path=tls_key,
        signing_cert_path=sb.certs.rabobank_signing_cert,
        signing_key_path=sb.certs.rabobank_signing_key,
        verify=sb.certs.ca,
        timeout=timeout,
    )
    return RabobankProvider(
        config, sleep=sleeps if sleeps is not None else Sleeps(),
        retry=rabobank_client.RetryPolicy(max_attempts=max_attempts, base_delay=1.0, max_delay=8.0))


def consent(sb, rabo, ibans=None):
    redirect = sb.approve_rabobank(rabo.authorization_url(REDIRECT_URI, "state-9"), ibans)
    query = sb.query_of(redirect)
    assert query["state"] == "state-9"
    return rabo.exchange_code(query["code"], REDIRECT_URI)


def main_account(sb, rabo, tokens):
    iban = sb.accounts("rabobank")[0]["iban"]
    return next(a for a in rabo.list_accounts(tokens) if a.iban == iban)


def today_of(sb):
    return datetime.date.fromisoformat(sb.info()["today"])


def rows(pages):
    return [t for page in pages for t in page.transactions]


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def rabo(bank_sandbox, sleeps):
    return make_provider(bank_sandbox, sleeps)


@pytest.fixture
def tokens(bank_sandbox, rabo):
    return consent(bank_sandbox, rabo)


# ---------------------------------------------------------------- consent


def test_consent_gives_tokens_the_consent_end_and_the_chosen_accounts(bank_sandbox, rabo):
    url = rabo.authorization_url(REDIRECT_URI, "s-1")
    query = bank_sandbox.query_of(url)
    assert query["scope"] == rabobank_client.SCOPES and query["response_type"] == "code"
    tokens = rabo.exchange_code(bank_sandbox.query_of(bank_sandbox.approve_rabobank(url))["code"], REDIRECT_URI)
    now = datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(minutes=59) < tokens.expires_at - now <= datetime.timedelta(hours=1)
    assert datetime.timedelta(days=29) < tokens.refresh_expires_at - now <= datetime.timedelta(days=30)
    assert tokens.consent_valid_until - today_of(bank_sandbox) in (datetime.timedelta(days=179),
                                                                  datetime.timedelta(days=180))
    assert "<hidden>" in repr(tokens) and tokens.access_token not in repr(tokens)
    chosen = {a["iban"] for a in bank_sandbox.accounts("rabobank") if a["eligible"]}
    accounts = rabo.list_accounts(tokens)
    assert {a.iban for a in accounts} == chosen
    assert all(a.eligible and a.resource_id and a.holder_name for a in accounts)


def test_code_cannot_be_exchanged_twice(bank_sandbox, rabo):
    code = bank_sandbox.query_of(bank_sandbox.approve_rabobank(rabo.authorization_url(REDIRECT_URI, "s")))["code"]
    rabo.exchange_code(code, REDIRECT_URI)
    with pytest.raises(provider.InvalidRequestError):
        rabo.exchange_code(code, REDIRECT_URI)


def test_wrong_client_secret_is_a_configuration_error(bank_sandbox):
    rabo = make_provider(bank_sandbox, secret="not-the-secret")
    redirect = bank_sandbox.approve_rabobank(rabo.authorization_url(REDIRECT_URI, "s"))
    with pytest.raises(provider.ConfigurationError):
        rabo.exchange_code(bank_sandbox.query_of(redirect)["code"], REDIRECT_URI)


def test_balance_is_the_expected_balance(bank_sandbox, rabo, tokens):
    account = main_account(bank_sandbox, rabo, tokens)
    balance = rabo.fetch_balance(tokens, account)
    expected = next(a for a in bank_sandbox.accounts("rabobank") if a["iban"] == account.iban)
    assert balance.balance_type == "expected" and balance.currency == "EUR"
    assert float(balance.amount) == pytest.approx(expected["expected_balance"])


# ---------------------------------------------------------------- history and paging


def test_first_fetch_takes_the_full_history_once_then_90_days(bank_sandbox, rabo, tokens):
    account = main_account(bank_sandbox, rabo, tokens)
    today = today_of(bank_sandbox)
    start = today - datetime.timedelta(days=365)
    first = list(rabo.fetch_transactions(tokens, account, start, today))
    history = rows(first)
    ids = [t.bank_id for t in history]
    assert len(first) > 5 and len(ids) == len(set(ids))
    assert min(t.booking_date for t in history) < today - datetime.timedelta(days=300)
    assert first[0].adjusted_date_from is None and not first[0].notices

    again = list(rabo.fetch_transactions(tokens, account, start, today))
    recent = rows(again)
    assert again[0].adjusted_date_from == today - datetime.timedelta(days=90)
    assert again[0].notices == (NOTICE_HISTORY_SPENT,)
    assert min(t.booking_date for t in recent) >= today - datetime.timedelta(days=90)
    # The 90 days come whole, none missing and none twice.
    window = {t.bank_id for t in history if t.booking_date >= today - datetime.timedelta(days=90)}
    assert [t.bank_id for t in recent if t.bank_id in window] and {t.bank_id for t in recent} == window
    assert len(recent) == len({t.bank_id for t in recent})


def test_pages_follow_the_next_links_without_gaps(bank_sandbox, rabo, tokens):
    account = main_account(bank_sandbox, rabo, tokens)
    today = today_of(bank_sandbox)
    bank_sandbox.clear_log()
    pages = list(rabo.fetch_transactions(tokens, account, today - datetime.timedelta(days=80), today))
    calls = [e for e in bank_sandbox.log("rabobank") if e["path"].endswith("/transactions")]
    assert len(calls) == len(pages) > 1
    assert all("nextPageToken=" in e["query"] for e in calls[1:])
    transactions = rows(pages)
    assert all(t.booking_date >= today - datetime.timedelta(days=80) for t in transactions)
    assert any(t.amount < 0 and t.counterparty_name for t in transactions)
    assert any(t.amount > 0 and t.counterparty_name and t.counterparty_iban for t in transactions)
    assert any(t.structured_reference for t in transactions)


# ---------------------------------------------------------------- tokens


def test_refresh_rotates_and_the_old_refresh_token_is_spent(bank_sandbox, rabo, tokens):
    refreshed = rabo.refresh(tokens)
    assert refreshed.refresh_token != tokens.refresh_token
    assert refreshed.consent_valid_until == tokens.consent_valid_until
    assert rabo.list_accounts(refreshed)
    with pytest.raises(provider.ConsentExpiredError):
        rabo.refresh(tokens)


def test_expired_access_token_raises_token_expired_and_refresh_helps(bank_sandbox, rabo, tokens):
    bank_sandbox.advance_clock(3601, calendar=False)
    with pytest.raises(provider.TokenExpiredError):
        rabo.list_accounts(tokens)
    assert rabo.list_accounts(rabo.refresh(tokens))


@pytest.mark.parametrize(("fault", "error"), [("expire_consent", provider.ConsentExpiredError),
                                              ("revoke_consent", provider.ConsentRevokedError)])
def test_consent_ended_at_the_bank(bank_sandbox, rabo, tokens, fault, error):
    account = main_account(bank_sandbox, rabo, tokens)
    bank_sandbox.set_faults({"path": TRANSACTIONS, "error": fault})
    today = today_of(bank_sandbox)
    with pytest.raises(error):
        list(rabo.fetch_transactions(tokens, account, today - datetime.timedelta(days=5), today))
    with pytest.raises(provider.ConsentExpiredError):
        rabo.refresh(tokens)


# ---------------------------------------------------------------- faults


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
def test_fault_on_page_3_raises_typed_error(bank_sandbox, rabo, tokens, fault, error):
    account = main_account(bank_sandbox, rabo, tokens)
    today = today_of(bank_sandbox)
    pages = rabo.fetch_transactions(tokens, account, today - datetime.timedelta(days=85), today)
    received = [next(pages), next(pages)]
    bank_sandbox.set_faults({"path": TRANSACTIONS, **fault})
    with pytest.raises(error):
        received.extend(pages)
    assert len(received) == 2


def test_429_with_retry_after_is_honoured_then_succeeds(bank_sandbox, rabo, tokens, sleeps):
    bank_sandbox.set_faults({"path": ACCOUNTS, "error": "429", "retry_after": 3, "count": 2})
    assert rabo.list_accounts(tokens)
    assert sleeps == [3.0, 3.0]


def test_timeout_is_retried_then_reported(bank_sandbox, sleeps):
    rabo = make_provider(bank_sandbox, sleeps, timeout=0.5, max_attempts=2)
    tokens = consent(bank_sandbox, rabo)
    bank_sandbox.set_faults({"path": ACCOUNTS, "error": "timeout", "seconds": 1.5})
    assert rabo.list_accounts(tokens)
    bank_sandbox.set_faults({"path": ACCOUNTS, "error": "timeout", "seconds": 1.5, "count": 2})
    with pytest.raises(provider.BankUnavailableError):
        rabo.list_accounts(tokens)
    assert len(sleeps) == 2


def test_failed_code_exchange_and_refresh_are_not_retried(bank_sandbox, rabo, tokens, sleeps):
    bank_sandbox.set_faults({"path": "/openapi/oauth2/token", "error": "500", "count": None})
    with pytest.raises(provider.BankUnavailableError):
        rabo.refresh(tokens)
    assert sleeps == []


def test_untrusted_client_certificate_is_a_configuration_error(bank_sandbox, tokens):
    rabo = make_provider(bank_sandbox, tls=bank_sandbox.certs.other_client)
    with pytest.raises(provider.ConfigurationError):
        rabo.list_accounts(tokens)


def test_missing_signing_key_file_is_a_configuration_error(bank_sandbox, tmp_path):
    with pytest.raises(provider.ConfigurationError):
        RabobankProvider(RabobankConfig(
            api_base_url=bank_sandbox.rabobank_url, auth_base_url=bank_sandbox.rabobank_url,
            client_id="x", client_secret="y", signing_cert_path=str(tmp_path / "nope.pem"),
            signing_key_path=str(tmp_path / "nope.key")))


def test_production_hosts_are_rabobanks_own():
    assert set(endpoints.PRODUCTION_HOSTS) == {"api.rabobank.nl", "oauth.rabobank.nl"}
    assert endpoints.PRODUCTION_API_URL.startswith("https://api.rabobank.nl/")


def test_no_token_code_or_secret_reaches_the_log(bank_sandbox, rabo, caplog):
    caplog.set_level("DEBUG")
    code = bank_sandbox.query_of(bank_sandbox.approve_rabobank(rabo.authorization_url(REDIRECT_URI, "s")))["code"]
    tokens = rabo.exchange_code(code, REDIRECT_URI)
    refreshed = rabo.refresh(tokens)
    bank_sandbox.set_faults({"path": ACCOUNTS, "error": "429", "retry_after": 1})
    rabo.list_accounts(refreshed)
    bank_sandbox.set_faults({"path": ACCOUNTS, "error": "401"})
    with pytest.raises(provider.TokenExpiredError) as raised:
        rabo.list_accounts(refreshed)
    secrets = [code, tokens.access_token, tokens.refresh_token, refreshed.access_token,
               refreshed.refresh_token, bank_sandbox.rabobank_client_secret]
    text = caplog.text + str(raised.value) + repr(raised.value) + repr(rabo) + repr(rabo.client) + repr(rabo.config)
    assert caplog.records
    assert not [s for s in secrets if s and s in text]


def one_payment_batch(sb, amounts=("418.60",)):
    debtor = sb.accounts("rabobank")[0]["iban"]
    instructions = tuple(
        provider.PaymentInstruction(end_to_end_id=f"E2E-{n}", amount=Decimal(amount), currency="EUR",
                                    counterparty_name="Verpakkingen Oost B.V.",
                                    counterparty_iban="NL94RABO0174526389", remittance_text="F2026-4103")
        for n, amount in enumerate(amounts))
    return provider.PaymentBatch(
        order_type=provider.ORDER_CREDIT_TRANSFER, idempotency_key="k-1", message_id="MSG-1",
        account_iban=debtor, account_name="De Gouden Korenaar B.V.", currency="EUR",
        total=sum((i.amount for i in instructions), Decimal(0)), requested_date=None,
        instructions=instructions, redirect_uri="https://odoo.example.nl/bank_link/payment/back?state=s")


def test_a_single_payment_is_initiated_approved_and_its_status_read(bank_sandbox, rabo):
    submission = rabo.submit_payment_batch(one_payment_batch(bank_sandbox))
    assert submission.status.iso_status == "ACTC"
    assert submission.approval_url.startswith(bank_sandbox.rabobank_url + "/betalen/")
    at_bank = bank_sandbox.payment(submission.bank_payment_id)
    assert Decimal(str(at_bank["total"])) == Decimal("418.60")
    back = bank_sandbox.approve_payment(submission.approval_url)
    assert back.startswith("https://odoo.example.nl/bank_link/payment/back")
    assert rabo.payment_batch_status(submission.reference_data).iso_status == "ACCP"


def test_more_payments_are_never_sent_as_a_batch(bank_sandbox, rabo):
    support = rabo.payment_support(provider.ORDER_CREDIT_TRANSFER)
    assert (support.how, support.max_transactions) == (provider.SUPPORT_API, 1)
    assert rabo.payment_support(provider.ORDER_DIRECT_DEBIT).how == provider.SUPPORT_FILE
    with pytest.raises(provider.InvalidRequestError, match="one payment at a time"):
        rabo.submit_payment_batch(one_payment_batch(bank_sandbox, ("10.00", "20.00")))
    assert bank_sandbox.payments("rabobank") == []
