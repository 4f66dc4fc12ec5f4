"""Payment references in Dutch bank transactions.

``extract_references(text, structured=None)`` finds what a payer typed (or
the bank structured) to say what a payment is for, strongest first:

* ``betalingskenmerk``: only with a valid check digit (and length code);
  typed with spaces, dots or dashes. The 7 digit form, which has no check
  digit, only counts when the bank marks it structured (``structured``
  argument, ``/REMI/STRD/CUR/``);
* ``rf``: ISO 11649 creditor references (``stdnum.iso11649``);
* ``invoice_number``: ``INV/2026/00123``, ``inv 2026-00123``, ``factuur 123``,
  ``fact.nr. 2026/00123``, ``F2026-0123``, ... with an ``InvoiceKey`` that
  ``invoice_number_key()`` also computes from an Odoo invoice name;
* ``end_to_end``: the SEPA end-to-end id (``/EREF/``, ``EREF:``, and what
  ABN AMRO and ING label ``Kenmerk:`` when it is not one of the above;
  that label's meaning is *unconfirmed*, so it ranks last), never
  ``NOTPROVIDED``.

Input is the transaction's remittance text as the bank clients produce it
(``BankTransaction.remittance_text``: parts joined by newlines, so ABN AMRO
``descriptionLines`` are newline-joined) and the structured reference.
ING's ``<br>`` separators (a field end), ABN AMRO's 32-column and MT940's
65-column wrapped lines (a value cut across two lines is joined again; a
text of MT940/camt ``:86:`` tags, ``/TRTP/.../REMI/.../EREF/...``, is cut
anywhere, so all its lines are joined) and ``Label: value`` texts
(``Naam:``, ``Omschrijving:``, ``IBAN:``, ``KENMERK:``) are understood.

Strongest first means: betalingskenmerk and RF (check digits) from the
structured field or ``/STRD/`` tag, then from a ``Kenmerk:`` field, then
from free text; then invoice numbers, the most specific first
(``INV/2026/123`` before ``123``); then end-to-end ids. Each reference is
given once, in its strongest place. An invoice number only says which
sequence number the payer typed: ``factuur 123`` matches every invoice
numbered 123, so a matcher must confirm it (amount, partner).
IBANs, BICs, names, mandate and creditor ids, phone numbers, card-terminal
fields, dates, times, amounts, postcodes and house numbers are never taken
for references.

Any input gets an answer: ``extract_references`` never raises. Every
regular expression here has bounded or unambiguous repetition, so the time
is linear in the length of the text.

>>> [(r.kind, r.value) for r in extract_references(
...     'Naam: Jansen BV<br>Omschrijving: factuur INV/2026/00123'
...     '<br>IBAN: NL91ABNA0417164300<br>Kenmerk: 5000 0567 8901 2345')]
[('betalingskenmerk', '5000056789012345'), ('invoice_number', 'INV/2026/123')]
"""

import bisect
import dataclasses
import itertools
import logging
import re

from stdnum import iso11649

# A sibling module: relative, so that it works in Odoo and in plain
# Python (tests/conftest.py registers the addon folders as packages).
from . import betalingskenmerk

_logger = logging.getLogger(__name__)

__all__ = [
    "BETALINGSKENMERK",
    "END_TO_END",
    "INVOICE_NUMBER",
    "RF",
    "InvoiceKey",
    "Reference",
    "extract_references",
    "invoice_number_key",
]

BETALINGSKENMERK = "betalingskenmerk"
RF = "rf"
INVOICE_NUMBER = "invoice_number"
END_TO_END = "end_to_end"
SOURCE_STRUCTURED = "structured"
SOURCE_TEXT = "text"

#: Widths at which banks wrap description lines: ABN AMRO's 32-column
#: description lines and MT940's 65-character ``:86:`` lines.
WRAP_WIDTHS = (32, 65)

_FLAGS = re.ASCII | re.IGNORECASE
#: Replaces text that must not be read as a reference; neither a letter,
#: a digit nor a separator, so it also cuts digit runs in two.
_MASK = "\x00"
#: Marks a wrap that was replaced by a space, in the spaced view.
_WRAP = "\ue000"
#: Stands for ING's ``<br>`` while wrapped lines are joined.
_HARD_BREAK = "\ue001"


