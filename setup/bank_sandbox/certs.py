"""Generate the sandbox PKI: ``python -m bank_sandbox.certs DIR``.

Idempotent: existing files are kept, so cached certificates survive between
test sessions and a running browser keeps trusting the same CA.

Files (PEM):
  ca.pem / ca.key                      sandbox CA (trust anchor for both sides)
  server.pem / server.key              TLS server cert for localhost/127.0.0.1
  ing_tls.pem / ing_tls.key            QWAC-like TLS client cert for ING
  ing_signing.pem / ing_signing.key    QSealC-like signing cert for ING
  abnamro_tls.pem / abnamro_tls.key    TLS client cert for ABN AMRO
  nextgenpsd2_tls / nextgenpsd2_signing  QWAC and QSealC for Knab, Triodos, de Volksbank
  other_ca.pem / other_ca.key          a CA the sandbox does NOT trust
  other_client.pem / other_client.key  client cert signed by other_ca
"""

import datetime
import fcntl
import ipaddress
import os
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=3650)


def _name(common_name, organisation="Bank Sandbox"):
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write_key(path, key):
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    os.chmod(path, 0o600)


def _write_cert(path, cert):
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _load(directory, stem):
    cert = x509.load_pem_x509_certificate((directory / f"{stem}.pem").read_bytes())
    key = serialization.load_pem_private_key(
        (directory / f"{stem}.key").read_bytes(), password=None
    )
    return cert, key


def _exists(directory, stem):
    return (directory / f"{stem}.pem").exists() and (directory / f"{stem}.key").exists()


def _make_ca(directory, stem, common_name):
    if _exists(directory, stem):
        return _load(directory, stem)
    key = _new_key()
    now = datetime.datetime.now(datetime.UTC)
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(directory / f"{stem}.key", key)
    _write_cert(directory / f"{stem}.pem", cert)
    return cert, key


def _make_leaf(directory, stem, ca, common_name, *, server=False, signing=False, organisation="Sandbox TPP B.V."):
    if _exists(directory, stem):
        return _load(directory, stem)
    ca_cert, ca_key = ca
    key = _new_key()
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organisation))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    elif signing:
        # A QSealC is used for signatures only, never for TLS.
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    cert = builder.sign(ca_key, hashes.SHA256())
    _write_key(directory / f"{stem}.key", key)
    _write_cert(directory / f"{stem}.pem", cert)
    return cert, key


def generate(directory):
    """Create every missing file in ``directory``; return it as a Path.

    Several test sessions may share one directory at the same time: an
    exclusive lock keeps them from writing two different CAs.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            _generate_all(directory)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return directory


def _generate_all(directory):
    ca = _make_ca(directory, "ca", "Bank Sandbox Root CA")
    _make_leaf(directory, "server", ca, "localhost", server=True, organisation="Bank Sandbox")
    _make_leaf(directory, "ing_tls", ca, "Sandbox TPP QWAC (ING)")
    _make_leaf(directory, "ing_signing", ca, "Sandbox TPP QSealC (ING)", signing=True)
    _make_leaf(directory, "abnamro_tls", ca, "Sandbox TPP QWAC (ABN AMRO)")
    _make_leaf(directory, "rabobank_tls", ca, "Sandbox TPP QWAC (Rabobank)")
    _make_leaf(directory, "rabobank_signing", ca, "Sandbox TPP QSealC (Rabobank)", signing=True)
    _make_leaf(directory, "nextgenpsd2_tls", ca, "Sandbox TPP QWAC (NextGenPSD2)")
    _make_leaf(directory, "nextgenpsd2_signing", ca, "Sandbox TPP QSealC (NextGenPSD2)", signing=True)
    # bunq: the PSD2 registration's QSealC (the roles in the CN, as bunq's sandbox
    # accepts [C B-doc]) and the key bunq's API signs its answers with.
    _make_leaf(directory, "bunq_psp", ca, "Sandbox TPP QSealC (bunq) AISP PISP", signing=True)
    _make_leaf(directory, "bunq_server", ca, "Sandbox bunq API response signing", signing=True,
               organisation="Bank Sandbox")
    other_ca = _make_ca(directory, "other_ca", "Untrusted Other CA")
    _make_leaf(directory, "other_client", other_ca, "Client of an untrusted CA")
    _make_leaf(directory, "other_signing", other_ca, "Signing cert of an untrusted CA", signing=True)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m bank_sandbox.certs DIR", file=sys.stderr)
        return 2
    directory = generate(argv[0])
    for path in sorted(directory.glob("*.pem")):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
