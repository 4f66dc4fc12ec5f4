"""Scenario: which accounts exist at which bank, and which transactions they hold.

A scenario is a JSON (or YAML) document; ``DEFAULT_SCENARIO`` shows every key.
Transactions are either generated (seeded, so every run and every day shows
the same history) or listed explicitly. Each bank module renders the same
bank-neutral transaction records in its own wire format.

Bank-neutral transaction record (explicit transactions use the same keys)::

    {"id": "...", "status": "booked" | "pending",
     "booking_date": "2026-11-20"  (or "days_ago": 0),
     "time": "10:15:00", "amount": "1250.00" (negative = debit), "currency": "EUR",
     "kind": "sepa" | "ideal" | "card" | "atm" | "direct_debit" | "costs",
     "counterparty_name": "...", "counterparty_iban": "...", "counterparty_bic": "...",
     "description": "Factuur 2026-0117", "reference": "5000056789012345",
     "end_to_end_id": "...", "mandate_id": "...", "creditor_id": "...",
     "card": {"terminal": "5GYV99", "card_number": "321", "city": "UTRECHT"}}
"""

import copy
import datetime
import hashlib
import json
import uuid
from decimal import Decimal
from pathlib import Path

from . import dutch
from .nextgenpsd2_scenario import NEXTGENPSD2_BANK_CODES, NEXTGENPSD2_DEFAULTS

try:
    import zoneinfo

    AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")
except Exception:  # pragma: no cover - tzdata missing
    AMSTERDAM = datetime.timezone(datetime.timedelta(hours=1))

INELIGIBLE_REASONS = {
    "savings": "Spaarrekeningen kunnen niet gekoppeld worden aan een boekhoudpakket.",
    "foreign_currency": "Rekeningen in vreemde valuta kunnen niet gekoppeld worden.",
    "private": "Dit is een privérekening; alleen zakelijke rekeningen kunnen gekoppeld worden.",
}