@dataclasses.dataclass(frozen=True)
class InvoiceKey:
    """An invoice number reduced to what payers keep when they type it.

    ``prefix`` (letters before the year, upper case), ``year`` and
    ``month`` are ``None`` when unknown; ``sequence`` drops leading zeros.
    """

    sequence: int
    year: int | None = None
    prefix: str | None = None
    month: int | None = None

    def matches(self, other):
        """Whether two keys can name the same invoice: equal sequence
        numbers and no conflict in the parts both know."""
        if not isinstance(other, InvoiceKey) or self.sequence != other.sequence:
            return False
        return all(
            mine is None or theirs is None or mine == theirs
            for mine, theirs in (
                (self.prefix, other.prefix),
                (self.year, other.year),
                (self.month, other.month),
            )
        )

    @property
    def specificity(self):
        """How many parts besides the sequence number are known."""
        return sum(part is not None for part in (self.prefix, self.year, self.month))

    def __str__(self):
        """Normalised form, ``INV/2026/123``: also what ``Reference.value`` holds."""
        parts = [
            self.prefix,
            self.year,
            None if self.month is None else f"{self.month:02d}",
        ]
        return "/".join(
            str(part) for part in (*parts, self.sequence) if part is not None
        )


@dataclasses.dataclass(frozen=True)
class Reference:
    """One payment reference found in a transaction.

    ``value`` is normalised: digits only for a betalingskenmerk, compact
    upper case for RF, ``str(invoice_key)`` for an invoice number (e.g.
    ``INV/2026/123``), the id as given for an end-to-end id. ``raw`` is the
    text it was read from.
    """

    kind: str
    value: str
    source: str
    raw: str
    invoice_key: InvoiceKey | None = None


# --------------------------------------------------------------------------
# Invoice numbers
# --------------------------------------------------------------------------

#: Words that are no invoice prefix: Dutch/English filler, invoice words,
#: months, and labels of other numbers (card rows, tax ids, phones).
_NOT_A_PREFIX = frozenset(
    """
    a aan al af bij de dat den der des die dit een en het in is jl met na naar
    nr no nrs num nummer of om op over per q s t te ten ter tm to tot uit van
    voor vanaf week wk kw jaar maand dag the for and from of month year
    factuur factuurnr factuurnummer facturen factnr fact fac fakt fa nota
    invoice invoices bill order
    jan feb mrt maa apr mei jun jul aug sep sept okt oct nov dec januari
    februari maart april juni juli augustus september oktober november
    december january february march may june july august october
    bea gea pas pasnr term nr termid tel fax mob gsm kvk btw vat iban bic eur
    euro eref remi ref kenmerk datum tijd valutadatum postcode
    """.split()  # noqa: SIM905 -- a word list reads better as words
)

_MONTH_NAMES = (
    r"jan(?:uari|uary)?|feb(?:ruari|ruary)?|mrt|maart|march|apr(?:il)?|mei|may"
    r"|jun[ei]?|jul[iy]?|aug(?:ustus)?|sept?(?:ember)?|o[ck]t(?:ober)?"
    r"|nov(?:ember)?|dec(?:ember)?"
)
# The sequence may not go on as a date, time, amount or another number.
_NUMBER_END = r"(?![0-9A-Za-z]|[.,:/-][0-9])"

_MAX_PREFIX_LENGTH = 5
_PREFIXED_INVOICE = re.compile(
    r"(?<![A-Za-z0-9])(?P<prefix>[A-Za-z]{1,10}(?:[0-9](?=[ /._-]))?)(?P<sep1>[ /._-]?)"
    r"(?P<year>20[0-9]{2})(?P<sep2>[ /._-]?)"
    r"(?:(?P<month>0[1-9]|1[0-2])[/._-])?"
    r"(?P<seq>[0-9]{1,9})" + _NUMBER_END,
    _FLAGS,
)
_YEAR_SEQUENCE_INVOICE = re.compile(
    r"(?<![A-Za-z0-9.,:/-])(?P<year>20[0-9]{2})[/-](?P<seq>[0-9]{3,9})" + _NUMBER_END,
    _FLAGS,
)
_KEYWORD_INVOICE = re.compile(
    r"(?<![A-Za-z0-9])(?:factuur(?:nummer|nr)?|facturen|factnr|fact|fac|fakt"
    r"|nota|invoice(?:s)?)"
    r"\.?[ ]?(?:(?:nr|no|nummer|number|num)\.?[ ]?)?[:#]?[ ]?"
    r"(?P<seq>[0-9]{1,10})" + _NUMBER_END,
    _FLAGS,
)
_LISTED_INVOICE = re.compile(
    r"[ ]?(?:,|&|\+|en|and)[ ]?(?P<seq>[0-9]{1,10})" + _NUMBER_END, _FLAGS
)
_MAX_LISTED_INVOICES = 20
# What may not follow a bare sequence number: a postcode's letters (case
# sensitive on purpose: "1234 AB" yes, "1234 en" no; and not the short words
# of upper-case bank text: "NOTA 1129 EN BEDANKT") or a month name.
_POSTCODE_LETTERS = re.compile(r" ?(?P<letters>[A-Z]{2})(?![A-Za-z])")
_NOT_POSTCODE_LETTERS = frozenset("EN OF OP IN TE DE IS NA OM AF AL BV NV VS".split())  # noqa: SIM905
_NOT_AFTER_SEQUENCE_MONTH = re.compile(r"[ ]?(?:" + _MONTH_NAMES + r")\b", _FLAGS)
# The end of an Odoo invoice name: INV/2026/00123, INV/2026/03/0012,
# RINV/2026/00001, F2026-0123; what comes before the year is the prefix.
_INVOICE_NAME_END = re.compile(
    r"(?<![0-9])(?:(?P<year>(?:19|20)[0-9]{2})[ /._-]+(?:(?P<month>0[1-9]|1[0-2])[ /._-]+)?)?"
    r"(?P<seq>[0-9]{1,18})$",
    _FLAGS,
)
_INVOICE_NAME_MAX_LENGTH = 64


