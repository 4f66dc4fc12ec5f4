"""Payment references in bank transaction texts: the labelled corpus and
each rule on its own."""

import dataclasses
import doctest
import json
from pathlib import Path

import pytest

from l10n_nl_bankkoppeling.tools import betalingskenmerk, references
from l10n_nl_bankkoppeling.tools.references import (
    InvoiceKey,
    Reference,
    extract_references,
    invoice_number_key,
)

CORPUS_PATH = Path(__file__).resolve().parent.parent / "data" / "reference_corpus.json"
CORPUS = json.loads(CORPUS_PATH.read_text(encoding="utf-8"))
SPEC_WEIGHTS = [2, 4, 8, 5, 10, 9, 7, 3, 6, 1]


def valid_by_hand(number):
    """The specification's check, written apart from the module."""
    if len(number) == 7:
        return True
    if len(number) not in (9, 10, 11, 12, 13, 14, 16):
        return False
    if len(number) < 15 and int(number[1]) != (len(number) - 2) % 10:
        return False
    total = sum(
        SPEC_WEIGHTS[i % 10] * int(d) for i, d in enumerate(reversed(number[1:]))
    )
    return int(number[0]) == {10: 1, 11: 0}.get(11 - total % 11, 11 - total % 11)


def found(text, structured=None):
    return [(ref.kind, ref.value) for ref in extract_references(text, structured)]


def wrap(text, width=32):
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


# --------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------


def test_corpus_size_and_traps():
    assert len(CORPUS) >= 200
    assert sum(1 for entry in CORPUS if entry["trap"]) >= 60
    assert all(not entry["expected"] for entry in CORPUS if entry["trap"])
    assert len({entry["id"] for entry in CORPUS}) == len(CORPUS)


def test_corpus_covers_every_bank_style_and_kind():
    styles = {entry["style"] for entry in CORPUS}
    assert {"ing", "abnamro", "abnamro_fixed", "mt940", "camt", "card"} <= styles
    kinds = {ref["kind"] for entry in CORPUS for ref in entry["expected"]}
    assert kinds == {"betalingskenmerk", "rf", "invoice_number", "end_to_end"}
    assert any("<br>" in entry["text"] for entry in CORPUS)
    assert any("/REMI/STRD/CUR/" in entry["text"].replace("\n", "") for entry in CORPUS)
    assert any("KENMERK:" in entry["text"] for entry in CORPUS)


def test_corpus_betalingskenmerken_are_valid_by_the_spec_not_just_by_the_module():
    kenmerken = [
        ref["value"]
        for entry in CORPUS
        for ref in entry["expected"]
        if ref["kind"] == "betalingskenmerk"
    ]
    assert all(valid_by_hand(value) for value in kenmerken)
    lengths = {len(value) for value in kenmerken}
    assert {7, 9, 10, 11, 12, 13, 14, 16} <= lengths
    # Independently known numbers, not produced by generate().
    for public in (
        "5000056789012345",
        "0123456789012345",
        "1000000000000006",
        "271234567",
    ):
        assert public in kenmerken


def test_corpus_traps_include_the_public_invalid_samples():
    traps = " ".join(entry["text"] for entry in CORPUS if entry["trap"])
    assert "5010012368971337" in traps.replace(" ", "")
    assert "1234 5678 1234 5678" in traps
    assert "BEA   NR:5GYV99   12.09.19/16.17 Deli Company BV AMSTERDA,PAS321" in traps


@pytest.mark.parametrize("entry", CORPUS, ids=[entry["id"] for entry in CORPUS])
def test_corpus_entry(entry):
    result = extract_references(entry["text"], entry.get("structured"))
    got = [
        {"kind": ref.kind, "value": ref.value, "source": ref.source} for ref in result
    ]
    assert got == entry["expected"], entry.get("note", "")


# --------------------------------------------------------------------------
# Betalingskenmerk in text
# --------------------------------------------------------------------------