DEFAULT_SCENARIO = {
    "seed": 20261121,
    # Day the generated history ends; null = today in Europe/Amsterdam.
    "anchor_date": None,
    "ing": {
        "access_token_expires_in": 900,
        "application_token_expires_in": 900,
        "refresh_token_expires_in": 15552000,  # 180 days (re-authentication period)
        "code_ttl": 300,
        # always | never | alternate: whether a refresh answer carries a new
        # refresh token (ING may omit it: the client must keep the old one).
        "refresh_token_policy": "alternate",
        # Older dateFrom is moved forward and announced with the
        # X-ING-AIS-ADJUSTED-DATEFROM / -TRANSACTION-VALIDITY-PERIOD headers.
        "history_days": 730,
        "page_limit_default": 100,
        "page_limit_max": 100,
        "signature_max_skew_seconds": 300,
        "accounts": [
            {
                "iban": "NL69INGB0123456789",
                "holder": "Bakkerij De Korenbloem B.V.",
                "product": "Zakelijke Rekening",
                "currency": "EUR",
                "kind": "current",
                "opening_balance": "18250.00",
                "generate": {"days": 400, "per_day": 3},
            },
            {
                "iban": None,
                "bank_account_seed": "ing-2",
                "holder": "Bakkerij De Korenbloem B.V.",
                "product": "Zakelijke Rekening",
                "currency": "EUR",
                "kind": "current",
                "opening_balance": "2400.00",
                "generate": {"days": 60, "per_day": 1},
            },
            {
                "iban": None,
                "bank_account_seed": "ing-savings",
                "holder": "Bakkerij De Korenbloem B.V.",
                "product": "Zakelijke Spaarrekening",
                "currency": "EUR",
                "kind": "savings",
                "opening_balance": "50000.00",
                "generate": False,
            },
            {
                "iban": None,
                "bank_account_seed": "ing-usd",
                "holder": "Bakkerij De Korenbloem B.V.",
                "product": "Zakelijke Rekening Vreemde Valuta",
                "currency": "USD",
                "kind": "foreign_currency",
                "opening_balance": "1200.00",
                "generate": False,
            },
            {
                "iban": None,
                "bank_account_seed": "ing-private",
                "holder": "J.M. de Korenbloem",
                "product": "Betaalrekening",
                "currency": "EUR",
                "kind": "private",
                "opening_balance": "850.00",
                "generate": False,
            },
        ],
    },
    "abnamro": {
        "client_id": "sandbox-tpp",
        "api_key": "sandbox-api-key",
        "access_token_expires_in": 7200,
        "refresh_token_expires_in": 15552000,
        "code_ttl": 60,
        # A rotated-away refresh token presented again: refuse it and, as the
        # OAuth security BCP advises (reuse means a leaked token), revoke
        # every token of that consent. The user must give consent again.
        "revoke_chain_on_refresh_reuse": True,
        "history_months": 18,
        # The API hosts need the QWAC too (PSD2 eIDAS); stricter than the doc.
        "require_client_cert_for_api": True,
        "page_size": 50,
        "accounts": [
            {
                "iban": "NL02ABNA0123456789",
                "holder": "Bakkerij De Korenbloem B.V.",
                "product": "Ondernemersrekening",
                "currency": "EUR",
                "kind": "current",
                "opening_balance": "9350.00",
                "generate": {"days": 400, "per_day": 3},
            },
            {
                "iban": None,
                "bank_account_seed": "abn-2",
                "holder": "Korenbloem Vastgoed B.V.",
                "product": "Ondernemersrekening",
                "currency": "EUR",
                "kind": "current",
                "opening_balance": "1500.00",
                "generate": {"days": 90, "per_day": 1},
            },
            {
                "iban": None,
                "bank_account_seed": "abn-savings",
                "holder": "Bakkerij De Korenbloem B.V.",
                "product": "Ondernemersdeposito",
                "currency": "EUR",
                "kind": "savings",
                "opening_balance": "25000.00",
                "generate": False,
            },
        ],
    },
    "rabobank": {
        # Rabobank's facts: ../shared/specs/rabobank/NOTES.md ([C] confirmed, [I] inferred).
        "client_id": "sandbox-rabo-client",
        "client_secret": "sandbox-rabo-secret",
        "access_token_expires_in": 3600,  # [I Y token stub]
        "refresh_token_expires_in": 2592000,  # 30 days [I Y token stub]
        "consent_days": 180,  # [C R-oauth]
        "code_ttl": 300,  # inferred: Rabobank does not publish the code lifetime
        "recent_days": 90,  # ais.transactions.read-90days [C R-ais]
        # Inferred: "the whole online-available history" has no published length.
        "history_days": 730,
        "page_size": 50,  # inferred: Rabobank's page size is not published
        "signature_max_skew_seconds": 300,  # inferred (as ING)
        "accounts": [
            {
                "iban": "NL39RABO0320130878",  # the IBAN of Rabobank's own example (Yolt stub)
                "holder": "Bakkerij De Korenbloem B.V.",
                "product": "Rabo Zakelijke Rekening",
                "currency": "EUR",
                "kind": "current",
                "opening_balance": "12400.00",
                "generate": {"days": 400, "per_day": 3},
            },
            {
                "iban": None,
                "bank_account_seed": "rabo-2",
                "holder": "Bakkerij De Korenbloem B.V.",
                "product": "Rabo Zakelijke Rekening",
                "currency": "EUR",
                "kind": "current",
                "opening_balance": "800.00",
                "generate": {"days": 30, "per_day": 1},
            },
            {
                "iban": None,
                "bank_account_seed": "rabo-savings",
                "holder": "Bakkerij De Korenbloem B.V.",
                "product": "Rabo BedrijfsSpaarrekening",
                "currency": "EUR",
                "kind": "savings",
                "opening_balance": "30000.00",
                "generate": False,
            },
        ],
    },
}

