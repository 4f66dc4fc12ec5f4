"""Betalingskenmerk: every rule of the Betaalvereniging specification.

Check digits are also computed here by hand from the specification's
weights, independently of the module, so the tests do not just mirror it.
"""

import doctest

import pytest
from stdnum import exceptions

from l10n_nl_bankkoppeling.tools import betalingskenmerk

SPEC_WEIGHTS = [2, 4, 8, 5, 10, 9, 7, 3, 6, 1]


def check_digit_by_hand(rest):
    """The specification, written out: weights from the rightmost digit."""
    total = sum(SPEC_WEIGHTS[i % 10] * int(d) for i, d in enumerate(reversed(rest)))
    check = 11 - total % 11
    if check == 10:
        return "1"
    if check == 11:
        return "0"
    return str(check)


PUBLIC_VALID = ["5000056789012345", "0123456789012345", "1000000000000006", "271234567"]
PUBLIC_INVALID = ["5010012368971337", "1234567812345678"]


def test_spec_worked_example_sum_is_215():
    rest = "000056789012345"
    assert (
        sum(SPEC_WEIGHTS[i % 10] * int(d) for i, d in enumerate(reversed(rest))) == 215
    )
    assert betalingskenmerk.calc_check_digit(rest) == "5"


@pytest.mark.parametrize("number", PUBLIC_VALID)
def test_public_valid_samples(number):
    assert betalingskenmerk.validate(number) == number
    assert betalingskenmerk.is_valid(number)


@pytest.mark.parametrize("number", PUBLIC_INVALID)
def test_public_invalid_samples_fail_on_check_digit(number):
    with pytest.raises(betalingskenmerk.InvalidCheckDigit):
        betalingskenmerk.validate(number)
    assert not betalingskenmerk.is_valid(number)


@pytest.mark.parametrize(
    "rest",
    [
        "000000020260123",  # 16 digits
        "7" + "0000123",  # 9 digits, length code 7
        "8" + "10000123",  # 10, length code 8
        "9" + "123456789",  # 11, length code 9
        "0" + "2026000123",  # 12, length code 0
        "1" + "20260000789",  # 13, length code 1
        "2" + "202600001234",  # 14, length code 2
    ],
)
def test_hand_computed_numbers_of_every_checked_length(rest):
    number = check_digit_by_hand(rest) + rest
    assert betalingskenmerk.validate(number) == number
    wrong = str((int(number[0]) + 1) % 10) + rest
    with pytest.raises(betalingskenmerk.InvalidCheckDigit):
        betalingskenmerk.validate(wrong)


def test_check_digit_10_becomes_1_and_11_becomes_0():
    seen = set()
    for rest in (f"{n:015d}" for n in range(200)):
        total = sum(SPEC_WEIGHTS[i % 10] * int(d) for i, d in enumerate(reversed(rest)))
        if total % 11 in (0, 1):
            seen.add(total % 11)
            assert (
                betalingskenmerk.calc_check_digit(rest) == {0: "0", 1: "1"}[total % 11]
            )
    assert seen == {0, 1}


@pytest.mark.parametrize("number", ["1234567", "0000000", "9999999"])
def test_seven_digits_have_no_check_digit(number):
    assert betalingskenmerk.validate(number) == number


@pytest.mark.parametrize("length", [1, 6, 8, 15, 17, 20])
def test_lengths_not_allowed(length):
    with pytest.raises(betalingskenmerk.InvalidLength):
        betalingskenmerk.validate("1" * length)


def test_eight_and_fifteen_digits_rejected_even_with_a_matching_check_digit():
    for rest in ("6" + "123456", "3" + "12345678901234"[:13]):
        number = check_digit_by_hand(rest) + rest
        assert len(number) in (8, 15)
        with pytest.raises(betalingskenmerk.InvalidLength):
            betalingskenmerk.validate(number)


def test_wrong_length_code_is_its_own_error():
    rest = "5" + "0000123"  # 9 digits need length code 7, not 5
    number = check_digit_by_hand(rest) + rest
    with pytest.raises(betalingskenmerk.InvalidLengthCode):
        betalingskenmerk.validate(number)


