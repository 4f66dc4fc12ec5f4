# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Consent at the bank: start (redirect to the bank with a signed state),
callback (verify state, trade the code for tokens) and the invitation that
lets a legal representative give consent without an Odoo login."""

import logging

from odoo import _, http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request
from werkzeug.urls import url_encode

from ..models.account_bank_link import ConsentStateError
from ..tools import provider as bank_provider

_logger = logging.getLogger(__name__)

CALLBACK_PATH = "/bank_link/callback"


class BankLinkController(http.Controller):
    def _callback_url(self):
        return request.env["account.bank.link"].sudo().get_base_url() + CALLBACK_PATH

    def _page(self, title, message, status=200, ok=False):
        return request.render(
            "l10n_nl_bankkoppeling.bank_link_message_page",
            {"title": title, "message": message, "ok": ok},
            status=status,
        )

    def _refused(self, message):
        return self._page(_("Bank link refused"), message, status=400)

    def _redirect_to_bank(self, link, state):
        url = link._bank_link_get_provider().authorization_url(
            self._callback_url(), state
        )
        return request.redirect(url, local=False)

    @http.route(
        "/bank_link/start/<int:link_id>", type="http", auth="user", methods=["GET"]
    )
    def start(self, link_id, wizard_id=0, **kwargs):
        link = request.env["account.bank.link"].browse(link_id)
        try:
            link.check_access("write")
            link = link.exists()
            if not link:
                raise MissingError(_("This bank link no longer exists."))
            if link.company_id not in request.env.user.company_ids:
                raise AccessError(_("This bank link belongs to another company."))
            state = link.sudo()._bank_link_make_state(
                user=request.env.user, wizard_id=int(wizard_id or 0)
            )
            return self._redirect_to_bank(link.sudo(), state)
        except (AccessError, MissingError, UserError, ValueError) as error:
            return self._refused(str(error))

    @http.route(
        "/bank_link/invite/<string:token>", type="http", auth="public", methods=["GET"]
    )
    def invite(self, token, **kwargs):
        Link = request.env["account.bank.link"].sudo()
        link = Link._bank_link_find_invitation(token)
        if not link:
            return self._refused(
                _(
                    "This invitation is not valid: it was used already or has expired (after 7 days)."
                )
            )
        link._bank_link_secret()._consume_invitation()
        state = link._bank_link_make_state(invitation=True)
        try:
            return self._redirect_to_bank(link, state)
        except UserError as error:
            return self._refused(str(error))

    @http.route(CALLBACK_PATH, type="http", auth="public", methods=["GET"])
    def callback(
        self, state=None, code=None, error=None, error_description=None, **kwargs
    ):
        user = request.env.user
        try:
            link, payload = (
                request.env["account.bank.link"]
                .sudo()
                ._bank_link_verify_state(state, user)
            )
        except ConsentStateError as refusal:
            return self._refused(str(refusal))
        if error or not code:
            link._bank_link_post(
                _(
                    "The bank did not give consent: %(reason)s",
                    reason=error_description or error or "-",
                )
            )
            return self._refused(
                _(
                    "The bank did not give consent (%(reason)s). Nothing was changed.",
                    reason=error or "-",
                )
            )
        try:
            provider = link._bank_link_get_provider()
            tokens = provider.exchange_code(code, self._callback_url())
            link._bank_link_store_consent(tokens)
            link._bank_link_sync_accounts(provider, tokens)
        except bank_provider.BankLinkError as failure:
            message = link._bank_link_handle_error(failure)
            return self._refused(message)
        if payload.get("i"):
            return self._page(
                _("Consent given"),
                _("Thank you. The bank link is active; you can close this page."),
                ok=True,
            )
        wizard = (
            request.env["account.bank.link.wizard"]
            .browse(payload.get("w") or 0)
            .exists()
        )
        if wizard and wizard.link_id == link:
            wizard._bank_link_consent_given()
            # Through a dialog action: a wizard opened as a plain record shows
            # no footer, and the user would be stuck without "Next".
            action = request.env.ref("l10n_nl_bankkoppeling.action_bank_link_wizard_resume")
            return request.redirect(f"/odoo/action-{action.id}/{wizard.id}")
        target = {"model": link._name, "id": link.id, "view_type": "form"}
        return request.redirect("/web#" + url_encode(target))
