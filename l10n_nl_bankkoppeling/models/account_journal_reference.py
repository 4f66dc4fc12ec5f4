from odoo import fields, models


class AccountJournal(models.Model):
    _inherit = "account.journal"

    # The default model is picked by country code prefix (see
    # account.journal._default_invoice_reference_model): 'nl' for Dutch
    # companies, as l10n_be/l10n_fi/l10n_no do for theirs.
    invoice_reference_model = fields.Selection(
        selection_add=[("nl", "Dutch (betalingskenmerk)")],
        ondelete={"nl": lambda journals: journals.write({"invoice_reference_model": "odoo"})},
    )
