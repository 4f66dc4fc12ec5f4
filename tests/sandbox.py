"""Run the local bank sandbox (setup/bank_sandbox) for tests: real HTTPS, real mTLS.

Quick start -- in a conftest.py (tests/conftest.py already puts tests/ and
setup/ on sys.path)::

    from sandbox import bank_sandbox, bank_sandbox_session  # noqa: F401  (pytest fixtures)

    def test_fetch(bank_sandbox):
        sb = bank_sandbox                    # a SandboxHandle
        sb.ing_url                           # "https://127.0.0.1:<port>"  (ING base URL)
        sb.abnamro_url                       # "https://127.0.0.1:<port>"  (ABN AMRO auth AND api base;
                                             #  paths /as/authorization.oauth2, /as/token.oauth2, /v1/...)
        sb.certs.ca                          # CA bundle path: requests verify=sb.certs.ca
        sb.certs.ing_tls                     # (cert, key) paths for requests cert=  (ING QWAC)
        sb.certs.ing_signing_cert, sb.certs.ing_signing_key   # QSealC for HTTP Signatures
        sb.certs.abnamro_tls                 # (cert, key) for ABN AMRO
        sb.certs.other_client                # (cert, key) from an untrusted CA (must be refused)
        sb.rabobank_url                      # "https://127.0.0.1:<port>" (Rabobank: /openapi/oauth2/...
                                             #  and /openapi/payments/account-information/ais/...)
        sb.certs.rabobank_tls, sb.certs.rabobank_signing_cert, sb.certs.rabobank_signing_key
        sb.abnamro_client_id, sb.abnamro_api_key, sb.tan
        sb.rabobank_client_id, sb.rabobank_client_secret
        sb.bunq_url                          # "https://127.0.0.1:<port>" (bunq: /v1/..., /auth, /v1/token)
        sb.certs.bunq_psp_cert, sb.certs.bunq_psp_key   # QSealC for bunq's PSD2 registration
        sb.info()["bunq"]                    # client_id, client_secret, api_key, company_user_id
        sb.approve_bunq(authorize_url, ibans=None)        -> redirect URL with ?code=&state=
        sb.info()                            # accounts per bank: iban, resourceId, eligible, balance...
        sb.set_faults({"path": "/v3/accounts/*/transactions", "error": "429", "retry_after": 2})
        sb.clear_faults()
        sb.set_scenario({...}) / sb.add_transactions("abnamro", iban, [{...}])
        sb.log()                             # [{method, path, status, grant_type, token_fp, note, fault}]
        sb.advance_clock(seconds)            # make tokens/codes expire without sleeping
        sb.approve_ing(location_with_params, ibans=None)  -> redirect URL with ?code=&state=
        sb.approve_abnamro(authorize_url, iban=None)      -> redirect URL with ?code=&state=
        sb.approve_rabobank(authorize_url, ibans=None)    -> redirect URL with ?code=&state=
        sb.cancel_consent("ing" | "abnamro", url)         -> redirect URL with error=access_denied
        # payment orders (README "Payments"):
        sb.payments(bank=None, status=None)  # orders: id, status, bank_status, reason, count, total...
        sb.advance_payment(id, to=None)      # bank moves on: authorised|accepted|executed (default: next)
        sb.reject_payment(id, "AM04", end_to_end_id=None)  # whole order, or one payment in it
        sb.approve_payment(scaRedirect_or_authorizationUrl, account=None, tan=None)
                                             # -> ING: redirect URL (TPP-Redirect-URI); ABN AMRO: final page HTML
        sb.cancel_payment(url)               # the user cancels on the approval page

``bank_sandbox`` (function scope) resets scenario, faults, log, clock, tokens and
consents before each test; ``bank_sandbox_session`` is the same process without the reset.
Outside pytest: ``with running_sandbox() as sb: ...``.

Gotcha: this machine sets REQUESTS_CA_BUNDLE, and requests then IGNORES
``Session.verify`` (psf/requests#3829). Pass ``verify=sb.certs.ca`` (and
``cert=``) on every request, or use ``SandboxHandle.session(bank)``.

Fault kinds (``error``): "401" "403" "429" "500" "503" (any status; optional
``retry_after``, ``code``, ``message``, ``body``), "timeout" (``seconds``),
"truncate", "malformed", "expire_consent", "revoke_consent". Matching by
``path`` (fnmatch glob), optional ``method`` and ``bank``; ``count`` uses
(default 1, null = until cleared). See setup/bank_sandbox/README.md.
"""

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parent.parent
SETUP = REPO / "setup"
if str(SETUP) not in sys.path:
    sys.path.insert(0, str(SETUP))

from bank_sandbox import certs as sandbox_certs  # noqa: E402

