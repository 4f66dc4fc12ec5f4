"""Payment orders at the sandbox banks: submission, approval, status, execution, booking.

Bank-neutral. ``ing_payments`` and ``abnamro_payments`` translate their wire
formats into a *submission* (a plain JSON-serialisable dict kept in
``State.payments``) and render its status in their own words; this module
owns the life cycle::

    received -> authorising -> authorised -> accepted -> executed
        \\-> rejected (reason code)          \\-> cancelled

Execution books the money where the account-information side shows it: one
batch booking (``batch_ct`` debit / ``batch_dd`` credit) or, when the order
asks for individual booking, one row per payment.
"""

import base64
import datetime
import hashlib
import secrets
import uuid
import xml.etree.ElementTree as ET
from decimal import Decimal, InvalidOperation

from . import dutch
from .scenario import AMSTERDAM

# Life cycle. Final states never change again.
RECEIVED, AUTHORISING, AUTHORISED, ACCEPTED = "received", "authorising", "authorised", "accepted"
EXECUTED, REJECTED, CANCELLED = "executed", "rejected", "cancelled"
OPEN = (RECEIVED, AUTHORISING)
FINAL = (EXECUTED, REJECTED, CANCELLED)
ORDER = (RECEIVED, AUTHORISING, AUTHORISED, ACCEPTED, EXECUTED)

# ISO 20022 ExternalStatusReason1Code subset, with the texts a Dutch bank shows.
REASONS = {
    "AC01": ("Rekeningnummer onjuist", "Incorrect account number"),
    "AC04": ("Rekening opgeheven", "Closed account number"),
    "AC06": ("Rekening geblokkeerd", "Blocked account"),
    "AG01": ("Transactie niet toegestaan (geen incassocontract)", "Transaction forbidden (no direct debit contract)"),
    "AM04": ("Onvoldoende saldo", "Insufficient funds"),
    "AM05": ("Dubbele aanlevering", "Duplication"),
    "BE05": ("Incassant onbekend", "Unrecognised initiating party"),
    "CUST": ("Geannuleerd door de rekeninghouder", "Cancelled by the account holder"),
    "DT01": ("Ongeldige datum", "Invalid date"),
    "FF01": ("Ongeldig bestandsformaat", "Invalid file format"),
    "MD01": ("Geen machtiging", "No mandate"),
    "MD07": ("Debiteur overleden", "End customer deceased"),
    "MS02": ("Geweigerd door de klant", "Refused by the customer"),
    "MS03": ("Reden niet gespecificeerd", "Reason not specified"),
    "RC01": ("BIC onjuist", "Bank identifier incorrect"),
}

DEFAULT_SETTINGS = {
    # Sandbox clock seconds after approval until the bank accepts the order
    # for execution, and after that until it executes and books it.
    # null = only the admin API moves the order on.
    "accept_after_seconds": 30,
    "execute_after_seconds": 60,
    # Refuse (AM04) a credit-transfer batch the debtor account cannot cover.
    "check_funds": True,
    # Creditor/debtor IBANs the bank refuses at execution: {"NL..": "AC04"}.
    "reject_counterparties": {},
}


class PaymentError(Exception):
    """A submission the bank refuses outright (the bank module picks the answer)."""

    def __init__(self, message, kind="format", path=None):
        super().__init__(message)
        self.kind, self.path = kind, path


def reason(code, detail=None):
    nl, en = REASONS.get(code, REASONS["MS03"])
    data = {"code": code, "text_nl": nl, "text_en": en}
    if detail:
        data["detail"] = detail
    return data


def settings_of(scenario):
    return {**DEFAULT_SETTINGS, **(scenario.raw.get("payments") or {})}


def money(value):
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise PaymentError(f"amount {value!r} is not a number") from None
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise PaymentError(f"amount {value!r} must be positive with at most two decimals")
    return amount


def total_of(payments, only_valid=True):
    return sum((Decimal(p["amount"]) for p in payments
                if not only_valid or p["status"] != REJECTED), Decimal("0"))


# ---------------------------------------------------------------- creation

