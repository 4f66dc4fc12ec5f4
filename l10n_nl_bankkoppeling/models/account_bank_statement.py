# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.exceptions import UserError


class AccountBankStatement(models.Model):
    _inherit = "account.bank.statement"

    nl_bank_link_account_id = fields.Many2one(
        "account.bank.link.account",
        "Linked bank account",
        readonly=True,
        index="btree_not_null",
        copy=False,
    )
    #: ``2026-03-04`` (one statement per booking date) or ``2026-03`` (per period).
    nl_statement_key = fields.Char("Statement key", readonly=True, copy=False)
    nl_bank_balance = fields.Monetary(
        "Bank's booked balance", readonly=True, copy=False
    )
    nl_bank_balance_date = fields.Date("Bank balance date", readonly=True, copy=False)
    #: What the bank says about the statement as a whole in a file (ING's
    #: ``/SUM/<debits>/<credits>/<debit total>/<credit total>/`` after :62F:).
    nl_information = fields.Char("Information from the bank", readonly=True, copy=False)

    _sql_constraints = [
        (
            "nl_statement_key_unique",
            "unique(nl_bank_link_account_id, nl_statement_key)",
            "A linked bank account has one statement per day or period.",
        ),
    ]

    nl_possible_duplicate_count = fields.Integer(
        "Possible duplicates",
        compute="_compute_nl_possible_duplicate_count",
        search="_search_nl_possible_duplicate_count",
    )

    def _compute_nl_possible_duplicate_count(self):
        counts = dict(
            self.env["account.bank.statement.line"]._read_group(
                [("statement_id", "in", self.ids), ("nl_possible_duplicate", "=", True)],
                ["statement_id"],
                ["__count"],
            )
        )
        for statement in self:
            statement.nl_possible_duplicate_count = counts.get(statement, 0)

    def _search_nl_possible_duplicate_count(self, operator, value):
        if operator not in (">", "!=") or value not in (0, False):
            raise UserError(self.env._("Search for statements with possible duplicates only."))
        return [("line_ids.nl_possible_duplicate", "=", True)]
