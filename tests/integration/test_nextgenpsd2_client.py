"""The NextGenPSD2 providers (Knab, Triodos, ASN Bank, SNS, RegioBank) against the sandbox:
real HTTPS, real mutual TLS, real signatures."""

import datetime

import pytest

from account_bank_link_nextgenpsd2.tools import nextgenpsd2_provider
from account_bank_link_nextgenpsd2.tools.nextgenpsd2_provider import NextGenPsd2Config, consent_id_of
from l10n_nl_bankkoppeling.tools import provider
from l10n_nl_bankkoppeling.tools.bank_http import RetryPolicy

BANKS = ("knab", "triodos", "asn", "sns", "regiobank")
REDIRECT = "https://odoo.example/bank_link/callback"
#: The production base URLs' paths, on the sandbox's port.
PATHS = {
    "knab": ("/knab/openbanking", "/knab/connect"),
    "triodos": ("/triodos/xs2a-bg/nl", "/triodos/auth/nl/v1"),
    "asn": ("/psd2/asnbank", "/psd2/asnbank/v1"),
    "sns": ("/psd2/snsbank", "/psd2/snsbank/v1"),
    "regiobank": ("/psd2/regiobank", "/psd2/regiobank/v1"),
}


def make_provider(sb, bank, client_id=None, client_secret=None, psu_ip="192.0.2.10", flow_store=None, sleeps=None):
    raw = sb.scenario().get(bank, {})
    api, auth = PATHS[bank]
    config = NextGenPsd2Config(
        api_base_url=sb.nextgenpsd2_url + api, auth_base_url=sb.nextgenpsd2_url + auth,
        client_id=client_id or raw.get("client_id", ""), client_secret=client_secret or raw.get("client_secret", ""),
        tls_cert_path=sb.certs.nextgenpsd2_tls[0], tls_key_path=sb.certs.nextgenpsd2_tls[1],
        signing_cert_path=sb.certs.nextgenpsd2_signing_cert, signing_key_path=sb.certs.nextgenpsd2_signing_key,
        verify=sb.certs.ca)
    sleeps = sleeps if sleeps is not None else []
    return nextgenpsd2_provider.PROVIDERS[bank](
        config, flow_store=flow_store if flow_store is not None else {}, psu_ip_address=psu_ip,
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=5), sleep=sleeps.append)


def link(sb, bank, **kwargs):
    """(provider, tokens) after the user consented at the bank's page."""
    client_id = client_secret = None
    if bank == "triodos":  # dynamic client registration, once per certificate [C T-reg]
        registration = make_provider(sb, bank, **kwargs).register_client([REDIRECT])
        client_id, client_secret = registration["client_id"], registration["client_secret"]
    bank_provider = make_provider(sb, bank, client_id, client_secret, **kwargs)
    url = bank_provider.authorization_url(REDIRECT, "st4te")
    callback = sb.approve_nextgenpsd2(bank, url)
    query = sb.query_of(callback)
    assert query["state"] == "st4te"
    return bank_provider, bank_provider.exchange_code(query["code"], REDIRECT)


def all_rows(bank_provider, tokens, account, days=3650):
    today = datetime.date.today()
    pages = list(bank_provider.fetch_transactions(tokens, account, today - datetime.timedelta(days=days), today))
    return pages, [row for page in pages for row in page.transactions]


@pytest.mark.parametrize("bank", BANKS)
def test_link_fetch_renew_and_unlink(bank_sandbox, bank):
    bank_provider, tokens = link(bank_sandbox, bank)
    assert consent_id_of(tokens)
    assert bank_provider.consent_status(tokens) == "valid"
    accounts = bank_provider.list_accounts(tokens)
    eligible = [a for a in bank_sandbox.accounts(bank) if a["eligible"]]
    assert [a.iban for a in accounts] == [a["iban"] for a in eligible][:1 if bank == "triodos" else None]
    account = accounts[0]
    balance = bank_provider.fetch_balance(tokens, account)
    info = next(a for a in eligible if a["iban"] == account.iban)
    if bank in ("asn", "sns", "regiobank"):
        assert balance.balance_type == "interimAvailable"
        assert str(balance.amount) == f"{info['expected_balance']:.2f}"
    else:
        assert balance.balance_type == "closingBooked" and str(balance.amount) == f"{info['balance']:.2f}"
    pages, rows = all_rows(bank_provider, tokens, account)
    assert len(pages) > 1 and len(rows) == info["booked"]
    assert len({row.bank_id for row in rows}) == len(rows)  # the dedup identity is unique
    opening = float(bank_sandbox.scenario()[bank]["accounts"][0]["opening_balance"])
    assert float(sum(row.amount for row in rows)) == pytest.approx(info["balance"] - opening)  # signs are right
    kenmerken = [row for row in rows if row.structured_reference_issuer == "CUR"]
    assert kenmerken and all(len(row.structured_reference) == 16 for row in kenmerken)
    assert any(row.structured_reference_issuer == "ISO" and row.structured_reference.startswith("RF") for row in rows)
    assert any(row.end_to_end_id for row in rows)
    assert all(row.counterparty_name for row in rows if row.amount < 0)
    # Renew the access token, fetch again, then unlink: the consent is gone at the bank.
    renewed = bank_provider.refresh(tokens)
    assert renewed.access_token != tokens.access_token and renewed.refresh_token == tokens.refresh_token
    assert consent_id_of(renewed) == consent_id_of(tokens)
    assert bank_provider.list_accounts(renewed)
    bank_provider.revoke(renewed)
    assert bank_provider.consent_status(renewed) == "terminatedByTpp"
    with pytest.raises(provider.ConsentRevokedError):
        bank_provider.list_accounts(renewed)