DEFAULT_SCENARIO["bunq"] = {
    # bunq's facts: ../shared/specs/bunq/NOTES.md ([C] bunq's own material, [I] inferred).
    "company_user_id": 4011,  # the account holder (UserCompany)
    "company_name": "Bakkerij De Korenbloem B.V.",
    # The company's own API key (no PSD2): a session on it is a UserCompany.
    "api_key": "sandbox-bunq-company-api-key",
    # The OAuth client the PSD2 provider's user gets (one per user [C B-doc]).
    "client_id": "sandbox-bunq-oauth-client",
    "client_secret": "sandbox-bunq-oauth-secret",
    # Seconds a session lasts; bunq's default auto-logout is a week [C B-doc].
    "session_timeout": 604800,
    "code_ttl": 300,  # inferred: bunq does not publish the code lifetime
    "consent_days": 180,  # inferred: PSD2's re-authentication period; bunq publishes none
    "page_count_default": 10,  # [C B-doc]
    "page_count_max": 200,  # [C B-doc]
    # bunq's per-IP limits (GET 3, POST 5, PUT 2 per 3 s; session-server 1 per 30 s)
    # [C B-doc]; off by default so tests do not wait on them.
    "rate_limits": False,
    "accounts": [
        {
            "iban": None,
            "bank_account_seed": "bunq-1",
            "holder": "Bakkerij De Korenbloem B.V.",
            "product": "bunq Zakelijk",
            "currency": "EUR",
            "kind": "current",
            "opening_balance": "4200.00",
            "generate": {"days": 28, "per_day": 2, "pending": 0},
        },
        {
            "iban": None,
            "bank_account_seed": "bunq-2",
            "holder": "Bakkerij De Korenbloem B.V.",
            "product": "bunq Zakelijk Btw-potje",
            "currency": "EUR",
            "kind": "current",
            "opening_balance": "1850.00",
            "generate": {"days": 14, "per_day": 0.5, "pending": 0},
        },
        {
            "iban": None,
            "bank_account_seed": "bunq-savings",
            "holder": "Bakkerij De Korenbloem B.V.",
            "product": "bunq Spaarrekening",
            "currency": "EUR",
            "kind": "savings",
            "opening_balance": "15000.00",
            "generate": False,
        },
    ],
}

BANK_CODES = {"ing": "INGB", "abnamro": "ABNA", "rabobank": "RABO", "bunq": "BUNQ"}
BANKS = ("ing", "abnamro", "rabobank", "bunq")
# NextGenPSD2 banks (nextgenpsd2.py): Knab, Triodos and de Volksbank's brands.
DEFAULT_SCENARIO.update(copy.deepcopy(NEXTGENPSD2_DEFAULTS))
BANK_CODES.update(NEXTGENPSD2_BANK_CODES)
BANKS += tuple(NEXTGENPSD2_DEFAULTS)


def load_file(path):
    text = Path(path).read_text(encoding="utf-8")
    if str(path).endswith((".yaml", ".yml")):
        import yaml  # only needed for YAML scenarios

        return yaml.safe_load(text)
    return json.loads(text)


def merged_with_defaults(data):
    """Fill keys the scenario leaves out from DEFAULT_SCENARIO (one level per bank)."""
    result = copy.deepcopy(DEFAULT_SCENARIO)
    data = data or {}
    for key, value in data.items():
        if key in BANKS and isinstance(value, dict):
            result[key].update(copy.deepcopy(value))
        else:
            result[key] = copy.deepcopy(value)
    return result


def amsterdam_today(now=None):
    now = now if now is not None else datetime.datetime.now(datetime.UTC)
    return now.astimezone(AMSTERDAM).date()


