"""A Dutch company's customer invoices carry a betalingskenmerk."""

import io

from PyPDF2 import PdfReader

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.account.tools.structured_reference import is_valid_structured_reference_nl

from ..tools import betalingskenmerk


@tagged("post_install_l10n", "post_install", "-at_install")
class TestDutchInvoiceReference(AccountTestInvoicingCommon):
    @classmethod
    @AccountTestInvoicingCommon.setup_country("nl")
    def setUpClass(cls):
        super().setUpClass()
        cls.sale_journal = cls.company_data["default_journal_sale"]
        cls.company_bank = cls.env["res.partner.bank"].create({
            "acc_number": "NL91ABNA0417164300",
            "partner_id": cls.env.company.partner_id.id,
            "allow_out_payment": True,
        })

    def _posted_invoice(self, amount=1210.0):
        invoice = self.init_invoice("out_invoice", amounts=[amount], post=False)
        invoice.partner_bank_id = self.company_bank
        invoice.action_post()
        return invoice

    def test_dutch_sales_journal_uses_the_betalingskenmerk_by_default(self):
        self.assertEqual(self.sale_journal.invoice_reference_model, "nl")
        new_journal = self.env["account.journal"].create({"name": "Verkoop 2", "code": "VK2", "type": "sale"})
        self.assertEqual(new_journal.invoice_reference_model, "nl")

    def test_posted_invoice_gets_a_valid_16_digit_betalingskenmerk(self):
        invoice = self._posted_invoice()
        reference = invoice.payment_reference
        self.assertEqual(len(reference), 16)
        self.assertTrue(betalingskenmerk.is_valid(reference))
        # Odoo's own validator agrees: payments and QR codes elsewhere in
        # Odoo treat it as a structured reference.
        self.assertTrue(is_valid_structured_reference_nl(reference))
        self.assertEqual(invoice._l10n_nl_payment_reference_display(), betalingskenmerk.format(reference))
        self.assertRegex(invoice._l10n_nl_payment_reference_display(), r"^\d{4} \d{4} \d{4} \d{4}$")

    def test_each_invoice_gets_its_own_reference_and_keeps_it(self):
        first, second = self._posted_invoice(), self._posted_invoice(500.0)
        self.assertNotEqual(first.payment_reference, second.payment_reference)
        reference = first.payment_reference
        first.button_draft()
        first.invoice_line_ids.price_unit = 999.0
        first.action_post()
        self.assertEqual(first.payment_reference, reference, "a posted invoice's reference must stay as sent")

    def test_two_invoices_cannot_share_a_betalingskenmerk(self):
        first, second = self._posted_invoice(), self._posted_invoice(500.0)
        with self.assertRaisesRegex(ValidationError, "already used"):
            second.payment_reference = first.payment_reference

    def test_other_reference_models_are_untouched(self):
        self.sale_journal.invoice_reference_model = "odoo"
        invoice = self._posted_invoice()
        self.assertEqual(invoice.payment_reference, invoice.name)
        self.assertEqual(invoice._l10n_nl_payment_reference_display(), invoice.name)

    def test_printed_invoice_shows_the_reference_in_groups_of_four(self):
        invoice = self._posted_invoice()
        html = self.env["ir.actions.report"]._render_qweb_html("account.account_invoices", invoice.ids)[0].decode()
        self.assertIn(betalingskenmerk.format(invoice.payment_reference), html)
        self.assertNotIn(f">{invoice.payment_reference}<", html)

    def test_pdf_shows_the_reference_in_groups_of_four(self):
        invoice = self._posted_invoice()
        pdf, kind = self.env["ir.actions.report"].with_context(force_report_rendering=True)._render_qweb_pdf(
            "account.account_invoices", invoice.ids)
        self.assertEqual(kind, "pdf")
        # PDF text extraction turns the spaces between words into tabs.
        text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
        self.assertIn(betalingskenmerk.format(invoice.payment_reference), text)

    def test_sepa_qr_code_carries_the_reference(self):
        self.assertIn("sct_qr", dict(self.env["res.partner.bank"].get_available_qr_methods_in_sequence()))
        invoice = self._posted_invoice()
        values = self.company_bank._get_qr_vals(
            "sct_qr", invoice.amount_residual, invoice.currency_id, invoice.partner_id,
            invoice.name, invoice.payment_reference,
        )
        self.assertIn(invoice.payment_reference, values)
