"""Everything the sandbox remembers: tokens, consents, codes, faults, request log.

One State is shared by both bank servers (threads), so every access goes
through ``lock``. With a state directory it is written to ``state.json`` after
each change, so a restarted sandbox still honours tokens it issued.
"""

import copy
import fnmatch
import hashlib
import json
import os
import secrets
import threading
import time
from pathlib import Path

from .scenario import Scenario

LOG_LIMIT = 5000
CURSOR_LIMIT = 20000


def fingerprint(secret):
    """Short one-way tag so the log can tell tokens apart without holding them."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


class State:
    def __init__(self, scenario_data=None, state_dir=None):
        self.lock = threading.RLock()
        self.state_dir = Path(state_dir) if state_dir else None
        self.scenario_data = scenario_data or {}
        self.clock_offset = 0.0
        #: How far the calendar day is moved; advancing the clock for token
        #: lifetimes only (``calendar: false``) leaves the day where Odoo's
        #: own clock has it, so the day's transactions stay the same.
        self.calendar_offset = 0.0
        self.tokens = {}
        self.consents = {}
        self.codes = {}
        self.grant_requests = {}  # ING granting refs / consent page sessions
        self.page_sessions = {}
        self.ing_clients = {}  # client_id -> signing certificate PEM
        self.cursors = {}
        self.payments = {}  # payment orders (payments.py), id -> submission
        self.faults = []
        self.log = []
        self._log_seq = 0
        self._load()
        self.scenario = Scenario(self.scenario_data)
        self._scenario_built_for = self._history_since = self.scenario.today

    # ----------------------------------------------------------- time
    def now(self):
        return time.time() + self.clock_offset

    def _clock_today(self):
        import datetime

        from .scenario import amsterdam_today

        return amsterdam_today(datetime.datetime.fromtimestamp(time.time() + self.calendar_offset,
                                                               datetime.UTC))

    def current_scenario(self):
        """Rebuild when the day changes, so 'today' moves with the clock."""
        with self.lock:
            if not self.scenario_data.get("anchor_date"):
                today = self._clock_today()
                if today != self._scenario_built_for:
                    self.scenario = Scenario(self.scenario_data, today=today,
                                             history_since=self._history_since)
                    self._scenario_built_for = today
            return self.scenario

    def set_scenario(self, data):
        """A changed scenario (more transactions, say) on the same bank: the
        history keeps its first day and today follows the clock."""
        # Raises on bad data before anything changes.
        scenario = Scenario(data, today=self._clock_today(), history_since=self._history_since)
        with self.lock:
            self.scenario_data = data
            self.scenario = scenario
            self._scenario_built_for = scenario.today
            self.save()

    def reset(self, scenario_data):
        scenario = Scenario(scenario_data)
        with self.lock:
            self.scenario_data = scenario_data
            self.scenario = scenario
            self._scenario_built_for = self._history_since = scenario.today
            self.clock_offset = self.calendar_offset = 0.0
            for table in (self.tokens, self.consents, self.codes, self.grant_requests,
                          self.page_sessions, self.cursors, self.payments):
                table.clear()
            self.faults = []
            self.log.clear()
            self.save()

    def add_transactions(self, bank, iban, transactions):
        """Append explicit transactions to one account (the demo's payments)."""
        with self.lock:
            merged = Scenario(self.scenario_data).raw
            built = Scenario(merged)
            wanted = iban.replace(" ", "").upper()
            for position, account in enumerate(built.accounts[bank]):
                if account.iban == wanted:
                    raw_account = merged[bank]["accounts"][position]
                    # Pin the IBAN so the added rows stay on this account.
                    raw_account["iban"] = account.iban
                    raw_account.setdefault("transactions", []).extend(transactions)
                    break
            else:
                raise KeyError(f"no {bank} account with IBAN {iban}")
            self.set_scenario(merged)

    # ----------------------------------------------------------- tokens
    def issue_token(self, kind, bank, lifetime, **fields):
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = {
                "kind": kind,
                "bank": bank,
                "expires_at": self.now() + lifetime,
                "status": "active",
                **fields,
            }
            self.save()
        return token

    def token(self, token, kind, bank):
        """The token's record if it is usable now, else None."""
        if not token:
            return None
        with self.lock:
            record = self.tokens.get(token)
            if not record or record["kind"] != kind or record["bank"] != bank:
                return None
            if record["status"] != "active" or record["expires_at"] < self.now():
                return None
            consent_id = record.get("consent_id")
            if consent_id and not self.consent_active(consent_id):
                return None
            return record

    def raw_token(self, token):
        with self.lock:
            return self.tokens.get(token)

    def consent_active(self, consent_id):
        consent = self.consents.get(consent_id)
        return bool(consent and consent["status"] == "active" and consent["valid_until"] >= self.now())

    def new_consent(self, bank, **fields):
        consent_id = secrets.token_hex(8)
        with self.lock:
            self.consents[consent_id] = {"bank": bank, "status": "active", "created": self.now(), **fields}
            self.save()
        return consent_id

    def end_consent(self, consent_id, status):
        with self.lock:
            consent = self.consents.get(consent_id)
            if consent:
                consent["status"] = status
                for record in self.tokens.values():
                    if record.get("consent_id") == consent_id:
                        record["status"] = status
                self.save()

    def end_all_consents(self, bank, status):
        with self.lock:
            for consent_id, consent in list(self.consents.items()):
                if consent["bank"] == bank and consent["status"] == "active":
                    self.end_consent(consent_id, status)

    # ----------------------------------------------------------- codes
    def issue_code(self, bank, lifetime, **fields):
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {"bank": bank, "expires_at": self.now() + lifetime, "used": False, **fields}
            self.save()
        return code

    def remember_cursor(self, key, cursor):
        with self.lock:
            self.cursors[key] = cursor
            # Oldest first (dict order): a long-running demo must not grow forever.
            for stale in list(self.cursors)[:-CURSOR_LIMIT]:
                del self.cursors[stale]
            self.save()

    # ----------------------------------------------------------- faults
    def add_faults(self, faults):
        with self.lock:
            for fault in faults:
                fault = dict(fault)
                if "error" not in fault:
                    raise ValueError("a fault needs 'error'")
                fault.setdefault("path", "*")
                fault.setdefault("count", 1)
                fault["id"] = secrets.token_hex(4)
                fault["hits"] = 0
                self.faults.append(fault)
            return copy.deepcopy(self.faults)

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def take_fault(self, bank, method, path):
        """The first armed fault that matches; consumes one of its uses."""
        with self.lock:
            for fault in self.faults:
                if fault.get("bank") not in (None, bank):
                    continue
                if fault.get("method") and fault["method"].upper() != method:
                    continue
                if not fnmatch.fnmatchcase(path, fault["path"]):
                    continue
                if fault["count"] is not None and fault["hits"] >= fault["count"]:
                    continue
                fault["hits"] += 1
                return dict(fault)
        return None

    # ----------------------------------------------------------- log
    def record(self, entry):
        with self.lock:
            self._log_seq += 1
            entry = {"seq": self._log_seq, "time": round(self.now(), 3), **entry}
            self.log.append(entry)
            del self.log[:-LOG_LIMIT]

    # ----------------------------------------------------------- persistence
    _PERSISTED = ("scenario_data", "clock_offset", "calendar_offset", "tokens", "consents", "codes",
                  "grant_requests", "ing_clients", "cursors", "payments", "log", "_log_seq")

    def save(self):
        if not self.state_dir:
            return
        with self.lock:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            target = self.state_dir / "state.json"
            temporary = target.with_suffix(".tmp")
            temporary.write_text(json.dumps({k: getattr(self, k) for k in self._PERSISTED}))
            os.chmod(temporary, 0o600)
            temporary.replace(target)

    def _load(self):
        if not self.state_dir or not (self.state_dir / "state.json").exists():
            return
        saved = json.loads((self.state_dir / "state.json").read_text())
        scenario_from_cli = self.scenario_data
        for key in self._PERSISTED:
            if key in saved:
                setattr(self, key, saved[key])
        # A scenario given on the command line wins over the remembered one.
        if scenario_from_cli:
            self.scenario_data = scenario_from_cli
