"""One transaction identity across the bank link and files
(tools/statement_identity.py): what is the same, what is uncertain."""

import datetime
from decimal import Decimal

from l10n_nl_bankkoppeling.tools import provider
from l10n_nl_bankkoppeling.tools import statement_identity as si

IBAN = "NL91ABNA0417164300"
DAY = datetime.date(2026, 3, 3)
SHOP = None


def ident(amount, cp=None, e2e=None, ref=None, day=DAY):
    return si.identity(IBAN, day, Decimal(amount), cp, e2e, ref)


def existing(line_id, item):
    return si.Existing(line_id, item.group, item.key, item.discriminator)


def test_identity_ignores_wording_ids_and_formatting():
    a = si.identity(IBAN, DAY, Decimal("10.5"), "nl02 abna 0123 4567 89", "E2E-1", None)
    b = si.identity("NL91 ABNA 0417 1643 00", DAY, 10.50, "NL02ABNA0123456789", "E2E-1", None)
    assert a == b
    tx = provider.BankTransaction(
        bank_id="X", booking_date=DAY, amount=Decimal("10.50"), currency="EUR",
        counterparty_iban="NL02ABNA0123456789", end_to_end_id="E2E-1",
        remittance_text="Naam: whatever\nOmschrijving: different words",
    )
    assert si.identity_of(IBAN, tx) == a


def test_identity_differs_by_what_matters():
    base = ident("10.00", "NL02ABNA0123456789", "E2E-1")
    assert ident("-10.00", "NL02ABNA0123456789", "E2E-1").group != base.group
    assert ident("10.00", "NL02ABNA0123456789", "E2E-1", day=DAY.replace(day=4)).group != base.group
    assert ident("10.00", "NL20INGB0001234567", "E2E-1").group != base.group
    other = ident("10.00", "NL02ABNA0123456789", "E2E-2")
    assert (other.group, other.key) == (base.group, other.key) and other.key != base.key
    assert si.identity("NL67INGB0006543210", DAY, 10, "NL02ABNA0123456789", "E2E-1").group != base.group


def test_discriminator_end_to_end_then_reference_then_nothing():
    assert si.discriminator("E2E-1", "5000056789012345") == "e2e:E2E-1"
    assert si.discriminator("NOTPROVIDED", "5000 0567 8901 2345") == "ref:5000056789012345"
    assert si.discriminator(None, "rf18 5390 0754 7034") == "ref:RF18539007547034"
    assert si.discriminator(" ", None) == ""


def test_occurrences_count_identical_keys_in_order():
    items = si.identities([ident("-6.55"), ident("-6.55"), ident("-4.50"), ident("-6.55")])
    assert [i.occurrence for i in items] == [1, 2, 1, 3]
    assert items[0].token != items[1].token
    assert items[0].token.endswith(":1")


def test_equal_counts_are_the_same_transactions():
    batch = si.identities([ident("-6.55"), ident("-6.55"), ident("100", "NL02ABNA0123456789", "E")])
    others = [existing(11, batch[0]), existing(12, batch[1]), existing(13, batch[2])]
    plan = si.plan_against_other_sources(batch, others)
    assert plan.duplicate == {0: 11, 1: 12, 2: 13}
    assert not plan.uncertain and not plan.flag_existing


def test_unequal_counts_are_uncertain_on_both_sides():
    file_side = si.identities([ident("-6.55"), ident("-6.55")])
    link_line = existing(21, file_side[0])
    plan = si.plan_against_other_sources(file_side, [link_line])
    assert plan.duplicate == {}
    assert plan.uncertain == {0, 1}
    assert plan.flag_existing == {21}
    # The other way round: one in the batch, two already there.
    plan = si.plan_against_other_sources(file_side[:1], [existing(1, file_side[0]), existing(2, file_side[1])])
    assert plan.uncertain == {0} and plan.flag_existing == {1, 2}


def test_missing_end_to_end_id_on_one_side_still_matches_one_to_one():
    # ABN AMRO's MT940 without KENMERK vs the link with the end-to-end id.
    file_side = si.identities([ident("-120", "NL86INGB0002445588")])
    link_side = ident("-120", "NL86INGB0002445588", "KPN-1")
    plan = si.plan_against_other_sources(file_side, [existing(5, link_side)])
    assert plan.duplicate == {0: 5}


def test_missing_end_to_end_id_with_several_candidates_is_uncertain():
    file_side = si.identities([ident("-120", "NL86INGB0002445588")])
    others = [existing(5, ident("-120", "NL86INGB0002445588", "KPN-1")),
              existing(6, ident("-120", "NL86INGB0002445588", "KPN-2"))]
    plan = si.plan_against_other_sources(file_side, others)
    assert plan.uncertain == {0} and plan.flag_existing == {5, 6}


def test_different_end_to_end_ids_are_different_payments():
    batch = si.identities([ident("-120", "NL86INGB0002445588", "KPN-2")])
    plan = si.plan_against_other_sources(batch, [existing(5, ident("-120", "NL86INGB0002445588", "KPN-1"))])
    assert not plan.duplicate and not plan.uncertain


def test_nothing_from_other_sources_means_all_new():
    batch = si.identities([ident("1"), ident("2")])
    plan = si.plan_against_other_sources(batch, [])
    assert not plan.duplicate and not plan.uncertain
