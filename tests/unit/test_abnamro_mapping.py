"""ABN AMRO Account Information v1 JSON -> BankTransaction and friends."""

import datetime
import json
from decimal import Decimal

import pytest

from account_bank_link_abnamro.tools import abnamro_client, abnamro_mapping
from l10n_nl_bankkoppeling.tools import provider

DOC_LINES = ["SEPA Overboeking", "IBAN: NL91ABNA4966693802", "BIC: INGBNL2A",
             "Naam: Nederlandse Loterij Organi", "satie B.V.", "Kenmerk: 50946165.12345"]


def parse(text):
    return abnamro_client.parse_json(text.encode(), what="test")


def row(**overrides):
    base = {
        "transactionId": "8297K5935164172S0AC", "mutationCode": "654",
        "descriptionLines": DOC_LINES, "transactionTimestamp": "2026-03-04-11:59:35.710",
        "bookDate": "2026-03-04", "balanceAfterMutation": Decimal("6941.18"),
        "counterPartyAccountNumber": "NL91ABNA4966693802",
        "counterPartyName": "Nederlandse Loterij Orga", "amount": Decimal("10.15"),
        "currency": "EUR", "status": "EXECUTED",
    }
    base.update(overrides)
    return base


# ------------------------------------------------------------ rejoining lines


def test_line_of_32_characters_continues_without_separator():
    assert len("Naam: Nederlandse Loterij Organi") == 32
    lines = abnamro_mapping.rejoin_description_lines(DOC_LINES)
    assert lines == ["SEPA Overboeking", "IBAN: NL91ABNA4966693802", "BIC: INGBNL2A",
                     "Naam: Nederlandse Loterij Organisatie B.V.", "Kenmerk: 50946165.12345"]


def test_shorter_line_is_a_line_of_its_own():
    assert abnamro_mapping.rejoin_description_lines(["Omschrijving: factuur", "2026-017"]) == [
        "Omschrijving: factuur", "2026-017"]


def test_text_wrapped_over_three_full_lines():
    text = "Omschrijving: betaling van de facturen 2026-001 2026-002 en 2026-003 dank u"
    lines = [text[i:i + 32] for i in range(0, len(text), 32)]
    assert all(len(line) == 32 for line in lines[:-1])
    assert abnamro_mapping.rejoin_description_lines(lines) == [text]


def test_full_line_followed_by_a_new_field_is_not_glued():
    lines = ["Omschrijving: Factuur 2026-01234", "Kenmerk: 1234"]
    assert len(lines[0]) == 32
    assert abnamro_mapping.rejoin_description_lines(lines) == lines


def test_padded_full_line_ending_in_space_is_not_glued():
    lines = ["SEPA Overboeking".ljust(32), "IBAN: NL91ABNA4966693802"]
    assert abnamro_mapping.rejoin_description_lines(lines) == ["SEPA Overboeking",
                                                               "IBAN: NL91ABNA4966693802"]


def test_last_line_of_32_characters_is_kept():
    lines = ["x" * 32]
    assert abnamro_mapping.rejoin_description_lines(lines) == ["x" * 32]


def test_empty_and_missing_lines():
    assert abnamro_mapping.rejoin_description_lines(None) == []
    assert abnamro_mapping.rejoin_description_lines(["", "  ", "a"]) == ["a"]


# ------------------------------------------------------------- SEPA rows


def test_protocol_doc_example_row():
    tx = abnamro_mapping.map_transaction(row())
    assert tx.bank_id == "8297K5935164172S0AC"
    assert tx.booking_date == datetime.date(2026, 3, 4)
    assert tx.amount == Decimal("10.15")
    assert tx.counterparty_name == "Nederlandse Loterij Organisatie B.V."
    assert tx.counterparty_iban == "NL91ABNA4966693802"
    assert tx.counterparty_bic == "INGBNL2A"
    # 50946165.12345 is no valid betalingskenmerk: it stays readable text.
    assert tx.structured_reference is None
    assert tx.remittance_text == "Kenmerk: 50946165.12345"
    assert tx.end_to_end_id == "50946165.12345"
    assert tx.bank_transaction_code == "654"
    assert tx.balance_after == Decimal("6941.18")
    assert not tx.is_card_payment
    json.dumps(tx.raw)


def test_valid_betalingskenmerk_becomes_structured_reference():
    lines = ["SEPA Overboeking", "IBAN: NL91ABNA0417164300", "BIC: ABNANL2A",
             "Naam: Klant BV", "Omschrijving: Factuur 2026-017", "Kenmerk: 5000 0567 8901 2345"]
    tx = abnamro_mapping.map_transaction(row(descriptionLines=lines))
    assert (tx.structured_reference, tx.structured_reference_issuer) == ("5000056789012345", "CUR")
    assert tx.remittance_text == "Factuur 2026-017"


