"""Stable identities of bank transactions, for ``unique_import_id``.

Plain Python, no Odoo imports. The identity is chosen once and never
changes, because changing it would import the whole history again.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

from . import ibans, placeholders
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
        ibans.compact(tx.counterparty_iban) or "",
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


# --------------------------------------------------------------------------
# One identity across sources: bank link, camt.053 file, MT940 file.
#
# The bank gives a transaction different ids in each channel (ING's API
# transactionId, camt's AcctSvcrRef, MT940's bank reference), and words the
# text differently too (ING's API sends "Naam: ...<br>Omschrijving: ...",
# camt the bare Ustrd, MT940 wraps at 65 characters). What every channel
# shows alike: the booking date, the signed amount, the counterparty's IBAN
# and, when the payer gave them, the end-to-end id or the structured
# reference. Those make the identity; the text does not, because it would
# make the same transaction look different per channel.
# --------------------------------------------------------------------------

#: Banks' ways of saying "no end-to-end id".
NO_END_TO_END_ID = placeholders.NO_END_TO_END_ID

#: Sources of statement lines, as stored in ``nl_import_source``.
SOURCE_LINK = "link"
SOURCE_CAMT = "camt"
SOURCE_MT940 = "mt940"


def _compact(value: str | None) -> str:
    return "".join((value or "").split()).upper()


def normalised_text(text: str | None) -> str:
    """Lower case letters and digits only: what survives every channel's
    wrapping, padding and separators. Kept for the user's eye and for
    within-source fingerprints, not for the cross-source key."""
    return "".join(ch for ch in (text or "").lower() if ch.isalnum())


def discriminator(end_to_end_id: str | None, structured_reference: str | None) -> str:
    """What tells two payments of one amount to one counterparty on one day
    apart in every channel: the end-to-end id, else the structured
    reference, else nothing."""
    e2e = (end_to_end_id or "").strip()
    if e2e and e2e.upper() not in NO_END_TO_END_ID:
        return "e2e:" + e2e
    reference = _compact(structured_reference)
    if reference:
        return "ref:" + reference
    return ""


@dataclasses.dataclass(frozen=True)
class TransactionIdentity:
    """Source-independent identity of one booked transaction.

    ``group`` is (account, booking date, signed amount, counterparty IBAN);
    ``key`` adds the :func:`discriminator`; ``occurrence`` counts identical
    keys within one source's view of one day (1, 2, ...)."""

    group: str
    key: str
    discriminator: str
    occurrence: int = 1

    @property
    def token(self) -> str:
        """Key and occurrence: equal for the same transaction in any file
        format of one account, used in file lines' ``unique_import_id``."""
        return f"{self.key}:{self.occurrence}"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def identity(
    account_iban: str,
    booking_date: datetime.date,
    amount: Decimal | float | str,
    counterparty_iban: str | None = None,
    end_to_end_id: str | None = None,
    structured_reference: str | None = None,
) -> TransactionIdentity:
    """The identity without its occurrence (see :func:`identities`)."""
    cents = str(Decimal(str(amount)).quantize(_CENT))
    group = _digest(
        ibans.compact(account_iban) or "",
        booking_date.isoformat(),
        cents,
        ibans.compact(counterparty_iban) or "",
    )
    disc = discriminator(end_to_end_id, structured_reference)
    return TransactionIdentity(group=group, key=_digest(group, disc), discriminator=disc)


def identity_of(account_iban: str, tx: BankTransaction) -> TransactionIdentity:
    return identity(
        account_iban,
        tx.booking_date,
        tx.amount,
        tx.counterparty_iban,
        tx.end_to_end_id,
        tx.structured_reference,
    )


def identities(items: Iterable[TransactionIdentity]) -> list[TransactionIdentity]:
    """Number identical keys 1, 2, ... in the order given (one source's
    order of one booking day; the key contains the day)."""
    counts: Counter[str] = Counter()
    result = []
    for item in items:
        counts[item.key] += 1
        result.append(dataclasses.replace(item, occurrence=counts[item.key]))
    return result


@dataclasses.dataclass(frozen=True)
class Existing:
    """A line already in the journal, from another source than the batch."""

    line_id: int
    group: str
    key: str
    discriminator: str


@dataclasses.dataclass
class Plan:
    """What to do with a batch from one source, given another source's lines.

    ``duplicate``: batch positions already booked through another source
    (not created); ``uncertain``: batch positions to create AND mark as
    possible duplicates, with the other-source line ids they may repeat in
    ``uncertain_with``; ``flag_existing``: those other-source line ids."""

    duplicate: dict[int, int] = dataclasses.field(default_factory=dict)
    uncertain_with: dict[int, list[int]] = dataclasses.field(default_factory=dict)

    @property
    def uncertain(self) -> set[int]:
        return set(self.uncertain_with)

    @property
    def flag_existing(self) -> set[int]:
        return {line for lines in self.uncertain_with.values() for line in lines}


def plan_against_other_sources(
    batch: list[TransactionIdentity], existing: Iterable[Existing]
) -> Plan:
    """Match one source's whole view of some days (``batch``, positions are
    indexes) with the lines other sources booked on those days.

    Per key, equal counts on both sides are the same transactions; unequal
    counts (two identical coffees in the file, one through the link) cannot
    be told apart: all are kept and marked. Within a group (same day,
    amount and counterparty), keys left over on both sides whose
    discriminator is blank on one side (MT940 without end-to-end id) are
    matched when exactly one remains on each side, else marked. Different
    non-blank discriminators are different payments."""
    plan = Plan()
    by_group_in: dict[str, list[int]] = {}
    for position, item in enumerate(batch):
        by_group_in.setdefault(item.group, []).append(position)
    by_group_ex: dict[str, list[Existing]] = {}
    for line in existing:
        by_group_ex.setdefault(line.group, []).append(line)
    for group, positions in by_group_in.items():
        others = by_group_ex.get(group)
        if others:
            _plan_group(plan, batch, positions, others)
    return plan


def _plan_group(plan, batch, positions, others):
    in_by_key: dict[str, list[int]] = {}
    for position in positions:
        in_by_key.setdefault(batch[position].key, []).append(position)
    ex_by_key: dict[str, list[Existing]] = {}
    for line in others:
        ex_by_key.setdefault(line.key, []).append(line)
    for key in in_by_key.keys() & ex_by_key.keys():
        mine, theirs = in_by_key.pop(key), ex_by_key.pop(key)
        if len(mine) == len(theirs):
            plan.duplicate.update(zip(mine, (t.line_id for t in theirs)))
        else:
            _mark(plan, mine, theirs)
    rest_in = [p for ps in in_by_key.values() for p in ps]
    rest_ex = [line for lines in ex_by_key.values() for line in lines]
    if not rest_in or not rest_ex:
        return
    blank_in = [p for p in rest_in if not batch[p].discriminator]
    blank_ex = [line for line in rest_ex if not line.discriminator]
    if not blank_in and not blank_ex:
        return  # different end-to-end ids or references: different payments
    if len(rest_in) == len(rest_ex) == 1:
        plan.duplicate[rest_in[0]] = rest_ex[0].line_id
        return
    # Only what can pair with a blank on the other side is in doubt.
    doubtful_in = rest_in if blank_ex else blank_in
    doubtful_ex = rest_ex if blank_in else blank_ex
    _mark(plan, doubtful_in, doubtful_ex)


def _mark(plan, positions, lines):
    ids = [line.line_id for line in lines]
    for position in positions:
        plan.uncertain_with.setdefault(position, []).extend(ids)
