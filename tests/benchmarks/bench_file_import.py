"""Benchmark of the bank-file import (MT940 and camt.053 through the user's
wizard) and of the bank link fetching the same period afterwards
(cross-source dedup).

    .venv/bin/python tests/benchmarks/bench_file_import.py \\
        --config .local/odoo-test-<db>.conf --db <db> [--lines 5000]

Needs a database with l10n_nl_bankkoppeling installed (``./setup/test
--only odoo --db <db>`` makes one). One transaction, rolled back.

Prints, for N/10 and N transactions: per format (MT940, camt.053) the parse
alone (MT940 plain Python; camt.053 OCA's parser with this addon's checks)
and the wizard import (lines per second, SQL queries per line); for MT940
also the fetch of the same transactions through the link, which must create
nothing (every transaction is already there from the file). Target: queries
per line not growing with N. ``--lines 2000`` gives the 200 and 2,000 lines
of issue #16.
"""

import base64
import datetime
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_framework_import as framework  # noqa: E402


def mt940_text(iban, transactions, opening="0,00"):
    lines = [":20:BENCH", f":25:{iban}EUR", ":28C:1", f":60F:C{transactions[0].booking_date:%y%m%d}EUR{opening}"]
    total = 0
    for number, tx in enumerate(transactions):
        cents = int(tx.amount * 100)
        total += cents
        sign = "C" if cents >= 0 else "D"
        amount = f"{abs(cents) // 100},{abs(cents) % 100:02d}"
        day = tx.booking_date
        lines.append(f":61:{day:%y%m%d}{day:%m%d}{sign}{amount}NTRFNONREF//{number:014d}")
        lines.append("/TRCD/00100/")
        e2e = tx.end_to_end_id or "NOTPROVIDED"
        if tx.counterparty_iban:
            details = (f"/EREF/{e2e}//CNTP/{tx.counterparty_iban}/INGBNL2A/"
                       f"{tx.counterparty_name}/AMSTERDAM///")
        else:
            details = f"/EREF/{e2e}//"
        if tx.structured_reference:
            details += f"REMI/STRD/CUR/{tx.structured_reference}/"
        else:
            details += f"REMI/USTD//{tx.remittance_text}/"
        body = ":86:" + details
        while len(body) > 65:
            lines.append(body[:65])
            body = body[65:]
        lines.append(body)
    sign = "C" if total >= 0 else "D"
    lines.append(f":62F:{sign}{transactions[-1].booking_date:%y%m%d}EUR{abs(total) // 100},{abs(total) % 100:02d}")
    return "\r\n".join(lines) + "\r\n"


def camt053_text(iban, transactions, opening="0.00"):
    """One camt.053.001.02 statement in the layout of the ING sample
    (tests/data/bankfiles/ing/), one entry per transaction."""
    entries = []
    total = 0
    for number, tx in enumerate(transactions):
        cents = int(tx.amount * 100)
        total += cents
        kind, ind = ("Dbtr", "CRDT") if cents >= 0 else ("Cdtr", "DBIT")
        amount = f"{abs(cents) // 100}.{abs(cents) % 100:02d}"
        party = ""
        if tx.counterparty_iban:
            party = (f"<RltdPties><{kind}><Nm>{tx.counterparty_name}</Nm></{kind}><{kind}Acct><Id>"
                     f"<IBAN>{tx.counterparty_iban}</IBAN></Id></{kind}Acct></RltdPties>")
        if tx.structured_reference:
            remittance = (f"<RmtInf><Strd><CdtrRefInf><Ref>{tx.structured_reference}</Ref>"
                          "</CdtrRefInf></Strd></RmtInf>")
        else:
            remittance = f"<RmtInf><Ustrd>{tx.remittance_text}</Ustrd></RmtInf>"
        entries.append(
            f"<Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Sts>BOOK</Sts>"
            f"<BookgDt><Dt>{tx.booking_date}</Dt></BookgDt><ValDt><Dt>{tx.booking_date}</Dt></ValDt>"
            f"<AcctSvcrRef>BENCH{number:014d}</AcctSvcrRef><BkTxCd><Prtry><Cd>00100</Cd>"
            f"<Issr>INGBANK</Issr></Prtry></BkTxCd><NtryDtls><TxDtls><Refs><AcctSvcrRef>"
            f"BENCH{number:014d}</AcctSvcrRef><EndToEndId>{tx.end_to_end_id or 'NOTPROVIDED'}"
            f"</EndToEndId></Refs><AmtDtls><TxAmt><Amt Ccy=\"EUR\">{amount}</Amt></TxAmt></AmtDtls>"
            f"{party}{remittance}</TxDtls></NtryDtls></Ntry>"
        )

    def balance(code, cents, day):
        ind = "CRDT" if cents >= 0 else "DBIT"
        return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">"
                f"{abs(cents) // 100}.{abs(cents) % 100:02d}</Amt><CdtDbtInd>{ind}</CdtDbtInd>"
                f"<Dt><Dt>{day}</Dt></Dt></Bal>")

    start = int(opening.replace(".", ""))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-03-01T06:00:00</CreDtTm></GrpHdr><Stmt>"
        f"<Id>BENCH-{iban}</Id><Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        + balance("OPBD", start, transactions[0].booking_date)
        + balance("CLBD", start + total, transactions[-1].booking_date)
        + "\n".join(entries)
        + "</Stmt></BkToCstmrStmt></Document>\n"
    )