@pytest.mark.parametrize("bank", BANKS)
def test_fault_matrix(bank_sandbox, bank):
    sleeps = []
    bank_provider, tokens = link(bank_sandbox, bank, sleeps=sleeps)
    bank_sandbox.set_faults({"bank": bank, "path": "*/accounts", "error": "429", "retry_after": 2},
                            {"bank": bank, "path": "*/accounts", "error": "503"})
    assert bank_provider.list_accounts(tokens)  # retried twice, then answered
    assert sleeps == [2.0, 0.02]
    bank_sandbox.set_faults({"bank": bank, "path": "*/accounts", "error": "429", "retry_after": 60})
    with pytest.raises(provider.RateLimitedError) as limited:
        bank_provider.list_accounts(tokens)  # longer than we wait: back to the caller at once
    assert limited.value.retry_after == 60
    bank_sandbox.set_faults({"bank": bank, "path": "*/accounts", "error": "401"})
    with pytest.raises(provider.TokenExpiredError):
        bank_provider.list_accounts(tokens)
    bank_sandbox.set_faults({"bank": bank, "path": "*/accounts", "error": "500", "count": None})
    with pytest.raises(provider.BankUnavailableError):
        bank_provider.list_accounts(tokens)
    bank_sandbox.clear_faults()
    bank_sandbox.set_faults({"bank": bank, "path": "*/accounts", "error": "expire_consent"})
    with pytest.raises(provider.ConsentExpiredError) as expired:
        bank_provider.list_accounts(tokens)
    assert expired.value.bank_code == "CONSENT_EXPIRED" and not isinstance(expired.value, provider.ConsentRevokedError)
    with pytest.raises(provider.ConsentExpiredError):
        bank_provider.refresh(tokens)


@pytest.mark.parametrize("bank", BANKS)
def test_consent_revoked_by_the_user(bank_sandbox, bank):
    bank_provider, tokens = link(bank_sandbox, bank)
    bank_sandbox.end_consents(bank, "revoke")
    with pytest.raises(provider.ConsentRevokedError):
        bank_provider.list_accounts(tokens)
    assert bank_provider.consent_status(tokens) == "revokedByPsu"


@pytest.mark.parametrize("bank", ("knab", "triodos"))
def test_unattended_fetches_are_limited(bank_sandbox, bank):
    """Without the user (no PSU-IP-Address) a bank allows 4 fetches a day per account."""
    bank_provider, tokens = link(bank_sandbox, bank)
    account = bank_provider.list_accounts(tokens)[0]
    bank_provider.psu_ip_address = None
    for _ in range(4):
        all_rows(bank_provider, tokens, account, days=5)
    with pytest.raises(provider.RateLimitedError) as exceeded:
        all_rows(bank_provider, tokens, account, days=5)
    assert exceeded.value.bank_code == "ACCESS_EXCEEDED"


def test_triodos_full_history_only_on_the_first_fetch(bank_sandbox):
    store = {}
    bank_provider, tokens = link(bank_sandbox, "triodos", flow_store=store)
    account = bank_provider.list_accounts(tokens)[0]
    first_pages, first = all_rows(bank_provider, tokens, account, days=365)
    today = datetime.date.today()
    assert min(row.booking_date for row in first) < today - datetime.timedelta(days=90)
    assert first_pages[0].adjusted_date_from is None
    again = make_provider(bank_sandbox, "triodos", flow_store=store)  # a new request, the same link
    pages, rows = all_rows(again, tokens, account, days=365)
    assert pages[0].adjusted_date_from == today - datetime.timedelta(days=90)
    assert pages[0].notices[0].code == provider.NOTICE_HISTORY_SPENT and pages[0].notices[0].params["days"] == 90
    assert min(row.booking_date for row in rows) >= today - datetime.timedelta(days=90)
    assert all(row.amount < 0 for row in rows if row.is_card_payment)  # unsigned at Triodos, signed here


def test_triodos_registration_replaces_the_earlier_client(bank_sandbox):
    first = make_provider(bank_sandbox, "triodos").register_client([REDIRECT])
    make_provider(bank_sandbox, "triodos").register_client([REDIRECT])
    stale = make_provider(bank_sandbox, "triodos", first["client_id"], first["client_secret"])
    callback = bank_sandbox.approve_nextgenpsd2("triodos", stale.authorization_url(REDIRECT, "st4te"))
    with pytest.raises(provider.ConfigurationError):  # the old client id and secret are revoked
        stale.exchange_code(bank_sandbox.query_of(callback)["code"], REDIRECT)


def test_consent_needs_the_user_present(bank_sandbox):
    with pytest.raises(provider.ConfigurationError):
        make_provider(bank_sandbox, "sns", psu_ip=None).authorization_url(REDIRECT, "s")


def test_volksbank_wrong_client_id_is_a_configuration_error(bank_sandbox):
    with pytest.raises(provider.ConfigurationError):
        make_provider(bank_sandbox, "asn", client_id="someone-else").authorization_url(REDIRECT, "s")
