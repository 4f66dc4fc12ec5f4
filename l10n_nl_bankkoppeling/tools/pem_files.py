# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Certificates and keys uploaded as PEM files: checks and files on disk.

Plain Python (no Odoo) so that the checks can be reasoned about alone; the
model (``models/account_bank_link_credentials.py``) turns :class:`PemProblem`
into a translated message. Every bank addon uses it for its certificates.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import os
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import serialization


class PemProblem(ValueError):
    """``kind`` says what is wrong; the model words it for the user."""

    def __init__(self, kind, **details):
        super().__init__(kind)
        self.kind = kind
        self.details = details


@dataclasses.dataclass(frozen=True)
class CertificateInfo:
    subject: str
    issuer: str
    serial_hex: str
    #: Naive UTC (cryptography 3.4 has no ``not_valid_after_utc``).
    not_valid_before: datetime.datetime
    not_valid_after: datetime.datetime


def load_certificate(data: bytes):
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise PemProblem("not_certificate")
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as error:
        raise PemProblem("not_certificate") from error


def load_private_key(data: bytes):
    if b"PRIVATE KEY-----" not in data:
        raise PemProblem("not_key")
    if b"ENCRYPTED" in data:
        raise PemProblem("key_encrypted")
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError as error:  # a password is needed
        raise PemProblem("key_encrypted") from error
    except (ValueError, Exception) as error:  # unsupported or damaged key
        raise PemProblem("not_key") from error


def certificate_info(data: bytes) -> CertificateInfo:
    certificate = load_certificate(data)
    return CertificateInfo(
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        serial_hex=format(certificate.serial_number, "x"),
        not_valid_before=certificate.not_valid_before,
        not_valid_after=certificate.not_valid_after,
    )


def check_certificate(data: bytes, now: datetime.datetime | None = None) -> CertificateInfo:
    """The certificate's facts; :class:`PemProblem` when it is no
    certificate or not valid at ``now`` (naive UTC)."""
    info = certificate_info(data)
    now = now or datetime.datetime.utcnow()
    if info.not_valid_after < now:
        raise PemProblem("expired", date=info.not_valid_after.date())
    if info.not_valid_before > now:
        raise PemProblem("not_yet_valid", date=info.not_valid_before.date())
    return info


def _public_bytes(public_key) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def check_key_pair(certificate_data: bytes, key_data: bytes) -> None:
    """:class:`PemProblem` ``key_mismatch`` unless the key belongs to the
    certificate: a wrong pair only fails later, at the bank, as a bare TLS
    or signature error."""
    certificate = load_certificate(certificate_data)
    key = load_private_key(key_data)
    if _public_bytes(key.public_key()) != _public_bytes(certificate.public_key()):
        raise PemProblem("key_mismatch")


def materialise(directory: str, data: bytes, suffix: str) -> str:
    """Path of a file (mode 0600) holding ``data``: requests and the SSL
    module read certificates and keys from files only. Named after the
    content's hash, so a new upload gets a new file; older files of the
    same kind in ``directory`` are removed."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    name = hashlib.sha256(data).hexdigest()[:24] + suffix
    path = os.path.join(directory, name)
    if not os.path.exists(path):
        handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.chmod(temporary, 0o600)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        for other in os.listdir(directory):
            if other.endswith(suffix) and other != name:
                # FileNotFoundError: another worker was first.
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(directory, other))
    return path