def new_submission(bank, kind, payments, **fields):
    """A submission dict; payments: [{end_to_end_id, amount, counterparty_*, remittance, ...}]."""
    for payment in payments:
        payment.setdefault("status", "pending")
        payment.setdefault("reason", None)
        iban = payment.get("counterparty_iban") or ""
        if iban and not dutch.is_valid_iban(iban):
            # Check digits wrong: the bank's validation drops this one payment.
            payment["status"] = REJECTED
            payment["reason"] = reason("AC01", f"IBAN {iban}")
    submission = {
        "id": str(uuid.uuid4()),
        "bank": bank,
        "kind": kind,  # credit_transfer | direct_debit
        "payments": payments,
        "status": RECEIVED,
        "reason": None,
        "history": [],
        "batch_booking": True,
        "requested_date": None,
        "message_id": None,
        "payment_information_ids": [],
        "account": None,
        "approval_token": secrets.token_urlsafe(16),
        "bookings": [],
        **fields,
    }
    if payments and all(p["status"] == REJECTED for p in payments):
        submission["status"] = REJECTED
        submission["reason"] = reason("AC01", "every payment of the order was refused")
    return submission


def count_and_total(submission):
    valid = [p for p in submission["payments"] if p["status"] != REJECTED]
    return len(valid), total_of(submission["payments"])


# ---------------------------------------------------------------- store

