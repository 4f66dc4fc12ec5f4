# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo import sql_db
from odoo.tests import tagged

from ..tools import provider as bp
from .common import COUNTERPARTY_IBAN, TEST_IBAN, BankLinkCase, MemoryBank, tx


@tagged("post_install", "-at_install")
class TestBankLinkFetch(BankLinkCase):
    def setUp(self):
        super().setUp()
        self.link, self.account = self.make_link()

    def fetch(self, unattended=False):
        return self.account._bank_link_fetch(unattended=unattended)

    @freeze_time("2026-03-05 09:00:00")
    def test_fetch_builds_statement_lines_per_booking_day(self):
        partner = self.env["res.partner"].create(
            {
                "name": "Klant B.V.",
                "bank_ids": [(0, 0, {"acc_number": COUNTERPARTY_IBAN})],
            }
        )
        self.bank.transactions[TEST_IBAN] = [
            tx(
                "T1",
                date(2026, 3, 2),
                "121.00",
                "Factuur 2026/0001",
                counterparty_iban=COUNTERPARTY_IBAN,
                counterparty_name="Klant B.V.",
                structured_reference="1234567890123456",
                end_to_end_id="E2E-1",
                bank_transaction_code="PMNT-RCDT-ESCT",
            ),
            tx(
                "T2",
                date(2026, 3, 2),
                "-20.00",
                "",
                counterparty_name="Shell Amsterdam",
            ),
            tx("T3", date(2026, 3, 4), "5.50", "Rente"),
        ]
        self.assertFalse(self.fetch())
        lines = self.statement_lines(self.account)
        self.assertEqual(len(lines), 3)
        first = lines.filtered(
            lambda ln: ln.unique_import_id == f"testbank:{TEST_IBAN}:T1"
        )
        self.assertEqual(first.partner_id, partner)
        self.assertEqual(first.payment_ref, "Factuur 2026/0001")
        self.assertEqual(first.ref, "1234567890123456")
        self.assertEqual(first.nl_structured_reference, "1234567890123456")
        self.assertEqual(first.nl_end_to_end_id, "E2E-1")
        self.assertEqual(first.nl_bank_transaction_code, "PMNT-RCDT-ESCT")
        self.assertEqual(first.account_number, COUNTERPARTY_IBAN)
        # No remittance text: the counterparty's name, never a bare "/".
        second = lines.filtered(lambda ln: ln.unique_import_id.endswith(":T2"))
        self.assertEqual(second.payment_ref, "Shell Amsterdam")
        statements = lines.statement_id.sorted("first_line_index")
        code = self.journal.code
        self.assertEqual(
            statements.mapped("name"), [f"{code}/2026-03-02", f"{code}/2026-03-04"]
        )
        self.assertAlmostEqual(statements[0].balance_end_real, 101.0)
        self.assertAlmostEqual(statements[1].balance_start, 101.0)
        self.assertAlmostEqual(statements[1].balance_end_real, 106.5)
        self.assertTrue(all(statements.mapped("is_complete")))
        self.assertEqual(self.account.last_fetched_date, date(2026, 3, 5))
        self.assertIn("3", self.journal.message_ids[0].body)

    def test_overlap_refetch_gives_no_duplicates(self):
        self.bank.transactions[TEST_IBAN] = [
            tx("A", date(2026, 3, 2), "10"),
            tx("B", date(2026, 3, 3), "20"),
        ]
        with freeze_time("2026-03-03 12:00:00"):
            self.fetch()
        # The bank adds a late booking on a day already fetched.
        self.bank.transactions[TEST_IBAN].append(tx("C", date(2026, 3, 2), "30"))
        self.bank.transactions[TEST_IBAN].append(tx("D", date(2026, 3, 6), "40"))
        with freeze_time("2026-03-06 12:00:00"):
            self.fetch()
        lines = self.statement_lines(self.account)
        self.assertEqual(sorted(lines.mapped("amount")), [10, 20, 30, 40])
        # The second fetch re-read from 5 days before the last fetched day
        # (bounded by the start date).
        self.assertEqual(
            self.bank.fetch_calls[-1][1:], (date(2026, 3, 1), date(2026, 3, 6))
        )
        # The late booking joined the statement of its own booking day.
        self.assertEqual(
            lines.filtered(lambda ln: ln.amount == 30).statement_id.name,
            f"{self.journal.code}/2026-03-02",
        )

    @freeze_time("2026-03-09 12:00:00")
    def test_failure_on_page_3_of_5_then_rerun_imports_each_once(self):
        rows = [tx(f"P{i}", date(2026, 3, 2 + i // 2), i + 1) for i in range(10)]
        self.bank.transactions[TEST_IBAN] = rows
        self.bank.fail_on_page = 3
        message = self.fetch(unattended=True)[self.account]
        self.assertIn("Nothing of this fetch was imported", message)
        self.assertFalse(self.statement_lines(self.account))
        self.assertEqual(self.link.state, "error")
        self.assertFalse(self.account.last_fetched_date)
        self.bank.fail_on_page = None
        self.assertFalse(self.fetch(unattended=True))
        lines = self.statement_lines(self.account)
        self.assertEqual(
            sorted(lines.mapped("unique_import_id")),
            sorted(f"testbank:{TEST_IBAN}:P{i}" for i in range(10)),
        )
        self.assertEqual(self.link.state, "linked")
        self.assertFalse(self.link.last_error)

    @freeze_time("2026-03-04 12:00:00")
    def test_rows_without_bank_id_get_fingerprint_with_occurrence(self):
        coffee = {"counterparty_name": "Koffiebar", "is_card_payment": True}
        self.bank.transactions[TEST_IBAN] = [
            tx(None, date(2026, 3, 3), "-2.80", "BEA Koffiebar", **coffee),
            tx(None, date(2026, 3, 3), "-2.80", "BEA Koffiebar", **coffee),
        ]
        self.fetch()
        self.fetch()
        self.assertEqual(len(self.statement_lines(self.account)), 2)
        # A third identical coffee on the same day is a new transaction.
        self.bank.transactions[TEST_IBAN].append(
            tx(None, date(2026, 3, 3), "-2.80", "BEA Koffiebar", **coffee)
        )
        self.fetch()
        lines = self.statement_lines(self.account)
        self.assertEqual(len(lines), 3)
        self.assertEqual(len(set(lines.mapped("unique_import_id"))), 3)

    def test_period_grouping_fills_one_statement_per_month(self):
        self.account.statement_grouping = "period"
        self.account.start_date = date(2026, 2, 20)
        self.bank.transactions[TEST_IBAN] = [
            tx("F1", date(2026, 2, 27), "100"),
            tx("M1", date(2026, 3, 2), "10"),
        ]
        with freeze_time("2026-03-02 12:00:00"):
            self.fetch()
        self.bank.transactions[TEST_IBAN].append(tx("M2", date(2026, 3, 3), "5"))
        with freeze_time("2026-03-03 12:00:00"):
            self.fetch()
        statements = self.statement_lines(self.account).statement_id.sorted(
            "first_line_index"
        )
        code = self.journal.code
        self.assertEqual(
            statements.mapped("name"), [f"{code}/2026-02", f"{code}/2026-03"]
        )
        self.assertEqual(len(statements[1].line_ids), 2)
        self.assertAlmostEqual(statements[1].balance_start, 100.0)
        self.assertAlmostEqual(statements[1].balance_end_real, 115.0)

    def test_booking_dates_are_amsterdam_dates_not_utc(self):
        # 23:30 UTC on 10 March is already 11 March in Amsterdam.
        self.bank.transactions[TEST_IBAN] = [tx("N1", date(2026, 3, 11), "7")]
        with freeze_time("2026-03-10 23:30:00"):
            self.fetch()
        line = self.statement_lines(self.account)
        self.assertEqual(line.date, date(2026, 3, 11))
        self.assertEqual(self.bank.fetch_calls[-1][2], date(2026, 3, 11))
        self.assertEqual(line.statement_id.name, f"{self.journal.code}/2026-03-11")

    @freeze_time("2026-03-04 12:00:00")
    def test_transactions_before_start_date_are_skipped(self):
        self.account.start_date = date(2026, 3, 3)
        self.bank.transactions[TEST_IBAN] = [
            tx("OLD", date(2026, 3, 2), "1"),
            tx("NEW", date(2026, 3, 3), "2"),
        ]
        self.bank.fetch_transactions = self._ignore_window(self.bank.fetch_transactions)
        self.fetch()
        self.assertEqual(self.statement_lines(self.account).mapped("amount"), [2.0])

    @staticmethod
    def _ignore_window(fetch):
        def fetch_all(tokens, account, date_from, date_to):
            return fetch(tokens, account, date(2000, 1, 1), date_to)

        return fetch_all

    @freeze_time("2026-03-04 12:00:00")
    def test_start_date_in_future_fetches_nothing(self):
        self.account.start_date = date(2026, 4, 1)
        self.assertFalse(self.fetch())
        self.assertFalse(self.bank.fetch_calls)

    @freeze_time("2026-03-04 12:00:00")
    def test_concurrent_fetch_of_same_account_is_refused(self):
        self.bank.transactions[TEST_IBAN] = [tx("L1", date(2026, 3, 3), "1")]
        # Another worker holds the account's lock in its own transaction.
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other_cr:
            other_cr.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                (self.account._bank_link_lock_class(), self.account.id),
            )
            message = self.fetch()[self.account]
            other_cr.rollback()
        self.assertIn("being fetched already", message)
        self.assertFalse(self.statement_lines(self.account))
        self.assertFalse(self.fetch())
        self.assertEqual(len(self.statement_lines(self.account)), 1)

    @freeze_time("2026-03-04 12:00:00")
    def test_expired_access_token_is_refreshed_once_and_kept(self):
        self.bank.transactions[TEST_IBAN] = [tx("R1", date(2026, 3, 3), "1")]
        self.bank.expired_access_tokens = {"access-0"}
        self.assertFalse(self.fetch())
        self.assertEqual(self.bank.refresh_count, 1)
        secret = self.link._bank_link_secret()
        secret.invalidate_recordset()
        self.assertEqual(secret.sudo().access_token, "access-1")
        self.assertEqual(secret.sudo().refresh_token, "refresh-1")
        self.assertEqual(len(self.statement_lines(self.account)), 1)

    @freeze_time("2026-03-04 12:00:00")
    def test_refused_refresh_expires_the_link_and_wipes_tokens(self):
        self.bank.expired_access_tokens = {"access-0"}
        self.bank.refresh_error = bp.ConsentExpiredError(
            "invalid_grant", http_status=400
        )
        message = self.fetch(unattended=True)[self.account]
        self.assertEqual(self.link.state, "expired")
        self.assertIn("Renew", message)
        self.assertFalse(self.link._bank_link_secret().sudo().access_token)
        # An expired link is not fetched any more.
        calls = len(self.bank.fetch_calls)
        self.assertTrue(self.fetch(unattended=True))
        self.assertEqual(len(self.bank.fetch_calls), calls)

    @freeze_time("2026-03-04 12:00:00")
    def test_revoked_consent_sets_revoked_and_logs_in_chatter(self):
        self.bank.fail_on_page = 1
        self.bank.fail_error = bp.ConsentRevokedError(
            "consent revoked", http_status=401
        )
        self.fetch(unattended=True)
        self.assertEqual(self.link.state, "revoked")
        self.assertIn("withdrawn", self.journal.message_ids[0].body)

    def test_cron_respects_daily_limit_and_user_fetch_is_not_counted(self):
        self.bank.transactions[TEST_IBAN] = [tx("C1", date(2026, 3, 3), "1")]
        start = datetime.datetime(2026, 3, 4, 0, 30)
        Account = self.env["account.bank.link.account"]
        for hour in range(24):
            with freeze_time(start + datetime.timedelta(hours=hour)):
                Account._cron_bank_link_fetch()
        self.assertEqual(len(self.bank.fetch_calls), 4)
        with freeze_time(start + datetime.timedelta(hours=23)):
            self.fetch(unattended=False)
        self.assertEqual(len(self.bank.fetch_calls), 5)
        self.assertEqual(len(self.statement_lines(self.account)), 1)

    def test_cron_uses_the_providers_lower_limit(self):
        # A fact of the bank's class: the cron reads it without a provider.
        self.startPatcher(patch.object(MemoryBank, "max_unattended_fetches_per_day", 1))
        start = datetime.datetime(2026, 3, 4, 0, 30)
        for hour in range(24):
            with freeze_time(start + datetime.timedelta(hours=hour)):
                self.env["account.bank.link.account"]._cron_bank_link_fetch()
        self.assertEqual(len(self.bank.fetch_calls), 1)

    @freeze_time("2026-03-04 12:00:00")
    def test_cron_goes_on_after_a_broken_link(self):
        other_journal = self.journal.copy(
            {"name": "Tweede bank", "code": "BNK9", "bank_acc_number": False}
        )
        link2, account2 = self.make_link(
            journal=other_journal, iban="NL20INGB0001234567"
        )
        self.bank.transactions["NL20INGB0001234567"] = [tx("X1", date(2026, 3, 3), "1")]
        original = self.bank.fetch_transactions

        def failing_for_first(tokens, account, date_from, date_to):
            if account.iban == TEST_IBAN:
                raise bp.BankUnavailableError("503", http_status=503)
            return original(tokens, account, date_from, date_to)

        self.bank.fetch_transactions = failing_for_first
        self.env["account.bank.link.account"]._cron_bank_link_fetch()
        self.assertEqual(self.link.state, "error")
        self.assertEqual(len(self.statement_lines(account2)), 1)
        self.assertEqual(link2.state, "linked")

    @freeze_time("2026-03-04 12:00:00")
    def test_journal_buttons_fetch_and_show_status(self):
        self.bank.transactions[TEST_IBAN] = [tx("J1", date(2026, 3, 3), "1")]
        action = self.journal.action_bank_link_fetch()
        self.assertEqual(action["params"]["type"], "info")
        self.assertFalse(self.bank.fetch_calls)  # queued: the click never waits on the bank
        self.env["account.bank.link.fetch"]._cron_bank_link_run_queued()
        self.assertEqual(len(self.statement_lines(self.account)), 1)
        self.journal.invalidate_recordset(["bank_link_status"])
        self.assertIn("testbank", self.journal.bank_link_status.lower())
        self.assertIn("30", self.journal.bank_link_status)  # until 30-06-2026
        self.assertIn("today", self.journal.bank_link_status)
        self.assertEqual(self.journal.bank_link_status_level, "ok")

    @freeze_time("2026-03-04 12:00:00")
    def test_revocation_right_after_a_token_rotation_still_wipes_tokens(self):
        self.bank.expired_access_tokens = {"access-0"}
        original = self.bank.fetch_transactions

        def revoked_after_refresh(tokens, account, date_from, date_to):
            if tokens.access_token == "access-1":
                raise bp.ConsentRevokedError("consent revoked", http_status=401)
            return original(tokens, account, date_from, date_to)

        self.bank.fetch_transactions = revoked_after_refresh
        self.fetch(unattended=True)
        self.assertEqual(self.bank.refresh_count, 1)
        self.assertEqual(self.link.state, "revoked")
        secret = self.link._bank_link_secret().sudo()
        secret.invalidate_recordset()
        self.assertFalse(secret.access_token or secret.refresh_token)

    def test_dashboard_card_shows_the_link_line(self):
        self.journal.invalidate_recordset()
        view = self.env.ref("account.account_journal_dashboard_kanban_view")
        arch = self.env["account.journal"].get_views([(view.id, "kanban")])["views"][
            "kanban"
        ]["arch"]
        self.assertIn("bank_link_status", arch)
        data = self.journal.read(["bank_link_status", "bank_link_status_level"])[0]
        self.assertIn("not fetched yet", data["bank_link_status"])
        self.assertEqual(data["bank_link_status_level"], "ok")
