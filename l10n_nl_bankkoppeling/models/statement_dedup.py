# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Keeps one line per transaction when the bank link and files (camt.053,
MT940) bring the same transactions: the Odoo side of
tools/statement_identity.py, shared by the fetch (statement_builder.py) and
the file import (account_statement_import.py). A fixed number of queries
per batch."""

import datetime
from decimal import Decimal

from odoo import fields

from ..tools import statement_identity as si


class CrossSourceDedup:
    def __init__(self, journal, account_iban, source):
        self.env = journal.env
        self.journal = journal
        self.account_iban = account_iban or ""
        self.source = source

    # ------------------------------------------------------------------

    def identify(self, rows):
        """``rows``: ``(date, amount, counterparty IBAN, end-to-end id,
        structured reference)`` in the source's order."""
        return si.identities(
            si.identity(
                self.account_iban,
                fields.Date.to_date(day) if not isinstance(day, datetime.date) else day,
                Decimal(str(amount)),
                iban,
                e2e,
                reference,
            )
            for day, amount, iban, e2e, reference in rows
        )

    def taken_import_ids(self, uids):
        """Import ids already in Odoo or removed by the user as duplicates."""
        uids = [uid for uid in uids if uid]
        if not uids:
            return set()
        Line = self.env["account.bank.statement.line"]
        Line.flush_model(["unique_import_id"])
        self.env.cr.execute(
            "SELECT unique_import_id FROM account_bank_statement_line "
            "WHERE unique_import_id = ANY(%s)",
            (uids,),
        )
        taken = {row[0] for row in self.env.cr.fetchall()}
        return taken | self.env["account.bank.statement.line.removed"].sudo()._taken(uids)

    def plan(self, identities):
        """Compare with what other sources booked in this journal."""
        groups = list({ident.group for ident in identities})
        if not groups:
            return si.Plan()
        others = self.env["account.bank.statement.line"].sudo().search_fetch(
            [
                ("journal_id", "=", self.journal.id),
                ("nl_transaction_group", "in", groups),
                ("nl_import_source", "!=", False),
                ("nl_import_source", "!=", self.source),
            ],
            ["nl_transaction_group", "nl_transaction_key", "nl_end_to_end_id",
             "nl_structured_reference"],
        )
        existing = [
            si.Existing(
                line_id=line.id,
                group=line.nl_transaction_group,
                key=line.nl_transaction_key,
                discriminator=si.discriminator(
                    line.nl_end_to_end_id, line.nl_structured_reference
                ),
            )
            for line in others
        ]
        return si.plan_against_other_sources(identities, existing)

    def batch_sums(self, dates):
        """``{(date, amount): detail lines}`` of the batches (direct-debit
        collections, salaries) whose payments are in this journal one by one
        from a camt file, on ``dates``: a source that books such a batch as
        one total line (the link, MT940) would give it twice. One query."""
        dates = sorted({fields.Date.to_date(day) for day in dates if day})
        if not dates:
            return {}
        rows = self.env["account.bank.statement.line"].sudo()._read_group(
            [
                ("journal_id", "=", self.journal.id),
                ("nl_batch_detail", "=", True),
                ("date", "in", dates),
            ],
            ["date:day", "nl_batch_reference"],
            ["amount:sum", "id:recordset"],
        )
        return {
            (fields.Date.to_date(day), self.round(total)): (reference, lines)
            for day, reference, total, lines in rows
        }

    def round(self, amount):
        currency = self.journal.currency_id or self.journal.company_id.currency_id
        return currency.round(float(amount))

    def batch_note(self, reference):
        return self.env._(
            "Possible duplicate: this line has the amount and date of batch %(batch)s, "
            "whose payments were imported one by one from a camt file. If this line is "
            "the bank's total of that batch, choose \"Remove duplicate\"; if it is a "
            "separate payment, choose \"Not a duplicate\".",
            batch=reference,
        )

    def line_values(self, ident, uncertain=False):
        vals = {
            "nl_import_source": self.source,
            "nl_transaction_group": ident.group,
            "nl_transaction_key": ident.key,
        }
        if uncertain:
            vals["nl_possible_duplicate"] = True
            vals["nl_duplicate_note"] = self.note()
        return vals

    def flag_existing(self, plan, created_positions):
        """Mark the other sources' lines that a created line may repeat
        (only when something new was created: a later fetch of the same
        days does not mark again what the user settled)."""
        ids = {
            line_id
            for position in created_positions
            for line_id in plan.uncertain_with.get(position, ())
        }
        lines = self.env["account.bank.statement.line"].sudo().browse(sorted(ids))
        lines.write({"nl_possible_duplicate": True, "nl_duplicate_note": self.note()})
        return lines

    def note(self):
        return self.env._(
            "Possible duplicate: the bank link and the imported files show a "
            "transaction with this date, amount and counterparty a different "
            "number of times, so Odoo cannot tell which lines are the same. "
            "If this line is a separate payment, choose \"Not a duplicate\"; "
            "if it is booked twice, choose \"Remove duplicate\"."
        )