KENMERK = "5000056789012345"


@pytest.mark.parametrize(
    "typed",
    [
        "5000056789012345",
        "5000 0567 8901 2345",
        "5000.0567.8901.2345",
        "5000-0567-8901-2345",
        "5000  0567  8901  2345",
        "5000\u00a00567\u00a08901\u00a02345",
    ],
)
def test_kenmerk_typed_with_separators(typed):
    result = extract_references(f"Betaling {typed} dank")
    assert [(ref.kind, ref.value, ref.source) for ref in result] == [
        ("betalingskenmerk", KENMERK, "text")
    ]


@pytest.mark.parametrize(
    "number",
    [
        "5010012368971337",
        "5010 0123 6897 1337",
        "1234567812345678",
        "5000 0567 8901 2346",
        "1234567",
        "12345678",
        "123456789012345",
    ],
)
def test_no_kenmerk_without_valid_check_digit(number):
    assert found(f"Omschrijving: betaling {number}") == []


def test_shorter_forms_with_length_code():
    for length in (9, 10, 11, 12, 13, 14):
        number = betalingskenmerk.generate(4711, length)
        assert found(f"kenmerk {number}") == [("betalingskenmerk", number)]
        assert found(f"kenmerk {betalingskenmerk.format(number)}") == [
            ("betalingskenmerk", number)
        ]


def test_wrong_length_code_in_text_is_no_reference():
    rest = "5" + "0000123"
    total = sum(SPEC_WEIGHTS[i % 10] * int(d) for i, d in enumerate(reversed(rest)))
    number = str({10: 1, 11: 0}.get(11 - total % 11, 11 - total % 11)) + rest
    assert found(f"kenmerk {number}") == []


def test_kenmerk_not_taken_from_inside_iban_or_vat_number():
    assert found("NL91ABNA0417164300 NL123456789B01") == []
    assert found(f"NL12ABNA{KENMERK}") == []


@pytest.mark.parametrize(
    "iban",
    [
        "NL91 ABNA 0417 1643 00",
        "DE89 3704 0044 0532 0130 00",
        "BE68539007547034",
        "NL00 0000 5000 0567 8901 2345",
    ],
)
def test_nothing_taken_from_an_iban(iban):
    assert found(f"naar rekening {iban} dank") == []


def test_kenmerk_next_to_a_date_with_other_separators():
    assert found(f"21-11-2026 {betalingskenmerk.format(KENMERK)}") == [
        ("betalingskenmerk", KENMERK)
    ]


def test_seven_digit_kenmerk_only_when_structured():
    assert found("klant 1234567") == []
    assert found("", structured="1234567") == [("betalingskenmerk", "1234567")]
    assert found("/REMI/STRD/CUR/1234567/") == [("betalingskenmerk", "1234567")]


def test_phone_number_that_passes_the_check_is_not_taken():
    phone = next(
        betalingskenmerk.generate(n, 10)
        for n in range(81234567, 89999999)
        if betalingskenmerk.generate(n, 10).startswith("08")
    )
    assert found(f"bel ons: tel {phone}") == []
    assert found(f"kenmerk {phone}") == [("betalingskenmerk", phone)]


# --------------------------------------------------------------------------
# ABN AMRO 32-column lines, MT940 65-column lines
# --------------------------------------------------------------------------


@pytest.mark.parametrize("cut", range(1, 19))
def test_kenmerk_cut_across_32_column_lines_at_every_position(cut):
    printed = betalingskenmerk.format(KENMERK)
    lead = "OMSCHRIJVING: " + "X" * (18 - cut) + " "
    lines = wrap(lead + printed + " DANK")
    assert (
        lines.split("\n")[0].endswith(printed[: cut - 1] if cut > 1 else " ")
        or cut == 1
    )
    assert found("SEPA OVERBOEKING\nNAAM: JANSEN BV\n" + lines) == [
        ("betalingskenmerk", KENMERK)
    ]


