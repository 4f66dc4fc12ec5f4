"""The matching engine's decisions, rule by rule, without Odoo."""

import datetime

import pytest

from l10n_nl_bankkoppeling.tools import betalingskenmerk
from l10n_nl_bankkoppeling.tools.matching import (
    AUTO,
    NOTHING,
    PROPOSE,
    RULE_IBAN,
    RULE_INVOICE_NUMBER,
    RULE_NAME,
    RULE_REFERENCE,
    RULE_TEXT,
    BankLine,
    Matcher,
    OpenItem,
    PartnerAccount,
    PartnerName,
    TextRule,
    learned_text_pattern,
    normalize_name,
)

COMPANY, OTHER_COMPANY = 1, 2
JANSEN, PIETERS, HOLDING = 10, 11, 12
KENMERK_A = betalingskenmerk.generate(1001)
KENMERK_B = betalingskenmerk.generate(1002)
IBAN_JANSEN = "NL91ABNA0417164300"
IBAN_PIETERS = "NL20INGB0001234567"
IBAN_HOLDING = "NL02RABO0123456789"
IBAN_BANK_LOAN = "NL44RABO0123456789"


def item(item_id, amount, partner=JANSEN, reference=None, name=None, company=COMPANY,
         currency="EUR", **extra):
    family = frozenset({partner, HOLDING}) if partner == PIETERS else frozenset({partner})
    return OpenItem(item_id, company, amount, currency, partner, family, reference, name, **extra)


def line(amount, text="", company=COMPANY, iban=None, name=None, structured=None, currency="EUR",
         **extra):
    return BankLine(1, company, amount, currency, text, structured, iban, name, **extra)


def matcher(*items, accounts=(), names=(), rules=()):
    accounts = accounts or (
        PartnerAccount(IBAN_JANSEN, JANSEN), PartnerAccount(IBAN_PIETERS, PIETERS, COMPANY),
        PartnerAccount(IBAN_HOLDING, HOLDING),
    )
    return Matcher(items, accounts, names, rules)


def spaced(kenmerk):
    return betalingskenmerk.format(kenmerk)


# ---------------------------------------------------------------- rule 1


def test_reference_typed_with_spaces_and_equal_amount_reconciles():
    engine = matcher(item(1, 12100, reference=KENMERK_A), item(2, 12100, reference=KENMERK_B))
    decision = engine.decide(line(12100, f"Betaling {spaced(KENMERK_A)} dank u"))
    assert decision.status == AUTO
    assert decision.rule == RULE_REFERENCE
    assert [(a.item_id, a.amount) for a in decision.allocations] == [(1, 12100)]
    assert KENMERK_A in decision.reason


def test_structured_reference_reconciles_with_label_slash():
    engine = matcher(item(1, 5000, reference=KENMERK_A))
    decision = engine.decide(line(5000, "/", structured=KENMERK_A, iban="NL58INGB0000000001"))
    assert (decision.status, decision.rule) == (AUTO, RULE_REFERENCE)


def test_rf_reference_reconciles():
    engine = matcher(item(1, 5000, reference="RF18 5390 0754 7034"))
    decision = engine.decide(line(5000, "RF18539007547034"))
    assert (decision.status, decision.rule) == (AUTO, RULE_REFERENCE)


def test_reference_with_wrong_check_digit_never_matches_by_reference():
    wrong = ("1" if KENMERK_A[0] != "1" else "2") + KENMERK_A[1:]
    engine = matcher(item(1, 5000, reference=KENMERK_A), item(2, 5000, reference=wrong))
    decision = engine.decide(line(5000, f"kenmerk {spaced(wrong)}"))
    assert decision.status == NOTHING


def test_reference_with_other_amount_is_proposed_when_overpaid():
    engine = matcher(item(1, 5000, reference=KENMERK_A))
    decision = engine.decide(line(6000, KENMERK_A))
    assert decision.status == PROPOSE
    assert decision.proposal_item_ids == (1,)