@pytest.mark.parametrize(
    "number",
    [
        "50000567890123A5",
        "5000056789012345€",
        "RF18539007547034",
        "٥٠٠٠٠٥٦٧٨٩٠١٢٣٤٥",
        "5000_0567_8901_2345",
    ],
)
def test_invalid_characters(number):
    # Arabic-Indic digits are digits to Python, not to a bank.
    with pytest.raises(betalingskenmerk.InvalidCharacters):
        betalingskenmerk.validate(number)


def test_empty_is_invalid():
    with pytest.raises(betalingskenmerk.InvalidCharacters):
        betalingskenmerk.validate("")


def test_non_string_is_invalid_characters():
    with pytest.raises(betalingskenmerk.InvalidCharacters):
        betalingskenmerk.validate(5000056789012345)


def test_errors_are_value_errors_with_a_message():
    for error in (
        betalingskenmerk.InvalidLength,
        betalingskenmerk.InvalidCharacters,
        betalingskenmerk.InvalidLengthCode,
        betalingskenmerk.InvalidCheckDigit,
    ):
        assert issubclass(error, ValueError)
        assert issubclass(error, exceptions.ValidationError)
        assert "betalingskenmerk" in str(error())


@pytest.mark.parametrize(
    "typed",
    [
        "5000 0567 8901 2345",
        "5000.0567.8901.2345",
        "5000-0567-8901-2345",
        " 5000056789012345 ",
        "5000\u00a00567\u00a08901\u00a02345",
        "5000\t0567\n8901 2345",
    ],
)
def test_compact_strips_what_payers_type(typed):
    assert betalingskenmerk.compact(typed) == "5000056789012345"
    assert betalingskenmerk.validate(typed) == "5000056789012345"


@pytest.mark.parametrize(
    "number, printed",
    [
        ("5000056789012345", "5000 0567 8901 2345"),
        ("271234567", "2712 3456 7"),
        ("5000.0567.8901.2345", "5000 0567 8901 2345"),
        ("1234567", "1234 567"),
    ],
)
def test_format_groups_of_four(number, printed):
    assert betalingskenmerk.format(number) == printed


@pytest.mark.parametrize("length", [7, 9, 10, 11, 12, 13, 14, 16])
def test_generate_every_length_is_valid_and_keeps_the_base_number(length):
    for base in (0, 1, 42, 123, 2026_00123 % 10**7, 10**7 - 1):
        number = betalingskenmerk.generate(base, length)
        assert len(number) == length
        assert betalingskenmerk.validate(number) == number
        assert int(number[-7:]) == base % 10**7
        if length != 7:
            assert number[0] == check_digit_by_hand(number[1:])
        if 9 <= length <= 14:
            assert number[1] == str((length - 2) % 10)


def test_generate_is_injective_for_one_length():
    numbers = {betalingskenmerk.generate(base) for base in range(5000)}
    assert len(numbers) == 5000


def test_generate_from_invoice_sequence():
    assert (
        betalingskenmerk.generate(123)
        == check_digit_by_hand("000000000000123") + "000000000000123"
    )
    assert betalingskenmerk.generate(1234567, length=9) == "271234567"


@pytest.mark.parametrize("length", [8, 15, 6, 17, 0])
def test_generate_rejects_lengths_not_allowed(length):
    with pytest.raises(betalingskenmerk.InvalidLength):
        betalingskenmerk.generate(1, length)


@pytest.mark.parametrize(
    "base, length", [(-1, 16), (10**15, 16), (10**7, 9), (10**12, 14), (10**7, 7)]
)
def test_generate_rejects_numbers_that_do_not_fit(base, length):
    with pytest.raises(ValueError):
        betalingskenmerk.generate(base, length)


@pytest.mark.parametrize("base", ["123", 1.5, None, True])
def test_generate_needs_an_int(base):
    with pytest.raises(TypeError):
        betalingskenmerk.generate(base)


def test_docstring_examples():
    assert doctest.testmod(betalingskenmerk).failed == 0
