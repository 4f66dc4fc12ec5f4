# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Rabobank on the bank link: which accounts may be linked, and Rabobank's
texts in the link wizard. The framework builds the provider (registered in
``rabobank_provider``) from the company's bank registration."""

from odoo import fields, models

from ..tools import rabobank_mapping, rabobank_provider

#: Registered with the framework, which builds it from the bank registration.
PROVIDER = rabobank_provider.RabobankProvider


class AccountBankLink(models.Model):
    _inherit = "account.bank.link"

    provider = fields.Selection(selection_add=[(PROVIDER.code, PROVIDER.name)], ondelete={PROVIDER.code: "cascade"})

    def _bank_link_wizard_texts(self):
        texts = super()._bank_link_wizard_texts()
        if self.provider == PROVIDER.code:
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
        if self.provider != PROVIDER.code or eligible:
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
