# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ING on the bank link: which accounts may be linked, and ING's texts in
the link wizard. The framework builds the provider (registered in
``ing_provider``) from the company's bank registration."""

from odoo import fields, models

from ..tools import ing_mapping, ing_provider

#: Registered with the framework, which builds it from the bank registration.
PROVIDER = ing_provider.IngProvider


class AccountBankLink(models.Model):
    _inherit = "account.bank.link"

    provider = fields.Selection(selection_add=[(PROVIDER.code, PROVIDER.name)], ondelete={PROVIDER.code: "cascade"})

    def _bank_link_wizard_texts(self):
        texts = super()._bank_link_wizard_texts()
        if self.provider == PROVIDER.code:
            texts.update(
                consent=self.env._(
                    "You are sent to ING. Only the company's legal representative "
                    "(wettelijk vertegenwoordiger) can give this consent; someone who is "
                    "only authorised on the account cannot. Log in with the ING app, "
                    "choose the accounts and confirm. Afterwards you come back here."
                ),
                eligibility=self.env._(
                    "ING links business current accounts and G-accounts. Savings, "
                    "foreign-currency, investment and private accounts cannot be linked."
                ),
                first_fetch=self.env._(
                    "ING delivers transactions daily; we fetch them up to 4 times a day. "
                    "Linked before 20:00? Then today's transactions arrive today; linked "
                    "later, they arrive tomorrow."
                ),
            )
        return texts

    def _bank_link_account_eligibility(self, bank_account):
        eligible, reason = super()._bank_link_account_eligibility(bank_account)
        if self.provider != PROVIDER.code:
            return eligible, reason
        # ING's own rule, worded for the user in their language (the
        # provider's reason is English).
        ing_eligible, _english = ing_mapping.eligibility(
            bank_account.product, bank_account.currency
        )
        if not bank_account.iban:
            return False, self.env._("This account has no IBAN (card account).")
        if not ing_eligible:
            return False, self._ing_ineligible_reason(bank_account)
        return eligible, reason

    def _ing_ineligible_reason(self, bank_account):
        currency = (bank_account.currency or "").upper()
        product = (bank_account.product or "").strip()
        name = product.lower()
        if currency != "EUR":
            return self.env._(
                "This is a foreign-currency account (%(currency)s): only euro accounts "
                "can be linked.",
                currency=currency or "-",
            )
        if any(word in name for word in ing_mapping.EXCLUDED_PRODUCTS[0][1]):
            return self.env._(
                "This is a savings account (%(product)s): only business current "
                "accounts and G-accounts can be linked.",
                product=product,
            )
        if any(word in name for word in ing_mapping.EXCLUDED_PRODUCTS[1][1]):
            return self.env._(
                "This is an investment account (%(product)s): only business current "
                "accounts and G-accounts can be linked.",
                product=product,
            )
        if any(word in name for word in ing_mapping.PRIVATE_PRODUCTS):
            return self.env._(
                "This is a private account (%(product)s): only business current "
                "accounts and G-accounts can be linked.",
                product=product,
            )
        return self.env._(
            "ING product '%(product)s' is not a business current account or G-account "
            "and cannot be linked.",
            product=product or "-",
        )