class Account:
    def __init__(self, bank, index, data, seed):
        self.bank = bank
        self.data = data
        iban = data.get("iban")
        if not iban:
            rng = dutch.seeded(seed, bank, data.get("bank_account_seed", index))
            iban = dutch.make_nl_iban(BANK_CODES[bank], dutch.random_nl_account_number(rng))
        iban = iban.replace(" ", "").upper()
        if not dutch.is_valid_iban(iban):
            raise ValueError(f"scenario account IBAN {iban!r} has wrong check digits")
        self.iban = iban
        self.holder = data.get("holder", "Sandbox B.V.")
        self.product = data.get("product", "Zakelijke Rekening")
        self.currency = data.get("currency", "EUR")
        self.kind = data.get("kind", "current")
        self.opening_balance = Decimal(str(data.get("opening_balance", "0")))
        # Stable across restarts and scenario reloads: derived from the IBAN.
        self.resource_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bank-sandbox:{bank}:{iban}"))
        self.booked = []  # ascending by (booking_date, time, seq); balance_after set
        self.pending = []

    @property
    def eligible(self):
        return self.kind == "current" and self.currency == "EUR"

    @property
    def ineligible_reason(self):
        if self.eligible:
            return None
        if self.currency != "EUR" and self.kind == "current":
            return INELIGIBLE_REASONS["foreign_currency"]
        return INELIGIBLE_REASONS.get(self.kind, "Deze rekening kan niet gekoppeld worden.")

    @property
    def booked_balance(self):
        return self.booked[-1]["balance_after"] if self.booked else self.opening_balance

    def expected_balance(self):
        return self.booked_balance + sum((t["amount"] for t in self.pending), Decimal("0"))


class Scenario:
    def __init__(self, data, today=None, history_since=None):
        """``history_since``: the day the scenario was first built. When the
        clock passes midnight the history grows by the new day and keeps
        its oldest days, as a bank's does (a window sliding forward would
        drop a day that Odoo has imported already)."""
        self.raw = merged_with_defaults(data)
        self.seed = self.raw["seed"]
        anchor = self.raw.get("anchor_date")
        self.today = (
            datetime.date.fromisoformat(anchor) if anchor else (today or amsterdam_today())
        )
        self.extra_days = max(0, (self.today - history_since).days) if history_since else 0
        self.ing = self.raw["ing"]
        self.abnamro = self.raw["abnamro"]
        self.rabobank = self.raw["rabobank"]
        self.bunq = self.raw["bunq"]
        self.accounts = {bank: [] for bank in BANKS}
        for bank in BANKS:
            for index, account_data in enumerate(self.raw[bank].get("accounts", [])):
                account = Account(bank, index, account_data, self.seed)
                self._fill(account)
                self.accounts[bank].append(account)

    def account_by_iban(self, bank, iban):
        iban = (iban or "").replace(" ", "").upper()
        return next((a for a in self.accounts[bank] if a.iban == iban), None)

    def account_by_resource_id(self, bank, resource_id):
        return next((a for a in self.accounts[bank] if a.resource_id == resource_id), None)

    def _fill(self, account):
        records = []
        generate = account.data.get("generate")
        if generate:
            records.extend(generate_history(self.seed, account, self.today, generate, self.extra_days))
        for position, explicit in enumerate(account.data.get("transactions", [])):
            records.append(self._explicit(account, position, explicit))
        booked = [r for r in records if r["status"] == "booked"]
        booked.sort(key=lambda r: (r["booking_date"], r["time"], r["seq"]))
        balance = account.opening_balance
        for record in booked:
            balance += record["amount"]
            record["balance_after"] = balance
        account.booked = booked
        account.pending = [r for r in records if r["status"] == "pending"]

    def _explicit(self, account, position, data):
        record = dict(data)
        if "booking_date" not in record:
            record["booking_date"] = (
                self.today - datetime.timedelta(days=int(record.get("days_ago", 0)))
            ).isoformat()
        record.setdefault("status", "booked")
        record.setdefault("time", "12:00:00")
        record.setdefault("kind", "sepa")
        record.setdefault("currency", account.currency)
        record["amount"] = Decimal(str(record["amount"]))
        if record.get("counterparty_iban") and not record.get("counterparty_bic"):
            record["counterparty_bic"] = dutch.bic_for_iban(record["counterparty_iban"])
        # Explicit transactions sort after generated ones of the same day.
        record["seq"] = 1000 + position
        if not record.get("id"):
            digest = hashlib.sha256(
                json.dumps([account.iban, position, data], sort_keys=True, default=str).encode()
            ).hexdigest()
            record["id"] = "X" + digest[:23]
        return record


