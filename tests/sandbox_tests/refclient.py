"""A deliberately small client written from the protocol doc, used only to test the sandbox.

Not the addons' client (those are tested against the sandbox separately);
each request is built here in plain sight so a test can also break it on
purpose: wrong digest, wrong key, missing certificate.
"""

import base64
import email.utils
import hashlib
import json
import urllib.parse
import uuid

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

AIS_SCOPE = "payment-accounts:balances:view payment-accounts:transactions:view"


def digest_of(body):
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def http_date():
    return email.utils.formatdate(usegmt=True)


def sign(key, headers_in_order):
    text = "\n".join(f"{name}: {value}" for name, value in headers_in_order)
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def load_key(path):
    with open(path, "rb") as handle:
        return serialization.load_pem_private_key(handle.read(), password=None)


def load_cert(path):
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


def one_line_pem(path):
    with open(path) as handle:
        return "".join(line.strip() for line in handle)


class IngClient:
    def __init__(self, sandbox, tls=None, signing_cert=None, signing_key=None):
        self.sb = sandbox
        self.base = sandbox.ing_url
        self.tls = tls if tls is not None else sandbox.certs.ing_tls
        self.signing_cert_path = signing_cert or sandbox.certs.ing_signing_cert
        self.key = load_key(signing_key or sandbox.certs.ing_signing_key)
        self.cert = load_cert(self.signing_cert_path)
        self.client_id = None
        self.app_token = None

    def _send(self, method, path, body=b"", headers=None, cert="default"):
        return requests.request(
            method, self.base + path, data=body, headers=headers or {}, timeout=30,
            verify=self.sb.certs.ca, cert=self.tls if cert == "default" else cert,
            allow_redirects=False)

    # -------------------------------------------------- application token
    def application_token_request(self, body=b"grant_type=client_credentials", digest=None,
                                  key_id=None, key=None, cert_header="default", date=None,
                                  signed_body=None, cert="default"):
        date = date or http_date()
        digest = digest or digest_of(signed_body if signed_body is not None else body)
        key_id = key_id or "SN=%X" % self.cert.serial_number
        signature = sign(key or self.key, [("(request-target)", "post /oauth2/token"),
                                           ("date", date), ("digest", digest)])
        headers = {
            "Date": date,
            "Digest": digest,
            "Authorization": f'Signature keyId="{key_id}",algorithm="rsa-sha256",'
                             f'headers="(request-target) date digest",signature="{signature}"',
            "Content-Type": "application/x-www-form-urlencoded",
        }
        if cert_header == "default":
            headers["TPP-Signature-Certificate"] = one_line_pem(self.signing_cert_path)
        elif cert_header is not None:
            headers["TPP-Signature-Certificate"] = cert_header
        return self._send("POST", "/oauth2/token", body, headers, cert=cert)

    def get_application_token(self):
        response = self.application_token_request()
        assert response.status_code == 200, response.text
        data = response.json()
        self.app_token, self.client_id = data["access_token"], data["client_id"]
        return data

    # -------------------------------------------------- signed calls with a bearer token
    def signed(self, method, path_and_query, bearer, body=b"", request_id=True, tamper=None,
               cert="default", digest=None):
        date = http_date()
        digest = digest or digest_of(body)
        headers = {"Date": date, "Digest": digest, "Authorization": f"Bearer {bearer}"}
        signed = [("(request-target)", f"{method.lower()} {path_and_query}"), ("date", date), ("digest", digest)]
        names = "(request-target) date digest"
        if request_id:
            headers["X-Request-ID"] = str(uuid.uuid4())
            signed.append(("x-request-id", headers["X-Request-ID"]))
            names += " x-request-id"
        signature = sign(self.key, signed)
        if tamper == "signature":
            signature = base64.b64encode(b"\0" * 256).decode()
        headers["Signature"] = (f'keyId="{self.client_id}",algorithm="rsa-sha256",'
                                f'headers="{names}",signature="{signature}"')
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self._send(method, path_and_query, body, headers, cert=cert)

    def authorization_url(self, redirect_uri="https://tpp.example/callback", state="st4te"):
        query = urllib.parse.urlencode({"scope": AIS_SCOPE, "redirect_uri": redirect_uri,
                                        "country_code": "NL"}, quote_via=urllib.parse.quote)
        response = self.signed("GET", "/oauth2/authorization-server-url?" + query, self.app_token,
                               request_id=False)
        assert response.status_code == 200, response.text
        location = response.json()["location"]
        params = urllib.parse.urlencode({"client_id": self.client_id, "scope": AIS_SCOPE, "state": state,
                                         "redirect_uri": redirect_uri, "response_type": "code"})
        return location + "?" + params, response

    def token_request(self, **form):
        body = urllib.parse.urlencode(form).encode()
        return self.signed("POST", "/oauth2/token", self.app_token, body, request_id=False)

    def consent(self, ibans=None):
        """Application token, consent at the page, code exchange: the token answer."""
        self.get_application_token()
        url, _ = self.authorization_url()
        callback = self.sb.approve_ing(url, ibans)
        code = self.sb.query_of(callback)["code"]
        response = self.token_request(grant_type="authorization_code", code=code,
                                      redirect_uri="https://tpp.example/callback")
        assert response.status_code == 200, response.text
        return response.json()

    def get(self, path_and_query, access_token, **kwargs):
        return self.signed("GET", path_and_query, access_token, **kwargs)


