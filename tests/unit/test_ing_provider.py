"""IngProvider's own logic, with the HTTP client replaced by a fake: the
pagination guards and the token bookkeeping. (The real HTTP is tested in
tests/integration/test_ing_client.py.)"""

import datetime
import json
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from account_bank_link_ing.tools.ing_provider import (
    IngConfig,
    IngProvider,
    add_query,
    utc_start_of_local_day,
)
from l10n_nl_bankkoppeling.tools import provider

BASE = "https://api.ing.example"
ACCOUNT = provider.BankAccount(resource_id="acc-1", iban="NL69INGB0123456789")
TOKENS = provider.TokenSet(access_token="at", refresh_token="rt-old")
NOW = datetime.datetime(2026, 11, 21, 6, 0, tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def signing_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("signing")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tpp")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (folder / "k.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (folder / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(folder / "k.pem"), str(folder / "c.pem")


@pytest.fixture
def ing(signing_files):
    key, cert = signing_files
    config = IngConfig(BASE, "client-1", cert, key, cert, key)
    return IngProvider(config, now=lambda: NOW)


def page(booked_ids, next_href=None, headers=None):
    transactions = {"booked": [{"transactionId": i, "endToEndId": "NOTPROVIDED",
                                "bookingDate": "2026-11-20",
                                "transactionAmount": {"currency": "EUR", "amount": 1.5}}
                               for i in booked_ids], "pending": [], "info": []}
    if next_href:
        transactions["_links"] = {"next": {"href": next_href}}
    return SimpleNamespace(content=json.dumps({"transactions": transactions}).encode(),
                           headers=headers or {})


def serve(ing, pages):
    """Replace the HTTP call: answer ``pages`` in order, record the URLs."""
    asked = []

    def ais_get(access_token, url, *, context):
        asked.append(url)
        return pages[len(asked) - 1]

    ing.client.ais_get = ais_get
    return asked


def fetch(ing):
    return ing.fetch_transactions(TOKENS, ACCOUNT, datetime.date(2026, 11, 1), datetime.date(2026, 11, 20))


def test_follows_relative_and_absolute_next_links(ing):
    asked = serve(ing, [page(["a"], "/v3/accounts/acc-1/transactions?next=P2"),
                        page(["b"], f"{BASE}/v3/accounts/acc-1/transactions?next=P3"),
                        page(["c"])])
    ids = [t.bank_id for p in fetch(ing) for t in p.transactions]
    assert ids == ["a", "b", "c"]
    assert asked[0] == (f"{BASE}/v3/accounts/acc-1/transactions"
                        "?dateFrom=2026-10-31T23%3A00%3A00Z&dateTo=2026-11-20")
    assert asked[1:] == [f"{BASE}/v3/accounts/acc-1/transactions?next=P2",
                         f"{BASE}/v3/accounts/acc-1/transactions?next=P3"]


def test_a_repeated_cursor_raises_instead_of_looping(ing):
    serve(ing, [page(["a"], "/x?next=P2"), page(["b"], "/x?next=P3"), page(["c"], "/x?next=P2")])
    with pytest.raises(provider.ProtocolError, match="repeats"):
        list(fetch(ing))


def test_next_link_to_another_host_is_refused(ing):
    serve(ing, [page(["a"], "https://evil.example/v3/accounts/acc-1/transactions?next=P2")])
    with pytest.raises(provider.ProtocolError, match="another host"):
        list(fetch(ing))


def test_malformed_page_raises_after_good_pages(ing):
    bad = SimpleNamespace(content=b'{"transactions": {"booked": [', headers={})
    serve(ing, [page(["a"], "/x?next=P2"), bad])
    pages = fetch(ing)
    assert next(pages).transactions
    with pytest.raises(provider.ProtocolError):
        next(pages)


@pytest.mark.parametrize(
    ("day", "expected"),
    [(datetime.date(2026, 1, 15), "2026-01-14T23:00:00Z"),   # CET
     (datetime.date(2026, 7, 15), "2026-07-14T22:00:00Z"),   # CEST
     (datetime.date(2026, 3, 29), "2026-03-28T23:00:00Z")],  # the night clocks go forward
)
def test_date_from_is_amsterdam_midnight_in_utc(day, expected):
    assert utc_start_of_local_day(day) == expected


def test_empty_period_is_refused(ing):
    with pytest.raises(provider.InvalidRequestError):
        list(ing.fetch_transactions(TOKENS, ACCOUNT, datetime.date(2026, 2, 2), datetime.date(2026, 2, 1)))


def test_refresh_keeps_old_refresh_token_when_none_returned(ing):
    ing.client.token_by_refresh = lambda token: {"access_token": "at-2", "expires_in": 900,
                                                 "scope": "s", "token_type": "Bearer"}
    fresh = ing.refresh(TOKENS)
    assert (fresh.access_token, fresh.refresh_token) == ("at-2", "rt-old")
    assert fresh.expires_at == NOW + datetime.timedelta(seconds=900)


def test_refresh_takes_a_new_refresh_token(ing):
    ing.client.token_by_refresh = lambda token: {"access_token": "at-2", "refresh_token": "rt-new",
                                                 "expires_in": 900, "refresh_token_expires_in": 3600}
    fresh = ing.refresh(TOKENS)
    assert fresh.refresh_token == "rt-new"
    assert fresh.refresh_expires_at == NOW + datetime.timedelta(hours=1)


def test_refresh_without_refresh_token_means_new_consent(ing):
    with pytest.raises(provider.ConsentExpiredError):
        ing.refresh(provider.TokenSet(access_token="at"))


def test_consent_url_keeps_ing_query_and_adds_ours():
    url = add_query("https://myaccount.ing.com/granting/abc/NL?y=1&x=1", {"state": "s t", "x": "2"})
    parts = urlsplit(url)
    assert parts.path == "/granting/abc/NL"
    assert parse_qsl(parts.query) == [("y", "1"), ("state", "s t"), ("x", "2")]
