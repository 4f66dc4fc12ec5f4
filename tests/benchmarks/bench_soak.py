"""Soak run: a week of scheduled fetches with the bank misbehaving at random.

    .venv/bin/python tests/benchmarks/bench_soak.py \\
        --config .local/odoo-test-<db>.conf --db <db> [--accounts 50] [--days 7] [--seed 15]

Needs a database with our addons installed (``./setup/test --only odoo --db
<db>`` makes one). The run works on a copy, ``<db>_soak``, dropped at the
end (``--keep`` keeps it): the fetch cron commits per account, as in
production, so nothing can be rolled back. Takes about 25 minutes on a
shared 2-core machine (about 900 fetches over real HTTPS).

What it does:

* starts the bank sandbox on free ports with ``--accounts`` empty current
  accounts, half at ING, half at ABN AMRO, and links each to a journal of
  its own (one ING consent for all ING accounts, one ABN AMRO consent per
  account, as that bank gives them);
* simulates ``--days`` days hour by hour: Odoo's clock (freezegun) and the
  sandbox's clock (its admin API: it moves the bank's "today" and token
  expiry) move together. Each hour the bank books new transactions on
  random accounts (some with yesterday's booking date, as banks book late),
  random faults are injected (seeded: 429, 500, 503, an answer cut in half,
  an HTML error page, a slow answer, an expired access token) and the fetch
  cron runs as scheduled (hourly; each bank's own limit of unattended
  fetches per day decides which accounts are due);
* then one more day without faults or new transactions, so that a fetch
  that failed on the last day has had its next run;
* prints the rows the bank has, the rows Odoo has, lost, duplicated, and
  the fetches that failed and were recovered by a later one.

Target: 0 lost, 0 duplicated. Every bank row carries a unique token in its
description ("SOAK-<n>"), so a row is counted by what the bank said, not by
its bank id (ABN AMRO card rows have none).
"""

import argparse
import collections
import contextlib
import datetime
import logging
import random
import re
import sys
import time
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "setup" / "lib"), str(REPO / "setup")]

TOKEN = re.compile(r"SOAK-\d{6}")
COUNTERPARTIES = [
    ("NL91ABNA0417164300", "Smit Evenementen B.V."),
    ("NL82INGB0007356188", "Hotel De Zwaan B.V."),
    ("NL81INGB0002345671", "Meelfabriek Holland B.V."),
    ("NL16ABNA0441298765", "Bakker Bart"),
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True, help="a database with our addons (copied, not changed)")
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--fault-rate", type=float, default=0.5, help="chance of a fault per simulated hour")
    parser.add_argument("--keep", action="store_true", help="keep the copied database")
    return parser.parse_args()


