# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Rabobank on the bank link: the provider, built from the company's bank
registration (``account.bank.registration``: no settings on the consents),
which accounts may be linked, and Rabobank's texts in the link wizard."""

from odoo import fields, models

from ..tools import rabobank_mapping, rabobank_provider


class AccountBankLink(models.Model):
    _inherit = "account.bank.link"

    provider = fields.Selection(
        selection_add=[("rabobank", "Rabobank")], ondelete={"rabobank": "cascade"}
    )

    def _bank_link_provider_class(self):
        if self.provider != "rabobank":
            return super()._bank_link_provider_class()
        return rabobank_provider.RabobankProvider

    def _bank_link_get_provider(self):
        if self.provider != "rabobank":
            return super()._bank_link_get_provider()
        self.ensure_one()
        return rabobank_provider.RabobankProvider(self._rabobank_config())

    def _rabobank_config(self):
        registration = self._bank_link_registration()._bank_registration_ready()
        return rabobank_provider.RabobankConfig(
            api_base_url=registration.api_base_url.rstrip("/"),
            auth_base_url=registration.auth_base_url.rstrip("/"),
            client_id=registration.client_id,
            client_secret=registration.client_secret,
            **registration._bank_registration_files(),
        )

    def _bank_link_wizard_texts(self):
        texts = super()._bank_link_wizard_texts()
        if self.provider == "rabobank":
            texts.update(
                consent=self.env._(
                    "You are sent to Rabobank. Only the company's legal representative "
                    "(wettelijk vertegenwoordiger) can give this consent. Log in with the "
                    "Rabo Scanner or the Rabo App, choose the accounts and confirm; the "
                    "consent lasts 180 days. Afterwards you come back here."
                ),
                eligibility=self.env._(
                    "Rabobank links euro payment accounts. Savings accounts, credit cards "
                    "and blocked or closed accounts cannot be linked."
                ),
                first_fetch=self.env._(
                    "Rabobank gives transactions older than 90 days only once, right "
                    "after the consent: the first fetch takes them, later fetches the "
                    "last 90 days."
                ),
            )
        return texts

    def _bank_link_account_eligibility(self, bank_account):
        eligible, reason = super()._bank_link_account_eligibility(bank_account)
        if self.provider != "rabobank" or eligible:
            return eligible, reason
        # The provider's reasons are English; the user reads them in Dutch.
        reasons = {
            rabobank_mapping.REASON_NO_IBAN: self.env._(
                "This account has no IBAN (savings or card account)."
            ),
            rabobank_mapping.REASON_FOREIGN_CURRENCY: self.env._(
                "This is a foreign-currency account (%(currency)s): only euro accounts "
                "can be linked.",
                currency=bank_account.currency or "-",
            ),
            rabobank_mapping.REASON_NOT_ENABLED: self.env._(
                "This account is blocked or closed at Rabobank."
            ),
        }
        return False, reasons.get(bank_account.ineligible_reason, reason)