def _prefix_or_none(word):
    """An invoice prefix in upper case, or ``None`` for an ordinary word."""
    word = re.sub(r"[^A-Za-z0-9]", "", word or "", flags=re.ASCII).upper()
    if not word or word.lower() in _NOT_A_PREFIX:
        return None
    return word


def invoice_number_key(name):
    """The ``InvoiceKey`` of an Odoo invoice name (``INV/2026/00123``,
    ``INV/2026/03/0012``), or ``None`` when it ends in no number.

    Compare it with ``Reference.invoice_key`` through ``InvoiceKey.matches``.

    >>> invoice_number_key('INV/2026/00123')
    InvoiceKey(sequence=123, year=2026, prefix='INV', month=None)
    """
    if not isinstance(name, str) or not name.isascii():
        return None
    name = name.strip()
    if len(name) > _INVOICE_NAME_MAX_LENGTH:
        return None
    match = _INVOICE_NAME_END.search(name)
    if not match:
        return None
    return InvoiceKey(
        sequence=int(match["seq"]),
        year=int(match["year"]) if match["year"] else None,
        prefix=_prefix_or_none(name[: match.start()]),
        month=int(match["month"]) if match["month"] else None,
    )


def _is_postcode_or_date(text, digits, end):
    """Whether the number ending at ``end`` is part of a postcode ("1234 AB")
    or a date ("12 november")."""
    if _NOT_AFTER_SEQUENCE_MONTH.match(text, end):
        return True
    letters = _POSTCODE_LETTERS.match(text, end)
    return bool(
        letters
        and len(digits) == 4
        and digits[0] != "0"
        and letters["letters"] not in _NOT_POSTCODE_LETTERS
    )


def _invoice_candidates(text):
    """Yield ``(start, end, InvoiceKey)`` for invoice numbers in ``text``."""
    for match in _PREFIXED_INVOICE.finditer(text):
        # Journal codes are short; a longer word ("Premie 2026-11") is text.
        prefix = _prefix_or_none(match["prefix"])
        if prefix is not None and len(prefix) > _MAX_PREFIX_LENGTH:
            prefix = None
        loose = (
            match["sep2"] in ("", " ") or match["sep1"] == " " and match["sep2"] == "."
        )
        if len(match["seq"]) < 3 or (
            prefix is None and match["sep2"] not in ("/", "-")
        ):
            continue
        if loose and prefix is None:
            continue
        yield (
            match.start(),
            match.end(),
            InvoiceKey(
                sequence=int(match["seq"]),
                year=int(match["year"]),
                prefix=prefix,
                month=int(match["month"]) if match["month"] else None,
            ),
        )
    for match in _YEAR_SEQUENCE_INVOICE.finditer(text):
        yield (
            match.start(),
            match.end(),
            InvoiceKey(int(match["seq"]), int(match["year"])),
        )
    for match in _KEYWORD_INVOICE.finditer(text):
        if _is_postcode_or_date(text, match["seq"], match.end()):
            continue
        yield match.start("seq"), match.end(), _keyword_invoice_key(match["seq"])
        yield from _listed_invoices(text, match.end(), len(match["seq"]))


def _keyword_invoice_key(digits):
    """The key of the digits after "factuur", "nota", ..."""
    if 7 <= len(digits) <= 10 and digits.startswith("20"):
        # "factuur 20260123": the year glued to the sequence number.
        return InvoiceKey(int(digits[4:]), int(digits[:4]))
    return InvoiceKey(int(digits))