def test_betalingskenmerk_wrapped_over_two_lines_and_kenmerk_as_end_to_end_id():
    fields = ["SEPA Overboeking", "IBAN: NL91ABNA0417164300", "BIC: ABNANL2A", "Naam: Klant BV",
              "Betalingskenmerk: 5000056789012345", "Omschrijving: Factuur 2026-017",
              "Kenmerk: E2E-2026-017"]
    lines = []
    for field in fields:  # the bank's own wrapping: cut at 32, mid-word
        while len(field) > 32:
            lines.append(field[:32])
            field = field[32:]
        lines.append(field)
    assert "45" in lines
    tx = abnamro_mapping.map_transaction(row(descriptionLines=lines))
    assert (tx.structured_reference, tx.structured_reference_issuer) == ("5000056789012345", "CUR")
    assert tx.end_to_end_id == "E2E-2026-017"
    assert tx.remittance_text == "Factuur 2026-017\nKenmerk: E2E-2026-017"


def test_invalid_check_digit_is_not_taken_as_betalingskenmerk():
    lines = ["SEPA Overboeking", "Naam: Klant BV", "Kenmerk: 5010012368971337"]
    tx = abnamro_mapping.map_transaction(row(descriptionLines=lines))
    assert tx.structured_reference is None
    assert "5010012368971337" in tx.remittance_text


def test_rf_reference_is_structured_iso():
    lines = ["SEPA Overboeking", "Naam: Klant BV", "Kenmerk: RF18 5390 0754 7034"]
    tx = abnamro_mapping.map_transaction(row(descriptionLines=lines))
    assert (tx.structured_reference, tx.structured_reference_issuer) == ("RF18539007547034", "ISO")


def test_description_wrapped_over_lines_keeps_all_text():
    lines = ["SEPA Incasso algemeen doorlopend", "Incassant: NL12ZZZ123456780000",
             "Naam: Energiebedrijf", "Machtiging: M-2026-77", "Omschrijving: Termijnbedrag maar",
             "t 2026 klantnummer 1234"]
    tx = abnamro_mapping.map_transaction(row(descriptionLines=lines, mutationCode="247",
                                             amount=Decimal("-120.00")))
    assert tx.remittance_text.splitlines() == [
        "Termijnbedrag maart 2026 klantnummer 1234",
        "Machtiging: M-2026-77",
        "Incassant: NL12ZZZ123456780000",
    ]
    assert tx.counterparty_name == "Energiebedrijf"
    assert tx.amount == Decimal("-120.00")


def test_counterparty_falls_back_to_fields_of_the_record():
    tx = abnamro_mapping.map_transaction(row(descriptionLines=["Rente en/of kosten"],
                                             counterPartyName="ABN AMRO Bank N.V.",
                                             counterPartyAccountNumber=""))
    assert tx.counterparty_name == "ABN AMRO Bank N.V."
    assert tx.counterparty_iban is None
    assert tx.remittance_text == "Rente en/of kosten"


def test_unlabelled_lines_are_all_kept_as_text():
    tx = abnamro_mapping.map_transaction(row(descriptionLines=[
        "ABN AMRO Bank N.V.", "Kosten Zakelijk Betalingsverkeer"], mutationCode="508",
        counterPartyName="", counterPartyAccountNumber=""))
    assert tx.remittance_text == "ABN AMRO Bank N.V.\nKosten Zakelijk Betalingsverkeer"


def test_tagged_description():
    text = ("/TRTP/SEPA OVERBOEKING/IBAN/NL91ABNA0417164300/BIC/ABNANL2A/NAME/Klant BV/"
            "REMI/USTD//Factuur 2026-017/EREF/E2E-1234")
    lines = [text[i:i + 32] for i in range(0, len(text), 32)]
    tx = abnamro_mapping.map_transaction(row(descriptionLines=lines))
    assert tx.counterparty_iban == "NL91ABNA0417164300"
    assert tx.counterparty_name == "Klant BV"
    assert tx.remittance_text == "Factuur 2026-017"
    assert tx.end_to_end_id == "E2E-1234"


# ------------------------------------------------------------- card rows


