"""HTTP Signatures (draft-cavage-http-signatures-10), bank-neutral.

Plain Python (no Odoo). The banks differ only in parameters, so the signer
takes them instead of knowing a bank:

* ING: ``(request-target) date digest [x-request-id]``, RSA-SHA256, keyId
  ``SN=<serial hex>`` (application token) or the client id (AIS/PIS), the
  certificate as one-line PEM in ``TPP-Signature-Certificate``;
* Rabobank: ``date digest x-request-id``, RSA-SHA512 with a SHA-512
  ``Digest``, keyId = the QSealC serial in decimal, the certificate as
  base64 DER (see ``specs/rabobank/NOTES.md`` section 4);
* ABN AMRO does not sign (API key plus mTLS).

The hand-written code is deliberate: the maintained libraries (``requests-
http-signature``, ``http-message-signatures``) implement the later RFC 9421
or drop the ``(request-target)`` pseudo-header and the ``SN=`` key ids the
banks ask for, and this is 100 lines of standard ``cryptography`` calls.
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from . import provider

#: Digest name (RFC 3230) -> (hashlib name, cryptography hash class).
HASHES: dict[str, tuple[str, type[hashes.HashAlgorithm]]] = {
    "SHA-256": ("sha256", hashes.SHA256),
    "SHA-512": ("sha512", hashes.SHA512),
}


def _hash(name: str) -> tuple[str, type[hashes.HashAlgorithm]]:
    try:
        return HASHES[name]
    except KeyError:
        raise provider.ConfigurationError(
            f"Unknown digest algorithm {name!r}; use one of {', '.join(HASHES)}"
        ) from None


def body_digest(body: bytes, algorithm: str = "SHA-256") -> str:
    """The ``Digest`` header value of a request body (RFC 3230)."""
    digest = hashlib.new(_hash(algorithm)[0], body).digest()
    return f"{algorithm}=" + base64.b64encode(digest).decode("ascii")


def http_date(moment: datetime.datetime | None = None) -> str:
    """An RFC 7231 ``Date`` header value (always GMT)."""
    moment = moment or datetime.datetime.now(datetime.UTC)
    return email.utils.format_datetime(moment.astimezone(datetime.UTC), usegmt=True)


def request_target(method: str, url: str) -> str:
    """``(request-target)`` pseudo-header: lower-case method, path and query."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return f"{method.lower()} {target}"


def signing_string(
    method: str, url: str, headers: Mapping[str, str], names: Sequence[str]
) -> str:
    """The text that is signed: one ``name: value`` line per signed header."""
    lower = {key.lower(): value for key, value in headers.items()}
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {request_target(method, url)}")
        elif name in lower:
            lines.append(f"{name}: {lower[name]}")
        else:
            raise provider.ConfigurationError(
                f"Header {name!r} must be signed but is not in the request"
            )
    return "\n".join(lines)


class HttpSigner:
    """Signs requests with the QSealC private key.

    ``digest`` (``SHA-256`` or ``SHA-512``) is the hash of both the
    ``Digest`` header and the signature. The key never leaves this object
    and is not part of its repr.
    """

    def __init__(
        self, private_key: Any, certificate: x509.Certificate, *, digest: str = "SHA-256"
    ):
        if not isinstance(private_key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            raise provider.ConfigurationError("The signing key must be an RSA or EC key")
        _hash(digest)
        self._private_key = private_key
        self.certificate = certificate
        self.digest = digest

    @classmethod
    def from_files(
        cls, key_path: str, cert_path: str, *, digest: str = "SHA-256", bank: str = ""
    ) -> HttpSigner:
        try:
            with open(key_path, "rb") as key_file:
                key = serialization.load_pem_private_key(key_file.read(), password=None)
            with open(cert_path, "rb") as cert_file:
                certificate = x509.load_pem_x509_certificate(cert_file.read())
        except (OSError, ValueError, TypeError) as error:
            # The exception text names the file, never the key material.
            whose = f"{bank} " if bank else ""
            raise provider.ConfigurationError(
                f"Cannot load the {whose}signing key or certificate: "
                f"{type(error).__name__}: {error}"
            ) from None
        return cls(key, certificate, digest=digest)

    def __repr__(self) -> str:
        return f"HttpSigner(certificate_serial={self.key_serial_id!r}, digest={self.digest!r})"

    @property
    def algorithm(self) -> str:
        bits = self.digest.split("-")[1]
        if isinstance(self._private_key, rsa.RSAPrivateKey):
            return f"rsa-sha{bits}"
        return f"ecdsa-sha{bits}"

    @property
    def key_serial_id(self) -> str:
        """``SN=<serial in hex>``: ING's keyId of the client-credentials call."""
        return f"SN={self.certificate.serial_number:X}"

    @property
    def serial_decimal(self) -> str:
        """The certificate serial in decimal: Rabobank's keyId."""
        return str(self.certificate.serial_number)

    @property
    def certificate_one_line(self) -> str:
        """The certificate PEM on one line, armour included (ING)."""
        pem = self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
        return "".join(line.strip() for line in pem.splitlines())

    @property
    def certificate_base64_der(self) -> str:
        """The certificate as base64 DER, no armour lines (Rabobank)."""
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return base64.b64encode(der).decode("ascii")

    def body_digest(self, body: bytes) -> str:
        return body_digest(body, self.digest)

    def sign(self, text: str) -> str:
        data = text.encode("utf-8")
        algorithm = _hash(self.digest)[1]()
        if isinstance(self._private_key, rsa.RSAPrivateKey):
            signature = self._private_key.sign(data, padding.PKCS1v15(), algorithm)
        else:
            signature = self._private_key.sign(data, ec.ECDSA(algorithm))
        return base64.b64encode(signature).decode("ascii")

    def signature_value(
        self,
        key_id: str,
        method: str,
        url: str,
        headers: Mapping[str, str],
        names: Sequence[str],
    ) -> str:
        """The parameters of a ``Signature``/``Authorization: Signature`` header."""
        signature = self.sign(signing_string(method, url, headers, names))
        return (
            f'keyId="{key_id}",algorithm="{self.algorithm}",'
            f'headers="{" ".join(names)}",signature="{signature}"'
        )

    def signed_headers(
        self,
        key_id: str,
        method: str,
        url: str,
        body: bytes,
        names: Sequence[str],
        headers: Mapping[str, str] | None = None,
        *,
        header: str = "Signature",
        prefix: str = "",
    ) -> dict[str, str]:
        """``headers`` plus ``Date`` (unless given), ``Digest`` of ``body``
        and the signature in ``header`` (``prefix`` before it, e.g.
        ``"Signature "`` for ``Authorization``)."""
        result = {"Date": http_date(), **(headers or {}), "Digest": self.body_digest(body)}
        result[header] = prefix + self.signature_value(key_id, method, url, result, names)
        return result