START_TIMEOUT = 30


def default_cert_dir():
    return Path(os.environ.get("BANK_SANDBOX_CERTS")
                or Path(tempfile.gettempdir()) / f"bank_sandbox_certs_{os.getuid()}")


@dataclass(frozen=True)
class SandboxCerts:
    directory: Path

    def _pair(self, stem):
        return (str(self.directory / f"{stem}.pem"), str(self.directory / f"{stem}.key"))

    @property
    def ca(self):
        return str(self.directory / "ca.pem")

    @property
    def ing_tls(self):
        return self._pair("ing_tls")

    @property
    def ing_signing_cert(self):
        return str(self.directory / "ing_signing.pem")

    @property
    def ing_signing_key(self):
        return str(self.directory / "ing_signing.key")

    @property
    def abnamro_tls(self):
        return self._pair("abnamro_tls")

    @property
    def rabobank_tls(self):
        return self._pair("rabobank_tls")

    @property
    def rabobank_signing_cert(self):
        return str(self.directory / "rabobank_signing.pem")

    @property
    def rabobank_signing_key(self):
        return str(self.directory / "rabobank_signing.key")

    @property
    def nextgenpsd2_tls(self):
        return self._pair("nextgenpsd2_tls")

    @property
    def nextgenpsd2_signing_cert(self):
        return str(self.directory / "nextgenpsd2_signing.pem")

    @property
    def nextgenpsd2_signing_key(self):
        return str(self.directory / "nextgenpsd2_signing.key")

    @property
    def bunq_psp_cert(self):
        """The QSealC of the PSD2 registration at bunq (CN names AISP PISP)."""
        return str(self.directory / "bunq_psp.pem")

    @property
    def bunq_psp_key(self):
        return str(self.directory / "bunq_psp.key")

    @property
    def other_client(self):
        return self._pair("other_client")

    @property
    def other_signing_cert(self):
        return str(self.directory / "other_signing.pem")

    @property
    def other_signing_key(self):
        return str(self.directory / "other_signing.key")


