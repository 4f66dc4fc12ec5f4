"""HTTP Signatures (draft-cavage) of the framework signer, verified with the
public key, in ING's and Rabobank's parameters."""

import base64
import datetime
import re

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from account_bank_link_ing.tools import ing_client
from l10n_nl_bankkoppeling.tools import bank_http, http_signature, provider

EMPTY_BODY_DIGEST = "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


@pytest.fixture(scope="module")
def key_and_cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example-tpp")])
    now = datetime.datetime.now(datetime.timezone.utc)
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
    return http_signature.HttpSigner(key, cert)


def _params(header_value):
    return dict(re.findall(r'(\w+)="([^"]*)"', header_value))


def _verify(cert, signature_b64, text):
    cert.public_key().verify(
        base64.b64decode(signature_b64), text.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_digest_of_empty_body_matches_ing_spec():
    assert http_signature.body_digest(b"") == EMPTY_BODY_DIGEST


def test_digest_changes_with_body():
    assert http_signature.body_digest(b"grant_type=client_credentials") != EMPTY_BODY_DIGEST


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
        http_signature.HttpSigner.from_files(str(tmp_path / "nokey.pem"), str(tmp_path / "nocert.pem"))


def test_signer_from_files_round_trip(tmp_path, key_and_cert):
    key, cert = key_and_cert
    (tmp_path / "k.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    loaded = http_signature.HttpSigner.from_files(str(tmp_path / "k.pem"), str(tmp_path / "c.pem"))
    _verify(cert, loaded.sign("hello"), "hello")


def test_http_date_is_rfc7231_gmt():
    moment = datetime.datetime(2026, 11, 21, 5, 50, tzinfo=datetime.timezone.utc)
    assert http_signature.http_date(moment) == "Sat, 21 Nov 2026 05:50:00 GMT"


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), ("0", 0.0), (None, None), ("soon", None)],
)
def test_retry_after_seconds(header, expected):
    assert bank_http.parse_retry_after(header) == expected


def test_retry_after_http_date_in_the_past_is_zero():
    assert bank_http.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_backoff_is_exponential_and_capped():
    policy = bank_http.RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=5.0)
    assert [policy.delay(n, None) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert policy.delay(1, 3.0) == 3.0
    assert policy.delay(1, 300.0) == 5.0


# ------------------------------------------------------------ other banks


def test_rabobank_style_sha512_signature_verifies(key_and_cert):
    """Rabobank: SHA-512 digest and signature, keyId the serial in decimal,
    headers ``date digest x-request-id`` (specs/rabobank/NOTES.md section 4)."""
    key, cert = key_and_cert
    signer = http_signature.HttpSigner(key, cert, digest="SHA-512")
    headers = signer.signed_headers(
        signer.serial_decimal, "GET", "https://h/accounts", b"",
        ("date", "digest", "x-request-id"), {"X-Request-ID": "r-1"},
    )
    params = _params(headers["Signature"])
    assert params["keyId"] == str(0x5E4299BE)
    assert params["algorithm"] == "rsa-sha512"
    assert headers["Digest"].startswith("SHA-512=")
    assert headers["Digest"] == http_signature.body_digest(b"", "SHA-512")
    text = f"date: {headers['Date']}\ndigest: {headers['Digest']}\nx-request-id: r-1"
    cert.public_key().verify(
        base64.b64decode(params["signature"]), text.encode(), padding.PKCS1v15(), hashes.SHA512()
    )
    with pytest.raises(InvalidSignature):  # a SHA-256 verifier must not accept it
        _verify(cert, params["signature"], text)


def test_sha512_digest_differs_from_sha256():
    assert http_signature.body_digest(b"x", "SHA-512") != http_signature.body_digest(b"x")
    assert len(base64.b64decode(http_signature.body_digest(b"x", "SHA-512")[8:])) == 64


def test_unknown_digest_is_a_configuration_error(key_and_cert):
    key, cert = key_and_cert
    with pytest.raises(provider.ConfigurationError, match="MD5"):
        http_signature.HttpSigner(key, cert, digest="MD5")


def test_certificate_base64_der_is_the_certificate(signer, key_and_cert):
    _, cert = key_and_cert
    der = base64.b64decode(signer.certificate_base64_der)
    assert x509.load_der_x509_certificate(der) == cert
    assert "-----" not in signer.certificate_base64_der


def test_signed_headers_keep_the_given_ones_and_sign_the_body(signer, key_and_cert):
    _, cert = key_and_cert
    body = b'{"a": 1}'
    headers = signer.signed_headers(
        "cid", "POST", "https://h/v1/payments", body, ing_client.AIS_SIGNED_HEADERS,
        {"X-Request-ID": "r-2", "Accept": "application/json"},
        header="Authorization", prefix="Signature ",
    )
    assert headers["Accept"] == "application/json"
    assert headers["Digest"] == http_signature.body_digest(body)
    assert headers["Authorization"].startswith('Signature keyId="cid"')
    _verify(
        cert,
        _params(headers["Authorization"])["signature"],
        f"(request-target): post /v1/payments\ndate: {headers['Date']}\n"
        f"digest: {headers['Digest']}\nx-request-id: r-2",
    )


def test_ec_key_signs_with_ecdsa():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ec-tpp")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(7)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    signer = http_signature.HttpSigner(key, cert)
    assert signer.algorithm == "ecdsa-sha256"
    cert.public_key().verify(base64.b64decode(signer.sign("hi")), b"hi", ec.ECDSA(hashes.SHA256()))