class AbnClient:
    redirect_uri = "https://tpp.example/abn/callback"
    scope = "psd2:account:balance:read psd2:account:transaction:read psd2:account:details:read"

    def __init__(self, sandbox, tls="default"):
        self.sb = sandbox
        self.base = sandbox.abnamro_url
        self.tls = sandbox.certs.abnamro_tls if tls == "default" else tls

    def authorize_url(self, state="abnst", scope=None):
        return self.base + "/as/authorization.oauth2?" + urllib.parse.urlencode({
            "scope": scope or self.scope, "client_id": self.sb.abnamro_client_id, "response_type": "code",
            "flow": "code", "redirect_uri": self.redirect_uri, "bank": "NLAA01", "state": state})

    def token_request(self, cert="default", **form):
        form.setdefault("client_id", self.sb.abnamro_client_id)
        return requests.post(self.base + "/as/token.oauth2", data=form, timeout=30, verify=self.sb.certs.ca,
                             cert=self.tls if cert == "default" else cert)

    def consent(self, iban=None, scope=None):
        callback = self.sb.approve_abnamro(self.authorize_url(scope=scope), iban)
        code = self.sb.query_of(callback)["code"]
        response = self.token_request(grant_type="authorization_code", code=code, redirect_uri=self.redirect_uri)
        assert response.status_code == 200, response.text
        return response.json()

    def get(self, path, access_token, params=None, api_key="default", cert="default"):
        headers = {"Authorization": f"Bearer {access_token}"}
        if api_key is not None:
            headers["API-Key"] = self.sb.abnamro_api_key if api_key == "default" else api_key
        return requests.get(self.base + path, params=params, headers=headers, timeout=30,
                            verify=self.sb.certs.ca, cert=self.tls if cert == "default" else cert)


