# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""One broken link among healthy ones (issue #15, item 3): the scheduled
fetch still fetches every healthy account in the same run, and the broken
one shows what went wrong on its link and journal, without secrets."""

from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..models.statement_builder import StatementBuilder
from .common import (
    COUNTERPARTY_IBAN,
    OTHER_IBAN,
    SAVINGS_IBAN,
    TEST_IBAN,
    BankLinkCase,
    MemoryBank,
    tx,
)

#: Text a broken key might put in an exception; it must never reach a user.
SECRET = "-----BEGIN PRIVATE KEY----- MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"


class BuggyBank(MemoryBank):
    """The same bank, with a bug in its code for one link only."""

    def fetch_transactions(self, tokens, account, date_from, date_to):
        raise RuntimeError(f"provider bug near {SECRET}")


@tagged("post_install", "-at_install")
class TestBankLinkCronIsolation(BankLinkCase):
    def setUp(self):
        super().setUp()
        self.ibans = [TEST_IBAN, OTHER_IBAN, SAVINGS_IBAN, COUNTERPARTY_IBAN]
        self.links, self.accounts = [], []
        for number, iban in enumerate(self.ibans):
            journal = self.journal
            if number:
                journal = self.journal.copy(
                    {"name": f"Bank {number}", "code": f"BNK{number}", "bank_acc_number": False}
                )
            link, account = self.make_link(journal=journal, iban=iban)
            self.links.append(link)
            self.accounts.append(account)
            self.bank.transactions[iban] = [tx(f"T{number}", date(2026, 3, 3), "10")]
        # The third link is the broken one: healthy links come before and
        # after it in the cron's order.
        self.broken_link, self.broken = self.links[2], self.accounts[2]
        self.healthy = [a for a in self.accounts if a != self.broken]

    def patch_provider_of_broken_link(self, provider):
        """``provider(link)`` builds the broken link's provider; the others
        keep the healthy memory bank."""
        Link = self.env.registry["account.bank.link"]
        original = Link._bank_link_get_provider
        broken_id = self.broken_link.id

        def get_provider(link):
            if link.id == broken_id:
                return provider(link)
            return original(link)

        self.startPatcher(patch.object(Link, "_bank_link_get_provider", get_provider))

    def run_cron(self, **context):
        self.env["account.bank.link.account"].with_context(**context)._cron_bank_link_fetch()
        self.env.invalidate_all()

    def assert_healthy_fetched_and_broken_recorded(self, expected_text):
        for account in self.healthy:
            self.assertEqual(
                len(self.statement_lines(account)), 1, f"{account.iban} was not fetched"
            )
            self.assertEqual(account.link_id.state, "linked")
        self.assertFalse(self.statement_lines(self.broken))
        link = self.broken_link
        self.assertEqual(link.state, "error")
        self.assertIn(expected_text, link.last_error)
        self.assertIn(expected_text, self.broken.journal_id.message_ids[0].body)
        self.assertIn(expected_text, link.message_ids[0].body)
        job = self.env["account.bank.link.fetch"].search(
            [("link_account_id", "=", self.broken.id)]
        )
        self.assertEqual(job.mapped("state"), ["failed"])
        self.assertIn(expected_text, job.message)
        self.assertEqual(job._bank_link_result_params()["type"], "danger")
        shown = [link.last_error, job.message] + (
            link.message_ids | self.broken.journal_id.message_ids
        ).mapped("body")
        for text in shown:
            self.assertNotIn("PRIVATE KEY", text or "")

    @freeze_time("2026-03-04 12:00:00")
    def test_unreadable_key_of_one_link_does_not_stop_the_others(self):
        def unreadable_key(link):
            # Loading a corrupt PEM fails deep in the TLS library, with
            # whatever exception it raises (not a UserError).
            raise ValueError(f"Could not deserialize key data: {SECRET}")

        self.patch_provider_of_broken_link(unreadable_key)
        self.run_cron()
        self.assert_healthy_fetched_and_broken_recorded("ValueError")

    @freeze_time("2026-03-04 12:00:00")
    def test_provider_bug_of_one_bank_is_kept_on_its_link(self):
        buggy = BuggyBank()
        self.patch_provider_of_broken_link(lambda link: buggy)
        self.run_cron()
        self.assert_healthy_fetched_and_broken_recorded("RuntimeError")

    @freeze_time("2026-03-04 12:00:00")
    def test_incomplete_configuration_is_shown_on_its_link(self):
        def incomplete(link):
            # The message a bank addon raises, as it would in English.
            raise UserError("An administrator must fill in: ING client id.")  # pylint: disable=translation-required

        self.patch_provider_of_broken_link(incomplete)
        self.run_cron()
        self.assert_healthy_fetched_and_broken_recorded("ING client id")

    @freeze_time("2026-03-04 12:00:00")
    def test_failing_statement_build_undoes_only_that_account(self):
        original = StatementBuilder.import_transactions
        broken_id = self.broken.id

        def import_transactions(builder, transactions):
            lines = original(builder, transactions)
            if builder.account.id == broken_id:
                # Lines are written already: they must be undone too.
                raise KeyError("statement")
            return lines

        self.startPatcher(
            patch.object(StatementBuilder, "import_transactions", import_transactions)
        )
        self.run_cron()
        self.assert_healthy_fetched_and_broken_recorded("KeyError")

    @freeze_time("2026-03-04 12:00:00")
    def test_failing_reconciliation_undoes_only_that_account(self):
        Line = self.env.registry["account.bank.statement.line"]
        original = Line.action_nl_auto_reconcile
        broken_journal = self.broken.journal_id.id

        def reconcile(lines):
            if broken_journal in lines.journal_id.ids:
                raise ZeroDivisionError("matching")
            return original(lines)

        self.startPatcher(patch.object(Line, "action_nl_auto_reconcile", reconcile))
        # Matching runs as lines are created, as in production (OCA skips
        # it in tests unless asked).
        self.run_cron(_test_account_reconcile_oca=True)
        self.assert_healthy_fetched_and_broken_recorded("ZeroDivisionError")

    @freeze_time("2026-03-04 12:00:00")
    def test_failing_daily_limit_check_of_one_link_does_not_stop_the_others(self):
        Link = self.env.registry["account.bank.link"]
        broken_id = self.broken_link.id

        def provider_class(link):
            if link.id == broken_id:
                raise RuntimeError("bank module bug")
            return MemoryBank

        self.startPatcher(patch.object(Link, "_bank_link_provider_class", provider_class))
        self.run_cron()
        self.assert_healthy_fetched_and_broken_recorded("RuntimeError")

    @freeze_time("2026-03-04 12:00:00")
    def test_daily_limit_is_read_without_building_a_provider(self):
        """Building a provider loads keys and writes PEM files: the cron
        must not do that for accounts that are not due."""
        built = []
        Link = self.env.registry["account.bank.link"]
        original = Link._bank_link_get_provider

        def counting(link):
            built.append(link.id)
            return original(link)

        self.startPatcher(patch.object(Link, "_bank_link_get_provider", counting))
        self.run_cron()
        self.assertEqual(len(built), len(self.accounts))
        built.clear()
        # One hour later nobody is due (4 a day: every 6 hours).
        with freeze_time("2026-03-04 13:00:00"):
            self.run_cron()
        self.assertEqual(built, [])

    @freeze_time("2026-03-04 12:00:00")
    def test_texts_of_the_scheduled_fetch_are_in_the_cron_users_language(self):
        """The cron's context has no language: the link's error and its
        chatter come in the language of the user the cron runs as."""
        self.env.user.lang = "nl_NL"
        self.patch_provider_of_broken_link(lambda link: BuggyBank())
        self.env["account.bank.link.account"].with_context(lang=None)._cron_bank_link_fetch()
        self.env.invalidate_all()
        self.assertIn("onverwachte fout", self.broken_link.last_error)
        self.assertIn("onverwachte fout", self.broken_link.message_ids[0].body)