class SandboxHandle:
    def __init__(self, host, ports, certs, process, log_path, scenario):
        self.host = host
        self.ports = ports
        self.certs = certs
        self.process = process
        self.log_path = log_path
        self.initial_scenario = scenario or {}
        self.ing_url = f"https://{host}:{ports['ing']}"
        self.abnamro_url = f"https://{host}:{ports['abnamro']}"
        # Rabobank: authorisation server and API host on one port, production's
        # paths under /openapi (/openapi/oauth2/..., /openapi/payments/...).
        self.rabobank_url = f"https://{host}:{ports['rabobank']}" if "rabobank" in ports else None
        # Knab, Triodos and de Volksbank's brands on one port, each under its prefix
        # (/knab, /triodos, /psd2/{asnbank,snsbank,regiobank}; setup/bank_sandbox/nextgenpsd2.py).
        self.nextgenpsd2_url = f"https://{host}:{ports['nextgenpsd2']}" if "nextgenpsd2" in ports else None
        # bunq: API under /v1, OAuth page /auth and token /v1/token on one port (no mTLS).
        self.bunq_url = f"https://{host}:{ports['bunq']}" if "bunq" in ports else None
        self.admin = requests.Session()
        info = self.info()
        self.tan = info["tan"]
        self.abnamro_client_id = info["abnamro"]["client_id"]
        self.abnamro_api_key = info["abnamro"]["api_key"]
        self.rabobank_client_id = info["rabobank"]["client_id"]
        self.rabobank_client_secret = info["rabobank"]["client_secret"]

    # ------------------------------------------------------------ admin API
    def _admin(self, method, name, payload=None, **params):
        response = self.admin.request(method, f"{self.ing_url}/_sandbox/{name}",
                                      json=payload, params=params, timeout=30, verify=self.certs.ca)
        if response.status_code >= 400:
            raise RuntimeError(f"sandbox admin {name}: {response.status_code} {response.text}")
        return response.json()

    def info(self):
        return self._admin("GET", "info")

    def accounts(self, bank):
        return self.info()["accounts"][bank]

    def set_faults(self, *faults):
        flat = []
        for fault in faults:
            flat.extend(fault if isinstance(fault, list) else [fault])
        return self._admin("POST", "faults", flat)["faults"]

    def clear_faults(self):
        self._admin("DELETE", "faults")

    def set_scenario(self, scenario):
        return self._admin("POST", "scenario", scenario)

    def scenario(self):
        return self._admin("GET", "scenario")

    def add_transactions(self, bank, iban, transactions):
        return self._admin("POST", "transactions", {"bank": bank, "iban": iban, "transactions": transactions})

    def log(self, bank=None, since=0):
        params = {"since": since}
        if bank:
            params["bank"] = bank
        return self._admin("GET", "log", **params)["log"]

    def clear_log(self):
        self._admin("DELETE", "log")

    def advance_clock(self, seconds, calendar=True):
        """Move the sandbox's clock. ``calendar=False``: for token and
        consent lifetimes only; the bank's day (and so its transactions)
        stays on Odoo's, whatever the hour the tests run."""
        return self._admin("POST", "clock", {"advance": seconds, "calendar": calendar})

    def consents(self):
        return self._admin("GET", "consents")["consents"]

    def end_consents(self, bank, action="expire"):
        return self._admin("POST", "consents", {"bank": bank, "action": action})

    def payments(self, bank=None, status=None):
        params = {k: v for k, v in (("bank", bank), ("status", status)) if v}
        return self._admin("GET", "payments", **params)["payments"]

    def payment(self, payment_id):
        return next(p for p in self.payments() if p["id"] == payment_id)

    def advance_payment(self, payment_id, to=None, account=None):
        """The bank moves the order on (to authorised / accepted / executed; default one step)."""
        return self._admin("POST", "payments/advance", {"id": payment_id, "to": to, "account": account})

    def reject_payment(self, payment_id, code, end_to_end_id=None, detail=None):
        """Refuse the order (or one payment of it) with an ISO reason code (AM04, AC01, MD01, AM05...)."""
        return self._admin("POST", "payments/reject", {"id": payment_id, "code": code,
                                                       "end_to_end_id": end_to_end_id, "detail": detail})

    def reset(self, scenario=None):
        """Fresh bank: no tokens, consents, faults or log; clock back; scenario reloaded."""
        return self._admin("POST", "reset", {"scenario": scenario or self.initial_scenario})

    # ------------------------------------------------------------ the user at the bank
    def _browser(self):
        return _VerifyingSession(self.certs.ca)

    @staticmethod
    def _session_field(html):
        match = re.search(r'name="session" value="([^"]+)"', html)
        if not match:
            raise AssertionError("consent page has no session field:\n" + html[:2000])
        return match.group(1)

    def _walk(self, url, choices, cancel=False, tan=None):
        browser = self._browser()
        page = browser.get(url, timeout=30)
        if page.status_code != 200:
            raise AssertionError(f"consent page {url}: {page.status_code}\n{page.text[:2000]}")
        session = self._session_field(page.text)
        action = "cancel" if cancel else "approve"
        post_url = page.url
        answer = browser.post(post_url, data={"session": session, "step": "accounts", "action": action,
                                              "accounts": choices}, allow_redirects=False, timeout=30)
        if cancel:
            return answer.headers["Location"]
        if answer.status_code != 200:
            raise AssertionError(f"choosing accounts failed: {answer.status_code}\n{answer.text[:2000]}")
        answer = browser.post(post_url, data={"session": session, "step": "tan", "action": "approve",
                                              "tan": tan or self.tan}, allow_redirects=False, timeout=30)
        if answer.status_code not in (302, 303):
            raise AssertionError(f"TAN step failed: {answer.status_code}\n{answer.text[:2000]}")
        return answer.headers["Location"]

    def approve_ing(self, url, ibans=None):
        """Consent to ``ibans`` (default: every eligible ING account) at ``url``."""
        accounts = self.accounts("ing")
        wanted = [a["resourceId"] for a in accounts
                  if (a["iban"] in ibans if ibans else a["eligible"])]
        return self._walk(url, wanted)

    def approve_abnamro(self, url, iban=None):
        """Consent to one ABN AMRO account (default: the first eligible one)."""
        if iban is None:
            iban = next(a["iban"] for a in self.accounts("abnamro") if a["eligible"])
        return self._walk(url, [iban])

    def approve_rabobank(self, url, ibans=None):
        """Consent to ``ibans`` (default: every eligible Rabobank account) at ``url``."""
        accounts = self.accounts("rabobank")
        wanted = [a["resourceId"] for a in accounts
                  if (a["iban"] in ibans if ibans else a["eligible"])]
        return self._walk(url, wanted)

    def approve_nextgenpsd2(self, bank, url, ibans=None):
        """Consent at Knab, Triodos (one account) or an ASN/SNS/RegioBank page; default: every
        eligible account (Triodos: the first)."""
        accounts = [a for a in self.accounts(bank) if (a["iban"] in ibans if ibans else a["eligible"])]
        if bank == "triodos" and not ibans:
            accounts = accounts[:1]
        return self._walk(url, [a["resourceId"] for a in accounts])

    def approve_bunq(self, url, ibans=None):
        """Consent to ``ibans`` (default: every eligible bunq account) at ``url``."""
        accounts = self.accounts("bunq")
        wanted = [a["resourceId"] for a in accounts
                  if (a["iban"] in ibans if ibans else a["eligible"])]
        return self._walk(url, wanted)

    def cancel_consent(self, bank, url):
        return self._walk(url, [], cancel=True)

    def approve_payment(self, url, account=None, tan=None, cancel=False):
        """The account holder signs a payment order at the bank's approval page.

        ``account``: IBAN to pick when the order names no debtor account.
        Returns the redirect Location (ING) or the final page's HTML (ABN AMRO).
        """
        browser = self._browser()
        page = browser.get(url, timeout=30)
        if page.status_code != 200:
            raise AssertionError(f"approval page {url}: {page.status_code}\n{page.text[:2000]}")
        session = self._session_field(page.text)
        post_url = page.url
        data = {"session": session, "step": "review", "action": "cancel" if cancel else "approve"}
        if account:
            data["account"] = account
        answer = browser.post(post_url, data=data, allow_redirects=False, timeout=30)
        if not cancel:
            if answer.status_code != 200:
                raise AssertionError(f"review step failed: {answer.status_code}\n{answer.text[:2000]}")
            answer = browser.post(post_url, data={"session": session, "step": "tan", "action": "approve",
                                                  "tan": tan or self.tan}, allow_redirects=False, timeout=30)
        if answer.status_code in (302, 303):
            return answer.headers["Location"]
        if answer.status_code != 200:
            raise AssertionError(f"approval failed: {answer.status_code}\n{answer.text[:2000]}")
        return answer.text

    def cancel_payment(self, url):
        return self.approve_payment(url, cancel=True)

    def session(self, bank):
        """requests.Session that verifies the sandbox CA and presents the bank's TLS client cert."""
        session = _VerifyingSession(self.certs.ca)
        session.cert = {"ing": self.certs.ing_tls, "rabobank": self.certs.rabobank_tls}.get(
            bank, self.certs.abnamro_tls)
        return session

    @staticmethod
    def query_of(url):
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class _VerifyingSession(requests.Session):
    """Session that really uses its CA bundle.

    requests lets REQUESTS_CA_BUNDLE (set on this machine) override
    ``Session.verify`` (psf/requests#3829): pass ``verify=`` per request.
    """

    def __init__(self, ca):
        super().__init__()
        self._ca = ca

    def request(self, method, url, **kwargs):
        kwargs.setdefault("verify", self._ca)
        return super().request(method, url, **kwargs)


