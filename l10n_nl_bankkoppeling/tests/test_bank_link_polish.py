# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Findings of the browser tests and reviews: the first import's opening
balance, the wizard's default history, its invitation confirmation and
close, the diagnosis' button, and fetches abandoned by a server restart."""

from datetime import date
from decimal import Decimal
from unittest.mock import patch

from freezegun import freeze_time
from lxml import etree

from odoo import sql_db
from odoo.tests import tagged

from ..tools import provider as bp
from .common import TEST_IBAN, BankLinkCase, MemoryBank, tx


def bank_balance(amount, on_date):
    return bp.BankBalance(Decimal(amount), "EUR", "closingBooked", on_date)


@tagged("post_install", "-at_install")
class TestFirstImportOpeningBalance(BankLinkCase):
    def setUp(self):
        super().setUp()
        self.link, self.account = self.make_link()
        self.bank.transactions[TEST_IBAN] = [
            tx("O1", date(2026, 3, 2), "100.00"),
            tx("O2", date(2026, 3, 3), "-30.00"),
        ]
        self.bank.balances[TEST_IBAN] = bank_balance("1070.00", date(2026, 3, 3))

    def statements(self):
        return self.statement_lines(self.account).statement_id.sorted(
            "first_line_index"
        )

    @freeze_time("2026-03-04 08:00:00")
    def test_first_import_opens_the_journal_with_the_banks_balance(self):
        self.assertFalse(
            self.env["account.bank.statement"].search_count(
                [("journal_id", "=", self.journal.id)]
            )
        )
        self.account._bank_link_fetch(unattended=False)
        statements = self.statements()
        self.assertAlmostEqual(statements[0].balance_start, 1000.0)
        self.assertAlmostEqual(statements[-1].balance_end_real, 1070.0)
        self.assertTrue(all(statements.mapped("is_complete")))
        self.assertEqual(self.account.balance_difference, 0)
        self.journal.invalidate_recordset()
        self.assertEqual(self.journal.bank_link_status_level, "ok")
        self.assertEqual(self.journal.bank_link_next_action, "fetch")
        bodies = " ".join(self.journal.message_ids.mapped("body"))
        self.assertIn("Opening balance of the first statement taken from the bank", bodies)
        self.assertNotIn("Balance check", bodies)

    @freeze_time("2026-03-04 08:00:00")
    def test_a_later_mismatch_is_still_flagged(self):
        self.account._bank_link_fetch(unattended=False)
        with freeze_time("2026-03-05 08:00:00"):
            self.bank.transactions[TEST_IBAN].append(tx("O3", date(2026, 3, 4), "50.00"))
            # 1070 + 50 = 1120: the bank says 1200, something is missing.
            self.bank.balances[TEST_IBAN] = bank_balance("1200.00", date(2026, 3, 4))
            self.account._bank_link_fetch(unattended=False)
        self.assertAlmostEqual(self.account.balance_difference, 80.0)
        # The opening balance stays what the bank said at the first import.
        self.assertAlmostEqual(self.statements()[0].balance_start, 1000.0)
        self.journal.invalidate_recordset()
        self.assertEqual(self.journal.bank_link_status_level, "danger")
        self.assertEqual(self.journal.bank_link_next_action, "fix")
        self.assertIn("Balance check", self.journal.message_ids[0].body)

    @freeze_time("2026-03-04 08:00:00")
    def test_balance_of_before_the_first_transaction_is_the_opening(self):
        # Only today's bookings, and ING's balance is the end of yesterday.
        self.bank.transactions[TEST_IBAN] = [tx("T1", date(2026, 3, 4), "25.00")]
        self.bank.balances[TEST_IBAN] = bank_balance("500.00", date(2026, 3, 3))
        self.account._bank_link_fetch(unattended=False)
        [statement] = self.statements()
        self.assertAlmostEqual(statement.balance_start, 500.0)
        self.assertAlmostEqual(statement.balance_end_real, 525.0)
        self.assertEqual(self.account.balance_difference, 0)
        self.assertIn(
            "Opening balance", " ".join(self.journal.message_ids.mapped("body"))
        )

    @freeze_time("2026-03-04 08:00:00")
    def test_journal_with_statements_keeps_its_own_opening(self):
        hand = self.env["account.bank.statement"].create(
            {
                "name": "Hand",
                "journal_id": self.journal.id,
                "balance_start": 0.0,
                "balance_end_real": 0.0,
                "line_ids": [
                    (0, 0, {"date": date(2026, 2, 27), "payment_ref": "in", "amount": 10.0}),
                    (0, 0, {"date": date(2026, 2, 27), "payment_ref": "out", "amount": -10.0}),
                ],
            }
        )
        self.assertTrue(hand)
        self.account._bank_link_fetch(unattended=False)
        self.assertAlmostEqual(self.statements()[0].balance_start, 0.0)
        self.assertAlmostEqual(self.account.balance_difference, 1000.0)
        bodies = " ".join(self.journal.message_ids.mapped("body"))
        self.assertNotIn("Opening balance", bodies)


