# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""One transaction identity across the bank link, camt.053 and MT940 files
(tools/statement_identity.py), and what the user does with the lines that
may be the same transaction twice."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..tools import statement_identity as si

IMPORT_SOURCES = [
    (si.SOURCE_LINK, "Bank link"),
    (si.SOURCE_CAMT, "camt.053 file"),
    (si.SOURCE_MT940, "MT940 file"),
]


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    nl_import_source = fields.Selection(
        IMPORT_SOURCES, "Imported from", readonly=True, copy=False
    )
    nl_transaction_group = fields.Char(
        "Transaction group",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Account, booking date, amount and counterparty IBAN, hashed: "
        "equal for the same transaction in every source.",
    )
    nl_transaction_key = fields.Char(
        "Transaction identity",
        readonly=True,
        copy=False,
        help="The group plus end-to-end id or payment reference, hashed.",
    )
    nl_counterparty_bic = fields.Char("Counterparty BIC", readonly=True, copy=False)
    nl_possible_duplicate = fields.Boolean(
        "Possible duplicate",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Another source (bank link or file) brought a transaction with "
        "the same date, amount and counterparty a different number of times: "
        "check whether this line is booked twice.",
    )
    nl_duplicate_note = fields.Text("Duplicate check", readonly=True, copy=False)

    def action_nl_keep_duplicate(self):
        """The user says these are different transactions: clear the mark
        on them and on the lines they were compared with."""
        self._nl_flagged_in_groups().write(
            {"nl_possible_duplicate": False, "nl_duplicate_note": False}
        )
        return True

    def action_nl_remove_duplicate(self):
        """Delete these lines as duplicates. Their import ids are remembered,
        so the next fetch or file does not bring them back."""
        lines = self.filtered("nl_possible_duplicate")
        if lines != self:
            raise UserError(
                _("Only lines marked as possible duplicate can be removed here.")
            )
        if lines.filtered("is_reconciled"):
            raise UserError(
                _(
                    "Undo the reconciliation of %(lines)s before removing it as a "
                    "duplicate.",
                    lines=", ".join(lines.filtered("is_reconciled").mapped("display_name")),
                )
            )
        groups = set(lines.mapped("nl_transaction_group"))
        journals = lines.journal_id
        self.env["account.bank.statement.line.removed"].create(
            [
                {
                    "unique_import_id": line.unique_import_id,
                    "journal_id": line.journal_id.id,
                    "date": line.date,
                    "amount": line.amount,
                    "payment_ref": line.payment_ref,
                }
                for line in lines
                if line.unique_import_id
            ]
        )
        lines.unlink()
        self._nl_settle_groups(journals, groups)
        return True

    def _nl_flagged_in_groups(self):
        return self.search(
            [
                ("journal_id", "in", self.journal_id.ids),
                ("nl_transaction_group", "in", list(set(self.mapped("nl_transaction_group")))),
                ("nl_possible_duplicate", "=", True),
            ]
        ) | self.filtered("nl_possible_duplicate")

    @api.model
    def _nl_settle_groups(self, journals, groups):
        """After a removal: where lines of one source only are left, there
        is no doubt any more."""
        rows = self._read_group(
            [
                ("journal_id", "in", journals.ids),
                ("nl_transaction_group", "in", list(groups)),
                ("nl_possible_duplicate", "=", True),
            ],
            ["journal_id", "nl_transaction_group"],
            ["nl_import_source:array_agg", "id:recordset"],
        )
        settled = self.browse()
        for _journal, _group, sources, lines in rows:
            if len(set(sources)) <= 1:
                settled |= lines
        settled.write({"nl_possible_duplicate": False, "nl_duplicate_note": False})


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


class AccountBankStatement(models.Model):
    _inherit = "account.bank.statement"

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
            raise UserError(_("Search for statements with possible duplicates only."))
        return [("line_ids.nl_possible_duplicate", "=", True)]
