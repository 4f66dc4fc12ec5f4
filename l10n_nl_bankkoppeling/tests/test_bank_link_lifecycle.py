# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
from datetime import date

from freezegun import freeze_time

from odoo.tests import tagged

from .common import BankLinkCase


@tagged("post_install", "-at_install")
class TestBankLinkLifecycle(BankLinkCase):
    def setUp(self):
        super().setUp()
        self.link, self.account = self.make_link()
        self.link.consent_valid_until = date(2026, 6, 30)

    def reminder_mails(self):
        return self.env["mail.mail"].search(
            [
                ("model", "=", "account.bank.link"),
                ("res_id", "=", self.link.id),
                ("email_to", "ilike", "jan@example.com"),
            ]
        )

    def run_lifecycle_on(self, day):
        with freeze_time(datetime.datetime.combine(day, datetime.time(6, 0))):
            self.env["account.bank.link"]._cron_bank_link_consent_lifecycle()

    def test_reminders_at_15_3_and_1_days_once_each(self):
        end = self.link.consent_valid_until
        sent_on = []
        for days_before in range(20, -1, -1):
            before = len(self.reminder_mails())
            self.run_lifecycle_on(end - datetime.timedelta(days=days_before))
            if len(self.reminder_mails()) > before:
                sent_on.append(days_before)
        self.assertEqual(sent_on, [15, 3, 1])
        self.assertEqual(self.link.state, "expiring")

    def test_expiring_state_and_activity_on_journal(self):
        self.run_lifecycle_on(date(2026, 6, 20))
        self.assertEqual(self.link.state, "expiring")
        activity = self.journal.activity_ids.filtered(
            lambda a: "Renew" in (a.summary or "")
        )
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.date_deadline, date(2026, 6, 30))
        self.assertEqual(self.journal.bank_link_status_level, "warning")
        # Renewing closes the activity.
        with freeze_time("2026-06-21 09:00:00"):
            self.link._bank_link_store_consent(
                self.bank.exchange_code("good-code", "https://odoo.example/cb")
            )
        self.assertFalse(
            self.journal.activity_ids.filtered(lambda a: "Renew" in (a.summary or ""))
        )
        self.assertEqual(self.link.state, "linked")
        self.assertEqual(self.link.consent_valid_until, date(2026, 12, 18))

    def test_expired_consent_stops_fetching_and_says_how_to_renew(self):
        self.run_lifecycle_on(date(2026, 7, 1))
        self.assertEqual(self.link.state, "expired")
        self.assertFalse(self.link._bank_link_secret().sudo().access_token)
        self.assertIn("Renew", self.journal.message_ids[0].body)
        with freeze_time("2026-07-01 10:00:00"):
            self.env["account.bank.link.account"]._cron_bank_link_fetch()
            message = self.account._bank_link_fetch(unattended=False)[self.account]
        self.assertFalse(self.bank.fetch_calls)
        self.assertIn("Renew", message)
        self.assertIn("expired", self.journal.bank_link_status)

    def test_revoke_wipes_tokens_and_tells_the_bank(self):
        self.link.action_revoke()
        self.assertEqual(self.link.state, "revoked")
        self.assertEqual(len(self.bank.revoked), 1)
        secret = self.link._bank_link_secret().sudo()
        self.assertFalse(secret.access_token or secret.refresh_token)
        self.assertFalse(self.account.active_link)

    def test_unlink_journal_ends_consent_when_last_account(self):
        self.journal.action_bank_link_unlink()
        self.assertEqual(self.link.state, "revoked")
        self.assertFalse(self.journal.bank_link_account_id)

    def test_messages_are_dutch_for_dutch_users(self):
        self.env["res.lang"]._activate_lang("nl_NL")
        self.link.with_context(lang="nl_NL").action_revoke()
        body = self.journal.message_ids[0].body
        self.assertIn("sleutels", body)
