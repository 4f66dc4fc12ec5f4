"""Decide how Dutch bank lines match open invoices and booking rules.

Plain Python (no Odoo): the Odoo side loads the candidates for a whole
batch of bank lines with a few queries, builds a ``Matcher`` and asks it for
one ``Decision`` per line. The matcher indexes the candidates by payment
reference, invoice-number sequence, partner and amount, so a decision costs
the same whatever the number of open invoices.

Amounts are integers in the currency's smallest unit (cents), signed as the
bank line: a receipt is positive and matches items whose open amount is
positive (customer invoices), a payment is negative and matches negative
open amounts (vendor bills, refunds).

The rules, strongest first:

1. ``reference``: a betalingskenmerk or RF reference (structured, or found
   in the text by ``extract_references``) equal to an item's payment
   reference;
2. ``invoice_number``: invoice numbers in the text naming one or several
   open items of one commercial partner;
3. ``iban``: the counterparty IBAN is known for exactly one partner, who has
   exactly one open item of the paid amount;
4. ``name``: the IBAN is unknown but the payer's name is a partner's (only
   ever proposed);
5. ``text_rule``: user-maintained rules (counterparty IBAN and/or text) that
   book the line on an account.

A line is reconciled automatically only when exactly one answer is certain
and no other evidence on the line points elsewhere; otherwise the matcher
proposes. An invoice number alone is never certain: it also needs the exact
open amount (or the named invoices summing to the payment) and the payer
confirmed as the invoice's partner (a known IBAN of it or of a parent
company, the line's partner, or the exact name of the partner or a parent).
A partial payment is reconciled only for a confirmed payer, by a
betalingskenmerk/RF or by an invoice number in an invoice context ("factuur
2026-00123", ``INV/2026/00123``; not "dossier 2026/00123", "polis ..."). Per company, rules 1-4 can be switched off or limited to
proposals (``kind_modes``: the company's reconciliation models). A reference with a wrong check digit is no reference (see
``references.extract_references``), so it never matches by reference.
"""

import dataclasses
import datetime
import re
import unicodedata
from collections import defaultdict

from stdnum import iso11649

# Siblings: relative, for Odoo and plain Python alike (tests/conftest.py).
from . import betalingskenmerk
from . import references as _references

__all__ = [
    "AUTO",
    "PROPOSE",
    "NOTHING",
    "RULE_REFERENCE",
    "RULE_INVOICE_NUMBER",
    "RULE_IBAN",
    "RULE_NAME",
    "RULE_TEXT",
    "BankLine",
    "OpenItem",
    "PartnerAccount",
    "PartnerName",
    "TextRule",
    "Allocation",
    "Decision",
    "Matcher",
    "render_reason",
    "parse_reason",
    "invoice_context",
    "normalize_iban",
    "normalize_name",
    "normalize_reference",
    "learned_text_pattern",
    "MODE_AUTO",
    "MODE_PROPOSE",
    "DEFAULT_KIND_MODES",
]

AUTO = "auto"
PROPOSE = "propose"
NOTHING = "nothing"

RULE_REFERENCE = "reference"
RULE_INVOICE_NUMBER = "invoice_number"
RULE_IBAN = "iban"
RULE_NAME = "name"
RULE_TEXT = "text_rule"

MODE_AUTO = "auto"
MODE_PROPOSE = "propose"

#: How rules 1-4 work for a company that has no say (no reconciliation
#: models of its own): the payer's name is never enough to reconcile.
DEFAULT_KIND_MODES = {
    RULE_REFERENCE: MODE_AUTO,
    RULE_INVOICE_NUMBER: MODE_AUTO,
    RULE_IBAN: MODE_AUTO,
    RULE_NAME: MODE_PROPOSE,
}

#: English reason texts, for logs and the benchmark; the Odoo side
#: translates the same codes.
REASONS = {
    "reference_full": "Payment reference {reference} of {invoices}, amount equal",
    "reference_discount": "Payment reference {reference} of {invoices}, amount within the early-payment discount",
    "reference_partial": "Payment reference {reference} of {invoices}, partial payment",
    "reference_multi": "Payment references {reference} of {invoices}, amounts sum to the payment",
    "reference_amount_differs": "Payment reference {reference} of {invoices}, but the amount differs",
    "reference_currency": "Payment reference {reference} of {invoices}, but in another currency",
    "invoice_full": "Invoice number(s) {invoices} in the text, amounts sum to the payment",
    "invoice_discount": "Invoice number {invoices} in the text, amount within the early-payment discount",
    "invoice_partial": "Invoice number {invoices} in the text, partial payment",
    "invoice_ambiguous": "Invoice number {numbers} in the text fits several open invoices",
    "invoice_amount_differs": "Invoice number(s) {invoices} in the text, but the amounts differ",
    "invoice_partners_differ": "Invoice number(s) {invoices} in the text belong to different partners",
    "invoice_payer_differs": "Invoice number(s) {invoices} in the text, but the payer's IBAN belongs to another partner",
    "invoice_currency": "Invoice number(s) {invoices} in the text, but in another currency",
    "invoice_payer_unconfirmed": "Invoice number(s) {invoices} in the text, but the payer is not known as the partner",
    "invoice_partial_unconfirmed": "Invoice number {invoices} in the text, partial payment not confirmed by the payer and the text",
    "invoice_other_context": "Invoice number(s) {invoices} in the text, but written as another kind of number "
    "(dossier, policy, order, kenmerk)",
    "invoice_sum_others": "Invoice number(s) {invoices} in the text; the payment equals them with other open items of the partner",
    "reference_partial_unconfirmed": "Payment reference {reference} of {invoices}, partial payment from a payer not known as the partner",
    "iban_single": "Counterparty IBAN {iban} is known for {partner}, whose only open item of this amount is {invoices}",
    "iban_several": "Counterparty IBAN {iban} is known, several open items of this amount",
    "iban_sum": "Counterparty IBAN {iban} is known, the payment equals the sum of open items {invoices}",
    "iban_parent": "Counterparty IBAN {iban} is known for a parent company of the partner of {invoices}",
    "name_match": "Payer name {name} matches a partner (IBAN not known)",
    "text_rule": "Booking rule {rule_name}",
    "text_rule_unconfirmed": "Learned booking rule {rule_name} (not confirmed yet)",
    "text_rules_conflict": "Several booking rules match",
    "conflict": "The line fits several answers: {detail}",
    "foreign_currency": "The payment is in a foreign currency: not reconciled automatically",
}


