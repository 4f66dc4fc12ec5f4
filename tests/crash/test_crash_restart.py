"""kill -9 of the Odoo server during a large first import (conftest.py sizes it),
and a bank that cannot be reached: nothing half-imported is ever visible,
the next fetch brings every bank row exactly once, other links go on."""

from __future__ import annotations

import time

import psycopg2
import pytest
from crash_harness import BIG_IBAN, BIG_PER_DAY, OTHER_IBAN, InBackground



def database(server):
    """A direct connection: what another user would see while Odoo is down."""
    options = {}
    for line in server.config.read_text().splitlines():
        key, _eq, value = (part.strip() for part in line.partition("="))
        options[key] = value
    params = {"dbname": server.db}
    for key, name in (("db_host", "host"), ("db_port", "port"), ("db_user", "user"),
                      ("db_password", "password")):
        if options.get(key) not in (None, "", "False"):
            params[name] = options[key]
    connection = psycopg2.connect(**params)
    connection.autocommit = True
    return connection


def visible_lines(connection, journal_id):
    with connection.cursor() as cr:
        cr.execute("SELECT count(*), count(DISTINCT unique_import_id) FROM account_bank_statement_line l "
                   "JOIN account_move m ON m.id = l.move_id WHERE m.journal_id = %s", [journal_id])
        return cr.fetchone()


def wait_for(condition, what, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def page_requests(sandbox, path_part):
    return [entry for entry in sandbox.log(bank="ing") if path_part in entry["path"]]


def writing_lines(connection, db):
    with connection.cursor() as cr:
        cr.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'active' "
                   "AND query ILIKE 'INSERT INTO \"account_%%'", [db])
        return cr.fetchone()[0] > 0


def fetch_now_and_work(rpc, link_id):
    """"Nu ophalen" on the link, then the background worker in the server
    (the cron job run at once, as its trigger does), watched from here."""
    rpc("account.bank.link", "action_fetch", [link_id])
    cron_id = rpc.xmlid("l10n_nl_bankkoppeling.cron_bank_link_fetch_queued")
    return InBackground(rpc, "ir.cron", "method_direct_trigger", [cron_id])


def jobs(rpc, account_id):
    return rpc.search_read("account.bank.link.fetch", [("link_account_id", "=", account_id)],
                           ["state", "message", "lines_imported"], order="id")


def test_kill_9_during_a_large_first_import_then_every_row_once(crash_world):
    server, sandbox, accounts = crash_world
    big = accounts[BIG_IBAN]
    booked = next(a["booked"] for a in sandbox.accounts("ing") if a["iban"] == BIG_IBAN)
    assert booked >= 5000 or BIG_PER_DAY < 16, booked
    rpc = server.start()
    watch = database(server)
    try:
        # 1. Killed while the pages are read (the 5th; 100 rows a page).
        sandbox.clear_log()
        fetch_now_and_work(rpc, big["link"])
        wait_for(lambda: len(page_requests(sandbox, "/transactions")) >= 5, "pages being read")
        server.kill()
        assert visible_lines(watch, big["journal"]) == (0, 0)
        # 2. Killed while the lines are written (all pages read, inserting).
        rpc = server.start()
        sandbox.clear_log()
        fetch_now_and_work(rpc, big["link"])
        wait_for(lambda: page_requests(sandbox, "/balances"), "all pages read")
        wait_for(lambda: writing_lines(watch, server.db), "lines being written", timeout=60)
        server.kill()
        assert visible_lines(watch, big["journal"]) == (0, 0)
        # 3. Restarted: the next fetch brings everything, once.
        rpc = server.start()
        started = time.time()
        fetch_now_and_work(rpc, big["link"]).join()
        seconds = time.time() - started
        count, distinct = visible_lines(watch, big["journal"])
        history = jobs(rpc, big["account"])
        print(f"\nfirst import after two kills: {count} lines of {booked} at the bank, "
              f"{distinct} distinct, {seconds:.0f} s; jobs: {[job['state'] for job in history]}")
        assert (count, distinct) == (booked, booked)
        assert [job["state"] for job in history] == ["failed", "failed", "done"]
        assert all("interrupted" in job["message"] for job in history[:2])
        assert history[-1]["lines_imported"] == booked
        # 4. Once more: nothing new, nothing doubled.
        fetch_now_and_work(rpc, big["link"]).join()
        assert visible_lines(watch, big["journal"]) == (booked, booked)
    finally:
        watch.close()
        server.stop()


def test_bank_unreachable_is_a_clear_link_error_and_the_other_bank_is_fetched(crash_world):
    server, sandbox, accounts = crash_world
    big, other = accounts[BIG_IBAN], accounts[OTHER_IBAN]
    rpc = server.start()
    watch = database(server)
    try:
        # ING's address answers nothing any more: connection refused.
        closed_port = __import__("bksetup").free_port()
        rpc("account.bank.link", "write", [big["link"]], {"ing_base_url": f"https://127.0.0.1:{closed_port}"})
        before = visible_lines(watch, other["journal"])[0]
        cron_id = rpc.xmlid("l10n_nl_bankkoppeling.cron_bank_link_fetch")
        rpc("ir.cron", "method_direct_trigger", [cron_id])
        ing = rpc.search_read("account.bank.link", [("id", "=", big["link"])], ["state", "last_error"])[0]
        abn = rpc.search_read("account.bank.link", [("id", "=", other["link"])], ["state", "last_error"])[0]
        print(f"\nING unreachable: state {ing['state']}, message: {ing['last_error']}")
        assert ing["state"] == "error"
        assert "could not be reached" in ing["last_error"] or "niet bereikt" in ing["last_error"]
        assert abn["state"] == "linked", abn["last_error"]
        assert visible_lines(watch, other["journal"])[0] > before
    finally:
        watch.close()
        server.stop()
