# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Turns normalised bank transactions into statement lines and statements,
in batches: a fixed number of queries per fetch, not per line."""

import secrets
from decimal import Decimal

from ..tools.statement_identity import SOURCE_LINK, transaction_identities
from .statement_dedup import CrossSourceDedup

#: Lines per create(): Odoo's per-batch queries (payment state, sequence)
#: take ``IN (ids)`` lists that PostgreSQL handles badly beyond a few
#: thousand ids; batches of this size keep the cost per line constant.
CREATE_BATCH = 500


def create_lines_in_batches(Line, vals_list):
    """``Line.create`` in batches of CREATE_BATCH; the created lines."""
    lines = Line.browse()
    for start in range(0, len(vals_list), CREATE_BATCH):
        lines |= Line.create(vals_list[start : start + CREATE_BATCH])
    return lines


class StatementBuilder:
    def __init__(self, link_account, provider_code):
        self.account = link_account
        self.env = link_account.env
        self.journal = link_account.journal_id
        self.currency = self.journal.currency_id or self.journal.company_id.currency_id
        self.prefix = f"{provider_code}:{link_account.iban}:"
        self.grouping = link_account.statement_grouping
        #: Set when this import created the journal's first statement: its
        #: opening balance is then the bank's, not zero (see check_balance).
        self.opens_journal = False

    # ------------------------------------------------------------------
    # Import
    # ------------------------------------------------------------------

    def import_transactions(self, transactions):
        """Create the lines not imported before, through the link or from a
        file. Returns a dict with ``created`` (count), ``lines``,
        ``skipped`` (already there) and ``possible_duplicates``."""
        start = self.account.start_date
        kept = [tx for tx in transactions if not start or tx.booking_date >= start]
        identified = transaction_identities(self.prefix, kept)
        dedup = CrossSourceDedup(self.journal, self.account.iban, SOURCE_LINK)
        existing = dedup.taken_import_ids([uid for uid, _tx in identified])
        # The link's whole view of the days, also what is there already,
        # is compared with the files': counts must agree per identity.
        identities = dedup.identify(
            (tx.booking_date, tx.amount, tx.counterparty_iban, tx.end_to_end_id,
             tx.structured_reference)
            for _uid, tx in identified
        )
        plan = dedup.plan(identities)
        new = [
            (position, uid, tx)
            for position, (uid, tx) in enumerate(identified)
            if uid not in existing and position not in plan.duplicate
        ]
        uncertain = [position for position, _u, _t in new if position in plan.uncertain]
        result = {
            "created": len(new),
            "skipped": len(identified) - len(new),
            "possible_duplicates": len(uncertain),
        }
        Line = self.env["account.bank.statement.line"]
        if not new:
            result["lines"] = Line
            return result
        # Stable sort: the bank's order within a day is kept.
        new.sort(key=lambda row: row[2].booking_date)
        self.opens_journal = not self.env["account.bank.statement"].search_count(
            [("journal_id", "=", self.journal.id)], limit=1
        )
        statements = self._statements_for(
            {self._key(tx.booking_date) for _p, _u, tx in new}
        )
        vals_list = [
            {
                **self._line_vals(uid, tx, statements[self._key(tx.booking_date)]),
                **dedup.line_values(identities[position], position in plan.uncertain),
            }
            for position, uid, tx in new
        ]
        batch_details = self._mark_batch_totals(dedup, new, vals_list)
        result["possible_duplicates"] += len(batch_details)
        self._apply_import_hooks(vals_list)
        lines = create_lines_in_batches(Line, vals_list)
        dedup.flag_existing(plan, uncertain)
        for reference, details in batch_details.values():
            details.write({"nl_possible_duplicate": True, "nl_duplicate_note": dedup.batch_note(reference)})
        touched = self.env["account.bank.statement"].union(*statements.values())
        self.rechain(touched)
        result["lines"] = lines
        return result

    def _mark_batch_totals(self, dedup, new, vals_list):
        """A fetched line with the day and amount of a batch whose payments
        came one by one from a camt file is probably the bank's total of it:
        kept, and marked with the payments as a possible duplicate."""
        sums = dedup.batch_sums({tx.booking_date for _p, _u, tx in new})
        found = {}
        for (_position, _uid, tx), vals in zip(new, vals_list, strict=True):
            batch = sums.get((tx.booking_date, dedup.round(tx.amount)))
            if batch and not vals.get("nl_possible_duplicate"):
                vals.update(nl_possible_duplicate=True, nl_duplicate_note=dedup.batch_note(batch[0]))
                found[batch[0]] = batch
        return found

    def _key(self, booking_date):
        if self.grouping == "period":
            return booking_date.strftime("%Y-%m")
        return booking_date.isoformat()

    def _apply_import_hooks(self, vals_list):
        """Partner from the counterparty IBAN, and whatever reconciliation
        modules add, through OCA account_statement_import_base's hooks (one
        query for all lines)."""
        speeddict = self.journal._statement_line_import_speeddict()
        for vals in vals_list:
            self.journal._statement_line_import_update_hook(vals, speeddict)

    def _statements_for(self, keys):
        Statement = self.env["account.bank.statement"]
        found = Statement.search_fetch(
            [
                ("nl_bank_link_account_id", "=", self.account.id),
                ("nl_statement_key", "in", sorted(keys)),
            ],
            ["nl_statement_key"],
        )
        by_key = {stmt.nl_statement_key: stmt for stmt in found}
        missing = sorted(set(keys) - set(by_key))
        created = Statement.create(
            [
                {
                    "name": f"{self.journal.code}/{key}",
                    "journal_id": self.journal.id,
                    "nl_bank_link_account_id": self.account.id,
                    "nl_statement_key": key,
                    "balance_start": 0.0,
                    "balance_end_real": 0.0,
                }
                for key in missing
            ]
        )
        by_key.update(zip(missing, created, strict=False))
        return by_key

    def _line_vals(self, uid, tx, statement):
        remittance = (tx.remittance_text or "").strip()
        payment_ref = (
            remittance
            or (tx.counterparty_name or "").strip()
            or tx.structured_reference
            or "/"
        )
        vals = {
            "statement_id": statement.id,
            "journal_id": self.journal.id,
            "date": tx.booking_date,
            "amount": float(tx.amount),
            "payment_ref": payment_ref,
            "partner_name": tx.counterparty_name or False,
            "account_number": tx.counterparty_iban or False,
            "unique_import_id": uid,
            "transaction_type": tx.bank_transaction_code or False,
            "nl_bank_link_account_id": self.account.id,
            "nl_end_to_end_id": tx.end_to_end_id or False,
            "nl_bank_transaction_code": tx.bank_transaction_code or False,
            "nl_structured_reference": tx.structured_reference or False,
            "nl_counterparty_bic": tx.counterparty_bic or False,
        }
        if tx.structured_reference:
            vals["ref"] = tx.structured_reference
        if tx.raw:
            vals["transaction_details"] = dict(tx.raw)
        return vals

    # ------------------------------------------------------------------
    # Balances
    # ------------------------------------------------------------------

    def rechain(self, statements):
        """Each statement of this account from the first of ``statements`` on starts
        where the previous one ended; its end is the bank's booked balance
        when the bank gave one for its last day, else the lines' sum."""
        Statement = self.env["account.bank.statement"]
        self.env.flush_all()
        from_index = min((s.first_line_index or "" for s in statements), default="")
        chain = Statement.search(
            [
                ("nl_bank_link_account_id", "=", self.account.id),
                ("first_line_index", ">=", from_index),
            ],
            order="first_line_index, id",
        )
        if not chain:
            return
        previous = Statement.search(
            [
                ("journal_id", "=", self.journal.id),
                ("first_line_index", "<", chain[0].first_line_index),
                ("id", "not in", chain.ids),
            ],
            order="first_line_index desc, id desc",
            limit=1,
        )
        sums = {
            stmt.id: amount
            for stmt, amount in self.env["account.bank.statement.line"]._read_group(
                [("statement_id", "in", chain.ids), ("state", "=", "posted")],
                ["statement_id"],
                ["amount:sum"],
            )
        }
        # The journal's first statement keeps its opening balance (the
        # bank's, or one entered by hand).
        balance = previous.balance_end_real if previous else chain[0].balance_start
        round_ = self.currency.round
        for stmt in chain:
            start = round_(balance)
            end = round_(start + sums.get(stmt.id, 0.0))
            if (
                stmt.nl_bank_balance_date
                and stmt.date
                and stmt.nl_bank_balance_date >= stmt.date
            ):
                end = round_(stmt.nl_bank_balance)
            if self.currency.compare_amounts(
                stmt.balance_start, start
            ) or self.currency.compare_amounts(stmt.balance_end_real, end):
                stmt.write({"balance_start": start, "balance_end_real": end})
            balance = end

    def check_balance(self, bank_balance, default_date):
        """Compare the bank's booked balance with ours at its date. Returns
        a dict for the report, or None when there is nothing to compare."""
        if bank_balance.currency and bank_balance.currency != self.currency.name:
            return None
        on_date = bank_balance.reference_date or default_date
        self.env.flush_all()
        Line = self.env["account.bank.statement.line"]
        groups = Line._read_group(
            [
                ("nl_bank_link_account_id", "=", self.account.id),
                ("date", "<=", on_date),
                ("state", "=", "posted"),
                ("statement_id", "!=", False),
            ],
            ["statement_id"],
            ["amount:sum"],
        )
        bank = self.currency.round(float(Decimal(bank_balance.amount)))
        opening = None
        if self.opens_journal:
            opening = self._take_opening_balance(bank, sum(a for _s, a in groups))
        if not groups:
            if opening is None:
                return None
            # Every imported line is later than the balance: it is the
            # opening balance itself, and there is nothing to compare yet.
            return {
                "date": on_date,
                "bank": bank,
                "computed": bank,
                "found_difference": 0.0,
                "difference": 0.0,
                "corrected": False,
                "opening": opening,
            }
        statement, amount = max(
            groups, key=lambda g: (g[0].first_line_index or "", g[0].id)
        )
        computed = self.currency.round(statement.balance_start + amount)
        difference = self.currency.round(bank - computed)
        if bank_balance.includes_pending:
            # Rabobank's "expected", de Volksbank's "interimAvailable": the
            # bank counts pending bookings we do not import. The difference
            # is what is pending (or missing: it cannot tell), so it neither
            # closes the statement nor books a correction.
            return {
                "date": on_date,
                "bank": bank,
                "computed": computed,
                "found_difference": 0.0,
                "difference": 0.0,
                "pending": difference,
                "corrected": False,
                "opening": opening,
            }
        statement_ends_on_date = not statement.date or statement.date <= on_date
        if statement_ends_on_date:
            statement.write({"nl_bank_balance": bank, "nl_bank_balance_date": on_date})
        corrected = False
        company = self.journal.company_id
        if (
            not self.currency.is_zero(difference)
            and company.bank_link_balance_correction
        ):
            self._create_correction_line(statement, on_date, difference, bank, computed)
            corrected = True
        self.rechain(statement)
        return {
            "date": on_date,
            "bank": bank,
            "computed": computed,
            "found_difference": difference,
            "difference": 0.0 if corrected else difference,
            "corrected": corrected,
            "opening": opening,
        }

    def _take_opening_balance(self, bank, imported):
        """The journal starts with this import: its first statement opens
        with the bank's balance before the first imported transaction (the
        bank's balance minus what was imported up to its date), so that
        the journal agrees with the bank without an opening balance typed
        in by hand. Returns that opening balance."""
        first = self.env["account.bank.statement"].search(
            [("nl_bank_link_account_id", "=", self.account.id)],
            order="first_line_index, id",
            limit=1,
        )
        opening = self.currency.round(bank - imported)
        first.balance_start = opening
        self.rechain(first)
        return opening

    def _create_correction_line(self, statement, on_date, difference, bank, computed):
        date_text = self.account.link_id._bank_link_format_date(on_date)
        self.env["account.bank.statement.line"].create(
            {
                "statement_id": statement.id,
                "journal_id": self.journal.id,
                "date": on_date,
                "amount": difference,
                "payment_ref": self.env._(
                    "Bank link balance correction %(date)s: bank %(bank).2f, "
                    "imported %(computed).2f",
                    date=date_text,
                    bank=bank,
                    computed=computed,
                ),
                "unique_import_id": f"{self.prefix}correction:{on_date.isoformat()}:{secrets.token_hex(6)}",
                "nl_bank_link_account_id": self.account.id,
                "nl_is_balance_correction": True,
            }
        )
