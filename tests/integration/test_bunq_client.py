"""bunq client against the local bank sandbox over HTTPS: the API context
(installation, device, session), body signatures both ways, PSD2
registration, OAuth with the access token as API key, monetary accounts,
payments through Pagination.older_url, session expiry and renewal, faults."""

import datetime

import pytest

from account_bank_link_bunq.tools import bunq_client
from account_bank_link_bunq.tools.bunq_provider import BunqConfig, BunqProvider
from l10n_nl_bankkoppeling.tools import provider

REDIRECT_URI = "https://odoo.example.nl/bank_link/callback"
PAYMENTS = "/v1/user/*/monetary-account/*/payment"
ACCOUNTS = "/v1/user/*/monetary-account"


class Sleeps(list):
    """Injected instead of time.sleep: records the backoff, waits nothing."""

    def __call__(self, seconds):
        self.append(seconds)


def make_provider(sb, sleeps=None, *, secret=None, max_attempts=4, now=None, page_count=200):
    info = sb.info()["bunq"]
    config = BunqConfig(api_base_url=sb.bunq_url + "/v1", authorize_url=sb.bunq_url + "/auth",
                        token_url=sb.bunq_url + "/v1/token", client_id=info["client_id"],
                        client_secret=secret or info["client_secret"], verify=sb.certs.ca, timeout=10.0,
                        page_count=page_count)
    return BunqProvider(config, sleep=sleeps if sleeps is not None else Sleeps(), now=now,
                        retry=bunq_client.RetryPolicy(max_attempts=max_attempts, base_delay=1.0, max_delay=8.0))


def consent(sb, bunq, ibans=None):
    redirect = sb.approve_bunq(bunq.authorization_url(REDIRECT_URI, "state-7"), ibans)
    query = sb.query_of(redirect)
    assert query["state"] == "state-7"
    return bunq.exchange_code(query["code"], REDIRECT_URI)


def main_account(sb, bunq, tokens):
    iban = sb.accounts("bunq")[0]["iban"]
    return next(a for a in bunq.list_accounts(tokens) if a.iban == iban)


def today_of(sb):
    return datetime.date.fromisoformat(sb.info()["today"])


def test_consent_gives_a_user_api_key_context_and_the_chosen_accounts_with_dutch_reasons(bank_sandbox):
    bunq = make_provider(bank_sandbox)
    tokens = consent(bank_sandbox, bunq)
    context = bunq_client.BunqContext.from_json(tokens.access_token)
    assert context.user_type == "UserApiKey" and tokens.scope == "UserApiKey"
    assert tokens.refresh_token == context.api_key  # the OAuth access token: bunq's API key
    assert tokens.expires_at > datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=6)
    accounts = bunq.list_accounts(tokens)
    eligible = {a["iban"] for a in bank_sandbox.accounts("bunq") if a["eligible"]}
    assert {a.iban for a in accounts} == eligible and all(a.eligible for a in accounts)
    main = main_account(bank_sandbox, bunq, tokens)
    assert main.product == "bunq Zakelijk" and main.holder_name == "Bakkerij De Korenbloem B.V."


def test_secrets_stay_out_of_repr(bank_sandbox):
    bunq = make_provider(bank_sandbox)
    tokens = consent(bank_sandbox, bunq)
    context = bunq_client.BunqContext.from_json(tokens.access_token)
    shown = repr(context) + repr(tokens) + repr(bunq) + repr(bunq.client) + repr(bunq.config)
    for secret in (context.api_key, context.session_token, context.installation_token, "PRIVATE KEY",
                   bank_sandbox.info()["bunq"]["client_secret"]):
        assert secret not in shown


