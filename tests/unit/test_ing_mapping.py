"""ING AIS v3 JSON -> BankTransaction / BankAccount / BankBalance."""

import datetime
import json
from decimal import Decimal

import pytest

from account_bank_link_ing.tools import ing_client, ing_mapping
from l10n_nl_bankkoppeling.tools import provider

DOC_EXAMPLE = """{"transactionId":"040506067668852010000000","endToEndId":"NOTPROVIDED",
 "bookingDate":"2026-03-04","valueDate":"2026-03-04","executionDateTime":"2026-03-04T08:12:45Z",
 "transactionAmount":{"currency":"EUR","amount":1250.0},
 "debtorName":"Klant BV","debtorAccount":{"iban":"NL91ABNA0417164300"},
 "transactionType":"Overschrijving",
 "remittanceInformationUnstructured":"Naam: Klant BV<br>Omschrijving: Factuur 2026-017",
 "remittanceInformationStructured":{"type":"SCOR","issuer":"CUR","reference":"5000056789012345"}}"""


def parse(text):
    return ing_client.parse_json(text.encode(), what="test")


def test_protocol_doc_example_maps_every_field():
    tx = ing_mapping.map_transaction(parse(DOC_EXAMPLE))
    assert tx.bank_id == "040506067668852010000000"
    assert tx.booking_date == datetime.date(2026, 3, 4)
    assert tx.value_date == datetime.date(2026, 3, 4)
    assert tx.amount == Decimal("1250.0")
    assert tx.currency == "EUR"
    assert tx.counterparty_name == "Klant BV"
    assert tx.counterparty_iban == "NL91ABNA0417164300"
    assert tx.remittance_text == "Naam: Klant BV\nOmschrijving: Factuur 2026-017"
    assert tx.structured_reference == "5000056789012345"
    assert tx.structured_reference_issuer == "CUR"
    assert tx.end_to_end_id is None
    assert tx.bank_transaction_code == "Overschrijving"
    assert tx.is_card_payment is False
    json.dumps(tx.raw)  # storable as JSON


def test_amount_has_no_float_error():
    raw = parse('{"transactionId":"1","endToEndId":"E","bookingDate":"2026-01-02",'
                '"transactionAmount":{"currency":"EUR","amount":0.1}}')
    tx = ing_mapping.map_transaction(raw)
    assert tx.amount == Decimal("0.1")
    assert tx.amount + Decimal("0.2") == Decimal("0.3")


def test_large_amount_with_many_digits_stays_exact():
    raw = parse('{"transactionId":"1","endToEndId":"E","bookingDate":"2026-01-02",'
                '"transactionAmount":{"currency":"EUR","amount":-9999999999999.99}}')
    assert ing_mapping.map_transaction(raw).amount == Decimal("-9999999999999.99")


def test_amount_parsed_as_float_is_refused():
    raw = json.loads('{"transactionId":"1","endToEndId":"E","bookingDate":"2026-01-02",'
                     '"transactionAmount":{"currency":"EUR","amount":0.1}}')
    with pytest.raises(provider.ProtocolError, match="Decimal"):
        ing_mapping.map_transaction(raw)


def test_debit_takes_the_creditor_as_counterparty():
    raw = parse("""{"transactionId":"2","endToEndId":"E2E-77","bookingDate":"2026-03-05",
      "transactionAmount":{"currency":"EUR","amount":-99.95},
      "creditorName":"Leverancier BV","creditorAccount":{"iban":"NL44 RABO 0123 4567 89","bic":"RABONL2U"},
      "debtorName":"Ons Bedrijf BV","debtorAccount":{"iban":"NL69INGB0123456789"}}""")
    tx = ing_mapping.map_transaction(raw)
    assert tx.counterparty_name == "Leverancier BV"
    assert tx.counterparty_iban == "NL44RABO0123456789"
    assert tx.counterparty_bic == "RABONL2U"
    assert tx.end_to_end_id == "E2E-77"


def test_credit_takes_the_debtor_as_counterparty():
    raw = parse("""{"transactionId":"3","endToEndId":"E","bookingDate":"2026-03-05",
      "transactionAmount":{"currency":"EUR","amount":10},
      "creditorName":"Ons Bedrijf BV","debtorName":"Klant","debtorAccount":{"iban":"NL91ABNA0417164300"}}""")
    tx = ing_mapping.map_transaction(raw)
    assert tx.counterparty_name == "Klant"
    assert tx.amount == Decimal(10)