@pytest.mark.parametrize(
    ("lines", "merchant"),
    [
        (["BEA   NR:5GYV99   12.09.19/16.17", "Deli Company BV AMSTERDA,PAS321"],
         "Deli Company BV AMSTERDA"),
        (["BEA, Betaalpas", "Deli Company BV,PAS321", "NR:5GYV99, 12.09.19/16:17", "AMSTERDAM"],
         "Deli Company BV"),
        (["GEA   NR:0012AB   01.03.26/09.12", " Geldmaat Centrum,PAS321"], "Geldmaat Centrum"),
    ],
)
def test_card_row_counterparty_is_merchant(lines, merchant):
    tx = abnamro_mapping.map_transaction(row(transactionId="", mutationCode="426",
                                             descriptionLines=lines, counterPartyName="",
                                             counterPartyAccountNumber=""))
    assert tx.is_card_payment
    assert tx.counterparty_name == merchant
    assert tx.bank_id is None
    assert tx.remittance_text


def test_card_row_recognised_by_text_without_mutation_code():
    tx = abnamro_mapping.map_transaction(row(mutationCode=None, descriptionLines=[
        "GEA, Betaalpas", "Geldmaat Dam,PAS007"]))
    assert tx.is_card_payment and tx.counterparty_name == "Geldmaat Dam"


def test_empty_transaction_id_is_none():
    assert abnamro_mapping.map_transaction(row(transactionId="")).bank_id is None
    assert abnamro_mapping.map_transaction(row(transactionId="  ")).bank_id is None


# ------------------------------------------------------------- values


def test_amount_from_json_number_is_exact():
    payload = parse('{"accountNumber":"NL12ABNA9999876523","transactions":[{"transactionId":"a",'
                    '"bookDate":"2026-01-02","amount":-0.1,"currency":"EUR","descriptionLines":[]}]}')
    transactions, next_key = abnamro_mapping.map_transactions(payload)
    assert transactions[0].amount == Decimal("-0.1")
    assert next_key is None


def test_float_amount_is_refused():
    with pytest.raises(provider.ProtocolError):
        abnamro_mapping.map_transaction(row(amount=0.1))


def test_timestamp_format():
    moment = abnamro_mapping.parse_timestamp("2018-10-24-11:59:35.710")
    assert moment.replace(tzinfo=None) == datetime.datetime(2018, 10, 24, 11, 59, 35, 710000)
    assert moment.utcoffset() == datetime.timedelta(hours=2)  # CEST


def test_malformed_timestamp_is_protocol_error():
    with pytest.raises(provider.ProtocolError, match="transactionTimestamp"):
        abnamro_mapping.map_transaction(row(transactionTimestamp="2018-10-24T11:59:35"))


def test_missing_book_date_is_protocol_error():
    with pytest.raises(provider.ProtocolError, match="bookDate"):
        abnamro_mapping.map_transaction(row(bookDate=None))


@pytest.mark.parametrize(
    ("valid", "expected"),
    [
        (1554379039, datetime.date(2019, 4, 4)),
        ("1554379039", datetime.date(2019, 4, 4)),
        # 23:30 UTC on 31 March is already 1 April in Amsterdam.
        (int(datetime.datetime(2026, 3, 31, 23, 30, tzinfo=datetime.UTC).timestamp()),
         datetime.date(2026, 4, 1)),
        (None, None),
    ],
)
def test_consent_valid_until_is_amsterdam_date(valid, expected):
    assert abnamro_mapping.consent_valid_until(valid) == expected


def test_page_with_next_key_and_non_executed_rows():
    payload = {"accountNumber": "NL12ABNA9999876523", "nextPageKey": "2018-10-24T11:50:27.810000",
               "transactions": [row(transactionId="x"), row(transactionId="y", status="PENDING")]}
    transactions, next_key = abnamro_mapping.map_transactions(payload)
    assert [t.bank_id for t in transactions] == ["x"]
    assert next_key == "2018-10-24T11:50:27.810000"


def test_page_that_is_not_a_transaction_list_is_protocol_error():
    with pytest.raises(provider.ProtocolError):
        abnamro_mapping.map_transactions({"foo": 1})
    with pytest.raises(provider.ProtocolError):
        abnamro_mapping.map_transactions({"accountNumber": "x", "transactions": ["a"]})


def test_account_from_consent_and_details():
    account = abnamro_mapping.map_account(
        {"iban": "NL12ABNA9999876523", "scopes": "x", "valid": 1},
        {"accountNumber": "NL12ABNA9999876523", "currency": "EUR", "AccountHolderName": "Ons BV"},
    )
    assert (account.resource_id, account.iban, account.holder_name) == (
        "NL12ABNA9999876523", "NL12ABNA9999876523", "Ons BV")


def test_balance():
    balance = abnamro_mapping.map_balance(parse(
        '{"accountNumber":"NL12ABNA9999876523","balanceType":"BOOKBALANCE","amount":-999.99,"currency":"EUR"}'))
    assert balance.amount == Decimal("-999.99") and balance.balance_type == "BOOKBALANCE"