class PaymentBook:
    """Operations on ``state.payments`` (id -> submission), all under ``state.lock``."""

    def __init__(self, state):
        self.state = state

    def _stamp(self, submission, status):
        submission["status"] = status
        submission["history"].append({"status": status, "at": round(self.state.now(), 3)})
        submission[f"{status}_at"] = self.state.now()

    def add(self, submission):
        with self.state.lock:
            first = submission["status"]
            submission["history"].append({"status": first, "at": round(self.state.now(), 3)})
            submission["created"] = self.state.now()
            self.state.payments[submission["id"]] = submission
            self.state.save()
        return submission

    def get(self, payment_id, bank=None):
        with self.state.lock:
            submission = self.state.payments.get(payment_id)
        if submission and bank and submission["bank"] != bank:
            return None
        return submission

    def by_token(self, token):
        with self.state.lock:
            return next((s for s in self.state.payments.values() if s["approval_token"] == token), None)

    def duplicate_of(self, bank, account, message_id=None, end_to_end_ids=(), request_id=None):
        """An earlier, not refused order of ``account`` with this MsgId, EndToEndId or X-Request-ID."""
        wanted = {e for e in end_to_end_ids if e and e != "NOTPROVIDED"}
        with self.state.lock:
            for other in self.state.payments.values():
                if other["bank"] != bank or other["status"] in (REJECTED, CANCELLED):
                    continue
                if account and other.get("account") and other["account"] != account:
                    continue
                if message_id and other.get("message_id") == message_id:
                    return other
                if request_id and other.get("request_id") == request_id:
                    return other
                if wanted and wanted & {p["end_to_end_id"] for p in other["payments"]
                                        if p["status"] != REJECTED}:
                    return other
        return None

    def list(self, bank=None):
        with self.state.lock:
            return [dict(s) for s in self.state.payments.values() if not bank or s["bank"] == bank]

    # ------------------------------------------------------------ user steps
    def opened(self, submission):
        with self.state.lock:
            if submission["status"] == RECEIVED:
                self._stamp(submission, AUTHORISING)
                self.state.save()

    def authorise(self, submission, account=None):
        with self.state.lock:
            if submission["status"] not in OPEN:
                raise PaymentError(f"order is {submission['status']}", "state")
            if account:
                submission["account"] = account
            self._stamp(submission, AUTHORISED)
            self.state.save()

    def reject(self, submission, code, detail=None, end_to_end_id=None):
        """Whole order, or one payment of it (``end_to_end_id``) before execution."""
        with self.state.lock:
            if submission["status"] in FINAL:
                raise PaymentError(f"order is already {submission['status']}", "state")
            if end_to_end_id:
                targets = [p for p in submission["payments"] if p["end_to_end_id"] == end_to_end_id]
                if not targets:
                    raise PaymentError(f"no payment with EndToEndId {end_to_end_id}", "state")
                for payment in targets:
                    payment["status"] = REJECTED
                    payment["reason"] = reason(code, detail)
                if all(p["status"] == REJECTED for p in submission["payments"]):
                    submission["reason"] = reason(code, detail)
                    self._stamp(submission, REJECTED)
            else:
                submission["reason"] = reason(code, detail)
                self._stamp(submission, REJECTED)
            self.state.save()

    def cancel(self, submission):
        with self.state.lock:
            if submission["status"] in FINAL:
                raise PaymentError(f"order is already {submission['status']}", "state")
            self._stamp(submission, CANCELLED)
            self.state.save()

    # ------------------------------------------------------------ bank steps
    def advance(self, submission, target=None):
        """One step on (or up to ``target``): what the bank's back office does."""
        with self.state.lock:
            status = submission["status"]
            if status in FINAL:
                raise PaymentError(f"order is already {status}", "state")
            goal = target or ORDER[ORDER.index(status) + 1]
            if goal not in ORDER or ORDER.index(goal) <= ORDER.index(status):
                raise PaymentError(f"cannot go from {status} to {goal}", "state")
            while submission["status"] not in FINAL and ORDER.index(submission["status"]) < ORDER.index(goal):
                nxt = ORDER[ORDER.index(submission["status"]) + 1]
                if nxt == AUTHORISING:
                    self._stamp(submission, AUTHORISING)
                elif nxt == AUTHORISED:
                    if not submission.get("account"):
                        raise PaymentError("no account chosen yet: approve on the page first", "state")
                    self._stamp(submission, AUTHORISED)
                elif nxt == ACCEPTED:
                    self._stamp(submission, ACCEPTED)
                else:
                    self._execute(submission)
            self.state.save()
        return submission

    def tick(self):
        """Move approved orders on by the sandbox clock (called before every request)."""
        with self.state.lock:
            if not self.state.payments:
                return
            scenario = self.state.current_scenario()
            settings = settings_of(scenario)
            accept, execute = settings["accept_after_seconds"], settings["execute_after_seconds"]
            now = self.state.now()
            for submission in list(self.state.payments.values()):
                status = submission["status"]
                if status == AUTHORISED and accept is not None and now >= submission["authorised_at"] + accept:
                    self._stamp(submission, ACCEPTED)
                    status = ACCEPTED
                if (status == ACCEPTED and execute is not None
                        and now >= submission["accepted_at"] + execute
                        and (submission.get("requested_date") or "") <= scenario.today.isoformat()):
                    self._execute(submission)
                    self.state.save()

    def _execute(self, submission):
        scenario = self.state.current_scenario()
        settings = settings_of(scenario)
        for payment in submission["payments"]:
            code = settings["reject_counterparties"].get(payment.get("counterparty_iban") or "")
            if code and payment["status"] != REJECTED:
                payment["status"] = REJECTED
                payment["reason"] = reason(code)
        valid = [p for p in submission["payments"] if p["status"] != REJECTED]
        if not valid:
            submission["reason"] = reason(submission["payments"][0]["reason"]["code"]
                                          if submission["payments"] else "MS03",
                                          "every payment of the order was refused")
            self._stamp(submission, REJECTED)
            return
        account = scenario.account_by_iban(submission["bank"], submission["account"])
        if account is None:
            submission["reason"] = reason("AC01", f"account {submission['account']} unknown")
            self._stamp(submission, REJECTED)
            return
        total = total_of(valid, only_valid=False)
        if (submission["kind"] == "credit_transfer" and settings["check_funds"]
                and account.booked_balance + Decimal(str(account.data.get("overdraft_limit", "0"))) < total):
            submission["reason"] = reason("AM04", f"balance {account.booked_balance}, order {total}")
            self._stamp(submission, REJECTED)
            return
        rows = booking_rows(submission, valid, total, scenario, self.state.now())
        self.state.add_transactions(submission["bank"], account.iban, rows)
        for payment in valid:
            payment["status"] = EXECUTED
        submission["bookings"] = [r["id"] for r in rows]
        self._stamp(submission, EXECUTED)


