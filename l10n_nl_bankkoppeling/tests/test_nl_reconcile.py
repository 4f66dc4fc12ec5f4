"""Dutch automatic reconciliation of bank lines, in Odoo."""

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from ..tools import betalingskenmerk

PAYER_IBAN = "NL91ABNA0417164300"
OTHER_IBAN = "NL20INGB0001234567"
LOAN_IBAN = "NL44RABO0123456789"


@tagged("post_install_l10n", "post_install", "-at_install")
class TestNlReconcile(AccountTestInvoicingCommon):
    @classmethod
    @AccountTestInvoicingCommon.setup_country("nl")
    def setUpClass(cls):
        super().setUpClass()
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.customer = cls.partner_a
        cls.other_customer = cls.partner_b
        cls.env["res.partner.bank"].create({"acc_number": PAYER_IBAN, "partner_id": cls.customer.id})
        cls.bank_costs = cls.company_data["default_account_expense"]
        cls.interest = cls.copy_account(cls.bank_costs, {"name": "Rente", "code": "4990"})
        cls.other_currency = cls.setup_other_currency("USD")
        cls.company_data_2 = cls.setup_other_company()
        # The OCA screen's JavaScript sets the line being edited; a test form
        # needs the field visible to do the same.
        cls.env["ir.ui.view"].create({
            "name": "test: manual reference visible",
            "model": "account.bank.statement.line",
            "inherit_id": cls.env.ref("account_reconcile_oca.bank_statement_line_form_reconcile_view").id,
            "arch": '<data><field name="manual_reference" position="attributes">'
                    '<attribute name="invisible">0</attribute></field></data>',
        })

    # ------------------------------------------------------------ helpers

    def invoice(self, amount=100.0, partner=None, move_type="out_invoice", **kwargs):
        return self.init_invoice(move_type, partner=partner or self.customer, amounts=[amount],
                                 post=True, **kwargs)

    def bank_line(self, amount, text="", **values):
        return self.env["account.bank.statement.line"].create({
            "journal_id": values.pop("journal_id", self.bank_journal.id),
            "date": values.pop("date", "2026-11-20"),
            "amount": amount,
            "payment_ref": text,
            **values,
        })

    def assertAuto(self, line, rule):
        self.assertTrue(line.is_reconciled, line.nl_reconcile_reason)
        self.assertEqual(line.nl_reconcile_state, "auto")
        self.assertEqual(line.nl_reconcile_rule, rule)
        self.assertTrue(line.nl_reconcile_reason)

    def assertNotReconciled(self, line):
        self.assertFalse(line.is_reconciled, line.nl_reconcile_reason)
        self.assertNotEqual(line.nl_reconcile_state, "auto")

    # ----------------------------------------------------------- rule 1

    def test_betalingskenmerk_typed_with_spaces_pays_the_invoice(self):
        invoice, other = self.invoice(1210.0), self.invoice(1210.0)
        line = self.bank_line(invoice.amount_residual,
                              f"Betaling {betalingskenmerk.format(invoice.payment_reference)}")
        stats = line.action_nl_auto_reconcile()
        self.assertEqual(stats["auto"], 1)
        self.assertAuto(line, "reference")
        self.assertIn(invoice.payment_reference, line.nl_reconcile_reason)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(other.payment_state, "not_paid")
        self.assertEqual(line.partner_id, self.customer)

    def test_camt_import_line_with_structured_reference_and_slash_label(self):
        invoice = self.invoice(500.0)
        line = self.bank_line(invoice.amount_residual, "/", ref=invoice.payment_reference,
                              account_number=OTHER_IBAN, partner_name="Some Payer")
        line.action_nl_auto_reconcile()
        self.assertAuto(line, "reference")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_reference_with_wrong_check_digit_is_not_matched(self):
        invoice = self.invoice(500.0)
        reference = invoice.payment_reference
        typo = str((int(reference[0]) + 1) % 10) + reference[1:]
        line = self.bank_line(invoice.amount_residual, f"kenmerk {typo}", account_number=OTHER_IBAN)
        line.action_nl_auto_reconcile()
        self.assertNotReconciled(line)
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_partial_payment_by_reference_leaves_the_rest_open(self):
        invoice = self.invoice(1000.0)
        line = self.bank_line(400.0, invoice.payment_reference, account_number=PAYER_IBAN)
        line.action_nl_auto_reconcile()
        self.assertAuto(line, "reference")
        self.assertEqual(invoice.payment_state, "partial")
        self.assertAlmostEqual(invoice.amount_residual, invoice.amount_total - 400.0)

    def test_overpayment_is_proposed_not_reconciled(self):
        invoice = self.invoice(1000.0)
        line = self.bank_line(invoice.amount_residual + 50, invoice.payment_reference)
        line.action_nl_auto_reconcile()
        self.assertNotReconciled(line)
        self.assertEqual(line.nl_reconcile_state, "proposed")
        self.assertEqual(line.nl_proposal_line_ids.move_id, invoice)

    def test_payment_within_the_early_payment_discount_pays_the_invoice(self):
        term = self.env["account.payment.term"].create({
            "name": "2% binnen 10 dagen, netto 30", "early_discount": True, "discount_percentage": 2,
            "discount_days": 10, "line_ids": [Command.create({"value": "percent", "value_amount": 100,
                                                              "nb_days": 30})],
        })
        self.env.company.account_journal_early_pay_discount_loss_account_id = self.bank_costs
        invoice = self.init_invoice("out_invoice", partner=self.customer, amounts=[1000.0], post=False,
                                    invoice_date="2026-11-15")
        invoice.invoice_payment_term_id = term
        invoice.action_post()
        discounted = invoice.line_ids.filtered(lambda l: l.display_type == "payment_term").discount_amount_currency
        self.assertLess(discounted, invoice.amount_residual)
        line = self.bank_line(discounted, invoice.payment_reference, date="2026-11-20")
        line.action_nl_auto_reconcile()
        self.assertAuto(line, "reference")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        discount_line = line.line_ids.filtered(lambda aml: aml.account_id == self.bank_costs)
        self.assertAlmostEqual(discount_line.balance, invoice.amount_total - discounted)

    # ----------------------------------------------------------- rule 2

    def test_several_invoice_numbers_in_the_text_pay_all_of_them(self):
        first, second = self.invoice(100.0), self.invoice(250.0)
        line = self.bank_line(first.amount_residual + second.amount_residual,
                              f"facturen {first.name} en {second.name}", account_number=PAYER_IBAN)
        line.action_nl_auto_reconcile()
        self.assertAuto(line, "invoice_number")
        self.assertIn(first.payment_state, ("paid", "in_payment"))
        self.assertIn(second.payment_state, ("paid", "in_payment"))

    def test_invoice_number_with_other_amount_of_other_partner_is_proposed(self):
        invoice = self.invoice(100.0, partner=self.other_customer)
        line = self.bank_line(invoice.amount_residual, f"factuur {invoice.name}", account_number=PAYER_IBAN)
        line.action_nl_auto_reconcile()
        self.assertNotReconciled(line)
        self.assertEqual(line.nl_reconcile_state, "proposed")

    # ----------------------------------------------------------- rule 3

    def test_known_iban_with_one_invoice_of_the_amount(self):
        invoice = self.invoice(321.0)
        self.invoice(999.0)
        line = self.bank_line(invoice.amount_residual, "bedankt", account_number=PAYER_IBAN)
        line.action_nl_auto_reconcile()
        self.assertAuto(line, "iban")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_known_iban_with_two_invoices_of_the_amount_is_proposed(self):
        first, second = self.invoice(321.0), self.invoice(321.0)
        line = self.bank_line(first.amount_residual, "bedankt", account_number=PAYER_IBAN)
        line.action_nl_auto_reconcile()
        self.assertNotReconciled(line)
        self.assertEqual(line.nl_proposal_line_ids.move_id, first | second)
        # The OCA reconciliation screen opens with the first proposal filled in.
        data = line.reconcile_data_info["data"]
        counterparts = [item for item in data if item.get("counterpart_line_ids")]
        self.assertEqual(len(counterparts), 1)
        self.assertTrue(line.can_reconcile)

    # ----------------------------------------------------------- rule 4

    def test_payer_name_is_only_a_proposal(self):
        invoice = self.invoice(77.0)
        line = self.bank_line(invoice.amount_residual, "bestelling", account_number=OTHER_IBAN,
                              partner_name=self.customer.name.upper())
        line.action_nl_auto_reconcile()
        self.assertNotReconciled(line)
        self.assertEqual(line.nl_reconcile_rule, "name")
        self.assertEqual(line.nl_proposal_line_ids.move_id, invoice)

    # --------------------------------------------- isolation, currencies

    def test_never_matches_another_companys_invoice(self):
        other_company = self.company_data_2["company"]
        invoice = self.init_invoice("out_invoice", partner=self.customer, amounts=[100.0], post=True,
                                    company=other_company)
        self.assertTrue(invoice.payment_reference)
        line = self.bank_line(invoice.amount_residual, invoice.payment_reference, account_number=PAYER_IBAN)
        line.action_nl_auto_reconcile()
        self.assertNotReconciled(line)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertFalse(line.nl_proposal_line_ids)

    def test_invoice_in_another_currency_is_refused(self):
        invoice = self.invoice(100.0, currency=self.other_currency)
        line = self.bank_line(invoice.amount_residual, invoice.payment_reference)
        line.action_nl_auto_reconcile()
        self.assertNotReconciled(line)
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_payment_in_a_foreign_currency_is_refused(self):
        invoice = self.invoice(100.0)
        line = self.bank_line(invoice.amount_residual, invoice.payment_reference,
                              foreign_currency_id=self.other_currency.id,
                              amount_currency=invoice.amount_residual * 2)
        line.action_nl_auto_reconcile()
        self.assertNotReconciled(line)
        self.assertEqual(line.nl_reconcile_state, "proposed")

    # ---------------------------------------------------------------- undo

    def test_undo_restores_the_invoice_and_is_not_redone(self):
        invoice = self.invoice(100.0)
        line = self.bank_line(invoice.amount_residual, invoice.payment_reference)
        line.action_nl_auto_reconcile()
        self.assertAuto(line, "reference")
        line.action_undo_reconciliation()
        self.assertFalse(line.is_reconciled)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(line.nl_reconcile_state, "undone")
        line.action_nl_auto_reconcile()
        self.assertFalse(line.is_reconciled, "the user undid it: only proposed now")
        self.assertEqual(line.nl_proposal_line_ids.move_id, invoice)

    def test_oca_unreconcile_button_undoes_it_too(self):
        invoice = self.invoice(100.0)
        line = self.bank_line(invoice.amount_residual, invoice.payment_reference)
        line.action_nl_auto_reconcile()
        line.unreconcile_bank_line()
        self.assertFalse(line.is_reconciled)
        self.assertEqual(invoice.payment_state, "not_paid")

    # ------------------------------------------------------------- batch

    def test_a_batch_reconciles_each_line_with_its_own_invoice(self):
        invoices = [self.invoice(10.0 + i) for i in range(6)]
        lines = self.env["account.bank.statement.line"]
        for invoice in invoices:
            lines |= self.bank_line(invoice.amount_residual, invoice.payment_reference)
        noise = self.bank_line(12.34, "Dorpsstraat 12 1234 AB Utrecht")
        stats = (lines | noise).action_nl_auto_reconcile()
        self.assertEqual(stats["auto"], 6)
        for line, invoice in zip(lines, invoices):
            self.assertAuto(line, "reference")
            counterpart = line.line_ids.filtered(lambda aml: aml.account_id == invoice.line_ids.filtered(
                lambda l: l.display_type == "payment_term").account_id)
            self.assertEqual(counterpart.matched_debit_ids.debit_move_id.move_id, invoice)
        self.assertEqual(noise.nl_reconcile_state, "none")

    def test_new_lines_are_matched_as_they_are_created(self):
        """An import (camt.053, bank fetch) creates lines: OCA's automatic
        reconciliation hook runs our matcher for a Dutch company."""
        invoice = self.invoice(100.0)
        line = self.env["account.bank.statement.line"].with_context(_test_account_reconcile_oca=True).create({
            "journal_id": self.bank_journal.id, "date": "2026-11-20", "amount": invoice.amount_residual,
            "payment_ref": "/", "ref": invoice.payment_reference,
        })
        self.assertAuto(line, "reference")

    def test_journal_action_reconciles_its_lines(self):
        invoice = self.invoice(100.0)
        line = self.bank_line(invoice.amount_residual, invoice.payment_reference)
        self.bank_journal.action_nl_auto_reconcile()
        self.assertAuto(line, "reference")

    # ---------------------------------------------------- rule 5, learning

    def test_booking_rule_books_bank_costs(self):
        rule = self.env["account.nl.reconcile.rule"].create({
            "name": "Bankkosten", "text_pattern": "Kosten Zakelijk Betalingsverkeer",
            "direction": "out", "account_id": self.bank_costs.id,
        })
        line = self.bank_line(-12.5, "KOSTEN ZAKELIJK BETALINGSVERKEER 01-11-2026 T/M 30-11-2026")
        line.action_nl_auto_reconcile()
        self.assertAuto(line, "text_rule")
        self.assertEqual(line.nl_reconcile_rule_id, rule)
        booked = line.line_ids.filtered(lambda aml: aml.account_id == self.bank_costs)
        self.assertAlmostEqual(booked.balance, 12.5)
        self.assertEqual(rule.times_applied, 1)

    def test_interest_and_repayment_rules_and_a_line_fitting_both(self):
        rules = self.env["account.nl.reconcile.rule"]
        rules.create({"name": "Rente", "counterparty_iban": LOAN_IBAN, "text_pattern": "RENTE",
                      "account_id": self.interest.id})
        rules.create({"name": "Aflossing", "counterparty_iban": LOAN_IBAN, "text_pattern": "AFLOSSING",
                      "account_id": self.company_data["default_account_payable"].id})
        interest = self.bank_line(-80.0, "RENTE LENING 12345", account_number=LOAN_IBAN)
        both = self.bank_line(-580.0, "RENTE EN AFLOSSING", account_number=LOAN_IBAN)
        (interest | both).action_nl_auto_reconcile()
        self.assertAuto(interest, "text_rule")
        self.assertNotReconciled(both)
        self.assertEqual(both.nl_reconcile_state, "proposed")

    def _book_by_hand(self, line, account):
        with Form(line, view="account_reconcile_oca.bank_statement_line_form_reconcile_view") as form:
            form.manual_reference = "reconcile_auxiliary;1"
            form.manual_account_id = account
        line.reconcile_bank_line()

    def test_learning_offers_then_proposes_and_needs_confirmation(self):
        text = "Terminal settlement BEA CCV 20-11-2026"
        first = self.bank_line(250.0, text, account_number=OTHER_IBAN)
        self._book_by_hand(first, self.interest)
        self.assertTrue(first.is_reconciled)
        rule = first.nl_reconcile_rule_id
        self.assertTrue(rule.learned)
        self.assertFalse(rule.confirmed)
        self.assertEqual((rule.times_seen, rule.account_id), (1, self.interest))

        second = self.bank_line(180.0, "Terminal settlement BEA CCV 21-11-2026", account_number=OTHER_IBAN)
        second.action_nl_auto_reconcile()
        self.assertEqual(second.nl_reconcile_state, "none", "chosen once: only offered")
        self._book_by_hand(second, self.interest)
        self.assertEqual(rule.times_seen, 2)

        third = self.bank_line(90.0, "Terminal settlement BEA CCV 22-11-2026", account_number=OTHER_IBAN)
        third.action_nl_auto_reconcile()
        self.assertNotReconciled(third)
        self.assertEqual((third.nl_reconcile_state, third.nl_reconcile_rule_id), ("proposed", rule))
        # Proposed in the reconciliation screen: the rule's account is filled in.
        accounts = [item["account_id"][0] for item in third.reconcile_data_info["data"]
                    if item["kind"] == "other"]
        self.assertEqual(accounts, [self.interest.id])

        rule.action_confirm()
        fourth = self.bank_line(60.0, "Terminal settlement BEA CCV 23-11-2026", account_number=OTHER_IBAN)
        fourth.action_nl_auto_reconcile()
        self.assertAuto(fourth, "text_rule")

    def test_booking_rule_needs_an_iban_or_a_text(self):
        with self.assertRaises(ValidationError):
            self.env["account.nl.reconcile.rule"].create({"name": "All", "account_id": self.bank_costs.id})

    # ------------------------------------------------------- IBAN confirm

    def test_new_iban_is_added_only_after_confirmation(self):
        invoice = self.invoice(100.0)
        line = self.bank_line(invoice.amount_residual, invoice.payment_reference, account_number=OTHER_IBAN)
        line.action_nl_auto_reconcile()
        self.assertAuto(line, "reference")
        self.assertEqual(line.nl_iban_to_confirm, OTHER_IBAN)
        banks = self.env["res.partner.bank"].search([("partner_id", "=", self.customer.id)])
        self.assertNotIn(OTHER_IBAN, banks.mapped("sanitized_acc_number"))
        line.action_nl_confirm_iban()
        banks = self.env["res.partner.bank"].search([("partner_id", "=", self.customer.id)])
        self.assertIn(OTHER_IBAN, banks.mapped("sanitized_acc_number"))
        self.assertFalse(line.nl_iban_to_confirm)
