"""MT940 of ING, ABN AMRO and Rabobank -> BankTransaction (tools/mt940_nl.py),
on the sample files the Odoo tests import too."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from l10n_nl_bankkoppeling.tools import mt940_nl

DATA = Path(__file__).resolve().parents[2] / "l10n_nl_bankkoppeling" / "tests" / "data"
D3, D4 = datetime.date(2026, 3, 3), datetime.date(2026, 3, 4)


def statements(name):
    text, _encoding = mt940_nl.decode_bank_file((DATA / name).read_bytes())
    return mt940_nl.parse_mt940(text)


def fields(tx):
    return (
        tx.booking_date, tx.amount, tx.counterparty_name, tx.counterparty_iban,
        tx.counterparty_bic, tx.remittance_text, tx.structured_reference,
        tx.structured_reference_issuer, tx.end_to_end_id, tx.bank_transaction_code,
        tx.is_card_payment,
    )


def test_ing_statement_and_every_field():
    (st,) = statements("ing.mt940.sta")
    assert (st.bank, st.iban, st.currency, st.number) == ("ing", "NL67INGB0006543210", "EUR", "00063")
    assert (st.opening_balance, st.opening_date) == (Decimal("15250.00"), datetime.date(2026, 3, 2))
    assert (st.closing_balance, st.closing_date) == (Decimal("16704.83"), D4)
    assert st.line == 4
    assert [fields(tx) for tx in st.transactions] == [
        (D3, Decimal("1250.00"), "Van der Meer Installatietechniek B.V.", "NL91ABNA0417164300",
         "ABNANL2A", "", "5000056789012345", "CUR", "E2E-KORENAAR-0117", "00100", False),
        (D3, Decimal("-45.67"), "Drukkerij Van Dijk", "NL02ABNA0123456789", "ABNANL2A",
         "Factuur 2026-0042 klantnr 4711", None, None, None, "00200", False),
        (D3, Decimal("-4.50"), None, None, None,
         "Pasvolgnr: 001 03-03-2026 08:12 Transactie: A1B2C3 Term: A101 Albert Heijn 1234 UTRECHT",
         None, None, None, "00300", False),
        (D4, Decimal("605.00"), "De Groot Advies", "NL20INGB0001234567", "INGBNL2A", "",
         "RF18539007547034", "ISO", None, "00100", False),
        (D4, Decimal("-350.00"), "Vattenfall Klantenservice N.V.", "NL86INGB0002445588",
         "INGBNL2A", "Energie termijnbedrag maart 2026", None, None, "VATT20260304", "01016", False),
    ]
    assert all(tx.bank_id is None and tx.currency == "EUR" for tx in st.transactions)
    assert st.transactions[0].raw["mt940_bank_reference"] == "26062500012345"


def test_abnamro_tagged_fixed_columns_and_card_lines():
    (st,) = statements("abnamro.mt940.sta")
    assert (st.bank, st.iban, st.closing_balance) == ("abnamro", "NL91ABNA0417164300", Decimal("6215.73"))
    assert [fields(tx) for tx in st.transactions] == [
        (D3, Decimal("-12.95"), "ALBERT HEIJN 1584", "NL02ABNA0123456789", "ABNANL2A",
         "Boodschappen 3 maart, fact. 2026/05", None, None, None, "SEPA OVERBOEKING", False),
        (D3, Decimal("3250.50"), "Café De Gouden Leeuw", "NL20INGB0001234567", "INGBNL2A", "",
         "5000056789012345", "CUR", "E2E-LEEUW-77", "SEPA OVERBOEKING", False),
        (D3, Decimal("-6.55"), "Albert Heijn 1234", None, None,
         "BEA, Betaalpas Albert Heijn 1234,PAS123 NR:CT123456, 03.03.26/12:17 UTRECHT",
         None, None, None, "BEA", True),
        (D3, Decimal("-6.55"), "Albert Heijn 1234", None, None,
         "BEA, Betaalpas Albert Heijn 1234,PAS123 NR:CT123457, 03.03.26/12:41 UTRECHT",
         None, None, None, "BEA", True),
        (D4, Decimal("-50.00"), "ABN AMRO BANK NV UTRECHT", None, None,
         "GEA NR:S1J313 04.03.26/09.49 ABN AMRO BANK NV UTRECHT,PAS123",
         None, None, None, "GEA", True),
        (D4, Decimal("-120.00"), "KPN B.V.", "NL86INGB0002445588", "INGBNL2A",
         "Zakelijk Internet + Bellen maart 2026", None, None, "KPN-2026-03-0042",
         "SEPA INCASSO ALGEMEEN DOORLOPEND", False),
        (D4, Decimal("-75.00"), "Drukkerij Van Dijk", "NL02ABNA0123456789", "ABNANL2A", "",
         "1234567890123456", "CUR", None, "SEPA OVERBOEKING", False),
    ]


def test_rabobank_every_field():
    (st,) = statements("rabobank.mt940.sta")
    assert (st.bank, st.iban, st.opening_balance, st.closing_balance) == (
        "rabobank", "NL44RABO0123456789", Decimal("1000.00"), Decimal("1038.05"))
    assert [fields(tx) for tx in st.transactions] == [
        (D3, Decimal("100.00"), "Jan Jansen", "NL91ABNA0417164300", None, "Factuur 2026-0118",
         None, None, "E2E-RABO-001", "541", False),
        (D4, Decimal("-49.95"), "Bakkersgroothandel Bakkersland B.V.", "NL20INGB0001234567",
         None, "", "5000056789012345", "CUR", None, "544", False),
        (D4, Decimal("-12.00"), None, None, None, "Kosten Zakelijk Betalingsverkeer maart 2026",
         None, None, None, "093", False),
    ]


def test_ing_wrapping_mid_word_and_after_a_space():
    # A full first line (61 characters after ":86:") was cut mid-word.
    full = "/EREF/X//CNTP/NL20INGB0001234567/INGBNL2A/Bakkersland Grootha"
    assert len(full) == mt940_nl.LINE_WIDTH - 4
    details = mt940_nl.parse_ing_86(full + "\nndel B.V./UTRECHT///REMI/USTD//x/")
    assert details.counterparty_name == "Bakkersland Groothandel B.V."
    # A shorter line ended in a space that line stripping removed.
    details = mt940_nl.parse_ing_86(
        "/EREF/X//CNTP/NL20INGB0001234567/INGBNL2A/De Groot\nAdvies/HOUTEN///REMI/USTD//x/"
    )
    assert details.counterparty_name == "De Groot Advies"


def test_abnamro_tagged_keeps_slashes_inside_values():
    details = mt940_nl.parse_abnamro_86(
        "/TRTP/SEPA INCASSO ALGEMEEN DOORLOPEND/CSID/NL70XS4332875340001/NAME/XS4ALL"
        " INTERNET B.V./MARF/M10009560656/REMI/FACTUUR 03-12-2019, ZIE XS4ALL.NL/FACTUUR./IBAN/"
        "NL55INGB0004683839/BIC/INGBNL2A/EREF/141201960026294"
    )
    assert details.remittance_text == "FACTUUR 03-12-2019, ZIE XS4ALL.NL/FACTUUR."
    assert details.counterparty_iban == "NL55INGB0004683839"
    assert details.end_to_end_id == "141201960026294"
    assert details.bank_transaction_code == "SEPA INCASSO ALGEMEEN DOORLOPEND"


def test_abnamro_older_card_line():
    details = mt940_nl.parse_abnamro_86("BEA   NR:XXXXXX   02.05.19/13.36 ALBERT HEIJN 1403 AMSTERDAM,PAS123")
    assert (details.counterparty_name, details.bank_transaction_code, details.is_card_payment) == (
        "ALBERT HEIJN 1403 AMSTERDAM", "BEA", True)


@pytest.mark.parametrize(
    "data, encoding",
    [
        ("Café".encode(), "utf-8"),
        ("Café".encode("cp1252"), "cp1252"),
        (b"\xef\xbb\xbf:20:X", "utf-8"),
        (b"Caf\x81", "latin-1"),  # 0x81 is undefined in Windows-1252
    ],
)
def test_decoding_of_mixed_encodings(data, encoding):
    assert mt940_nl.decode_bank_file(data)[1] == encoding


def test_binary_file_is_unreadable_with_its_line():
    with pytest.raises(mt940_nl.BankFileError) as caught:
        mt940_nl.decode_bank_file(b":20:X\r\n:25:Y\r\n\x00\x01\x02")
    assert (caught.value.code, caught.value.line) == ("unreadable", 3)


@pytest.mark.parametrize(
    "line_no, bad",
    [
        (8, ":61:26030X0303C1250,00NTRFEREF//26062500012345"),  # letter in the date
        (7, ":60F:C260302EUR15.250,00"),  # thousands separator
        (9, "some stray text"),  # text after :61:'s one supplementary line is fine,
    ],
)
def test_malformed_lines_are_named(line_no, bad):
    lines = (DATA / "ing.mt940.sta").read_text().splitlines()
    lines[line_no - 1] = bad
    text = "\n".join(lines)
    if line_no == 9:
        # ...but not after a balance line.
        lines = (DATA / "ing.mt940.sta").read_text().splitlines()
        lines.insert(7, "some stray text")
        text, line_no = "\n".join(lines), 8
    with pytest.raises(mt940_nl.BankFileError) as caught:
        mt940_nl.parse_mt940(text)
    assert (caught.value.code, caught.value.line) == ("malformed", line_no)


def test_unknown_tag_and_no_statement():
    with pytest.raises(mt940_nl.BankFileError) as caught:
        mt940_nl.parse_mt940(":20:X\n:25:NL67INGB0006543210EUR\n:99:what\n")
    assert (caught.value.code, caught.value.line) == ("malformed", 3)
    with pytest.raises(mt940_nl.BankFileError) as caught:
        mt940_nl.check_lines("ABNANL2A\n940\n")
    assert caught.value.code == "not_mt940"


def test_statement_without_balances_is_incomplete():
    with pytest.raises(mt940_nl.BankFileError) as caught:
        mt940_nl.parse_mt940(":20:X\n:25:NL67INGB0006543210EUR\n:28C:1\n")
    assert (caught.value.code, caught.value.line) == ("incomplete", 1)


def test_two_statements_in_one_file():
    ing = (DATA / "ing.mt940.sta").read_text().replace("-}", "")
    rabo = (DATA / "rabobank.mt940.sta").read_text().replace(":940:\n", "")
    text = ing + rabo
    rabo_line = text.splitlines().index(":20:940S260304") + 1
    result = mt940_nl.parse_mt940(text)
    assert [(s.iban, len(s.transactions), s.line) for s in result] == [
        ("NL67INGB0006543210", 5, 4), ("NL44RABO0123456789", 3, rabo_line)]


def test_detection():
    assert mt940_nl.looks_like_mt940((DATA / "ing.mt940.sta").read_text())
    assert not mt940_nl.looks_like_mt940((DATA / "ing.camt053.xml").read_text())
    assert mt940_nl.detect_bank("", "517852257") == "other"


def test_content_decides_over_the_account_bank():
    """ING-style :86: in a file of an ABN AMRO account (accounting software
    that writes MT940 itself) is still read field by field."""
    text = (
        ":20:X\n:25:NL91ABNA0417164300EUR\n:28C:1\n:60F:C260302EUR0,00\n"
        ":61:2603030303C10,00NTRFNONREF//1\n"
        ":86:/EREF/E2E-9//CNTP/NL20INGB0001234567/INGBNL2A/De Groot/HOUTEN///REMI/USTD//Factuur 9/\n"
        ":62F:C260303EUR10,00\n"
    )
    (st,) = mt940_nl.parse_mt940(text)
    tx = st.transactions[0]
    assert (st.bank, tx.end_to_end_id, tx.counterparty_iban, tx.remittance_text) == (
        "abnamro", "E2E-9", "NL20INGB0001234567", "Factuur 9")


# --------------------------------------------------------------------------
# Files as the banks write them (issue #16): envelopes, :61: variants,
# statement-level :86:, counterparties and bank detection.
# --------------------------------------------------------------------------


def _statement_text(account, number, opening, closing, lines=(), date="260303"):
    body = [f":20:{number}", f":25:{account}", f":28C:{number}", f":60F:C{date}EUR{opening}"]
    body += list(lines)
    body.append(f":62F:C{date}EUR{closing}")
    return body


def _two(head, tail, account="NL91ABNA0417164300"):
    """Two statements of one account, each wrapped in ``head``/``tail``."""
    first = _statement_text(account, "1", "100,00", "110,00", [
        ":61:2603030303C10,00NTRFNONREF", ":86:/TRTP/SEPA OVERBOEKING/IBAN/NL20INGB0001234567/NAME/A/REMI/een"])
    second = _statement_text(account, "2", "110,00", "105,00", [
        ":61:2603030303D5,00NTRFNONREF", ":86:/TRTP/SEPA OVERBOEKING/IBAN/NL20INGB0001234567/NAME/B/REMI/twee"])
    return "\n".join(head + first + tail + head + second + tail) + "\n"


@pytest.mark.parametrize(
    "head, tail",
    [
        (["ABNANL2A", "940", "ABNANL2A"], []),  # ABN AMRO, before every statement
        (["0000 01INGBNL2AXXXX00001", "0000 01INGBNL2AXXXX00001", "940 00"], []),  # older ING
        (["0000 01FVLBNL22AXXX00042", "940 00"], ["-XXX"]),  # Van Lanschot
        (["0200 13BNGHNL2GXXXX00001", "940 00"], ["-"]),  # BNG Bank
        (["{1:F01KNABNL2HXXXX0000000000}{2:I940KNABNL2HXXXXN}{4:"], ["-}"]),  # Knab
        (["{1:F01ASNBNL21XXXX0000000000}{2:O940ASNBNL21XXXXN}{3:}{4:"], ["-}{5:}"]),  # ASN, SNS
    ],
)
def test_envelope_around_every_statement_is_accepted(head, tail):
    result = mt940_nl.parse_mt940(_two(head, tail))
    assert [(s.number, [tx.amount for tx in s.transactions], s.closing_balance) for s in result] == [
        ("1", [Decimal("10.00")], Decimal("110.00")), ("2", [Decimal("-5.00")], Decimal("105.00"))]
    assert [tx.remittance_text for s in result for tx in s.transactions] == ["een", "twee"]


def test_text_between_statements_that_is_no_envelope_is_refused():
    lines = _two(["ABNANL2A", "940", "ABNANL2A"], []).splitlines()
    second = lines.index(":20:2")
    lines[second - 2] = "940 Overzicht"  # not what the bank writes
    with pytest.raises(mt940_nl.BankFileError) as caught:
        mt940_nl.parse_mt940("\n".join(lines))
    assert (caught.value.code, caught.value.line) == ("malformed", second - 1)


def test_three_letter_type_codes_and_zero_padded_amounts():
    text = "\n".join(_statement_text("NL12TRIO0390123456", "7", "00000000000100,00", "00000000000089,50", [
        ":61:2603030303D00000000000010,50NIT NONREF//TR123",
        ":86:Huur kantoor maart",
        ":61:2603030303C000000000001,25NIC NONREF",
        ":86:Rente",
        ":61:2603030303D1,25NID NONREF",
        ":86:Kosten",
    ]))
    (st,) = mt940_nl.parse_mt940(text)
    assert (st.bank, st.opening_balance, st.closing_balance) == ("triodos", Decimal("100.00"), Decimal("89.50"))
    assert [(tx.amount, tx.bank_transaction_code, tx.remittance_text) for tx in st.transactions] == [
        (Decimal("-10.50"), "NIT", "Huur kantoor maart"), (Decimal("1.25"), "NIC", "Rente"),
        (Decimal("-1.25"), "NID", "Kosten")]
    assert st.transactions[0].raw["mt940_bank_reference"] == "TR123"


def test_volksbank_iban_as_customer_reference_and_name_on_the_next_line():
    pad = " " * 65
    text = "\n".join([
        "{1:F01ASNBNL21XXXX0000000000}{2:O940ASNBNL21XXXXN}{3:}{4:",
        *_statement_text("NL81ASNB0708123456", "1", "500,00", "434,00", [
            ":61:2603030303D65,00NOVBNL47INGB0001234567",
            "Bakkerij de Korenaar",
            ":86:NL47INGB0001234567 Bakkerij de Korenaar",
            pad,
            "Factuur 2026-118 brood en banket" + " " * 33,
            "Order: 2026-03-01T14:32:46-000000000000089-NL47INGB0001234567-Bak",
            "kerij de Korenaar" + " " * 48,
            ":61:2603030303C1,00NIOBNL56RBRB0123456789",
            "j jansen",
            ":86:NL56RBRB0123456789 j jansen",
            "Terugbetaling",
            ":61:2603030303D2,00NDIV",
            ":86: ",
            pad,
            "Kosten gebruik betaalrekening",
        ]),
        "-}{5:}",
    ])
    (st,) = mt940_nl.parse_mt940(text)
    assert st.bank == "asn"
    assert [(tx.amount, tx.counterparty_iban, tx.counterparty_name, tx.remittance_text, tx.bank_transaction_code)
            for tx in st.transactions] == [
        (Decimal("-65.00"), "NL47INGB0001234567", "Bakkerij de Korenaar",
         "Factuur 2026-118 brood en banket Order: 2026-03-01T14:32:46-000000000000089-NL47INGB0001234567-"
         "Bakkerij de Korenaar", "NOVB"),
        (Decimal("1.00"), "NL56RBRB0123456789", "j jansen", "Terugbetaling", "NIOB"),
        (Decimal("-2.00"), None, None, "Kosten gebruik betaalrekening", "NDIV"),
    ]


def test_statement_level_86_and_trailer_stay_off_the_last_transaction():
    ing = (DATA / "ing.mt940.sta").read_text()
    text = ing.replace(":65:C260305EUR16704,83\n-}", ":65:C260305EUR16704,83\n:86:/SUM/2/3/400,17/1855,00/\n-}")
    assert text != ing
    text = text.replace("/REMI/USTD//Energie termijnbedrag maart 2026/",
                        "/REMI/STRD/CUR/1234567890123456/")
    (st,) = mt940_nl.parse_mt940(text + text)[:1]
    last = st.transactions[-1]
    assert (last.structured_reference, last.remittance_text) == ("1234567890123456", "")
    assert "/SUM/" not in last.raw["mt940_86"] and "-}" not in last.raw["mt940_86"]
    assert st.information == "/SUM/2/3/400,17/1855,00/"


def test_bunq_and_knab_counterparties():
    text = "\n".join(_statement_text("NL12BUNQ2025123456", "1", "0,00", "40,00", [
        ":61:2603030303C50,00NTRFNONREF",
        ":86:/IBAN/NL20INGB0001234567/BIC/INGBNL2A/NAME/De Groot Advies/REMI/Factuur 2026-0042/",
        ":61:2603030303D10,00NTRFNONREF",
        ":86:FACTUUR 201403110",
        "REK: NL65INGB0123456789/NAAM: PICQER B.V.",
    ]))
    (st,) = mt940_nl.parse_mt940(text)
    assert st.bank == "bunq"
    assert [(tx.counterparty_iban, tx.counterparty_name, tx.counterparty_bic, tx.remittance_text)
            for tx in st.transactions] == [
        ("NL20INGB0001234567", "De Groot Advies", "INGBNL2A", "Factuur 2026-0042"),
        ("NL65INGB0123456789", "PICQER B.V.", None, "FACTUUR 201403110"),
    ]


def test_bank_of_an_old_account_number_from_the_envelope_not_a_counterparty():
    text = "\n".join(["ABNANL2A", "940", "ABNANL2A", *_statement_text("517852257", "1", "100,00", "25,00", [
        ":61:2603030303D75,00N658NONREF",
        ":86:SEPA OVERBOEKING                 IBAN: NL20INGB0001234567",
        "BIC: INGBNL2A                    NAAM: De Groot Advies",
        "BETALINGSKENM.: 1234567890123456",
    ])])
    (st,) = mt940_nl.parse_mt940(text)
    tx = st.transactions[0]
    assert (st.bank, tx.counterparty_iban, tx.counterparty_name, tx.structured_reference) == (
        "abnamro", "NL20INGB0001234567", "De Groot Advies", "1234567890123456")
    # The file's own account, not the counterparty's, becomes its IBAN.
    assert st.iban == mt940_nl.abnamro_iban("517852257") and st.iban.startswith("NL")
    assert st.iban.endswith("ABNA0517852257")
    assert mt940_nl.detect_bank("0000 01INGBNL2AXXXX00001", "0001234567") == "ing"
    assert mt940_nl.detect_bank("", "NL12KNAB0123456789") == "knab"


def test_volksbank_layout_of_an_old_account_without_envelope():
    text = "\n".join(_statement_text("0123456789", "160", "1234,56", "1214,56", [
        ":61:2603030303D20,00NIOB0987654321", "marechal s", ":86:0987654321 marechal s", " " * 65,
        "dit is een test",
    ]))
    (st,) = mt940_nl.parse_mt940(text)
    tx = st.transactions[0]
    assert (st.bank, tx.counterparty_name, tx.counterparty_iban, tx.remittance_text) == (
        "other", "marechal s", None, "dit is een test")


def test_rabobank_header_names_the_bank_of_an_old_account():
    assert mt940_nl.detect_bank(":940:", "2121.21.211EUR") == "rabobank"
    assert mt940_nl.detect_bank("", "2121.21.211EUR") == "other"


def test_lone_dash_inside_a_description_does_not_end_it():
    text = "\n".join(_statement_text("NL12KNAB0123456789", "1", "10,00", "9,00", [
        ":61:2603030303D1,00NTRFNONREF", ":86:Eerste regel", "-", "tweede regel",
    ]))
    (st,) = mt940_nl.parse_mt940(text)
    assert st.transactions[0].remittance_text == "Eerste regel tweede regel"


def test_abnamro_columns_of_an_old_account_without_envelope():
    text = "\n".join(_statement_text("517852257", "1", "100,00", "25,00", [
        ":61:2603030303D75,00N658NONREF",
        ":86:SEPA OVERBOEKING                 IBAN: NL20INGB0001234567",
        "BIC: INGBNL2A                    NAAM: De Groot Advies",
        "BETALINGSKENM.: 1234567890123456",
    ]))
    (st,) = mt940_nl.parse_mt940(text)
    tx = st.transactions[0]
    assert (st.bank, tx.counterparty_iban, tx.counterparty_name, tx.structured_reference) == (
        "other", "NL20INGB0001234567", "De Groot Advies", "1234567890123456")


def test_86_before_the_first_transaction_is_about_the_statement():
    text = "\n".join(_statement_text("NL67INGB0006543210", "1", "10,00", "9,00", [
        ":86:Rekeningoverzicht maart", ":61:2603030303D1,00NTRFNONREF", ":86:/REMI/USTD//Kosten/",
    ]))
    (st,) = mt940_nl.parse_mt940(text)
    assert (st.information, [tx.remittance_text for tx in st.transactions]) == (
        "Rekeningoverzicht maart", ["Kosten"])


def test_old_abnamro_numbers_become_valid_ibans():
    from stdnum import iban as stdnum_iban

    assert mt940_nl.abnamro_iban("417164300") == "NL91ABNA0417164300"
    assert mt940_nl.abnamro_iban("0417164300EUR") == "NL91ABNA0417164300"
    assert stdnum_iban.is_valid(mt940_nl.abnamro_iban("517852257"))
    assert mt940_nl.abnamro_iban("NL91ABNA0417164300") is None
    assert mt940_nl.abnamro_iban("12345") is None