# --------------------------------------------------------------------------
# Input and output
# --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BankLine:
    """A bank statement line as the matcher needs it.

    ``text`` holds everything the payer or bank wrote (label, reference,
    remittance text); ``structured_reference`` the bank's structured
    creditor reference, if any; ``foreign_currency`` is set when the payment
    was made in another currency than the bank account's.
    """

    id: int
    company_id: int
    amount: int
    currency: str
    text: str = ""
    structured_reference: str | None = None
    counterparty_iban: str | None = None
    counterparty_name: str | None = None
    date: datetime.date | None = None
    foreign_currency: str | None = None
    journal_id: int | None = None
    #: The partner already on the line (typed by hand or set on import).
    partner_id: int | None = None


@dataclasses.dataclass(frozen=True)
class OpenItem:
    """An open receivable or payable journal item (usually an invoice's).

    ``open_amount`` is signed (positive: the partner owes us).
    ``partner_family``: the commercial partner and its parent companies,
    who may pay on its behalf. ``discount_amount`` is the open amount
    after the early-payment discount, valid until ``discount_date``.
    """

    id: int
    company_id: int
    open_amount: int
    currency: str
    partner_id: int | None = None
    partner_family: frozenset = frozenset()
    payment_reference: str | None = None
    name: str | None = None
    discount_amount: int | None = None
    discount_date: datetime.date | None = None


@dataclasses.dataclass(frozen=True)
class PartnerAccount:
    """A known bank account: ``company_id`` None when shared by companies."""

    iban: str
    partner_id: int
    company_id: int | None = None


@dataclasses.dataclass(frozen=True)
class PartnerName:
    partner_id: int
    name: str
    company_id: int | None = None


@dataclasses.dataclass(frozen=True)
class TextRule:
    """A booking rule: counterparty IBAN and/or a text pattern.

    ``target`` is any hashable saying where the rule books (account, tax,
    analytic, partner): two rules with equal targets agree. ``sign`` is 1
    (receipts only), -1 (payments only) or 0 (both). Unconfirmed (learned)
    rules are only proposed: learned ones once seen ``min_seen`` times,
    shipped suggestions (``learned`` False) at once.
    """

    id: int
    company_id: int
    target: object
    iban: str | None = None
    pattern: str | None = None
    sign: int = 0
    confirmed: bool = True
    times_seen: int = 0
    name: str = ""
    learned: bool = True


@dataclasses.dataclass(frozen=True)
class Allocation:
    """How much of the bank line goes to one open item (signed, cents)."""

    item_id: int
    amount: int
    discount: int = 0


@dataclasses.dataclass(frozen=True)
class Decision:
    """The answer for one bank line.

    ``status`` is ``AUTO`` (reconcile ``allocations`` or book with
    ``text_rule_id``), ``PROPOSE`` (show ``proposal_item_ids`` or
    ``text_rule_id``) or ``NOTHING``. ``reason_code`` and ``reason_args``
    explain it (see ``REASONS``).
    """

    line_id: int
    status: str
    rule: str | None = None
    reason_code: str | None = None
    reason_args: tuple = ()
    allocations: tuple = ()
    proposal_item_ids: tuple = ()
    text_rule_id: int | None = None
    partner_id: int | None = None
    #: An invoice number read outside an invoice context ("dossier 2026/00790"):
    #: a proposal of it never stands in the way of another certain answer.
    weak: bool = False

    @property
    def reason(self):
        return render_reason(self.reason_code, self.reason_args)

    @property
    def is_partial(self):
        return self.reason_code in ("reference_partial", "invoice_partial")


def render_reason(code, args, templates=None):
    """The reason ``code`` with ``args`` in words: ``templates`` maps codes
    to ``str.format`` texts (English ``REASONS`` by default). A conflict's
    ``parts`` are the reasons of its answers, rendered the same way."""
    if not code:
        return ""
    templates = templates or REASONS
    args = dict(args)
    if "parts" in args:
        args["detail"] = "; ".join(render_reason(part_code, part_args, templates)
                                   for part_code, part_args in args.pop("parts"))
    return templates[code].format(**args)


#: English reasons stored as text by older versions, besides ``REASONS``.
LEGACY_REASONS = {
    "learned_offer": "Booked by hand; booking rule {rule} offered (chosen {count} times)",
}

