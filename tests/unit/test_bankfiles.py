"""Every MT940 sample in tests/data/bankfiles/<bank>/ against the JSON next
to it: each valid file gives every statement and every line with its
counterparty and reference; each broken one is refused with its line."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from l10n_nl_bankkoppeling.tools import mt940_nl

BANKFILES = Path(__file__).resolve().parents[1] / "data" / "bankfiles"
SAMPLES = sorted(BANKFILES.glob("*/*.sta"))
BANKS = ("ing", "abnamro", "rabobank", "triodos", "knab", "bunq", "asn", "sns", "regiobank",
         "vanlanschot", "bng")


def test_every_bank_has_a_sample_with_its_expectation():
    assert {path.parent.name for path in SAMPLES} == set(BANKS)
    assert all(path.with_suffix(".json").exists() for path in SAMPLES)


def _read(statement):
    total = statement.opening_balance + sum(tx.amount for tx in statement.transactions)
    read = {
        "line": statement.line, "bank": statement.bank, "account": statement.account,
        "iban": statement.iban, "opening_balance": statement.opening_balance,
        "closing_balance": statement.closing_balance,
        "closing_date": statement.closing_date.isoformat(), "information": statement.information,
        "lines": [
            {"date": tx.booking_date.isoformat(), "amount": tx.amount,
             "counterparty_iban": tx.counterparty_iban, "counterparty_name": tx.counterparty_name,
             "remittance_text": tx.remittance_text, "structured_reference": tx.structured_reference,
             "end_to_end_id": tx.end_to_end_id}
            for tx in statement.transactions
        ],
    }
    if total != statement.closing_balance:
        # The import refuses such a statement whole, naming this line
        # ("... does not add up ..." in models/account_statement_import.py).
        read["adds_up_to"] = total
    return read


def _expected(statement):
    statement = dict(statement)
    for key in ("opening_balance", "closing_balance", "adds_up_to"):
        if key in statement:
            statement[key] = Decimal(statement[key])
    statement["lines"] = [dict(line, amount=Decimal(line["amount"])) for line in statement["lines"]]
    return statement


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_sample(path):
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    text, _encoding = mt940_nl.decode_bank_file(path.read_bytes())
    if "refused" in expected:
        with pytest.raises(mt940_nl.BankFileError) as caught:
            mt940_nl.parse_mt940(text)
        assert {"code": caught.value.code, "line": caught.value.line} == expected["refused"]
        return
    assert [_read(st) for st in mt940_nl.parse_mt940(text)] == [
        _expected(st) for st in expected["statements"]]
