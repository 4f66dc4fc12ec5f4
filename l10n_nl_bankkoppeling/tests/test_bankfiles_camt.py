# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Every camt.053 sample in tests/data/bankfiles/<bank>/ through the camt
parser against the JSON next to it (statements, balances, each line's
counterparty, reference and bank code), and a set of them through the
user's "Import statement" wizard: the statements and lines the file holds,
each once, also when the same file is imported again. Also the broken
samples (refused whole), camt.052/054 (booked entries, each once beside the
camt.053; a batch's total or its payments, never both), the
statement information of MT940 and Triodos's subfields through the wizard."""

import base64
import json
import re
from pathlib import Path

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import BankLinkCase

BANKFILES = Path(__file__).resolve().parents[2] / "tests" / "data" / "bankfiles"
SAMPLES = sorted(BANKFILES.glob("*/*.camt053.xml"))
VALID = [path for path in SAMPLES if "-broken-" not in path.name]
BROKEN = [path for path in SAMPLES if "-broken-" in path.name]


def expected_of(path):
    return json.loads(path.with_name(path.name[: -len(".xml")] + ".json").read_text("utf-8"))


@tagged("post_install", "-at_install")
class TestBankFilesCamt(BankLinkCase):
    def journal_for(self, iban):
        Journal = self.env["account.journal"].sudo()
        journal = Journal.search([("bank_acc_number", "=", iban)], limit=1)
        return journal or Journal.create(
            {"name": f"Bank {iban}", "code": f"C{iban[4:6]}{Journal.search_count([]) % 100}",
             "type": "bank", "bank_acc_number": iban}
        )

    def import_sample(self, path, journal):
        wizard = (
            self.env["account.statement.import"]
            .with_context(journal_id=journal.id)
            .create({"statement_file": base64.b64encode(path.read_bytes()),
                     "statement_filename": path.name})
        )
        return wizard.import_file_button()

    def test_every_bank_has_camt_samples(self):
        banks = {path.parent.name for path in VALID}
        self.assertEqual(
            banks,
            {"ing", "abnamro", "rabobank", "triodos", "knab", "bunq", "asn", "sns",
             "regiobank", "vanlanschot", "bng"},
        )

    def test_every_sample_parses_as_expected(self):
        parser = self.env["account.statement.import.camt.parser"]
        for path in VALID:
            expected = expected_of(path)
            with self.subTest(sample=f"{path.parent.name}/{path.name}"):
                currency, account, statements = parser.parse(path.read_bytes())
                self.assertEqual((currency, account), (expected["currency"], expected["account"]))
                self.assertEqual(
                    [self.read_statement(st) for st in statements],
                    [self.expected_statement(st) for st in expected["statements"]],
                )

    def read_statement(self, statement):
        return {
            "name": statement["name"],
            "balance_start": round(statement["balance_start"], 2),
            "balance_end_real": round(statement["balance_end_real"], 2),
            "lines": [
                {
                    "date": str(line["date"])[:10], "amount": round(line["amount"], 2),
                    "partner_name": line.get("partner_name") or None,
                    "counterparty_iban": line.get("account_number") or None,
                    "counterparty_bic": line.get("nl_counterparty_bic") or None,
                    "structured_reference": line.get("nl_structured_reference") or None,
                    "end_to_end_id": line.get("nl_end_to_end_id") or None,
                    "bank_transaction_code": line.get("nl_bank_transaction_code") or None,
                    # The label the user reads: the remittance text, else
                    # the counterparty, else the reference.
                    "payment_ref": line["payment_ref"],
                }
                for line in statement["transactions"]
            ],
        }

    def expected_statement(self, statement):
        return {
            "name": statement["name"],
            "balance_start": float(statement["balance_start"]),
            "balance_end_real": float(statement["balance_end_real"]),
            "lines": [
                {
                    **{key: line[key] for key in (
                        "date", "partner_name", "counterparty_iban", "counterparty_bic",
                        "structured_reference", "end_to_end_id", "bank_transaction_code")},
                    "amount": float(line["amount"]),
                    "payment_ref": line["remittance_text"] or line["partner_name"]
                    or line["structured_reference"],
                }
                for line in statement["lines"]
            ],
        }

    def test_import_multi_statement_batch_foreign_currency_empty_day_v08(self):
        names = (
            "ing/ing-two-days-usd-batch.camt053.xml",  # two statements, USD, batch
            "ing/ing-direct-debit-reversal.camt053.xml",  # storno after the debit
            "abnamro/abnamro-collection-batch.camt053.xml",  # batch of three
            "rabobank/rabobank-empty-day-and-ideal.camt053.xml",  # empty day first
            "bunq/bunq-camt053-v08.camt053.xml",  # camt.053.001.08
        )
        for name in names:
            path = BANKFILES / name
            expected = expected_of(path)
            journal = self.journal_for(expected["account"])
            with self.subTest(sample=name):
                before = self.env["account.bank.statement"].search_count(
                    [("journal_id", "=", journal.id)])
                self.import_sample(path, journal)
                statements = self.env["account.bank.statement"].search(
                    [("journal_id", "=", journal.id)], order="id")[before:]
                self.assertEqual(
                    [(st.balance_start, st.balance_end_real, len(st.line_ids))
                     for st in statements],
                    [(float(st["balance_start"]), float(st["balance_end_real"]),
                      len(st["lines"])) for st in expected["statements"]],
                )
                self.assertEqual(
                    sorted(statements.line_ids.mapped("nl_end_to_end_id"), key=str),
                    sorted((line["end_to_end_id"] or False
                            for st in expected["statements"] for line in st["lines"]), key=str),
                )
                lines = self.env["account.bank.statement.line"].search_count(
                    [("journal_id", "=", journal.id)])
                with self.assertRaisesRegex(UserError, "already imported"):
                    self.import_sample(path, journal)
                self.assertEqual(
                    self.env["account.bank.statement.line"].search_count(
                        [("journal_id", "=", journal.id)]),
                    lines,
                )

    def test_broken_samples_refused_whole_with_their_line(self):
        """Truncated, not adding up, another account, mixed encodings: each
        refused with its line and reason, nothing imported."""
        cases = [(path, expected_of(path)["refused"]) for path in BROKEN]
        cases.append((BANKFILES / "bunq" / "bunq-broken-mixed-encoding.sta",
                      {"journal": "NL12BUNQ2025123456",
                       "message": "mixes two character encodings at line 9"}))
        self.assertEqual(len(cases), 5)
        for path, refused in cases:
            journal = self.journal_for(refused["journal"])
            with self.subTest(sample=path.name):
                with self.assertRaisesRegex(UserError, refused["message"]):
                    self.import_sample(path, journal)
                self.assertFalse(self.env["account.bank.statement.line"].search(
                    [("journal_id", "=", journal.id)]))

    def test_bom_and_declared_encoding_import(self):
        """A UTF-8 BOM is no defect: the file imports as without it."""
        path = BANKFILES / "triodos" / "triodos-bom.camt053.xml"
        journal = self.journal_for("NL63TRIO0212345678")
        self.import_sample(path, journal)
        lines = self.env["account.bank.statement.line"].search(
            [("journal_id", "=", journal.id)], order="id")
        self.assertEqual(lines.mapped("partner_name"),
                         [False if not line["partner_name"] else line["partner_name"]
                          for st in expected_of(path)["statements"] for line in st["lines"]])

    def test_statement_information_shown_on_the_statement(self):
        """ING's /SUM/ after :62F: is the statement's, on its form; no
        line's description holds it."""
        path = BANKFILES / "ing" / "ing-swift-two-days-sum.sta"
        expected = json.loads(path.with_suffix(".json").read_text("utf-8"))["statements"]
        journal = self.journal_for("NL67INGB0006543210")
        self.import_sample(path, journal)
        statements = self.env["account.bank.statement"].search(
            [("journal_id", "=", journal.id)], order="date")
        self.assertEqual(statements.mapped("nl_information"),
                         [st["information"] for st in expected])
        self.assertFalse(statements.line_ids.filtered(lambda line: "/SUM/" in line.payment_ref))
        arch = self.env["account.bank.statement"].get_view(view_type="form")["arch"]
        self.assertIn('name="nl_information"', arch)

    def test_intraday_report_imports_its_booked_entries_only(self):
        """camt.052: the booked entry comes in, the pending storno does not
        (it may still change); the user is told; the file again adds nothing;
        a report with nothing booked yet is refused with the reason."""
        path = BANKFILES / "ing" / "ing-intraday.camt052.xml"
        journal = self.journal_for("NL67INGB0006543210")
        action = self.import_sample(path, journal)
        lines = self.env["account.bank.statement.line"].search([("journal_id", "=", journal.id)])
        self.assertEqual([(line.amount, line.nl_end_to_end_id) for line in lines],
                         [(-89.0, "ENECO-2026-03-4471")])
        self.assertIn("1 pending entry(ies) of the intraday report were not imported",
                      action["params"]["message"])
        with self.assertRaisesRegex(UserError, "already imported"):
            self.import_sample(path, journal)
        pending_only = path.read_text("utf-8").replace("<Sts>BOOK</Sts>", "<Sts>PDNG</Sts>")
        other = self.journal_for("NL86INGB0002445588")
        with self.assertRaisesRegex(UserError, "entries are all still pending"):
            self.import_data(pending_only.replace("NL67INGB0006543210", "NL86INGB0002445588"),
                             other)
        self.assertFalse(self.env["account.bank.statement.line"].search([("journal_id", "=", other.id)]))

    def import_data(self, text, journal, name="file.xml"):
        wizard = (
            self.env["account.statement.import"]
            .with_context(journal_id=journal.id)
            .create({"statement_file": base64.b64encode(text.encode("utf-8")),
                     "statement_filename": name})
        )
        return wizard.import_file_button()

    def test_notification_then_statement_each_payment_once(self):
        """camt.054 with the payments of a direct-debit batch, then the
        camt.053 of that day with the same payments: each once; the other
        order the same."""
        notification = BANKFILES / "abnamro" / "abnamro-collection-notification.camt054.xml"
        statement = BANKFILES / "abnamro" / "abnamro-collection-batch.camt053.xml"
        journal = self.journal_for("NL02ABNA0123456789")
        self.import_sample(notification, journal)
        lines = self.env["account.bank.statement.line"].search([("journal_id", "=", journal.id)])
        self.assertEqual(sorted(lines.mapped("amount")), [-3.6, 12.5, 25.0, 25.0])
        self.assertEqual(set(lines.filtered("nl_batch_detail").mapped("nl_batch_reference")),
                         {"INC-2026-03-001"})
        with self.assertRaisesRegex(UserError, "already imported"):
            self.import_sample(statement, journal)
        self.assertEqual(self.env["account.bank.statement.line"].search_count(
            [("journal_id", "=", journal.id)]), 4)
        # The other way round, on another account.
        other = self.journal_for("NL86INGB0002445588")
        self.import_data(statement.read_text("utf-8").replace("NL02ABNA0123456789", "NL86INGB0002445588"),
                         other)
        with self.assertRaisesRegex(UserError, "already imported"):
            self.import_data(notification.read_text("utf-8").replace("NL02ABNA0123456789",
                                                                      "NL86INGB0002445588"), other)
        self.assertEqual(self.env["account.bank.statement.line"].search_count(
            [("journal_id", "=", other.id)]), 4)

    def test_batch_total_and_its_payments_never_both(self):
        """A camt.053 that books the batch as one total after a camt.054
        with its payments: the total is skipped. The total first: the
        payments are refused, naming the batch."""
        notification = (BANKFILES / "abnamro" / "abnamro-collection-notification.camt054.xml").read_text("utf-8")
        total_only = re.sub(r"</Btch><TxDtls>.*?</TxDtls></NtryDtls>", "</Btch></NtryDtls>",
                            (BANKFILES / "abnamro" / "abnamro-collection-batch.camt053.xml").read_text("utf-8"),
                            count=1, flags=re.S)
        journal = self.journal_for("NL02ABNA0123456789")
        self.import_data(notification, journal)
        with self.assertRaisesRegex(UserError, "already imported"):
            # Fee (same identity) taken, batch total covered by its payments.
            self.import_data(total_only, journal)
        self.assertEqual(sorted(self.env["account.bank.statement.line"].search(
            [("journal_id", "=", journal.id)]).mapped("amount")), [-3.6, 12.5, 25.0, 25.0])
        other = self.journal_for("NL86INGB0002445588")
        self.import_data(total_only.replace("NL02ABNA0123456789", "NL86INGB0002445588"), other)
        with self.assertRaisesRegex(UserError, "batch INC-2026-03-001 one by one"):
            self.import_data(notification.replace("NL02ABNA0123456789", "NL86INGB0002445588"), other)
        self.assertEqual(sorted(self.env["account.bank.statement.line"].search(
            [("journal_id", "=", other.id)]).mapped("amount")), [-3.6, 62.5])

    def test_triodos_subfields_through_the_wizard_once(self):
        """Triodos's >NN :86: subfields: counterparty and betalingskenmerk on
        the lines; the same file again adds nothing."""
        path = BANKFILES / "triodos" / "triodos-subfields.sta"
        expected = json.loads(path.with_suffix(".json").read_text("utf-8"))["statements"][0]
        journal = self.journal_for("NL63TRIO0212345678")
        self.import_sample(path, journal)
        lines = self.env["account.bank.statement.line"].search(
            [("journal_id", "=", journal.id)], order="sequence, id")
        self.assertEqual(
            [(line.amount, line.partner_name or None, line.account_number or None,
              line.nl_structured_reference or None) for line in lines],
            [(float(line["amount"]), line["counterparty_name"], line["counterparty_iban"],
              line["structured_reference"]) for line in expected["lines"]],
        )
        with self.assertRaisesRegex(UserError, "already imported"):
            self.import_sample(path, journal)
        self.assertEqual(len(self.env["account.bank.statement.line"].search(
            [("journal_id", "=", journal.id)])), len(expected["lines"]))
