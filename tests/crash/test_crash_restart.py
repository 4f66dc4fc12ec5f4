"""kill -9 of the Odoo server during a large first import (conftest.py sizes it),
and a bank that cannot be reached: nothing half-imported is ever visible,
the next fetch brings every bank row exactly once, other links go on."""

from __future__ import annotations

import os
import time

import psycopg2
from crash_harness import BIG_IBAN, OTHER_IBAN, InBackground


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


def wait_for(condition, what, timeout=240, pause=0.2, explain=None):
    """Wait until ``condition()``; on time-out fail with ``explain()``
    (the fetch jobs, say) in the message."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(pause)
    raise AssertionError(f"timed out waiting for {what}" + (f": {explain()}" if explain else ""))


def page_requests(sandbox, path_part):
    return [entry for entry in sandbox.log(bank="ing") if path_part in entry["path"]]


def writing_lines(connection, db):
    """Whether a transaction of the server has started writing: it holds a
    transaction id. Only the import writes in the fetch's own transaction
    (its progress goes through short committed ones)."""
    with connection.cursor() as cr:
        cr.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND backend_xid IS NOT NULL "
                   "AND pid <> pg_backend_pid()", [db])
        return cr.fetchone()[0] > 0


def account_locked(connection, account_id):
    """Whether some server holds the account's fetch lock (an advisory
    lock on the key "BKLA", account id)."""
    with connection.cursor() as cr:
        cr.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                   "AND classid = %s::oid AND objid = %s::oid AND objsubid = 2", [0x424B4C41, account_id])
        return cr.fetchone()[0] > 0


def fetch_now_and_work(rpc, link_id):
    """"Nu ophalen" on the link, then the background worker in the server
    (the cron job run at once, as its trigger does), watched from here."""
    rpc("account.bank.link", "action_fetch", [link_id])
    cron_id = rpc.xmlid("l10n_nl_bankkoppeling.cron_bank_link_fetch_queued")
    return InBackground(rpc, "ir.cron", "method_direct_trigger", [cron_id])


def waiting_on_a_lock(connection, db):
    """Whether a backend of the server waits for a row lock (the one the
    test holds on the invoice the import reconciles)."""
    with connection.cursor() as cr:
        cr.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
                   "AND pid <> pg_backend_pid()", [db])
        return cr.fetchone()[0] > 0


def open_invoice_paid_by_the_bank(rpc, sandbox):
    """A posted customer invoice and, at the bank, today's payment of it
    with its betalingskenmerk from the customer's known IBAN: the import
    reconciles it automatically (after writing every line of the day)."""
    payer_iban = "NL02ABNA0123456789"
    partner = rpc("res.partner", "create", {"name": "Drukkerij Crash B.V.", "is_company": True,
                                            "bank_ids": [(0, 0, {"acc_number": payer_iban})]})
    invoice = rpc("account.move", "create", {
        "move_type": "out_invoice", "partner_id": partner,
        "invoice_line_ids": [(0, 0, {"name": "Drukwerk", "quantity": 1, "price_unit": 4321.09,
                                     "tax_ids": [(6, 0, [])]})]})
    rpc("account.move", "action_post", [invoice])
    posted = rpc.search_read("account.move", [("id", "=", invoice)],
                             ["name", "payment_reference", "amount_total"])[0]
    sandbox.add_transactions("ing", BIG_IBAN, [{
        "id": "crash-pays-an-invoice", "days_ago": 0, "amount": f"{posted['amount_total']:.2f}",
        "counterparty_name": "Drukkerij Crash B.V.", "counterparty_iban": payer_iban,
        "reference": posted["payment_reference"], "description": posted["name"]}])
    return invoice


def lock_invoice_lines(server, invoice_id):
    """A transaction that holds the invoice's journal items FOR UPDATE:
    the reconciliation that writes them waits here, mid-import."""
    holder = database(server)
    holder.autocommit = False
    with holder.cursor() as cr:
        cr.execute("SELECT id FROM account_move_line WHERE move_id = %s FOR UPDATE", [invoice_id])
    return holder


def payment_state(rpc, invoice_id):
    return rpc.search_read("account.move", [("id", "=", invoice_id)], ["payment_state"])[0]["payment_state"]


def jobs(rpc, account_id):
    return rpc.search_read("account.bank.link.fetch", [("link_account_id", "=", account_id)],
                           ["state", "message", "lines_imported"], order="id")


def test_kill_9_during_a_large_first_import_then_every_row_once(crash_world):
    """Killed at three moments of a first import of over 5,000 rows: while
    the pages are read, while the lines are written, while reconciling."""
    server, sandbox, accounts, _second = crash_world
    big = accounts[BIG_IBAN]
    rpc = server.start()
    invoice = open_invoice_paid_by_the_bank(rpc, sandbox)
    booked = next(a["booked"] for a in sandbox.accounts("ing") if a["iban"] == BIG_IBAN)
    # The size; BANKKOPPELING_CRASH_PER_DAY=3 makes it ~1,000 rows
    # for a quick run by hand.
    assert booked >= 5000 or "BANKKOPPELING_CRASH_PER_DAY" in os.environ, booked
    watch = database(server)
    holder = None
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
        wait_for(lambda: page_requests(sandbox, "/balances"), "all pages read",
                 explain=lambda: (jobs(rpc, big["account"]), sandbox.log(bank="ing")[-3:]))
        wait_for(lambda: writing_lines(watch, server.db), "lines being written", timeout=60, pause=0.05)
        server.kill()
        assert visible_lines(watch, big["journal"]) == (0, 0)
        # 3. Killed while reconciling: every line is written (in the
        # import's transaction) and the matcher writes the invoice's
        # reconciliation, which waits on the row lock held here.
        rpc = server.start()
        holder = lock_invoice_lines(server, invoice)
        fetch_now_and_work(rpc, big["link"])
        wait_for(lambda: waiting_on_a_lock(watch, server.db), "the reconciliation writing the invoice",
                 timeout=1800, pause=0.2)
        server.kill()
        holder.rollback()
        holder.close()
        holder = None
        assert visible_lines(watch, big["journal"]) == (0, 0)
        rpc = server.start()
        assert payment_state(rpc, invoice) == "not_paid"
        # 4. Restarted: the next fetch brings everything, once.
        started = time.time()
        fetch_now_and_work(rpc, big["link"]).join(timeout=1800)
        seconds = time.time() - started
        count, distinct = visible_lines(watch, big["journal"])
        history = jobs(rpc, big["account"])
        print(f"\nfirst import after three kills: {count} lines of {booked} at the bank, "
              f"{distinct} distinct, {seconds:.0f} s; jobs: {[job['state'] for job in history]}; "
              f"invoice {payment_state(rpc, invoice)}")
        assert (count, distinct) == (booked, booked)
        assert [job["state"] for job in history] == ["failed", "failed", "failed", "done"]
        assert all("interrupted" in job["message"] for job in history[:3])
        assert history[-1]["lines_imported"] == booked
        assert payment_state(rpc, invoice) in ("paid", "in_payment")
        # 5. Once more: nothing new, nothing doubled.
        fetch_now_and_work(rpc, big["link"]).join()
        assert visible_lines(watch, big["journal"]) == (booked, booked)
    finally:
        if holder:
            holder.rollback()
            holder.close()
        watch.close()
        server.stop()


def test_bank_unreachable_is_a_clear_link_error_and_the_other_bank_is_fetched(crash_world):
    server, sandbox, accounts, _second = crash_world
    big, other = accounts[BIG_IBAN], accounts[OTHER_IBAN]
    rpc = server.start()
    watch = database(server)
    try:
        # ING's address answers nothing any more: connection refused.
        closed_port = __import__("bksetup").free_port()
        registration = rpc.search_read("account.bank.registration", [("provider", "=", "ing")], ["api_base_url"])[0]
        url = registration["api_base_url"]
        rpc("account.bank.registration", "write", [registration["id"]], {"api_base_url": f"https://127.0.0.1:{closed_port}"})
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
        rpc("account.bank.registration", "write", [registration["id"]], {"api_base_url": url})
        watch.close()
        server.stop()


def test_two_servers_fetching_the_same_account_at_once_bring_each_row_once(crash_world):
    """The scheduled fetch on one server and "Nu ophalen" on another, for
    the same account at the same moment: one fetches, the other is skipped
    with a message the user reads; no row twice."""
    server, sandbox, accounts, second = crash_world
    big = accounts[BIG_IBAN]
    sandbox.add_transactions("ing", BIG_IBAN, [
        {"id": f"crash-concurrent-{n}", "days_ago": 0, "amount": f"{10 + n}.00",
         "counterparty_name": "Bakkerij Van der Meer B.V.", "description": f"Factuur 2026-90{n}"}
        for n in range(3)])
    booked = next(a["booked"] for a in sandbox.accounts("ing") if a["iban"] == BIG_IBAN)
    rpc, rpc2 = server.start(), second.start()
    watch = database(server)
    try:
        # The fetches so far moved a year back, as if long ago: the banks'
        # daily limits allow the scheduled fetch again.
        for job in rpc.search_read("account.bank.link.fetch", [], ["fetched_at"]):
            rpc("account.bank.link.fetch", "write", [job["id"]],
                {"fetched_at": f"{int(job['fetched_at'][:4]) - 1}{job['fetched_at'][4:]}"})
        # The bank answers the first fetcher slowly: it holds the account.
        sandbox.clear_log()
        sandbox.set_faults({"path": "/v3/accounts/*/transactions", "bank": "ing", "error": "timeout",
                            "seconds": 10})
        cron_id = rpc.xmlid("l10n_nl_bankkoppeling.cron_bank_link_fetch")
        scheduled = InBackground(rpc, "ir.cron", "method_direct_trigger", [cron_id])
        wait_for(lambda: account_locked(watch, big["account"]), "the scheduled fetch holding the account",
                 pause=0.05)
        user_fetch = fetch_now_and_work(rpc2, big["link"]).join()
        scheduled.join()
        assert scheduled.error is None and user_fetch.error is None, (scheduled.error, user_fetch.error)
        last = jobs(rpc, big["account"])[-1]
        print(f"\nsecond server, same account: {last['state']}: {last['message']}")
        assert last["state"] == "failed"
        assert "being fetched already" in last["message"] or "wordt al opgehaald" in last["message"]
        assert visible_lines(watch, big["journal"]) == (booked, booked)
        # Afterwards "Nu ophalen" works again and still adds nothing twice.
        fetch_now_and_work(rpc2, big["link"]).join()
        assert jobs(rpc, big["account"])[-1]["state"] == "done"
        assert visible_lines(watch, big["journal"]) == (booked, booked)
    finally:
        sandbox.clear_faults()
        watch.close()
        server.stop()
        second.stop()
