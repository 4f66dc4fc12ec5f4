# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Sending an order to the bank in the user's browser: start (consent at
the bank when it wants one, then the batch), the consent callback, and the
return from the bank's approval page. Every state is signed, bound to user,
submission and company, expires and is used once."""

import logging

from odoo import _, http
from odoo.exceptions import AccessError, UserError
from odoo.http import request
from werkzeug.urls import url_encode

from odoo.addons.l10n_nl_bankkoppeling.tools import provider as bank_provider

from ..models.account_payment_order_bank_submission import PaymentStateError

_logger = logging.getLogger(__name__)

CALLBACK_PATH = "/bank_link/payment/callback"
RETURN_PATH = "/bank_link/payment/return"


class BankPaymentController(http.Controller):
    def _base_url(self):
        return request.env["account.payment.order"].sudo().get_base_url()

    def _page(self, title, message, status=200, ok=False):
        return request.render(
            "l10n_nl_bankkoppeling.bank_link_message_page",
            {"title": title, "message": message, "ok": ok}, status=status,
        )

    def _refused(self, message):
        return self._page(_("Not sent to the bank"), message, status=400)

    def _to_order(self, order):
        target = {"model": order._name, "id": order.id, "view_type": "form"}
        return request.redirect("/web#" + url_encode(target))

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
            return self._refused(str(error))
        if approval:
            return request.redirect(approval, local=False)
        return self._to_order(submission.order_id)

    @http.route("/bank_link/payment/start/<int:submission_id>", type="http", auth="user",
                methods=["GET"])
    def start(self, submission_id, **kwargs):
        user = request.env.user
        Submission = request.env["account.payment.order.bank.submission"]
        try:
            Submission._check_may_send(user)
            submission = Submission.sudo().browse(submission_id).exists()
            if not submission or submission.user_id != user:
                raise AccessError(_("This sending was prepared by another user."))
            if submission.company_id not in user.company_ids:
                raise AccessError(_("This order belongs to another company."))
            if submission.state != "sending":
                raise UserError(_("This order was sent already; it is not sent twice."))
            provider = submission._provider()
            support = provider.payment_support(submission.order_type)
            if support.needs_consent:
                state = submission._make_state("consent", user)
                url = provider.payment_consent_url(
                    submission.order_type, self._base_url() + CALLBACK_PATH, state)
                return request.redirect(url, local=False)
            return self._submit(submission)
        except (AccessError, UserError, bank_provider.BankLinkError) as error:
            return self._refused(str(error))

    @http.route(CALLBACK_PATH, type="http", auth="user", methods=["GET"])
    def callback(self, state=None, code=None, error=None, **kwargs):
        Submission = request.env["account.payment.order.bank.submission"]
        try:
            submission = Submission._verify_state(state, "consent", request.env.user)
        except PaymentStateError as refusal:
            return self._refused(str(refusal))
        if error or not code:
            submission.write({"state": "failed", "reason_text": error or "no code"})
            submission.order_id._bank_post(_(
                "The bank gave no consent for sending %(order)s (%(reason)s); nothing was sent.",
                order=submission.order_id.name, reason=error or "-"))
            return self._refused(_("The bank gave no consent (%(reason)s). Nothing was sent.",
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
