# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The executed batch on the statement: one bank line for the batch total,
reconciled with every payment of the order at once; or, where the bank
books each payment of the batch on its own (bunq's draft payments, an order
without batch booking), one bank line per payment, each reconciled with its
own payment of the order."""

import logging
import re
from collections import defaultdict

from odoo import models

from odoo.addons.l10n_nl_bankkoppeling.tools import ibans

_logger = logging.getLogger(__name__)

#: Submissions whose batch may appear on the statement.
_AWAITED = ("received", "accepted", "executed", "unknown")


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    def action_nl_auto_reconcile(self):
        done = self._nl_payment_batch_reconcile()
        stats = super(AccountBankStatementLine, self - done).action_nl_auto_reconcile()
        stats["auto"] = stats.get("auto", 0) + len(done)
        return stats

    def _nl_payment_batch_reconcile(self):
        """Reconcile lines that are the booking of a sent batch; returns them."""
        lines = self.filtered(lambda ln: not ln.is_reconciled and ln.move_id.state == "posted")
        if not lines:
            return self.browse()
        submissions = self.env["account.payment.order.bank.submission"].sudo().search([
            ("state", "in", _AWAITED),
            ("statement_line_id", "=", False),
            ("order_id.state", "=", "uploaded"),
            ("order_id.journal_id", "in", lines.journal_id.ids),
        ])
        if not submissions:
            return self.browse()
        by_key = defaultdict(list)
        for submission in submissions:
            order = submission.order_id
            sign = -1 if order.payment_type == "outbound" else 1
            amount = order.journal_id.currency_id.round(sign * submission.amount_total) \
                if order.journal_id.currency_id else round(sign * submission.amount_total, 2)
            by_key[(order.journal_id.id, amount)].append(submission)
        done = self.browse()
        used = set()
        for line in lines.filtered(lambda ln: not ln.account_number):
            candidates = [s for s in by_key.get((line.journal_id.id, round(line.amount, 2)), [])
                          if s.id not in used]
            submission = self._nl_pick_submission(line, candidates)
            if not submission:
                continue
            if line._nl_reconcile_with_order(submission):
                used.add(submission.id)
                done |= line
        return done | (lines - done)._nl_payment_single_reconcile(
            submissions.filtered(lambda s: s.id not in used))

    def _nl_payment_single_reconcile(self, submissions):
        """Lines that book one payment of a sent order (the counterparty's
        IBAN and the payment's amount, one outstanding payment of the kind):
        each reconciled with that payment; returns them."""
        lines = self.filtered("account_number")
        if not lines or not submissions:
            return self.browse()
        open_items = defaultdict(list)
        for submission in submissions:
            order = submission.order_id
            sign = -1 if order.payment_type == "outbound" else 1
            for payment in order.payment_ids:
                iban = ibans.compact(payment.partner_bank_id.acc_number)
                items = payment.move_id.line_ids.filtered(
                    lambda aml, pay=payment: aml.account_id == pay.outstanding_account_id
                    and not aml.reconciled and aml.move_id.state == "posted")
                if iban and items:
                    key = (order.journal_id.id, iban, round(sign * payment.amount, 2))
                    open_items[key].append((submission, payment, items))
        done = self.browse()
        taken = set()
        for line in lines:
            iban = ibans.compact(line.account_number)
            candidates = [c for c in open_items.get((line.journal_id.id, iban, round(line.amount, 2)), [])
                          if c[1].id not in taken]
            if len(candidates) > 1:
                # Several open payments of that amount to that account: the
                # line's text names the one (its reference), else none.
                text = re.sub(r"\s+", "", (line.payment_ref or "").upper())
                candidates = [c for c in candidates
                              if c[1].payment_reference
                              and re.sub(r"\s+", "", c[1].payment_reference.upper()) in text]
            if len(candidates) != 1:
                continue
            submission, payment, items = candidates[0]
            if line._nl_reconcile_with_order(submission, items):
                taken.add(payment.id)
                done |= line
        return done

    def _nl_pick_submission(self, line, candidates):
        """The batch this line books: named in its text (message id, order
        number, bank's id), else the only one of that amount after sending."""
        if not candidates:
            return None
        text = " ".join(filter(None, [line.payment_ref, line.narration and str(line.narration),
                                      line.unique_import_id])).upper()
        compact = re.sub(r"\s+", "", text)
        named = [s for s in candidates if any(
            token and re.sub(r"\s+", "", token.upper()) in compact
            for token in (s.message_id, s.order_id.name, s.bank_payment_id))]
        if len(named) == 1:
            return named[0]
        if named or line.account_number:
            # A line with one counterparty's account is that party's
            # payment, not the booking of a whole batch.
            return None
        dated = [s for s in candidates if not s.sent_at or s.sent_at.date() <= line.date]
        return dated[0] if len(dated) == 1 else None

    def _nl_reconcile_with_order(self, submission, items=None):
        """Replace the suspense line by one counterpart per outstanding
        payment item of the order (or of ``items``, one payment's) and
        reconcile them; False when the payments do not add up to the line
        (then nothing is changed)."""
        self.ensure_one()
        order = submission.order_id
        single = items is not None
        if not single:
            items = order.payment_ids.move_id.line_ids.filtered(
                lambda aml: aml.account_id == aml.payment_id.outstanding_account_id
                and not aml.reconciled and aml.move_id.state == "posted")
        currency = self.currency_id or self.journal_id.currency_id or self.company_id.currency_id
        if not items or currency.compare_amounts(-sum(items.mapped("balance")), -self.amount) != 0:
            _logger.info("Bank line %s: batch %s does not add up to its payments",
                         self.id, order.name)
            return False
        aml_model = self.env["account.move.line"]
        suspense = self._seek_for_lines()[1]
        vals_list = [{
            "move_id": self.move_id.id,
            "account_id": item.account_id.id,
            "partner_id": item.partner_id.id,
            "name": item.name or order.name,
            "balance": -item.balance,
            "amount_currency": -item.amount_currency,
            "currency_id": item.currency_id.id,
        } for item in items]
        moves = self.move_id
        with moves._check_balanced({"records": moves, "self": moves}):
            suspense.with_context(
                force_delete=True, skip_account_move_synchronization=True,
                skip_readonly_check=True).unlink()
            counterparts = aml_model.with_context(
                check_move_validity=False, skip_account_move_synchronization=True,
                skip_invoice_sync=True, skip_sync_invoice=True,
            ).create(vals_list)
        aml_model._reconcile_plan([c | i for c, i in zip(counterparts, items, strict=False)])
        if single:
            return self._nl_reconciled_one_payment(submission, items)
        self.write({
            "nl_reconcile_state": "auto",
            "nl_reconcile_reason": self.env._("Batch %(order)s: %(count)s payments",
                                     order=order.name, count=len(items)),
            "reconcile_mode": "edit",
            "reconcile_data": False,
        })
        submission.write({"state": "executed", "statement_line_id": self.id,
                          "iso_status": submission.iso_status or "ACSC"})
        order._bank_post(self.env._(
            "The batch of %(order)s is on the statement of %(date)s (%(amount)s) and was "
            "reconciled with its %(count)s payments.", order=order.name,
            date=self.date, amount=self.amount, count=len(items)))
        return True

    def _nl_reconciled_one_payment(self, submission, items):
        """One payment of the order reconciled; the order's submission is
        done when none of its payments is open any more."""
        order = submission.order_id
        self.write({
            "nl_reconcile_state": "auto",
            "nl_reconcile_reason": self.env._("Order %(order)s: payment to %(partner)s",
                                              order=order.name, partner=items.partner_id[:1].name or "-"),
            "reconcile_mode": "edit",
            "reconcile_data": False,
        })
        still_open = order.payment_ids.move_id.line_ids.filtered(
            lambda aml: aml.account_id == aml.payment_id.outstanding_account_id
            and not aml.reconciled and aml.move_id.state == "posted")
        if not still_open:
            submission.write({"state": "executed", "statement_line_id": self.id,
                              "iso_status": submission.iso_status or "ACSC"})
            order._bank_post(self.env._(
                "Every payment of %(order)s is on the statement (the last of %(date)s) and was "
                "reconciled: %(count)s payments.", order=order.name, date=self.date,
                count=len(order.payment_ids)))
        return True
