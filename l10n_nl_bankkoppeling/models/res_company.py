# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    bank_link_balance_correction = fields.Boolean(
        "Book balance corrections",
        help="When the bank's booked balance differs from the imported lines, "
        "book the difference as a clearly labelled correction line on the "
        "statement (it always shows on the journal and in its chatter).",
    )


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    bank_link_balance_correction = fields.Boolean(
        related="company_id.bank_link_balance_correction", readonly=False
    )