def test_reference_partial_payment_reconciles_partially():
    engine = matcher(item(1, 5000, reference=KENMERK_A))
    decision = engine.decide(line(2000, KENMERK_A, iban=IBAN_JANSEN))
    assert decision.status == AUTO and decision.is_partial
    assert [(a.item_id, a.amount) for a in decision.allocations] == [(1, 2000)]


def test_reference_within_early_payment_discount_reconciles_with_discount():
    engine = matcher(item(1, 10000, reference=KENMERK_A, discount_amount=9800,
                          discount_date=datetime.date(2026, 11, 30)))
    decision = engine.decide(line(9800, KENMERK_A, date=datetime.date(2026, 11, 21)))
    assert decision.status == AUTO
    assert decision.allocations[0].discount == 200
    late = engine.decide(line(9800, KENMERK_A, date=datetime.date(2026, 12, 1), iban=IBAN_JANSEN))
    assert late.status == AUTO and late.is_partial  # too late: a partial payment


def test_two_references_summing_to_the_amount_reconcile_both():
    engine = matcher(item(1, 5000, reference=KENMERK_A), item(2, 7000, reference=KENMERK_B))
    decision = engine.decide(line(12000, f"{spaced(KENMERK_A)} en {spaced(KENMERK_B)}"))
    assert decision.status == AUTO
    assert sorted(a.item_id for a in decision.allocations) == [1, 2]


def test_reference_of_another_company_never_matches():
    engine = matcher(item(1, 5000, reference=KENMERK_A, company=OTHER_COMPANY))
    assert engine.decide(line(5000, KENMERK_A)).status == NOTHING


def test_reference_in_other_currency_is_refused():
    engine = matcher(item(1, 5000, reference=KENMERK_A, currency="USD"))
    decision = engine.decide(line(5000, KENMERK_A))
    assert decision.status == PROPOSE


def test_foreign_currency_payment_is_never_reconciled_automatically():
    engine = matcher(item(1, 5000, reference=KENMERK_A))
    decision = engine.decide(line(5000, KENMERK_A, foreign_currency="USD"))
    assert decision.status == PROPOSE and decision.proposal_item_ids == (1,)


def test_receipt_never_matches_a_vendor_bill():
    engine = matcher(item(1, -5000, reference=KENMERK_A))
    assert engine.decide(line(5000, KENMERK_A)).status == NOTHING
    assert engine.decide(line(-5000, KENMERK_A)).status == AUTO


# ---------------------------------------------------------------- rule 2


def test_invoice_number_with_equal_amount_reconciles():
    engine = matcher(item(1, 5000, name="INV/2026/00123"), item(2, 5000, name="INV/2026/00124"))
    decision = engine.decide(line(5000, "factuur INV/2026/00123", iban=IBAN_JANSEN))
    assert (decision.status, decision.rule) == (AUTO, RULE_INVOICE_NUMBER)
    assert decision.allocations[0].item_id == 1


def test_several_invoice_numbers_of_one_partner_summing_to_amount():
    engine = matcher(item(1, 5000, name="INV/2026/00123"), item(2, 2500, name="INV/2026/00124"))
    decision = engine.decide(line(7500, "facturen INV/2026/00123 en INV/2026/00124", iban=IBAN_JANSEN))
    assert decision.status == AUTO
    assert sorted((a.item_id, a.amount) for a in decision.allocations) == [(1, 5000), (2, 2500)]


def test_several_invoice_numbers_not_summing_are_proposed():
    engine = matcher(item(1, 5000, name="INV/2026/00123"), item(2, 2500, name="INV/2026/00124"))
    decision = engine.decide(line(7000, "INV/2026/00123 INV/2026/00124"))
    assert decision.status == PROPOSE
    assert set(decision.proposal_item_ids) == {1, 2}


