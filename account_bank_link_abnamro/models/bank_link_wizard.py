# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from stdnum import iban as stdnum_iban

from odoo import api, fields, models


class AccountBankLinkWizard(models.TransientModel):
    _inherit = "account.bank.link.wizard"

    abnamro_consent_progress = fields.Html(
        related="link_id.abnamro_consent_progress", string="ABN AMRO consents"
    )
    abnamro_consents_missing = fields.Integer(
        "ABN AMRO accounts without consent", compute="_compute_abnamro_consents_missing"
    )

    def _compute_abnamro_consents_missing(self):
        for wizard in self:
            link = wizard.link_id
            wizard.abnamro_consents_missing = (
                len(link._abnamro_missing_consents()) if link.provider == "abnamro" else 0
            )

    @api.model_create_multi
    def create(self, vals_list):
        """Started from a journal with an ABNA IBAN: the bank is known."""
        for vals in vals_list:
            if vals.get("journal_id") and not vals.get("provider"):
                journal = self.env["account.journal"].browse(vals["journal_id"])
                if stdnum_iban.compact(journal.bank_acc_number or "")[4:8] == "ABNA":
                    vals["provider"] = "abnamro"
            if vals.get("provider") == "abnamro" and not vals.get("link_id"):
                vals.update(self._abnamro_draft_contact(vals))
        return super().create(vals_list)

    @api.model
    def _abnamro_draft_contact(self, vals):
        """The legal representative of the configured draft link the wizard
        will continue with, so that it need not be typed again."""
        company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
        draft = self.env["account.bank.link"]._bank_link_reusable_draft("abnamro", company)
        return {
            name: draft[name]
            for name in ("legal_representative_name", "legal_representative_email")
            if draft[name] and not vals.get(name)
        }

    def _step_contact_done(self):
        if not self.link_id and self.provider == "abnamro":
            self.link_id = self.env["account.bank.link"]._bank_link_reusable_draft(
                "abnamro", self.company_id
            )
        return super()._step_contact_done()

    def _bank_link_consent_given(self):
        """ABN AMRO: one consent per account. While accounts of the company
        lack one, the wizard stays at the consent step for the next."""
        result = super()._bank_link_consent_given()
        if self.link_id.provider == "abnamro" and self.link_id._abnamro_missing_consents():
            self.step = "consent"
        return result
