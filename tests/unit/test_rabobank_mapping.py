"""Rabobank's JSON as Yolt recorded it (../shared/specs/rabobank/examples-from-yolt-stubs.json)
mapped to the framework's records: exact amounts, direction, counterparty, references."""

import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest

from account_bank_link_rabobank.tools import rabobank_mapping
from l10n_nl_bankkoppeling.tools import provider

EXAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "specs" / "rabobank" / "examples-from-yolt-stubs.json"


def example(method, path_end, status=200, query_key=None):
    if not EXAMPLES.exists():
        pytest.skip("the Rabobank examples (../shared/specs/rabobank) are not on this machine")
    for item in json.loads(EXAMPLES.read_text(), parse_float=Decimal)["examples"]:
        if (item["method"], item["status"]) == (method, status) and item["path"].endswith(path_end) \
                and (query_key is None or query_key in (item["query"] or {})):
            return item["responseBody"]
    raise AssertionError(f"no example {method} {path_end}")


def test_accounts_of_the_example():
    accounts = rabobank_mapping.map_accounts(example("GET", "/ais/accounts"))
    assert [a.iban for a in accounts] == ["NL39RABO0320130878", "NL14RABO0320130843"]
    assert all(a.eligible and a.holder_name == "FREZARKI Z FRYZJI" and a.resource_id for a in accounts)


def test_blocked_or_foreign_currency_account_is_not_eligible():
    blocked = rabobank_mapping.map_account({"resourceId": "r1", "iban": "NL39RABO0320130878", "status": "blocked"})
    usd = rabobank_mapping.map_account({"resourceId": "r2", "iban": "NL39RABO0320130878", "currency": "USD"})
    assert not blocked.eligible and blocked.ineligible_reason == rabobank_mapping.REASON_NOT_ENABLED
    assert not usd.eligible and usd.ineligible_reason == rabobank_mapping.REASON_FOREIGN_CURRENCY


def test_expected_balance_of_the_example_is_exact():
    balance = rabobank_mapping.map_balance(example("GET", "/balances"))
    assert balance.amount == Decimal("18990.4") and balance.balance_type == "expected"
    assert balance.reference_date == datetime.date(2018, 9, 27)


def test_transactions_of_the_example_page_with_its_next_link():
    transactions, next_href = rabobank_mapping.map_transactions(
        example("GET", "/transactions", query_key="dateFrom"))
    assert next_href.startswith("/accounts/") and "nextPageToken=" in next_href
    debit, credit, unnamed = transactions[:3]
    assert (debit.bank_id, debit.amount, debit.counterparty_name) == ("18716", Decimal("-534.99"), "Ladonna Shirkey")
    assert debit.counterparty_iban == "NL02RABO0555482075"
    assert debit.remittance_text == "Description Line 1 Description Line 2 Line 3"
    assert debit.booking_date == datetime.date(2018, 9, 25) and debit.value_date == datetime.date(2018, 9, 26)
    # A credit names the debtor; the structured reference is a plain string at Rabobank.
    assert credit.amount == Decimal("601.21") and credit.structured_reference == "8062542234115201"
    assert credit.counterparty_iban == "NL02RABO0821822498"
    # An empty creditorAccount gives no IBAN rather than an error.
    assert unnamed.counterparty_iban is None and unnamed.counterparty_name == "Constance Bartsch"


def test_last_page_has_no_next_link():
    transactions, next_href = rabobank_mapping.map_transactions(
        example("GET", "/transactions", query_key="nextPageToken"))
    assert transactions and next_href is None


def test_consent_id_and_end_from_the_examples():
    assert rabobank_mapping.consent_id_of(example("POST", "/oauth2/token")) == "b75f5ee4-6b25-41af-bb9c-31128d09151b"
    valid = example("GET", "/oauth2/v1/consents/b75f5ee4-6b25-41af-bb9c-31128d09151b")
    expired = example("GET", "/oauth2/v1/consents/b75f5ee4-6b25-41af-bb9c-31128d09151e")
    assert rabobank_mapping.consent_valid_until(valid) == datetime.date(2022, 6, 6)
    assert rabobank_mapping.consent_valid_until(expired) is None


@pytest.mark.parametrize("row", [
    {"entryReference": "1", "bookingDate": "2026-13-01", "transactionAmount": {"amount": "1.00"}},
    {"entryReference": "1", "bookingDate": "2026-12-01", "transactionAmount": {"amount": "een euro"}},
])
def test_bad_dates_and_amounts_are_protocol_errors(row):
    with pytest.raises(provider.ProtocolError):
        rabobank_mapping.map_transaction(row)