@pytest.mark.parametrize("cut", range(1, 15))
def test_invoice_number_cut_across_lines_at_every_position(cut):
    lines = wrap("OMSCHRIJVING: " + "Y" * (18 - cut) + " INV/2026/00123 DANK")
    assert found(lines) == [("invoice_number", "INV/2026/123")]


def test_not_provided_cut_across_mt940_lines_is_no_end_to_end_id():
    text = "/TRTP/SEPA OVERBOEKING/IBAN/NL91ABNA0417164300/BIC/ABNANL2A/NAME/X/EREF/NOTPROVIDED"
    for width in (32, 65):
        text_wrapped = wrap(
            "/REMI/FACTUUR 77" + "Z" * (width - 16 - 6 - 3) + "/EREF/NOTPROVIDED", width
        )
        assert ("end_to_end", "NOTPROVIDED") not in found(text_wrapped)
    assert found(wrap(text, 65)) == []


def test_ing_br_is_a_field_end_not_a_wrap():
    name = "Naam: Restaurant De Gouden Leeuw"  # exactly 32 characters
    assert len(name) == 32
    text = f"{name}<br>Omschrijving: factuur 123<br>IBAN: NL91ABNA0417164300"
    assert found(text) == [("invoice_number", "123")]


def test_abn_fixed_columns_with_a_full_name_column():
    text = (
        "SEPA OVERBOEKING                IBAN: NL69INGB0123456789        "
        "NAAM: RESTAURANT DE GOUDEN LEEUWOMSCHRIJVING: FACTUUR 2024"
    )
    assert found(text) == [("invoice_number", "2024")]


# --------------------------------------------------------------------------
# MT940 / camt tags
# --------------------------------------------------------------------------


def test_ing_mt940_structured_and_end_to_end():
    text = (
        "/EREF/E2E-77//CNTP/NL91ABNA0417164300/ABNANL2A/Jansen BV/Amsterdam"
        f"/REMI/STRD/CUR/{KENMERK}/"
    )
    result = extract_references(text)
    assert [(ref.kind, ref.value, ref.source) for ref in result] == [
        ("betalingskenmerk", KENMERK, "structured"),
        ("end_to_end", "E2E-77", "text"),
    ]


@pytest.mark.parametrize("prefix", [":86:", ""])
def test_mt940_tag_text_cut_anywhere_by_the_65_column_lines(prefix):
    body = (
        "/RTRN/MS03//EREF/20260317004455//CNTP/NL69INGB0123456789/INGBNL2A/P. de Vries"
        f"///REMI/USTD//Factuurnr 204411 kenmerk {betalingskenmerk.format(KENMERK)}/"
    )
    lines = wrap(":86:" + body, 65).split("\n")
    lines[0] = lines[0][4 - len(prefix) :]  # the bank client may strip ":86:"
    assert "/REM" in lines[1] or "/REMI/" in lines[1]
    assert found("\n".join(lines)) == [
        ("betalingskenmerk", KENMERK),
        ("invoice_number", "204411"),
        ("end_to_end", "20260317004455"),
    ]


def test_invalid_structured_kenmerk_is_dropped():
    assert found("/REMI/STRD/CUR/5010012368971337/") == []
    assert found("", structured="5010012368971337") == []


def test_structured_rf():
    assert found("/REMI/STRD/ISO/RF18539007547034/") == [("rf", "RF18539007547034")]
    assert found("", structured="RF18 5390 0754 7034") == [("rf", "RF18539007547034")]


def test_tag_values_other_than_remittance_are_not_read():
    text = (
        f"/TRTP/SEPA OVERBOEKING/IBAN/NL91ABNA0417164300/BIC/ABNANL2A/NAME/INV 2026-00123 BV"
        f"/MARF/{KENMERK}/REMI/bedankt/EREF/NOTPROVIDED"
    )
    assert found(text) == []