def test_invoice_numbers_of_two_partners_are_proposed():
    engine = matcher(item(1, 5000, name="INV/2026/00123"),
                     item(2, 2500, name="INV/2026/00124", partner=PIETERS))
    decision = engine.decide(line(7500, "INV/2026/00123 INV/2026/00124"))
    assert decision.status == PROPOSE


def test_invoice_number_partial_payment_reconciles_partially():
    engine = matcher(item(1, 5000, name="INV/2026/00123"))
    decision = engine.decide(line(2000, "deelbetaling INV/2026/00123", iban=IBAN_JANSEN))
    assert decision.status == AUTO and decision.is_partial


def test_bare_sequence_number_fitting_two_invoices_is_proposed():
    engine = matcher(item(1, 5000, name="INV/2025/00123"), item(2, 5000, name="INV/2026/00123",
                                                                partner=PIETERS))
    decision = engine.decide(line(5000, "factuur 123"))
    assert decision.status == PROPOSE
    assert set(decision.proposal_item_ids) == {1, 2}


def test_bare_sequence_partial_from_unknown_payer_is_proposed():
    engine = matcher(item(1, 5000, name="INV/2026/00123"))
    assert engine.decide(line(2000, "factuur 123")).status == PROPOSE


def test_invoice_number_paid_by_a_stranger_iban_known_for_other_partner_is_proposed():
    engine = matcher(item(1, 5000, name="INV/2026/00123"))
    decision = engine.decide(line(5000, "INV/2026/00123", iban=IBAN_PIETERS))
    assert decision.status == PROPOSE


def test_invoice_number_paid_by_parent_company_reconciles():
    engine = matcher(item(1, 5000, name="INV/2026/00123", partner=PIETERS))
    decision = engine.decide(line(5000, "INV/2026/00123", iban=IBAN_HOLDING))
    assert decision.status == AUTO


def test_postcode_and_house_number_do_not_match_invoices():
    engine = matcher(item(1, 5000, name="INV/2026/01234"), item(2, 1200, name="INV/2026/00012"))
    decision = engine.decide(line(5000, "Jansen Dorpsstraat 12 1234 AB Utrecht"))
    assert decision.status == NOTHING


# ---------------------------------------------------------------- rule 3


def test_known_iban_with_one_open_invoice_of_that_amount_reconciles():
    engine = matcher(item(1, 5000), item(2, 7000))
    decision = engine.decide(line(5000, "betaling", iban="NL91 ABNA 0417 1643 00"))
    assert (decision.status, decision.rule) == (AUTO, RULE_IBAN)
    assert decision.allocations[0].item_id == 1


def test_known_iban_with_several_invoices_of_that_amount_is_proposed():
    engine = matcher(item(1, 5000), item(2, 5000))
    decision = engine.decide(line(5000, "betaling", iban=IBAN_JANSEN))
    assert (decision.status, decision.rule) == (PROPOSE, RULE_IBAN)
    assert set(decision.proposal_item_ids) == {1, 2}


def test_iban_known_only_in_another_company_is_unknown():
    accounts = (PartnerAccount(IBAN_PIETERS, PIETERS, OTHER_COMPANY),)
    engine = matcher(item(1, 5000, partner=PIETERS), accounts=accounts)
    assert engine.decide(line(5000, "x", iban=IBAN_PIETERS)).status == NOTHING


def test_iban_match_contradicted_by_a_reference_is_proposed():
    engine = matcher(item(1, 5000), item(2, 6000, reference=KENMERK_A, partner=PIETERS))
    decision = engine.decide(line(5000, KENMERK_A, iban=IBAN_JANSEN))
    assert decision.status == PROPOSE
    assert set(decision.proposal_item_ids) == {1, 2}


# ---------------------------------------------------------------- rule 4


def test_payer_name_match_is_only_proposed():
    names = (PartnerName(JANSEN, "Bakkerij Jansen B.V."),)
    engine = matcher(item(1, 5000), names=names)
    decision = engine.decide(line(5000, "bestelling", iban="NL58INGB0000000001",
                                  name="BAKKERIJ JANSEN BV"))
    assert (decision.status, decision.rule) == (PROPOSE, RULE_NAME)
    assert decision.proposal_item_ids == (1,)
    assert decision.partner_id == JANSEN


