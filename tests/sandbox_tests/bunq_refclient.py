"""A deliberately small bunq client written from bunq's developer guide, used
only to test the sandbox (the addon's client is tested against the sandbox
separately). Each request is built in plain sight so a test can break it on
purpose: no signature, a wrong one, an expired session."""

import base64
import json
import urllib.parse
import uuid

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from refclient import load_cert, load_key


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def signature(key, body):
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def items(response):
    """``{"Response": [{"Type": {...}}, ...]}`` -> {"Type": {...}} merged (single objects)."""
    merged = {}
    for item in response.json()["Response"]:
        merged.update(item)
    return merged


class BunqRefClient:
    def __init__(self, sandbox):
        self.sb = sandbox
        self.base = sandbox.bunq_url
        self.key = new_key()
        self.installation_token = None
        self.server_key = None
        self.session_token = None
        self.user_id = None
        self.sign_requests = True

    # ------------------------------------------------------------ HTTP
    def call(self, method, path, body=None, token=None, sign=None, key=None, headers=None):
        data = json.dumps(body).encode() if body is not None else b""
        all_headers = {"Cache-Control": "no-cache", "User-Agent": "bunq-refclient/1",
                       "X-Bunq-Client-Request-Id": str(uuid.uuid4()), "X-Bunq-Geolocation": "0 0 0 0 000",
                       "X-Bunq-Language": "nl_NL", "X-Bunq-Region": "nl_NL", "Content-Type": "application/json"}
        token = token if token is not None else (self.session_token or self.installation_token)
        if token:
            all_headers["X-Bunq-Client-Authentication"] = token
        if (self.sign_requests if sign is None else sign) and token:
            all_headers["X-Bunq-Client-Signature"] = signature(key or self.key, data)
        all_headers.update(headers or {})
        url = path if path.startswith("https://") else self.base + path
        return requests.request(method, url, data=data or None, headers=all_headers, verify=self.sb.certs.ca,
                                timeout=30)

    def verified(self, response):
        """True when X-Bunq-Server-Signature is bunq's over the body."""
        try:
            self.server_key.verify(base64.b64decode(response.headers["X-Bunq-Server-Signature"]),
                                   response.content, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, KeyError, ValueError):
            return False
        return True

    # ------------------------------------------------------------ API context
    def install(self):
        response = self.call("POST", "/v1/installation", {"client_public_key": public_pem(self.key)}, token="")
        assert response.status_code == 200, response.text
        merged = items(response)
        self.installation_token = merged["Token"]["token"]
        self.server_key = serialization.load_pem_public_key(
            merged["ServerPublicKey"]["server_public_key"].encode())
        return response

    def device(self, api_key, permitted_ips=None):
        body = {"description": "Odoo bankkoppeling", "secret": api_key}
        if permitted_ips is not None:
            body["permitted_ips"] = permitted_ips
        return self.call("POST", "/v1/device-server", body, token=self.installation_token)

    def session(self, api_key, **kwargs):
        response = self.call("POST", "/v1/session-server", {"secret": api_key}, token=self.installation_token,
                             **kwargs)
        if response.status_code == 200:
            merged = items(response)
            self.session_token = merged["Token"]["token"]
            user = next(value for name, value in merged.items() if name.startswith("User"))
            self.user_id = user["id"]
        return response

    def context(self, api_key):
        self.install()
        assert self.device(api_key).status_code == 200
        response = self.session(api_key)
        assert response.status_code == 200, response.text
        return response

    def register_psp(self, cert_path=None, key_path=None):
        """PSD2 registration: QSealC, chain, signature over public key + "\\n" + installation token."""
        self.install()
        cert_path = cert_path or self.sb.certs.bunq_psp_cert
        key = load_key(key_path or self.sb.certs.bunq_psp_key)
        with open(cert_path) as handle:
            certificate = handle.read()
        with open(self.sb.certs.ca) as handle:
            chain = handle.read()
        signed = (public_pem(self.key) + "\n" + self.installation_token).encode()
        body = {"client_payment_service_provider_certificate": certificate,
                "client_payment_service_provider_certificate_chain": chain,
                "client_public_key_signature": signature(key, signed)}
        assert load_cert(cert_path)
        return self.call("POST", "/v1/payment-service-provider-credential", body, token=self.installation_token)

    # ------------------------------------------------------------ OAuth
    def authorize_url(self, redirect_uri="https://odoo.example/bank/callback", state="st-1"):
        info = self.sb.info()["bunq"]
        query = urllib.parse.urlencode({"response_type": "code", "client_id": info["client_id"],
                                        "redirect_uri": redirect_uri, "state": state})
        return f"{self.base}/auth?{query}"

    def token(self, code, redirect_uri="https://odoo.example/bank/callback", secret=None):
        info = self.sb.info()["bunq"]
        query = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code,
                                        "redirect_uri": redirect_uri, "client_id": info["client_id"],
                                        "client_secret": secret or info["client_secret"]})
        return requests.post(f"{self.base}/v1/token?{query}", verify=self.sb.certs.ca, timeout=30)

    def consent(self, ibans=None):
        """The customer's consent: the access token, used as an API key."""
        callback = self.sb.approve_bunq(self.authorize_url(), ibans=ibans)
        code = self.sb.query_of(callback)["code"]
        response = self.token(code)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]
