# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class AccountBankLinkWizard(models.TransientModel):
    _inherit = "account.bank.link.wizard"

    def _step_contact_done(self):
        if not self.link_id and self.provider == "ing":
            self.link_id = self.env["account.bank.link"]._bank_link_reusable_draft(
                "ing", self.company_id
            )
        return super()._step_contact_done()
