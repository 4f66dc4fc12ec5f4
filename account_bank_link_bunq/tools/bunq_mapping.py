"""bunq's JSON -> the normalised records of ``provider.py``.

Pure functions, no I/O. Field names: bunq's OpenAPI file
(``../shared/specs/bunq/bunq-api-openapi.json``: ``MonetaryAccountBank``,
``PaymentListing``, ``LabelMonetaryAccount``, ``Pointer``, ``Amount``) [C B-doc].
Parse the JSON with ``parse_float=Decimal`` (``bunq_client.parse_json``);
amounts are strings ("12.50") anyway [C B-doc].
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import bank_http, ibans, provider, references
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import bank_http, ibans, provider, references

AMSTERDAM = zoneinfo.ZoneInfo(provider.BANK_TIMEZONE)

#: Account types a link may fetch: current accounts, also joint ones [C B-doc type names].
LINKABLE_TYPES = ("MonetaryAccountBank", "MonetaryAccountJoint")
REASON_SAVINGS = "bunq savings accounts cannot be linked to an accounting package."
REASON_OTHER_TYPE = "This kind of bunq account cannot be linked to an accounting package."
REASON_NO_IBAN = "This bunq account has no IBAN."
REASON_FOREIGN_CURRENCY = "Only EUR accounts can be linked; this is a foreign-currency account."
REASON_NOT_ACTIVE = "This account is blocked or closed at bunq."
#: The Dutch the user reads (the addon's nl.po carries the same); kept here
#: so the tests can check that every reason has one.
REASONS_NL = {
    REASON_SAVINGS: "Spaarrekeningen van bunq kunnen niet aan een boekhoudpakket gekoppeld worden.",
    REASON_OTHER_TYPE: "Dit soort bunq-rekening kan niet aan een boekhoudpakket gekoppeld worden.",
    REASON_NO_IBAN: "Deze bunq-rekening heeft geen IBAN.",
    REASON_FOREIGN_CURRENCY: "Alleen EUR-rekeningen kunnen gekoppeld worden; dit is een rekening in vreemde valuta.",
    REASON_NOT_ACTIVE: "Deze rekening is geblokkeerd of opgeheven bij bunq.",
}
#: Card payments and cash withdrawals: ``FIS`` [C B-doc]; ``MASTERCARD`` is
#: accepted too (inferred: the card network's name, seen in older answers).
CARD_TYPES = {"FIS", "MASTERCARD"}
#: Balance type of bunq's ``balance`` field: the account's current balance,
#: which already holds every booked payment (inferred: bunq books at once).
BALANCE_TYPE = "closingBooked"


def _amount(value: Any, what: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise provider.ProtocolError(f"bunq sent {what} {value!r}, which is not an amount") from None
    if not amount.is_finite():
        raise provider.ProtocolError(f"bunq sent {what} {value!r}, which is not an amount")
    return amount


def moment(value: Any, what: str) -> datetime.datetime:
    """bunq's UTC ``YYYY-MM-DD hh:mm:ss.ffffff`` [C B-doc]."""
    try:
        parsed = datetime.datetime.fromisoformat(str(value).strip().replace(" ", "T", 1))
    except ValueError:
        raise provider.ProtocolError(f"bunq sent {what} {value!r}, which is not a time") from None
    return parsed.replace(tzinfo=datetime.UTC) if parsed.tzinfo is None else parsed


def booking_date(value: Any) -> datetime.date:
    """The calendar day in Amsterdam of a payment's ``created`` (UTC)."""
    return moment(value, "a payment time").astimezone(AMSTERDAM).date()


def iban_of(aliases: Any) -> str | None:
    """The ``IBAN`` entry of a monetary account's ``alias`` list [C B-doc]."""
    for alias in aliases if isinstance(aliases, list) else ():
        if isinstance(alias, Mapping) and str(alias.get("type") or "").upper() == "IBAN":
            iban = ibans.compact(alias.get("value"))
            if iban:
                return iban
    return None