# --------------------------------------------------------------------------
# Deterministic generator of realistic Dutch business transactions.
# Each day's transactions depend only on (seed, IBAN, date), so a history
# window that slides forward never changes days already seen.

CUSTOMERS = [
    "Van der Meer Installatietechniek B.V.",
    "Bouwbedrijf Jansen & Zn",
    "De Groot Advies",
    "Stichting Welzijn Utrecht",
    "Gemeente Amersfoort",
    "Hoveniersbedrijf Groenrijk",
    "Tandartspraktijk Smit",
    "Café De Gouden Leeuw",
    "Nederlandse Loterij Organisatie B.V.",
    "Lunchroom 't Hoekje",
    "Hotel Restaurant De Wittenburg B.V.",
    "Zorgboerderij Het Klaverblad",
]
SUPPLIERS = [
    "Makro Nederland B.V.",
    "Hanos Horeca Groothandel",
    "Sligro Food Group Nederland B.V.",
    "Drukkerij Van Dijk",
    "Meelfabriek De Hoop",
    "Bakkersgroothandel Bakkersland B.V.",
]
DIRECT_DEBITS = [
    ("Vattenfall Klantenservice N.V.", "NL71ZZZ330374540000", "Energie termijnbedrag", (180, 420)),
    ("KPN B.V.", "NL24ZZZ273475990000", "Zakelijk Internet + Bellen", (45, 95)),
    ("Vastgoed Beheer Utrecht B.V.", "NL52ZZZ301234560000", "Huur bedrijfspand", (1450, 1450)),
    ("Zilveren Kruis Achmea", "NL88ZZZ280113760000", "Collectieve zorgverzekering", (120, 260)),
]
CARD_MERCHANTS = [
    ("Albert Heijn 1234", "UTRECHT"),
    ("Jumbo Nieuwegein", "NIEUWEGEIN"),
    ("Shell Utrecht A12", "UTRECHT"),
    ("Gamma Nieuwegein", "NIEUWEGEIN"),
    ("HEMA Amsterdam Kalverstr", "AMSTERDAM"),
    ("Deli Company BV", "AMSTERDAM"),
    ("Action 1088", "HOUTEN"),
]
IDEAL_MERCHANTS = ["bol.com", "Coolblue B.V.", "Stichting Mollie Payments"]
EMPLOYEES = ["J. de Vries", "M. Bakker", "S. el Amrani", "P. van den Berg"]
BELASTINGDIENST = ("Belastingdienst", "NL86INGB0002445588")
MONTHS_NL = [
    "januari", "februari", "maart", "april", "mei", "juni", "juli",
    "augustus", "september", "oktober", "november", "december",
]


def _counterparty_iban(seed, name):
    return dutch.random_nl_iban(dutch.seeded(seed, "cp", name))


def _money(rng, low, high):
    return Decimal(rng.randrange(int(low * 100), int(high * 100) + 1)) / 100


def _time(rng, first_hour=7, last_hour=21):
    return "%02d:%02d:%02d" % (rng.randrange(first_hour, last_hour), rng.randrange(60), rng.randrange(60))


def _tx_id(rng, bank, kind):
    if bank == "abnamro":
        if kind in ("card", "atm"):
            return ""  # ABN AMRO leaves card rows without transactionId
        chars = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
        return "".join(rng.choice(chars) for _ in range(19))
    return "".join(rng.choice("0123456789") for _ in range(24))


