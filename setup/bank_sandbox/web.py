"""Request/response helpers shared by both banks."""

import datetime
import json
import ssl
import uuid
from decimal import Decimal

from cryptography import x509
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
        try:
            cert.verify_directly_issued_by(self.ca_cert)
        except Exception:
            return False
        now = datetime.datetime.now(datetime.timezone.utc)
        return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


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
