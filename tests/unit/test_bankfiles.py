"""Every MT940 sample in tests/data/bankfiles/<bank>/ against the JSON next
to it: each valid file gives every statement and every line with its
counterparty and reference; each broken one is refused with its line.
The camt.053 samples are read by OCA's parser (an Odoo model) in
l10n_nl_bankkoppeling/tests/test_bankfiles_camt.py; here only that each is
XML the import accepts and says what its JSON says: account, balances that
add up, one line per transaction (batch entries give one per detail)."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from l10n_nl_bankkoppeling.tools import mt940_nl, safe_xml

BANKFILES = Path(__file__).resolve().parents[1] / "data" / "bankfiles"
SAMPLES = sorted(BANKFILES.glob("*/*.sta"))
CAMT_SAMPLES = sorted(BANKFILES.glob("*/*.camt053.xml"))
BANKS = ("ing", "abnamro", "rabobank", "triodos", "knab", "bunq", "asn", "sns", "regiobank",
         "vanlanschot", "bng", "mollie")
#: Mollie's balance exports are MT940 (and CODA, CSV, PDF), no camt.053.
MT940_ONLY = ("mollie",)


def test_every_bank_has_a_sample_with_its_expectation():
    assert {path.parent.name for path in SAMPLES} == set(BANKS)
    assert all(path.with_suffix(".json").exists() for path in SAMPLES)


def test_every_bank_has_three_files_and_a_camt053():
    files = SAMPLES + CAMT_SAMPLES
    assert {path.parent.name for path in CAMT_SAMPLES} == set(BANKS) - set(MT940_ONLY)
    assert {bank: sum(path.parent.name == bank for path in files) >= 3 for bank in BANKS} == {
        bank: True for bank in BANKS}


def _camt_amount(node, ns):
    amount = Decimal(node.find("ns:Amt", ns).text)
    return -amount if node.find("ns:CdtDbtInd", ns).text == "DBIT" else amount


@pytest.mark.parametrize("path", CAMT_SAMPLES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_camt_sample_says_what_its_json_says(path):
    expected = json.loads(path.with_name(path.name.replace(".xml", ".json")).read_text("utf-8"))
    refused = expected.get("refused", {})
    if refused.get("defect") == "truncated":
        with pytest.raises(safe_xml.XmlRefused) as caught:
            safe_xml.parse(path.read_bytes())
        assert (caught.value.code, caught.value.line) == ("syntax", refused["line"])
        return
    if refused.get("defect") == "mixed_encoding":
        with pytest.raises(mt940_nl.BankFileError) as caught:
            mt940_nl.decode_bank_file(path.read_bytes())
        assert (caught.value.code, caught.value.line) == ("mixed_encoding", refused["line"])
        return
    root = safe_xml.parse(path.read_bytes())
    ns = {"ns": root.tag[1 : root.tag.index("}")]}
    read = []
    for statement in root.iterfind("ns:BkToCstmrStmt/ns:Stmt", ns):
        account = statement.findtext("ns:Acct/ns:Id/ns:IBAN", namespaces=ns)
        if refused.get("defect") == "foreign_account":
            assert account == refused["account"] != refused["journal"]
            return
        balances = {bal.findtext("ns:Tp/ns:CdOrPrtry/ns:Cd", namespaces=ns): _camt_amount(bal, ns)
                    for bal in statement.iterfind("ns:Bal", ns)}
        opening = balances.get("OPBD", balances.get("PRCD"))
        entries = statement.findall("ns:Ntry", ns)
        total = opening + sum(_camt_amount(entry, ns) for entry in entries)
        if refused.get("defect") == "unbalanced":
            assert total != balances["CLBD"]
            return
        assert account == expected["account"]
        assert total == balances["CLBD"]
        details = [
            (entry.findtext("ns:BookgDt/ns:Dt", namespaces=ns),
             Decimal(tx.findtext("ns:AmtDtls/ns:TxAmt/ns:Amt", namespaces=ns)).copy_sign(
                 _camt_amount(entry, ns)))
            for entry in entries for tx in entry.iterfind("ns:NtryDtls/ns:TxDtls", ns)
        ]
        if details:  # a day without entries gives no statement
            read.append({
                "name": statement.findtext("ns:Id", namespaces=ns),
                "balance_start": opening, "balance_end_real": balances["CLBD"], "lines": details,
            })
    assert read == [
        {"name": st["name"], "balance_start": Decimal(st["balance_start"]),
         "balance_end_real": Decimal(st["balance_end_real"]),
         "lines": [(line["date"], Decimal(line["amount"])) for line in st["lines"]]}
        for st in expected["statements"]
    ]


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
    if "refused" in expected:
        with pytest.raises(mt940_nl.BankFileError) as caught:
            mt940_nl.parse_mt940(mt940_nl.decode_bank_file(path.read_bytes())[0])
        assert {"code": caught.value.code, "line": caught.value.line} == expected["refused"]
        return
    text, _encoding = mt940_nl.decode_bank_file(path.read_bytes())
    assert [_read(st) for st in mt940_nl.parse_mt940(text)] == [
        _expected(st) for st in expected["statements"]]