def _listed_invoices(text, position, first_length):
    """ "facturen 1203, 1204 en 1207": numbers of about the same length
    listed after the first (not "factuur 123, 45 euro")."""
    for _ in range(_MAX_LISTED_INVOICES):
        match = _LISTED_INVOICE.match(text, position)
        if not match or len(match["seq"]) < max(3, first_length - 1):
            return
        if _is_postcode_or_date(text, match["seq"], match.end()):
            return
        yield match.start("seq"), match.end(), _keyword_invoice_key(match["seq"])
        position = match.end()


# --------------------------------------------------------------------------
# Betalingskenmerk and RF
# --------------------------------------------------------------------------

# Digit groups with single separators: "5000 0567 8901 2345". Never starts
# inside a word or number, so "NL91ABNA0417164300" yields nothing.
_DIGIT_RUN = re.compile(r"(?<![A-Za-z0-9])[0-9]+(?:[ .-][0-9]+)*", _FLAGS)
_GROUP_SPLIT = re.compile(r"([ .-])")
_CHECKED_LENGTHS = frozenset(betalingskenmerk.VALID_LENGTHS) - {7}

_RF_START = re.compile(r"(?<![A-Za-z0-9])RF[0-9]{2}", _FLAGS)
_RF_TOKEN = re.compile(r"[ -]?[A-Za-z0-9]{1,25}(?![A-Za-z0-9])", _FLAGS)


def _is_printed_grouping(groups):
    """Groups of four as printed, either from the left (``2712 3456 7``) or
    from the right (``2 7123 4567``)."""
    inner = groups[1:-1]
    if any(len(group) != 4 for group in inner):
        return False
    return (len(groups[0]) == 4 and len(groups[-1]) <= 4) or (
        len(groups[0]) <= 4 and len(groups[-1]) == 4
    )


def _checked_kenmerk(digits):
    """The digits if they are a betalingskenmerk with a check digit."""
    if len(digits) not in _CHECKED_LENGTHS:
        return None
    return digits if betalingskenmerk.is_valid(digits) else None


def _uniform_pieces(separators):
    """Split a run where the separator changes: ``21-11-2026 5000 0567``
    gives ``21-11-2026`` and ``2026 5000 0567``, ``5000 0567`` (index
    ranges of groups; a group between two separators may belong to either
    side)."""
    first = 0
    for index in range(1, len(separators) + 1):
        if index < len(separators) and separators[index] == separators[first]:
            continue
        last = index  # groups first..last share separators[first]
        shared_first = first > 0
        shared_last = last < len(separators)
        yield first, last
        if shared_first and first + 1 <= last:
            yield first + 1, last
        if shared_last and first <= last - 1:
            yield first, last - 1
        if shared_first and shared_last and first + 1 <= last - 1:
            yield first + 1, last - 1
        first = index


def _kenmerk_candidates(text):
    """Yield ``(start, end, digits)`` for betalingskenmerken in ``text``.

    A run of digit groups counts as a whole, or else per stretch with one
    separator; never an arbitrary part of it, so that a number with a bad
    check digit does not give a valid-looking piece.
    """
    for match in _DIGIT_RUN.finditer(text):
        end = match.end()
        if end < len(text) and text[end].isalnum() and text[end].isascii():
            continue  # glued to letters: "1234AB", "123456789B01"
        pieces = _GROUP_SPLIT.split(match.group())
        groups, separators = pieces[0::2], pieces[1::2]
        offsets = [match.start()]
        for piece in pieces[:-1]:
            offsets.append(offsets[-1] + len(piece))
        group_offsets = offsets[0::2]
        whole = _checked_kenmerk("".join(groups))
        if whole and (
            len(groups) == 1
            or (len(set(separators)) == 1 and _is_printed_grouping(groups))
        ):
            yield match.start(), end, whole
            continue
        taken = -1
        for first, last in _uniform_pieces(separators):
            if (first == 0 and last == len(groups) - 1) or first <= taken:
                continue
            piece_groups = groups[first : last + 1]
            digits = _checked_kenmerk("".join(piece_groups))
            if digits and (
                len(piece_groups) == 1 or _is_printed_grouping(piece_groups)
            ):
                taken = last
                yield (
                    group_offsets[first],
                    group_offsets[last] + len(groups[last]),
                    digits,
                )