@tagged("post_install", "-at_install")
class TestWizardPolish(BankLinkCase):
    def open_wizard(self, journal=None):
        action = (journal or self.journal).action_bank_link_start()
        return self.env[action["res_model"]].browse(action["res_id"])

    def to_consent_step(self):
        wizard = self.open_wizard()
        wizard.write({"company_registry": "10001002", "provider": "testbank"})
        wizard.action_next()
        wizard.write(
            {
                "legal_representative_name": "Jan de Vries",
                "legal_representative_email": "jan@example.com",
                "legal_representative_confirmed": True,
            }
        )
        wizard.action_next()
        self.assertEqual(wizard.step, "consent")
        return wizard

    def give_consent(self, wizard):
        link = wizard.link_id
        tokens = self.bank.exchange_code("good-code", "https://odoo.example/cb")
        link._bank_link_store_consent(tokens)
        link._bank_link_sync_accounts()
        wizard._bank_link_consent_given()

    def form_arch(self, model):
        arch = self.env[model].get_views([(False, "form")])["views"]["form"]["arch"]
        return etree.fromstring(arch)

    @freeze_time("2026-03-10 09:00:00")
    def test_default_import_start_is_three_months_of_history(self):
        wizard = self.to_consent_step()
        self.give_consent(wizard)
        line = wizard.line_ids.filtered(lambda ln: ln.iban == TEST_IBAN)
        self.assertEqual(line.start_date, date(2025, 12, 1))
        # The user's choice is what the account gets, and is kept on renewal.
        line.start_date = date(2026, 2, 1)
        wizard.action_next()
        self.assertEqual(line.link_account_id.start_date, date(2026, 2, 1))
        renewal = self.env["account.bank.link.wizard"].browse(
            self.journal.action_bank_link_renew()["res_id"]
        )
        renewal._load_accounts()
        self.assertEqual(
            renewal.line_ids.filtered(lambda ln: ln.iban == TEST_IBAN).start_date,
            date(2026, 2, 1),
        )

    @freeze_time("2026-03-10 09:00:00")
    def test_default_import_start_respects_the_banks_history_limit(self):
        self.startPatcher(patch.object(MemoryBank, "history_months", 2))
        wizard = self.to_consent_step()
        self.give_consent(wizard)
        line = wizard.line_ids.filtered(lambda ln: ln.iban == TEST_IBAN)
        self.assertEqual(line.start_date, date(2026, 1, 10))

    def test_invitation_is_confirmed_in_the_wizard_and_the_chatter(self):
        wizard = self.to_consent_step()
        self.assertFalse(wizard.invitation_text)
        action = wizard.action_send_invitation()
        self.assertEqual((action["res_model"], action["res_id"]), (wizard._name, wizard.id))
        link = wizard.link_id
        until = link._bank_link_format_datetime(link.invitation_expires_at)
        self.assertIn("jan@example.com", wizard.invitation_text)
        self.assertIn(until, wizard.invitation_text)
        self.assertIn(
            f"Invitation to give consent sent to jan@example.com, valid until {until}",
            " ".join(link.message_ids.mapped("body")),
        )
        # The confirmation is on the consent step of the form.
        arch = self.form_arch(wizard._name)
        box = arch.xpath("//div[@name='invitation_sent']")
        self.assertTrue(box)
        self.assertTrue(box[0].xpath(".//field[@name='invitation_text']"))
        self.assertIn("step != 'consent'", box[0].getparent().get("invisible"))

    def test_close_after_the_last_step_goes_to_the_dashboard(self):
        wizard = self.to_consent_step()
        self.give_consent(wizard)
        wizard.action_next()
        self.assertEqual(wizard.step, "done")
        action = wizard.action_close()
        dashboard = self.env.ref("account.open_account_journal_dashboard_kanban")
        self.assertEqual(action["id"], dashboard.id)
        self.assertEqual(action["res_model"], "account.journal")
        # "main": the dashboard replaces the page (and its breadcrumbs).
        self.assertEqual(action["target"], "main")
        self.assertEqual(action["context"]["search_default_dashboard"], 1)
        self.assertFalse(action["context"]["active_id"])
        # On the done step "Close" is that button, not a bare dialog cancel.
        arch = self.form_arch(wizard._name)
        [close] = arch.xpath("//footer/button[@name='action_close']")
        self.assertEqual(close.get("invisible"), "step not in ('accounts', 'done')")
        [cancel] = arch.xpath("//footer/button[@special='cancel']")
        self.assertIn("'done'", cancel.get("invisible"))