@pytest.mark.parametrize(
    "eref",
    [
        "/EREF/NOTPROVIDED",
        "EREF: NOTPROVIDED",
        "KENMERK: NOTPROVIDED",
        "Kenmerk: NOT PROVIDED",
        "/EREF/notprovided//CNTP/x",
    ],
)
def test_not_provided_is_never_an_end_to_end_id(eref):
    assert found(eref) == []


def test_end_to_end_from_labels():
    assert found("EREF: 20261121-77") == [("end_to_end", "20261121-77")]
    assert found("SEPA OVERBOEKING KENMERK: ABC-123") == [("end_to_end", "ABC-123")]
    # A payer writing "uw kenmerk:" in the description is not the bank's field.
    assert found("Omschrijving: uw kenmerk: 12") == []


# --------------------------------------------------------------------------
# RF
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "RF18539007547034",
        "RF18 5390 0754 7034",
        "rf18 5390 0754 7034",
        "RF18-5390-0754-7034",
    ],
)
def test_rf_in_text(typed):
    assert found(f"betaling {typed} dank") == [("rf", "RF18539007547034")]


def test_invalid_rf_is_no_reference():
    assert found("betaling RF19 5390 0754 7034") == []


# --------------------------------------------------------------------------
# Invoice numbers
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, key",
    [
        ("INV/2026/00123", InvoiceKey(123, 2026, "INV")),
        ("inv 2026-00123", InvoiceKey(123, 2026, "INV")),
        ("INV2026-00123", InvoiceKey(123, 2026, "INV")),
        ("factuur 123", InvoiceKey(123)),
        ("Factuur: 123", InvoiceKey(123)),
        ("fact.nr. 2026/00123", InvoiceKey(123, 2026)),
        ("factuurnummer 2026-00123", InvoiceKey(123, 2026)),
        ("F2026-0123", InvoiceKey(123, 2026, "F")),
        ("nota 4711", InvoiceKey(4711)),
        ("Invoice no. 4711", InvoiceKey(4711)),
        ("INV/2026/03/0012", InvoiceKey(12, 2026, "INV", 3)),
        ("factuur 20260123", InvoiceKey(123, 2026)),
    ],
)
def test_invoice_numbers_as_customers_type_them(typed, key):
    result = extract_references(f"betaling {typed} dank")
    assert [(ref.kind, ref.invoice_key) for ref in result] == [("invoice_number", key)]
    assert result[0].value == str(key)


@pytest.mark.parametrize(
    "text",
    [
        "Huur Kerkstraat 12 1234 AB Utrecht",
        "factuur 1234 AB Amsterdam",
        "factuur 21-11-2026",
        "factuur 12 november",
        "factuur 123,45",
        "Premie 2026-11",
        "Consult op 2026-11-21",
        "Terugbetaling EUR 1.234,56",
        "om 16:17",
        "KvK 12345678",
        "Tel 06-12345678",
        "Huur Kerkstraat 2026 123",
        "Contributie november 2026",
        "BEA NR:CT202601 21.11.26/09.15",
    ],
)
def test_no_invoice_number_in_traps(text):
    assert found(text) == []


def test_several_invoices_in_one_payment():
    assert found("INV/2026/00042 + INV/2026/00043") == [
        ("invoice_number", "INV/2026/42"),
        ("invoice_number", "INV/2026/43"),
    ]


@pytest.mark.parametrize(
    "text, numbers",
    [
        ("facturen 1203, 1204 en 1207", ["1203", "1204", "1207"]),
        ("nota 4711 & 4712 + 4713", ["4711", "4712", "4713"]),
        ("factuur 123, 45 euro", ["123"]),
        ("factuur 1234 en 1235 AB Utrecht", ["1234"]),
    ],
)
def test_invoice_numbers_listed_after_one_keyword(text, numbers):
    assert found(text) == [("invoice_number", number) for number in numbers]