def map_account(kind: str, data: Mapping[str, Any]) -> provider.BankAccount:
    if data.get("id") in (None, ""):
        raise provider.ProtocolError("bunq sent a monetary account without id")
    iban = iban_of(data.get("alias"))
    currency = str(data.get("currency") or "EUR")
    reason = None
    if kind == "MonetaryAccountSavings":
        reason = REASON_SAVINGS
    elif kind not in LINKABLE_TYPES:
        reason = REASON_OTHER_TYPE
    elif not iban:
        reason = REASON_NO_IBAN
    elif currency != "EUR":
        reason = REASON_FOREIGN_CURRENCY
    elif str(data.get("status") or "ACTIVE") != "ACTIVE":  # ACTIVE, BLOCKED, CANCELLED, PENDING_REOPEN [C B-doc]
        reason = REASON_NOT_ACTIVE
    holder = bank_http.clean_text(data.get("display_name"))
    if not holder:
        holder = next((bank_http.clean_text(alias.get("name")) for alias in data.get("alias") or []
                       if isinstance(alias, Mapping) and alias.get("name")), None)
    return provider.BankAccount(
        resource_id=str(data["id"]), iban=iban or "", currency=currency, holder_name=holder,
        product=bank_http.clean_text(data.get("description")), eligible=reason is None, ineligible_reason=reason,
    )


def map_accounts(rows: Iterable[tuple[str, Mapping[str, Any]]]) -> list[provider.BankAccount]:
    return [map_account(kind, data) for kind, data in rows if kind.startswith("MonetaryAccount")]


def map_balance(kind: str, data: Mapping[str, Any], today: datetime.date) -> provider.BankBalance | None:
    money = data.get("balance")
    if not isinstance(money, Mapping) or money.get("value") in (None, ""):
        return None
    return provider.BankBalance(amount=_amount(money.get("value"), "a balance"),
                                currency=str(money.get("currency") or data.get("currency") or "EUR"),
                                balance_type=BALANCE_TYPE, reference_date=today)


def _reference(text: str) -> tuple[str | None, str | None]:
    """bunq has no structured-reference field: a betalingskenmerk or RF is
    read from the description with the framework's rules (inferred: bunq
    passes on what the payer or creditor sent as remittance text)."""
    for found in references.extract_references(text):
        if found.kind == references.BETALINGSKENMERK:
            return found.value, "CUR"
        if found.kind == references.RF:
            return found.value, "ISO"
    return None, None


def map_payment(data: Mapping[str, Any]) -> provider.BankTransaction:
    if data.get("id") in (None, ""):
        raise provider.ProtocolError("bunq sent a payment without id")
    money = data.get("amount") if isinstance(data.get("amount"), Mapping) else {}
    counterparty = data.get("counterparty_alias") if isinstance(data.get("counterparty_alias"), Mapping) else {}
    label_user = counterparty.get("label_user") if isinstance(counterparty.get("label_user"), Mapping) else {}
    description = data.get("description")
    text = " ".join(str(description).split()) if isinstance(description, str) else ""
    structured, issuer = _reference(text)
    balance = data.get("balance_after_mutation")
    iban = ibans.compact(counterparty.get("iban"))
    payment_type = str(data.get("type") or "")
    return provider.BankTransaction(
        bank_id=str(data["id"]),
        booking_date=booking_date(data.get("created")),
        amount=_amount(money.get("value"), "an amount"),
        currency=str(money.get("currency") or "EUR"),
        counterparty_name=bank_http.clean_text(counterparty.get("display_name"))
        or bank_http.clean_text(label_user.get("display_name")),
        counterparty_iban=iban if iban and ibans.is_valid(iban) else None,
        counterparty_bic=bank_http.clean_text(counterparty.get("swift_bic")),
        remittance_text=text,
        structured_reference=structured,
        structured_reference_issuer=issuer,
        bank_transaction_code="/".join(part for part in (payment_type, str(data.get("sub_type") or "")) if part)
        or None,
        is_card_payment=payment_type in CARD_TYPES,
        balance_after=_amount(balance["value"], "a balance") if isinstance(balance, Mapping)
        and balance.get("value") not in (None, "") else None,
        raw=bank_http.jsonable(data),
    )


def map_payments(rows: Iterable[tuple[str, Mapping[str, Any]]]) -> list[provider.BankTransaction]:
    return [map_payment(data) for kind, data in rows if kind == "Payment"]


def older_url(payload: Any) -> str | None:
    """``Pagination.older_url``: the page before (older payments), or None [C B-doc]."""
    pagination = payload.get("Pagination") if isinstance(payload, Mapping) else None
    url = pagination.get("older_url") if isinstance(pagination, Mapping) else None
    return url.strip() or None if isinstance(url, str) else None