def _customer_payment(seed, rng, day):
    name = rng.choice(CUSTOMERS)
    invoice = "%d-%04d" % (day.year, rng.randrange(1, 1200))
    style = rng.random()
    reference = None
    if style < 0.45:
        reference = dutch.random_betalingskenmerk(rng)
        description = ""
    elif style < 0.5:
        reference = dutch.rf_reference(invoice.replace("-", "") + "%03d" % rng.randrange(1000))
        description = ""
    elif style < 0.8:
        description = f"Factuur {invoice}"
    elif style < 0.9:
        reference = dutch.random_betalingskenmerk(rng)
        # Payers retype the kenmerk in the free text too, spaced in groups of four.
        spaced = " ".join(reference[i:i + 4] for i in range(0, 16, 4))
        description = f"Betaling factuur {invoice} betalingskenmerk {spaced}"
    else:
        second = "%d-%04d" % (day.year, rng.randrange(1, 1200))
        description = f"fact {invoice} + {second}"
    return {
        "kind": "sepa",
        "amount": _money(rng, 150, 2600),
        "counterparty_name": name,
        "counterparty_iban": _counterparty_iban(seed, name),
        "description": description,
        "reference": reference,
        "end_to_end_id": f"E2E{rng.randrange(10**9):09d}" if rng.random() < 0.5 else None,
    }


def _supplier_payment(seed, rng, day):
    name = rng.choice(SUPPLIERS)
    return {
        "kind": "sepa",
        "amount": -_money(rng, 40, 2200),
        "counterparty_name": name,
        "counterparty_iban": _counterparty_iban(seed, name),
        "description": f"Factuur {rng.randrange(100000, 999999)} klantnr {rng.randrange(1000, 99999)}",
        "reference": None,
        "end_to_end_id": f"{day:%Y%m%d}{rng.randrange(10**6):06d}",
    }


def _card_payment(seed, rng, day):
    merchant, city = rng.choice(CARD_MERCHANTS)
    return {
        "kind": "card",
        "amount": -_money(rng, 2.5, 180),
        "counterparty_name": merchant,
        "counterparty_iban": "",
        "description": "",
        "card": {
            "terminal": "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(6)),
            "card_number": "321",
            "city": city,
        },
    }


def _atm(seed, rng, day):
    return {
        "kind": "atm",
        "amount": -Decimal(rng.choice([50, 100, 150, 200])),
        "counterparty_name": "Geldmaat Utrecht Centraal",
        "counterparty_iban": "",
        "description": "",
        "card": {"terminal": "GM%04d" % rng.randrange(10000), "card_number": "321", "city": "UTRECHT"},
    }


def _ideal(seed, rng, day):
    merchant = rng.choice(IDEAL_MERCHANTS)
    iban = _counterparty_iban(seed, merchant)
    order = rng.randrange(10**15, 10**16)
    return {
        "kind": "ideal",
        "amount": -_money(rng, 9.95, 650),
        "counterparty_name": merchant,
        "counterparty_iban": iban,
        "description": f"{order} {rng.randrange(10**6):07d} {merchant}",
        "end_to_end_id": f"{day:%d-%m-%Y} {rng.randrange(24):02d}:{rng.randrange(60):02d} {order}",
    }


