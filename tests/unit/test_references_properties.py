"""Property tests: any input gets an answer, and the betalingskenmerk
verdicts agree with Odoo's own validator where both apply."""

import importlib.util
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from stdnum import iso11649

from l10n_nl_bankkoppeling.tools import betalingskenmerk, references

ODOO_VALIDATOR_FILE = "odoo/addons/account/tools/structured_reference.py"
VALID_LENGTHS = (7, 9, 10, 11, 12, 13, 14, 16)
DOCUMENTED_ERRORS = (
    betalingskenmerk.InvalidLength,
    betalingskenmerk.InvalidCharacters,
    betalingskenmerk.InvalidLengthCode,
    betalingskenmerk.InvalidCheckDigit,
)


def _odoo_validator_path():
    """Odoo's source: the one setup/test uses, else the reference checkout."""
    roots = [os.environ.get("BANKKOPPELING_ODOO_SRC")]
    spec = importlib.util.find_spec("odoo")
    if spec and spec.submodule_search_locations:
        roots.extend(str(Path(path).parent) for path in spec.submodule_search_locations)
    for root in filter(None, roots):
        if (Path(root) / ODOO_VALIDATOR_FILE).exists():
            return Path(root) / ODOO_VALIDATOR_FILE
    return None


def _load_odoo_validator():
    """Odoo's structured_reference.py needs only ``re`` and stdnum: load it
    by path, no Odoo runtime."""
    path = _odoo_validator_path()
    if path is None:
        pytest.fail(f"Odoo source with {ODOO_VALIDATOR_FILE} not found: run through ./setup/test")
    spec = importlib.util.spec_from_file_location("odoo_structured_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.is_valid_structured_reference_nl


@pytest.fixture(scope="module")
def odoo_is_valid_nl():
    return _load_odoo_validator()


def _length_code_is_right(compact):
    return not 9 <= len(compact) <= 14 or compact[
        1
    ] == betalingskenmerk.calc_length_code(len(compact))


# Digits, the separators payers type, and whitespace Odoo and we both strip.
digitish = st.text(alphabet="0123456789 .-\t\n\u00a0", max_size=24)


def _numbers_of_every_form():
    valid = st.builds(
        betalingskenmerk.generate,
        st.integers(min_value=0, max_value=10**7 - 1),
        st.sampled_from(VALID_LENGTHS),
    )
    mutated = st.tuples(
        valid, st.integers(min_value=0), st.integers(min_value=0, max_value=9)
    ).map(
        lambda item: (
            item[0][: item[1] % len(item[0])]
            + str(item[2])
            + item[0][item[1] % len(item[0]) + 1 :]
        )
    )
    return st.one_of(valid, mutated, digitish, st.from_regex(r"\A[0-9]{6,17}\Z"))


@settings(
    max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(number=_numbers_of_every_form())
@example(number="5000056789012345")
@example(number="5010012368971337")
@example(number="271234567")
@example(number="1234567")
@example(number="12345678")
@example(number="123456789012345")
def test_agrees_with_odoo_where_both_apply(odoo_is_valid_nl, number):
    """Odoo does not strip dots and dashes and does not check the length
    code; apart from that the verdicts are the same."""
    compact = betalingskenmerk.compact(number)
    assume(compact.isdigit() and compact.isascii())
    odoo_verdict = bool(odoo_is_valid_nl(compact))
    if _length_code_is_right(compact):
        assert betalingskenmerk.is_valid(number) == odoo_verdict
    else:
        # Stricter than Odoo on purpose: the specification's length code.
        with pytest.raises(betalingskenmerk.InvalidLengthCode):
            betalingskenmerk.validate(number)


@settings(max_examples=300, deadline=None)
@given(
    number=st.builds(
        betalingskenmerk.generate,
        st.integers(0, 10**7 - 1),
        st.sampled_from(VALID_LENGTHS),
    )
)
def test_odoo_accepts_what_we_generate_also_printed(odoo_is_valid_nl, number):
    assert odoo_is_valid_nl(number)
    assert odoo_is_valid_nl(betalingskenmerk.format(number))  # groups of four, spaces


@settings(max_examples=2000, deadline=None)
@given(
    number=st.one_of(
        st.text(), digitish, st.binary().map(lambda b: b.decode("latin-1"))
    )
)
def test_validate_raises_only_documented_errors(number):
    try:
        result = betalingskenmerk.validate(number)
    except DOCUMENTED_ERRORS:
        assert not betalingskenmerk.is_valid(number)
    else:
        assert result.isdigit() and result.isascii() and len(result) in VALID_LENGTHS
        assert betalingskenmerk.is_valid(number)


@settings(max_examples=500, deadline=None)
@given(base=st.integers(0, 10**15 - 1), length=st.sampled_from(VALID_LENGTHS))
def test_generate_then_validate_and_format_round_trip(base, length):
    capacity = {7: 7, 16: 15}.get(length, length - 2)
    assume(base < 10**capacity)
    number = betalingskenmerk.generate(base, length)
    assert betalingskenmerk.validate(number) == number
    assert int(number[-capacity:]) == base
    assert betalingskenmerk.compact(betalingskenmerk.format(number)) == number


# --------------------------------------------------------------------------
# extract_references on anything
# --------------------------------------------------------------------------

FRAGMENTS = [
    "Naam: ",
    "Omschrijving: ",
    "IBAN: ",
    "Kenmerk: ",
    "KENMERK: ",
    "EREF: ",
    "<br>",
    "\n",
    "/TRTP/",
    "/REMI/",
    "/STRD/CUR/",
    "/REMI/STRD/ISO/",
    "/EREF/",
    "/CNTP/",
    "//",
    "/USTD//",
    "NOTPROVIDED",
    "factuur ",
    "fact.nr. ",
    "INV/2026/00123",
    "F2026-0123",
    "2026-",
    "RF18 ",
    "5390 0754 7034",
    "5000 0567 8901 2345",
    "5010012368971337",
    "NL91ABNA0417164300",
    "1234 AB",
    "21-11-2026",
    "16:17",
    "EUR 1.234,56",
    "tel 06-12345678",
    "+31 20 123 4567",
    "BEA   NR:5GYV99   12.09.19/16.17",
    "PAS321",
    "KvK 12345678",
    " ",
    "  ",
    "-",
    ".",
    "0",
    "7",
    "\x00",
    "\ue000",
    "\ue001",
    "\u00a0",
    "é",
    "٥",
    "𝟓",
]
bank_like_text = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=40
).map("".join)
any_text = st.one_of(st.text(), bank_like_text)


def _check_result(result):
    assert isinstance(result, tuple)
    seen = set()
    for ref in result:
        assert isinstance(ref, references.Reference)
        assert ref.kind in {"betalingskenmerk", "rf", "invoice_number", "end_to_end"}
        assert ref.source in {"structured", "text"}
        assert (ref.kind, ref.value) not in seen
        seen.add((ref.kind, ref.value))
        if ref.kind == "betalingskenmerk":
            assert betalingskenmerk.is_valid(ref.value)
            assert len(ref.value) != 7 or ref.source == "structured"
        elif ref.kind == "rf":
            assert iso11649.is_valid(ref.value)
        elif ref.kind == "invoice_number":
            assert ref.value == str(ref.invoice_key)
            assert references.invoice_number_key(ref.value).matches(ref.invoice_key)
        else:
            assert "NOTPROVIDED" not in ref.value.upper().replace(" ", "")


@settings(
    max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(text=any_text, structured=st.one_of(st.none(), any_text, st.integers()))
def test_extract_answers_anything_without_raising(text, structured):
    # _extract has no safety net: a bug would show here as an exception.
    _check_result(references._extract(text, structured))


@settings(max_examples=500, deadline=None)
@given(
    base=st.integers(0, 10**7 - 1),
    length=st.sampled_from((9, 10, 11, 12, 13, 14, 16)),
    before=st.sampled_from(
        ["", "Betaling ", "Omschrijving: kenmerk ", "/REMI/USTD//", "OMSCHRIJVING: X "]
    ),
    separator=st.sampled_from(["", " ", ".", "-"]),
    after=st.sampled_from(
        ["", " dank", "<br>IBAN: NL91ABNA0417164300", "/EREF/NOTPROVIDED"]
    ),
)
def test_a_typed_kenmerk_is_always_found(base, length, before, separator, after):
    number = betalingskenmerk.generate(base, length)
    typed = betalingskenmerk.format(number, separator) if separator else number
    result = references._extract(before + typed + after)
    assert ("betalingskenmerk", number) in [(ref.kind, ref.value) for ref in result]


@settings(max_examples=300, deadline=None)
@given(
    base=st.integers(0, 10**15 - 1),
    width=st.sampled_from(references.WRAP_WIDTHS),
    padding=st.integers(0, 40),
)
def test_a_kenmerk_cut_by_a_line_wrap_is_found(base, width, padding):
    number = betalingskenmerk.generate(base)
    text = (
        "OMSCHRIJVING: "
        + "X" * padding
        + " "
        + betalingskenmerk.format(number)
        + " DANK"
    )
    wrapped = "\n".join(text[i : i + width] for i in range(0, len(text), width))
    assert ("betalingskenmerk", number) in [
        (ref.kind, ref.value) for ref in references._extract(wrapped)
    ]


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from(["INV", "RINV", "F", "VF", "FAC2"]),
    year=st.integers(2000, 2099),
    sequence=st.integers(1, 99999),
    month=st.one_of(st.none(), st.integers(1, 12)),
)
def test_an_odoo_invoice_name_in_text_matches_its_key(prefix, year, sequence, month):
    month_part = f"/{month:02d}" if month else ""
    name = f"{prefix}/{year}{month_part}/{sequence:05d}"
    found = [
        ref
        for ref in references._extract(f"Omschrijving: betaling {name} dank")
        if ref.kind == "invoice_number"
    ]
    assert found and found[0].invoice_key.matches(references.invoice_number_key(name))