_FIELD = re.compile(r"\{(\w+)\}")


def _reason_pattern(template):
    parts, position = [], 0
    for match in _FIELD.finditer(template):
        parts.append(re.escape(template[position:match.start()]))
        parts.append(f"(?P<{match.group(1)}>.+?)")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


_REASON_PATTERNS = None


def parse_reason(text):
    """The ``(code, args)`` of a reason stored as English text by a version
    before codes existed, or ``None`` when ``text`` is no reason of ours.
    ``args`` is a dict (a conflict's ``parts`` a list of ``[code, args]``),
    as the Odoo side stores it; rendering it gives ``text`` back."""
    global _REASON_PATTERNS
    if _REASON_PATTERNS is None:
        templates = {**REASONS, **LEGACY_REASONS}
        # The longest template first: "Invoice number {invoices} in the text,
        # partial payment not confirmed ..." before "..., partial payment".
        _REASON_PATTERNS = [
            (code, _reason_pattern(template))
            for code, template in sorted(templates.items(), key=lambda pair: -len(pair[1]))
        ]
    text = (text or "").strip()
    if not text:
        return None
    for code, pattern in _REASON_PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        args = match.groupdict()
        if code == "conflict":
            parts = _parse_parts(args.pop("detail").split("; "))
            if parts is None:
                continue
            args["parts"] = [list(part) for part in parts]
        if code == "learned_offer" and args["count"].isdigit():
            args["count"] = int(args["count"])
        return code, args
    return None


def _parse_parts(pieces):
    """A conflict's reasons joined by "; " (which one reason may hold too)."""
    if not pieces:
        return []
    for end in range(1, len(pieces) + 1):
        first = parse_reason("; ".join(pieces[:end]))
        if first and first[0] != "conflict":
            rest = _parse_parts(pieces[end:])
            if rest is not None:
                return [first, *rest]
    return None


# --------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------

_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")
_LEGAL_FORMS = frozenset("BV NV VOF CV BVBA GMBH LTD BV. EZ HOLDING STICHTING VERENIGING".split())


def normalize_iban(iban):
    """Upper case without spaces, or ``None``."""
    if not iban:
        return None
    compact = _NOT_ALNUM.sub("", str(iban).upper())
    return compact or None


def normalize_reference(reference):
    """A payment reference as compared: betalingskenmerk digits, compact
    RF, or the text upper case without spaces and punctuation."""
    if not reference:
        return None
    text = str(reference).strip()
    if betalingskenmerk.is_valid(text):
        return betalingskenmerk.compact(text)
    if iso11649.is_valid(text):
        return iso11649.compact(text)
    compact = _NOT_ALNUM.sub("", text.upper())
    return compact or None


def _fold(text):
    text = unicodedata.normalize("NFKD", text or "")
    return "".join(char for char in text if not unicodedata.combining(char)).upper()


def normalize_name(name):
    """A company or person name without accents, punctuation and legal
    form (``Bakkerij Jansen B.V.`` -> ``BAKKERIJ JANSEN``)."""
    words = _fold(name).replace(".", "").split()
    words = [_NOT_ALNUM.sub("", word) for word in words]
    words = [word for word in words if word and word not in _LEGAL_FORMS]
    return " ".join(words) or None


def _normalize_text(text):
    return " ".join(_fold(text).split())


def _words(text):
    """The text as whole words between spaces, so a pattern matches words,
    never a part of one (``RENTE`` is not in ``PARENTEEL``)."""
    return f" {' '.join(_NOT_ALNUM.sub(' ', _fold(text)).split())} "


_DIGITS_AND_DATES = re.compile(r"[0-9][0-9./:-]*")
_LEARNED_PATTERN_LENGTH = 40


#: Labels Dutch banks put in their texts ("Naam: ... Omschrijving: ... IBAN: ...")
#: and ABN AMRO's SEPA tags (/TRTP/.../NAME/.../REMI/...).
_TEXT_LABEL = re.compile(
    r"(?i)(?:^|\s)(naam|name|iban|bic|kenmerk|omschrijving|description|machtiging id|incassant id"
    r"|datum/tijd|valutadatum)\s*:\s*"
)
_SEPA_TAG = re.compile(r"/(TRTP|CSID|NAME|MARF|REMI|EREF|IBAN|BIC|ORDP|BENM|ID|ADDR|CDTRREF|RTRN|ISDT)/")
_DESCRIPTION_LABELS = {"omschrijving", "description", "REMI"}
_COUNTERPARTY_LABELS = {"naam", "name", "iban", "bic", "kenmerk", "machtiging id", "incassant id",
                        "datum/tijd", "valutadatum", "TRTP", "CSID", "NAME", "MARF", "EREF", "IBAN", "BIC",
                        "ORDP", "BENM", "ID", "ADDR", "CDTRREF", "RTRN", "ISDT"}


def description_part(text):
    """What the payer wrote, without the bank's labelled fields: the name and
    IBAN are the counterparty's (a rule holds the IBAN itself), the
    description is what recurs. Unlabelled text is returned as it is."""
    text = text or ""
    for splitter in (_TEXT_LABEL, _SEPA_TAG):
        parts = splitter.split(text)
        if len(parts) < 3:
            continue
        labelled = {}
        free = [parts[0]]
        for label, value in zip(parts[1::2], parts[2::2], strict=False):
            key = label if splitter is _SEPA_TAG else label.lower()
            labelled.setdefault(key, value.strip(" /"))
        for key in _DESCRIPTION_LABELS:
            if labelled.get(key):
                return labelled[key]
        if any(key in _COUNTERPARTY_LABELS for key in labelled):
            return " ".join(free).strip()
    return text


