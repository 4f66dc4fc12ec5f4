# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""camt.053 of ING, ABN AMRO and Rabobank: OCA's parser plus the fields
the bank link fills for fetched lines (end-to-end id, structured reference,
counterparty BIC, the bank's own transaction code), so that a line from a
file and the same line fetched later have the same identity."""

from odoo import models
from odoo.exceptions import UserError

from ..tools import mt940_nl, safe_xml
from ..tools import statement_identity as si


class AccountStatementImportCamtParser(models.AbstractModel):
    _inherit = "account.statement.import.camt.parser"

    def parse(self, data):
        """OCA's ``parse`` with the hardened parser: OCA's own resolves
        entities (a file could read server files into a line), so it never
        sees the bytes. The rest is OCA's loop over the statements."""
        data = self._nl_utf8(data)
        try:
            root = safe_xml.parse(data)
        except safe_xml.XmlRefused as error:
            if error.code == "declaration":
                raise UserError(
                    self.env["account.statement.import"]._nl_xml_declaration_message(error)
                ) from None
            # Not XML (or not ours): OCA's wizard then tries a zip and the
            # other formats, as after its own parser's ValueError.
            raise ValueError(f"Not a valid xml file: {error}") from None
        if not isinstance(root.tag, str) or "}" not in root.tag:
            raise ValueError("no camt: no namespace")
        ns = root.tag[1 : root.tag.index("}")]
        self.check_version(ns, root)
        statements = []
        currency = None
        account_number = None
        for node in root[0][1:]:
            statement = self.parse_statement(ns, node)
            if len(statement["transactions"]):
                if "currency" in statement:
                    currency = statement.pop("currency")
                if "account_number" in statement:
                    account_number = statement.pop("account_number")
                statements.append(statement)
        return currency, account_number, statements

    def _nl_utf8(self, data):
        """ABN AMRO declares UTF-8 and writes names in Windows-1252: OCA's
        recovering XML parser would drop those characters. Re-encode."""
        if not data.lstrip().startswith(b"<"):
            return data
        try:
            data.decode("utf-8")
            return data
        except UnicodeDecodeError:
            pass
        head = data[:200].lower()
        if b"encoding" in head and b"utf-8" not in head:
            return data  # declared single-byte encoding: lxml decodes it
        text, _encoding = mt940_nl.decode_bank_file(data)
        return text.encode("utf-8")

    def parse_transaction_details(self, ns, node, transaction):
        super().parse_transaction_details(ns, node, transaction)

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

    def parse_entry(self, ns, node):
        def first(xpath):
            found = node.xpath(xpath, namespaces={"ns": ns})
            return (found[0].text or "").strip() if found else ""

        # The bank's own code (ING 00100, ABN AMRO N658, Rabobank 541) is
        # what its link reports too; ISO's domain codes otherwise.
        proprietary = first("./ns:BkTxCd/ns:Prtry/ns:Cd")
        entry_info = first("./ns:AddtlNtryInf")
        for transaction in super().parse_entry(ns, node):
            transaction["nl_import_source"] = si.SOURCE_CAMT
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

