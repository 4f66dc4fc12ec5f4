"""Small pain.001.001.03 / pain.008.001.02 files for the payment clients'
tests, built the way the OCA modules build them (one PmtInf, batch booking).
The Odoo tests use the OCA's own generated files."""

from __future__ import annotations

import datetime
import sys
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parent.parent
_ADDONS = (REPO / ".venv" / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
           / "site-packages" / "odoo" / "addons")
XSD = {
    "pain.001.001.03": _ADDONS / "account_banking_sepa_credit_transfer" / "data" / "pain.001.001.03.xsd",
    "pain.008.001.02": _ADDONS / "account_banking_sepa_direct_debit" / "data" / "pain.008.001.02.xsd",
}


def credit_transfers(msg_id, debtor_iban, payments, *, date=None, name="De Gouden Korenaar B.V."):
    """``payments`` = [(end_to_end, amount, name, iban, text)]."""
    date = date or datetime.date.today()
    total = sum((Decimal(str(p[1])) for p in payments), Decimal(0))
    txs = "".join(
        f"<CdtTrfTxInf><PmtId><EndToEndId>{e2e}</EndToEndId></PmtId>"
        f"<Amt><InstdAmt Ccy=\"EUR\">{Decimal(str(amount)):.2f}</InstdAmt></Amt>"
        f"<Cdtr><Nm>{escape(cname)}</Nm></Cdtr><CdtrAcct><Id><IBAN>{iban}</IBAN></Id></CdtrAcct>"
        f"<RmtInf><Ustrd>{escape(text)}</Ustrd></RmtInf></CdtTrfTxInf>"
        for e2e, amount, cname, iban, text in payments)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn>'
        f"<GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>{date}T10:00:00</CreDtTm>"
        f"<NbOfTxs>{len(payments)}</NbOfTxs><CtrlSum>{total:.2f}</CtrlSum>"
        f"<InitgPty><Nm>{escape(name)}</Nm></InitgPty></GrpHdr>"
        f"<PmtInf><PmtInfId>{msg_id}-1</PmtInfId><PmtMtd>TRF</PmtMtd><BtchBookg>true</BtchBookg>"
        f"<NbOfTxs>{len(payments)}</NbOfTxs><CtrlSum>{total:.2f}</CtrlSum>"
        "<PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf>"
        f"<ReqdExctnDt>{date}</ReqdExctnDt><Dbtr><Nm>{escape(name)}</Nm></Dbtr>"
        f"<DbtrAcct><Id><IBAN>{debtor_iban}</IBAN></Id></DbtrAcct>"
        "<DbtrAgt><FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId></DbtrAgt>"
        f"<ChrgBr>SLEV</ChrgBr>{txs}</PmtInf></CstmrCdtTrfInitn></Document>"
    ).encode()


def direct_debits(msg_id, creditor_iban, debits, *, date=None, scheme="CORE",
                  creditor_id="NL97ZZZ812345670000", name="De Gouden Korenaar B.V."):
    """``debits`` = [(end_to_end, amount, name, iban, mandate_id, text)]."""
    date = date or datetime.date.today()
    total = sum((Decimal(str(d[1])) for d in debits), Decimal(0))
    txs = "".join(
        f"<DrctDbtTxInf><PmtId><EndToEndId>{e2e}</EndToEndId></PmtId>"
        f"<InstdAmt Ccy=\"EUR\">{Decimal(str(amount)):.2f}</InstdAmt>"
        f"<DrctDbtTx><MndtRltdInf><MndtId>{mandate}</MndtId><DtOfSgntr>2026-01-01</DtOfSgntr>"
        "</MndtRltdInf></DrctDbtTx>"
        "<DbtrAgt><FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId></DbtrAgt>"
        f"<Dbtr><Nm>{escape(dname)}</Nm></Dbtr><DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct>"
        f"<RmtInf><Ustrd>{escape(text)}</Ustrd></RmtInf></DrctDbtTxInf>"
        for e2e, amount, dname, iban, mandate, text in debits)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"><CstmrDrctDbtInitn>'
        f"<GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>{date}T10:00:00</CreDtTm>"
        f"<NbOfTxs>{len(debits)}</NbOfTxs><CtrlSum>{total:.2f}</CtrlSum>"
        f"<InitgPty><Nm>{escape(name)}</Nm></InitgPty></GrpHdr>"
        f"<PmtInf><PmtInfId>{msg_id}-1</PmtInfId><PmtMtd>DD</PmtMtd><BtchBookg>true</BtchBookg>"
        f"<NbOfTxs>{len(debits)}</NbOfTxs><CtrlSum>{total:.2f}</CtrlSum>"
        f"<PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl><LclInstrm><Cd>{scheme}</Cd></LclInstrm>"
        "<SeqTp>RCUR</SeqTp></PmtTpInf>"
        f"<ReqdColltnDt>{date}</ReqdColltnDt><Cdtr><Nm>{escape(name)}</Nm></Cdtr>"
        f"<CdtrAcct><Id><IBAN>{creditor_iban}</IBAN></Id></CdtrAcct>"
        "<CdtrAgt><FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId></CdtrAgt>"
        "<ChrgBr>SLEV</ChrgBr>"
        f"<CdtrSchmeId><Id><PrvtId><Othr><Id>{creditor_id}</Id><SchmeNm><Prtry>SEPA</Prtry>"
        "</SchmeNm></Othr></PrvtId></Id></CdtrSchmeId>"
        f"{txs}</PmtInf></CstmrDrctDbtInitn></Document>"
    ).encode()
