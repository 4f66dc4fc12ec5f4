# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Consent at the bank: start (redirect to the bank with a signed state),
callback (verify state, trade the code for tokens) and the invitation that
lets a legal representative give consent without an Odoo login.

Start and invitation change something (a consent begins, the single-use
invitation is spent), so a GET only shows a page that asks; its button
POSTs with Odoo's CSRF token. The callback stays a GET: the bank sends the
browser there, and the signed, single-use ``state`` it carries is its
protection against forged requests."""

import logging

from werkzeug.urls import url_encode

from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request

from ..models.account_bank_link import ConsentStateError
from ..tools import provider as bank_provider

_logger = logging.getLogger(__name__)

CALLBACK_PATH = "/bank_link/callback"


class BankLinkController(http.Controller):
    def _callback_url(self):
        return request.env["account.bank.link"].sudo().get_base_url() + CALLBACK_PATH

    def _page(self, title, message, status=200, ok=False, back_url=None, hint=None):
        return request.render(
            "l10n_nl_bankkoppeling.bank_link_message_page",
            {
                "title": title,
                "message": message,
                "ok": ok,
                "back_url": back_url,
                "hint": hint,
            },
            status=status,
        )

    def _refused(self, message, back_url=None):
        return self._page(request.env._("Bank link refused"), message, status=400, back_url=back_url)

    def _confirm_page(self, title, message, button, action, hidden=None, back_url=None,
                      details=None, cancel_button=None):
        """Asks before anything changes: the page's button POSTs ``action``
        with Odoo's CSRF token (checked by the route), so that a link on
        another site, a mail scanner or a link preview only sees this page."""
        return request.render(
            "l10n_nl_bankkoppeling.bank_link_confirm_page",
            {
                "title": title,
                "message": message,
                "button": button,
                "action": action,
                "hidden": hidden or {},
                "back_url": back_url,
                "details": details or [],
                "cancel_button": cancel_button,
            },
        )

    def _bank_label(self, link):
        labels = dict(link._fields["provider"]._description_selection(request.env))
        return labels.get(link.provider) or link.provider

    def _configuration_refusal(self, link, error, back_url=None):
        """A bank error before the user reaches the bank: a message for the
        user (the detail goes to the log, where the administrator looks)."""
        _logger.warning(
            "Bank link %s: consent could not be started: %s", link.id, error
        )
        if isinstance(error, bank_provider.ConfigurationError):
            message = request.env._(
                "The bank link is not configured correctly (certificate, key or "
                "client id). Ask your administrator."
            )
        elif error.retryable:
            message = request.env._(
                "The bank could not be reached. Nothing was changed; try again in "
                "a few minutes."
            )
        else:
            message = request.env._("The bank refused the request.")
        return self._refused(message, back_url=back_url)

    def _redirect_to_bank(self, link, state):
        url = link._bank_link_get_provider().authorization_url(
            self._callback_url(), state
        )
        return request.redirect(url, local=False)

    def _back_url(self, link, wizard_id):
        """Back where the user came from: the link wizard, or the link."""
        if wizard_id:
            wizard = request.env["account.bank.link.wizard"].browse(wizard_id)
            try:
                if wizard.exists() and wizard.link_id == link:
                    action = request.env.ref(
                        "l10n_nl_bankkoppeling.action_bank_link_wizard_resume"
                    )
                    return f"/odoo/action-{action.id}/{wizard.id}"
            except AccessError:
                # A wizard of another user: back to the link instead.
                _logger.debug("Wizard %s not readable; back to the link", wizard.id)
        target = {"model": link._name, "id": link.id, "view_type": "form"}
        return "/web#" + url_encode(target)

    @http.route(
        "/bank_link/start/<int:link_id>",
        type="http",
        auth="user",
        methods=["GET", "POST"],
        csrf=True,
    )
    def start(self, link_id, wizard_id=0, **kwargs):
        """GET: the page that asks; POST (its button, CSRF token checked by
        Odoo): a signed state and off to the bank."""
        link = request.env["account.bank.link"].browse(link_id)
        try:
            wizard_id = int(wizard_id or 0)
            link.check_access("write")
            link = link.exists()
            if not link:
                raise MissingError(request.env._("This bank link no longer exists."))
            if link.company_id not in request.env.user.company_ids:
                raise AccessError(request.env._("This bank link belongs to another company."))
        except (AccessError, MissingError, UserError, ValueError) as error:
            return self._refused(str(error))
        back_url = self._back_url(link, wizard_id)
        bank = self._bank_label(link)
        if request.httprequest.method != "POST":
            return self._confirm_page(
                request.env._("Give consent at %(bank)s", bank=bank),
                request.env._(
                    "You are sent to %(bank)s to give consent for the bank link on "
                    "behalf of %(company)s. Only the company's legal representative "
                    "can give it. Afterwards you come back here.",
                    bank=bank,
                    company=link.company_id.name,
                ),
                request.env._("Continue to %(bank)s", bank=bank),
                f"/bank_link/start/{link.id}",
                hidden={"wizard_id": wizard_id} if wizard_id else None,
                back_url=back_url,
            )
        try:
            state = link.sudo()._bank_link_make_state(
                user=request.env.user, wizard_id=wizard_id
            )
            return self._redirect_to_bank(link.sudo(), state)
        except (AccessError, MissingError, UserError, ValueError) as error:
            return self._refused(str(error), back_url=back_url)
        except bank_provider.BankLinkError as error:
            return self._configuration_refusal(link, error, back_url=back_url)

    @http.route(
        "/bank_link/invite/<string:token>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=True,
    )
    def invite(self, token, **kwargs):
        """GET (mail scanners and link previews too) only shows the page;
        the token is used by its button, a POST with Odoo's CSRF token."""
        Link = request.env["account.bank.link"].sudo()
        link = Link._bank_link_find_invitation(token)
        if not link:
            return self._refused(
                request.env._(
                    "This invitation is not valid: it was used already or has expired (after 7 days)."
                )
            )
        bank = self._bank_label(link)
        if request.httprequest.method != "POST":
            return self._confirm_page(
                request.env._("Bank link of %(company)s", company=link.company_id.name),
                request.env._(
                    "%(company)s asks you, as its legal representative, to give "
                    "consent at %(bank)s for linking its bank account with its "
                    "accounting. The link in your e-mail works once: continue when "
                    "you are ready to log in at the bank.",
                    company=link.company_id.name,
                    bank=bank,
                ),
                request.env._("Continue to %(bank)s", bank=bank),
                f"/bank_link/invite/{token}",
            )
        state = link._bank_link_make_state(invitation=True)
        try:
            response = self._redirect_to_bank(link, state)
        except UserError as error:
            return self._refused(str(error))
        except bank_provider.BankLinkError as error:
            # The invitation stays valid: usable once the bank link is fixed.
            return self._configuration_refusal(link, error)
        link._bank_link_secret()._consume_invitation()
        return response

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
                request.env._(
                    "The bank did not give consent: %(reason)s",
                    reason=error_description or error or "-",
                )
            )
            return self._refused(
                request.env._(
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
                request.env._("Consent given"),
                request.env._("Thank you. The bank link is active; you can close this page."),
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
