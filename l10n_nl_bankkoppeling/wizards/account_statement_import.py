# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The user's "Import statement" wizard (OCA account_statement_import_file)
for Dutch bank files: MT940 of ING, ABN AMRO and Rabobank (camt.053 comes
through OCA's parser, see account_statement_import_camt_parser.py), clear
errors, a file imported whole or not at all, and one line per transaction
also when the bank link brought it too (statement_dedup.py)."""

import datetime
import logging
from collections import defaultdict

from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.base.models.res_bank import sanitize_account_number

from ..models.statement_builder import create_lines_in_batches
from ..models.statement_dedup import CrossSourceDedup
from ..tools import mt940_nl, safe_xml
from ..tools import statement_identity as si

_logger = logging.getLogger(__name__)

#: MT940 comes as .sta, .940, .mt940, .swi or .txt depending on the bank:
#: the content decides, not the name (the wizard accepts any file).


class AccountStatementImport(models.TransientModel):
    _inherit = "account.statement.import"

    # ------------------------------------------------------------------
    # Whole or nothing
    # ------------------------------------------------------------------

    def _import_file(self):
        # One savepoint: a statement of a multi-statement file that fails
        # takes the ones before it along, also for callers that catch.
        with self.env.cr.savepoint():
            return super()._import_file()

    def import_single_file(self, file_data, result):
        """OCA's, knowing how many accounts the file holds: a file of several
        accounts (ING's, ABN AMRO's and Rabobank's "all accounts" export)
        puts each statement in the journal of its own account."""
        parsing_data = self.with_context(active_id=self.ids[0])._parse_file(file_data)
        if not isinstance(parsing_data, list):
            parsing_data = [parsing_data]
        accounts = {
            sanitize_account_number(data[1]) for data in parsing_data
            if isinstance(data, tuple) and len(data) == 3 and data[1]
        }
        importer = self.with_context(nl_file_accounts=len(accounts))
        home = self.env.context.get("journal_id")
        for single_statement_data in parsing_data:
            before = len(result["statement_ids"])
            importer.import_single_statement(single_statement_data, result)
            statements = self.env["account.bank.statement"].browse(result["statement_ids"][before:])
            for journal in statements.journal_id.filtered(lambda j: j.id != home):
                result["notifications"].append(
                    self.env._(
                        "The statement(s) of account %(account)s in this file were "
                        "imported into journal %(journal)s.",
                        account=journal.bank_account_id.acc_number,
                        journal=journal.display_name,
                    )
                )

    def import_single_statement(self, single_statement_data, result):
        # OCA marks the journal as fed by files; a linked journal stays
        # linked when a file fills a gap.
        linked = self.env["account.journal"].search(
            [("bank_statements_source", "=", "bank_link")]
        )
        res = super().import_single_statement(single_statement_data, result)
        switched = linked.filtered(lambda j: j.bank_statements_source != "bank_link")
        if switched:
            switched.sudo().write({"bank_statements_source": "bank_link"})
        return res

    # ------------------------------------------------------------------
    # Parsing
    # ------------------------------------------------------------------

    def _parse_file(self, data_file):
        if safe_xml.looks_like_xml(data_file):
            # Before any parser (ours or OCA's) reads it, in any encoding.
            self._nl_refuse_xml_declarations(data_file)
            self._nl_check_xml(data_file)
            return super()._parse_file(data_file)
        try:
            text, encoding = mt940_nl.decode_bank_file(data_file)
        except mt940_nl.BankFileError as error:
            raise UserError(self._nl_error_message(error)) from error
        if not mt940_nl.looks_like_mt940(text):
            return super()._parse_file(data_file)
        _logger.debug("MT940 file %s read as %s", self.statement_filename, encoding)
        try:
            statements = mt940_nl.parse_mt940(text)
        except mt940_nl.BankFileError as error:
            raise UserError(self._nl_error_message(error)) from error
        return [self._nl_mt940_statement(statement) for statement in statements]

    def _nl_refuse_xml_declarations(self, data_file):
        """A bank file has no reason to declare a DOCTYPE or entities; one
        that does could make a parser read local files into the statement."""
        try:
            safe_xml.check(data_file)
        except safe_xml.XmlRefused as refused:
            raise self.env["account.statement.import.camt.parser"]._nl_declaration_refused(
                refused
            ) from refused

    def _nl_check_xml(self, data_file):
        """OCA's parser recovers from broken XML and imports what is left:
        a damaged camt file must be refused whole, with its line."""
        if b"camt.05" not in safe_xml.ascii_head(data_file):
            return
        try:
            data = self.env["account.statement.import.camt.parser"]._nl_utf8(data_file)
        except mt940_nl.BankFileError as error:
            raise UserError(self._nl_error_message(error)) from error
        try:
            root = safe_xml.parse(data)
        except safe_xml.XmlRefused as error:
            raise UserError(
                self.env._(
                    "The camt.053 file is damaged at line %(line)s (%(error)s). "
                    "Nothing was imported; download the file again from your bank.",
                    line=error.line,
                    error=error.detail,
                )
            ) from error
        self._nl_refuse_report_or_notification(root)

    def _nl_refuse_report_or_notification(self, root):
        """A camt.052 intraday report or camt.054 notification imports its
        booked entries (the camt.053 or the link that brings them again adds
        nothing: same identity, see statement_dedup.py); one with nothing
        booked yet is refused with the reason."""
        tag = root.tag if isinstance(root.tag, str) else ""
        if "camt.052" not in tag and "camt.054" not in tag:
            return
        ns = tag[1 : tag.index("}")] if tag.startswith("{") else ""
        entries = root.xpath("//ns:Ntry", namespaces={"ns": ns})
        parser = self.env["account.statement.import.camt.parser"]
        if entries and not any(parser._nl_is_booked(ns, entry) for entry in entries):
            raise UserError(
                self.env._(
                    "The file is a camt.052 intraday report whose entries are all still "
                    "pending: they may change and are booked in the next camt.053. "
                    "Nothing was imported; import the file again later or the camt.053 "
                    "(or MT940) statement of these days."
                )
            )

    def _nl_error_message(self, error):
        messages = {
            "unreadable": self.env._(
                "The file cannot be read as text at line %(line)s: it is no bank "
                "statement or it is damaged. Download it again from your bank as "
                "camt.053 (XML) or MT940. Nothing was imported."
            ),
            "mixed_encoding": self.env._(
                "The file mixes two character encodings at line %(line)s (UTF-8 "
                "and Windows-1252 or Latin-1): names and descriptions would be read "
                "wrong. Nothing was imported; download the file again from your "
                "bank and import it without opening it in another program first."
            ),
            "malformed": self.env._(
                "The MT940 file is malformed at line %(line)s: \"%(detail)s\". "
                "Nothing was imported."
            ),
            "incomplete": self.env._(
                "The MT940 statement starting at line %(line)s has no account "
                "(:25:) or no opening or closing balance (:60F:/:62F:). Nothing "
                "was imported."
            ),
            "not_mt940": self.env._(
                "The file has no MT940 statement (no :20: line). Nothing was "
                "imported."
            ),
        }
        template = messages.get(error.code, messages["malformed"])
        return template % {"line": error.line or 1, "detail": error.detail}

    def _nl_mt940_statement(self, statement):
        computed = statement.opening_balance + sum(
            tx.amount for tx in statement.transactions
        )
        if computed != statement.closing_balance:
            raise UserError(
                self.env._(
                    "The MT940 statement starting at line %(line)s does not add "
                    "up: the opening balance %(opening)s plus its transactions "
                    "make %(computed)s, the closing balance is %(closing)s. The "
                    "file is incomplete; nothing was imported.",
                    line=statement.line,
                    opening=statement.opening_balance,
                    computed=computed,
                    closing=statement.closing_balance,
                )
            )
        # A booking after the closing balance's date means the dates are
        # wrong. A :61: without entry date gives its value date, which may lie
        # a few days after the booking (weekends): only a clear gap counts.
        latest_allowed = statement.closing_date + datetime.timedelta(days=4)
        late = [tx for tx in statement.transactions if tx.booking_date > latest_allowed]
        if late or statement.closing_date < statement.opening_date:
            raise UserError(
                self.env._(
                    "The MT940 statement starting at line %(line)s closes on "
                    "%(closing)s (:62F:), before its opening date %(opening)s or a "
                    "transaction booked on %(booked)s. The dates of the file are "
                    "wrong; nothing was imported.",
                    line=statement.line,
                    closing=statement.closing_date,
                    opening=statement.opening_date,
                    booked=late[0].booking_date if late else statement.opening_date,
                )
            )
        vals = {
            "name": statement.number or statement.closing_date.isoformat(),
            "date": statement.closing_date,
            "balance_start": float(statement.opening_balance),
            "balance_end_real": float(statement.closing_balance),
            "nl_information": statement.information or False,
            "transactions": [self._nl_mt940_line(tx) for tx in statement.transactions],
        }
        return statement.currency, statement.iban or statement.account, [vals]

    def _nl_mt940_line(self, tx):
        vals = {
            "date": tx.booking_date,
            "amount": float(tx.amount),
            "payment_ref": tx.remittance_text
            or tx.counterparty_name
            or tx.structured_reference
            or "/",
            "partner_name": tx.counterparty_name or False,
            "account_number": tx.counterparty_iban or False,
            "ref": tx.structured_reference or tx.end_to_end_id or False,
            "transaction_type": tx.bank_transaction_code or False,
            "nl_import_source": si.SOURCE_MT940,
            "nl_end_to_end_id": tx.end_to_end_id or False,
            "nl_structured_reference": tx.structured_reference or False,
            "nl_bank_transaction_code": tx.bank_transaction_code or False,
            "nl_counterparty_bic": tx.counterparty_bic or False,
        }
        if tx.raw:
            vals["transaction_details"] = dict(tx.raw)
        return vals

    # ------------------------------------------------------------------
    # Checks against the journal
    # ------------------------------------------------------------------

    def _match_journal(self, account_number, currency):
        journal_id = self.env.context.get("journal_id")
        if journal_id and account_number:
            journal = self.env["account.journal"].browse(journal_id)
            own = journal.bank_account_id.sanitized_acc_number
            if own and sanitize_account_number(account_number) != own:
                other = self._nl_journal_of_account(account_number, journal.company_id)
                if other and self.env.context.get("nl_file_accounts", 1) > 1:
                    return self.with_context(journal_id=other.id)._match_journal(account_number, currency)
                if self.env.context.get("nl_file_accounts", 1) > 1:
                    raise UserError(
                        self.env._(
                            "This file holds statements of several accounts, and account "
                            "%(file_account)s has no bank journal in %(company)s. Create a "
                            "bank journal for it (or import a file of the other accounts "
                            "only). Nothing was imported.",
                            file_account=account_number,
                            company=journal.company_id.name,
                        )
                    )
                raise UserError(
                    self.env._(
                        "This file holds a statement of account %(file_account)s, "
                        "but the journal %(journal)s is for account "
                        "%(journal_account)s. Import it from the journal of that "
                        "account. Nothing was imported.",
                        file_account=account_number,
                        journal=journal.display_name,
                        journal_account=journal.bank_account_id.acc_number,
                    )
                )
            journal_currency = journal.currency_id or journal.company_id.currency_id
            if currency != journal_currency:
                raise UserError(
                    self.env._(
                        "This file's statement of account %(account)s is in "
                        "%(file_currency)s, but the journal %(journal)s books in "
                        "%(journal_currency)s. Nothing was imported.",
                        account=account_number,
                        file_currency=currency.name,
                        journal=journal.display_name,
                        journal_currency=journal_currency.name,
                    )
                )
        return super()._match_journal(account_number, currency)

    def _nl_journal_of_account(self, account_number, company):
        return self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", company.id),
             ("bank_account_id.sanitized_acc_number", "=", sanitize_account_number(account_number))],
            limit=1,
        )

    # ------------------------------------------------------------------
    # Creating: one line per transaction across sources, in batch
    # ------------------------------------------------------------------

    def _create_bank_statements(self, stmts_vals, result):
        lines = [vals for st_vals in stmts_vals for vals in st_vals["transactions"]]
        if not lines or not all(vals.get("nl_import_source") for vals in lines):
            return super()._create_bank_statements(stmts_vals, result)
        journal = self.env["account.journal"].browse(stmts_vals[0]["journal_id"])
        iban = journal.bank_account_id.sanitized_acc_number or ""
        dedup = CrossSourceDedup(journal, iban, lines[0]["nl_import_source"])
        identities = dedup.identify(
            (
                vals["date"],
                vals["amount"],
                vals.get("account_number"),
                vals.get("nl_end_to_end_id"),
                vals.get("nl_structured_reference"),
            )
            for vals in lines
        )
        for vals, ident in zip(lines, identities, strict=True):
            # The same for camt and MT940 of one account: a period imported
            # in both formats is not imported twice.
            vals["unique_import_id"] = f"{iban}-{journal.id}-nlfile:{ident.token}"
        taken = dedup.taken_import_ids([vals["unique_import_id"] for vals in lines])
        plan = dedup.plan(identities)
        pending = sum(st_vals.pop("nl_pending_skipped", 0) for st_vals in stmts_vals)
        covered, batch_marks = self._nl_batch_overlap(dedup, lines)
        counts = {"taken": 0, "other_source": 0, "batch": 0, "pending": pending}
        uncertain = []
        position = 0
        statement_ids = []
        Statement = self.env["account.bank.statement"]
        for st_vals in stmts_vals:
            to_create = []
            skipped = []
            for vals in st_vals["transactions"]:
                ident = identities[position]
                if vals["unique_import_id"] in taken or position in plan.duplicate:
                    counts["taken" if vals["unique_import_id"] in taken else "other_source"] += 1
                    skipped.append(vals)
                elif position in covered:
                    counts["batch"] += 1
                    skipped.append(vals)
                else:
                    is_uncertain = position in plan.uncertain
                    if is_uncertain:
                        uncertain.append(position)
                    vals.update(dedup.line_values(ident, is_uncertain))
                    if position in batch_marks and not is_uncertain:
                        uncertain.append(position)
                        vals.update(nl_possible_duplicate=True,
                                    nl_duplicate_note=dedup.batch_note(vals["nl_batch_reference"]))
                    to_create.append(vals)
                position += 1
            if not to_create:
                continue
            self._nl_balances_without(st_vals, skipped, to_create)
            for sequence, vals in enumerate(to_create, start=1):
                vals.setdefault("sequence", sequence)
            st_vals.pop("transactions", None)
            context = st_vals.pop("creation_context", {})
            statement = Statement.with_context(**context).create(st_vals)
            self._nl_create_lines(statement, to_create, context)
            statement_ids.append(statement.id)
        if not statement_ids:
            return False
        dedup.flag_existing(plan, uncertain)
        marked = self.env["account.bank.statement.line"].sudo().union(*batch_marks.values())
        for line in marked:
            line.write({"nl_possible_duplicate": True,
                        "nl_duplicate_note": dedup.batch_note(line.nl_batch_reference or "")})
        result["statement_ids"].extend(statement_ids)
        result["notifications"].extend(self._nl_notifications(counts, len(uncertain)))
        return True

    def _nl_batch_overlap(self, dedup, lines):
        """A batch (direct-debit collection, salaries) is booked by the bank
        as one total, and its payments are listed one by one in a camt.054 or
        in the camt.053's entry details. Keep one of the two:

        - the total of a batch whose payments are already here: skipped;
        - payments of a batch whose total is already here: refused (the
          total may be reconciled; the user decides);
        - payments whose batch total matches, on the same day, a line of the
          link or an MT940 (which name no batch): imported, and both marked
          as possible duplicates.

        Returns (positions to skip, {position: existing lines to mark}).
        Pops the parser's ``nl_batch_amount``. Two queries."""
        amounts = [vals.pop("nl_batch_amount", None) for vals in lines]
        references = {vals["nl_batch_reference"] for vals in lines if vals.get("nl_batch_reference")}
        if not references:
            return set(), {}
        Line = self.env["account.bank.statement.line"].sudo()
        known = Line.search_fetch(
            [("journal_id", "=", dedup.journal.id), ("nl_batch_reference", "in", sorted(references))],
            ["nl_batch_reference", "nl_batch_detail", "date", "amount"],
        )
        with_details = {line.nl_batch_reference for line in known if line.nl_batch_detail}
        totals = {line.nl_batch_reference: line for line in known if not line.nl_batch_detail}
        covered = set()
        for position, vals in enumerate(lines):
            reference = vals.get("nl_batch_reference")
            if not reference:
                continue
            if not vals.get("nl_batch_detail") and reference in with_details:
                covered.add(position)
            elif vals.get("nl_batch_detail") and reference in totals:
                total = totals[reference]
                raise UserError(
                    self.env._(
                        "This file lists the payments of batch %(batch)s one by one, but the "
                        "journal already has that batch as one line of %(amount)s on "
                        "%(date)s. Importing its payments would count the batch twice. "
                        "Nothing was imported.",
                        batch=reference,
                        amount=total.amount,
                        date=total.date,
                    )
                )
        details = {
            (vals["nl_batch_reference"], vals["date"], amounts[position]): position
            for position, vals in enumerate(lines)
            if vals.get("nl_batch_detail") and vals["nl_batch_reference"] not in with_details
        }
        if not details:
            return covered, {}
        # The link and MT940 name no batch: the same day and total is the sign.
        days = sorted({fields.Date.to_date(day) for _ref, day, _amount in details})
        unnamed = Line.search_fetch(
            [("journal_id", "=", dedup.journal.id), ("date", "in", days),
             ("nl_batch_reference", "=", False), ("amount", "in", sorted({float(a) for _r, _d, a in details}))],
            ["date", "amount"],
        )
        # The file's batch details by (day, rounded amount): each existing
        # line looks up its own, so the pairing costs O(n + m), not O(n x m).
        positions_by_key = defaultdict(list)
        for position, vals in enumerate(lines):
            if vals.get("nl_batch_detail"):
                key = (fields.Date.to_date(vals["date"]), dedup.round(amounts[position] or 0))
                positions_by_key[key].append(position)
        marks = {}
        for line in unnamed:
            for position in positions_by_key.get((line.date, dedup.round(line.amount)), ()):
                marks[position] = marks.get(position, Line) | line
        return covered, marks

    def _nl_balances_without(self, st_vals, skipped, created):
        """The statement keeps only the created lines. Skipped lines of days
        after the last created one are in later statements (the link booked
        them): the statement closes before them, else the next statement's
        opening breaks the chain. Other skipped lines move the opening, as
        OCA does (within a day their order against the new lines is not
        known)."""
        last_day = max(fields.Date.to_date(vals["date"]) for vals in created)
        for vals in skipped:
            if fields.Date.to_date(vals["date"]) > last_day:
                if "balance_end_real" in st_vals:
                    st_vals["balance_end_real"] -= float(vals["amount"])
            elif "balance_start" in st_vals:
                st_vals["balance_start"] += float(vals["amount"])

    def _nl_create_lines(self, statement, vals_list, context):
        """In batches, as the link does: Odoo's per-batch queries slow down
        on huge ``IN`` lists."""
        Line = self.env["account.bank.statement.line"].with_context(**context)
        create_lines_in_batches(Line, [{**vals, "statement_id": statement.id} for vals in vals_list])

    def _nl_notifications(self, counts, uncertain):
        messages = []
        if counts["taken"]:
            messages.append(
                self.env._(
                    "%(count)s transaction(s) had already been imported and were "
                    "skipped.",
                    count=counts["taken"],
                )
            )
        if counts["other_source"]:
            messages.append(
                self.env._(
                    "%(count)s transaction(s) were already in Odoo through the bank "
                    "link or another file and were skipped.",
                    count=counts["other_source"],
                )
            )
        if counts.get("batch"):
            messages.append(
                self.env._(
                    "%(count)s batch total(s) were skipped: the batch's payments are "
                    "already in Odoo one by one.",
                    count=counts["batch"],
                )
            )
        if counts.get("pending"):
            messages.append(
                self.env._(
                    "%(count)s pending entry(ies) of the intraday report were not "
                    "imported: they may still change and come with the next statement.",
                    count=counts["pending"],
                )
            )
        if uncertain:
            messages.append(
                self.env._(
                    "%(count)s transaction(s) may already be in Odoo: they were "
                    "imported and marked as possible duplicates. Check them with "
                    "the filter \"Possible duplicates\".",
                    count=uncertain,
                )
            )
        return messages
