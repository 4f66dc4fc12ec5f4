"""The one IBAN helper and the one "no end-to-end id" list."""

import pytest

from l10n_nl_bankkoppeling.tools import bank_http, ibans, placeholders

GOOD = "NL91ABNA0417164300"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("NL91 ABNA 0417 1643 00", GOOD),
        (" nl91abna\t0417164300\n", GOOD),
        ("NL91-ABNA-0417-1643-00", GOOD),
        ("", None),
        ("   ", None),
        (None, None),
        (417164300, None),
    ],
)
def test_compact(value, expected):
    assert ibans.compact(value) == expected


def test_bank_http_compact_iban_is_the_same_helper():
    assert bank_http.compact_iban is ibans.compact


def test_validity_checks_the_check_digits():
    assert ibans.is_valid("nl91 abna 0417 1643 00")
    assert not ibans.is_valid("NL92ABNA0417164300")
    assert not ibans.is_valid(None)
    assert not ibans.is_valid("")


def test_validate_returns_compact_or_names_the_iban():
    assert ibans.validate("NL91 ABNA 0417 1643 00") == GOOD
    with pytest.raises(ibans.IbanError, match="NL92 ABNA 0417 1643 00 is not a valid IBAN"):
        ibans.validate("nl92abna0417164300")
    with pytest.raises(ibans.IbanError, match="No IBAN"):
        ibans.validate("  ")


def test_format_groups_of_four():
    assert ibans.format_iban(" nl91abna0417164300") == "NL91 ABNA 0417 1643 00"
    assert ibans.format_iban(None) == ""


def test_same_account_however_spaced():
    assert ibans.same("NL91 ABNA 0417 1643 00", "nl91abna0417164300")
    assert not ibans.same(GOOD, "NL81INGB0002345671")
    assert not ibans.same(None, None)
    assert not ibans.same("", "")


@pytest.mark.parametrize(
    "value", ["NOTPROVIDED", "notprovided", " Not Provided ", "NONREF", "NOTAVAILABLE"]
)
def test_placeholders_are_no_end_to_end_id(value):
    assert placeholders.is_placeholder(value)
    assert placeholders.end_to_end_id(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(" E2E-1 ", "E2E-1"), ("", None), (None, None), (7, None), ("NOTPROVIDED-1", "NOTPROVIDED-1")],
)
def test_end_to_end_id_keeps_real_ids(value, expected):
    assert placeholders.end_to_end_id(value) == expected
