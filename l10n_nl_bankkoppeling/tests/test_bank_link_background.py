# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Fetching in the background: "Fetch now" and the first import after
linking are queued, the worker reports its progress on the journal while
it reads pages, and a failure halfway still imports nothing."""

import datetime
from datetime import date

from freezegun import freeze_time

from odoo import sql_db
from odoo.tests import tagged

from ..tools import provider as bp
from .common import TEST_IBAN, BankLinkCase, tx


def monthly_history(last_day, months):
    """One transaction on the 15th of each of the last ``months`` months,
    newest first, as the banks send them."""
    rows = []
    day = last_day.replace(day=15)
    for number in range(months):
        rows.append(tx(f"H{number}", day, "10", f"Maand {number}"))
        day = (day.replace(day=1) - datetime.timedelta(days=1)).replace(day=15)
    return rows


@tagged("post_install", "-at_install")
class TestBankLinkBackground(BankLinkCase):
    def setUp(self):
        super().setUp()
        self.link, self.account = self.make_link(start_date=date(2024, 9, 4))
        self.Fetch = self.env["account.bank.link.fetch"]
        self.cron = self.env.ref("l10n_nl_bankkoppeling.cron_bank_link_fetch_queued")

    def job(self):
        return self.Fetch.search(
            [("link_account_id", "=", self.account.id), ("unattended", "=", False)], limit=1
        )

    @freeze_time("2026-03-04 12:00:00")
    def test_fetch_now_queues_once_and_wakes_the_worker(self):
        self.bank.transactions[TEST_IBAN] = [tx("Q1", date(2026, 3, 3), "5")]
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)])
        action = self.journal.action_bank_link_fetch()
        self.assertEqual(action["params"]["type"], "info")
        self.assertIn("background", action["params"]["message"])
        self.assertFalse(self.bank.fetch_calls)
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)]),
            triggers + 1,
        )
        self.journal.invalidate_recordset()
        self.assertEqual(self.journal.bank_link_job_state, "queued")
        self.assertEqual(self.journal.bank_link_next_action, "wait")
        # A second click while it waits queues nothing more.
        self.journal.action_bank_link_fetch()
        self.assertEqual(
            self.Fetch.search_count([("link_account_id", "=", self.account.id), ("state", "=", "queued")]), 1
        )

        self.Fetch._cron_bank_link_run_queued()
        self.assertEqual(self.bank.fetch_calls, [(TEST_IBAN, date(2024, 9, 4), date(2026, 3, 4))])
        self.assertEqual(self.statement_lines(self.account).mapped("amount"), [5.0])
        job = self.job()
        self.assertEqual((job.state, job.lines_imported), ("done", 1))
        self.journal.invalidate_recordset()
        self.assertEqual(self.journal.bank_link_job_text, "Fetched: 1 new transaction(s).")
        self.assertEqual(self.journal.bank_link_next_action, "fetch")
        self.assertEqual(self.journal.bank_link_next_action_label, "Fetch now")
        self.assertEqual(self.journal.bank_link_to_reconcile, 1)

    @freeze_time("2026-03-04 12:00:00")
    def test_first_import_of_18_months_reports_progress_per_page(self):
        self.account.start_date = date(2024, 9, 4)
        self.bank.transactions[TEST_IBAN] = monthly_history(date(2026, 2, 20), 18)
        self.bank.page_size = 3
        self.account._bank_link_queue_fetch()
        job = self.job()
        self.assertTrue(job.first_import)
        seen = []
        original = self.bank.fetch_transactions

        def watching(tokens, account, date_from, date_to):
            for page in original(tokens, account, date_from, date_to):
                job.invalidate_recordset()
                seen.append(job.progress_text)
                # Nothing is imported while pages are still being read.
                self.assertFalse(self.statement_lines(self.account))
                yield page

        self.bank.fetch_transactions = watching
        self.Fetch._cron_bank_link_run_queued()
        self.assertEqual(job.months_total, 18)
        self.assertEqual(seen[0], "First import: 0 of 18 months fetched")
        self.assertIn("First import: 3 of 18 months fetched", seen)
        self.assertIn("First import: 15 of 18 months fetched", seen)
        self.assertEqual(len(self.statement_lines(self.account)), 18)
        self.assertEqual(job.state, "done")
        self.assertEqual(job.months_done, 18)

    @freeze_time("2026-03-04 12:00:00")
    def test_failure_halfway_imports_nothing_and_says_why(self):
        self.bank.transactions[TEST_IBAN] = monthly_history(date(2026, 3, 4), 6)
        self.bank.fail_on_page = 2
        self.bank.fail_error = bp.BankUnavailableError("503", http_status=503)
        self.journal.action_bank_link_fetch()
        self.Fetch._cron_bank_link_run_queued()
        job = self.job()
        self.assertEqual(job.state, "failed")
        self.assertFalse(self.statement_lines(self.account))
        self.assertIn("Nothing of this fetch was imported", job.message)
        self.journal.invalidate_recordset()
        self.assertEqual(self.journal.bank_link_next_action, "fix")
        self.assertTrue(self.journal.bank_link_next_action_label.startswith("Fix: The bank could not be reached"))
        self.assertEqual(self.journal.bank_link_job_text, job.message)

    @freeze_time("2026-03-04 12:00:00")
    def test_ended_link_is_told_at_once_without_queueing(self):
        self.link.state = "expired"
        action = self.journal.action_bank_link_fetch()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("Renew", action["params"]["message"])
        self.assertFalse(self.job())
        self.journal.invalidate_recordset()
        self.assertEqual(self.journal.bank_link_next_action, "renew")
        self.assertEqual(self.journal.bank_link_next_action_label, "Renew consent")

    @freeze_time("2026-03-04 12:00:00")
    def test_queued_fetch_respects_the_account_lock(self):
        self.journal.action_bank_link_fetch()
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other:
            # Another transaction is fetching this account right now.
            other.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                (self.account._bank_link_lock_class(), self.account.id),
            )
            self.Fetch._cron_bank_link_run_queued()
            other.rollback()
        job = self.job()
        self.assertEqual(job.state, "failed")
        self.assertIn("being fetched already", job.message)
        self.assertFalse(self.bank.fetch_calls)

    def test_unlinked_bank_journal_offers_link_bank(self):
        other = self.env["account.journal"].create(
            {"name": "Bank 2", "code": "BNK9", "type": "bank", "company_id": self.company.id}
        )
        self.assertEqual(other.bank_link_next_action, "link")
        self.assertEqual(other.bank_link_next_action_label, "Link bank")
        sale = self.company_data["default_journal_sale"]
        self.assertFalse(sale.bank_link_next_action)

    @freeze_time("2026-03-04 12:00:00")
    def test_hourly_cron_leaves_a_queued_account_to_the_worker(self):
        self.bank.transactions[TEST_IBAN] = [tx("C1", date(2026, 3, 3), "7")]
        self.journal.action_bank_link_fetch()
        self.env["account.bank.link.account"]._cron_bank_link_fetch()
        self.assertFalse(self.bank.fetch_calls)
        self.Fetch._cron_bank_link_run_queued()
        job = self.job()
        self.assertEqual((job.state, job.lines_imported), ("done", 1))
        self.journal.invalidate_recordset()
        self.assertEqual(self.journal.bank_link_job_text, "Fetched: 1 new transaction(s).")
