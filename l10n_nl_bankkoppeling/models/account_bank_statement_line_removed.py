# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class AccountBankStatementLineRemoved(models.Model):
    """Lines the user removed as duplicates: their import ids stay taken."""

    _name = "account.bank.statement.line.removed"
    _description = "Bank statement line removed as duplicate"
    _order = "id desc"

    unique_import_id = fields.Char(required=True, index=True, readonly=True)
    journal_id = fields.Many2one(
        "account.journal", required=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(
        related="journal_id.company_id", store=True, index=True
    )
    date = fields.Date(readonly=True)
    amount = fields.Float(readonly=True)
    payment_ref = fields.Char("Label", readonly=True)

    _sql_constraints = [
        (
            "unique_import_id_unique",
            "unique(unique_import_id)",
            "This line was removed as a duplicate already.",
        )
    ]

    @api.model
    def _taken(self, uids):
        """Those of ``uids`` removed before (one query)."""
        if not uids:
            return set()
        self.flush_model(["unique_import_id"])
        self.env.cr.execute(
            "SELECT unique_import_id FROM account_bank_statement_line_removed "
            "WHERE unique_import_id = ANY(%s)",
            (list(uids),),
        )
        return {row[0] for row in self.env.cr.fetchall()}
