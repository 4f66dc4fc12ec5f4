"""The migration to 18.0.1.1.0: English reasons stored as text before
reason codes existed are read in the reader's language afterwards."""

import importlib.util
from pathlib import Path

from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

MIGRATION = Path(__file__).resolve().parents[1] / "migrations" / "18.0.1.1.0" / "post-migrate.py"


def _migration():
    spec = importlib.util.spec_from_file_location("l10n_nl_bankkoppeling_migrate_18_0_1_1_0", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestNlReasonMigration(AccountTestInvoicingCommon):
    @classmethod
    @AccountTestInvoicingCommon.setup_country("nl")
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("nl_NL")
        cls.journal = cls.company_data["default_journal_bank"]

    def _lines(self, count):
        return self.env["account.bank.statement.line"].with_context(nl_skip_auto_reconcile=True).create([
            {"journal_id": self.journal.id, "date": "2026-11-20", "amount": 10.0 + index,
             "payment_ref": f"regel {index}"} for index in range(count)])

    def test_old_english_reasons_become_codes_and_read_in_dutch(self):
        lines = self._lines(4)
        self.env.flush_all()
        # A database of the version before: the reason in its own stored column.
        self.env.cr.execute("ALTER TABLE account_bank_statement_line ADD COLUMN nl_reconcile_reason varchar")
        texts = [
            "Payer name BAKKERIJ JANSEN matches a partner (IBAN not known)",
            "Invoice number(s) INV/2026/00012 in the text, but the payer is not known as the partner",
            "The line fits several answers: Invoice number(s) INV/2026/00007 in the text; the payment "
            "equals them with other open items of the partner; Booking rule Bankkosten",
            "Batch PO/2026/0003: 12 payments",  # another addon's text: kept as it is
        ]
        for line, text in zip(lines, texts, strict=True):
            self.env.cr.execute(
                "UPDATE account_bank_statement_line SET nl_reconcile_reason = %s, nl_reconcile_state = 'proposed'"
                " WHERE id = %s", [text, line.id])
        converted = _migration().convert_reasons(self.env.cr)
        lines.invalidate_recordset()
        self.assertEqual(converted, 3)
        name, invoice, conflict, batch = lines
        self.assertEqual(name.nl_reconcile_reason_code, "name_match")
        self.assertEqual(name.nl_reconcile_reason_args, {"name": "BAKKERIJ JANSEN"})
        self.assertFalse(name.nl_reconcile_reason_text)
        self.assertEqual(invoice.nl_reconcile_reason_code, "invoice_payer_unconfirmed")
        self.assertEqual(conflict.nl_reconcile_reason_code, "conflict")
        # Each reader sees the reason in their language, the old English gone for Dutch readers.
        self.assertEqual(name.with_context(lang="en_US").nl_reconcile_reason, texts[0])
        self.assertEqual(conflict.with_context(lang="en_US").nl_reconcile_reason, texts[2])
        dutch = invoice.with_context(lang="nl_NL").nl_reconcile_reason
        self.assertIn("INV/2026/00012", dutch)
        self.assertIn("de betaler is niet bekend als de relatie", dutch)
        self.assertNotIn("payer", conflict.with_context(lang="nl_NL").nl_reconcile_reason)
        # Not ours: stays as text, shown as it was.
        self.assertFalse(batch.nl_reconcile_reason_code)
        self.assertEqual(batch.with_context(lang="nl_NL").nl_reconcile_reason, texts[3])

    def test_a_reason_text_written_after_codes_existed_is_converted_too_and_the_run_is_repeatable(self):
        line = self._lines(1)
        line.nl_reconcile_reason_text = "Booking rule Rente lening"
        line.flush_recordset()
        migration = _migration()
        self.assertEqual(migration.convert_reasons(self.env.cr), 1)
        self.assertEqual(migration.convert_reasons(self.env.cr), 0)
        line.invalidate_recordset()
        self.assertEqual(line.nl_reconcile_reason_code, "text_rule")
        self.assertEqual(line.nl_reconcile_reason_args, {"rule_name": "Rente lening"})