def _rf_candidates(text):
    """Yield ``(start, end, compact)`` for valid RF references, typed with
    or without spaces (``RF18 5390 0754 7034``)."""
    for match in _RF_START.finditer(text):
        position, compact, best = match.end(), match.group().upper(), None
        for _ in range(22):
            token = _RF_TOKEN.match(text, position)
            if not token or len(compact) + len(token.group().strip(" -")) > 25:
                break
            compact += token.group().strip(" -").upper()
            position = token.end()
            if iso11649.is_valid(compact):
                best = (match.start(), position, compact)
        if best:
            yield best


# --------------------------------------------------------------------------
# Fields: MT940 tags and "Label: value" texts
# --------------------------------------------------------------------------

_TAG = re.compile(
    r"/(?P<tag>TRTP|IBAN|BIC|NAME|REMI|EREF|MARF|CSID|ORDP|BENM|ADDR|CNTP|RTRN"
    r"|ISDT|PURP|CDTRREF|CDTRREFTP|ULTC|ULTD|ULTB|PREF|IREF|KREF|SVCL|EXCH"
    r"|CHGS|OCMT|FX|COAM|RETURN|ACCW|BUSP|CODE|ISSR|PAYREF|ORDRID)/"
)
# Labels as ING ("Naam: ...<br>") and ABN AMRO ("NAAM: ... KENMERK: ...")
# write them. Only these meanings matter: read, mask, kenmerk, end-to-end.
_LABEL = re.compile(
    r"(?<![A-Za-z])(?P<label>"
    r"betalingskenm(?:erk)?\.?|betaalkenmerk|kenmerk|acceptgiro(?:nummer|nr)?"
    r"|eref|end[ -]?to[ -]?end(?:[ -]?id)?|e2e(?:[ -]?id)?"
    r"|naam|name|iban|bic|machtiging(?:[ -]?id)?|incassant(?:[ -]?id)?"
    r"|mandaat(?:[ -]?id)?|mandate(?:[ -]?id)?|creditor[ -]?id|valutadatum"
    r"|datum(?:/tijd)?|tijd|transactie|term|pasvolgnr|pas|kvk(?:[ -]?nummer)?"
    r"|btw(?:[ -]?nummer)?|tel(?:efoon)?|mobiel|adres|plaats"
    r"|omschrijving|referentie|description|remittance)[ ]?:"
    # ABN AMRO's fixed columns glue a full 32-column value to the next label.
    r"|(?-i:(?P<glued>OMSCHRIJVING|Omschrijving|BETALINGSKENMERK|Betalingskenmerk"
    r"|KENMERK|Kenmerk|NAAM|Naam|IBAN|BIC)):",
    _FLAGS,
)
_READ_LABELS = ("omschrijving", "referentie", "description", "remittance")
_KENMERK_LABELS = ("betalingskenm", "betaalkenmerk", "kenmerk", "acceptgiro")
_END_TO_END_LABELS = ("eref", "end", "e2e")

_CARD_FIELDS = re.compile(
    r"(?<![A-Za-z0-9])(?:NR|TERM|PAS|PASNR|TRANSACTIE)[: ]?[A-Za-z0-9]*[0-9][A-Za-z0-9]*"
    r"|[0-9]{2}[.-][0-9]{2}[.-][0-9]{2,4}[/ ][0-9]{2}[.:][0-9]{2}",
    _FLAGS,
)
_PHONE = re.compile(
    # "+31 ...": not "0031 ...", which may well be a group of a kenmerk.
    r"(?<![0-9A-Za-z+])\+[1-9][0-9][ ]?(?:\(0\)[ ]?)?[0-9](?:[ -]?[0-9]){6,11}"
    r"|(?<![A-Za-z0-9])(?:tel|telefoon|tel\.?nr|mob|mobiel|gsm|fax|bel)\.?[ ]?:?[ ]?"
    r"[0-9](?:[ -]?[0-9]){5,12}",
    _FLAGS,
)
# Compact, or spaced in groups of four; each way has one reading only, so a
# long word that is no IBAN fails fast (no optional separators to backtrack).
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)"
    r"(?![A-Za-z0-9])",
    _FLAGS,
)
_TOKEN = re.compile(r"[^ \n]+")
_NOT_PROVIDED = re.compile(r"not[ ]?provided", _FLAGS)
_END_TO_END_ID = re.compile(r"[A-Za-z0-9/?:().,'+ -]{1,35}")


