"""ABN AMRO Account Information v1 JSON -> the records of ``provider.py``.

Pure functions, no I/O. The hard part is ``descriptionLines``: up to nine
lines of at most 32 characters, cut wherever the 32nd character falls, also
in the middle of a word (``"Naam: Nederlandse Loterij Organi", "satie B.V."``).
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum import iso11649

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import (
        bank_http,
        betalingskenmerk,
        ibans,
        placeholders,
        provider,
    )
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import (
        bank_http,
        betalingskenmerk,
        ibans,
        placeholders,
        provider,
    )

LINE_WIDTH = 32
TIMESTAMP_FORMAT = "%Y-%m-%d-%H:%M:%S.%f"
AMSTERDAM = zoneinfo.ZoneInfo(provider.BANK_TIMEZONE)

#: mutationCode of card payments (BEA); GEA (cash machine) rows are
#: recognised by their text. *unconfirmed*: ABN AMRO publishes no full list.
CARD_MUTATION_CODES = {"426"}
_CARD_PREFIX = re.compile(r"^\s*(BEA|GEA)\b", re.IGNORECASE)

#: Labels that start a field in ABN AMRO's description text (Dutch and
#: English channels). A line starting with one is never glued to the line
#: before it, even when that line is 32 characters long.
_LABELS = {
    "iban": "iban",
    "bic": "bic",
    "naam": "name",
    "name": "name",
    "omschrijving": "description",
    "description": "description",
    "kenmerk": "reference",
    "betalingskenm.": "payment_reference",
    "betalingskenmerk": "payment_reference",
    "machtiging": "mandate",
    "incassant": "creditor_id",
    "id incassant": "creditor_id",
}
_LABEL_AT_START = re.compile(
    r"^\s*(?P<label>" + "|".join(re.escape(k) for k in sorted(_LABELS, key=len, reverse=True))
    + r")\s*:\s*", re.IGNORECASE,
)

#: Tagged (SWIFT-like) form: ``/TRTP/SEPA OVERBOEKING/IBAN/.../NAME/...``.
_TAGS = ("TRTP", "IBAN", "BIC", "NAME", "REMI", "EREF", "CSID", "MARF", "ORDP", "BENM", "ADDR", "ISDT")
_TAG_SPLIT = re.compile(r"/(" + "|".join(_TAGS) + r")/")

#: ``12.09.19/16.17`` (fixed form) or ``12.09.19/16:17``.
_CARD_MOMENT = r"\d{2}\.\d{2}\.\d{2}/\d{2}[.:]\d{2}"
_MERCHANT_AFTER_MOMENT = re.compile(_CARD_MOMENT + r"\s*(?P<merchant>[^,]+?)\s*,\s*PAS\s*\d+", re.I)
_MERCHANT_AFTER_PREFIX = re.compile(
    r"^\s*(?:BEA|GEA)\b[,\s]*(?:(?:Betaalpas|Apple Pay|Google Pay|Garmin Pay|Contactloos)\b[,\s]*)?"
    r"(?P<merchant>[^,]+?)\s*,\s*PAS\s*\d+",
    re.I,
)


# --------------------------------------------------------------------------
# descriptionLines
# --------------------------------------------------------------------------


def rejoin_description_lines(lines: Sequence[Any] | None) -> list[str]:
    """The logical lines of ``descriptionLines``.

    A line of exactly 32 characters was cut by the bank, so it continues on
    the next line without a separator ("...Organi" + "satie B.V."). Not when
    it ends in a space (the cut fell between words, or the bank padded the
    line) or when the next line starts a field of its own ("Kenmerk: ...").
    Known ambiguity: a 32-character line that ends exactly at the end of a
    word, followed by a line continuing the same text, is glued without a
    space; nothing in the data tells the two cases apart.
    """
    logical: list[str] = []
    current: str | None = None
    glue_next = False
    for item in lines or ():
        line = item if isinstance(item, str) else ""
        if current is not None and glue_next and not _LABEL_AT_START.match(line):
            current += line
        else:
            if current is not None:
                logical.append(current)
            current = line
        glue_next = len(line) == LINE_WIDTH and not line[-1:].isspace()
    if current is not None:
        logical.append(current)
    return [" ".join(line.split()) for line in logical if line.strip()]


@dataclasses.dataclass
class Description:
    """What the description text says, field by field."""

    header: str = ""
    fields: dict[str, str] = dataclasses.field(default_factory=dict)
    #: Field labels as the bank wrote them, for rebuilding the remittance text.
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    free_text: list[str] = dataclasses.field(default_factory=list)


def parse_description(logical_lines: Sequence[str]) -> Description:
    """Split logical lines into ``Label: value`` fields. A line that starts
    no field continues the field before it (the bank wrapped it at a space);
    lines before the first field are the header (``SEPA Overboeking``)."""
    text = "".join(logical_lines)
    if text.startswith("/") and _TAG_SPLIT.search(text):
        return _parse_tagged(text)
    description = Description()
    current: str | None = None
    for line in logical_lines:
        match = _LABEL_AT_START.match(line)
        if match:
            label = match.group("label")
            current = _LABELS[label.lower()]
            description.labels.setdefault(current, label)
            value = line[match.end():].strip()
            previous = description.fields.get(current)
            description.fields[current] = f"{previous} {value}".strip() if previous else value
        elif current is not None:
            description.fields[current] = f"{description.fields[current]} {line}".strip()
        elif not description.header and not description.free_text:
            description.header = line
        else:
            description.free_text.append(line)
    return description


def _parse_tagged(text: str) -> Description:
    parts = _TAG_SPLIT.split(text)
    description = Description()
    names = {"IBAN": "iban", "BIC": "bic", "NAME": "name", "REMI": "description", "EREF": "end_to_end",
             "CSID": "creditor_id", "MARF": "mandate", "TRTP": "header"}
    for tag, value in zip(parts[1::2], parts[2::2]):
        value = value.strip().strip("/").strip()
        key = names.get(tag)
        if key == "header":
            description.header = value
        elif key == "description":
            # /REMI/USTD//text/ or /REMI/STRD/CUR/1234567890123456/
            structured = re.match(r"STRD/(?P<issuer>[A-Z]+)/(?P<ref>[^/]+)", value)
            if structured:
                description.fields["payment_reference"] = structured.group("ref")
            else:
                description.fields["description"] = re.sub(r"^USTD/+", "", value)
        elif key:
            description.fields[key] = value
    return description


def structured_reference(value: str | None) -> tuple[str | None, str | None]:
    """(reference, issuer) when ``value`` is a valid betalingskenmerk (CUR)
    or ISO 11649 reference (ISO); (None, None) for any other text."""
    if not value:
        return None, None
    if betalingskenmerk.is_valid(value):
        return betalingskenmerk.compact(value), "CUR"
    if iso11649.is_valid(value):
        return iso11649.compact(value), "ISO"
    return None, None


def card_merchant(logical_lines: Sequence[str]) -> str | None:
    """The merchant of a BEA/GEA row, without the card number (``,PAS321``)."""
    text = " ".join(logical_lines)
    for pattern in (_MERCHANT_AFTER_MOMENT, _MERCHANT_AFTER_PREFIX):
        match = pattern.search(text)
        if match:
            return " ".join(match.group("merchant").split()) or None
    return None


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------


def to_decimal(value: Any, *, field: str) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise provider.ProtocolError(f"{field}: amount {value!r} must be parsed as Decimal")
    try:
        result = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise provider.ProtocolError(f"{field}: missing or not an amount ({value!r})") from None
    if not result.is_finite():
        raise provider.ProtocolError(f"{field}: {value!r} is not an amount")
    return result


def parse_timestamp(value: Any) -> datetime.datetime | None:
    """``transactionTimestamp`` (``yyyy-MM-dd-HH:mm:ss.SSS``, Amsterdam time)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        naive = datetime.datetime.strptime(value.strip(), TIMESTAMP_FORMAT)
    except ValueError:
        raise provider.ProtocolError(f"transactionTimestamp {value!r} is not yyyy-MM-dd-HH:mm:ss.SSS") from None
    return naive.replace(tzinfo=AMSTERDAM)


