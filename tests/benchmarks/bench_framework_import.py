"""Benchmark of the bank-link import against a bare statement-line create.

    .venv/bin/python tests/benchmarks/bench_framework_import.py \\
        --config .local/odoo-test-<db>.conf --db <db> [--lines 10000]

Needs a database with l10n_nl_bankkoppeling installed (``./setup/test
--only odoo --db <db>`` makes one). Everything happens in one transaction
that is rolled back: the database is left as it was.

In the same run it imports the same N transactions twice:

* bare: one batch ``account.bank.statement.line.create()`` of N prepared
  value dicts (the values the framework writes, partner included; no
  statements, no deduplication), and the same in batches of 500 (what the
  framework does: Odoo's per-batch queries slow down on huge batches);
* framework: ``account.bank.link.account._bank_link_fetch()`` with an
  in-memory bank serving N transactions in pages of 500: download, one
  query for existing ids, partners by IBAN, statements per booking day,
  balance chain, balance check, chatter.

and prints lines per second and SQL queries per line for both, the ratio
of the times (target: framework <= 1.1 x bare, issue #17), and the framework's
queries per line at N/10 and N (target: not growing with N).
"""

import argparse
import contextlib
import datetime
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

REPO = Path(__file__).resolve().parents[2]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=40)
    parser.add_argument("--sizes", help="several sizes in one run, e.g. 1200,10000")
    return parser.parse_args()


