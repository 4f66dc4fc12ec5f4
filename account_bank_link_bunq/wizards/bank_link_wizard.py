# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class AccountBankLinkWizard(models.TransientModel):
    _inherit = "account.bank.link.wizard"

    @api.model_create_multi
    def create(self, vals_list):
        """Started from a journal with a BUNQ IBAN: the bank is known (the
        framework reads BUNQ from the provider class), and a prepared draft
        link's legal representative need not be typed again."""
        for vals in vals_list:
            self._bank_link_detect_provider(vals)
            if vals.get("provider") == "bunq" and not vals.get("link_id"):
                vals.update(self._bunq_draft_contact(vals))
        return super().create(vals_list)

    @api.model
    def _bunq_draft_contact(self, vals):
        company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
        draft = self.env["account.bank.link"]._bank_link_reusable_draft("bunq", company)
        return {
            name: draft[name]
            for name in ("legal_representative_name", "legal_representative_email")
            if draft[name] and not vals.get(name)
        }

    def _step_contact_done(self):
        if not self.link_id and self.provider == "bunq":
            self.link_id = self.env["account.bank.link"]._bank_link_reusable_draft("bunq", self.company_id)
        return super()._step_contact_done()