def test_structured_reference_in_spec_spelling_without_spaces():
    raw = parse("""{"transactionId":"4","endToEndId":"Not Provided","bookingDate":"2026-03-05",
      "transactionAmount":{"currency":"EUR","amount":5.00},
      "remittanceInformationStructured":{"referenceType":"SCOR","referenceIssuer":"ISO","reference":"RF18 5390 0754 7034"}}""")
    tx = ing_mapping.map_transaction(raw)
    assert (tx.structured_reference, tx.structured_reference_issuer) == ("RF18539007547034", "ISO")
    assert tx.end_to_end_id is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Naam: A<br>Omschrijving: B<br>IBAN: NL91ABNA0417164300",
         "Naam: A\nOmschrijving: B\nIBAN: NL91ABNA0417164300"),
        ("één<BR/>twee<br />drie", "één\ntwee\ndrie"),
        ("alleen tekst", "alleen tekst"),
        ("<br>leeg deel<br><br>", "leeg deel"),
        (None, ""),
    ],
)
def test_remittance_parts_become_lines(text, expected):
    assert ing_mapping.remittance_text(text) == expected


@pytest.mark.parametrize(
    ("transaction_type", "text", "card"),
    [
        ("Betaalautomaat", "", True),
        ("Geldautomaat", "", True),
        ("Pinbetaling", "", True),
        ("Card payment", "", True),
        ("Overschrijving", "Pasvolgnr: 001 22-03-2026 13:01 Transactie: X Term: Y", True),
        ("Overschrijving", "Naam: Pinsent BV", False),
        ("iDEAL", "", False),
        (None, "", False),
    ],
)
def test_card_payment_recognised(transaction_type, text, card):
    assert ing_mapping.is_card_payment(transaction_type, text) is card


def test_card_row_counterparty_is_the_merchant():
    raw = parse("""{"transactionId":"5","endToEndId":"NOTPROVIDED","bookingDate":"2026-03-06",
      "valueDate":"2026-03-05","transactionAmount":{"currency":"EUR","amount":-4.50},
      "creditorName":"Deli Company BV","transactionType":"Betaalautomaat",
      "remittanceInformationUnstructured":"Pasvolgnr: 001<br>05-03-2026 12:04<br>Transactie: 1A2B3C"}""")
    tx = ing_mapping.map_transaction(raw)
    assert tx.is_card_payment
    assert tx.counterparty_name == "Deli Company BV"
    assert tx.value_date == datetime.date(2026, 3, 5)


def test_only_booked_transactions_are_mapped():
    payload = parse("""{"transactions":{
      "booked":[{"transactionId":"b1","endToEndId":"E","bookingDate":"2026-03-01","transactionAmount":{"currency":"EUR","amount":1.00}}],
      "pending":[{"transactionId":"p1","endToEndId":"E","transactionAmount":{"currency":"EUR","amount":2.00}}],
      "info":[{"transactionId":"i1","endToEndId":"E","transactionAmount":{"currency":"EUR","amount":3.00}}]}}""")
    assert [t.bank_id for t in ing_mapping.map_transactions(payload)] == ["b1"]


def test_page_without_transactions_object_is_a_protocol_error():
    with pytest.raises(provider.ProtocolError):
        ing_mapping.map_transactions({"account": {}})


def test_booked_row_without_booking_date_is_a_protocol_error():
    raw = parse('{"transactionId":"1","endToEndId":"E","transactionAmount":{"currency":"EUR","amount":1.00}}')
    with pytest.raises(provider.ProtocolError, match="bookingDate"):
        ing_mapping.map_transaction(raw)


def test_row_without_amount_is_a_protocol_error():
    with pytest.raises(provider.ProtocolError):
        ing_mapping.map_transaction(parse('{"transactionId":"1","bookingDate":"2026-01-01"}'))


def test_spec_example_amount_spelling_is_accepted():
    raw = parse('{"transactionId":"t","endToEndId":"E","bookingDate":"2017-11-21",'
                '"amount":{"currency":"EUR","content":100.12}}')
    assert ing_mapping.map_transaction(raw).amount == Decimal("100.12")


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"transactions": {"_links": {"next": {"href": "/v3/accounts/x/transactions?next=A"}}}},
         "/v3/accounts/x/transactions?next=A"),
        ({"transactions": {"_links": {"next": {"href": ""}}}}, None),
        ({"transactions": {"_links": {}}}, None),
        ({"transactions": {}}, None),
    ],
)
def test_next_href(payload, expected):
    assert ing_mapping.next_href(payload) == expected


