"""Berlin Group NextGenPSD2 JSON -> the normalised records of ``provider.py``.

Pure functions, no I/O; the bank's differences come from its profile
(``profiles.py``): which field is the dedup identity, whether amounts are
signed, which balance counts. Parse the JSON with ``parse_float=Decimal``.
Betalingskenmerk and RF are read by the framework's reference tools, from the
structured field (a string in 1.3.12, an object at de Volksbank) and the free
text.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from . import profiles

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import (
        bank_http,
        ibans,
        paging,
        placeholders,
        provider,
        references,
    )
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import bank_http, ibans, paging, placeholders, provider, references

REASON_FOREIGN_CURRENCY = "Only EUR accounts can be linked; this is a foreign-currency account."
REASON_NO_IBAN = "This account has no IBAN (savings or card account)."
REASON_NOT_CURRENT = "Only current accounts can be linked; this is a savings account."
REASON_NOT_ENABLED = "This account is blocked or closed at the bank."
ISSUERS = {references.BETALINGSKENMERK: "CUR", references.RF: "ISO"}
#: ISO family codes (domain-family-subfamily) of card and cash-machine rows.
CARD_FAMILIES = ("-CCRD-", "-DCRD-")


def _date(value: Any, what: str, bank: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise provider.ProtocolError(f"{bank} sent {what} {value!r}, which is not a date") from None


def _amount(value: Any, what: str, bank: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise provider.ProtocolError(f"{bank} sent {what} {value!r}, which is not an amount") from None
    if not amount.is_finite():
        raise provider.ProtocolError(f"{bank} sent {what} {value!r}, which is not an amount")
    return amount


def map_account(profile: profiles.Profile, data: Mapping[str, Any]) -> provider.BankAccount:
    iban = ibans.compact(data.get("iban"))
    currency = str(data.get("currency") or "EUR")
    reason = None
    if not iban:
        reason = REASON_NO_IBAN  # Knab's business savings may have only a BBAN [I Y-knab]
    elif currency != "EUR":
        reason = REASON_FOREIGN_CURRENCY
    elif data.get("cashAccountType") not in (None, "CACC", "CASH", "TRAN"):
        reason = REASON_NOT_CURRENT
    elif data.get("status", "enabled") != "enabled":
        reason = REASON_NOT_ENABLED
    resource_id = data.get("resourceId")
    if not isinstance(resource_id, str) or not resource_id:
        raise provider.ProtocolError(f"{profile.name} sent an account without resourceId")
    return provider.BankAccount(
        resource_id=resource_id, iban=iban or "", currency=currency,
        holder_name=bank_http.clean_text(data.get("ownerName")),
        product=bank_http.clean_text(data.get("product") or data.get("name")),
        eligible=reason is None, ineligible_reason=reason,
    )


def map_accounts(profile: profiles.Profile, payload: Any) -> list[provider.BankAccount]:
    rows = payload.get("accounts") if isinstance(payload, Mapping) else None
    if not isinstance(rows, list):
        raise provider.ProtocolError(f"{profile.name}'s account list has no accounts")
    return [map_account(profile, row) for row in rows if isinstance(row, Mapping)]


def map_balance(profile: profiles.Profile, payload: Any) -> provider.BankBalance | None:
    """The first of the profile's preferred balance types the bank gives."""
    rows = [row for row in (payload.get("balances") if isinstance(payload, Mapping) else None) or []
            if isinstance(row, Mapping)]
    by_type = {str(row.get("balanceType")): row for row in rows}
    for wanted in profile.balance_types:
        row = by_type.get(wanted)
        if row is None:
            continue
        money = row.get("balanceAmount") or {}
        day = row.get("referenceDate") or row.get("lastChangeDateTime")
        return provider.BankBalance(
            amount=_amount(money.get("amount"), "a balance", profile.name),
            currency=str(money.get("currency") or "EUR"), balance_type=wanted,
            reference_date=_date(day, "a balance date", profile.name) if day else None)
    return None


def structured_text(value: Any) -> str | None:
    """1.3.12: a plain string; de Volksbank and 1.3.x objects: ``{"reference": ...}``."""
    if isinstance(value, Mapping):
        value = value.get("reference")
    return bank_http.clean_text(value) if isinstance(value, str) else None


def identity(profile: profiles.Profile, row: Mapping[str, Any]) -> str | None:
    """The dedup identity: the first of the profile's identity fields that is given."""
    for field in profile.identity_fields:
        value = row.get(field)
        if value not in (None, ""):
            return str(value)
    return None


def map_transaction(profile: profiles.Profile, row: Mapping[str, Any]) -> provider.BankTransaction:
    bank = profile.name
    money = row.get("transactionAmount") or {}
    amount = _amount(money.get("amount"), "an amount", bank)
    if profile.unsigned_amounts:
        # Unsigned: a debtor named means money came in, a creditor named means it went out
        # (Triodos; inferred [I Y-tri README]).
        incoming = "debtorAccount" in row or ("debtorName" in row and "creditorName" not in row)
        amount = abs(amount) if incoming else -abs(amount)
    side = "creditor" if amount < 0 else "debtor"
    account = row.get(f"{side}Account") or {}
    text = row.get("remittanceInformationUnstructured")
    if not isinstance(text, str):
        array = row.get("remittanceInformationUnstructuredArray")
        text = "\n".join(str(part) for part in array) if isinstance(array, list) else ""
    structured = structured_text(row.get("remittanceInformationStructured"))
    found = [r for r in references.extract_references(text, structured) if r.kind in ISSUERS]
    code = row.get("bankTransactionCode")
    code = str(code) if code not in (None, "") else bank_http.clean_text(row.get("proprietaryBankTransactionCode"))
    return provider.BankTransaction(
        bank_id=identity(profile, row),
        booking_date=_date(row.get("bookingDate"), "a booking date", bank),
        amount=amount,
        currency=str(money.get("currency") or "EUR"),
        value_date=_date(row["valueDate"], "a value date", bank) if row.get("valueDate") else None,
        counterparty_name=bank_http.clean_text(row.get(f"{side}Name")),
        counterparty_iban=ibans.compact(account.get("iban")) if isinstance(account, Mapping) else None,
        counterparty_bic=bank_http.clean_text(row.get(f"{side}Agent")),
        remittance_text=text,
        structured_reference=found[0].value if found else structured,
        structured_reference_issuer=ISSUERS[found[0].kind] if found else None,
        end_to_end_id=placeholders.end_to_end_id(row.get("endToEndId")),
        bank_transaction_code=code,
        is_card_payment=any(family in (code or "") for family in CARD_FAMILIES),
        raw=bank_http.jsonable(row),
    )


def map_transactions(profile: profiles.Profile, payload: Any) -> tuple[list[provider.BankTransaction], str | None]:
    """Booked rows and the next page's href."""
    report = payload.get("transactions") if isinstance(payload, Mapping) else None
    if not isinstance(report, Mapping):
        raise provider.ProtocolError(f"{profile.name}'s transactions answer has no transactions object")
    rows = report.get("booked") or []
    if not isinstance(rows, list):
        raise provider.ProtocolError(f"{profile.name}'s booked transactions are not a list")
    next_href = paging.next_href(report) or paging.next_href(payload)
    return [map_transaction(profile, row) for row in rows if isinstance(row, Mapping)], next_href