class _View:
    """One reading of the text with a mask of what is no reference."""

    def __init__(self, text, wraps=()):
        self.text = text
        self.masked = text
        self.wraps = sorted(wraps)
        self.found = []

    def mask(self, spans):
        """Blank ``spans`` (text-wide positions) out of ``masked``."""
        if not spans:
            return
        pieces, position = [], 0
        for start, end in sorted(spans):
            if end <= position:
                continue
            start = max(start, position)
            pieces.append(self.masked[position:start])
            pieces.append(_MASK * (end - start))
            position = end
        pieces.append(self.masked[position:])
        self.masked = "".join(pieces)

    def add(self, kind, value, start, end, rank, source=SOURCE_TEXT, key=None):
        """Record a reference found at ``start:end`` (trimmed of spaces and
        slashes for ``raw``)."""
        raw = self.text[start:end]
        start += len(raw) - len(raw.lstrip(" /"))
        end -= len(raw) - len(raw.rstrip(" /"))
        reference = Reference(kind, value, source, self.text[start:end], key)
        self.found.append((rank, start, end, reference))

    def crosses_wrap(self, start, end):
        """Whether ``start:end`` has a wrap inside (not at an edge)."""
        index = bisect.bisect_right(self.wraps, start)
        return index < len(self.wraps) and self.wraps[index] < end - 1


# Ranks, lowest first: checksummed references, invoice numbers, end-to-end.
_RANK_STRUCTURED = 0
_RANK_LABELLED = 1
_RANK_TEXT = 2
_RANK_INVOICE = 3
_RANK_END_TO_END = 4


def _looks_like_kenmerk(value):
    """A betalingskenmerk with a bad check digit: not an end-to-end id."""
    groups = _GROUP_SPLIT.split(value)[0::2]
    if not all(group.isdigit() and group.isascii() for group in groups):
        return False
    if len(groups) == 1:
        return len(value) == 16
    return _is_printed_grouping(groups)


def _add_end_to_end(view, value, start, end):
    """Add an end-to-end id, unless it is NOTPROVIDED (also when glued to a
    cut-off piece) or a betalingskenmerk with a bad check digit."""
    value = value.strip(" /")
    if (
        not value
        or _NOT_PROVIDED.search(value.replace(" ", ""))
        or _looks_like_kenmerk(value)
    ):
        return
    if _END_TO_END_ID.fullmatch(value) and any(char.isalnum() for char in value):
        view.add(END_TO_END, value, start, end, (_RANK_END_TO_END, 0))


def _mask_local(segment, spans, offset=0):
    """Mask text-wide ``spans`` in ``segment``, which starts at ``offset``."""
    pieces, position = [], 0
    for start, end in spans:
        pieces.append(segment[position : start - offset])
        pieces.append(_MASK * (end - start))
        position = end - offset
    pieces.append(segment[position:])
    return "".join(pieces)


def _read_rf(view, start, end, rank):
    """Add the RF references in ``view.masked[start:end]``; return their
    spans (the caller masks them: once per text keeps it linear)."""
    spans = []
    for rf_start, rf_end, value in _rf_candidates(view.masked[start:end]):
        view.add(RF, value, start + rf_start, start + rf_end, (rank, 0))
        spans.append((start + rf_start, start + rf_end))
    return spans


def _read_kenmerken(view, start, end, rank, segment=None):
    """Add the betalingskenmerken in ``view.masked[start:end]`` (or in
    ``segment``, that text with more masked); return their spans."""
    spans = []
    segment = view.masked[start:end] if segment is None else segment
    for kenmerk_start, kenmerk_end, value in _kenmerk_candidates(segment):
        view.add(
            BETALINGSKENMERK,
            value,
            start + kenmerk_start,
            start + kenmerk_end,
            (rank, 0),
        )
        spans.append((start + kenmerk_start, start + kenmerk_end))
    return spans


def _read_checked(view, start, end, rank):
    """RF references, then betalingskenmerken not inside one."""
    rf_spans = _read_rf(view, start, end, rank)
    segment = _mask_local(view.masked[start:end], rf_spans, start)
    return rf_spans + _read_kenmerken(view, start, end, rank, segment)


def _read_structured_value(view, issuer, value_start, value_end):
    """Add the reference of a ``/REMI/STRD/<issuer>/`` tag: the bank says
    it is structured, so the 7 digit form counts here."""
    value = view.text[value_start:value_end].strip(" /")
    if issuer.upper() == "CUR" and betalingskenmerk.is_valid(value):
        view.add(
            BETALINGSKENMERK,
            betalingskenmerk.compact(value),
            value_start,
            value_end,
            (_RANK_STRUCTURED, 0),
            SOURCE_STRUCTURED,
        )
    elif iso11649.is_valid(value):
        view.add(
            RF,
            iso11649.compact(value),
            value_start,
            value_end,
            (_RANK_STRUCTURED, 0),
            SOURCE_STRUCTURED,
        )


