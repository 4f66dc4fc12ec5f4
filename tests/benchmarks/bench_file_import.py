"""Benchmark of the bank-file import (MT940 through the user's wizard) and of
the bank link fetching the same period afterwards (cross-source dedup).

    .venv/bin/python tests/benchmarks/bench_file_import.py \\
        --config .local/odoo-test-<db>.conf --db <db> [--lines 5000]

Needs a database with l10n_nl_bankkoppeling installed (``./setup/test
--only odoo --db <db>`` makes one). One transaction, rolled back.

Prints, for N/10 and N transactions: the MT940 parse alone (plain Python),
the wizard import (lines per second, SQL queries per line) and the fetch of
the same transactions through the link, which must create nothing (every
transaction is already there from the file). Target: queries per line not
growing with N.
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
    small, large = figures[args.lines // 10], figures[args.lines]
    print(f"wizard queries/line at N/10: {small:.2f}, at N: {large:.2f} "
          f"({'OK, not growing' if large <= small * 1.1 else 'GROWING'})")


if __name__ == "__main__":
    main()