def test_normalize_name_drops_legal_form_and_accents():
    assert normalize_name("Café Één B.V.") == "CAFE EEN"


# ---------------------------------------------------------------- rule 5


RULES = (
    TextRule(1, COMPANY, "bank costs", pattern="Kosten Zakelijk Betalingsverkeer", sign=-1, name="Bank"),
    TextRule(2, COMPANY, "interest", iban=IBAN_BANK_LOAN, pattern="RENTE", name="Rente"),
    TextRule(3, COMPANY, "repayment", iban=IBAN_BANK_LOAN, pattern="AFLOSSING", name="Aflossing"),
    TextRule(4, COMPANY, "loan", iban=IBAN_BANK_LOAN, name="Lening"),
    TextRule(5, COMPANY, "salaries", pattern="SALARIS", confirmed=False, times_seen=2, name="Sal"),
    TextRule(6, COMPANY, "card", pattern="BEA", confirmed=False, times_seen=1, name="Card"),
)


@pytest.mark.parametrize("text, iban, amount, status, rule_id", [
    ("KOSTEN ZAKELIJK BETALINGSVERKEER 01-11-2026", None, -1250, AUTO, 1),
    ("Kosten zakelijk betalingsverkeer", None, 1250, NOTHING, None),  # receipts: no
    ("RENTE LENING 123", IBAN_BANK_LOAN, -10000, AUTO, 2),
    ("AFLOSSING LENING 123", IBAN_BANK_LOAN, -50000, AUTO, 3),
    ("RENTE EN AFLOSSING", IBAN_BANK_LOAN, -60000, PROPOSE, 2),  # two ways: proposed
    ("LENING", IBAN_BANK_LOAN, -60000, AUTO, 4),
    ("SALARIS NOVEMBER", None, -300000, PROPOSE, 5),  # learned: never automatic
    ("BEA 12:00 PAS 123", None, -1000, NOTHING, None),  # learned once: not yet proposed
])
def test_text_rules(text, iban, amount, status, rule_id):
    decision = matcher(rules=RULES).decide(line(amount, text, iban=iban))
    assert decision.status == status
    assert decision.text_rule_id == rule_id
    if status != NOTHING:
        assert decision.rule == RULE_TEXT


def test_text_rule_of_another_company_does_not_apply():
    decision = matcher(rules=RULES).decide(
        line(-1250, "Kosten Zakelijk Betalingsverkeer", company=OTHER_COMPANY))
    assert decision.status == NOTHING


def test_text_rule_and_invoice_match_on_one_line_is_proposed():
    rules = (TextRule(1, COMPANY, "x", iban=IBAN_JANSEN),)
    engine = matcher(item(1, 5000, reference=KENMERK_A), rules=rules)
    decision = engine.decide(line(5000, KENMERK_A, iban=IBAN_JANSEN))
    assert decision.status == PROPOSE


def test_learned_pattern_keeps_the_stable_words():
    assert learned_text_pattern("Kosten Zakelijk Betalingsverkeer 01-11-2026 t/m 30-11") == \
        "KOSTEN ZAKELIJK BETALINGSVERKEER T/M"
    assert learned_text_pattern("/") is None
    # ING's labelled text: the description recurs, the name and IBAN are the rule's counterparty
    assert learned_text_pattern(
        "Naam: Drukkerij De Letter B.V. Omschrijving: Drukwerk flyers voorjaarsactie IBAN: NL02ABNA0123456789"
    ) == "DRUKWERK FLYERS VOORJAARSACTIE"
    # ABN AMRO's SEPA tags
    assert learned_text_pattern(
        "/TRTP/SEPA OVERBOEKING/IBAN/NL02ABNA0123456789/BIC/ABNANL2A/NAME/Makro Nederland/REMI/Bestelling "
        "winkelvoorraad 4411/EREF/NOTPROVIDED"
    ) == "BESTELLING WINKELVOORRAAD"
    # a labelled text without a description keeps what is not the counterparty's
    assert learned_text_pattern("Huur kantoor november Naam: Vastgoed BV IBAN: NL02ABNA0123456789") == \
        "HUUR KANTOOR NOVEMBER"
    assert learned_text_pattern("123 456") is None