def learned_text_pattern(text):
    """The stable part of a bank text, as a learned rule's pattern: the
    description's words without numbers, dates and amounts, cut to a short
    prefix (``Kosten Zakelijk Betalingsverkeer 01-11-2026`` -> ``KOSTEN
    ZAKELIJK BETALINGSVERKEER``; ``Naam: X Omschrijving: Drukwerk IBAN: ...``
    -> ``DRUKWERK``). ``None`` when nothing stable is left."""
    words = [
        word for word in _normalize_text(_DIGITS_AND_DATES.sub(" ", description_part(text))).split()
        if len(word) > 1 and word != "/"
    ]
    pattern = ""
    for word in words:
        candidate = f"{pattern} {word}".strip()
        if len(candidate) > _LEARNED_PATTERN_LENGTH:
            break
        pattern = candidate
    return pattern or None


#: Words that say the number after them is an invoice's (Dutch and English).
_INVOICE_WORDS = frozenset(
    "factuur factuurnr factuurnummer facturen factnr fact fac fakt fa fnr nota notanr invoice invoices inv"
    " rekening rekeningnr"
    # Paying part of something numbered: of an invoice, from a known customer.
    " deelbetaling restbetaling restant aanbetaling".split()  # noqa: SIM905 -- a word list reads better as words
)
#: Words that say the number is the payer's own file, policy, order or date,
#: not our invoice ("kenmerk 2026-01706", "dossier 2026/00790 d.d. ...").
_OTHER_NUMBER_WORDS = frozenset(
    "kenmerk uw ons dossier dossiernr dossiernummer polis polisnr polisnummer schade schadenr"
    " schadenummer uitkering vergoeding order ordernr ordernummer bestelling bestelnr bestelnummer"
    " klant klantnr klantnummer contract contractnr contractnummer referentie ref zaak zaaknr claim"
    " aanvraag premie declaratie dd datum lid lidnr lidnummer aanslag aanslagnr beschikking subsidie"
    " restitutie teruggave offerte project projectnr opdracht opdrachtnr".split()  # noqa: SIM905
)
_WORD = re.compile(r"[A-Z]+")
#: How many words before the number are read for its context.
_CONTEXT_WORDS = 3


def invoice_context(text, raw, has_prefix=False):
    """Whether the number ``raw`` stands in ``text`` as an invoice number:
    an invoice word just before it ("factuur 2026-00123", "fact.nr. 123")
    or typed with the invoice's own prefix (``INV/2026/00123``), and no word
    of another kind of number just before it ("polis 2026-00123", "kenmerk",
    "dossier", "d.d."). Found nowhere: no invoice context."""
    folded, needle = _fold(text), _fold(raw).strip()
    position = folded.find(needle) if needle else -1
    if position < 0:
        return False
    words = [word.lower() for word in _WORD.findall(folded[:position].replace("D.D.", "DD"))]
    words = words[-_CONTEXT_WORDS:]
    # The letters read as the number's prefix ("POLIS 2026-00123") count too.
    head = [word.lower() for word in _WORD.findall(needle)[:1] if needle[:1].isalpha()]
    if any(word in _OTHER_NUMBER_WORDS for word in head):
        return False
    # "uw kenmerk: factuur 2026-00123" (an invoice's own prefix is no word of the text)
    if any(word in _INVOICE_WORDS for word in words[-1:] + ([] if has_prefix else head)):
        return True
    if any(word in _OTHER_NUMBER_WORDS for word in words[-1:]):
        return False
    if any(word in _OTHER_NUMBER_WORDS for word in words[-2:]) and not has_prefix:
        return False
    words += head
    return has_prefix or any(word in _INVOICE_WORDS for word in words)


def other_number_context(text, raw):
    """Whether the number ``raw`` stands in ``text`` as another kind of
    number: a dossier, policy, order or kenmerk word just before it
    ("Dossier 2026/00003", "polis 2026-00123") and no invoice word."""
    folded, needle = _fold(text), _fold(raw).strip()
    position = folded.find(needle) if needle else -1
    if position < 0:
        return False
    words = [word.lower() for word in _WORD.findall(folded[:position].replace("D.D.", "DD"))]
    words = words[-_CONTEXT_WORDS:]
    head = [word.lower() for word in _WORD.findall(needle)[:1] if needle[:1].isalpha()]
    if any(word in _OTHER_NUMBER_WORDS for word in head):
        return True
    if any(word in _INVOICE_WORDS for word in words[-1:] + head):
        return False
    return any(word in _OTHER_NUMBER_WORDS for word in words[-2:])


def _sign(amount):
    return (amount > 0) - (amount < 0)


# --------------------------------------------------------------------------
# The matcher
# --------------------------------------------------------------------------