@contextlib.contextmanager
def running_sandbox(scenario=None, cert_dir=None, tan="123456", state_dir=None, scenario_file=None):
    """Start ``python -m bank_sandbox`` as a subprocess on free ports; stop it after.

    ``scenario``: a dict; ``scenario_file``: a JSON/YAML path; ``state_dir``:
    keep tokens and consents across restarts.
    """
    cert_dir = Path(cert_dir) if cert_dir else default_cert_dir()
    sandbox_certs.generate(cert_dir)
    work = Path(tempfile.mkdtemp(prefix="bank_sandbox_"))
    ready = work / "ready.json"
    command = [sys.executable, "-m", "bank_sandbox", "--port", "0", "--abnamro-port", "0", "--rabobank-port", "0",
               "--nextgenpsd2-port", "0",
               "--bunq-port", "0",
               "--certs", str(cert_dir), "--ready-file", str(ready), "--tan", tan]
    if scenario:
        scenario_path = work / "scenario.json"
        scenario_path.write_text(json.dumps(scenario))
        command += ["--scenario", str(scenario_path)]
    elif scenario_file:
        command += ["--scenario", str(scenario_file)]
    if state_dir:
        command += ["--state-dir", str(state_dir)]
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(SETUP), os.environ.get("PYTHONPATH")])))
    log_path = work / "sandbox.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(command, cwd=str(SETUP), env=environment,
                                   stdout=log_file, stderr=subprocess.STDOUT)
    handle = None
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.exists():
            if process.poll() is not None:
                raise RuntimeError("bank sandbox exited:\n" + log_path.read_text())
            if time.monotonic() > deadline:
                raise RuntimeError("bank sandbox did not start:\n" + log_path.read_text())
            time.sleep(0.05)
        ports = json.loads(ready.read_text())
        handle = SandboxHandle("127.0.0.1", ports, SandboxCerts(cert_dir), process, log_path, scenario)
        yield handle
    finally:
        if handle:
            handle.stop()
        elif process.poll() is None:
            process.terminate()
            process.wait(10)


@pytest.fixture(scope="session")
def bank_sandbox_session():
    with running_sandbox() as handle:
        yield handle


@pytest.fixture
def bank_sandbox(bank_sandbox_session):
    bank_sandbox_session.reset()
    yield bank_sandbox_session
