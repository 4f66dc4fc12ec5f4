"""Stable identities of bank transactions, for ``unique_import_id``.

Plain Python, no Odoo imports. The identity is chosen once and never
changes, because changing it would import the whole history again.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

from .provider import BankTransaction

#: Amounts are compared at cent precision: ``10.5`` and ``10.50`` are one.
_CENT = Decimal("0.01")


def fingerprint(tx: BankTransaction) -> str:
    """What identifies a transaction that has no bank id: every field the
    bank shows, booking date first. Two identical rows on one day share a
    fingerprint and are told apart by their occurrence number."""
    parts = [
        tx.booking_date.isoformat(),
        str(Decimal(tx.amount).quantize(_CENT)),
        tx.currency or "",
        tx.value_date.isoformat() if tx.value_date else "",
        (tx.counterparty_iban or "").replace(" ", "").upper(),
        (tx.counterparty_name or "").strip(),
        (tx.remittance_text or "").strip(),
        tx.structured_reference or "",
        tx.end_to_end_id or "",
        tx.bank_transaction_code or "",
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def transaction_identities(
    prefix: str, transactions: Iterable[BankTransaction]
) -> list[tuple[str, BankTransaction]]:
    """``[(identity, transaction)]`` without repeats, in the given order.

    With a bank id: ``prefix + bank_id``. Without: ``prefix + 'fp:' + date
    + fingerprint + occurrence``, counting per booking date, which is sound
    because every fetch reads whole booking days.
    """
    occurrences: Counter[tuple] = Counter()
    seen: set[str] = set()
    result = []
    for tx in transactions:
        if tx.bank_id:
            identity = f"{prefix}{tx.bank_id}"
        else:
            print_ = fingerprint(tx)
            occurrences[(tx.booking_date, print_)] += 1
            count = occurrences[(tx.booking_date, print_)]
            identity = f"{prefix}fp:{tx.booking_date.isoformat()}:{print_}:{count}"
        if identity in seen:
            continue
        seen.add(identity)
        result.append((identity, tx))
    return result
