"""The scenario generator: deterministic, valid Dutch numbers, realistic mix (no server)."""

import datetime

import pytest
from bank_sandbox import dutch
from bank_sandbox.scenario import Scenario
from stdnum import iban as stdnum_iban
from stdnum import iso11649

TODAY = datetime.date(2026, 11, 21)


@pytest.fixture(scope="module")
def scenario():
    return Scenario({}, today=TODAY)


@pytest.mark.parametrize("reference, valid", [
    ("5000056789012345", True), ("0123456789012345", True), ("1000000000000006", True),
    ("271234567", True), ("1234567", True),
    ("5010012368971337", False), ("1234567812345678", False),
    ("12345678", False), ("123456789012345", False),
])
def test_betalingskenmerk_check_digit_matches_the_protocol_examples(reference, valid):
    assert dutch.is_valid_betalingskenmerk(reference) is valid


def test_generated_kenmerk_is_valid_and_changing_a_digit_breaks_it():
    rng = dutch.seeded("test")
    for _ in range(200):
        reference = dutch.random_betalingskenmerk(rng)
        assert dutch.is_valid_betalingskenmerk(reference)
        body = reference[1:]
        wrong = str((int(reference[0]) + 1) % 10) + body
        assert not dutch.is_valid_betalingskenmerk(wrong)


def test_every_iban_in_the_scenario_is_valid_for_an_independent_validator(scenario):
    ibans = set()
    for bank in ("ing", "abnamro"):
        for account in scenario.accounts[bank]:
            ibans.add(account.iban)
            ibans.update(r["counterparty_iban"] for r in account.booked + account.pending
                         if r.get("counterparty_iban"))
    assert len(ibans) > 20
    for number in ibans:
        assert stdnum_iban.is_valid(number), number


def test_history_is_deterministic_and_stable_when_the_window_slides():
    today = Scenario({}, today=TODAY).accounts["ing"][0]
    tomorrow = Scenario({}, today=TODAY + datetime.timedelta(days=1)).accounts["ing"][0]
    again = Scenario({}, today=TODAY).accounts["ing"][0]
    assert [r["id"] for r in today.booked] == [r["id"] for r in again.booked]
    shared = {r["id"]: r["amount"] for r in today.booked if r["booking_date"] > "2025-11-01"}
    later = {r["id"]: r["amount"] for r in tomorrow.booked if r["booking_date"] > "2025-11-01"
             and r["booking_date"] <= TODAY.isoformat()}
    assert shared == later


def test_generated_references_are_valid_kenmerken_or_rf_references(scenario):
    references = [r["reference"] for a in scenario.accounts["ing"] for r in a.booked if r.get("reference")]
    kenmerken = [ref for ref in references if not ref.startswith("RF")]
    creditor_references = [ref for ref in references if ref.startswith("RF")]
    assert len(kenmerken) > 50 and len(creditor_references) > 3
    assert all(dutch.is_valid_betalingskenmerk(ref) for ref in kenmerken)
    assert all(iso11649.is_valid(ref) for ref in creditor_references)


def test_generated_mix_holds_the_dutch_business_staples(scenario):
    booked = scenario.accounts["abnamro"][0].booked
    descriptions = " ".join(r.get("description") or "" for r in booked)
    names = {r.get("counterparty_name") for r in booked}
    assert "Kosten Zakelijk Betalingsverkeer" in descriptions
    assert "Belastingdienst" in names
    assert "Salaris" in descriptions and "Omzetbelasting" in descriptions
    assert {"sepa", "card", "atm", "ideal", "direct_debit", "costs"} <= {r["kind"] for r in booked}
    assert any(r["amount"] > 0 for r in booked) and any(r["amount"] < 0 for r in booked)


def test_ineligible_accounts_carry_a_dutch_reason(scenario):
    reasons = {a.kind: a.ineligible_reason for a in scenario.accounts["ing"] if not a.eligible}
    assert set(reasons) == {"savings", "foreign_currency", "private"}
    assert all(reasons.values())


def test_wrap_lines_cuts_mid_word_at_32():
    from bank_sandbox.abnamro import wrap_lines

    assert wrap_lines(["Naam: Nederlandse Loterij Organisatie B.V."]) == [
        "Naam: Nederlandse Loterij Organi", "satie B.V."]
    assert len(wrap_lines(["x" * 400])) == 9


def test_history_keeps_its_oldest_days_when_the_clock_passes_midnight():
    """A bank does not forget yesterday's oldest transaction at midnight:
    Odoo has imported it, and the counts must still agree the next day."""
    first = Scenario({}, today=TODAY).accounts["ing"][0]
    next_day = Scenario({}, today=TODAY + datetime.timedelta(days=1),
                        history_since=TODAY).accounts["ing"][0]
    kept = {r["id"] for r in first.booked}
    assert kept <= {r["id"] for r in next_day.booked}
    assert next_day.booked[0]["booking_date"] == first.booked[0]["booking_date"]


def test_state_rebuilt_after_midnight_keeps_every_booked_transaction(tmp_path):
    from bank_sandbox.state import State

    state = State({}, state_dir=tmp_path)
    before = {r["id"] for a in state.current_scenario().accounts["abnamro"] for r in a.booked}
    state.clock_offset += 2 * 86400
    after_scenario = state.current_scenario()
    after = {r["id"] for a in after_scenario.accounts["abnamro"] for r in a.booked}
    assert after_scenario.today > datetime.date.today() - datetime.timedelta(days=1)
    assert before <= after
    # Adding a transaction (what the tests and the demo do) keeps them too.
    iban = after_scenario.accounts["abnamro"][0].iban
    state.add_transactions("abnamro", iban, [{"id": "kept-1", "amount": "1.00", "days_ago": 0}])
    added = {r["id"] for a in state.current_scenario().accounts["abnamro"] for r in a.booked}
    assert before | {"kept-1"} <= added


def test_clock_moved_for_tokens_only_keeps_the_banks_day(tmp_path):
    """Waiting out a token at 23:00 must not bring tomorrow's transactions."""
    from bank_sandbox.state import State

    state = State({}, state_dir=tmp_path)
    today = state.current_scenario().today
    state.clock_offset += 3 * 86400  # what POST /clock {"calendar": false} does
    assert state.current_scenario().today == today
    state.calendar_offset += 3 * 86400
    assert state.current_scenario().today == today + datetime.timedelta(days=3)