class Matcher:
    """Index the candidates once, then decide per bank line.

    :param items: the open items (``OpenItem``) of the lines' companies
    :param partner_accounts: known IBANs (``PartnerAccount``)
    :param partner_names: partners' names (``PartnerName``) for rule 4
    :param text_rules: booking rules (``TextRule``)
    :param min_seen: how often a learned rule must have been chosen by hand
        before it is proposed
    :param kind_modes: ``{company_id: {rule: MODE_AUTO or MODE_PROPOSE}}``
        for rules 1-4; a rule missing for a listed company is off, a company
        not listed works as ``DEFAULT_KIND_MODES``
    """

    def __init__(self, items=(), partner_accounts=(), partner_names=(), text_rules=(), min_seen=2,
                 kind_modes=None):
        self.items = {}
        self._by_reference = defaultdict(list)
        self._by_sequence = defaultdict(list)
        self._by_partner_amount = defaultdict(list)
        self._by_partner = defaultdict(list)
        self._by_family_amount = defaultdict(list)
        for item in items:
            self._add_item(item)
        self._partners_by_iban = defaultdict(set)
        for account in partner_accounts:
            iban = normalize_iban(account.iban)
            if iban:
                self._partners_by_iban[iban].add((account.company_id, account.partner_id))
        self._partners_by_name = defaultdict(set)
        for partner in partner_names:
            name = normalize_name(partner.name)
            if name:
                self._partners_by_name[name].add((partner.company_id, partner.partner_id))
        self._rules_by_company = defaultdict(list)
        for rule in text_rules:
            self._rules_by_company[rule.company_id].append(rule)
        self.min_seen = min_seen
        self.kind_modes = kind_modes or {}

    def _add_item(self, item):
        self.items[item.id] = item
        reference = normalize_reference(item.payment_reference)
        if reference:
            self._by_reference[(item.company_id, reference)].append(item)
        key = _references.invoice_number_key(item.name) if item.name else None
        if key is not None:
            self._by_sequence[(item.company_id, key.sequence)].append((key, item))
        if item.partner_id:
            self._by_partner_amount[
                (item.company_id, item.partner_id, item.currency, item.open_amount)
            ].append(item)
            self._by_partner[(item.company_id, item.partner_id)].append(item)
        for member in item.partner_family:
            if member != item.partner_id:
                self._by_family_amount[(item.company_id, member, item.currency, item.open_amount)].append(item)

    # ---------------------------------------------------------------- API

    def decide_all(self, lines):
        return [self.decide(line) for line in lines]

    def decide(self, line):
        """The ``Decision`` for one ``BankLine``."""
        if not line.amount:
            return Decision(line.id, NOTHING)
        refs = _references.extract_references(line.text or "", line.structured_reference)
        payer_partners = self._payer_partners(line)
        modes = self.kind_modes.get(line.company_id, DEFAULT_KIND_MODES)
        outcomes = []
        for kind, rule in ((RULE_REFERENCE, self._by_reference_rule),
                           (RULE_INVOICE_NUMBER, self._by_invoice_number_rule)):
            outcome = self._in_mode(modes, kind, rule, line, refs, payer_partners)
            if outcome:
                outcomes.append(outcome)
        if not any(outcome.status == AUTO for outcome in outcomes):
            outcome = self._in_mode(modes, RULE_IBAN, self._by_iban_rule, line, payer_partners)
            if outcome:
                outcomes.append(outcome)
        outcome = self._by_text_rules(line)
        if outcome:
            outcomes.append(outcome)
        if not outcomes:
            outcome = self._in_mode(modes, RULE_NAME, self._by_name_rule, line, payer_partners)
            if outcome:
                outcomes.append(outcome)
        decision = self._combine(line, outcomes)
        if decision.status == AUTO and line.foreign_currency:
            return dataclasses.replace(
                decision, status=PROPOSE, reason_code="foreign_currency", reason_args=(),
                proposal_item_ids=tuple(a.item_id for a in decision.allocations), allocations=(),
            )
        return decision

    # ------------------------------------------------------------ helpers

    @staticmethod
    def _in_mode(modes, kind, rule, *args):
        """Run ``rule`` if the company uses it; a rule the company keeps to
        proposals proposes what it would have reconciled."""
        mode = modes.get(kind)
        if mode is None:
            return None
        outcome = rule(*args)
        if outcome and outcome.status == AUTO and mode != MODE_AUTO:
            return dataclasses.replace(
                outcome, status=PROPOSE, allocations=(),
                proposal_item_ids=tuple(a.item_id for a in outcome.allocations),
            )
        return outcome

    def _payer_partners(self, line):
        iban = normalize_iban(line.counterparty_iban)
        partners = {line.partner_id} if line.partner_id else set()
        if iban:
            partners.update(
                partner for company, partner in self._partners_by_iban.get(iban, ())
                if company in (None, line.company_id)
            )
        return partners

    def _decision(self, line, status, rule, code, args, **values):
        return Decision(line.id, status, rule, code, tuple(sorted(args.items())), **values)

    def _fits_line(self, line, item):
        return item.company_id == line.company_id and _sign(item.open_amount) == _sign(line.amount)

    @staticmethod
    def _names(items):
        return ", ".join(item.name or str(item.id) for item in items)

    @staticmethod
    def _discount_applies(line, item):
        return (
            item.discount_amount is not None
            and item.discount_amount != item.open_amount
            and line.amount == item.discount_amount
            and (item.discount_date is None or line.date is None or line.date <= item.discount_date)
        )

    def _settle(self, line, rule, items, prefix, args, partial_allowed):
        """AUTO when ``items`` settle the line: full, early-payment
        discount, or (one item) partial; else a proposal."""
        items = sorted(items, key=lambda item: item.id)
        args = dict(args, invoices=self._names(items))
        proposal = tuple(item.id for item in items)
        if any(item.currency != line.currency for item in items):
            return self._decision(line, PROPOSE, rule, f"{prefix}_currency", args,
                                  proposal_item_ids=proposal)
        partner = items[0].partner_id if len({item.partner_id for item in items}) == 1 else None
        total = sum(item.open_amount for item in items)
        if total == line.amount:
            code = f"{prefix}_multi" if prefix == "reference" and len(items) > 1 else f"{prefix}_full"
            allocations = tuple(Allocation(item.id, item.open_amount) for item in items)
            return self._decision(line, AUTO, rule, code, args, allocations=allocations,
                                  partner_id=partner)
        if len(items) == 1:
            item = items[0]
            if self._discount_applies(line, item):
                allocation = Allocation(item.id, line.amount, item.open_amount - line.amount)
                return self._decision(line, AUTO, rule, f"{prefix}_discount", args,
                                      allocations=(allocation,), partner_id=partner)
            if partial_allowed and abs(line.amount) < abs(item.open_amount):
                return self._decision(line, AUTO, rule, f"{prefix}_partial", args,
                                      allocations=(Allocation(item.id, line.amount),),
                                      partner_id=partner)
        return self._decision(line, PROPOSE, rule, f"{prefix}_amount_differs", args,
                              proposal_item_ids=proposal, partner_id=partner)

    # -------------------------------------------------------------- rules

    def _confirmed_payers(self, line, payer_partners):
        """Who the payer is known to be: the partners of the counterparty
        IBAN (or the line's partner), else the partners whose name is
        exactly the payer's."""
        if payer_partners:
            return payer_partners
        return self._name_partners(line)

    def _name_partners(self, line):
        name = normalize_name(line.counterparty_name) if line.counterparty_name else None
        if not name:
            return set()
        return {
            partner for company, partner in self._partners_by_name.get(name, ())
            if company in (None, line.company_id)
        }

    @staticmethod
    def _family(item):
        return item.partner_family or frozenset({item.partner_id})

    def _by_reference_rule(self, line, refs, payer_partners):
        found, values = {}, []
        for ref in refs:
            if ref.kind not in (_references.BETALINGSKENMERK, _references.RF):
                continue
            matches = [
                item for item in self._by_reference.get((line.company_id, ref.value), ())
                if self._fits_line(line, item)
            ]
            if matches:
                values.append(ref.value)
            for item in matches:
                found[item.id] = item
        if not found:
            return None
        # A partial payment has less to confirm it than an equal amount:
        # the payer must be known as the invoice's partner (or a parent).
        confirmed = self._confirmed_payers(line, payer_partners)
        payer_agrees = any(confirmed & self._family(item) for item in found.values())
        args = {"reference": ", ".join(values)}
        decision = self._settle(line, RULE_REFERENCE, found.values(), "reference", args,
                                partial_allowed=len(found) == 1 and payer_agrees)
        if (decision.status == PROPOSE and decision.reason_code == "reference_amount_differs"
                and len(found) == 1 and abs(line.amount) < abs(next(iter(found.values())).open_amount)):
            decision = dataclasses.replace(
                decision, reason_code="reference_partial_unconfirmed",
                partner_id=decision.partner_id if payer_agrees else None)
        return decision

    def _by_invoice_number_rule(self, line, refs, payer_partners):
        resolved, ambiguous, contexts = {}, [], {}
        text = line.text or ""
        for ref in refs:
            if ref.kind != _references.INVOICE_NUMBER or ref.invoice_key is None:
                continue
            matches = [
                item for key, item in self._by_sequence.get((line.company_id, ref.invoice_key.sequence), ())
                if key.matches(ref.invoice_key) and self._fits_line(line, item)
            ]
            if len(matches) > 1 and payer_partners:
                # The payer's own invoices first: "factuur 123" of this year.
                own = [item for item in matches if item.partner_family & payer_partners]
                matches = own or matches
            # The payer typed the invoice's own prefix ("INV/2026/00123").
            own_prefix = ref.invoice_key.prefix is not None and any(
                key.prefix == ref.invoice_key.prefix
                for key, item in self._by_sequence.get((line.company_id, ref.invoice_key.sequence), ())
                if item in matches)
            in_context = invoice_context(text, ref.raw, own_prefix)
            if len(matches) > 1:
                ambiguous.append((ref, matches))
            elif matches:
                resolved[matches[0].id] = matches[0]
                contexts[matches[0].id] = contexts.get(matches[0].id, False) or in_context
        # Read outside an invoice context, the number may well be the payer's own.
        weak = not any(contexts.values()) and not any(
            invoice_context(text, ref.raw, False) for ref, _m in ambiguous)
        if ambiguous:
            items = [item for _ref, matches in ambiguous for item in matches] + list(resolved.values())
            return self._decision(
                line, PROPOSE, RULE_INVOICE_NUMBER, "invoice_ambiguous",
                {"numbers": ", ".join(ref.value for ref, _m in ambiguous)},
                proposal_item_ids=tuple(dict.fromkeys(item.id for item in items)), weak=weak,
            )
        if not resolved:
            return None
        items = list(resolved.values())
        proposal = tuple(sorted(resolved))
        args = {"invoices": self._names(sorted(items, key=lambda item: item.id))}
        if len({item.partner_id for item in items}) > 1:
            return self._decision(line, PROPOSE, RULE_INVOICE_NUMBER, "invoice_partners_differ",
                                  args, proposal_item_ids=proposal, weak=weak)
        family = self._family(items[0])
        if payer_partners and not payer_partners & family:
            if weak:
                # A known payer's own order or file number that happens to be
                # the sequence of another partner's invoice: not about it.
                return None
            return self._decision(line, PROPOSE, RULE_INVOICE_NUMBER, "invoice_payer_differs",
                                  args, proposal_item_ids=proposal)
        # An invoice number alone is never certain: the payer must be known
        # as the partner (IBAN, exact name, or a parent company of it); a
        # partial payment also needs the number read as an invoice's.
        payer_confirmed = bool(self._confirmed_payers(line, payer_partners) & family)
        partial_allowed = len(items) == 1 and payer_confirmed and not weak
        decision = self._settle(line, RULE_INVOICE_NUMBER, items, "invoice", {}, partial_allowed)
        if decision.status == AUTO and weak and any(
                other_number_context(text, ref.raw) for ref in refs
                if ref.kind == _references.INVOICE_NUMBER and ref.invoice_key is not None):
            # "Dossier 2026/00003": the payer's own file number that is also
            # our invoice's sequence. Never certain, even with the payer known
            # and the amount equal: a proposal for the accountant.
            return dataclasses.replace(
                decision, status=PROPOSE, reason_code="invoice_other_context", allocations=(),
                proposal_item_ids=proposal, partner_id=decision.partner_id if payer_confirmed else None,
                weak=True)
        if decision.status == AUTO and not payer_confirmed:
            return dataclasses.replace(
                decision, status=PROPOSE, reason_code="invoice_payer_unconfirmed", allocations=(),
                proposal_item_ids=proposal, partner_id=None, weak=weak)
        if decision.status == PROPOSE:
            total = sum(item.open_amount for item in items)
            others = self._completing_items(line, items[0].partner_id, line.amount - total, set(resolved))
            if others:
                return self._decision(
                    line, PROPOSE, RULE_INVOICE_NUMBER, "invoice_sum_others", args,
                    proposal_item_ids=proposal + tuple(item.id for item in others),
                    partner_id=items[0].partner_id if payer_confirmed else None, weak=weak)
            code = decision.reason_code
            if (len(items) == 1 and abs(line.amount) < abs(total) and code == "invoice_amount_differs"):
                code = "invoice_partial_unconfirmed"
            return dataclasses.replace(decision, reason_code=code, weak=weak,
                                       partner_id=decision.partner_id if payer_confirmed else None)
        return decision

    #: Partners with more open items than this are not searched for sums.
    _MAX_SUM_ITEMS = 40

    def _completing_items(self, line, partner_id, rest, exclude, max_count=2):
        """The one set of at most ``max_count`` open items of ``partner_id``
        (not in ``exclude``) summing to ``rest``, or ``()``: none or several."""
        if not rest or _sign(rest) != _sign(line.amount):
            return ()
        candidates = [
            item for item in self._by_partner.get((line.company_id, partner_id), ())
            if item.id not in exclude and item.currency == line.currency and self._fits_line(line, item)
        ]
        if len(candidates) > self._MAX_SUM_ITEMS:
            return ()
        found = []
        by_amount = defaultdict(list)
        for item in candidates:
            by_amount[item.open_amount].append(item)
        found.extend((item,) for item in by_amount.get(rest, ()))
        if max_count >= 2:
            for first in candidates:
                for second in by_amount.get(rest - first.open_amount, ()):
                    if second.id > first.id:
                        found.append((first, second))
                if len(found) > 1:
                    break
        return found[0] if len(found) == 1 else ()

    def _by_iban_rule(self, line, payer_partners):
        if not payer_partners:
            return None
        matches = []
        for partner in sorted(payer_partners):
            matches.extend(self._by_partner_amount.get(
                (line.company_id, partner, line.currency, line.amount), ()))
        iban = normalize_iban(line.counterparty_iban)
        if not matches:
            return self._by_iban_fallback(line, payer_partners, iban)
        if len(matches) == 1 and len(payer_partners) == 1:
            item = matches[0]
            return self._decision(
                line, AUTO, RULE_IBAN, "iban_single",
                {"iban": iban, "partner": str(item.partner_id), "invoices": self._names(matches)},
                allocations=(Allocation(item.id, item.open_amount),), partner_id=item.partner_id,
            )
        return self._decision(line, PROPOSE, RULE_IBAN, "iban_several", {"iban": iban},
                              proposal_item_ids=tuple(item.id for item in matches),
                              partner_id=next(iter(payer_partners)) if len(payer_partners) == 1 else None)

    def _by_iban_fallback(self, line, payer_partners, iban):
        """No open item of the payer has the amount: a sum of two or three
        of them, or a daughter's item when the payer is a parent company;
        only ever proposed."""
        if len(payer_partners) != 1:
            return None
        partner = next(iter(payer_partners))
        items = self._completing_items(line, partner, line.amount, set(), max_count=2)
        if len(items) > 1:
            return self._decision(line, PROPOSE, RULE_IBAN, "iban_sum",
                                  {"iban": iban, "invoices": self._names(items)},
                                  proposal_item_ids=tuple(item.id for item in items), partner_id=partner)
        daughters = [
            item for item in self._by_family_amount.get((line.company_id, partner, line.currency, line.amount), ())
            if item.partner_id != partner
        ]
        if daughters:
            return self._decision(line, PROPOSE, RULE_IBAN, "iban_parent",
                                  {"iban": iban, "invoices": self._names(daughters)},
                                  proposal_item_ids=tuple(item.id for item in daughters))
        return None

    def _by_name_rule(self, line, payer_partners):
        if payer_partners or not line.counterparty_name:
            return None
        name = normalize_name(line.counterparty_name)
        partners = {
            partner for company, partner in self._partners_by_name.get(name, ())
            if company in (None, line.company_id)
        } if name else set()
        if not partners:
            return None
        matches = []
        for partner in sorted(partners):
            matches.extend(self._by_partner_amount.get(
                (line.company_id, partner, line.currency, line.amount), ()))
        return self._decision(
            line, PROPOSE, RULE_NAME, "name_match", {"name": line.counterparty_name},
            proposal_item_ids=tuple(item.id for item in matches),
            partner_id=next(iter(partners)) if len(partners) == 1 else None,
        )

    def _matching_text_rules(self, line):
        iban = normalize_iban(line.counterparty_iban)
        text = None
        for rule in self._rules_by_company.get(line.company_id, ()):
            if not rule.iban and not rule.pattern:
                continue
            if rule.sign and rule.sign != _sign(line.amount):
                continue
            if rule.iban and normalize_iban(rule.iban) != iban:
                continue
            if rule.pattern:
                if text is None:
                    raw = " ".join(part for part in (line.text, line.counterparty_name) if part)
                    # Learned patterns leave out dates and numbers: match those
                    # against the text without them too.
                    text = (_words(raw), _words(_DIGITS_AND_DATES.sub(" ", raw)))
                pattern = _words(rule.pattern)
                if not pattern.strip() or (pattern not in text[0] and pattern not in text[1]):
                    continue
            yield rule

    def _by_text_rules(self, line):
        matching = list(self._matching_text_rules(line))
        confirmed = [rule for rule in matching if rule.confirmed]
        if confirmed:
            # The most specific rules speak: IBAN and text over either one.
            best = max(bool(rule.iban) + bool(rule.pattern) for rule in confirmed)
            confirmed = [rule for rule in confirmed if bool(rule.iban) + bool(rule.pattern) == best]
            targets = {rule.target for rule in confirmed}
            rule = min(confirmed, key=lambda rule: rule.id)
            if len(targets) == 1:
                return self._decision(line, AUTO, RULE_TEXT, "text_rule", {"rule_name": rule.name},
                                      text_rule_id=rule.id)
            return self._decision(line, PROPOSE, RULE_TEXT, "text_rules_conflict", {},
                                  text_rule_id=rule.id)
        learned = [rule for rule in matching if not rule.learned or rule.times_seen >= self.min_seen]
        if learned:
            rule = max(learned, key=lambda rule: (rule.times_seen, -rule.id))
            if len({rule.target for rule in learned}) > 1:
                return self._decision(line, PROPOSE, RULE_TEXT, "text_rules_conflict", {},
                                      text_rule_id=rule.id)
            return self._decision(line, PROPOSE, RULE_TEXT, "text_rule_unconfirmed",
                                  {"rule_name": rule.name}, text_rule_id=rule.id)
        return None

    # ------------------------------------------------------------ combine

    def _combine(self, line, outcomes):
        if not outcomes:
            return Decision(line.id, NOTHING)
        certain = [outcome for outcome in outcomes if outcome.status == AUTO]
        if certain:
            outcomes = [outcome for outcome in outcomes if outcome.status == AUTO or not outcome.weak]
        answers = {self._answer(outcome) for outcome in certain}
        # One certain answer, and nothing else on the line points elsewhere.
        if certain and len(answers) == 1 and all(
            outcome.status == AUTO or self._agrees(outcome, certain[0]) for outcome in outcomes
        ):
            return certain[0]
        if len(outcomes) == 1:
            return outcomes[0]
        proposal_ids, text_rule_id, partner_id = [], None, None
        for outcome in outcomes:
            proposal_ids.extend(a.item_id for a in outcome.allocations)
            proposal_ids.extend(outcome.proposal_item_ids)
            text_rule_id = text_rule_id or outcome.text_rule_id
            partner_id = partner_id or outcome.partner_id
        first = outcomes[0]
        return self._decision(
            line, PROPOSE, first.rule, "conflict",
            {"parts": tuple((outcome.reason_code, outcome.reason_args) for outcome in outcomes)},
            proposal_item_ids=tuple(dict.fromkeys(proposal_ids)), text_rule_id=text_rule_id,
            partner_id=partner_id,
        )

    @staticmethod
    def _answer(outcome):
        if outcome.text_rule_id is not None and not outcome.allocations:
            return ("rule", outcome.text_rule_id)
        return tuple(sorted((a.item_id, a.amount) for a in outcome.allocations))

    @staticmethod
    def _agrees(proposal, certain):
        """A proposal agrees when it only names items the certain answer
        settles (e.g. rule 3 proposing the invoice rule 1 matched)."""
        if proposal.text_rule_id is not None:
            return False
        settled = {a.item_id for a in certain.allocations}
        return bool(settled) and set(proposal.proposal_item_ids) <= settled