def make_transactions(bp, count, days, today, counterparties, seed=7):
    rng = random.Random(seed)
    first = today - datetime.timedelta(days=days - 1)
    rows = []
    for number in range(count):
        day = first + datetime.timedelta(days=number * days // count)
        iban, name = counterparties[number % len(counterparties)]
        card = number % 10 == 0
        rows.append(
            bp.BankTransaction(
                # Every tenth row has no bank id (card payment): fingerprinted.
                bank_id=None if card else f"TX{number:07d}",
                booking_date=day,
                amount=Decimal(rng.randrange(-50_000, 90_000)) / 100,
                currency="EUR",
                counterparty_iban=None if card else iban,
                counterparty_name=name,
                remittance_text=f"Factuur 2026-{number:05d} {name}",
                structured_reference=None
                if number % 3
                else f"{1_000_000_000_000_000 + number:016d}",
                end_to_end_id=f"E2E-{number}",
                bank_transaction_code="PMNT-RCDT-ESCT",
                is_card_payment=card,
            )
        )
    return rows


def bare_vals(journal, transactions, partner_ids, tag):
    """The same line values the framework writes, prepared beforehand."""
    return [
        {
            "journal_id": journal.id,
            "date": tx.booking_date,
            "amount": float(tx.amount),
            "payment_ref": tx.remittance_text or tx.counterparty_name or "/",
            "partner_name": tx.counterparty_name,
            "account_number": tx.counterparty_iban,
            "partner_id": partner_ids.get(tx.counterparty_iban, False),
            "ref": tx.structured_reference or False,
            "transaction_type": tx.bank_transaction_code,
            "nl_end_to_end_id": tx.end_to_end_id,
            "nl_bank_transaction_code": tx.bank_transaction_code,
            "nl_structured_reference": tx.structured_reference or False,
            "unique_import_id": f"{tag}:{index}",
        }
        for index, tx in enumerate(transactions)
    ]


def bench_bank_class(bp):
    class BenchBank(bp.BankProvider):
        """Serves prepared transactions in pages; nothing else."""

        code = "benchbank"
        name = "Benchbank"
        page_size = 500

        def __init__(self):
            self.transactions = {}

        def authorization_url(self, redirect_uri, state):
            return redirect_uri

        def exchange_code(self, code, redirect_uri):
            return bp.TokenSet(access_token="bench")

        def refresh(self, tokens):
            return tokens

        def revoke(self, tokens):
            return None

        def list_accounts(self, tokens):
            return []

        def fetch_transactions(self, tokens, account, date_from, date_to):
            rows = [
                t
                for t in self.transactions.get(account.iban, [])
                if date_from <= t.booking_date <= date_to
            ]
            for start in range(0, len(rows), self.page_size):
                yield bp.TransactionPage(
                    transactions=rows[start : start + self.page_size]
                )

        def fetch_balance(self, tokens, account):
            return None

    return BenchBank


def measure(env, label, count, run):
    env.flush_all()
    env.invalidate_all()
    cr = env.cr
    queries_before = cr.sql_log_count
    started = time.perf_counter()
    run()
    env.flush_all()
    elapsed = time.perf_counter() - started
    queries = cr.sql_log_count - queries_before
    print(
        f"{label:<34} {count:>6} lines  {elapsed:7.2f} s  {count / elapsed:8.1f} lines/s  "
        f"{queries:>7} queries  {queries / count:6.2f} queries/line"
    )
    return elapsed, queries


def main():
    args = parse_args()
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.tools import config

    config.parse_config(["-c", args.config, "-d", args.db, "--log-level=warn"])
    from odoo.addons.l10n_nl_bankkoppeling.tools import provider as bp

    registry = odoo.modules.registry.Registry(args.db)
    with bench_bank_installed(registry, bp) as bank, registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": False})
        try:
            run_benchmark(env, bank, bp, args)
        finally:
            cr.rollback()


@contextlib.contextmanager
def bench_bank_installed(registry, bp):
    """The in-memory bench bank as the links' provider, for the duration."""
    Link = registry["account.bank.link"]
    LinkAccount = registry["account.bank.link.account"]
    bank = bench_bank_class(bp)()
    selection = [("benchbank", "Benchbank")]
    patches = [patch.object(Link, "_bank_link_get_provider", lambda self: bank)]
    for field in (Link._fields["provider"], LinkAccount._fields["provider"]):
        patches += [
            patch.object(field, "selection", selection),
            patch.object(field, "_selection", dict(selection)),
        ]
    with contextlib.ExitStack() as stack:
        for patcher in patches:
            stack.enter_context(patcher)
        yield bank


def run_benchmark(env, bank, bp, args):
    company = env.company
    today = env["account.bank.link.account"]._bank_today()
    partners = env["res.partner"].create(
        [
            {
                "name": f"Relatie {n:03d} B.V.",
                "bank_ids": [
                    (0, 0, {"acc_number": f"NL{n % 90 + 10:02d}BENC{n:010d}"})
                ],
            }
            for n in range(200)
        ]
    )
    counterparties = [(p.bank_ids.sanitized_acc_number, p.name) for p in partners]
    Journal = env["account.journal"]

    def new_journal(code):
        return Journal.create(
            {
                "name": f"Bench {code}",
                "code": code,
                "type": "bank",
                "company_id": company.id,
            }
        )

    def framework_run(count, code, iban):
        journal = new_journal(code)
        link = env["account.bank.link"].create(
            {
                "company_id": company.id,
                "provider": "benchbank",
                "state": "linked",
                "consent_valid_until": today + datetime.timedelta(days=90),
            }
        )
        link._bank_link_secret()._store_token_set(
            bp.TokenSet(access_token="bench", refresh_token="bench")
        )
        account = env["account.bank.link.account"].create(
            {
                "link_id": link.id,
                "iban": iban,
                "resource_id": iban,
                "currency_code": company.currency_id.name,
                "journal_id": journal.id,
                "start_date": today - datetime.timedelta(days=args.days + 5),
            }
        )
        bank.transactions = {
            account.iban: make_transactions(
                bp, count, args.days, today, counterparties, seed=count
            )
        }
        errors = {}

        def run():
            errors.update(account._bank_link_fetch(unattended=False))

        result = measure(env, f"framework ({code})", count, run)
        if errors:
            raise SystemExit(f"framework fetch failed: {errors}")
        imported = env["account.bank.statement.line"].search_count(
            [("nl_bank_link_account_id", "=", account.id)]
        )
        if imported != count:
            raise SystemExit(f"framework imported {imported} lines, expected {count}")
        return result

    rows = []
    for size_index, count in enumerate(_sizes(args)):
        rows.append(run_size(env, args, count, size_index, counterparties, partners, new_journal, framework_run, bp))
    print("\nSummary (issue #17: framework <= 1.1 x bare create(), queries per line within 2 of bare)")
    print(f"{'lines':>6} {'bare s':>8} {'framework s':>11} {'ratio':>6} {'bare q/line':>11} "
          f"{'fw q/line':>9} {'diff':>6}")
    for count, bare_time, bare_queries, fw_time, fw_queries in rows:
        print(f"{count:>6} {bare_time:>8.2f} {fw_time:>11.2f} {fw_time / bare_time:>6.2f} "
              f"{bare_queries / count:>11.2f} {fw_queries / count:>9.2f} "
              f"{(fw_queries - bare_queries) / count:>6.2f}")


def _sizes(args):
    if args.sizes:
        return [int(part) for part in args.sizes.split(",")]
    return [args.lines]


def run_size(env, args, count, size_index, counterparties, partners, new_journal, framework_run, bp):
    today = env["account.bank.link.account"]._bank_today()
    small = max(count // 10, 100)
    print(
        f"\nBank-link import benchmark, database {env.cr.dbname}, {count} lines over {args.days} booking days"
    )
    transactions = make_transactions(
        bp, count, args.days, today, counterparties, seed=count
    )
    partner_ids = {
        iban: partner.id for (iban, _name), partner in zip(counterparties, partners, strict=False)
    }
    bare_journal = new_journal(f"BAR{size_index}")
    # Warm-up, not measured: the first creates of a process fill caches.
    env["account.bank.statement.line"].create(
        bare_vals(bare_journal, transactions[:50], partner_ids, f"warm{size_index}")
    )
    vals_list = bare_vals(bare_journal, transactions, partner_ids, f"bare{size_index}")
    bare_time, bare_queries = measure(
        env,
        "bare create(), one batch",
        count,
        lambda: env["account.bank.statement.line"].create(vals_list),
    )
    chunk_vals = bare_vals(bare_journal, transactions, partner_ids, f"chunk{size_index}")

    def bare_chunked():
        for start in range(0, count, 500):
            env["account.bank.statement.line"].create(chunk_vals[start : start + 500])

    chunk_time, _chunk_queries = measure(
        env, "bare create(), batches of 500", count, bare_chunked
    )
    ibans = (("NL91ABNA0417164300", "NL20INGB0001234567"), ("NL02ABNA0123456789", "NL69INGB0123456789"),
             ("NL39RABO0300065264", "NL44RABO0123456789"))[size_index % 3]
    _small_time, small_queries = framework_run(small, f"FS{size_index}", ibans[0])
    fw_time, fw_queries = framework_run(count, f"FL{size_index}", ibans[1])
    print()
    print(
        f"framework / bare time (one batch):      {fw_time / bare_time:5.2f} x   (target <= 1.1)"
    )
    print(f"framework / bare time (batches of 500): {fw_time / chunk_time:5.2f} x")
    print(f"framework / bare queries (one batch):   {fw_queries / bare_queries:5.2f} x")
    print(
        f"framework queries per line:             {small_queries / small:5.2f} at {small} lines, "
        f"{fw_queries / count:5.2f} at {count} lines   (target: not growing)"
    )
    print(f"framework - bare queries per line:      {(fw_queries - bare_queries) / count:5.2f}   (target <= 2)")
    return count, bare_time, bare_queries, fw_time, fw_queries


if __name__ == "__main__":
    sys.exit(main())
