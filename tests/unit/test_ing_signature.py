"""HTTP Signatures of the ING client, verified with the public key."""

import base64
import datetime
import re

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from account_bank_link_ing.tools import ing_client
from l10n_nl_bankkoppeling.tools import provider

EMPTY_BODY_DIGEST = "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


@pytest.fixture(scope="module")
def key_and_cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example-tpp")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x5E4299BE)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, cert


@pytest.fixture
def signer(key_and_cert):
    key, cert = key_and_cert
    return ing_client.HttpSigner(key, cert)


def _params(header_value):
    return dict(re.findall(r'(\w+)="([^"]*)"', header_value))


def _verify(cert, signature_b64, text):
    cert.public_key().verify(
        base64.b64decode(signature_b64), text.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_digest_of_empty_body_matches_ing_spec():
    assert ing_client.body_digest(b"") == EMPTY_BODY_DIGEST


def test_digest_changes_with_body():
    assert ing_client.body_digest(b"grant_type=client_credentials") != EMPTY_BODY_DIGEST


def test_application_token_signature_verifies_with_certificate(signer, key_and_cert):
    _, cert = key_and_cert
    url = "https://api.sandbox.ing.com/oauth2/token"
    headers = {"Date": "Sat, 21 Nov 2026 05:50:00 GMT", "Digest": EMPTY_BODY_DIGEST}
    value = signer.signature_value(
        signer.key_serial_id, "POST", url, headers, ing_client.OAUTH_SIGNED_HEADERS
    )
    params = _params(value)
    assert params["keyId"] == "SN=5E4299BE"
    assert params["algorithm"] == "rsa-sha256"
    assert params["headers"] == "(request-target) date digest"
    expected_text = (
        "(request-target): post /oauth2/token\n"
        "date: Sat, 21 Nov 2026 05:50:00 GMT\n"
        f"digest: {EMPTY_BODY_DIGEST}"
    )
    _verify(cert, params["signature"], expected_text)


def test_signature_does_not_verify_for_another_path(signer, key_and_cert):
    _, cert = key_and_cert
    headers = {"Date": "Sat, 21 Nov 2026 05:50:00 GMT", "Digest": EMPTY_BODY_DIGEST}
    value = signer.signature_value("cid", "GET", "https://h/v3/accounts", headers,
                                   ing_client.OAUTH_SIGNED_HEADERS)
    tampered = (
        "(request-target): get /v3/accounts/other\n"
        "date: Sat, 21 Nov 2026 05:50:00 GMT\n"
        f"digest: {EMPTY_BODY_DIGEST}"
    )
    with pytest.raises(InvalidSignature):
        _verify(cert, _params(value)["signature"], tampered)


def test_ais_signature_covers_request_id_and_query(signer, key_and_cert):
    _, cert = key_and_cert
    url = "https://h/v3/accounts/abc/transactions?dateFrom=2026-01-01&dateTo=2026-01-31"
    headers = {
        "Date": "Sat, 21 Nov 2026 05:50:00 GMT",
        "Digest": EMPTY_BODY_DIGEST,
        "X-Request-ID": "0f5a8a53-2e26-4a4e-9a36-0d3c0a1f9f10",
    }
    params = _params(
        signer.signature_value("my-client-id", "GET", url, headers, ing_client.AIS_SIGNED_HEADERS)
    )
    assert params["keyId"] == "my-client-id"
    assert params["headers"] == "(request-target) date digest x-request-id"
    _verify(
        cert,
        params["signature"],
        "(request-target): get /v3/accounts/abc/transactions?dateFrom=2026-01-01&dateTo=2026-01-31\n"
        "date: Sat, 21 Nov 2026 05:50:00 GMT\n"
        f"digest: {EMPTY_BODY_DIGEST}\n"
        "x-request-id: 0f5a8a53-2e26-4a4e-9a36-0d3c0a1f9f10",
    )


def test_missing_signed_header_is_a_configuration_error(signer):
    with pytest.raises(provider.ConfigurationError, match="x-request-id"):
        signer.signature_value("cid", "GET", "https://h/x", {"Date": "d", "Digest": "x"},
                               ing_client.AIS_SIGNED_HEADERS)


def test_certificate_header_is_one_line_pem(signer):
    value = signer.certificate_one_line
    assert value.startswith("-----BEGIN CERTIFICATE-----")
    assert value.endswith("-----END CERTIFICATE-----")
    assert "\n" not in value


def test_signer_repr_hides_key(signer):
    assert "PRIVATE" not in repr(signer) and "RSAPrivateKey" not in repr(signer)


def test_signer_from_missing_file_is_configuration_error(tmp_path):
    with pytest.raises(provider.ConfigurationError):
        ing_client.HttpSigner.from_files(str(tmp_path / "nokey.pem"), str(tmp_path / "nocert.pem"))


def test_signer_from_files_round_trip(tmp_path, key_and_cert):
    key, cert = key_and_cert
    (tmp_path / "k.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    loaded = ing_client.HttpSigner.from_files(str(tmp_path / "k.pem"), str(tmp_path / "c.pem"))
    _verify(cert, loaded.sign("hello"), "hello")


def test_http_date_is_rfc7231_gmt():
    moment = datetime.datetime(2026, 11, 21, 5, 50, tzinfo=datetime.UTC)
    assert ing_client.http_date(moment) == "Sat, 21 Nov 2026 05:50:00 GMT"


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), ("0", 0.0), (None, None), ("soon", None)],
)
def test_retry_after_seconds(header, expected):
    assert ing_client.parse_retry_after(header) == expected


def test_retry_after_http_date_in_the_past_is_zero():
    assert ing_client.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_backoff_is_exponential_and_capped():
    policy = ing_client.RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=5.0)
    assert [policy.delay(n, None) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert policy.delay(1, 3.0) == 3.0
    assert policy.delay(1, 300.0) == 5.0
