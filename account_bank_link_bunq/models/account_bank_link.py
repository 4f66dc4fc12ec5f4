# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""bunq on the bank link: the provider, built from the company's bank
registration (``account.bank.registration``: the OAuth client id and secret
of the PSD2 registration, the API and OAuth hosts; nothing on the
consents), which accounts may be linked, and bunq's texts in the link
wizard.

The API context of a consent (key pair, installation, device, session) is
the framework's token set, kept in its admin-only secret storage
(``account.bank.link.secret``): see tools/bunq_provider.py."""

from odoo import fields, models

from odoo.addons.l10n_nl_bankkoppeling.tools import provider as bank_provider

from ..tools import bunq_mapping, bunq_provider, endpoints


class AccountBankLink(models.Model):
    _inherit = "account.bank.link"

    provider = fields.Selection(selection_add=[("bunq", "bunq")], ondelete={"bunq": "cascade"})

    def _bank_link_provider_class(self):
        if self.provider != "bunq":
            return super()._bank_link_provider_class()
        return bunq_provider.BunqProvider

    def _bank_link_get_provider(self):
        if self.provider != "bunq":
            return super()._bank_link_get_provider()
        self.ensure_one()
        bank = bunq_provider.BunqProvider(self._bunq_config())
        bank.link_tokens = lambda: self._bunq_payment_tokens(bank)
        return bank

    def _bunq_payment_tokens(self, bank):
        """The link's API context for a draft payment, a new session first
        when the stored one has ended (as a fetch does)."""
        tokens = self._bank_link_tokens()
        try:
            bank.context_of(tokens)
        except (bank_provider.TokenExpiredError, bank_provider.ConfigurationError):
            tokens = self._bank_link_refresh_tokens(bank, tokens)
        return tokens

    def _bunq_config(self):
        registration = self._bank_link_registration()._bank_registration_ready()
        api_url = registration.api_base_url.rstrip("/")
        authorize_url = registration.auth_base_url.rstrip("/")
        return bunq_provider.BunqConfig(
            api_base_url=api_url,
            authorize_url=authorize_url,
            token_url=endpoints.token_url_for(api_url, authorize_url),
            client_id=registration.client_id,
            client_secret=registration.client_secret,
            verify=registration._bank_registration_verify(),
        )

    def _bank_link_wizard_texts(self):
        texts = super()._bank_link_wizard_texts()
        if self.provider == "bunq":
            texts.update(
                consent=self.env._(
                    "You are sent to bunq. Choose the accounts to share and confirm "
                    "in the bunq app; the consent lasts 180 days and you can withdraw "
                    "it in the bunq app. Afterwards you come back here."
                ),
                eligibility=self.env._(
                    "bunq links euro business accounts and joint accounts with an IBAN. "
                    "Savings accounts and blocked or closed accounts cannot be linked."
                ),
                first_fetch=self.env._(
                    "bunq gives every payment of the account: the first fetch takes "
                    "them from the start date on, later fetches the new ones."
                ),
            )
        return texts

    def _bank_link_account_eligibility(self, bank_account):
        eligible, reason = super()._bank_link_account_eligibility(bank_account)
        if self.provider != "bunq" or eligible:
            return eligible, reason
        # The provider's reasons are English; the user reads them in Dutch.
        reasons = {
            bunq_mapping.REASON_SAVINGS: self.env._("bunq savings accounts cannot be linked."),
            bunq_mapping.REASON_OTHER_TYPE: self.env._("This kind of bunq account cannot be linked."),
            bunq_mapping.REASON_NO_IBAN: self.env._("This bunq account has no IBAN."),
            bunq_mapping.REASON_FOREIGN_CURRENCY: self.env._(
                "This is a foreign-currency account (%(currency)s): only euro accounts "
                "can be linked.",
                currency=bank_account.currency or "-",
            ),
            bunq_mapping.REASON_NOT_ACTIVE: self.env._("This account is blocked or closed at bunq."),
        }
        return False, reasons.get(bank_account.ineligible_reason, reason)
