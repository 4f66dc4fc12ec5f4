# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class AccountBankLinkWizard(models.TransientModel):
    _inherit = "account.bank.link.wizard"

    abnamro_consent_progress = fields.Html(
        "ABN AMRO consents", compute="_compute_abnamro_consents", sanitize=False
    )
    abnamro_consents_missing = fields.Integer(
        "ABN AMRO accounts without consent", compute="_compute_abnamro_consents"
    )

    @api.depends("link_id", "journal_id", "link_state")
    def _compute_abnamro_consents(self):
        for wizard in self:
            link = wizard.link_id
            if link.provider != "abnamro":
                wizard.abnamro_consent_progress = False
                wizard.abnamro_consents_missing = 0
                continue
            wizard.abnamro_consent_progress = link._abnamro_consent_progress_html(
                link._abnamro_wanted_ibans(wizard.journal_id)
            )
            wizard.abnamro_consents_missing = len(
                link._abnamro_missing_consents(wizard.journal_id)
            )

    @api.depends("provider", "link_id", "journal_id", "link_state")
    def _compute_texts(self):  # pylint: disable=missing-return
        # A compute method: it assigns, it returns nothing.
        super()._compute_texts()
        for wizard in self.filtered(lambda w: w.provider == "abnamro" and w.link_id):
            count = len(wizard.link_id._abnamro_missing_consents(wizard.journal_id))
            # The accounts of the list below, not a number from the manual.
            if count == 1:
                wizard.consent_text = self.env._(
                    "The request starts at ABN AMRO: you log in there with the ABN "
                    "AMRO app or e.dentifier and choose ONE account. ABN AMRO asks a "
                    "consent per account: 1 account below still needs its consent. "
                    "Afterwards you come back here."
                )
            elif count > 1:
                wizard.consent_text = self.env._(
                    "The request starts at ABN AMRO: you log in there with the ABN "
                    "AMRO app or e.dentifier and choose ONE account. ABN AMRO asks a "
                    "consent per account: %(count)s accounts below still need one, so "
                    "you give %(count)s consents. After each one you come back here "
                    "and continue with the next account.",
                    count=count,
                )

    def _bank_link_consent_given(self):
        """ABN AMRO: one consent per account. While accounts of the company
        lack one, the wizard stays at the consent step for the next."""
        result = super()._bank_link_consent_given()
        link = self.link_id
        if link.provider == "abnamro" and link._abnamro_missing_consents(self.journal_id):
            self.step = "consent"
        return result
