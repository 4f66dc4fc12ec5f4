# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Payment and direct-debit orders of the demo company, without the bank:
generated files against their XSD, which orders go through the bank link,
who may send, double sending, changed orders, companies, and the batch line
on the statement reconciled with the order's payments."""

from decimal import Decimal

import psycopg2

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import file_path, mute_logger

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.account_bank_link_abnamro.tools import abnamro_payments
from odoo.addons.account_bank_link_ing.tools import ing_payments
from odoo.addons.account_bank_link_payment_order.tools import pain

from .common import XSD, PaymentOrderMixin

ING_IBAN = "NL67INGB0006543210"
ABN_IBAN = "NL91ABNA0417164300"


@tagged("post_install", "-at_install")
class TestPaymentOrders(PaymentOrderMixin, AccountTestInvoicingCommon):
    country_code = "NL"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_demo_company()
        # Links as a consent leaves them (the consent itself is tested end
        # to end): what each bank offers decides the capability flags.
        cls.link_accounts = {}
        for provider, code, iban in (("ing", "ING", ING_IBAN), ("abnamro", "ABN", ABN_IBAN)):
            cls.link_accounts[code] = cls.link_journal(
                provider, code, iban, carries_direct_debits=provider == "abnamro")

    # -------------------------------------------------------------- files

    def test_credit_transfer_file_is_valid_pain_001(self):
        order, bills = self.make_order("out", "ING", [1210.00, 99.95, 2359.50])
        order.open2generated()
        xml = self.order_file(order)
        document = self.assert_valid_pain(xml, "pain.001.001.03")
        batch = pain.read_batch(xml, idempotency_key="k")
        self.assertEqual(batch.total, Decimal("3669.45"))
        # The OCA groups the two bills of one supplier into one transaction.
        self.assertEqual(batch.count, 2)
        self.assertEqual(batch.account_iban, ING_IBAN)
        self.assertEqual({i.counterparty_iban for i in batch.instructions},
                         {"NL81INGB0002345671", "NL02ABNA0123456789"})
        ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
        self.assertEqual(document.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=ns), "3669.45")

    def test_direct_debit_files_core_and_b2b_are_valid_pain_008(self):
        order, invoices = self.make_order("in", "ABN", [45.00, 1512.50])
        order.open2generated()
        xml = self.order_file(order)
        document = self.assert_valid_pain(xml, "pain.008.001.02")
        ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
        schemes = {n.text for n in document.iterfind(".//p:LclInstrm/p:Cd", namespaces=ns)}
        self.assertEqual(schemes, {"CORE", "B2B"})
        batch = pain.read_batch(xml, idempotency_key="k")
        self.assertEqual(batch.order_type, "direct_debit")
        self.assertEqual(batch.account_iban, ABN_IBAN)
        self.assertEqual(batch.total, Decimal("1557.50"))
        self.assertEqual({i.mandate_id for i in batch.instructions},
                         {self.mandates[c.id].unique_mandate_reference for c in self.customers[:2]})

    def test_tampered_file_is_refused_by_the_xsd(self):
        order, _bills = self.make_order("out", "ING", [10.00])
        order.open2generated()
        xml = self.order_file(order).replace(b"<CtrlSum>", b"<Bedrag>").replace(
            b"</CtrlSum>", b"</Bedrag>")
        with self.assertRaisesRegex(pain.PainError, "pain.001.001.03.xsd"):
            pain.validate(xml, file_path(XSD["pain.001.001.03"]))

    # --------------------------------------------------- what goes where

    def test_direct_debits_at_ing_are_offered_as_file_only(self):
        order, _invoices = self.make_order("in", "ING", [45.00])
        self.assertEqual(order.bank_send_mode, "file")
        self.assertIn("upload it in the bank's portal", order.bank_send_explanation)
        self.assertFalse(order.bank_may_send)
        with self.assertRaisesRegex(UserError, "offers no interface for direct-debit orders"):
            order.with_user(self.sender).action_bank_send()
        self.assertFalse(order.bank_submission_ids)

    def test_unlinked_journal_offers_the_file(self):
        order, _bills = self.make_order("out", "ABN2", [12.00])
        self.assertEqual(order.bank_send_mode, "file")
        self.assertIn("not linked", order.bank_send_explanation)

    def test_capabilities_follow_what_the_bank_offers(self):
        ct, dd = "credit_transfer", "direct_debit"
        self.assertEqual(ing_payments.IngPayments().payment_support(ct).how, "api")
        self.assertEqual(ing_payments.IngPayments().payment_support(dd).how, "file")
        self.assertTrue(abnamro_payments.AbnAmroPayments().payment_support(dd).needs_consent)
        self.assertFalse(abnamro_payments.AbnAmroPayments().payment_support(ct).has_status)

    # ----------------------------------------------------------- security

    def test_only_the_payments_group_sends(self):
        order, _bills = self.make_order("out", "ING", [10.00])
        with self.assertRaises(AccessError):
            order.with_user(self.viewer).action_bank_send()
        self.assertFalse(order.bank_submission_ids)
        action = order.with_user(self.sender).action_bank_send()
        self.assertEqual(action["url"], f"/bank_link/payment/start/{order.bank_submission_ids.id}")
        self.assertEqual(order.state, "generated")
        self.assertEqual(order.bank_submission_ids.file_hash,
                         pain.file_hash(self.order_file(order)))

    def test_an_order_is_not_sent_twice(self):
        order, _bills = self.make_order("out", "ING", [10.00])
        order.with_user(self.sender).action_bank_send()
        with self.assertRaisesRegex(UserError, "not sent twice"):
            order.with_user(self.sender).action_bank_send()
        # Not even past the application: the database keeps one live sending.
        # (sudo: past the access rights too, which refuse it before.)
        with self.assertRaises(psycopg2.IntegrityError), self.cr.savepoint(), mute_logger("odoo.sql_db"):
            self.env["account.payment.order.bank.submission"].sudo().create({
                "order_id": order.id, "link_account_id": self.link_accounts["ING"].id,
                "order_type": "credit_transfer",
            })
        self.assertEqual(len(order.bank_submission_ids), 1)

    def test_sent_order_cannot_be_changed(self):
        order, _bills = self.make_order("out", "ING", [10.00, 20.00])
        order.with_user(self.sender).action_bank_send()
        with self.assertRaisesRegex(UserError, "at the bank"):
            order.payment_line_ids[0].amount_currency = 5.00
        with self.assertRaisesRegex(UserError, "at the bank"):
            order.payment_line_ids[0].unlink()
        with self.assertRaisesRegex(UserError, "at the bank"):
            order.action_cancel()
        submission = order.bank_submission_ids
        # Changed behind our back (e.g. in the database): refused at sending.
        self.env.cr.execute("UPDATE account_payment_line SET amount_currency = 1 WHERE id = %s",
                            [order.payment_line_ids[0].id])
        order.payment_line_ids.invalidate_recordset()
        with self.assertRaisesRegex(UserError, "changed after it was prepared"):
            submission.with_user(self.sender)._submit(provider=None)

    def test_submissions_stay_in_their_company(self):
        order, _bills = self.make_order("out", "ING", [10.00])
        order.with_user(self.sender).action_bank_send()
        other = self.setup_other_company()["company"]
        outsider = self.env["res.users"].create({
            "name": "Buitenstaander", "login": "buiten", "company_id": other.id,
            "company_ids": [(6, 0, other.ids)],
            "groups_id": [(6, 0, [self.env.ref(
                "account_bank_link_payment_order.group_bank_payment_send").id,
                self.env.ref("account.group_account_manager").id])],
        })
        Submission = self.env["account.payment.order.bank.submission"].with_user(outsider)
        self.assertFalse(Submission.search([]))
        with self.assertRaises(AccessError):
            Submission.browse(order.bank_submission_ids.id).read(["state"])

    # ----------------------------------------------------- reconciliation

    def test_batch_line_is_reconciled_with_all_payments_of_the_order(self):
        order, bills = self.make_order("out", "ING", [1210.00, 99.95, 2359.50])
        order.with_user(self.sender).action_bank_send()
        submission = order.bank_submission_ids
        # As after an accepted batch (the bank's side is tested end to end).
        submission.write({"state": "accepted", "iso_status": "ACCP", "has_status": True,
                          "sent_at": fields.Datetime.now()})
        order.generated2uploaded()
        other = self.env["account.bank.statement.line"].create({
            "journal_id": self.journals["ING"].id, "date": fields.Date.today(),
            "amount": -3669.45, "payment_ref": "Iets anders",
            "account_number": "NL81INGB0002345671",
        })
        line = self.env["account.bank.statement.line"].create({
            "journal_id": self.journals["ING"].id, "date": fields.Date.today(),
            "amount": -3669.45, "payment_ref": f"Verzamelbetaling {submission.message_id}",
        })
        (other + line).action_nl_auto_reconcile()
        self.assertTrue(line.is_reconciled)
        self.assertFalse(other.is_reconciled, "a single payment of the same amount is no batch")
        self.assertEqual(submission.state, "executed")
        self.assertEqual(submission.statement_line_id, line)
        self.assertEqual(set(bills.mapped("payment_state")), {"paid"})
        outstanding = order.payment_ids.outstanding_account_id
        self.assertTrue(outstanding)
        counterparts = line.move_id.line_ids.filtered(lambda ln: ln.account_id in outstanding)
        self.assertEqual(len(counterparts), len(order.payment_ids))
        self.assertTrue(all(counterparts.mapped("reconciled")))

    def test_batch_line_with_another_amount_is_left_alone(self):
        order, _bills = self.make_order("in", "ABN", [45.00, 1512.50])
        order.with_user(self.sender).action_bank_send()
        order.bank_submission_ids.write({"state": "received"})
        order.generated2uploaded()
        line = self.env["account.bank.statement.line"].create({
            "journal_id": self.journals["ABN"].id, "date": fields.Date.today(),
            "amount": 1557.49, "payment_ref": order.bank_submission_ids.message_id,
        })
        line.action_nl_auto_reconcile()
        self.assertFalse(line.is_reconciled)
        self.assertEqual(order.bank_submission_ids.state, "received")