def _booking_id(bank, seed):
    digest = hashlib.sha256(seed.encode()).hexdigest()
    if bank == "abnamro":
        return "".join("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"[int(digest[i:i + 2], 16) % 34] for i in range(0, 38, 2))
    return str(int(digest, 16))[:24].rjust(24, "0")


def booking_rows(submission, valid, total, scenario, now):
    moment = datetime.datetime.fromtimestamp(now, datetime.UTC).astimezone(AMSTERDAM)
    day = scenario.today.isoformat()
    clock = moment.strftime("%H:%M:%S")
    debit = submission["kind"] == "credit_transfer"
    reference = (submission["payment_information_ids"] or [submission["id"]])[0]
    if submission["batch_booking"]:
        return [{
            "id": _booking_id(submission["bank"], submission["id"] + ":batch"),
            "booking_date": day, "time": clock,
            "amount": str(-total if debit else total),
            "kind": "batch_ct" if debit else "batch_dd",
            "counterparty_name": "", "counterparty_iban": "",
            "description": "Verzamelbetaling" if debit else "Incasso batch",
            "end_to_end_id": reference,
            "batch": {"id": reference, "message_id": submission.get("message_id"),
                      "payment_id": submission["id"], "count": len(valid),
                      "creditor_id": submission.get("creditor_id")},
        }]
    rows = []
    for index, payment in enumerate(valid):
        amount = Decimal(payment["amount"])
        rows.append({
            "id": _booking_id(submission["bank"], f"{submission['id']}:{index}"),
            "booking_date": day, "time": clock,
            "amount": str(-amount if debit else amount),
            "kind": "sepa",
            "counterparty_name": payment.get("counterparty_name") or "",
            "counterparty_iban": payment.get("counterparty_iban") or "",
            "description": payment.get("remittance") or "",
            "reference": payment.get("reference"),
            "end_to_end_id": payment["end_to_end_id"],
        })
    return rows


# ---------------------------------------------------------------- ISO 20022 files

class PainError(PaymentError):
    pass


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _find(node, path):
    """Namespace-blind path lookup: 'GrpHdr/MsgId'."""
    current = [node]
    for step in path.split("/"):
        current = [child for parent in current for child in parent if _local(child.tag) == step]
        if not current:
            return None
    return current[0]


def _findall(node, name):
    return [child for child in node if _local(child.tag) == name]


def _text(node, path, required=None):
    found = _find(node, path)
    value = found.text.strip() if found is not None and found.text else None
    if required and not value:
        raise PainError(f"{required}: {path} is missing")
    return value


def _date(node, path):
    """ReqdExctnDt is a date (pain.001.001.03) or wraps <Dt> (.001.09)."""
    found = _find(node, path)
    if found is None:
        return None
    text = (found.text or "").strip() or _text(found, "Dt") or _text(found, "DtTm") or ""
    try:
        return datetime.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise PainError(f"{path} is not a date: {text!r}") from None


def parse_pain(xml_bytes):
    """pain.001 (credit transfers) or pain.008 (direct debits) -> dict; PainError if unusable."""
    try:
        root = ET.fromstring(xml_bytes)
    except ET.ParseError as error:
        raise PainError(f"not well-formed XML: {error}") from None
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    message = namespace.rsplit(":", 1)[-1]
    if _local(root.tag) != "Document" or not message.startswith(("pain.001.", "pain.008.")):
        raise PainError("not a pain.001 or pain.008 Document", "type")
    body = next(iter(root), None)
    if body is None:
        raise PainError("empty Document")
    direct_debit = message.startswith("pain.008.")
    message_id = _text(body, "GrpHdr/MsgId", "group header")
    declared_count = _text(body, "GrpHdr/NbOfTxs", "group header")
    declared_sum = _text(body, "GrpHdr/CtrlSum")
    blocks = _findall(body, "PmtInf")
    if not blocks:
        raise PainError("no PmtInf block")
    payments, infos = [], []
    for block in blocks:
        infos.append(_parse_block(block, direct_debit, payments))
    if str(len(payments)) != declared_count:
        raise PainError(f"GrpHdr/NbOfTxs says {declared_count}, the file holds {len(payments)}")
    total = sum((Decimal(p["amount"]) for p in payments), Decimal("0"))
    if declared_sum is not None and Decimal(declared_sum) != total:
        raise PainError(f"GrpHdr/CtrlSum says {declared_sum}, the payments add up to {total}")
    return {"message": message, "kind": "direct_debit" if direct_debit else "credit_transfer",
            "message_id": message_id, "initiating_party": _text(body, "GrpHdr/InitgPty/Nm"),
            "blocks": infos, "payments": payments}