def _monthly_events(seed, rng, day, size):
    """Fixed-date business events: costs, rent, salaries, taxes.

    ``size`` (the account's transactions per day) scales payroll and taxes so
    a quiet account does not sink into the red.
    """
    events = []
    if day.day == 1:
        events.append({
            "kind": "costs",
            "amount": -_money(rng, 12.5, 38),
            "counterparty_name": "",
            "counterparty_iban": "",
            "description": "Kosten Zakelijk Betalingsverkeer",
        })
    if day.day in (2, 12, 20, 27):
        name, creditor_id, text, (low, high) = DIRECT_DEBITS[(day.day // 7) % len(DIRECT_DEBITS)]
        events.append({
            "kind": "direct_debit",
            "amount": -_money(rng, low, high),
            "counterparty_name": name,
            "counterparty_iban": _counterparty_iban(seed, name),
            "description": f"{text} {MONTHS_NL[day.month - 1]} {day.year}",
            "creditor_id": creditor_id,
            "mandate_id": "MND" + hashlib.sha256(name.encode()).hexdigest()[:8].upper(),
            "end_to_end_id": f"{creditor_id[:6]}{day:%Y%m%d}",
        })
    if day.day == 24:
        for employee in EMPLOYEES[:max(1, min(len(EMPLOYEES), round(size)))]:
            events.append({
                "kind": "sepa",
                "amount": -_money(rng, 1850, 3900),
                "counterparty_name": employee,
                "counterparty_iban": _counterparty_iban(seed, employee),
                "description": f"Salaris {MONTHS_NL[day.month - 1]} {day.year}",
                "end_to_end_id": f"SAL{day:%Y%m}{EMPLOYEES.index(employee):02d}",
            })
    if day.day == 28:
        name, iban = BELASTINGDIENST
        if day.month in (1, 4, 7, 10):
            quarter = (day.month - 1) // 3 or 4
            year = day.year if day.month != 1 else day.year - 1
            description = f"Omzetbelasting {quarter}e kwartaal {year}"
        else:
            description = f"Loonheffing {MONTHS_NL[day.month - 2]} {day.year}"
        events.append({
            "kind": "sepa",
            "amount": -_money(rng, 300 * size, 2500 * size),
            "counterparty_name": name,
            "counterparty_iban": iban,
            "description": description,
            "reference": dutch.random_betalingskenmerk(rng),
        })
    return events


DAILY_KINDS = [
    (_customer_payment, 0.42),
    (_supplier_payment, 0.18),
    (_card_payment, 0.25),
    (_ideal, 0.1),
    (_atm, 0.05),
]


def _pick_daily(rng):
    roll = rng.random()
    for maker, weight in DAILY_KINDS:
        if roll < weight:
            return maker
        roll -= weight
    return DAILY_KINDS[0][0]


def generate_history(seed, account, today, settings, extra_days=0):
    days = int(settings.get("days", 90)) + extra_days
    per_day = float(settings.get("per_day", 2))
    pending_count = int(settings.get("pending", 2))
    records = []
    for offset in range(days, -1, -1):
        day = today - datetime.timedelta(days=offset)
        rng = dutch.seeded(seed, account.iban, day.isoformat())
        events = _monthly_events(seed, rng, day, per_day)
        if day.weekday() < 5 or rng.random() < 0.3:
            count = int(per_day) + (1 if rng.random() < per_day - int(per_day) else 0)
            count = max(0, count + rng.choice([-1, 0, 0, 1]))
            events.extend(_pick_daily(rng)(seed, rng, day) for _ in range(count))
        for seq, event in enumerate(events):
            records.append(_finish(rng, account, day, seq, event, "booked"))
    rng = dutch.seeded(seed, account.iban, today.isoformat(), "pending")
    for seq in range(pending_count):
        maker = _card_payment if seq % 2 == 0 else _supplier_payment
        records.append(_finish(rng, account, today, 500 + seq, maker(seed, rng, today), "pending"))
    return records


def _finish(rng, account, day, seq, event, status):
    event = dict(event)
    event.setdefault("reference", None)
    event.setdefault("end_to_end_id", None)
    if event.get("counterparty_iban"):
        event.setdefault("counterparty_bic", dutch.bic_for_iban(event["counterparty_iban"]))
    event.update(
        status=status,
        booking_date=day.isoformat(),
        time=_time(rng),
        currency=account.currency,
        seq=seq,
        id=_tx_id(rng, account.bank, event["kind"]),
    )
    if status == "pending" and account.bank == "ing":
        event["id"] = "P" + event["id"][1:]
    return event
