# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime

from odoo import api, fields, models

from odoo.addons.l10n_nl_bankkoppeling.tools import provider as bank_provider

from .account_bank_link import CONSENT_IBAN


class AccountBankLinkAccount(models.Model):
    _inherit = "account.bank.link.account"

    abnamro_consent_valid_until = fields.Date(
        "ABN AMRO consent until",
        compute="_compute_abnamro_consent",
        help="ABN AMRO gives a consent per account: the last day of this account's.",
    )
    abnamro_consent_given = fields.Boolean(
        "ABN AMRO consent", compute="_compute_abnamro_consent"
    )

    @api.depends("link_id.state", "link_id.consent_valid_until", "consent_state")
    def _compute_abnamro_consent(self):
        for account in self:
            consent = {}
            if account.provider == "abnamro" and account.link_id.id:
                consent = account.link_id._abnamro_consents().get(account.iban) or {}
            until = consent.get("consent_valid_until")
            account.abnamro_consent_given = bool(consent)
            account.abnamro_consent_valid_until = (
                datetime.date.fromisoformat(until) if until else False
            )

    def _bank_link_download(self, provider, date_from, date_to, **kwargs):
        account = self
        if self.provider == "abnamro":
            # Each ABN AMRO account has its own consent and tokens.
            account = self.with_context(**{CONSENT_IBAN: self.iban})
        return super(AccountBankLinkAccount, account)._bank_link_download(
            provider, date_from, date_to, **kwargs
        )

    def _bank_link_handle_error(self, error):
        """An ended ABN AMRO consent is this account's alone: the link's
        other accounts keep theirs."""
        if self.provider == "abnamro" and isinstance(
            error, bank_provider.ConsentExpiredError
        ):
            state = (
                "revoked"
                if isinstance(error, bank_provider.ConsentRevokedError)
                else "expired"
            )
            message = self.link_id._abnamro_end_consents(
                self, state, self.link_id._bank_link_error_detail(error))
            if message:
                return message
        return super()._bank_link_handle_error(error)