_STRUCTURED_REMI = re.compile(r"STRD/(?P<issuer>[A-Z]{0,4})/", _FLAGS)
_UNSTRUCTURED_REMI = re.compile(r"USTD//?", _FLAGS)


def _read_tags(view):
    """Handle MT940/camt ``:86:`` tags; mask everything but remittance text."""
    tags = list(_TAG.finditer(view.text))
    spans = []
    for index, tag in enumerate(tags):
        value_end = tags[index + 1].start() if index + 1 < len(tags) else len(view.text)
        if index + 1 == len(tags) and tag["tag"] != "REMI":
            # The last tag's value ends at the line's end, not the text's.
            line_end = view.text.find("\n", tag.end())
            value_end = value_end if line_end < 0 else line_end
        spans.append((tag.start(), tag.end()))
        name = tag["tag"]
        if name == "REMI":
            structured = _STRUCTURED_REMI.match(view.text, tag.end())
            if structured:
                _read_structured_value(
                    view, structured["issuer"], structured.end(), value_end
                )
                spans.append((tag.end(), value_end))
            else:
                unstructured = _UNSTRUCTURED_REMI.match(view.text, tag.end())
                if unstructured:
                    spans.append(unstructured.span())
        else:
            if name == "EREF":
                _add_end_to_end(
                    view, view.text[tag.end() : value_end], tag.end(), value_end
                )
            spans.append((tag.end(), value_end))
    view.mask(spans)


def _label_value_end(text, labels, index):
    """Where the value of ``labels[index]`` ends: next label or line end."""
    end = labels[index + 1].start() if index + 1 < len(labels) else len(text)
    line_end = text.find("\n", labels[index].end(), end)
    return end if line_end < 0 else line_end


def _first_token(text, start, end):
    """``(token, start, end)`` of the first word of ``text[start:end]``
    (nothing for "NOT PROVIDED")."""
    if _NOT_PROVIDED.match(text[start:end].strip(" /")):
        return "", start, start
    token = _TOKEN.search(text, start, end)
    if not token:
        return "", start, start
    return token.group(), token.start(), token.end()


def _is_field_label(text, label):
    """A bank's own field label ("KENMERK:", a line starting "Kenmerk:"),
    not a payer writing "uw kenmerk: 12" in the description."""
    return (
        label["glued"] is not None
        or label["label"].isupper()
        or label.start() == 0
        or text[label.start() - 1] == "\n"
    )


def _read_labels(view):
    """Handle ``Label: value`` texts (ING, ABN AMRO)."""
    labels = list(_LABEL.finditer(view.masked))
    spans = []
    for index, label in enumerate(labels):
        name = (label["label"] or label["glued"]).lower()
        start, end = label.end(), _label_value_end(view.masked, labels, index)
        spans.append((label.start(), label.end()))
        if name.startswith(_READ_LABELS):
            continue
        if name.startswith(_KENMERK_LABELS):
            checked = _read_checked(view, start, end, _RANK_LABELLED)
            if checked:
                spans.extend(checked)
                continue
            before = len(view.found)
            _read_invoices(view, start, end)
            whole_value = view.masked[start:end].strip(" /")
            if (
                len(view.found) == before
                and _is_field_label(view.masked, label)
                and not _looks_like_kenmerk(whole_value)
            ):
                _add_end_to_end(view, *_first_token(view.masked, start, end))
        elif name.startswith(_END_TO_END_LABELS):
            # An id has no spaces: what follows is the description again.
            _token, start, end = _first_token(view.masked, start, end)
            _add_end_to_end(view, _token, start, end)
        spans.append((start, end))
    view.mask(spans)


def _read_invoices(view, start=0, end=None):
    """Add the invoice numbers in ``view.masked[start:end]``; where two
    readings overlap ("inv 2026-00123" and "2026-00123") the most specific
    wins."""
    segment = view.masked[start:end]
    candidates = sorted(
        _invoice_candidates(segment),
        key=lambda item: (-item[2].specificity, item[0] - item[1], item[0]),
    )
    taken = bytearray(len(segment))  # candidates are short: checks stay linear
    for invoice_start, invoice_end, key in candidates:
        if any(taken[invoice_start:invoice_end]):
            continue
        taken[invoice_start:invoice_end] = b"\x01" * (invoice_end - invoice_start)
        view.add(
            INVOICE_NUMBER,
            str(key),
            start + invoice_start,
            start + invoice_end,
            (_RANK_INVOICE, -key.specificity),
            key=key,
        )


def _mask_pattern(view, pattern):
    """Mask every match of ``pattern`` (IBANs, phones, card fields)."""
    view.mask([match.span() for match in pattern.finditer(view.masked)])


