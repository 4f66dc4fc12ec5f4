# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Sending an order to the bank in the user's browser: start (consent at
the bank when it wants one, then the batch), the consent callback, and the
return from the bank's approval page. Every state is signed, bound to user,
submission and company, expires and is used once.

Start sends money on its way, so its GET only shows what will be sent and
asks; the page's button POSTs with Odoo's CSRF token. Callback and return
stay GETs: the bank sends the browser there, and the signed single-use
state they carry is their protection against forged requests."""

import logging

from werkzeug.urls import url_encode

from odoo import http
from odoo.exceptions import AccessError, UserError
from odoo.http import request
from odoo.tools.misc import formatLang

from odoo.addons.l10n_nl_bankkoppeling.tools import provider as bank_provider

from ..models.account_payment_order_bank_submission import PaymentStateError
from ..tools import pain

_logger = logging.getLogger(__name__)

CALLBACK_PATH = "/bank_link/payment/callback"
RETURN_PATH = "/bank_link/payment/return"


class BankPaymentController(http.Controller):
    def _base_url(self):
        return request.env["account.payment.order"].sudo().get_base_url()

    def _refused(self, message, order=None):
        return request.render(
            "l10n_nl_bankkoppeling.bank_link_message_page",
            {
                "title": request.env._("Not sent to the bank"), "message": message, "ok": False,
                "hint": request.env._("Nothing was sent to the bank."),
                "back_url": self._order_url(order) if order else "/odoo",
            }, status=400,
        )

    def _unreadable_file(self, submission, error):
        return request.env._(
            "The payment file of order %(order)s cannot be read (%(detail)s). Nothing "
            "was sent. Generate the file again and send the order once more.",
            order=submission.order_id.name, detail=str(error))

    def _order_url(self, order):
        target = {"model": order._name, "id": order.id, "view_type": "form"}
        return "/web#" + url_encode(target)

    def _to_order(self, order):
        return request.redirect(self._order_url(order))

    def _submit(self, submission, tokens=None):
        """Send the batch; then to the bank's approval page, or back to the order."""
        user = request.env.user
        return_state = submission._make_state("return", user)
        redirect_uri = f"{self._base_url()}{RETURN_PATH}?{url_encode({'state': return_state})}"
        try:
            approval = submission.with_user(user)._submit(
                submission._provider(), tokens, redirect_uri,
                request.httprequest.remote_addr)
        except UserError as error:
            submission.write({"state": "failed", "reason_text": str(error)[:500]})
            return self._refused(str(error), submission.order_id)
        except pain.PainError as error:
            message = self._unreadable_file(submission, error)
            submission.write({"state": "failed", "reason_text": message[:500]})
            return self._refused(message, submission.order_id)
        if approval:
            return request.redirect(approval, local=False)
        return self._to_order(submission.order_id)

    def _bank_name(self, submission):
        link = submission.link_account_id.link_id.sudo()
        labels = dict(link._fields["provider"]._description_selection(request.env))
        return labels.get(link.provider) or link.provider

    def _confirm_page(self, submission, batch):
        order = submission.order_id
        bank = self._bank_name(submission)
        currency = request.env["res.currency"].search([("name", "=", batch.currency)], limit=1)
        total = formatLang(request.env, float(batch.total), currency_obj=currency or None)
        return request.render(
            "l10n_nl_bankkoppeling.bank_link_confirm_page",
            {
                "title": request.env._("Send order %(order)s to %(bank)s", order=order.name, bank=bank),
                "message": request.env._(
                    "The batch goes to %(bank)s. You approve it at the bank; nothing is paid "
                    "or collected before you do.", bank=bank),
                "details": [
                    (request.env._("Order"), order.name),
                    (request.env._("Account"), batch.account_iban),
                    (request.env._("Transactions"), str(batch.count)),
                    (request.env._("Total"), total),
                ],
                "button": request.env._("Send to %(bank)s", bank=bank),
                "cancel_button": request.env._("Do not send"),
                "action": f"/bank_link/payment/start/{submission.id}",
                "hidden": {},
                "back_url": self._order_url(order),
            },
        )

    def _blocked_page(self, submission, message):
        """The prepared sending cannot go out: why, and a button (a POST
        too) that ends it so that the order can be sent again later."""
        return request.render(
            "l10n_nl_bankkoppeling.bank_link_confirm_page",
            {
                "title": request.env._("Not sent to the bank"),
                "message": message,
                "details": [],
                "button": False,
                "cancel_button": request.env._("Do not send"),
                "action": f"/bank_link/payment/start/{submission.id}",
                "hidden": {},
                "back_url": self._order_url(submission.order_id),
            },
            status=400,
        )

    @http.route("/bank_link/payment/start/<int:submission_id>", type="http", auth="user",
                methods=["GET", "POST"], csrf=True)
    def start(self, submission_id, cancel=None, **kwargs):
        """GET: what will be sent, and a button; POST (that button, CSRF
        token checked by Odoo): consent at the bank if it wants one, then
        the batch. "Do not send" (also a POST) ends the prepared sending."""
        user = request.env.user
        Submission = request.env["account.payment.order.bank.submission"]
        submission = Submission.sudo().browse(submission_id).exists()
        order = None
        try:
            Submission._check_may_send(user)
            if not submission or submission.user_id != user:
                raise AccessError(request.env._("This sending was prepared by another user."))
            if submission.company_id not in user.company_ids:
                raise AccessError(request.env._("This order belongs to another company."))
            order = submission.order_id
            if submission.state != "sending":
                raise UserError(request.env._("This order was sent already; it is not sent twice."))
        except (AccessError, UserError) as error:
            return self._refused(str(error), order)
        posted = request.httprequest.method == "POST"
        if posted and cancel:
            submission.write({"state": "failed",
                              "reason_text": request.env._("Not sent: the user chose not to send it.")})
            return self._to_order(order)
        try:
            order._bank_check_unchanged(submission)
            batch = submission._batch()
        except UserError as error:
            return self._blocked_page(submission, str(error))
        except pain.PainError as error:
            return self._blocked_page(submission, self._unreadable_file(submission, error))
        if not posted:
            return self._confirm_page(submission, batch)
        try:
            provider = submission._provider()
            support = provider.payment_support(submission.order_type)
            if support.needs_consent:
                state = submission._make_state("consent", user)
                url = provider.payment_consent_url(
                    submission.order_type, self._base_url() + CALLBACK_PATH, state)
                return request.redirect(url, local=False)
            return self._submit(submission)
        except (AccessError, UserError, bank_provider.BankLinkError) as error:
            return self._refused(str(error), order)

    @http.route(CALLBACK_PATH, type="http", auth="user", methods=["GET"])
    def callback(self, state=None, code=None, error=None, **kwargs):
        Submission = request.env["account.payment.order.bank.submission"]
        try:
            submission = Submission._verify_state(state, "consent", request.env.user)
        except PaymentStateError as refusal:
            return self._refused(str(refusal))
        if error or not code:
            submission.write({"state": "failed", "reason_text": error or "no code"})
            submission.order_id._bank_post(request.env._(
                "The bank gave no consent for sending %(order)s (%(reason)s); nothing was sent.",
                order=submission.order_id.name, reason=error or "-"))
            return self._refused(request.env._("The bank gave no consent (%(reason)s). Nothing was sent.",
                                   reason=error or "-"))
        try:
            provider = submission._provider()
            tokens = provider.exchange_payment_code(
                submission.order_type, code, self._base_url() + CALLBACK_PATH)
        except bank_provider.BankLinkError as failure:
            submission.write({"state": "failed", "reason_text": str(failure)[:500]})
            return self._refused(str(failure))
        # The consent's tokens serve this one batch and are not stored.
        return self._submit(submission, tokens)

    @http.route(RETURN_PATH, type="http", auth="user", methods=["GET"])
    def back(self, state=None, **kwargs):
        Submission = request.env["account.payment.order.bank.submission"]
        try:
            submission = Submission._verify_state(state, "return", request.env.user)
        except PaymentStateError as refusal:
            return self._refused(str(refusal))
        submission._refresh_status()
        return self._to_order(submission.order_id)