# ----------------------------------------------------------------- scale


def test_decision_cost_does_not_grow_with_open_items():
    """Every index lookup is by key: with 20 000 items, a line still only
    looks at the items sharing its reference, sequence or partner+amount."""
    items = [item(i, 1000 + i, partner=100 + i % 500, name=f"INV/2026/{i:05d}",
                  reference=betalingskenmerk.generate(i)) for i in range(1, 20001)]
    engine = matcher(*items)
    decision = engine.decide(line(1000 + 777, f"betaling {betalingskenmerk.generate(777)}"))
    assert decision.status == AUTO and decision.allocations[0].item_id == 777
    assert max(len(bucket) for bucket in engine._by_reference.values()) == 1


# ------------------------------------------- per-company rule settings


def test_text_rule_pattern_matches_whole_words_only():
    rules = (TextRule(1, COMPANY, "interest", pattern="RENTE", sign=-1, name="Rente"),)
    assert matcher(rules=rules).decide(line(-1000, "Bakkerij Parenteel")).status == NOTHING
    assert matcher(rules=rules).decide(line(-1000, "rente 3e kwartaal")).status == AUTO


def test_learned_pattern_matches_texts_with_other_dates():
    pattern = learned_text_pattern("Kosten Zakelijk Betalingsverkeer 01-10-2026 t/m 31-10")
    rules = (TextRule(1, COMPANY, "bank costs", pattern=pattern, name="Bank"),)
    decision = matcher(rules=rules).decide(
        line(-1250, "KOSTEN ZAKELIJK BETALINGSVERKEER 01-11-2026 T/M 30-11"))
    assert decision.status == AUTO


def test_text_rule_with_a_number_needs_that_number():
    rules = (TextRule(1, COMPANY, "lease", pattern="Contract 4711", name="Lease"),)
    assert matcher(rules=rules).decide(line(-1000, "LEASE CONTRACT 4711 NOV")).status == AUTO
    assert matcher(rules=rules).decide(line(-1000, "LEASE CONTRACT 4712 NOV")).status == NOTHING


def test_shipped_suggestion_is_proposed_at_once_and_never_reconciled():
    rules = (TextRule(1, COMPANY, "vat", iban=IBAN_BANK_LOAN, confirmed=False, learned=False,
                      name="Belastingdienst"),)
    decision = matcher(rules=rules).decide(line(-50000, "OMZETBELASTING", iban=IBAN_BANK_LOAN))
    assert (decision.status, decision.text_rule_id) == (PROPOSE, 1)


def test_two_unconfirmed_rules_pointing_elsewhere_conflict():
    rules = (
        TextRule(1, COMPANY, "interest", pattern="RENTE", confirmed=False, learned=False, name="R"),
        TextRule(2, COMPANY, "repayment", pattern="AFLOSSING", confirmed=False, learned=False, name="A"),
    )
    decision = matcher(rules=rules).decide(line(-60000, "RENTE EN AFLOSSING"))
    assert (decision.status, decision.reason_code) == (PROPOSE, "text_rules_conflict")


def test_company_keeping_a_rule_to_proposals_gets_a_proposal():
    engine = Matcher([item(1, 12100, reference=KENMERK_A)],
                     kind_modes={COMPANY: {RULE_REFERENCE: "propose"}})
    decision = engine.decide(line(12100, KENMERK_A))
    assert (decision.status, decision.rule, decision.proposal_item_ids) == (PROPOSE, RULE_REFERENCE, (1,))
    assert not decision.allocations


