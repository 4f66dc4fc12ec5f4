# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""'Send to bank' on OCA payment and direct-debit orders."""

import base64
import hashlib

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.l10n_nl_bankkoppeling.tools import ibans
from odoo.addons.l10n_nl_bankkoppeling.tools import provider as bank_provider

from ..tools import pain
from .account_payment_order_bank_submission import LIVE_STATES, STATES

#: OCA payment-method codes -> our order types.
METHOD_ORDER_TYPES = {
    ("outbound", "sepa_credit_transfer"): bank_provider.ORDER_CREDIT_TRANSFER,
    ("inbound", "sepa_direct_debit"): bank_provider.ORDER_DIRECT_DEBIT,
}
CARRIES_FIELD = {
    bank_provider.ORDER_CREDIT_TRANSFER: "carries_payments",
    bank_provider.ORDER_DIRECT_DEBIT: "carries_direct_debits",
}


class AccountPaymentOrder(models.Model):
    _inherit = "account.payment.order"

    bank_order_type = fields.Selection(
        [
            (bank_provider.ORDER_CREDIT_TRANSFER, "Credit transfers"),
            (bank_provider.ORDER_DIRECT_DEBIT, "Direct debits"),
        ],
        compute="_compute_bank_order_type",
    )
    bank_link_account_id = fields.Many2one(
        "account.bank.link.account", compute="_compute_bank_send", string="Linked account",
    )
    bank_send_mode = fields.Selection(
        [("api", "Through the bank link"), ("file", "File for the bank's portal")],
        compute="_compute_bank_send", string="Sending",
    )
    bank_send_explanation = fields.Char(compute="_compute_bank_send", string="How it is sent")
    bank_submission_ids = fields.One2many(
        "account.payment.order.bank.submission", "order_id", string="Sent to the bank",
        readonly=True,
    )
    bank_submission_id = fields.Many2one(
        "account.payment.order.bank.submission", compute="_compute_bank_submission",
        string="Last sending",
    )
    bank_state = fields.Selection(
        [("not_sent", "Not sent"), *STATES], compute="_compute_bank_submission",
        string="At the bank",
    )
    bank_iso_status = fields.Char(compute="_compute_bank_submission", string="Bank status")
    bank_reason_code = fields.Char(compute="_compute_bank_submission", string="Reason code")
    bank_reason_text = fields.Char(compute="_compute_bank_submission", string="Reason")
    bank_status_at = fields.Datetime(compute="_compute_bank_submission",
                                     string="Status checked at")
    bank_approval_url = fields.Char(compute="_compute_bank_submission", string="Approval page")
    bank_payment_id = fields.Char(compute="_compute_bank_submission", string="Bank's id")
    bank_may_send = fields.Boolean(compute="_compute_bank_submission")

    @api.depends("payment_type", "payment_method_id.code")
    def _compute_bank_order_type(self):
        for order in self:
            order.bank_order_type = METHOD_ORDER_TYPES.get(
                (order.payment_type, order.payment_method_id.code), False)

    @api.depends("journal_id", "bank_order_type", "payment_line_ids")
    @api.depends_context("lang")
    def _compute_bank_send(self):
        # Payment users need not read bank links: what the link offers is
        # shown to them, the link itself is not.
        accounts = self.env["account.bank.link.account"].sudo().search(
            [("journal_id", "in", self.journal_id.ids)], order="active_link desc, id desc")
        by_journal = {}
        for account in accounts:
            by_journal.setdefault(account.journal_id.id, account)
        for order in self:
            account = by_journal.get(order.journal_id.id, accounts.browse())
            order.bank_link_account_id = account.sudo(False)
            mode, text = order._bank_send_mode(account)
            order.bank_send_mode = mode
            order.bank_send_explanation = text

    def _bank_send_mode(self, account):
        if not self.bank_order_type:
            return False, self.env._("Only SEPA credit-transfer and direct-debit orders go through "
                            "the bank link.")
        if not account or account.link_state not in ("linked", "expiring", "error"):
            return "file", self.env._("This journal is not linked to the bank: download the file and "
                             "upload it in your bank's portal.")
        bank = account.link_id.name or account.provider
        if not account[CARRIES_FIELD[self.bank_order_type]]:
            what = (self.env._("payment orders") if self.bank_order_type == bank_provider.ORDER_CREDIT_TRANSFER
                    else self.env._("direct-debit orders"))
            return "file", self.env._(
                "%(bank)s offers no interface for %(what)s through the bank link: download "
                "the file and upload it in the bank's portal.", bank=bank, what=what)
        limit = account.link_id._bank_link_provider_fact("max_payments_per_order")
        if limit and len(self.payment_line_ids) > limit:
            return "file", self.env._(
                "%(bank)s's interface takes at most %(limit)s payment(s) per order; this order "
                "has %(count)s: download the file and upload it in the bank's portal.",
                bank=bank, limit=limit, count=len(self.payment_line_ids))
        if account.provider == "abnamro":
            return "api", self.env._(
                "Sent through the bank link: you give consent at ABN AMRO for the account, "
                "then authorise the batch in Internet Banking. ABN AMRO reports no status: "
                "the batch counts as executed when it is on the statement.")
        return "api", self.env._("Sent through the bank link: you approve the batch at the bank and "
                        "its status comes back here.")

    @api.depends("bank_submission_ids.state", "bank_submission_ids.iso_status",
                 "bank_submission_ids.status_at", "bank_send_mode", "state")
    def _compute_bank_submission(self):
        for order in self:
            last = order.bank_submission_ids.sorted("id", reverse=True)[:1]
            order.bank_submission_id = last
            order.bank_state = last.state or "not_sent"
            order.bank_iso_status = last.iso_status
            order.bank_reason_code = last.reason_code
            order.bank_reason_text = last.reason_text
            order.bank_status_at = last.status_at
            order.bank_approval_url = last.approval_url
            order.bank_payment_id = last.bank_payment_id
            order.bank_may_send = (
                order.bank_send_mode == "api"
                and order.state in ("open", "generated")
                and last.state not in LIVE_STATES
            )

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------

    def _bank_live_submission(self):
        self.ensure_one()
        return self.bank_submission_ids.filtered(lambda s: s.state in LIVE_STATES)[:1]

    def _bank_content_hash(self):
        """Fingerprint of what the order pays: the lines as the bank sees them."""
        self.ensure_one()
        rows = sorted(
            (line.id, line.partner_id.id, line.partner_bank_id.sanitized_acc_number or "",
             f"{line.amount_currency:.2f}", line.currency_id.name or "",
             line.communication or "", str(line.date or ""))
            for line in self.payment_line_ids
        )
        return hashlib.sha256(repr((self.journal_id.id, rows)).encode()).hexdigest()

    def _bank_check_unchanged(self, submission):
        """A changed order is never sent under an earlier sending's file."""
        if submission.content_hash and submission.content_hash != self._bank_content_hash():
            raise UserError(self.env._(
                "Order %(order)s changed after it was prepared for the bank; it is not "
                "sent. Make a new order.", order=self.name))

    def _bank_check_file_matches_order(self, batch):
        """The file is the order's: per counterparty IBAN the same total as
        the order's payment lines, nothing to an IBAN the order does not
        pay. A file replaced by hand (an attachment edited after generation)
        never reaches the bank."""
        self.ensure_one()
        expected = {}
        for line in self.payment_line_ids:
            iban = ibans.compact(line.partner_bank_id.sanitized_acc_number) or ""
            expected[iban] = expected.get(iban, 0) + round(line.amount_currency * 100)
        found = {}
        for instruction in batch.instructions:
            iban = ibans.compact(instruction.counterparty_iban) or ""
            found[iban] = found.get(iban, 0) + round(instruction.amount * 100)
        if found != expected:
            raise UserError(self.env._(
                "The payment file of order %(order)s does not match the order's lines "
                "(amounts or accounts differ); it is not sent. Generate the file again.",
                order=self.name))

    def _bank_payment_file(self):
        """(xml bytes, attachment) of the order's pain file, made now when the
        order is confirmed, else the one generated earlier."""
        self.ensure_one()
        if self.state == "open":
            self.open2generated()
        attachment = self.env["ir.attachment"].search(
            [("res_model", "=", self._name), ("res_id", "=", self.id),
             ("name", "=ilike", "%.xml")], order="id desc", limit=1)
        if not attachment:
            raise UserError(self.env._("Order %(order)s has no payment file. Generate it first.",
                              order=self.name))
        return base64.b64decode(attachment.datas), attachment

    def action_bank_send(self):
        """'Send to bank': checks, a new submission, then the browser goes to
        the controller that talks to the bank."""
        self.ensure_one()
        Submission = self.env["account.payment.order.bank.submission"]
        Submission._check_may_send()
        self.check_access("write")
        if self.state not in ("open", "generated"):
            raise UserError(self.env._("Only a confirmed order can be sent to the bank."))
        live = self._bank_live_submission()
        if live:
            raise UserError(self.env._(
                "Order %(order)s was sent to the bank already (%(state)s); it is not sent "
                "twice.", order=self.name,
                state=dict(live._fields["state"]._description_selection(self.env))[live.state]))
        account = self.bank_link_account_id.sudo()
        if self.bank_send_mode != "api":
            raise UserError(self.bank_send_explanation)
        previous = self.bank_submission_ids.filtered("content_hash")[:1]
        xml, attachment = self._bank_payment_file()
        try:
            batch = pain.read_batch(xml, idempotency_key="check")
        except pain.PainError as error:
            raise UserError(self.env._(
                "The payment file of order %(order)s cannot be read (%(detail)s). Nothing "
                "was sent. Generate the file again and send the order once more.",
                order=self.name, detail=str(error))) from error
        if not ibans.same(batch.account_iban, account.iban):
            raise UserError(self.env._("The order pays from %(iban)s, the linked account is %(linked)s.",
                              iban=batch.account_iban, linked=account.iban))
        self._bank_check_file_matches_order(batch)
        # The partial unique index must see every earlier state change.
        Submission.flush_model(["state"])
        submission = Submission.sudo().create({
            "order_id": self.id,
            "link_account_id": account.id,
            "order_type": self.bank_order_type,
            "file_hash": pain.file_hash(xml),
            "content_hash": self._bank_content_hash(),
            "attachment_id": attachment.id,
            "message_id": batch.message_id,
            "amount_total": float(batch.total),
            "currency_id": self.env["res.currency"].search(
                [("name", "=", batch.currency)], limit=1).id,
            "transaction_count": batch.count,
            "user_id": self.env.user.id,
        })
        if previous:
            self._bank_post(self.env._("Order %(order)s is sent again (attempt %(n)s) after: %(why)s",
                              order=self.name, n=len(self.bank_submission_ids),
                              why=previous.reason_text or previous.state))
        return {
            "type": "ir.actions.act_url",
            "url": f"/bank_link/payment/start/{submission.id}",
            "target": "self",
        }

    def action_bank_refresh_status(self):
        self.env["account.payment.order.bank.submission"]._check_may_send()
        self.bank_submission_ids.sudo()._refresh_status()
        return True

    def _bank_post(self, body):
        for order in self:
            order.sudo().message_post(body=body)

    # ------------------------------------------------------------------
    # A sent order stays as it was sent
    # ------------------------------------------------------------------

    def _bank_check_not_sent(self):
        for order in self:
            if order._bank_live_submission():
                raise UserError(self.env._(
                    "Order %(order)s is at the bank; it cannot be changed or cancelled "
                    "here. Cancel it at the bank first; after a rejection the order can "
                    "be changed.", order=order.name))

    def draft2open(self):
        self._bank_check_not_sent()
        return super().draft2open()

    def cancel2draft(self):
        self._bank_check_not_sent()
        return super().cancel2draft()

    def action_cancel(self):
        self._bank_check_not_sent()
        return super().action_cancel()
