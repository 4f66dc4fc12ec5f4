"""Read a generated pain.001 / pain.008 file back into a
:class:`~provider.PaymentBatch`, and check it against its XSD.

Plain Python (lxml only). The OCA modules write the file; a bank that wants
JSON (ING's bulk payments) gets the instructions read from that same file,
so what is sent can never differ from what the user saw and approved.
"""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal, InvalidOperation
from pathlib import Path

from lxml import etree

try:
    from odoo.addons.l10n_nl_bankkoppeling.tools import provider, safe_xml
except ImportError:  # plain Python, see tests/conftest.py
    from l10n_nl_bankkoppeling.tools import provider, safe_xml


class PainError(ValueError):
    """The file is not a pain message this addon can send."""


#: Files larger than this are refused before parsing (a 5,000-line batch is
#: about 5 MB).
MAX_FILE_BYTES = 20 * 1024 * 1024

_PARSER = safe_xml.parser()


def _children(node, *names):
    for child in node:
        if isinstance(child.tag, str) and etree.QName(child).localname in names:
            yield child


def _find(node, path):
    """First descendant along ``path`` ("A/B/C") in the node's namespace, or None."""
    namespace = etree.QName(node).namespace
    if namespace:
        path = "/".join(f"{{{namespace}}}{name}" for name in path.split("/"))
    return node.find(path)


def _text(node, path):
    found = _find(node, path)
    return found.text.strip() if found is not None and found.text else None


def _amount(text, where):
    try:
        value = Decimal(text or "")
    except InvalidOperation:
        raise PainError(f"Amount {text!r} in {where} is not a number") from None
    if value <= 0:
        raise PainError(f"Amount {value} in {where} is not positive")
    return value


def pain_version(xml: bytes) -> str:
    """``pain.001.001.03`` etc., from the document's namespace."""
    root = parse(xml)
    namespace = etree.QName(root).namespace or ""
    return namespace.rsplit(":", 1)[-1]


def parse(xml: bytes):
    if len(xml) > MAX_FILE_BYTES:
        raise PainError("The payment file is too large")
    try:
        safe_xml.check(xml)
    except safe_xml.XmlRefused as refused:
        raise PainError(f"The payment file declares a DOCTYPE or entity ({refused})") from None
    try:
        return etree.fromstring(xml, parser=_PARSER)
    except etree.XMLSyntaxError as error:
        raise PainError(f"The payment file is not valid XML: {error}") from None


def validate(xml: bytes, xsd_path: str | Path) -> None:
    """Raise :class:`PainError` naming the first XSD violation."""
    schema = etree.XMLSchema(etree.parse(str(xsd_path)))
    document = parse(xml)
    if not schema.validate(document):
        error = schema.error_log.last_error
        raise PainError(f"The payment file does not match {Path(xsd_path).name}: "
                        f"line {error.line}: {error.message}")


def file_hash(xml: bytes) -> str:
    """SHA-256 of the file: what was sent, to refuse a changed order."""
    return hashlib.sha256(xml).hexdigest()


