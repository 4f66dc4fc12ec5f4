# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A payment sender tries to send what no order says, over XML-RPC against
the running test server (security issue, item 4): a submission made by
hand with a forged file, a rewritten state or batch key, a file edited
after it was generated."""

import base64
import xmlrpc.client

from stdnum import iban as stdnum_iban

from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .common import PaymentOrderMixin

ING_IBAN = "NL67INGB0006543210"
SUBMISSION = "account.payment.order.bank.submission"


def foreign_iban():
    bban = "RABO0300065264"
    return "NL" + stdnum_iban.calc_check_digits("NL00" + bban) + bban


@tagged("post_install", "-at_install")
class TestPaymentAttacks(PaymentOrderMixin, AccountTestInvoicingCommon, HttpCase):
    country_code = "NL"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_demo_company()
        cls.link_account = cls.link_journal("ing", "ING", ING_IBAN)

    def rpc(self, model, method, *args, **kwargs):
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, self.sender.id, "betaler-korenaar-1", model, method,
            list(args), kwargs,
        )

    def assert_refused(self, model, method, *args, **kwargs):
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.rpc(model, method, *args, **kwargs)
        self.assertRegex(caught.exception.faultString, "not allowed|AccessError|access|rights")

    def test_sender_cannot_make_a_submission_by_hand(self):
        order, _bills = self.make_order("out", "ING", [10.00])
        forged = self.env(su=True)["ir.attachment"].create({
            "name": "forged.xml", "raw": b"<Document/>", "res_model": order._name,
            "res_id": order.id,
        })
        self.assert_refused(SUBMISSION, "create", {
            "order_id": order.id, "link_account_id": self.link_account.id,
            "order_type": "credit_transfer", "attachment_id": forged.id,
            "file_hash": "0" * 64, "amount_total": 9999.0,
        })
        self.assertFalse(order.bank_submission_ids)

    def test_sender_cannot_rewrite_state_or_keys(self):
        order, _bills = self.make_order("out", "ING", [10.00])
        order.with_user(self.sender).action_bank_send()
        submission = order.bank_submission_ids
        key, file_hash = submission.idempotency_key, submission.file_hash
        for vals in ({"state": "accepted"}, {"idempotency_key": "replayed-key"},
                     {"file_hash": "0" * 64}, {"content_hash": False},
                     {"attachment_id": False}):
            self.assert_refused(SUBMISSION, "write", [submission.id], vals)
        submission.invalidate_recordset()
        self.assertEqual((submission.state, submission.idempotency_key, submission.file_hash),
                         ("sending", key, file_hash))
        # The sender still reads what was sent.
        rows = self.rpc(SUBMISSION, "read", [submission.id], ["state", "amount_total"])
        self.assertEqual(rows[0]["state"], "sending")

    def test_a_file_edited_after_generation_never_reaches_the_bank(self):
        order, _bills = self.make_order("out", "ING", [10.00])
        order.open2generated()
        attachment = self.env(su=True)["ir.attachment"].search(
            [("res_model", "=", order._name), ("res_id", "=", order.id),
             ("name", "=ilike", "%.xml")], order="id desc", limit=1)
        xml = base64.b64decode(attachment.datas)
        creditor = order.payment_line_ids[0].partner_bank_id.sanitized_acc_number
        self.assertIn(creditor.encode(), xml)
        attachment.raw = xml.replace(creditor.encode(), foreign_iban().encode())
        with self.assertRaisesRegex(UserError, "does not match the order's lines"):
            order.with_user(self.sender).action_bank_send()
        self.assertFalse(order.bank_submission_ids)

    def test_the_file_is_compared_at_every_sending(self):
        order, _bills = self.make_order("out", "ING", [10.00])
        order.with_user(self.sender).action_bank_send()
        submission = order.bank_submission_ids
        submission.attachment_id.sudo().raw = b"<Document>other</Document>"
        with self.assertRaisesRegex(UserError, "changed after it was made"):
            submission.with_user(self.sender)._submit(provider=None)

    def test_an_unreadable_file_is_a_clear_error_not_a_crash(self):
        order, _bills = self.make_order("out", "ING", [10.00])
        order.open2generated()
        attachment = self.env(su=True)["ir.attachment"].search(
            [("res_model", "=", order._name), ("res_id", "=", order.id),
             ("name", "=ilike", "%.xml")], order="id desc", limit=1)
        attachment.raw = b"<Document><CstmrCdtTrfInitn>"
        with self.assertRaisesRegex(UserError, "cannot be read"):
            order.with_user(self.sender).action_bank_send()
        self.assertFalse(order.bank_submission_ids)
