# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""camt.053 of ING, ABN AMRO and Rabobank: OCA's parser plus the fields
the bank link fills for fetched lines (end-to-end id, structured reference,
counterparty BIC, the bank's own transaction code), so that a line from a
file and the same line fetched later have the same identity."""

from odoo import models
from odoo.exceptions import UserError
from odoo.tools import float_compare

from ..tools import mt940_nl, safe_xml
from ..tools import statement_identity as si


def _is_utf8(data):
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class AccountStatementImportCamtParser(models.AbstractModel):
    _inherit = "account.statement.import.camt.parser"

    def parse(self, data):
        """OCA's ``parse`` with a parser that has entities, DTDs and network
        off (OCA's own resolves entities and recovers from broken XML), and
        each statement's balances and dates checked."""
        data = self._nl_utf8(data)
        try:
            root = safe_xml.parse(data)
        except safe_xml.XmlRefused as refused:
            if refused.code == "syntax":
                # Not XML at all: the next parser of the import may know it.
                raise ValueError("Not a valid xml file, or not an xml file at all.") from refused
            raise self._nl_declaration_refused(refused) from refused
        if not isinstance(root.tag, str) or not root.tag.startswith("{"):
            raise ValueError("no camt: no namespace")
        ns = root.tag[1 : root.tag.index("}")]
        self.check_version(ns, root)
        # camt.052 (intraday report) and camt.054 (debit/credit notification)
        # carry no booked opening and closing balance: their statements take
        # the journal's running balance, and only booked entries come in
        # (a pending entry may still change; the camt.053 books it).
        notification = "camt.053" not in ns
        parser = self.with_context(nl_camt_notification=notification)
        # Per account, in the file's order: one file may hold the statements
        # of several accounts (an "all accounts" export), each its journal's.
        accounts = {}
        for node in root[0][1:]:
            statement = parser.parse_statement(ns, node)
            if notification:
                statement.pop("balance_start", None)
                statement.pop("balance_end_real", None)
                statement["nl_pending_skipped"] = len(parser._nl_unbooked(ns, node))
            else:
                self._nl_check_statement(ns, node, statement)
            if len(statement["transactions"]):
                key = (statement.pop("account_number", None), statement.pop("currency", None))
                accounts.setdefault(key, []).append(statement)
        parsed = [(currency, account, statements) for (account, currency), statements in accounts.items()]
        if len(parsed) == 1:
            return parsed[0]
        return parsed or (None, None, [])

    def _nl_unbooked(self, ns, node):
        """The entries of a statement, report or notification that are not
        booked (``PDNG``, ``INFO``)."""
        return [entry for entry in node.xpath("./ns:Ntry", namespaces={"ns": ns})
                if not self._nl_is_booked(ns, entry)]

    def _nl_is_booked(self, ns, entry):
        status = "".join(entry.xpath("./ns:Sts/ns:Cd/text() | ./ns:Sts/text()", namespaces={"ns": ns}))
        return status.strip() in ("", "BOOK")

    def _nl_declaration_refused(self, refused):
        """The user's error for a file that declares a DOCTYPE or entity
        (the import wizard checks first, this parser again: one message)."""
        return UserError(
            self.env._(
                "The file is refused: it declares a DOCTYPE or an entity at line "
                "%(line)s, which no bank file has (it could read files of this "
                "server into the statement). Nothing was imported; download the "
                "file again from your bank.",
                line=refused.line,
            )
        )

    def _nl_check_statement(self, ns, node, statement):
        """A statement whose entries do not lead from its opening to its
        closing balance, or whose closing balance is dated before its
        entries, is refused whole, naming the line (MT940 is checked the
        same way in tools/mt940_nl.py)."""

        def balance(code):
            found = node.xpath(
                f"./ns:Bal[ns:Tp/ns:CdOrPrtry/ns:Cd='{code}']", namespaces={"ns": ns}
            )
            return found[0] if found else None

        opening = balance("OPBD")
        if opening is None:
            opening = balance("PRCD")
        closing = balance("CLBD")
        if opening is None or closing is None:
            return  # intraday (camt.052) or notification (camt.054): no chain
        entries = node.xpath("./ns:Ntry", namespaces={"ns": ns})
        statuses = {
            "".join(entry.xpath("./ns:Sts/ns:Cd/text() | ./ns:Sts/text()", namespaces={"ns": ns})).strip()
            for entry in entries
        }
        name = statement.get("name") or ""
        if statuses <= {"", "BOOK"}:
            total = sum(self.parse_amount(ns, entry) for entry in entries)
            start = self.parse_amount(ns, opening)
            end = self.parse_amount(ns, closing)
            if float_compare(start + total, end, precision_digits=2):
                raise UserError(
                    self.env._(
                        "Statement %(name)s of the camt.053 file does not add up (line "
                        "%(line)s): opening balance %(start).2f plus its entries "
                        "%(total).2f is %(sum).2f, but the closing balance is %(end).2f. "
                        "Nothing was imported; download the file again from your bank.",
                        name=name,
                        line=closing.sourceline,
                        start=start,
                        total=total,
                        sum=start + total,
                        end=end,
                    )
                )
        closing_date = "".join(
            closing.xpath("./ns:Dt/ns:Dt/text() | ./ns:Dt/ns:DtTm/text()", namespaces={"ns": ns})
        )[:10]
        if not closing_date:
            return
        for entry in entries:
            booked = "".join(
                entry.xpath("./ns:BookgDt/ns:Dt/text() | ./ns:BookgDt/ns:DtTm/text()",
                            namespaces={"ns": ns})
            )[:10]
            # ISO dates compare as text.
            if booked and booked > closing_date:
                raise UserError(
                    self.env._(
                        "Statement %(name)s of the camt.053 file closes on %(closing)s "
                        "(line %(line)s) but has an entry booked on %(booked)s (line "
                        "%(entry_line)s). Nothing was imported; download the file again "
                        "from your bank.",
                        name=name,
                        closing=closing_date,
                        line=closing.sourceline,
                        booked=booked,
                        entry_line=entry.sourceline,
                    )
                )

    def _nl_utf8(self, data):
        """ABN AMRO declares UTF-8 and writes names in Windows-1252: OCA's
        recovering XML parser would drop those characters. Re-encode."""
        if not data.lstrip().startswith(b"<"):
            return data
        if _is_utf8(data):
            return data
        head = data[:200].lower()
        if b"encoding" in head and b"utf-8" not in head:
            return data  # declared single-byte encoding: lxml decodes it
        text, _encoding = mt940_nl.decode_bank_file(data)
        return text.encode("utf-8")

    def parse_transaction_details(self, ns, node, transaction):
        result = super().parse_transaction_details(ns, node, transaction)

        def first(xpath):
            found = node.xpath(xpath, namespaces={"ns": ns})
            return (found[0].text or "").strip() if found else ""

        e2e = first("./ns:Refs/ns:EndToEndId")
        if e2e and e2e.upper() not in si.NO_END_TO_END_ID:
            transaction["nl_end_to_end_id"] = e2e
        reference = "".join(
            first("./ns:RmtInf/ns:Strd/ns:CdtrRefInf/ns:Ref").split()
        ).upper()
        if reference:
            transaction["nl_structured_reference"] = reference
        party = "Dbtr" if transaction.get("amount", 0) >= 0 else "Cdtr"
        bic = first(
            f"./ns:RltdAgts/ns:{party}Agt/ns:FinInstnId/ns:BIC"
            f"|./ns:RltdAgts/ns:{party}Agt/ns:FinInstnId/ns:BICFI"
        )
        if bic:
            transaction["nl_counterparty_bic"] = bic
        unstructured = [
            " ".join((n.text or "").split())
            for n in node.xpath("./ns:RmtInf/ns:Ustrd", namespaces={"ns": ns})
        ]
        transaction["nl_remittance_text"] = "\n".join(t for t in unstructured if t)
        return result

    def parse_entry(self, ns, node):
        def first(xpath):
            found = node.xpath(xpath, namespaces={"ns": ns})
            return (found[0].text or "").strip() if found else ""

        # The bank's own code (ING 00100, ABN AMRO N658, Rabobank 541) is
        # what its link reports too; ISO's domain codes otherwise.
        if self.env.context.get("nl_camt_notification") and not self._nl_is_booked(ns, node):
            return
        proprietary = first("./ns:BkTxCd/ns:Prtry/ns:Cd")
        entry_info = first("./ns:AddtlNtryInf")
        batch = first("./ns:NtryDtls/ns:Btch/ns:PmtInfId")
        details = len(node.xpath("./ns:NtryDtls/ns:TxDtls", namespaces={"ns": ns}))
        entry_amount = self.parse_amount(ns, node)
        for transaction in super().parse_entry(ns, node):
            transaction["nl_import_source"] = si.SOURCE_CAMT
            if batch:
                # One line per payment of a batch (details), or the bank's
                # one total of it: the import keeps one of the two.
                transaction["nl_batch_reference"] = batch
                transaction["nl_batch_detail"] = details > 1
                transaction["nl_batch_amount"] = entry_amount
            code = proprietary or transaction.get("transaction_type") or ""
            transaction["nl_bank_transaction_code"] = code or False
            self._nl_card_line(transaction, entry_info)
            remittance = transaction.pop("nl_remittance_text", "")
            if transaction.get("payment_ref") in (None, "", "/"):
                transaction["payment_ref"] = (
                    remittance
                    or transaction.get("partner_name")
                    or transaction.get("nl_structured_reference")
                    or "/"
                )
            yield transaction

    def _nl_card_line(self, transaction, entry_info):
        """ABN AMRO's card lines (BEA/GEA) carry the shop only in the entry's
        additional information: the shop is the counterparty."""
        if not entry_info or not mt940_nl._CARD.match(entry_info):
            return
        details = mt940_nl.parse_abnamro_86(entry_info)
        transaction.setdefault("partner_name", details.counterparty_name)
        if transaction.get("payment_ref") in (None, "", "/"):
            transaction["payment_ref"] = details.remittance_text
        transaction["nl_bank_transaction_code"] = details.bank_transaction_code