@tagged("post_install", "-at_install")
class TestDiagnosisButton(BankLinkCase):
    def diagnosis(self, journal):
        action = journal.action_bank_link_diagnose()
        return self.env[action["res_model"]].browse(action["res_id"])

    def test_unlinked_journal_is_offered_link_bank_not_fetch(self):
        wizard = self.diagnosis(self.journal)
        self.assertEqual(wizard.next_action, "link")
        action = wizard.action_link()
        self.assertEqual(action["res_model"], "account.bank.link.wizard")
        self.assertEqual(
            self.env["account.bank.link.wizard"].browse(action["res_id"]).journal_id,
            self.journal,
        )
        arch = etree.fromstring(
            self.env[wizard._name].get_views([(False, "form")])["views"]["form"]["arch"]
        )
        [fetch] = arch.xpath("//button[@name='action_fetch']")
        self.assertIn("'link'", fetch.get("invisible"))
        link_buttons = arch.xpath("//button[@name='action_link'][@string='Link bank']")
        self.assertEqual(link_buttons[0].get("invisible"), "next_action != 'link'")

    def test_linked_journal_is_offered_fetch(self):
        self.make_link()
        self.journal.invalidate_recordset()
        self.assertEqual(self.diagnosis(self.journal).next_action, "fetch")


@tagged("post_install", "-at_install")
class TestAbandonedFetch(BankLinkCase):
    def setUp(self):
        super().setUp()
        self.link, self.account = self.make_link(start_date=date(2026, 3, 1))
        self.Fetch = self.env["account.bank.link.fetch"]

    def running_job(self):
        # What a server restart leaves behind: 'running', no worker.
        return self.Fetch.create(
            {
                "link_account_id": self.account.id,
                "unattended": False,
                "state": "running",
                "date_from": date(2026, 3, 1),
                "date_to": date(2026, 3, 4),
            }
        )

    @freeze_time("2026-03-04 12:00:00")
    def test_fetch_now_fails_an_abandoned_job_and_queues_a_new_one(self):
        stale = self.running_job()
        action = self.journal.action_bank_link_fetch()
        self.assertNotIn("running already", action["params"]["message"])
        self.assertEqual(stale.state, "failed")
        self.assertIn("interrupted", stale.message)
        new = self.Fetch.search(
            [("link_account_id", "=", self.account.id), ("state", "=", "queued")]
        )
        self.assertEqual(len(new), 1)
        self.bank.transactions[TEST_IBAN] = [tx("R1", date(2026, 3, 3), "5")]
        self.Fetch._cron_bank_link_run_queued()
        self.assertEqual((new.state, new.lines_imported), ("done", 1))

    @freeze_time("2026-03-04 12:00:00")
    def test_the_cards_button_fetches_again_after_an_abandoned_job(self):
        stale = self.running_job()
        self.journal.invalidate_recordset()
        self.assertEqual(self.journal.bank_link_next_action, "wait")
        action = self.journal.action_bank_link_next()
        self.assertIn("background", action["params"]["message"])
        self.assertEqual(stale.state, "failed")
        self.assertEqual(
            self.Fetch.search_count(
                [("link_account_id", "=", self.account.id), ("state", "=", "queued")]
            ),
            1,
        )

    @freeze_time("2026-03-04 12:00:00")
    def test_worker_fails_an_abandoned_job(self):
        stale = self.running_job()
        self.Fetch._cron_bank_link_run_queued()
        self.assertEqual(stale.state, "failed")
        self.journal.invalidate_recordset()
        self.assertNotEqual(self.journal.bank_link_next_action, "wait")

    @freeze_time("2026-03-04 12:00:00")
    def test_a_job_whose_worker_holds_the_lock_keeps_running(self):
        job = self.running_job()
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other:
            # A worker in another process is fetching this account.
            other.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                (self.account._bank_link_lock_class(), self.account.id),
            )
            action = self.journal.action_bank_link_fetch()
            self.Fetch._cron_bank_link_run_queued()
            other.rollback()
        self.assertEqual(job.state, "running")
        self.assertIn("running already", action["params"]["message"])
        self.assertFalse(
            self.Fetch.search_count(
                [("link_account_id", "=", self.account.id), ("state", "=", "queued")]
            )
        )

    @freeze_time("2026-03-04 12:00:00")
    def test_the_worker_releases_its_session_lock(self):
        self.journal.action_bank_link_fetch()
        self.Fetch._cron_bank_link_run_queued()
        # False: no session-level lock left on this pooled connection (the
        # fetch's transaction lock ends with the test's transaction).
        self.env.cr.execute(
            "SELECT pg_advisory_unlock(%s, %s)",
            (self.account._bank_link_lock_class(), self.account.id),
        )
        self.assertFalse(self.env.cr.fetchone()[0])
