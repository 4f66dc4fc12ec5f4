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
        # OCA account_payment_order (installed alongside) keeps bank accounts to its payment group.
        payment_group = cls.env.ref("account_payment_order.group_account_payment", raise_if_not_found=False)
        if payment_group:
            cls.env.user.groups_id |= payment_group
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

    def chart_account(self, code):
        return self.env["account.chart.template"].ref(code)

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

    def _invoice_with_early_discount(self, move_type="out_invoice"):
        term = self.env["account.payment.term"].create({
            "name": "2% binnen 10 dagen, netto 30", "early_discount": True, "discount_percentage": 2,
            "discount_days": 10, "early_pay_discount_computation": "included",
            "line_ids": [Command.create({"value": "percent", "value_amount": 100, "nb_days": 30})],
        })
        company = self.env.company
        company.account_journal_early_pay_discount_loss_account_id = self.bank_costs
        company.account_journal_early_pay_discount_gain_account_id = self.company_data["default_account_revenue"]
        tax = self.company_data["default_tax_sale" if move_type == "out_invoice" else "default_tax_purchase"]
        invoice = self.init_invoice(move_type, partner=self.customer, amounts=[1000.0], taxes=tax,
                                    post=False, invoice_date="2026-11-15")
        invoice.invoice_payment_term_id = term
        if move_type == "in_invoice":
            invoice.ref = invoice.payment_reference = betalingskenmerk.generate(4242)
        invoice.action_post()
        return invoice, tax

    def test_payment_within_the_early_payment_discount_pays_the_invoice(self):
        invoice, tax = self._invoice_with_early_discount()
        self.assertAlmostEqual(invoice.amount_tax, 210.0)
        discounted = invoice.line_ids.filtered(lambda ln: ln.display_type == "payment_term").discount_amount_currency
        self.assertAlmostEqual(discounted, 1185.80)
        line = self.bank_line(discounted, invoice.payment_reference, date="2026-11-20")
        line.action_nl_auto_reconcile()
        self.assertAuto(line, "reference")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertAlmostEqual(invoice.amount_residual, 0.0)
        # Odoo's own early-payment lines: 2% off the base, and the VAT corrected.
        base = line.line_ids.filtered(lambda aml: aml.display_type == "epd" and not aml.tax_repartition_line_id)
        vat = line.line_ids.filtered(lambda aml: aml.tax_repartition_line_id)
        self.assertEqual(base.account_id, self.bank_costs)
        self.assertEqual(base.tax_ids, tax)
        self.assertAlmostEqual(base.balance, 20.0)
        self.assertEqual(vat.tax_line_id, tax)
        self.assertAlmostEqual(vat.balance, 4.20)
        self.assertTrue(vat.tax_tag_ids, "the VAT correction reaches the tax report")

    def test_vendor_bill_paid_within_the_discount_gets_the_vat_corrected(self):
        bill, tax = self._invoice_with_early_discount("in_invoice")
        line = self.bank_line(-1185.80, bill.payment_reference, date="2026-11-20")
        line.action_nl_auto_reconcile()
        self.assertAuto(line, "reference")
        self.assertIn(bill.payment_state, ("paid", "in_payment"))
        vat = line.line_ids.filtered(lambda aml: aml.tax_repartition_line_id)
        self.assertEqual(vat.tax_line_id, tax)
        self.assertAlmostEqual(vat.balance, -4.20)

    def test_discounted_payment_after_the_discount_period_leaves_the_discount_open(self):
        invoice, _tax = self._invoice_with_early_discount()
        # A partial payment: the payer must be known as the customer.
        line = self.bank_line(1185.80, invoice.payment_reference, date="2026-12-01", account_number=PAYER_IBAN)
        line.action_nl_auto_reconcile()
        self.assertAuto(line, "reference")
        self.assertEqual(invoice.payment_state, "partial")
        self.assertAlmostEqual(invoice.amount_residual, 24.20)
        self.assertFalse(line.line_ids.filtered(lambda aml: aml.display_type == "epd"))

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

    def test_stranger_with_a_dossier_number_like_an_invoice_number_is_not_reconciled(self):
        invoice = self.invoice(1500.0)
        number = invoice.name.split("/", 1)[1]  # "2026/00001" as a dossier number
        line = self.bank_line(420.0, f"Schade-uitkering dossier {number} d.d. 19-09-2026",
                              account_number="NL58INGB0000000001", partner_name="Gemeente Lingewaard")
        line.action_nl_auto_reconcile()
        self.assertNotReconciled(line)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertFalse(line.partner_id, "an unconfirmed payer is not made the customer")

    def test_invoice_number_and_amount_from_an_unknown_payer_is_proposed(self):
        invoice = self.invoice(275.0)
        line = self.bank_line(invoice.amount_residual, f"factuur {invoice.name}",
                              account_number="NL58INGB0000000001", partner_name="P. de Boer")
        line.action_nl_auto_reconcile()
        self.assertNotReconciled(line)
        self.assertEqual(line.nl_reconcile_state, "proposed")
        self.assertEqual(line.nl_proposal_line_ids.move_id, invoice)

    def test_parent_company_pays_the_daughters_invoice_by_invoice_number(self):
        holding = self.env["res.partner"].create({"name": "Visser Holding B.V.", "is_company": True})
        self.customer.parent_id = holding
        self.env["res.partner.bank"].create({"acc_number": "NL02RABO0123456789", "partner_id": holding.id})
        invoice = self.invoice(640.0)
        line = self.bank_line(invoice.amount_residual, f"Factuur {invoice.name} namens dochter",
                              account_number="NL02RABO0123456789", partner_name=holding.name)
        line.action_nl_auto_reconcile()
        self.assertAuto(line, "invoice_number")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def _screen_counterparts(self, line):
        return [item for item in line.reconcile_data_info["data"] if item.get("counterpart_line_ids")]

    def test_one_payment_for_two_invoices_naming_one_proposes_both_in_the_screen(self):
        first, second = self.invoice(100.0), self.invoice(250.0)
        line = self.bank_line(first.amount_residual + second.amount_residual, f"factuur {first.name}",
                              account_number=PAYER_IBAN)
        line.action_nl_auto_reconcile()
        self.assertNotReconciled(line)
        self.assertEqual(line.nl_reconcile_state, "proposed")
        self.assertEqual(line.nl_proposal_line_ids.move_id, first | second)
        self.assertEqual(len(self._screen_counterparts(line)), 2)

    def test_known_iban_paying_two_invoices_at_once_proposes_both_in_the_screen(self):
        first, second = self.invoice(100.0), self.invoice(250.0)
        self.invoice(999.0)
        line = self.bank_line(first.amount_residual + second.amount_residual, "bedankt",
                              account_number=PAYER_IBAN)
        line.action_nl_auto_reconcile()
        self.assertNotReconciled(line)
        self.assertEqual(line.nl_proposal_line_ids.move_id, first | second)
        self.assertEqual(len(self._screen_counterparts(line)), 2)

    def test_partial_payment_from_an_unknown_payer_is_proposed_in_the_screen(self):
        invoice = self.invoice(1000.0)
        line = self.bank_line(400.0, f"Deelbetaling {invoice.payment_reference}",
                              account_number="NL58INGB0000000001", partner_name="Onbekend")
        line.action_nl_auto_reconcile()
        self.assertNotReconciled(line)
        self.assertEqual(line.nl_reconcile_reason_code, "reference_partial_unconfirmed")
        self.assertEqual(len(self._screen_counterparts(line)), 1)
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_a_dutch_user_reads_the_reason_in_dutch(self):
        """The night run stores the rule and its parameters; each reader
        gets the reason in their own language."""
        self.env["res.lang"]._activate_lang("nl_NL")
        invoice = self.invoice(275.0)
        line = self.bank_line(invoice.amount_residual, f"factuur {invoice.name}",
                              account_number="NL58INGB0000000001", partner_name="P. de Boer")
        line.with_context(lang="en_US").action_nl_auto_reconcile()
        self.assertEqual(line.nl_reconcile_reason_code, "invoice_payer_unconfirmed")
        english = line.with_context(lang="en_US").nl_reconcile_reason
        dutch = line.with_context(lang="nl_NL").nl_reconcile_reason
        self.assertIn("the payer is not known", english)
        self.assertIn("de betaler is niet bekend als de relatie", dutch)
        self.assertIn(invoice.name, dutch)
        self.assertNotIn("payer", dutch)

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
        for line, invoice in zip(lines, invoices, strict=False):
            self.assertAuto(line, "reference")
            counterpart = line.line_ids.filtered(lambda aml, invoice=invoice: aml.account_id == invoice.line_ids.filtered(
                lambda ln: ln.display_type == "payment_term").account_id)
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

    def test_shipped_rule_books_bank_costs(self):
        rule = self.env.ref(f"l10n_nl_bankkoppeling.{self.env.company.id}_nl_rule_bank_costs")
        self.assertTrue(rule.confirmed)
        self.assertEqual(rule.account_id, self.chart_account("4630"))
        line = self.bank_line(-12.5, "KOSTEN ZAKELIJK BETALINGSVERKEER 01-11-2026 T/M 30-11-2026")
        line.action_nl_auto_reconcile()
        self.assertAuto(line, "text_rule")
        self.assertEqual(line.nl_reconcile_rule_id, rule)
        booked = line.line_ids.filtered(lambda aml: aml.account_id == rule.account_id)
        self.assertAlmostEqual(booked.balance, 12.5)
        self.assertEqual(rule.times_applied, 1)

    def test_shipped_suggestions_are_proposed_until_confirmed(self):
        rule = self.env.ref(f"l10n_nl_bankkoppeling.{self.env.company.id}_nl_rule_belastingdienst")
        self.assertFalse(rule.confirmed)
        self.assertEqual(rule.account_id, self.chart_account("1550"))
        first = self.bank_line(-2100.0, "OMZETBELASTING 3E KWARTAAL", account_number="NL86 INGB 0002 4455 88")
        first.action_nl_auto_reconcile()
        self.assertNotReconciled(first)
        self.assertEqual((first.nl_reconcile_state, first.nl_reconcile_rule_id), ("proposed", rule))
        rule.action_confirm()
        second = self.bank_line(-2200.0, "OMZETBELASTING 4E KWARTAAL", account_number="NL86INGB0002445588")
        second.action_nl_auto_reconcile()
        self.assertAuto(second, "text_rule")
        self.assertEqual(second.line_ids.filtered(lambda aml: aml.account_id == rule.account_id).balance, 2200.0)

    def test_shipped_interest_and_repayment_suggestions_on_one_line_are_proposed(self):
        both = self.bank_line(-580.0, "RENTE EN AFLOSSING LENING 12345")
        interest = self.bank_line(-80.0, "Rente lening 12345")
        (both | interest).action_nl_auto_reconcile()
        self.assertEqual(both.nl_reconcile_state, "proposed")
        self.assertIn("Several booking rules", both.nl_reconcile_reason)
        self.assertEqual(interest.nl_reconcile_rule_id.account_id, self.chart_account("4710"))
        self.assertNotReconciled(interest)

    def test_shipped_rules_are_per_company(self):
        rules = self.env["account.nl.reconcile.rule"].search([("learned", "=", False)])
        mine = rules.filtered(lambda rule: rule.company_id == self.env.company)
        self.assertEqual(len(mine), 7)
        self.assertEqual(mine.account_id.company_ids, self.env.company)

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
        text = "Terminal settlement BEA PAS 20-11-2026"
        first = self.bank_line(250.0, text, account_number=OTHER_IBAN)
        self._book_by_hand(first, self.interest)
        self.assertTrue(first.is_reconciled)
        rule = first.nl_reconcile_rule_id
        self.assertTrue(rule.learned)
        self.assertFalse(rule.confirmed)
        self.assertEqual((rule.times_seen, rule.account_id), (1, self.interest))

        second = self.bank_line(180.0, "Terminal settlement BEA PAS 21-11-2026", account_number=OTHER_IBAN)
        second.action_nl_auto_reconcile()
        self.assertEqual(second.nl_reconcile_state, "none", "chosen once: only offered")
        self._book_by_hand(second, self.interest)
        self.assertEqual(rule.times_seen, 2)

        third = self.bank_line(90.0, "Terminal settlement BEA PAS 22-11-2026", account_number=OTHER_IBAN)
        third.action_nl_auto_reconcile()
        self.assertNotReconciled(third)
        self.assertEqual((third.nl_reconcile_state, third.nl_reconcile_rule_id), ("proposed", rule))
        # Proposed in the reconciliation screen: the rule's account is filled in.
        accounts = [item["account_id"][0] for item in third.reconcile_data_info["data"]
                    if item["kind"] == "other"]
        self.assertEqual(accounts, [self.interest.id])

        rule.action_confirm()
        fourth = self.bank_line(60.0, "Terminal settlement BEA PAS 23-11-2026", account_number=OTHER_IBAN)
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

    # ------------------------------------- rules 1-4 as reconciliation models

    def nl_model(self, kind, company=None):
        return self.env["account.reconcile.model"].search([
            ("nl_matching_kind", "=", kind), ("company_id", "=", (company or self.env.company).id)])

    def test_each_dutch_company_has_the_four_models_in_the_configuration(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_account_reconcile_model")
        models = self.env["account.reconcile.model"].search(action.get("domain") or [])
        mine = models.filtered(lambda model: model.nl_matching_kind and model.company_id == self.env.company)
        self.assertEqual(sorted(mine.mapped("nl_matching_kind")), ["iban", "invoice_number", "name", "reference"])
        self.assertFalse(self.nl_model("name").auto_reconcile)
        self.assertTrue(self.nl_model("reference").auto_reconcile)
        self.assertEqual(set(mine.mapped("rule_type")), {"invoice_matching"})
        if self.env["res.lang"]._lang_get("nl_NL"):
            self.assertEqual(self.nl_model("reference").with_context(lang="nl_NL").name,
                             "Nederlands afletteren: betalingskenmerk")
        # Every company its own.
        other = self.nl_model("reference", self.company_data_2["company"])
        self.assertTrue(other)
        self.assertNotEqual(other, self.nl_model("reference"))

    def test_a_company_getting_the_dutch_chart_gets_the_models(self):
        company = self.env["res.company"].create({"name": "Nieuwe BV", "country_id": self.env.ref("base.nl").id})
        self.env.user.company_ids |= company
        self.env["account.chart.template"].try_loading("nl", company=company, install_demo=False)
        models = self.env["account.reconcile.model"].search([("company_id", "=", company.id),
                                                             ("nl_matching_kind", "!=", False)])
        self.assertEqual(len(models), 4)
        rules = self.env["account.nl.reconcile.rule"].search([("company_id", "=", company.id)])
        self.assertEqual(len(rules), 7)
        self.assertTrue(all(rule.account_id.company_ids == company for rule in rules))

    def test_model_without_auto_validate_only_proposes(self):
        self.nl_model("reference").auto_reconcile = False
        invoice = self.invoice(100.0)
        line = self.bank_line(invoice.amount_residual, invoice.payment_reference, account_number=OTHER_IBAN)
        line.action_nl_auto_reconcile()
        self.assertNotReconciled(line)
        self.assertEqual((line.nl_reconcile_state, line.nl_reconcile_rule), ("proposed", "reference"))
        self.assertEqual(line.nl_reconcile_model_id, self.nl_model("reference"))
        self.assertEqual(line.nl_proposal_line_ids.move_id, invoice)

    def test_archived_model_switches_its_rule_off(self):
        self.nl_model("iban").active = False
        invoice = self.invoice(321.0)
        line = self.bank_line(invoice.amount_residual, "bedankt", account_number=PAYER_IBAN)
        line.action_nl_auto_reconcile()
        self.assertNotReconciled(line)
        self.assertEqual(line.nl_reconcile_state, "none")

    def test_automatic_reconciliation_names_its_model(self):
        invoice = self.invoice(100.0)
        line = self.bank_line(invoice.amount_residual, invoice.payment_reference)
        line.action_nl_auto_reconcile()
        self.assertAuto(line, "reference")
        self.assertEqual(line.nl_reconcile_model_id, self.nl_model("reference"))

    def test_another_companys_models_do_not_steer_this_company(self):
        other_company = self.company_data_2["company"]
        self.env["account.reconcile.model"]._nl_setup_companies(other_company)
        self.nl_model("reference", other_company).active = False
        invoice = self.invoice(100.0)
        line = self.bank_line(invoice.amount_residual, invoice.payment_reference)
        line.action_nl_auto_reconcile()
        self.assertAuto(line, "reference")

    def test_name_model_cannot_validate_automatically(self):
        with self.assertRaises(ValidationError):
            self.nl_model("name").auto_reconcile = True

    def test_oca_screen_asks_the_models_and_gets_the_dutch_proposal(self):
        """A line the batch never saw: opening it in the OCA screen asks the
        reconciliation models, and the Dutch ones answer."""
        invoice = self.invoice(100.0)
        line = self.bank_line(invoice.amount_residual, f"kenmerk {invoice.payment_reference}")
        self.assertFalse(line.nl_reconcile_state)
        models = self.env["account.reconcile.model"].search([("company_id", "=", self.env.company.id)])
        result = models._apply_rules(line, line._retrieve_partner())
        self.assertEqual(result["model"], self.nl_model("reference"))
        self.assertEqual(result["amls"].move_id, invoice)
        self.assertFalse(result["auto_reconcile"])
        counterparts = [item for item in line.reconcile_data_info["data"] if item.get("counterpart_line_ids")]
        self.assertEqual(len(counterparts), 1)
        self.assertFalse(line.is_reconciled)

    # ------------------------------------------------ the rule offer banner

    def test_hand_booking_offers_a_rule_and_not_now_keeps_it_unconfirmed(self):
        line = self.bank_line(-45.0, "Parkeergarage Centrum 12-11-2026", account_number=LOAN_IBAN,
                              partner_name="Q-Park")
        self._book_by_hand(line, self.interest)
        rule = line.nl_rule_offer_id
        self.assertTrue(rule)
        self.assertIn("Q-Park / PARKEERGARAGE CENTRUM", line.nl_rule_offer_text)
        self.assertIn(self.interest.display_name, line.nl_rule_offer_text)
        line.action_nl_rule_offer_dismiss()
        self.assertFalse(line.nl_rule_offer_id)
        self.assertFalse(rule.confirmed)
        self.assertTrue(rule.exists(), "still learning: proposed once chosen twice")
        again = self.bank_line(-30.0, "Parkeergarage Centrum 19-11-2026", account_number=LOAN_IBAN)
        self._book_by_hand(again, self.interest)
        self.assertEqual(again.nl_rule_offer_id, rule)
        third = self.bank_line(-20.0, "Parkeergarage Centrum 26-11-2026", account_number=LOAN_IBAN)
        third.action_nl_auto_reconcile()
        self.assertNotReconciled(third)
        self.assertEqual((third.nl_reconcile_state, third.nl_reconcile_rule_id), ("proposed", rule))

    def test_create_rule_from_the_offer_books_the_next_line_automatically(self):
        line = self.bank_line(-45.0, "Parkeergarage Centrum 12-11-2026", account_number=LOAN_IBAN)
        self._book_by_hand(line, self.interest)
        rule = line.nl_rule_offer_id
        line.action_nl_rule_offer_accept()
        self.assertTrue(rule.confirmed)
        self.assertFalse(line.nl_rule_offer_id)
        following = self.bank_line(-50.0, "Parkeergarage Centrum 13-11-2026", account_number=LOAN_IBAN)
        following.action_nl_auto_reconcile()
        self.assertAuto(following, "text_rule")
        self.assertEqual(following.nl_reconcile_rule_id, rule)
        # A line booked by hand with a confirmed rule offers nothing more.
        by_hand = self.bank_line(-55.0, "Parkeergarage Centrum 14-11-2026", account_number=LOAN_IBAN)
        by_hand.nl_reconcile_state = "undone"
        self._book_by_hand(by_hand, self.interest)
        self.assertFalse(by_hand.nl_rule_offer_id)

    def test_offer_has_the_classes_the_browser_test_uses(self):
        arch = self.env["account.bank.statement.line"].get_view(
            self.env.ref("account_reconcile_oca.bank_statement_line_form_reconcile_view").id)["arch"]
        for css_class in ("o_nl_rule_offer", "o_nl_rule_offer_accept", "o_nl_rule_offer_dismiss"):
            self.assertIn(css_class, arch)

    def test_line_with_an_open_offer_stays_in_the_not_reconciled_list(self):
        """The reconciliation screen lists "Not reconciled" lines: the line
        just booked by hand stays there until its offer is answered."""
        from lxml import etree

        from odoo.tools.safe_eval import safe_eval

        search = self.env["account.bank.statement.line"].get_views([(False, "search")])
        arch = etree.fromstring(search["views"]["search"]["arch"])
        domain = safe_eval(arch.xpath("//filter[@name='not_reconciled']")[0].get("domain"))
        line = self.bank_line(-45.0, "Parkeergarage Centrum 12-11-2026", account_number=LOAN_IBAN)
        self._book_by_hand(line, self.interest)
        self.assertTrue(line.is_reconciled)
        listed = self.env["account.bank.statement.line"].search(domain + [("id", "=", line.id)])
        self.assertEqual(listed, line)
        line.action_nl_rule_offer_dismiss()
        listed = self.env["account.bank.statement.line"].search(domain + [("id", "=", line.id)])
        self.assertFalse(listed)