def test_company_without_a_rule_does_not_use_it():
    items = [item(1, 12100, reference=KENMERK_A), item(2, 500, reference=KENMERK_B, company=OTHER_COMPANY)]
    accounts = (PartnerAccount(IBAN_JANSEN, JANSEN),)
    engine = Matcher(items, accounts, kind_modes={COMPANY: {RULE_IBAN: "auto"}})
    # Rule 1 is off for this company: the IBAN rule decides on its own.
    decision = engine.decide(line(12100, KENMERK_A, iban=IBAN_JANSEN))
    assert (decision.status, decision.rule) == (AUTO, RULE_IBAN)
    assert engine.decide(line(12100, KENMERK_A)).status == NOTHING
    # Another company, not listed, keeps the defaults.
    other = engine.decide(line(500, KENMERK_B, company=OTHER_COMPANY))
    assert (other.status, other.rule) == (AUTO, RULE_REFERENCE)


def test_name_rule_never_reconciles_even_when_set_to_auto():
    engine = Matcher([item(1, 7700)], (), (PartnerName(JANSEN, "Bakkerij Jansen"),),
                     kind_modes={COMPANY: {RULE_NAME: "auto"}})
    assert engine.decide(line(7700, "bestelling", name="BAKKERIJ JANSEN BV")).status == PROPOSE


# ------------------------------------- an invoice number alone is never certain


STRANGER_IBAN = "NL58INGB0000000001"


def test_insurer_paying_with_a_kenmerk_shaped_like_an_invoice_number_is_not_reconciled():
    # An insurer's reimbursement: its own file number looks like our invoice 2026/01706.
    engine = matcher(item(1, 84000, name="INV/2026/01706"))
    decision = engine.decide(line(31250, "Vergoeding 03/09/2026 kenmerk 2026-01706",
                                  iban=STRANGER_IBAN, name="Zekerheid Verzekeringen N.V."))
    assert decision.status != AUTO


def test_damage_payment_with_a_dossier_number_is_no_partial_payment():
    engine = matcher(item(1, 150000, name="INV/2026/00790"))
    decision = engine.decide(line(42000, "Schade-uitkering dossier 2026/00790 d.d. 19-09-2026",
                                  iban=STRANGER_IBAN, name="Gemeente Lingewaard"))
    assert decision.status != AUTO


def test_invoice_number_and_exact_amount_from_an_unknown_payer_is_only_proposed():
    engine = matcher(item(1, 5000, name="INV/2026/00123"))
    decision = engine.decide(line(5000, "factuur INV/2026/00123", iban=STRANGER_IBAN,
                                  name="P. de Boer"))
    assert decision.status == PROPOSE
    assert decision.proposal_item_ids == (1,)


def test_invoice_number_and_exact_amount_with_the_partners_exact_name_reconciles():
    names = (PartnerName(JANSEN, "Bakkerij Jansen B.V."),)
    engine = matcher(item(1, 5000, name="INV/2026/00123"), names=names)
    decision = engine.decide(line(5000, "factuur INV/2026/00123", iban=STRANGER_IBAN,
                                  name="BAKKERIJ JANSEN BV"))
    assert (decision.status, decision.rule) == (AUTO, RULE_INVOICE_NUMBER)


def test_parent_company_by_name_with_invoice_number_and_exact_amount_reconciles():
    names = (PartnerName(PIETERS, "Pieters Installatie"), PartnerName(HOLDING, "Pieters Holding B.V."))
    engine = matcher(item(1, 5000, name="INV/2026/00123", partner=PIETERS), names=names)
    decision = engine.decide(line(5000, "INV/2026/00123 namens dochter", iban=STRANGER_IBAN,
                                  name="Pieters Holding BV"))
    assert decision.status == AUTO


