"""A small NextGenPSD2 client written from the notes, used only to test the sandbox.

Not the addon's client: each request is built here in plain sight, so a test
can also break it on purpose (drop a header, sign the wrong way).
Profiles: ../shared/specs/berlingroup/NOTES-{knab,triodos,volksbank}.md.
"""

import base64
import datetime
import hashlib
import json
import secrets
import urllib.parse
import uuid

import requests
from refclient import digest_of, http_date, load_cert, load_key, one_line_pem, sign

PREFIX = {
    "knab": ("/knab/openbanking", "/knab/connect"),
    "triodos": ("/triodos/xs2a-bg/nl", "/triodos/auth/nl/v1"),
    "asn": ("/psd2/asnbank", "/psd2/asnbank/v1"),
    "sns": ("/psd2/snsbank", "/psd2/snsbank/v1"),
    "regiobank": ("/psd2/regiobank", "/psd2/regiobank/v1"),
}
VOLKSBANK = ("asn", "sns", "regiobank")
REDIRECT = "https://tpp.example/ngp/callback"


class NgClient:
    def __init__(self, sandbox, bank):
        self.sb, self.bank = sandbox, bank
        self.base = sandbox.nextgenpsd2_url
        self.api, self.auth = PREFIX[bank]
        self.tls = sandbox.certs.nextgenpsd2_tls
        self.key = load_key(sandbox.certs.nextgenpsd2_signing_key)
        self.cert = load_cert(sandbox.certs.nextgenpsd2_signing_cert)
        raw = sandbox.scenario().get(bank, {})
        self.client_id, self.client_secret = raw.get("client_id"), raw.get("client_secret")
        self.app_token = None
        self.ais = self.api + ("/v1.1" if bank in VOLKSBANK else "/v1")

    # -------------------------------------------------------------- transport
    def send(self, method, path, headers=None, body=b"", params=None, cert="default", auth=None):
        url = path if path.startswith("https://") else self.base + path
        return requests.request(method, url, headers=headers or {}, data=body, params=params, auth=auth,
                                timeout=30, verify=self.sb.certs.ca, allow_redirects=False,
                                cert=self.tls if cert == "default" else cert)

    def signed(self, kind, body=b"", more=None, drop=(), tamper=None):
        """Headers of a call: signed per bank, or just X-Request-ID (de Volksbank)."""
        headers = {"X-Request-ID": str(uuid.uuid4()), **(more or {})}
        if self.bank in VOLKSBANK:
            headers["Content-Type"] = "application/json"
        else:
            headers["Digest"] = digest_of(body)
            if self.bank == "knab":
                headers["Date"] = http_date()
                names = ["digest", "x-request-id", "date"] + (["tpp-redirect-uri"] if kind == "consent" else [])
                key_id = f"SN={self.cert.serial_number},CA={self.cert.subject.rfc4514_string().replace(' ', '')}"
            else:
                names = ["digest", "x-request-id"]
                key_id = f"SN={self.cert.serial_number:X},CA={self.cert.issuer.rfc4514_string()}"
            lower = {k.lower(): v for k, v in headers.items()}
            signature = sign(self.key, [(n, lower[n]) for n in names])
            if tamper == "signature":
                signature = base64.b64encode(b"\0" * 256).decode()
            headers["Signature"] = (f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
                                    f'signature="{signature}"')
            headers["TPP-Signature-Certificate"] = one_line_pem(self.sb.certs.nextgenpsd2_signing_cert)
        for name in drop:
            headers.pop(name, None)
        return headers

    # -------------------------------------------------------------- registration / app token
    def register(self):
        """Triodos: onboarding (signed) then OpenID Connect DCR [I Y-tri]."""
        onboarding = self.send("GET", self.api + "/onboarding/v1", self.signed("data"))
        assert onboarding.status_code == 200, onboarding.text
        token = onboarding.json()["access_token"]
        answer = self.send("POST", onboarding.json()["_links"]["registration"]["href"],
                           {"Authorization": f"Bearer {token}"},
                           body={"redirect_uris": [REDIRECT], "initial_access_token": token})
        assert answer.status_code == 201, answer.text
        self.client_id, self.client_secret = answer.json()["client_id"], answer.json()["client_secret"]
        return answer

    def application_token(self):
        answer = self.send("POST", self.auth + "/token", {"Cache-Control": "no-cache"},
                           body={"grant_type": "client_credentials", "scope": "psd2"},
                           auth=(self.client_id, self.client_secret))
        assert answer.status_code == 200, answer.text
        self.app_token = answer.json()["access_token"]
        return answer

    # -------------------------------------------------------------- consent
    def consent_body(self, **changes):
        until = (datetime.date.today() + datetime.timedelta(days=87)).isoformat()
        access = ["accounts", "transactions", "balances"] if self.bank == "knab" else \
            {"accounts": [], "balances": [], "transactions": []}
        return {"access": access, "recurringIndicator": True, "validUntil": until, "frequencyPerDay": 4,
                "combinedServiceIndicator": False, **changes}

    def create_consent(self, body=None, drop=(), psu_ip="192.0.2.10", **kwargs):
        data = json.dumps(body or self.consent_body()).encode()
        more = {"Content-Type": "application/json"}
        if psu_ip:
            more["PSU-IP-Address"] = psu_ip
        if self.bank in VOLKSBANK:
            more["Authorization"] = self.client_id
        else:
            more["TPP-Redirect-URI"] = REDIRECT
        if self.bank == "knab":
            more["Authorization"] = f"Bearer {self.app_token}"
        version = "/v2" if self.bank == "knab" else "/v1"
        return self.send("POST", f"{self.api}{version}/consents", self.signed("consent", data, more, drop, **kwargs),
                         data)

    def authorize_url(self, consent, state="ngpst"):
        consent_id = consent["consentId"]
        if self.bank == "knab":
            query = {"response_type": "code", "client_id": self.client_id, "redirect_uri": REDIRECT,
                     "scope": f"psd2 offline_access AIS:{consent_id}", "state": state}
            return f"{self.base}{self.auth}/authorize?" + urllib.parse.urlencode(query)
        if self.bank == "triodos":
            self.verifier = secrets.token_urlsafe(48)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).rstrip(b"=").decode()
            extra = {"redirect_uri": REDIRECT, "state": state, "code_challenge": challenge,
                     "code_challenge_method": "S256"}
            return self.base + consent["_links"]["scaRedirect"]["href"] + "&" + urllib.parse.urlencode(extra)
        query = {"response_type": "code", "client_id": self.client_id, "consentId": consent_id, "scope": "AIS",
                 "state": state, "redirect_uri": REDIRECT}
        return self.base + consent["_links"]["scaOAuth"]["href"] + "?" + urllib.parse.urlencode(query)

    def token(self, **params):
        if self.bank in VOLKSBANK:  # query string, Basic, form content type [I Y-vb]
            return self.send("POST", self.auth + "/token", {"Content-Type": "application/x-www-form-urlencoded"},
                             params=params, auth=(self.client_id, self.client_secret))
        if self.bank == "knab" and params.get("grant_type") == "refresh_token":
            return self.send("POST", self.auth + "/token",
                             body={**params, "client_id": self.client_id, "client_secret": self.client_secret})
        return self.send("POST", self.auth + "/token", body=params, auth=(self.client_id, self.client_secret))

    def link(self, ibans=None):
        """The whole consent: (consent answer, token answer)."""
        if self.bank == "triodos":
            self.register()
        if self.bank == "knab":
            self.application_token()
        created = self.create_consent()
        assert created.status_code == 201, created.text
        consent = created.json()
        callback = self.sb.approve_nextgenpsd2(self.bank, self.authorize_url(consent), ibans)
        code = self.sb.query_of(callback)["code"]
        params = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
        if self.bank == "triodos":
            params["code_verifier"] = self.verifier
        answer = self.token(**params)
        assert answer.status_code == 200, answer.text
        self.consent_id = consent["consentId"]
        self.tokens = answer.json()
        return consent, self.tokens

    # -------------------------------------------------------------- data
    def get(self, path, params=None, access_token=None, consent_id=None, psu_ip=None, drop=(), cert="default",
            tamper=None):
        more = {"Authorization": f"Bearer {access_token or self.tokens['access_token']}",
                "Consent-ID": consent_id or self.consent_id}
        if psu_ip:
            more["PSU-IP-Address"] = psu_ip
        if path.startswith("/nl/"):  # Triodos' hrefs are relative to /xs2a-bg [I Y-tri]
            path = "/triodos/xs2a-bg" + path
        return self.send("GET", path, self.signed("data", b"", more, drop, tamper), params=params, cert=cert)

    def consent_call(self, method, tail=""):
        more = {"Authorization": self.client_id} if self.bank in VOLKSBANK else {}
        version = "/v2" if self.bank == "knab" else "/v1"
        return self.send(method, f"{self.api}{version}/consents/{self.consent_id}{tail}", self.signed("data", b"", more))

    # -------------------------------------------------------------- payments (Knab, de Volksbank)
    def pis_path(self):
        if self.bank == "knab":
            return self.api + "/v1/payments/instant-sepa-credit-transfers"  # [I Y-knab]
        return self.api + "/v1/payments/sepa-credit-transfers"  # [C V-swagger]

    def initiate_payment(self, body, redirect=REDIRECT, psu_ip="192.0.2.10", drop=(), authorization=None):
        data = json.dumps(body).encode()
        more = {"Content-Type": "application/json", "TPP-Redirect-URI": redirect}
        if psu_ip:
            more["PSU-IP-Address"] = psu_ip
        if self.bank == "knab":
            more["Authorization"] = authorization or f"Bearer {self.app_token}"
        else:
            more["Authorization"] = authorization or self.client_id
        return self.send("POST", self.pis_path(), self.signed("consent", data, more, drop), data)

    def payment_status(self, payment_id):
        more = {"Authorization": f"Bearer {self.app_token}" if self.bank == "knab" else self.client_id}
        if self.bank == "knab":
            path = f"{self.pis_path()}/{payment_id}/status"
        else:
            path = f"{self.api}/v1.1/payments/sepa-credit-transfers/{payment_id}/status"  # [C V-swagger]
        return self.send("GET", path, self.signed("data", b"", more))
