"""Rabobank AIS 4.0.x JSON -> the normalised records of ``provider.py``.

Pure functions, no I/O. Field names: ``../shared/specs/rabobank/NOTES.md``
section 6 and ``examples-from-yolt-stubs.json`` [I Y]. Parse the JSON with
``parse_float=Decimal`` (``rabobank_client.parse_json``).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import bank_http, ibans, paging, placeholders, provider
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import bank_http, ibans, paging, placeholders, provider

REASON_FOREIGN_CURRENCY = "Only EUR accounts can be linked; this is a foreign-currency account."
REASON_NOT_ENABLED = "This account is blocked or closed at Rabobank."
REASON_NO_IBAN = "This account has no IBAN (card account)."
#: raboTransactionTypeName of card and cash-machine rows. Inferred: the
#: MT940 codes ba (betaalautomaat) and ga (geldautomaat); the stub shows "id".
CARD_TYPE_NAMES = {"ba", "ga", "bc"}


def _date(value: Any, what: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise provider.ProtocolError(f"Rabobank sent {what} {value!r}, which is not a date") from None


def _amount(value: Any, what: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise provider.ProtocolError(f"Rabobank sent {what} {value!r}, which is not an amount") from None


def map_account(data: Mapping[str, Any]) -> provider.BankAccount:
    iban = ibans.compact(data.get("iban"))
    currency = str(data.get("currency") or "EUR")
    reason = None
    if not iban:
        reason = REASON_NO_IBAN
    elif currency != "EUR":
        reason = REASON_FOREIGN_CURRENCY
    elif data.get("status", "enabled") != "enabled":  # enabled | deleted | blocked [I Y]
        reason = REASON_NOT_ENABLED
    resource_id = data.get("resourceId")
    if not isinstance(resource_id, str) or not resource_id:
        raise provider.ProtocolError("Rabobank sent an account without resourceId")
    return provider.BankAccount(
        resource_id=resource_id, iban=iban or "", currency=currency,
        holder_name=bank_http.clean_text(data.get("ownerName")),  # 4.0.x: name -> ownerName [I Y]
        # Rabobank lists only current (payment) accounts [C R-ais].
        product=None, eligible=reason is None, ineligible_reason=reason,
    )


def map_accounts(payload: Any) -> list[provider.BankAccount]:
    rows = payload.get("accounts") if isinstance(payload, Mapping) else None
    if not isinstance(rows, list):
        raise provider.ProtocolError("Rabobank's account list has no accounts")
    return [map_account(row) for row in rows if isinstance(row, Mapping)]


def map_balance(payload: Any) -> provider.BankBalance | None:
    """Rabobank answers only ``expected`` [I Y]."""
    rows = payload.get("balances") if isinstance(payload, Mapping) else None
    for row in rows or []:
        if not isinstance(row, Mapping):
            continue
        money = row.get("balanceAmount") or {}
        changed = row.get("lastChangeDateTime")
        return provider.BankBalance(
            amount=_amount(money.get("amount"), "a balance"), currency=str(money.get("currency") or "EUR"),
            balance_type=str(row.get("balanceType") or "expected"),
            reference_date=_date(changed, "a balance date") if changed else None,
        )
    return None


def map_transaction(row: Mapping[str, Any]) -> provider.BankTransaction:
    amount = _amount((row.get("transactionAmount") or {}).get("amount"), "an amount")
    # Direction is the sign of the amount [I Y]: a debit names the creditor.
    side = "creditor" if amount < 0 else "debtor"
    account = row.get(f"{side}Account") or {}
    structured = row.get("remittanceInformationStructured")
    text = row.get("remittanceInformationUnstructured")
    type_name = str(row.get("raboTransactionTypeName") or "").lower()
    return provider.BankTransaction(
        bank_id=str(row["entryReference"]) if row.get("entryReference") not in (None, "") else None,
        booking_date=_date(row.get("bookingDate"), "a booking date"),
        amount=amount,
        currency=str((row.get("transactionAmount") or {}).get("currency") or "EUR"),
        value_date=_date(row["valueDate"], "a value date") if row.get("valueDate") else None,
        counterparty_name=bank_http.clean_text(row.get(f"{side}Name")),
        counterparty_iban=ibans.compact(account.get("iban")) if isinstance(account, Mapping) else None,
        counterparty_bic=bank_http.clean_text(row.get(f"{side}Agent")),
        # Lines may be split by \n [I Y]: one line of text for the statement.
        remittance_text=" ".join(str(text).split()) if isinstance(text, str) else "",
        # A plain string, not Berlin Group's object [I Y].
        structured_reference=bank_http.clean_text(structured) if isinstance(structured, str) else None,
        end_to_end_id=placeholders.end_to_end_id(row.get("endToEndId")),
        bank_transaction_code=bank_http.clean_text(row.get("raboDetailedTransactionType")),
        is_card_payment=type_name in CARD_TYPE_NAMES,
        raw=bank_http.jsonable(row),
    )


def map_transactions(payload: Any) -> tuple[list[provider.BankTransaction], str | None]:
    """Booked rows and the next page's href (relative to the AIS base) [I Y]."""
    from_bank = payload.get("transactions") if isinstance(payload, Mapping) else None
    if not isinstance(from_bank, Mapping):
        raise provider.ProtocolError("Rabobank's transactions answer has no transactions object")
    rows = from_bank.get("booked") or []
    if not isinstance(rows, list):
        raise provider.ProtocolError("Rabobank's booked transactions are not a list")
    return [map_transaction(row) for row in rows if isinstance(row, Mapping)], paging.next_href(from_bank)


def consent_id_of(token_payload: Mapping[str, Any]) -> str | None:
    """``metadata: "a:consentId <uuid>"`` of the code exchange [I Y]."""
    metadata = token_payload.get("metadata")
    if isinstance(metadata, str) and metadata.startswith("a:consentId "):
        return metadata.split()[-1]
    return None


def consent_valid_until(details: Any) -> datetime.date | None:
    """The latest ``validUntil`` of the still valid entries of consent details."""
    access = details.get("access") if isinstance(details, Mapping) else None
    days = [_date(entry["validUntil"], "a consent end")
            for rows in (access or {}).values() if isinstance(rows, list)
            for entry in rows if isinstance(entry, Mapping)
            and entry.get("status") == "valid" and entry.get("validUntil")]
    return max(days) if days else None
