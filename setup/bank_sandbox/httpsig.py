"""HTTP Signatures (draft-cavage) as ING verifies them, plus the Digest header."""

import base64
import datetime
import email.utils
import hashlib
import re

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

EMPTY_BODY_DIGEST = "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*"([^"]*)"\s*,?')
_HASHES = {"rsa-sha256": hashes.SHA256(), "rsa-sha512": hashes.SHA512(), "ecdsa-sha256": hashes.SHA256(),
           "ecdsa-sha384": hashes.SHA384(), "ecdsa-sha512": hashes.SHA512()}


class SignatureError(Exception):
    """The request's signature material is wrong; ``status`` says how bad."""

    def __init__(self, message, status=401):
        super().__init__(message)
        self.status = status


def parse_params(value):
    """``keyId="..",algorithm="..",headers="..",signature=".."`` -> dict."""
    params = {}
    position = 0
    value = value.strip()
    while position < len(value):
        match = _PARAM.match(value, position)
        if not match:
            raise SignatureError("Signature parameters are malformed", 400)
        params[match.group(1)] = match.group(2)
        position = match.end()
    for required in ("keyId", "signature"):
        if required not in params:
            raise SignatureError(f"Signature parameter {required} is missing", 400)
    params.setdefault("algorithm", "rsa-sha256")
    params.setdefault("headers", "date")
    return params


def signing_string(environ, header_names):
    lines = []
    for name in header_names:
        if name == "(request-target)":
            target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
            lines.append(f"(request-target): {environ['REQUEST_METHOD'].lower()} {target}")
            continue
        key = "HTTP_" + name.upper().replace("-", "_")
        if name == "content-type":
            key = "CONTENT_TYPE"
        if key not in environ:
            raise SignatureError(f"Signed header {name} is missing from the request", 400)
        lines.append(f"{name}: {environ[key]}")
    return "\n".join(lines)


ING_ALGORITHMS = ("rsa-sha256", "ecdsa-sha256", "ecdsa-sha384", "ecdsa-sha512")


def verify(public_key, params, environ, required_headers, algorithms=ING_ALGORITHMS):
    """``algorithms``: what this bank accepts (ING: RSA-SHA256; Rabobank: RSA-SHA512)."""
    header_names = params["headers"].lower().split()
    missing = [h for h in required_headers if h not in header_names]
    if missing:
        raise SignatureError("Signature must cover: " + " ".join(required_headers), 400)
    algorithm = params["algorithm"].lower()
    if algorithm not in algorithms:
        raise SignatureError(f"Signature algorithm {params['algorithm']} is not supported", 400)
    message = signing_string(environ, header_names).encode()
    try:
        signature = base64.b64decode(params["signature"], validate=True)
    except ValueError:
        raise SignatureError("Signature is not valid base64", 400) from None
    try:
        if isinstance(public_key, rsa.RSAPublicKey) and algorithm.startswith("rsa-"):
            if public_key.key_size < 2048:
                raise SignatureError("RSA keys must have at least 2048 bits")
            public_key.verify(signature, message, padding.PKCS1v15(), _HASHES[algorithm])
        elif isinstance(public_key, ec.EllipticCurvePublicKey) and algorithm.startswith("ecdsa"):
            public_key.verify(signature, message, ec.ECDSA(_HASHES[algorithm]))
        else:
            raise SignatureError("Signature algorithm does not match the certificate key")
    except InvalidSignature:
        raise SignatureError("Signature verification failed") from None


def check_digest(environ, body):
    header = environ.get("HTTP_DIGEST")
    if not header:
        raise SignatureError("Digest header is missing", 400)
    algorithm, _, value = header.partition("=")
    algorithm = algorithm.strip().upper()
    if algorithm == "SHA-256":
        expected = base64.b64encode(hashlib.sha256(body).digest()).decode()
    elif algorithm == "SHA-512":
        expected = base64.b64encode(hashlib.sha512(body).digest()).decode()
    else:
        raise SignatureError("Digest must use SHA-256 or SHA-512", 400)
    if value.strip() != expected:
        raise SignatureError("Digest does not match the request body", 400)


def check_date(environ, max_skew_seconds):
    header = environ.get("HTTP_DATE")
    if not header:
        raise SignatureError("Date header is missing", 400)
    try:
        sent = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        raise SignatureError("Date header is not an RFC 7231 date", 400) from None
    if sent is None or sent.tzinfo is None:
        raise SignatureError("Date header is not an RFC 7231 date", 400)
    skew = abs((datetime.datetime.now(datetime.UTC) - sent).total_seconds())
    if skew > max_skew_seconds:
        raise SignatureError("Date header is too far from the current time")


def load_one_line_certificate(value):
    """TPP-Signature-Certificate: PEM with or without markers and line breaks."""
    text = value.replace("\\n", "")
    for marker in ("-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"):
        text = text.replace(marker, "")
    text = "".join(text.split())
    try:
        return x509.load_der_x509_certificate(base64.b64decode(text, validate=True))
    except ValueError:
        raise SignatureError("TPP-Signature-Certificate is not a valid certificate", 400) from None


def key_id_serial(key_id):
    """``SN=1A2B`` (optionally ``,CA=...``) -> integer serial."""
    first = key_id.split(",")[0].strip()
    if not first.upper().startswith("SN="):
        raise SignatureError('keyId must be "SN=<certificate serial in hex>"')
    try:
        return int(first[3:], 16)
    except ValueError:
        raise SignatureError("keyId serial is not hexadecimal") from None