def _scan(view):
    """Every reference in one view, with its rank and span."""
    _read_tags(view)
    _read_labels(view)
    # RF before IBANs: "RF18 5390 0754 7034" has an IBAN's shape.
    view.mask(_read_rf(view, 0, len(view.masked), _RANK_TEXT))
    for pattern in (_IBAN, _PHONE, _CARD_FIELDS):
        _mask_pattern(view, pattern)
    view.mask(_read_kenmerken(view, 0, len(view.masked), _RANK_TEXT))
    _read_invoices(view)
    # In the spaced view, keep only what crosses a wrap; what touches one
    # is a cut-off piece, found whole in the joined view.
    return [
        found
        for found in view.found
        if not view.wraps or view.crosses_wrap(found[1], found[2])
    ]


# --------------------------------------------------------------------------
# Text preparation
# --------------------------------------------------------------------------

_TAGGED_START = re.compile(r"[ \n]*(?::86:)?" + _TAG.pattern)
_BR = re.compile(r"<br ?/?>", _FLAGS)
_SPACES = re.compile(r"[^\S\n]+")


def _is_soft_wrap(line):
    # A full line that does not end in padding was cut by the bank (at
    # most one space: the cut fell just after a word).
    """Whether the bank cut ``line`` at its wrap width."""
    return len(line) in WRAP_WIDTHS and not line.endswith("  ")


def _views(text):
    """The joined view (wrapped values glued back) and, when lines were
    wrapped, a spaced view (``5000 0567|8901 2345`` wraps at a space)."""
    text = (
        text.replace(_WRAP, "\ufffd")
        .replace(_HARD_BREAK, "\ufffd")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
    )
    # ING's <br> ends a field: a hard break, never a wrap.
    text = _BR.sub(_HARD_BREAK, text)
    if _TAGGED_START.match(text):
        # MT940 tag text: the tags delimit the values and the bank cuts the
        # lines wherever the width ends ("/REM" + "I/USTD//"), also a
        # first line shortened by a stripped ":86:".
        return [
            _View(_SPACES.sub(" ", text.replace("\n", "").replace(_HARD_BREAK, "\n")))
        ]
    lines = text.split("\n")
    joined, spaced, wrapped = [lines[0]], [lines[0]], False
    for line, next_line in itertools.pairwise(lines):
        if not _is_soft_wrap(line.rpartition(_HARD_BREAK)[2]):
            joined.append("\n" + next_line)
            spaced.append("\n" + next_line)
            continue
        joined.append(next_line)
        if next_line[:1].isspace() or not next_line or line.endswith(" "):
            spaced.append(next_line)
        else:
            wrapped = True
            spaced.append(_WRAP + next_line)
    views = [_View(_SPACES.sub(" ", "".join(joined).replace(_HARD_BREAK, "\n")))]
    if wrapped:
        spaced_text = _SPACES.sub(" ", "".join(spaced).replace(_HARD_BREAK, "\n"))
        wraps = [index for index, char in enumerate(spaced_text) if char == _WRAP]
        views.append(_View(spaced_text.replace(_WRAP, " "), wraps))
    return views


def _from_structured(structured):
    """The reference in the bank's structured field, if valid."""
    if not isinstance(structured, str) or not structured.strip():
        return []
    raw = structured.strip()
    if betalingskenmerk.is_valid(raw):
        value, kind = betalingskenmerk.compact(raw), BETALINGSKENMERK
    elif iso11649.is_valid(raw):
        value, kind = iso11649.compact(raw), RF
    else:
        return []
    return [
        ((_RANK_STRUCTURED, -1), -1, -1, Reference(kind, value, SOURCE_STRUCTURED, raw))
    ]


def _extract(text, structured=None):
    """``extract_references`` without the safety net (the fuzzer calls this)."""
    found = _from_structured(structured)
    if isinstance(text, str) and text:
        for view in _views(text):
            found.extend(_scan(view))
    found.sort(key=lambda item: (item[0], item[1]))
    seen, references = set(), []
    for _rank, _start, _end, reference in found:
        if (reference.kind, reference.value) not in seen:
            seen.add((reference.kind, reference.value))
            references.append(reference)
    return tuple(references)


def extract_references(text, structured=None):
    """The payment references in a bank transaction, strongest first.

    :param text: remittance text (``str``; anything else counts as empty)
    :param structured: the structured creditor reference, if the bank gave one
    :return: a tuple of ``Reference``; never raises
    """
    try:
        return _extract(text, structured)
    except Exception:  # never let one odd description stop a statement import
        _logger.exception("Could not read payment references from a transaction")
        return ()