def test_adjusted_date_from_is_reported_on_the_page():
    headers = {"X-ING-AIS-ADJUSTED-DATEFROM": "2024-05-21T00:00:00Z",
               "X-ING-AIS-TRANSACTION-VALIDITY-PERIOD": "18 months"}
    page = ing_mapping.map_page({"transactions": {"booked": []}}, headers)
    assert page.adjusted_date_from == datetime.date(2024, 5, 21)
    # The date travels as adjusted_date_from; the notice is a code the
    # framework words in the reader's language, with ING's stated limit.
    assert page.notices == (provider.Notice(provider.NOTICE_HISTORY_LIMIT, {"bank": "ING", "period": "18 months"}),)


def test_page_without_adjustment_has_no_notice():
    page = ing_mapping.map_page({"transactions": {"booked": []}}, {})
    assert page.adjusted_date_from is None and page.notices == ()


@pytest.mark.parametrize(
    ("product", "currency", "eligible"),
    [
        ("Zakelijke Rekening", "EUR", True),
        ("Business Current Account", "EUR", True),
        ("Current Account", "EUR", True),
        ("G-rekening", "EUR", True),
        ("Zakelijke Spaarrekening", "EUR", False),
        ("Business Savings Account", "EUR", False),
        ("Beleggingsrekening", "EUR", False),
        ("Oranje Pakket", "EUR", False),
        ("Betaalrekening", "EUR", False),
        ("Zakelijke Betaalrekening", "EUR", True),
        ("Zakelijke Rekening Vreemde Valuta", "USD", False),
        ("Zakelijke Rekening", "USD", False),
        ("Something New", "EUR", False),
        (None, "EUR", False),
    ],
)
def test_account_eligibility(product, currency, eligible):
    ok, reason = ing_mapping.eligibility(product, currency)
    assert ok is eligible
    assert (reason is None) is eligible


@pytest.mark.parametrize(
    ("product", "reason"),
    [("Zakelijke Spaarrekening", "REASON_SAVINGS"), ("Beleggingsrekening", "REASON_INVESTMENT"),
     ("Betaalrekening", "REASON_PRIVATE"), ("Iets Nieuws", "REASON_UNKNOWN_PRODUCT")],
)
def test_ineligible_reason_is_a_fixed_translatable_text(product, reason):
    assert ing_mapping.eligibility(product, "EUR") == (False, getattr(ing_mapping, reason))


def test_account_mapping_keeps_reason():
    account = ing_mapping.map_account({
        "resourceId": "7de0041d-4f25-4b6c-a885-0bbeb1eab220", "iban": "NL69INGB0123456789",
        "name": "Ons Bedrijf BV", "currency": "USD", "product": "Zakelijke Rekening",
    })
    assert account.resource_id == "7de0041d-4f25-4b6c-a885-0bbeb1eab220"
    assert account.iban == "NL69INGB0123456789"
    assert not account.eligible
    assert account.ineligible_reason == ing_mapping.REASON_FOREIGN_CURRENCY


def test_card_account_without_iban_is_not_eligible():
    account = ing_mapping.map_account({"resourceId": "c1", "maskedPan": "123456******6789",
                                       "currency": "EUR", "product": "Business Card"})
    assert not account.eligible


def test_closing_booked_balance_is_taken():
    payload = parse("""{"balances":[
      {"balanceType":"interimBooked","balanceAmount":{"currency":"EUR","amount":99.99},"referenceDate":"2026-03-05"},
      {"balanceType":"closingBooked","balanceAmount":{"currency":"EUR","amount":1234.56},"referenceDate":"2026-03-04"}]}""")
    balance = ing_mapping.map_balance(payload)
    assert balance == provider.BankBalance(Decimal("1234.56"), "EUR", "closingBooked",
                                           datetime.date(2026, 3, 4))


def test_no_closing_booked_balance_gives_none_not_an_intraday_one():
    payload = parse('{"balances":[{"balanceType":"expected","balanceAmount":{"currency":"EUR","amount":5.00}}]}')
    assert ing_mapping.map_balance(payload) is None
