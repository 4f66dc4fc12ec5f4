"""NextGenPSD2 JSON -> provider records, per bank profile (Knab, Triodos, de Volksbank)."""

import datetime
import json
from decimal import Decimal

import pytest

from account_bank_link_nextgenpsd2.tools import nextgenpsd2_mapping as mapping
from account_bank_link_nextgenpsd2.tools import profiles
from account_bank_link_nextgenpsd2.tools.nextgenpsd2_client import error_info, resolve_href
from l10n_nl_bankkoppeling.tools import provider

KENMERK = "5000056789012345"  # valid check digit
RF = "RF18539007547034"


def parsed(data):
    return json.loads(json.dumps(data), parse_float=Decimal)


def test_knab_row_signed_amount_transaction_id_and_plain_string_kenmerk():
    row = parsed({
        "transactionId": "T-1", "entryReference": "E-1", "bookingDate": "2026-11-20", "valueDate": "2026-11-21",
        "transactionDate": "2026-11-19", "transactionAmount": {"currency": "EUR", "amount": "-125.40"},
        "creditorName": "Makro  Nederland B.V.", "creditorAccount": {"iban": "NL91 ABNA 0417 1643 00"},
        "debtorAccount": {"iban": "NL64KNAB8965829518"}, "remittanceInformationStructured": KENMERK,
        "remittanceInformationUnstructured": "Factuur 2026-0117", "endToEndId": "NOTPROVIDED",
        "bankTransactionCode": "PMNT-ICDT-ESCT"})
    line = mapping.map_transaction(profiles.KNAB, row)
    assert line.bank_id == "T-1"
    assert line.amount == Decimal("-125.40") and line.currency == "EUR"
    assert line.booking_date == datetime.date(2026, 11, 20) and line.value_date == datetime.date(2026, 11, 21)
    assert line.counterparty_name == "Makro Nederland B.V." and line.counterparty_iban == "NL91ABNA0417164300"
    assert (line.structured_reference, line.structured_reference_issuer) == (KENMERK, "CUR")
    assert line.end_to_end_id is None  # a placeholder is no id
    assert line.bank_transaction_code == "PMNT-ICDT-ESCT" and not line.is_card_payment
    assert line.remittance_text == "Factuur 2026-0117"


def test_triodos_unsigned_amounts_take_the_direction_from_the_counterparty():
    incoming = parsed({"transactionId": "1", "bookingDate": "2026-11-20", "debtorName": "De Groot Advies",
                       "debtorAccount": {"iban": "NL91ABNA0417164300"},
                       "transactionAmount": {"currency": "EUR", "amount": "300.00"}})
    outgoing = parsed({"transactionId": "2", "bookingDate": "2026-11-20", "creditorName": "Albert Heijn 1234",
                       "transactionAmount": {"currency": "EUR", "amount": "15.80"},
                       "bankTransactionCode": "PMNT-CCRD-POSD"})
    first, second = (mapping.map_transaction(profiles.TRIODOS, r) for r in (incoming, outgoing))
    assert first.amount == Decimal("300.00") and first.counterparty_name == "De Groot Advies"
    assert second.amount == Decimal("-15.80") and second.counterparty_name == "Albert Heijn 1234"
    assert second.is_card_payment
    # The same outgoing row read with a signed profile would be income: the profile matters.
    assert mapping.map_transaction(profiles.KNAB, outgoing).amount == Decimal("15.80")


def test_volksbank_object_reference_entry_reference_identity_and_numeric_code():
    row = parsed({"entryReference": "20261120-12345678", "bookingDate": "2026-11-20",
                  "transactionAmount": {"currency": "EUR", "amount": "1250.00"}, "debtorName": "Gemeente Amersfoort",
                  "debtorAccount": {"iban": "NL86INGB0002445588"},
                  "remittanceInformationStructured": {"reference": RF, "referenceIssuer": "ISO"},
                  "bankTransactionCode": 7241, "endToEndId": "E2E000000042"})
    line = mapping.map_transaction(profiles.SNS, row)
    assert line.bank_id == "20261120-12345678"
    assert (line.structured_reference, line.structured_reference_issuer) == (RF, "ISO")
    assert line.bank_transaction_code == "7241" and line.end_to_end_id == "E2E000000042"
    assert line.raw["transactionAmount"]["amount"] == "1250.00"


def test_kenmerk_typed_in_the_free_text_is_found():
    row = parsed({"entryReference": "x", "bookingDate": "2026-11-20",
                  "transactionAmount": {"currency": "EUR", "amount": "99.00"}, "debtorName": "Jansen",
                  "remittanceInformationUnstructured": "Betaling factuur betalingskenmerk 5000 0567 8901 2345"})
    line = mapping.map_transaction(profiles.ASN, row)
    assert (line.structured_reference, line.structured_reference_issuer) == (KENMERK, "CUR")


def test_identity_falls_back_to_entry_reference_and_may_be_missing():
    row = {"entryReference": "E-9", "bookingDate": "2026-11-20", "transactionAmount": {"amount": "1", "currency": "EUR"}}
    assert mapping.map_transaction(profiles.TRIODOS, row).bank_id == "E-9"
    assert mapping.map_transaction(profiles.ASN, {**row, "transactionId": "T"}).bank_id == "E-9"
    assert mapping.map_transaction(profiles.ASN, {**row, "entryReference": ""}).bank_id is None