def _parse_block(block, direct_debit, payments):
    method = _text(block, "PmtMtd", "PmtInf")
    if method != ("DD" if direct_debit else "TRF"):
        raise PainError(f"PmtMtd {method} does not fit this message")
    own = "Cdtr" if direct_debit else "Dbtr"
    info = {
        "id": _text(block, "PmtInfId", "PmtInf"),
        "account": (_text(block, f"{own}Acct/Id/IBAN", "PmtInf") or "").replace(" ", "").upper(),
        "name": _text(block, f"{own}/Nm"),
        "batch_booking": (_text(block, "BtchBookg") or "true").lower() != "false",
        "date": _date(block, "ReqdColltnDt" if direct_debit else "ReqdExctnDt"),
        "local_instrument": _text(block, "PmtTpInf/LclInstrm/Cd"),
        "sequence_type": _text(block, "PmtTpInf/SeqTp"),
        "creditor_id": _text(block, "CdtrSchmeId/Id/PrvtId/Othr/Id") if direct_debit else None,
    }
    if direct_debit and not info["creditor_id"]:
        raise PainError("CdtrSchmeId (incassant ID) is missing")
    declared = _text(block, "NbOfTxs")
    items = _findall(block, "DrctDbtTxInf" if direct_debit else "CdtTrfTxInf")
    if declared is not None and declared != str(len(items)):
        raise PainError(f"PmtInf {info['id']}: NbOfTxs says {declared}, the block holds {len(items)}")
    for item in items:
        other = "Dbtr" if direct_debit else "Cdtr"
        amount_node = _find(item, "InstdAmt") if direct_debit else _find(item, "Amt/InstdAmt")
        if amount_node is None:
            raise PainError("InstdAmt is missing")
        payment = {
            "end_to_end_id": _text(item, "PmtId/EndToEndId", "transaction"),
            "amount": str(money(amount_node.text)),
            "currency": amount_node.get("Ccy", "EUR"),
            "counterparty_name": _text(item, f"{other}/Nm", "transaction"),
            "counterparty_iban": (_text(item, f"{other}Acct/Id/IBAN", "transaction") or "").replace(" ", "").upper(),
            "counterparty_bic": _text(item, f"{other}Agt/FinInstnId/BIC") or _text(item, f"{other}Agt/FinInstnId/BICFI"),
            "remittance": _text(item, "RmtInf/Ustrd"),
            "reference": _text(item, "RmtInf/Strd/CdtrRefInf/Ref"),
            "payment_information_id": info["id"],
        }
        if direct_debit:
            payment["mandate_id"] = _text(item, "DrctDbtTx/MndtRltdInf/MndtId", "transaction")
            payment["mandate_date"] = _text(item, "DrctDbtTx/MndtRltdInf/DtOfSgntr")
        if payment["currency"] != "EUR":
            raise PainError(f"{payment['end_to_end_id']}: SEPA orders are in EUR")
        payments.append(payment)
    return info


def decode_batch_file(file_data):
    """ABN AMRO's fileData: base64 of a gzip of the XML -> bytes; (code, message) on failure."""
    import gzip
    import zlib

    try:
        raw = base64.b64decode(file_data, validate=True)
    except (ValueError, TypeError):
        raise PaymentError("The incoming file data is not base64 encoded.", "MESSAGE_BAI556_0013") from None
    try:
        xml = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error):
        raise PaymentError("File data is not in gzipped format.", "MESSAGE_BAI556_0015") from None
    if not xml.lstrip().startswith(b"<?xml"):
        raise PaymentError('Batch file data does not start with xml definition ("<?xml").', "MESSAGE_BAI556_0003")
    return xml
