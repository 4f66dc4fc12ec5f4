# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


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


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    nl_bank_link_account_id = fields.Many2one(
        "account.bank.link.account",
        "Linked bank account",
        readonly=True,
        index="btree_not_null",
        copy=False,
    )
    nl_end_to_end_id = fields.Char("End-to-end id", readonly=True, copy=False)
    nl_bank_transaction_code = fields.Char(
        "Bank transaction code", readonly=True, copy=False
    )
    nl_structured_reference = fields.Char(
        "Structured reference", readonly=True, copy=False
    )
    nl_is_balance_correction = fields.Boolean(
        "Balance correction",
        readonly=True,
        copy=False,
        help="Booked by the bank link to make the statement match the bank's "
        "balance: find and fix the cause.",
    )