class Bank:
    """What the bench told the sandbox to book: the truth to compare with."""

    def __init__(self, sandbox, rng):
        self.sandbox = sandbox
        self.rng = rng
        self.rows = {}  # token -> iban
        # A card row's description is the card terminal's, not ours: its
        # amount (unique in the run) tells it apart instead.
        self.cards = {}  # (iban, amount) -> token
        self.accounts = {bank: sandbox.accounts(bank) for bank in ("ing", "abnamro")}

    def book(self, today):
        """New transactions on a few random accounts."""
        for bank, accounts in self.accounts.items():
            for account in self.rng.sample(accounts, k=max(1, len(accounts) // 5)):
                rows = []
                for _ in range(self.rng.randint(1, 3)):
                    token = f"SOAK-{len(self.rows) + 1:06d}"
                    self.rows[token] = account["iban"]
                    late = self.rng.random() < 0.1
                    iban, name = self.rng.choice(COUNTERPARTIES)
                    card = bank == "abnamro" and self.rng.random() < 0.2
                    amount = Decimal(self.rng.randrange(-90_000, 120_000) or 1) / 100
                    if card:
                        amount = -(Decimal(len(self.rows)) / 100 + 1)
                        self.cards[(account["iban"], f"{amount:.2f}")] = token
                    row = {
                        "booking_date": (today - datetime.timedelta(days=1 if late else 0)).isoformat(),
                        "amount": str(amount),
                        "description": f"{token} factuur {self.rng.randrange(10_000)}",
                    }
                    if card:
                        row.update(kind="card", counterparty_name="Bakker Bart Utrecht",
                                   card={"terminal": "5GYV99", "card_number": "321", "city": "UTRECHT"})
                    else:
                        row.update(counterparty_iban=iban, counterparty_name=name)
                    rows.append(row)
                self.sandbox.add_transactions(bank, account["iban"], rows)

    def fault(self):
        """One random fault on one random account's transactions or balance."""
        bank = self.rng.choice(("ing", "abnamro"))
        account = self.rng.choice(self.accounts[bank])
        if bank == "ing":
            path = f"/v3/accounts/{account['resourceId']}/{self.rng.choice(('transactions', 'balances'))}"
        else:
            path = f"/v1/accounts/{account['iban']}/{self.rng.choice(('transactions', 'balances'))}"
        kind = self.rng.choice(("429", "500", "503", "truncate", "malformed", "timeout", "401"))
        fault = {"bank": bank, "path": path, "error": kind, "count": self.rng.randint(1, 6)}
        if kind == "429":
            fault["retry_after"] = 1
        if kind == "timeout":
            fault["seconds"] = 2  # slow, within the client's time-out
        if kind == "401":
            fault["count"] = 1
            fault["code"] = "INVALID_HEADER" if bank == "ing" else "ERR_2002_002"
        self.sandbox.set_faults(fault)
        return kind


def copy_db(odoo_tasks, source, target):
    odoo_tasks.drop_database(target)
    odoo_tasks.copy_database(source, target)


def main():
    args = parse_args()
    import freezegun

    import odoo
    from odoo.tools import config

    config.parse_config(["-c", args.config, "--log-level", "warn"])
    odoo.netsvc.init_logger()
    # The fetches that fail on purpose log their tracebacks; the figures matter here.
    logging.getLogger("odoo.addons").setLevel(logging.CRITICAL)
    import linked_world
    import odoo_tasks
    from sandbox import running_sandbox

    db = f"{args.db}_soak"
    rng = random.Random(args.seed)
    started = time.time()
    copy_db(odoo_tasks, args.db, db)
    ing_count = args.accounts // 2
    try:
        with running_sandbox(scenario=linked_world.scenario(ing_count, args.accounts - ing_count, args.seed,
                                                                  clock_days=args.days + 1)) as sb:
            registry = odoo.modules.registry.Registry(db)
            bank = Bank(sb, rng)
            first_day = datetime.date.fromisoformat(sb.info()["today"])
            with registry.cursor() as cr:
                env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
                linked = linked_world.link_accounts(env, sb, start_date=first_day - datetime.timedelta(days=1))
                account_ids = [a.id for a in linked.values()]
            print(f"linked {len(account_ids)} accounts in {time.time() - started:.0f} s", flush=True)
            # Start on the coming whole hour; the sandbox clock follows Odoo's.
            start = datetime.datetime.now(datetime.UTC).replace(minute=5, second=0, microsecond=0, tzinfo=None)
            start += datetime.timedelta(hours=1)
            offset = 0.0
            faults = collections.Counter()
            hours = (args.days + 1) * 24
            for hour in range(hours):
                moment = start + datetime.timedelta(hours=hour)
                wanted = moment.replace(tzinfo=datetime.UTC).timestamp() - time.time()
                sb.advance_clock(wanted - offset)
                offset = wanted
                sb.clear_faults()
                quiet = hour >= args.days * 24  # the extra day: no faults, no new rows
                if not quiet:
                    bank.book(datetime.date.fromisoformat(sb.info()["today"]))
                    if rng.random() < args.fault_rate:
                        faults[bank.fault()] += 1
                with freezegun.freeze_time(moment, tick=True), registry.cursor() as cr:
                    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
                    env["account.bank.link.account"]._cron_bank_link_fetch()
                if hour % 24 == 23:
                    print(f"  day {hour // 24 + 1}: {len(bank.rows)} rows booked, "
                          f"{time.time() - started:.0f} s", flush=True)
            report(registry, odoo, bank, account_ids, faults, started)
    finally:
        if not args.keep:
            odoo.sql_db.close_db(db)
            odoo_tasks.drop_database(db)


def report(registry, odoo, bank, account_ids, faults, started):
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        lines = env["account.bank.statement.line"].search([
            ("nl_bank_link_account_id", "in", account_ids), ("nl_is_balance_correction", "=", False)])
        seen = collections.Counter()
        for line in lines:
            found = set(TOKEN.findall(line.payment_ref or ""))
            if not found:
                card = bank.cards.get((line.nl_bank_link_account_id.iban, f"{line.amount:.2f}"))
                found = {card} if card else {f"unknown line {line.id}"}
            seen.update(found)
        corrections = env["account.bank.statement.line"].search_count([
            ("nl_bank_link_account_id", "in", account_ids), ("nl_is_balance_correction", "=", True)])
        jobs = env["account.bank.link.fetch"].search(
            [("link_account_id", "in", account_ids)], order="link_account_id, fetched_at, id")
        failed = recovered = done = 0
        by_account = collections.defaultdict(list)
        for job in jobs:
            by_account[job.link_account_id.id].append(job.state)
        for states in by_account.values():
            done += states.count("done")
            for index, state in enumerate(states):
                if state == "failed":
                    failed += 1
                    recovered += "done" in states[index + 1:]
        messages = collections.Counter(
            (job.message or "").split(" (")[0][:70] for job in jobs if job.state == "failed")
    bank_rows = len(bank.rows)
    lost = sum(1 for token in bank.rows if not seen[token])
    duplicated = sum(count - 1 for count in seen.values() if count > 1)
    unknown = sum(1 for token in seen if token.startswith("unknown"))
    booked = sum(a["booked"] for b in ("ing", "abnamro") for a in bank.sandbox.accounts(b))
    print("\n=== soak result ===")
    print(f"accounts                  {len(account_ids)}")
    print(f"rows the bank has         {bank_rows} (sandbox counts {booked})")
    print(f"rows Odoo has             {sum(seen.values())} on {len(lines)} statement lines")
    print(f"lost                      {lost}")
    print(f"duplicated                {duplicated}")
    print(f"lines the bank never sent {unknown}")
    print(f"balance corrections       {corrections}")
    print(f"fetches done              {done}")
    print(f"fetches failed            {failed}")
    print(f"  of which recovered      {recovered} (a later fetch of the account succeeded)")
    print(f"faults injected           {sum(faults.values())}: {dict(sorted(faults.items()))}")
    for message, count in messages.most_common():
        print(f"  failed: {count} x {message}")
    print(f"wall time                 {time.time() - started:.0f} s")
    print("TARGET MET" if lost == duplicated == unknown == 0 else "TARGET MISSED", flush=True)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
