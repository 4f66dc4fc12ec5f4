# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class AccountBankLinkWizard(models.TransientModel):
    _inherit = "account.bank.link.wizard"

    @api.model_create_multi
    def create(self, vals_list):
        """Started from a journal with an INGB IBAN: the bank is known
        (the framework reads INGB from the provider class)."""
        for vals in vals_list:
            self._bank_link_detect_provider(vals)
            if vals.get("provider") == "ing" and not vals.get("link_id"):
                vals.update(self._ing_draft_contact(vals))
        return super().create(vals_list)

    @api.model
    def _ing_draft_contact(self, vals):
        """The legal representative of the configured draft link the wizard
        will continue with, so that it need not be typed again."""
        company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
        draft = self.env["account.bank.link"]._bank_link_reusable_draft("ing", company)
        return {
            name: draft[name]
            for name in ("legal_representative_name", "legal_representative_email")
            if draft[name] and not vals.get(name)
        }

    def _step_contact_done(self):
        if not self.link_id and self.provider == "ing":
            self.link_id = self.env["account.bank.link"]._bank_link_reusable_draft(
                "ing", self.company_id
            )
        return super()._step_contact_done()