def test_fetch_reads_every_payment_of_the_window_once_and_the_balance(bank_sandbox):
    bunq = make_provider(bank_sandbox, page_count=15)
    tokens = consent(bank_sandbox, bunq)
    account = main_account(bank_sandbox, bunq, tokens)
    today = today_of(bank_sandbox)
    pages = list(bunq.fetch_transactions(tokens, account, today - datetime.timedelta(days=60), today))
    rows = [tx for page in pages for tx in page.transactions]
    expected = next(a for a in bank_sandbox.accounts("bunq") if a["iban"] == account.iban)
    assert len(rows) == expected["booked"] and len(pages) == -(-expected["booked"] // 15)
    assert len({tx.bank_id for tx in rows}) == len(rows)
    assert rows[0].balance_after == expected["balance"] or str(rows[0].balance_after) == f"{expected['balance']:.2f}"
    balance = bunq.fetch_balance(tokens, account)
    assert str(balance.amount) == f"{expected['balance']:.2f}" and balance.reference_date == today
    assert sum(tx.amount for tx in rows) == balance.amount - rows[-1].balance_after + rows[-1].amount


def test_a_short_window_stops_at_the_first_page_reaching_before_it(bank_sandbox):
    bunq = make_provider(bank_sandbox, page_count=10)
    tokens = consent(bank_sandbox, bunq)
    account = main_account(bank_sandbox, bunq, tokens)
    today = today_of(bank_sandbox)
    bank_sandbox.clear_log()
    start = today - datetime.timedelta(days=3)
    rows = [tx for page in bunq.fetch_transactions(tokens, account, start, today) for tx in page.transactions]
    assert rows and all(start <= tx.booking_date <= today for tx in rows)
    calls = [e for e in bank_sandbox.log("bunq") if e["path"].endswith("/payment")]
    expected = next(a for a in bank_sandbox.accounts("bunq") if a["iban"] == account.iban)
    assert len(calls) < -(-expected["booked"] // 10)  # not the whole history


def test_an_expired_session_is_renewed_through_refresh_and_the_api_key_stays(bank_sandbox):
    bunq = make_provider(bank_sandbox)
    tokens = consent(bank_sandbox, bunq)
    bank_sandbox.advance_clock(604800 + 60, calendar=False)
    with pytest.raises(provider.TokenExpiredError):
        bunq.list_accounts(tokens)
    renewed = bunq.refresh(tokens)
    assert renewed.refresh_token == tokens.refresh_token
    old, new = (bunq_client.BunqContext.from_json(t.access_token) for t in (tokens, renewed))
    assert new.session_token != old.session_token and new.installation_token == old.installation_token
    assert bunq.list_accounts(renewed)


def test_a_session_near_its_end_is_renewed_before_calling_bunq(bank_sandbox):
    moments = [datetime.datetime.now(datetime.UTC)]
    bunq = make_provider(bank_sandbox, now=lambda: moments[0])
    tokens = consent(bank_sandbox, bunq)
    moments[0] = tokens.expires_at - datetime.timedelta(seconds=10)
    bank_sandbox.clear_log()
    with pytest.raises(provider.TokenExpiredError):
        bunq.list_accounts(tokens)
    assert bank_sandbox.log("bunq") == []


def test_a_withdrawn_grant_is_a_consent_to_give_again(bank_sandbox):
    bunq = make_provider(bank_sandbox)
    tokens = consent(bank_sandbox, bunq)
    bank_sandbox.end_consents("bunq", "revoke")
    with pytest.raises(provider.TokenExpiredError):
        bunq.list_accounts(tokens)
    with pytest.raises(provider.ConsentExpiredError):
        bunq.refresh(tokens)


def test_an_answer_without_bunqs_signature_is_refused(bank_sandbox):
    bunq = make_provider(bank_sandbox)
    tokens = consent(bank_sandbox, bunq)
    bank_sandbox.set_faults({"bank": "bunq", "path": ACCOUNTS, "error": "bad_server_signature"})
    with pytest.raises(provider.ProtocolError, match="signature"):
        bunq.list_accounts(tokens)


def test_a_bad_request_signature_is_a_configuration_error(bank_sandbox):
    bunq = make_provider(bank_sandbox)
    tokens = consent(bank_sandbox, bunq)
    context = bunq_client.BunqContext.from_json(tokens.access_token)
    spoilt = context.__class__(**{**context.__dict__, "private_key_pem": bunq_client.generate_private_key_pem()})
    with pytest.raises(provider.ConfigurationError, match="signature"):
        bunq.client.open_session(spoilt)


def test_429_and_5xx_are_retried_then_typed(bank_sandbox):
    sleeps = Sleeps()
    bunq = make_provider(bank_sandbox, sleeps, max_attempts=3)
    tokens = consent(bank_sandbox, bunq)
    bank_sandbox.set_faults({"bank": "bunq", "path": ACCOUNTS, "error": "429", "count": 2})
    assert bunq.list_accounts(tokens)
    assert sleeps == [1.0, 2.0]
    bank_sandbox.set_faults({"bank": "bunq", "path": ACCOUNTS, "error": "429", "count": 3})
    with pytest.raises(provider.RateLimitedError):
        bunq.list_accounts(tokens)
    bank_sandbox.set_faults({"bank": "bunq", "path": ACCOUNTS, "error": "503", "count": 3})
    with pytest.raises(provider.BankUnavailableError):
        bunq.list_accounts(tokens)
    bank_sandbox.set_faults({"bank": "bunq", "path": ACCOUNTS, "error": "401"})
    with pytest.raises(provider.TokenExpiredError):
        bunq.list_accounts(tokens)


def test_bunqs_real_rate_limit_is_waited_out(bank_sandbox):
    bank_sandbox.set_scenario({"bunq": {"rate_limits": True}})
    sleeps = []
    import time

    bunq = make_provider(bank_sandbox, lambda s: (sleeps.append(s), time.sleep(s)), page_count=10)
    tokens = consent(bank_sandbox, bunq)
    account = main_account(bank_sandbox, bunq, tokens)
    today = today_of(bank_sandbox)
    rows = [tx for page in bunq.fetch_transactions(tokens, account, today - datetime.timedelta(days=60), today)
            for tx in page.transactions]
    expected = next(a for a in bank_sandbox.accounts("bunq") if a["iban"] == account.iban)
    assert len(rows) == expected["booked"] and sleeps  # 3 GETs per 3 s: some waits, nothing lost


def test_a_truncated_page_fails_the_fetch(bank_sandbox):
    bunq = make_provider(bank_sandbox, page_count=10)
    tokens = consent(bank_sandbox, bunq)
    account = main_account(bank_sandbox, bunq, tokens)
    today = today_of(bank_sandbox)
    bank_sandbox.set_faults({"bank": "bunq", "path": PAYMENTS, "error": "truncate"})
    with pytest.raises(provider.ProtocolError):
        list(bunq.fetch_transactions(tokens, account, today - datetime.timedelta(days=60), today))


def test_code_exchange_faults(bank_sandbox):
    bunq = make_provider(bank_sandbox, secret="wrong")
    redirect = bank_sandbox.approve_bunq(bunq.authorization_url(REDIRECT_URI, "s"))
    code = bank_sandbox.query_of(redirect)["code"]
    with pytest.raises(provider.ConfigurationError):
        bunq.exchange_code(code, REDIRECT_URI)
    good = make_provider(bank_sandbox)
    good.exchange_code(code, REDIRECT_URI)
    with pytest.raises(provider.InvalidRequestError):
        good.exchange_code(code, REDIRECT_URI)


def test_psd2_registration_gives_the_oauth_client(bank_sandbox):
    info = bank_sandbox.info()["bunq"]
    client = bunq_client.BunqClient(api_base_url=bank_sandbox.bunq_url + "/v1",
                                    authorize_url=bank_sandbox.bunq_url + "/auth",
                                    token_url=bank_sandbox.bunq_url + "/v1/token", verify=bank_sandbox.certs.ca)
    with open(bank_sandbox.certs.bunq_psp_cert) as cert, open(bank_sandbox.certs.ca) as chain, \
            open(bank_sandbox.certs.bunq_psp_key) as key:
        registration = client.register_psp(certificate_pem=cert.read(), chain_pem=chain.read(),
                                           certificate_key_pem=key.read(), callback_url=REDIRECT_URI)
    assert registration.client_id == info["client_id"] and registration.client_secret == info["client_secret"]
    assert registration.context.user_type == "UserPaymentServiceProvider"
    assert info["client_secret"] not in repr(registration)
    with open(bank_sandbox.certs.other_signing_cert) as cert, open(bank_sandbox.certs.ca) as chain, \
            open(bank_sandbox.certs.other_signing_key) as key, pytest.raises(provider.ConfigurationError):
        client.register_psp(certificate_pem=cert.read(), chain_pem=chain.read(), certificate_key_pem=key.read(),
                            callback_url=REDIRECT_URI)


def test_revoke_ends_the_session(bank_sandbox):
    bunq = make_provider(bank_sandbox)
    tokens = consent(bank_sandbox, bunq)
    bunq.revoke(tokens)
    with pytest.raises(provider.TokenExpiredError):
        bunq.list_accounts(tokens)


def test_an_unsigned_gateway_error_is_still_retried_as_unavailable(bank_sandbox):
    sleeps = Sleeps()
    bunq = make_provider(bank_sandbox, sleeps, max_attempts=2)
    tokens = consent(bank_sandbox, bunq)
    bank_sandbox.set_faults({"bank": "bunq", "path": ACCOUNTS, "error": "502", "count": 2, "unsigned": True})
    with pytest.raises(provider.BankUnavailableError) as raised:
        bunq.list_accounts(tokens)
    assert sleeps == [1.0] and "Sandbox fault" not in str(raised.value)  # an unsigned text is not repeated
    # An unsigned 401 is not taken for bunq's word.
    bank_sandbox.set_faults({"bank": "bunq", "path": ACCOUNTS, "error": "401", "unsigned": True})
    with pytest.raises(provider.ProtocolError, match="signature"):
        bunq.list_accounts(tokens)
