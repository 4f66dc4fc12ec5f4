"""Request/response helpers shared by both banks."""

import datetime
import json
import ssl
import uuid
from decimal import Decimal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from werkzeug.wrappers import Request, Response


def _default(value):
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def json_response(data, status=200, headers=None):
    body = json.dumps(data, default=_default, ensure_ascii=False)
    response = Response(body, status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def html_response(body, status=200):
    return Response(body, status=status, mimetype="text/html")


def redirect(location):
    response = Response("", status=302)
    response.headers["Location"] = location
    return response


class ClientCertChecker:
    """Second check of the TLS client certificate, at application level.

    The TLS layer already verified the chain (CERT_OPTIONAL); checking the
    issuer again here keeps the refusal even if someone loosens the context.
    """

    def __init__(self, ca_cert):
        self.ca_cert = ca_cert

    def from_environ(self, environ):
        pem = environ.get("SSL_CLIENT_CERT")
        if not pem:
            return None
        try:
            cert = x509.load_der_x509_certificate(ssl.PEM_cert_to_DER_cert(pem))
        except ValueError:
            return None
        return cert if self.issued_by_ca(cert) else None

    def issued_by_ca(self, cert):
        return issued_by(cert, self.ca_cert)


def _utc(value):
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def issued_by(cert, ca_cert):
    """Signed by ``ca_cert`` and valid now.

    Written out by hand because Odoo's venv pins cryptography 3.4, which has
    no ``verify_directly_issued_by``.
    """
    if cert.issuer != ca_cert.subject:
        return False
    public_key = ca_cert.public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                              cert.signature_hash_algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(cert.signature, cert.tbs_certificate_bytes,
                              ec.ECDSA(cert.signature_hash_algorithm))
        else:
            return False
    except InvalidSignature:
        return False
    now = datetime.datetime.now(datetime.UTC)
    not_before = getattr(cert, "not_valid_before_utc", None) or _utc(cert.not_valid_before)
    not_after = getattr(cert, "not_valid_after_utc", None) or _utc(cert.not_valid_after)
    return not_before <= now <= not_after


def bearer_token(request):
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def new_trace_id():
    return str(uuid.uuid4())


__all__ = ["Request", "Response", "json_response", "html_response", "redirect",
           "ClientCertChecker", "bearer_token", "new_trace_id"]