@pytest.mark.parametrize(
    "name, key",
    [
        ("INV/2026/00123", InvoiceKey(123, 2026, "INV")),
        ("RINV/2026/00001", InvoiceKey(1, 2026, "RINV")),
        ("INV/2026/03/0012", InvoiceKey(12, 2026, "INV", 3)),
        ("F2026-0123", InvoiceKey(123, 2026, "F")),
        ("2026/0007", InvoiceKey(7, 2026)),
        ("FACT/00042", InvoiceKey(42)),
        ("/", None),
        ("INV/2026/", None),
        (None, None),
        ("x" * 1000 + "1", None),
    ],
)
def test_invoice_number_key_of_odoo_names(name, key):
    assert invoice_number_key(name) == key


@pytest.mark.parametrize(
    "typed, name, same",
    [
        ("inv 2026-00123", "INV/2026/00123", True),
        ("factuur 123", "INV/2026/00123", True),
        ("fact.nr. 2026/00123", "INV/2026/00123", True),
        ("factuur 124", "INV/2026/00123", False),
        ("INV/2025/00123", "INV/2026/00123", False),
        ("RINV/2026/00123", "INV/2026/00123", False),
        ("INV/2026/03/0012", "INV/2026/04/0012", False),
    ],
)
def test_matching_a_typed_number_with_an_odoo_invoice_name(typed, name, same):
    typed_key = extract_references(typed)[0].invoice_key
    assert typed_key.matches(invoice_number_key(name)) is same
    assert invoice_number_key(name).matches(typed_key) is same


# --------------------------------------------------------------------------
# Order, deduplication, the Reference object
# --------------------------------------------------------------------------


def test_strongest_first():
    text = (
        "EREF: ORDER-1 factuur 77 INV/2026/00123 "
        f"kenmerk {betalingskenmerk.format(KENMERK)} RF18 5390 0754 7034"
    )
    structured = betalingskenmerk.generate(99)
    kinds = [(ref.kind, ref.source) for ref in extract_references(text, structured)]
    assert kinds == [
        ("betalingskenmerk", "structured"),
        ("betalingskenmerk", "text"),
        ("rf", "text"),
        ("invoice_number", "text"),
        ("invoice_number", "text"),
        ("end_to_end", "text"),
    ]
    invoices = [
        ref.value for ref in extract_references(text) if ref.kind == "invoice_number"
    ]
    assert invoices == ["INV/2026/123", "77"]  # the more specific first


def test_same_reference_twice_is_reported_once_in_its_strongest_place():
    result = extract_references(
        f"kenmerk {KENMERK} nogmaals {KENMERK}", structured=KENMERK
    )
    assert [(ref.value, ref.source) for ref in result] == [(KENMERK, "structured")]


def test_reference_is_frozen_and_keeps_the_raw_text():
    ref = extract_references("betaling 5000.0567.8901.2345")[0]
    assert ref == Reference("betalingskenmerk", KENMERK, "text", "5000.0567.8901.2345")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.value = "1"


@pytest.mark.parametrize(
    "text", [None, 42, b"5000056789012345", ["factuur 123"], "", " ", "\x00" * 10]
)
def test_odd_input_gives_an_empty_answer(text):
    assert extract_references(text) == ()
    assert extract_references(text, structured=12345) == ()


def test_unicode_digits_are_not_references():
    assert found("factuur ١٢٣ kenmerk ٥٠٠٠٠٥٦٧٨٩٠١٢٣٤٥") == []


def test_extraction_never_raises_even_on_internal_errors(monkeypatch, caplog):
    def broken(*args):
        raise RuntimeError("bug")

    monkeypatch.setattr(references, "_views", broken)
    assert extract_references("factuur 123") == ()
    assert "Could not read payment references" in caplog.text


def test_docstring_examples():
    assert doctest.testmod(references).failed == 0
