"""ING AIS v3 JSON -> the normalised records of ``provider.py``.

Pure functions, no I/O. Parse the JSON with ``parse_float=Decimal`` (see
``ing_client.parse_json``) so that amounts never pass through a float.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import bank_http, ibans, paging, placeholders, provider
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import bank_http, ibans, paging, placeholders, provider

ADJUSTED_DATE_FROM_HEADER = "X-ING-AIS-ADJUSTED-DATEFROM"
VALIDITY_PERIOD_HEADER = "X-ING-AIS-TRANSACTION-VALIDITY-PERIOD"

#: ING fills ``endToEndId`` with this when the payer gave none (the spec's
#: text says "Not Provided", the API sends ``NOTPROVIDED``).

_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)

# Product names of ING accounts. *unconfirmed*: ING publishes no list of the
# ``product`` strings of Dutch business accounts; these are the names ING
# uses in Mijn ING Zakelijk and its English API examples. Matching is on
# lower-case substrings. An account whose product matches none of them is
# NOT eligible (reason says so): importing a private or savings account into
# the books is worse than asking support to add a product name here.
G_ACCOUNT_PRODUCTS = ("g-rekening", "g rekening", "g-account", "geblokkeerde rekening")
#: Checked before the business words: a "Zakelijke Spaarrekening" is savings.
EXCLUDED_PRODUCTS = (
    ("savings", ("spaar", "saving", "deposito", "deposit")),
    ("investment", ("beleg", "invest", "vermogen", "effecten")),
)
BUSINESS_PRODUCTS = ("zakelijk", "business", "bedrijf", "corporate", "commercial",
                     "current account", "rekening-courant", "rekening courant")
#: Checked after the business words: ING's private current account is the
#: "Betaalrekening", a business one the "Zakelijke Rekening".
PRIVATE_PRODUCTS = ("betaalrekening", "oranje", "privé", "prive", "private", "personal",
                    "persoonlijk", "jongeren")

# Why an account is not eligible. Fixed English texts (no product name in
# them), so that the framework can translate them with _(); the product is
# shown beside them from BankAccount.product.
REASON_FOREIGN_CURRENCY = "Only EUR accounts can be linked; this is a foreign-currency account."
REASON_SAVINGS = "Savings accounts cannot be linked to an accounting package."
REASON_INVESTMENT = "Investment accounts cannot be linked to an accounting package."
REASON_PRIVATE = "Private accounts cannot be linked; only business current accounts and G-accounts."
REASON_UNKNOWN_PRODUCT = ("This ING product is not known to be a business current account or "
                          "G-account; ask support to check it.")
REASON_NO_IBAN = "This account has no IBAN (card account)."
_EXCLUSION_REASONS = {"savings": REASON_SAVINGS, "investment": REASON_INVESTMENT}

# transactionType values of card rows. *unconfirmed*: ING's Dutch channels
# call them "Betaalautomaat" (BA) and "Geldautomaat" (GM); the remittance
# text of a card row carries "Pasvolgnr".
_CARD_TYPES = ("betaalautomaat", "geldautomaat", "card", "kaart", "pin", "pinbetaling", "pos", "atm")
_CARD_TEXT = re.compile(r"\bpasvolgnr\b", re.IGNORECASE)


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------


def to_decimal(value: Any, *, field: str) -> Decimal:
    """An amount as an exact Decimal; a float is refused, since it means
    the JSON was parsed without ``parse_float=Decimal``."""
    if isinstance(value, bool) or isinstance(value, float):
        raise provider.ProtocolError(f"{field}: amount {value!r} must be parsed as Decimal")
    if isinstance(value, (Decimal, int)):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise provider.ProtocolError(f"{field}: {value!r} is not an amount") from None
    else:
        raise provider.ProtocolError(f"{field}: missing or not an amount ({value!r})")
    if not result.is_finite():
        raise provider.ProtocolError(f"{field}: {value!r} is not an amount")
    return result


def to_date(value: Any, *, field: str, required: bool = True) -> datetime.date | None:
    if value in (None, ""):
        if required:
            raise provider.ProtocolError(f"{field} is missing")
        return None
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise provider.ProtocolError(f"{field}: {value!r} is not a date") from None


def remittance_text(value: Any) -> str:
    """``Naam: X<br>Omschrijving: Y`` -> one line per part."""
    if not isinstance(value, str):
        return ""
    parts = (part.strip() for part in _BR.split(value))
    return "\n".join(part for part in parts if part)


def structured_reference(value: Any) -> tuple[str | None, str | None]:
    """(reference without spaces, issuer) from either key spelling."""
    if not isinstance(value, Mapping):
        return None, None
    reference = value.get("reference")
    issuer = value.get("referenceIssuer", value.get("issuer"))
    if not isinstance(reference, str):
        return None, None
    compact = "".join(reference.split())
    if not compact:
        return None, None
    issuer_text = str(issuer).strip() if issuer is not None else ""
    return compact, issuer_text or None


def is_card_payment(transaction_type: str | None, text: str) -> bool:
    kind = (transaction_type or "").lower()
    if any(re.search(rf"\b{word}\b", kind) for word in _CARD_TYPES):
        return True
    return bool(_CARD_TEXT.search(text))


# --------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------


def map_transaction(raw: Mapping[str, Any]) -> provider.BankTransaction:
    """One booked ING transaction."""
    if not isinstance(raw, Mapping):
        raise provider.ProtocolError(f"A booked transaction is not an object: {raw!r:.80}")
    money = raw.get("transactionAmount")
    if not isinstance(money, Mapping):
        # The spec's own example spells it ``amount{currency,content}``.
        money = raw.get("amount") if isinstance(raw.get("amount"), Mapping) else None
    if money is None:
        raise provider.ProtocolError(
            f"Transaction {raw.get('transactionId')!r} has no transactionAmount"
        )
    amount = to_decimal(money.get("amount", money.get("content")), field="transactionAmount.amount")
    currency = money.get("currency")
    if not isinstance(currency, str) or len(currency) != 3:
        raise provider.ProtocolError(f"Transaction {raw.get('transactionId')!r} has no currency")

    # A debit went to the creditor, a credit came from the debtor.
    side = "creditor" if amount < 0 else "debtor"
    account = raw.get(f"{side}Account")
    account = account if isinstance(account, Mapping) else {}
    text = remittance_text(raw.get("remittanceInformationUnstructured"))
    reference, issuer = structured_reference(raw.get("remittanceInformationStructured"))
    transaction_type = raw.get("transactionType") if isinstance(raw.get("transactionType"), str) else None
    raw_id = raw.get("transactionId")
    bank_id = bank_http.clean_text(str(raw_id)) if isinstance(raw_id, (str, int)) else None

    return provider.BankTransaction(
        bank_id=bank_id,
        booking_date=to_date(raw.get("bookingDate"), field="bookingDate"),
        value_date=to_date(raw.get("valueDate"), field="valueDate", required=False),
        amount=amount,
        currency=currency.upper(),
        counterparty_name=bank_http.clean_text(raw.get(f"{side}Name")),
        counterparty_iban=ibans.compact(account.get("iban")),
        counterparty_bic=bank_http.clean_text(account.get("bic")),
        remittance_text=text,
        structured_reference=reference,
        structured_reference_issuer=issuer,
        end_to_end_id=placeholders.end_to_end_id(raw.get("endToEndId")),
        bank_transaction_code=transaction_type,
        is_card_payment=is_card_payment(transaction_type, text),
        raw=bank_http.jsonable(raw),
    )


def map_transactions(payload: Any) -> list[provider.BankTransaction]:
    """The BOOKED transactions of one page; pending and info are skipped."""
    transactions = payload.get("transactions") if isinstance(payload, Mapping) else None
    if not isinstance(transactions, Mapping):
        raise provider.ProtocolError("ING's transaction page has no 'transactions' object")
    booked = transactions.get("booked")
    if booked is None:
        booked = []
    if not isinstance(booked, list):
        raise provider.ProtocolError("ING's 'transactions.booked' is not a list")
    return [map_transaction(item) for item in booked]


def next_href(payload: Any) -> str | None:
    transactions = payload.get("transactions") if isinstance(payload, Mapping) else None
    return paging.next_href(transactions)


def adjusted_date_from(headers: Mapping[str, str]) -> datetime.date | None:
    """The first day ING really served when it cut the history short."""
    value = headers.get(ADJUSTED_DATE_FROM_HEADER)
    if not value:
        return None
    return to_date(value.strip(), field=ADJUSTED_DATE_FROM_HEADER)


def map_page(payload: Any, headers: Mapping[str, str]) -> provider.TransactionPage:
    adjusted = adjusted_date_from(headers)
    notices: tuple[provider.Notice, ...] = ()
    period = headers.get(VALIDITY_PERIOD_HEADER)
    if adjusted and period:
        # The date itself the framework reports from adjusted_date_from.
        notices = (provider.Notice(provider.NOTICE_HISTORY_LIMIT, {"bank": "ING", "period": period}),)
    return provider.TransactionPage(
        transactions=map_transactions(payload),
        adjusted_date_from=adjusted,
        notices=notices,
    )


def eligibility(product: str | None, currency: str | None) -> tuple[bool, str | None]:
    """Whether ING allows the account in an accounting-package link."""
    if (currency or "").upper() != "EUR":
        return False, REASON_FOREIGN_CURRENCY
    name = (product or "").strip().lower()
    if any(word in name for word in G_ACCOUNT_PRODUCTS):
        return True, None
    for kind, words in EXCLUDED_PRODUCTS:
        if any(word in name for word in words):
            return False, _EXCLUSION_REASONS[kind]
    if any(word in name for word in BUSINESS_PRODUCTS):
        return True, None
    if any(word in name for word in PRIVATE_PRODUCTS):
        return False, REASON_PRIVATE
    return False, REASON_UNKNOWN_PRODUCT


def map_account(raw: Mapping[str, Any]) -> provider.BankAccount:
    if not isinstance(raw, Mapping) or not raw.get("resourceId"):
        raise provider.ProtocolError("An ING account has no resourceId")
    currency = raw.get("currency") if isinstance(raw.get("currency"), str) else None
    product = raw.get("product") if isinstance(raw.get("product"), str) else None
    eligible, reason = eligibility(product, currency)
    iban = ibans.compact(raw.get("iban"))
    if not iban:
        # Card accounts (maskedPan) have no IBAN and cannot become a journal.
        eligible, reason = False, REASON_NO_IBAN
    return provider.BankAccount(
        resource_id=str(raw["resourceId"]),
        iban=iban or "",
        currency=(currency or "").upper(),
        holder_name=bank_http.clean_text(raw.get("name")),
        product=product,
        eligible=eligible,
        ineligible_reason=reason,
    )


def map_accounts(payload: Any) -> list[provider.BankAccount]:
    accounts = payload.get("accounts") if isinstance(payload, Mapping) else None
    if not isinstance(accounts, list):
        raise provider.ProtocolError("ING's account list has no 'accounts' list")
    return [map_account(item) for item in accounts]


#: The balance that is the end of the last booking day. The others are
#: intraday or include pending items; a wrong closing balance is worse than
#: none (it would disagree with the ledger).
BOOKED_BALANCE_TYPES = ("closingBooked",)


def map_balance(payload: Any) -> provider.BankBalance | None:
    balances = payload.get("balances") if isinstance(payload, Mapping) else None
    if not isinstance(balances, list):
        raise provider.ProtocolError("ING's balance answer has no 'balances' list")
    by_type = {b.get("balanceType"): b for b in balances if isinstance(b, Mapping)}
    for balance_type in BOOKED_BALANCE_TYPES:
        balance = by_type.get(balance_type)
        if balance is None:
            continue
        money = balance.get("balanceAmount")
        if not isinstance(money, Mapping):
            raise provider.ProtocolError(f"{balance_type} has no balanceAmount")
        return provider.BankBalance(
            amount=to_decimal(money.get("amount"), field="balanceAmount.amount"),
            currency=str(money.get("currency") or "").upper(),
            balance_type=balance_type,
            reference_date=to_date(balance.get("referenceDate"), field="referenceDate", required=False),
        )
    return None