def bench_camt(env, framework, count, journal, transactions, figures):
    """camt.053 of the same transactions: parse, then the wizard."""
    data = camt053_text(journal.bank_acc_number, transactions).encode()
    parser = env["account.statement.import.camt.parser"]
    started = time.perf_counter()
    _currency, _account, statements = parser.parse(data)
    parse_time = time.perf_counter() - started
    assert sum(len(s["transactions"]) for s in statements) == count
    print(f"{'camt.053 parse (OCA + checks)':<34} {count:>6} lines  {parse_time:7.2f} s  "
          f"{count / parse_time:8.1f} lines/s")
    wizard = env["account.statement.import"].with_context(journal_id=journal.id).create(
        {"statement_file": base64.b64encode(data), "statement_filename": "bench.xml"}
    )
    _elapsed, queries = framework.measure(env, f"camt.053 wizard import ({count})", count,
                                          wizard.import_file_button)
    figures[count] = queries / count
    imported = env["account.bank.statement.line"].search_count([("journal_id", "=", journal.id)])
    if imported != count:
        raise SystemExit(f"camt.053 import made {imported} lines, expected {count}")


def main():
    args = framework.parse_args()
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.tools import config

    config.parse_config(["-c", args.config, "-d", args.db, "--log-level=warn"])
    from odoo.addons.l10n_nl_bankkoppeling.tools import mt940_nl
    from odoo.addons.l10n_nl_bankkoppeling.tools import provider as bp

    registry = odoo.modules.registry.Registry(args.db)
    with framework.bench_bank_installed(registry, bp) as bank, registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": False})
        try:
            run(env, bank, bp, mt940_nl, args)
        finally:
            cr.rollback()


def run(env, bank, bp, mt940_nl, args):
    company = env.company
    today = env["account.bank.link.account"]._bank_today()
    partners = env["res.partner"].create(
        [{"name": f"Relatie {n:03d} B.V.", "bank_ids": [(0, 0, {"acc_number": f"NL{n % 90 + 10:02d}BENC{n:010d}"})]}
         for n in range(200)]
    )
    counterparties = [(p.bank_ids.sanitized_acc_number, p.name) for p in partners]
    figures = {}
    camt_figures = {}
    for count, number in ((args.lines // 10, 1), (args.lines, 2)):
        iban = ("NL91ABNA0417164300", "NL20INGB0001234567")[number - 1]
        journal = env["account.journal"].create(
            {"name": f"Bench file {number}", "code": f"BF{number}", "type": "bank",
             "bank_acc_number": iban, "company_id": company.id}
        )
        transactions = sorted(
            framework.make_transactions(bp, count, args.days, today, counterparties, seed=count),
            key=lambda tx: tx.booking_date,
        )
        text = mt940_text(iban, transactions)
        started = time.perf_counter()
        parsed = mt940_nl.parse_mt940(text)
        parse_time = time.perf_counter() - started
        assert sum(len(s.transactions) for s in parsed) == count
        print(f"{'MT940 parse (plain Python)':<34} {count:>6} lines  {parse_time:7.2f} s  "
              f"{count / parse_time:8.1f} lines/s")
        wizard = env["account.statement.import"].with_context(journal_id=journal.id).create(
            {"statement_file": base64.b64encode(text.encode()), "statement_filename": "bench.sta"}
        )
        _elapsed, queries = framework.measure(env, f"wizard import ({count})", count, wizard.import_file_button)
        figures[count] = queries / count
        imported = env["account.bank.statement.line"].search_count([("journal_id", "=", journal.id)])
        if imported != count:
            raise SystemExit(f"file import made {imported} lines, expected {count}")
        link = env["account.bank.link"].create(
            {"company_id": company.id, "provider": "benchbank", "state": "linked",
             "consent_valid_until": today + datetime.timedelta(days=90)}
        )
        link._bank_link_secret()._store_token_set(bp.TokenSet(access_token="b", refresh_token="b"))
        account = env["account.bank.link.account"].create(
            {"link_id": link.id, "iban": iban, "resource_id": iban,
             "currency_code": company.currency_id.name, "journal_id": journal.id,
             "start_date": today - datetime.timedelta(days=args.days + 5)}
        )
        bank.transactions = {iban: transactions}
        framework.measure(env, f"fetch same period ({count})", count,
                          lambda account=account: account._bank_link_fetch(unattended=False))
        after = env["account.bank.statement.line"].search_count(
            [("journal_id", "=", journal.id), ("nl_is_balance_correction", "=", False)]
        )
        if after != count:
            raise SystemExit(f"after the fetch {after} lines, expected {count} (duplicates!)")
        print(f"{'':<34} every transaction once: {after} lines")
        camt_journal = env["account.journal"].create(
            {"name": f"Bench camt {number}", "code": f"BC{number}", "type": "bank",
             "bank_acc_number": ("NL44RABO0123456789", "NL02ABNA0123456789")[number - 1],
             "company_id": company.id}
        )
        bench_camt(env, framework, count, camt_journal, transactions, camt_figures)
    small, large = figures[args.lines // 10], figures[args.lines]
    print(f"MT940 wizard queries/line at N/10: {small:.2f}, at N: {large:.2f} "
          f"({'OK, not growing' if large <= small * 1.1 else 'GROWING'})")
    small, large = camt_figures[args.lines // 10], camt_figures[args.lines]
    print(f"camt.053 wizard queries/line at N/10: {small:.2f}, at N: {large:.2f} "
          f"({'OK, not growing' if large <= small * 1.1 else 'GROWING'})")


if __name__ == "__main__":
    main()