@pytest.mark.parametrize("value", ["abc", "NaN", None])
def test_bad_amount_is_a_protocol_error(value):
    with pytest.raises(provider.ProtocolError):
        mapping.map_transaction(profiles.KNAB, {"bookingDate": "2026-11-20",
                                                "transactionAmount": {"amount": value, "currency": "EUR"}})


def test_accounts_eligibility():
    rows = {"accounts": [
        {"resourceId": "a", "iban": "NL64KNAB8965829518", "currency": "EUR", "cashAccountType": "CACC",
         "ownerName": "Bakkerij B.V.", "product": "Knab Zakelijk Rekening"},
        {"resourceId": "b", "bban": "3828523501", "currency": "EUR", "cashAccountType": "SVGS"},
        {"resourceId": "c", "iban": "NL57KNAB3828523501", "currency": "EUR", "cashAccountType": "SVGS"},
        {"resourceId": "d", "iban": "NL57KNAB3828523501", "currency": "USD"}]}
    current, bban_only, savings, dollars = mapping.map_accounts(profiles.KNAB, rows)
    assert current.eligible and current.holder_name == "Bakkerij B.V." and current.product == "Knab Zakelijk Rekening"
    assert not bban_only.eligible and bban_only.ineligible_reason == mapping.REASON_NO_IBAN
    assert savings.ineligible_reason == mapping.REASON_NOT_CURRENT
    assert dollars.ineligible_reason == mapping.REASON_FOREIGN_CURRENCY
    with pytest.raises(provider.ProtocolError):
        mapping.map_accounts(profiles.KNAB, {"accounts": [{"iban": "NL64KNAB8965829518"}]})


def test_balance_type_per_profile():
    payload = parsed({"balances": [
        {"balanceType": "expected", "balanceAmount": {"currency": "EUR", "amount": "90.00"}},
        {"balanceType": "closingBooked", "balanceAmount": {"currency": "EUR", "amount": "100.00"},
         "referenceDate": "2026-11-20"}]})
    balance = mapping.map_balance(profiles.KNAB, payload)
    assert (balance.balance_type, balance.amount, balance.reference_date) == (
        "closingBooked", Decimal("100.00"), datetime.date(2026, 11, 20))
    assert mapping.map_balance(profiles.ASN, payload) is None  # de Volksbank: only interimAvailable
    volksbank = parsed({"balances": [{"balanceType": "interimAvailable", "lastChangeDateTime": "2026-11-20T15:30:35Z",
                                      "balanceAmount": {"currency": "EUR", "amount": "-12.50"}}]})
    assert mapping.map_balance(profiles.ASN, volksbank).amount == Decimal("-12.50")


def test_transactions_page_and_next_link():
    lines, next_href = mapping.map_transactions(profiles.TRIODOS, {"transactions": {
        "booked": [{"transactionId": "1", "bookingDate": "2026-11-20", "debtorName": "x",
                    "transactionAmount": {"amount": "1.00", "currency": "EUR"}}],
        "_links": {"next": {"href": "/nl/v1/accounts/a/transactions?edgeToken=abc"}}}})
    assert len(lines) == 1 and next_href == "/nl/v1/accounts/a/transactions?edgeToken=abc"
    with pytest.raises(provider.ProtocolError):
        mapping.map_transactions(profiles.TRIODOS, {"booked": []})


@pytest.mark.parametrize("base, href, url", [
    ("https://api-ma.triodos.com/xs2a-bg/nl", "/nl/v1/accounts/a/transactions?edgeToken=x",
     "https://api-ma.triodos.com/xs2a-bg/nl/v1/accounts/a/transactions?edgeToken=x"),
    ("https://psd.bancairediensten.nl/psd2/snsbank", "/psd2/snsbank/v1.1/accounts/a/transactions?limit=2",
     "https://psd.bancairediensten.nl/psd2/snsbank/v1.1/accounts/a/transactions?limit=2"),
    ("https://tpp-loket.knab.nl/openbanking", "/v1/accounts/a", "https://tpp-loket.knab.nl/openbanking/v1/accounts/a"),
    ("https://tpp-loket.knab.nl/openbanking", "https://tpp-loket.knab.nl/openbanking/v1/accounts/a",
     "https://tpp-loket.knab.nl/openbanking/v1/accounts/a"),
])
def test_links_resolve_on_the_banks_host(base, href, url):
    assert resolve_href(base, href) == url


def test_a_link_to_another_host_is_refused():
    with pytest.raises(provider.ProtocolError):
        resolve_href("https://tpp-loket.knab.nl/openbanking", "https://evil.example/v1/accounts")


class _Answer:
    def __init__(self, body):
        self.content = json.dumps(body).encode()


def test_error_bodies_of_both_shapes():
    assert error_info(_Answer({"tppMessages": [{"category": "ERROR", "code": "CONSENT_EXPIRED", "text": "t"}]})) == (
        "CONSENT_EXPIRED", "t")
    assert error_info(_Answer({"category": "ERROR", "code": "SERVICE_BLOCKED", "text": "b"})) == ("SERVICE_BLOCKED", "b")
    assert error_info(_Answer({"error": "invalid_grant", "error_description": "d"})) == ("invalid_grant", "d")

