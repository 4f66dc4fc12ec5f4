"""AbnAmroProvider's own logic with the HTTP client replaced by a fake."""

import datetime

import pytest

from account_bank_link_abnamro.tools import abnamro_provider
from account_bank_link_abnamro.tools.abnamro_provider import AbnAmroConfig, AbnAmroProvider
from l10n_nl_bankkoppeling.tools import provider

NOW = datetime.datetime(2026, 11, 21, 6, 0, tzinfo=datetime.UTC)
ACCOUNT = provider.BankAccount(resource_id="NL02ABNA0123456789", iban="NL02ABNA0123456789")
TOKENS = provider.TokenSet(access_token="at", refresh_token="rt-1")


@pytest.fixture
def abn():
    config = AbnAmroConfig("https://api", "https://auth", "https://auth/as/token.oauth2",
                           "client", "secret-key", "c.pem", "k.pem")
    return AbnAmroProvider(config, now=lambda: NOW)


def row(number):
    return {"transactionId": f"t{number}", "bookDate": "2026-11-20", "amount": 1,
            "currency": "EUR", "descriptionLines": ["SEPA Overboeking"]}


def test_config_repr_hides_the_api_key(abn):
    assert "secret-key" not in repr(abn.config)


def test_pages_until_no_next_key_with_dates_on_every_page(abn):
    calls = []
    answers = [{"accountNumber": "x", "transactions": [row(1)], "nextPageKey": "K2"},
               {"accountNumber": "x", "transactions": [row(2)], "nextPageKey": "K3"},
               {"accountNumber": "x", "transactions": [row(3)]}]

    def transactions_page(token, iban, date_from, date_to, next_key, *, context):
        calls.append((date_from, date_to, next_key))
        return answers[len(calls) - 1]

    abn.client.transactions_page = transactions_page
    start, end = datetime.date(2026, 1, 1), datetime.date(2026, 11, 20)
    ids = [t.bank_id for p in abn.fetch_transactions(TOKENS, ACCOUNT, start, end) for t in p.transactions]
    assert ids == ["t1", "t2", "t3"]
    assert calls == [(start, end, None), (start, end, "K2"), (start, end, "K3")]


def test_repeated_next_key_raises(abn):
    abn.client.transactions_page = lambda *a, **k: {"accountNumber": "x", "transactions": [row(1)],
                                                     "nextPageKey": "SAME"}
    with pytest.raises(provider.ProtocolError, match="repeats"):
        list(abn.fetch_transactions(TOKENS, ACCOUNT, datetime.date(2026, 1, 1), datetime.date(2026, 1, 2)))


def test_refresh_returns_the_rotated_token_and_keeps_consent_end(abn):
    sent = []

    def token_by_refresh(refresh_token):
        sent.append(refresh_token)
        return {"access_token": "at-2", "refresh_token": "rt-2", "expires_in": 7200}

    abn.client.token_by_refresh = token_by_refresh
    old = provider.TokenSet(access_token="at", refresh_token="rt-1",
                            consent_valid_until=datetime.date(2027, 5, 1))
    fresh = abn.refresh(old)
    assert sent == ["rt-1"]
    assert fresh.refresh_token == "rt-2"
    assert fresh.consent_valid_until == datetime.date(2027, 5, 1)
    assert fresh.expires_at == NOW + datetime.timedelta(hours=2)


@pytest.mark.parametrize(
    ("valid", "expected"),
    [
        # The access token's own expiry (what the spec's wording says): ignored.
        (int((NOW + datetime.timedelta(hours=2)).timestamp()), None),
        # A consent end months away: taken, as an Amsterdam calendar date.
        (int(datetime.datetime(2027, 5, 19, 22, 30, tzinfo=datetime.UTC).timestamp()),
         datetime.date(2027, 5, 20)),
    ],
)
def test_consent_end_from_consentinfo(abn, valid, expected):
    abn.client.token_by_code = lambda code, redirect: {"access_token": "at", "refresh_token": "rt",
                                                       "expires_in": 7200}
    abn.client.consent_info = lambda token: {"iban": ACCOUNT.iban, "scopes": "x", "valid": str(valid)}
    assert abn.exchange_code("code", "https://cb").consent_valid_until == expected


def test_tokens_survive_a_failing_consentinfo_after_code_exchange(abn):
    abn.client.token_by_code = lambda code, redirect: {"access_token": "at", "refresh_token": "rt",
                                                       "expires_in": 7200}

    def failing(token):
        raise provider.BankUnavailableError("down")

    abn.client.consent_info = failing
    tokens = abn.exchange_code("code", "https://cb")
    assert tokens.refresh_token == "rt" and tokens.consent_valid_until is None


def test_revoke_is_a_no_op_that_does_not_fail(abn):
    assert abn.revoke(TOKENS) is None


@pytest.mark.parametrize(("auth_url", "expected"), [
    # ABN AMRO's own OAuth hosts: the token endpoint on port 8443.
    ("https://auth.connect.abnamro.com", "https://auth.connect.abnamro.com:8443/as/token.oauth2"),
    ("https://auth-sandbox.connect.abnamro.com/", "https://auth-sandbox.connect.abnamro.com:8443/as/token.oauth2"),
    # The authorize page itself configured: the token endpoint beside it.
    ("https://auth.connect.abnamro.com/as/authorization.oauth2", "https://auth.connect.abnamro.com:8443/as/token.oauth2"),
    # A local sandbox: its own host, port and path.
    ("https://127.0.0.1:8444", "https://127.0.0.1:8444/as/token.oauth2"),
    ("https://127.0.0.1:8444/abn", "https://127.0.0.1:8444/abn/as/token.oauth2"),
    # Another host named like ABN AMRO's gets no port of ABN AMRO's.
    ("https://connect.abnamro.com.attacker.example", "https://connect.abnamro.com.attacker.example/as/token.oauth2"),
])
def test_token_url_follows_from_the_authorisation_url(auth_url, expected):
    assert abnamro_provider.token_url(auth_url) == expected


def test_provider_is_registered_and_built_from_registration_settings():
    assert provider.PROVIDER_CLASSES["abnamro"] is AbnAmroProvider
    settings = {"environment": "production", "api_base_url": "https://api.abnamro.com/",
                "auth_base_url": "https://auth.connect.abnamro.com", "client_id": "tpp", "client_secret": "",
                "api_key": "key", "tls_cert_path": "c.pem", "tls_key_path": "k.pem", "verify": True}
    config = AbnAmroProvider.config_from_settings(settings)
    assert config.api_base_url == "https://api.abnamro.com"
    assert config.token_url == "https://auth.connect.abnamro.com:8443/as/token.oauth2"
    assert (config.client_id, config.api_key, config.tls_key_path) == ("tpp", "key", "k.pem")