def consent_valid_until(valid: Any) -> datetime.date | None:
    """``valid`` (epoch seconds, a number or a string) as an Amsterdam date."""
    if valid in (None, "") or isinstance(valid, bool):
        return None
    try:
        seconds = int(Decimal(str(valid).strip()))
    except (InvalidOperation, ValueError):
        raise provider.ProtocolError(f"consentinfo 'valid' {valid!r} is not epoch seconds") from None
    return datetime.datetime.fromtimestamp(seconds, AMSTERDAM).date()


# --------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------


def is_booked(raw: Mapping[str, Any]) -> bool:
    status = raw.get("status")
    return status in (None, "", "EXECUTED")


def map_transaction(raw: Mapping[str, Any]) -> provider.BankTransaction:
    if not isinstance(raw, Mapping):
        raise provider.ProtocolError(f"A transaction is not an object: {raw!r:.80}")
    amount = to_decimal(raw.get("amount"), field="amount")
    currency = raw.get("currency")
    if not isinstance(currency, str) or len(currency.strip()) != 3:
        raise provider.ProtocolError(f"Transaction {raw.get('transactionId')!r} has no currency")
    book_date = raw.get("bookDate")
    try:
        booking_date = datetime.date.fromisoformat(str(book_date))
    except ValueError:
        raise provider.ProtocolError(f"bookDate {book_date!r} is not a date") from None
    parse_timestamp(raw.get("transactionTimestamp"))  # malformed -> ProtocolError

    lines = rejoin_description_lines(raw.get("descriptionLines"))
    mutation_code = bank_http.clean_text(str(raw["mutationCode"])) if raw.get("mutationCode") not in (None, "") else None
    card = mutation_code in CARD_MUTATION_CODES or bool(lines and _CARD_PREFIX.match(lines[0]))
    description = parse_description(lines)
    fields = description.fields

    reference_key = "payment_reference" if fields.get("payment_reference") else "reference"
    reference, issuer = structured_reference(fields.get(reference_key))
    structured_from = reference_key if reference else None
    if card:
        counterparty_name = card_merchant(lines) or bank_http.clean_text(raw.get("counterPartyName"))
        counterparty_iban = ibans.compact(raw.get("counterPartyAccountNumber"))
        remittance = "\n".join(lines)
        counterparty_bic = None
    else:
        # The description's name is complete; counterPartyName stops at 24.
        counterparty_name = bank_http.clean_text(fields.get("name")) or bank_http.clean_text(raw.get("counterPartyName"))
        counterparty_iban = ibans.compact(fields.get("iban")) or ibans.compact(raw.get("counterPartyAccountNumber"))
        counterparty_bic = bank_http.clean_text(fields.get("bic"))
        remittance = _remittance_text(description, structured_from=structured_from)

    raw_id = raw.get("transactionId")
    return provider.BankTransaction(
        # Empty for some card rows: the framework derives an identity then.
        bank_id=bank_http.clean_text(str(raw_id)) if raw_id not in (None, "") else None,
        booking_date=booking_date,
        amount=amount,
        currency=currency.strip().upper(),
        counterparty_name=counterparty_name,
        counterparty_iban=counterparty_iban,
        counterparty_bic=counterparty_bic,
        remittance_text=remittance,
        structured_reference=reference,
        structured_reference_issuer=issuer,
        end_to_end_id=_end_to_end_id(fields, structured_from=structured_from),
        bank_transaction_code=mutation_code,
        is_card_payment=card,
        balance_after=(to_decimal(raw["balanceAfterMutation"], field="balanceAfterMutation")
                       if raw.get("balanceAfterMutation") not in (None, "") else None),
        raw=bank_http.jsonable(raw),
    )