class RaboClient:
    """Rabobank as NOTES.md describes it: Basic auth at the token endpoint, every API
    call with mTLS, X-IBM-Client-Id and a draft-cavage signature (RSA-SHA512,
    keyId = decimal serial of the QSealC, headers "date digest x-request-id")."""

    redirect_uri = "https://tpp.example/rabo/callback"
    scope = "ais.balances.read ais.transactions.read-90days ais.transactions.read-history"
    ais = "/openapi/payments/account-information/ais"

    def __init__(self, sandbox, tls="default"):
        self.sb = sandbox
        self.base = sandbox.rabobank_url
        self.tls = sandbox.certs.rabobank_tls if tls == "default" else tls
        self.key = load_key(sandbox.certs.rabobank_signing_key)
        self.cert = load_cert(sandbox.certs.rabobank_signing_cert)
        self.cert_b64 = base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()

    def authorize_url(self, state="rabost", scope=None):
        return self.base + "/openapi/oauth2/authorize?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": self.sb.rabobank_client_id, "scope": scope or self.scope,
            "redirect_uri": self.redirect_uri, "state": state}, quote_via=urllib.parse.quote)

    def token_request(self, secret=None, cert="default", **form):
        auth = (self.sb.rabobank_client_id, secret or self.sb.rabobank_client_secret)
        return requests.post(self.base + "/openapi/oauth2/token", data=form, auth=auth, timeout=30,
                             verify=self.sb.certs.ca, cert=self.tls if cert == "default" else cert)

    def consent(self, ibans=None, scope=None):
        callback = self.sb.approve_rabobank(self.authorize_url(scope=scope), ibans)
        code = self.sb.query_of(callback)["code"]
        response = self.token_request(grant_type="authorization_code", code=code)
        assert response.status_code == 200, response.text
        return response.json()

    def signed_headers(self, body=b"", key_id=None, algorithm="rsa-sha512", names=("date", "digest", "x-request-id"),
                       tamper=None, digest=None, more=None):
        values = {"date": http_date(),
                  "digest": digest or "sha-512=" + base64.b64encode(hashlib.sha512(body).digest()).decode(),
                  "x-request-id": str(uuid.uuid4()), **(more or {})}
        text = "\n".join(f"{name}: {values[name]}" for name in names)
        digest_algorithm = hashes.SHA512() if algorithm == "rsa-sha512" else hashes.SHA256()
        signature = base64.b64encode(self.key.sign(text.encode(), padding.PKCS1v15(), digest_algorithm)).decode()
        if tamper == "signature":
            signature = base64.b64encode(b"\0" * 256).decode()
        return {
            **{name.title(): value for name, value in (more or {}).items()},
            "Date": values["date"], "Digest": values["digest"], "X-Request-ID": values["x-request-id"],
            "X-IBM-Client-Id": self.sb.rabobank_client_id,
            "TPP-Signature-Certificate": self.cert_b64,
            "Signature": (f'keyId="{key_id or self.cert.serial_number}",algorithm="{algorithm}",'
                          f'headers="{" ".join(names)}",signature="{signature}"'),
        }

    def get(self, path, access_token=None, params=None, cert="default", drop=(), extra=None, **sign):
        headers = self.signed_headers(**sign)
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        for name in drop:
            headers.pop(name, None)
        headers.update(extra or {})
        url = path if path.startswith("https://") else self.base + path
        return requests.get(url, params=params, headers=headers, timeout=30, verify=self.sb.certs.ca,
                            cert=self.tls if cert == "default" else cert)

    def ais_get(self, path, access_token, params=None, **kwargs):
        return self.get(self.ais + path, access_token, params=params, **kwargs)

    pis = "/openapi/payments/payment-initiation/pis/v1/payments/sepa-credit-transfers"
    pis_names = ("date", "digest", "tpp-nok-redirect-uri", "tpp-redirect-uri", "x-request-id")

    def initiate(self, payment, names=None):
        """A single SEPA credit transfer: no OAuth token, signed incl. both redirect URIs."""
        body = json.dumps(payment).encode()
        more = {"tpp-redirect-uri": "https://tpp.example/rabo/ok", "tpp-nok-redirect-uri": "https://tpp.example/rabo/nok"}
        headers = self.signed_headers(body, names=names or self.pis_names, more=more)
        headers.update({"Content-Type": "application/json", "PSU-IP-Address": "192.0.2.10"})
        return requests.post(self.base + self.pis, data=body, headers=headers, timeout=30,
                             verify=self.sb.certs.ca, cert=self.tls)

    def payment_status(self, payment_id):
        return self.get(f"{self.pis}/{payment_id}/status")