def test_partial_payment_by_a_known_customer_with_a_polis_number_is_proposed():
    engine = matcher(item(1, 5000, name="INV/2026/00123"))
    decision = engine.decide(line(2000, "dossier 2026-00123", iban=IBAN_JANSEN))
    assert decision.status == PROPOSE and decision.proposal_item_ids == (1,)
    decision = engine.decide(line(2000, "polis INV-2026-00123", iban=IBAN_JANSEN))
    assert decision.status == PROPOSE and decision.proposal_item_ids == (1,)


def test_partial_payment_by_a_known_customer_naming_the_invoice_reconciles():
    engine = matcher(item(1, 5000, name="INV/2026/00123"))
    decision = engine.decide(line(2000, "factuur 2026-00123 eerste termijn", iban=IBAN_JANSEN))
    assert decision.status == AUTO and decision.is_partial


@pytest.mark.parametrize("text", [
    "deelbetaling 2026/00123", "Uw kenmerk: factuur 2026-00123", "restant nota 2026-00123",
])
def test_partial_payment_by_a_known_customer_saying_what_it_pays_reconciles(text):
    engine = matcher(item(1, 5000, name="INV/2026/00123"))
    decision = engine.decide(line(2000, text, iban=IBAN_JANSEN))
    assert decision.status == AUTO and decision.is_partial


@pytest.mark.parametrize("text", [
    "kenmerk 2026-00123", "dossier 2026/00123 deelbetaling", "polis 2026-00123", "d.d. 2026-00123",
    "Uw order 2026-00123", "2026-00123",
])
def test_partial_payment_with_another_kind_of_number_is_proposed(text):
    engine = matcher(item(1, 5000, name="INV/2026/00123"))
    decision = engine.decide(line(2000, text, iban=IBAN_JANSEN))
    assert decision.status != AUTO
    assert decision.status == NOTHING or decision.proposal_item_ids == (1,)


def test_partial_payment_by_reference_from_an_unknown_payer_is_proposed():
    engine = matcher(item(1, 5000, reference=KENMERK_A))
    decision = engine.decide(line(2000, KENMERK_A, iban=STRANGER_IBAN, name="Onbekend"))
    assert decision.status == PROPOSE and decision.proposal_item_ids == (1,)


def test_parent_company_with_reference_and_exact_amount_reconciles():
    engine = matcher(item(1, 5000, reference=KENMERK_A, partner=PIETERS))
    decision = engine.decide(line(5000, f"{spaced(KENMERK_A)} namens dochter", iban=IBAN_HOLDING))
    assert decision.status == AUTO


def test_one_payment_for_two_invoices_naming_one_proposes_both():
    engine = matcher(item(1, 5000, name="INV/2026/00123"), item(2, 2500, name="INV/2026/00130"),
                     item(3, 9900, name="INV/2026/00131"))
    decision = engine.decide(line(7500, "factuur INV/2026/00123", iban=IBAN_JANSEN))
    assert decision.status == PROPOSE
    assert set(decision.proposal_item_ids) == {1, 2}


def test_known_iban_paying_two_invoices_at_once_proposes_both():
    engine = matcher(item(1, 5000), item(2, 2500), item(3, 9900))
    decision = engine.decide(line(7500, "betaling", iban=IBAN_JANSEN))
    assert decision.status == PROPOSE
    assert set(decision.proposal_item_ids) == {1, 2}


def test_parent_company_paying_by_iban_only_proposes_the_daughters_invoice():
    engine = matcher(item(1, 5000, partner=PIETERS), item(2, 7000, partner=PIETERS))
    decision = engine.decide(line(5000, "betaling", iban=IBAN_HOLDING))
    assert decision.status == PROPOSE and decision.proposal_item_ids == (1,)