def _end_to_end_id(fields: Mapping[str, str], *, structured_from: str | None) -> str | None:
    """The payer's end-to-end reference. ABN AMRO prints it as "Kenmerk"
    (*unconfirmed*; it is also kept in the remittance text), unless that
    kenmerk is the structured reference itself."""
    if fields.get("end_to_end"):
        return bank_http.clean_text(fields["end_to_end"])
    if fields.get("reference") and structured_from != "reference":
        value = bank_http.clean_text(fields["reference"])
        return None if placeholders.is_placeholder(value) else value
    return None


def _remittance_text(description: Description, *, structured_from: str | None) -> str:
    """The description first, then every other field that is not the
    counterparty, so that no text of the bank is lost."""
    fields = description.fields
    parts = []
    if fields.get("description"):
        parts.append(fields["description"])
    for key in ("reference", "payment_reference", "mandate", "creditor_id"):
        if key not in fields or not fields[key]:
            continue
        if key == structured_from:
            continue
        label = description.labels.get(key, key.replace("_", " ").capitalize())
        parts.append(f"{label}: {fields[key]}")
    if not fields:
        # Nothing labelled ("ABN AMRO Bank N.V." / "Kosten ..."): every line
        # is the text, the first one included.
        parts = [description.header] if description.header else []
    parts.extend(description.free_text)
    return "\n".join(parts)


def map_transactions(payload: Any) -> tuple[list[provider.BankTransaction], str | None]:
    """(booked transactions, nextPageKey) of one page."""
    if not isinstance(payload, Mapping) or not ("transactions" in payload or "accountNumber" in payload):
        raise provider.ProtocolError("ABN AMRO's transaction page is not a transaction list")
    items = payload.get("transactions") or []
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        raise provider.ProtocolError("ABN AMRO's 'transactions' is not a list of transactions")
    transactions = [map_transaction(item) for item in items if is_booked(item)]
    next_key = payload.get("nextPageKey")
    next_key = str(next_key).strip() if next_key not in (None, "") else None
    return transactions, next_key or None


def map_account(consent: Mapping[str, Any], details: Mapping[str, Any] | None) -> provider.BankAccount:
    iban = ibans.compact(consent.get("iban") if isinstance(consent, Mapping) else None)
    if not iban:
        raise provider.ProtocolError("ABN AMRO's consent info names no IBAN")
    details = details if isinstance(details, Mapping) else {}
    currency = details.get("currency") if isinstance(details.get("currency"), str) else "EUR"
    holder = details.get("accountHolderName", details.get("AccountHolderName"))
    return provider.BankAccount(
        resource_id=iban,
        iban=iban,
        currency=currency.strip().upper(),
        holder_name=bank_http.clean_text(holder),
    )


def map_balance(payload: Any) -> provider.BankBalance | None:
    if not isinstance(payload, Mapping):
        raise provider.ProtocolError("ABN AMRO's balance answer is not an object")
    if payload.get("amount") in (None, ""):
        return None
    return provider.BankBalance(
        amount=to_decimal(payload.get("amount"), field="amount"),
        currency=str(payload.get("currency") or "EUR").upper(),
        balance_type=str(payload.get("balanceType") or "BOOKBALANCE"),
        # The current book balance, not one of a given day: no reference date.
        reference_date=None,
    )