def read_batch(
    xml: bytes,
    *,
    idempotency_key: str,
    file_name: str = "",
    redirect_uri: str = "",
    psu_ip_address: str | None = None,
) -> provider.PaymentBatch:
    """The batch in a pain.001 (credit transfers) or pain.008 (direct debits).

    All payment-information blocks must debit (or credit) the same account;
    they may differ in date: the earliest date is the batch's date.
    """
    root = parse(xml)
    version = (etree.QName(root).namespace or "").rsplit(":", 1)[-1]
    message = next(_children(root, "CstmrCdtTrfInitn", "CstmrDrctDbtInitn"), None)
    if message is None:
        raise PainError("The file is neither a pain.001 nor a pain.008 message")
    is_debit = etree.QName(message).localname == "CstmrDrctDbtInitn"
    order_type = provider.ORDER_DIRECT_DEBIT if is_debit else provider.ORDER_CREDIT_TRANSFER
    message_id = _text(message, "GrpHdr/MsgId")
    if not message_id:
        raise PainError("The file has no message id (GrpHdr/MsgId)")
    own, party, tx_name = (
        ("Cdtr", "Dbtr", "DrctDbtTxInf") if is_debit else ("Dbtr", "Cdtr", "CdtTrfTxInf")
    )
    date_tag = "ReqdColltnDt" if is_debit else "ReqdExctnDt"
    accounts, names, dates, booking = set(), set(), set(), set()
    instructions = []
    currencies = set()
    for block in _children(message, "PmtInf"):
        accounts.add(_text(block, f"{own}Acct/Id/IBAN"))
        names.add(_text(block, f"{own}/Nm"))
        day = _text(block, date_tag)
        if day:
            dates.add(datetime.date.fromisoformat(day[:10]))
        booking.add((_text(block, "BtchBookg") or "true").lower() == "true")
        for tx in _children(block, tx_name):
            instructions.append(_instruction(tx, party, is_debit, currencies))
    if not instructions:
        raise PainError("The file holds no transactions")
    if len(accounts) != 1 or None in accounts:
        raise PainError("The file must debit or credit exactly one own account")
    if len(currencies) != 1:
        raise PainError("All transactions of a batch must be in one currency")
    total = sum((i.amount for i in instructions), Decimal(0))
    control = _text(message, "GrpHdr/CtrlSum")
    if control is not None and _amount(control, "GrpHdr/CtrlSum") != total:
        raise PainError(f"The control sum {control} differs from the sum {total}")
    count = _text(message, "GrpHdr/NbOfTxs")
    if count is not None and count != str(len(instructions)):
        raise PainError(f"The file says {count} transactions but holds {len(instructions)}")
    return provider.PaymentBatch(
        order_type=order_type,
        idempotency_key=idempotency_key,
        message_id=message_id,
        account_iban=accounts.pop(),
        account_name=next((n for n in names if n), ""),
        currency=currencies.pop(),
        total=total,
        requested_date=min(dates) if dates else None,
        instructions=tuple(instructions),
        pain_xml=xml,
        pain_version=version,
        file_name=file_name,
        batch_booking=all(booking),
        redirect_uri=redirect_uri,
        psu_ip_address=psu_ip_address,
    )


def _instruction(tx, party, is_debit, currencies):
    # pain.001 nests it in Amt, pain.008 does not.
    amount_node = _find(tx, "Amt/InstdAmt")
    if amount_node is None:
        amount_node = _find(tx, "InstdAmt")
    if amount_node is None:
        raise PainError("A transaction has no amount")
    end_to_end = _text(tx, "PmtId/EndToEndId")
    where = f"transaction {end_to_end or '?'}"
    currencies.add(amount_node.get("Ccy") or "EUR")
    iban = _text(tx, f"{party}Acct/Id/IBAN")
    if not iban:
        raise PainError(f"{where} has no IBAN")
    bic = _text(tx, f"{party}Agt/FinInstnId/BIC") or _text(tx, f"{party}Agt/FinInstnId/BICFI")
    mandate_date = _text(tx, "DrctDbtTx/MndtRltdInf/DtOfSgntr")
    return provider.PaymentInstruction(
        end_to_end_id=end_to_end or "",
        amount=_amount(amount_node.text, where),
        currency=amount_node.get("Ccy") or "EUR",
        counterparty_name=_text(tx, f"{party}/Nm") or "",
        counterparty_iban=iban,
        counterparty_bic=bic if bic and bic != "NOTPROVIDED" else None,
        remittance_text=_text(tx, "RmtInf/Ustrd"),
        structured_reference=_text(tx, "RmtInf/Strd/CdtrRefInf/Ref"),
        mandate_id=_text(tx, "DrctDbtTx/MndtRltdInf/MndtId") if is_debit else None,
        mandate_date=datetime.date.fromisoformat(mandate_date) if mandate_date else None,
        sequence_type=None,
    )