def test_customer_paying_by_iban_with_an_order_number_colliding_with_another_invoice():
    # A known customer pays its own invoice; its order number happens to be
    # the sequence of someone else's invoice: that is no reference to it.
    engine = matcher(item(1, 5000), item(2, 7300, name="INV/2026/00412", partner=PIETERS))
    decision = engine.decide(line(5000, "Order 2026-00412 d.d. 03-09-2026", iban=IBAN_JANSEN))
    assert (decision.status, decision.rule) == (AUTO, RULE_IBAN)
    assert decision.allocations[0].item_id == 1


# A counterexample of a random property search: a known payer's own file
# number that is also the sequence of its invoice, the amount that invoice's
# (the payer has two of that amount, so the IBAN rule cannot choose).
@pytest.mark.parametrize("text", ["Dossier 2026/00003", "Schade-uitkering dossier 2026/00003 d.d. 19-09-2026",
                                  "Polis 2026-00003", "Uw order 2026/00003", "kenmerk 2026/00003"])
def test_invoice_number_in_a_dossier_context_is_never_certain(text):
    engine = matcher(item(3, 25000, name="INV/2026/00003"), item(4, 25000, name="INV/2026/00004"))
    decision = engine.decide(line(25000, text, iban=IBAN_JANSEN))
    assert decision.status == PROPOSE
    assert not decision.allocations
    assert 3 in decision.proposal_item_ids  # still on the screen as a proposal


def test_invoice_number_in_a_dossier_context_says_why_it_is_only_proposed():
    engine = matcher(item(3, 25000, name="INV/2026/00003"), item(4, 25000, name="INV/2026/00004"))
    decision = engine.decide(line(25000, "Dossier 2026/00003", iban=IBAN_JANSEN))
    parts = dict(decision.reason_args).get("parts", ())
    assert "invoice_other_context" in {decision.reason_code} | {code for code, _args in parts}
    assert "another kind of number" in decision.reason


def test_invoice_number_in_an_invoice_context_from_a_known_payer_still_reconciles():
    engine = matcher(item(3, 25000, name="INV/2026/00003"), item(4, 25000, name="INV/2026/00004"))
    for text in ("Factuur 2026/00003", "uw kenmerk: factuur 2026/00003", "2026/00003"):
        decision = engine.decide(line(25000, text, iban=IBAN_JANSEN))
        assert decision.status == AUTO, text
        assert [a.item_id for a in decision.allocations] == [3]


# --------------------------------------------------------------------------
# Reasons stored as English text by older versions (the migration reads them)
# --------------------------------------------------------------------------


def test_every_english_reason_is_read_back_as_its_code_and_parameters():
    import re as _re

    from l10n_nl_bankkoppeling.tools.matching import LEGACY_REASONS, REASONS, parse_reason

    for code, template in {**REASONS, **LEGACY_REASONS}.items():
        if code == "conflict":
            continue
        args = {name: f"X{index}-{name}" for index, name in enumerate(_re.findall(r"\{(\w+)\}", template))}
        if "invoices" in args:
            args["invoices"] = "INV/2026/00001, INV/2026/00002"
        text = template.format(**args)
        assert parse_reason(text) == (code, args), text


def test_a_conflict_is_read_back_with_its_parts_also_when_a_part_holds_a_semicolon():
    from l10n_nl_bankkoppeling.tools.matching import parse_reason, render_reason

    parts = (("invoice_sum_others", (("invoices", "INV/2026/00007"),)),
             ("text_rule", (("rule_name", "Bankkosten"),)))
    text = render_reason("conflict", (("parts", parts),))
    code, args = parse_reason(text)
    assert code == "conflict"
    assert args == {"parts": [["invoice_sum_others", {"invoices": "INV/2026/00007"}],
                              ["text_rule", {"rule_name": "Bankkosten"}]]}


def test_a_text_that_is_no_reason_of_ours_is_not_read_as_one():
    from l10n_nl_bankkoppeling.tools.matching import parse_reason

    assert parse_reason("Batch PO/2026/0001: 12 payments") is None
    assert parse_reason("Handmatig afgeletterd") is None
    assert parse_reason("") is None
    assert parse_reason("The line fits several answers: something else") is None
