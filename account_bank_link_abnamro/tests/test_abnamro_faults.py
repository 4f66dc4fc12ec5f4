# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the user sees when ABN AMRO misbehaves during a fetch, against the
local bank sandbox over real HTTPS with mutual TLS (nothing mocked but the
waits between retries): each fault ends in the right link state with a
chatter message, the failed fetch imports nothing, and the next fetch brings
every transaction of the bank exactly once, card payments without
transactionId included."""

import datetime

from odoo.tests import tagged

from .common import CARD_ROWS, AbnAmroSandboxCase
from .test_abnamro_end_to_end import FIRST_IBAN

TRANSACTIONS = "/v1/accounts/*/transactions"
TOKEN = "/as/token.oauth2"
#: Let the first two pages of the next fetch through: a "time-out" of zero
#: seconds answers normally, so the real fault hits page 3.
FIRST_TWO_PAGES_PASS = {"path": TRANSACTIONS, "bank": "abnamro", "error": "timeout", "seconds": 0, "count": 2}

TRANSIENT = "The bank could not be reached or gave an incomplete answer"
CONSENT_ENDED = "The consent at the bank has ended"


@tagged("post_install", "-at_install")
class TestAbnAmroFaults(AbnAmroSandboxCase):
    def book_new_transactions(self):
        """Four bookings and a card payment arrive at the bank after the
        first fetch: today, and in the days the next fetch reads again."""
        bookings = [
            (0, "1210.00", "Bakkerij Het Oosten B.V."),
            (0, "-86.35", "Makro Amsterdam"),
            (1, "333.33", "Lunchroom De Wit"),
            (3, "-1200.00", "Verhuur Pand B.V."),
        ]
        ids = []
        for number, (days_ago, amount, name) in enumerate(bookings, start=1):
            bank_id = f"FAULT-ABN-{self._testMethodName[-6:]}-{number:04d}"
            ids.append(bank_id)
            self.sandbox.add_transactions(
                "abnamro",
                FIRST_IBAN,
                [
                    {
                        "days_ago": days_ago,
                        "amount": amount,
                        "counterparty_name": name,
                        "counterparty_iban": "NL91ABNA0417164300",
                        "description": f"Fault test {number}",
                        "id": bank_id,
                    }
                ],
            )
        # Alike the card payment of yesterday, but booked today.
        self.sandbox.add_transactions("abnamro", FIRST_IBAN, [dict(CARD_ROWS[0], days_ago=0)])
        return ids

    def transaction_calls(self, since):
        return [e for e in self.sandbox.log(bank="abnamro", since=since) if e["path"].endswith("/transactions")]

    def fetch_attempts(self):
        return self.env["account.bank.link.fetch"].search([], order="id desc")

    def log_position(self):
        log = self.sandbox.log(bank="abnamro")
        return log[-1]["seq"] if log else 0

    def assert_fault_then_recovery(self, faults, state, message, *, cron=False, renew=False, renew_hint="Renew"):
        """The whole story of one fault: a linked journal, new bookings at
        the bank, a fetch that meets ``faults``, then the fault gone."""
        journal, account = self.link_and_fetch()
        link = account.link_id
        before = self.statement_lines(account)
        new_ids = self.book_new_transactions()
        since = self.log_position()
        self.sandbox.set_faults(faults)

        if cron:
            self.env["account.bank.link.account"]._cron_bank_link_fetch()
            self.env.invalidate_all()
        else:
            params = self.fetch(journal)
            self.assertEqual(params["type"], "danger", params["message"])
            self.assertIn(message, params["message"])
        self.assertEqual(link.state, state)
        self.assertIn(message, link.last_error)
        self.assertTrue(link.last_error_at)
        self.assert_told(journal, link, link.last_error)
        # Nothing of the failed fetch is imported, not even the pages that
        # came in before the fault.
        self.assertEqual(self.statement_lines(account), before)
        attempt = self.env["account.bank.link.fetch"].search(
            [("link_account_id", "=", account.id)], limit=1
        )
        self.assertEqual(attempt.state, "failed")
        self.assertEqual(attempt.unattended, cron)
        self.assertEqual(attempt.message, link.last_error)

        self.sandbox.clear_faults()
        if renew:
            # A fetch without consent asks for none at the bank.
            params = self.fetch(journal)
            self.assertEqual(params["type"], "danger")
            if renew_hint:
                self.assertIn(renew_hint, params["message"])
            self.assertEqual(self.statement_lines(account), before)
            self.give_consent(link)
        self.assert_fetch_succeeds(journal)
        self.assertEqual(link.state, "linked")
        self.assertFalse(link.last_error)
        lines = self.assert_complete(account, new_ids)
        self.assertEqual(len(lines), len(before) + len(new_ids) + 1)
        self.assert_card_rows_once(account)
        return since

    def assert_fault_hit_page_three(self, since):
        calls = self.transaction_calls(since)
        self.assertEqual([c["status"] for c in calls[:2]], [200, 200])
        # Page 2 was asked with ABN AMRO's nextPageKey: page 3 is the third.
        self.assertIn("nextPageKey", str(calls[1]["query"]))
        self.assertNotIn(calls[2].get("fault"), (None, "timeout"))

    # ------------------------------------------------------------ faults

    def test_401_on_page_three_that_persists(self):
        since = self.assert_fault_then_recovery(
            [FIRST_TWO_PAGES_PASS, {"path": TRANSACTIONS, "error": "401", "count": None}],
            "error",
            TRANSIENT,
        )
        self.assert_fault_hit_page_three(since)
        # The framework refreshed the access token once and asked again.
        refreshes = [
            e for e in self.sandbox.log(bank="abnamro", since=since) if e.get("grant_type") == "refresh_token"
        ]
        self.assertTrue(refreshes)
        self.assertEqual(refreshes[0]["status"], 200)

    def test_401_once_is_a_refresh_not_an_error(self):
        journal, account = self.link_and_fetch()
        new_ids = self.book_new_transactions()
        since = self.log_position()
        self.sandbox.set_faults([FIRST_TWO_PAGES_PASS, {"path": TRANSACTIONS, "error": "401"}])
        self.assert_fetch_succeeds(journal)
        self.assertEqual(account.link_id.state, "linked")
        self.assert_complete(account, new_ids)
        self.assertTrue(
            [e for e in self.sandbox.log(bank="abnamro", since=since) if e.get("grant_type") == "refresh_token"]
        )

    def test_403_on_page_three(self):
        since = self.assert_fault_then_recovery(
            [FIRST_TWO_PAGES_PASS, {"path": TRANSACTIONS, "error": "403"}],
            "error",
            "The bank refuses access to this account",
        )
        self.assert_fault_hit_page_three(since)

    def test_429_on_page_three_after_retries(self):
        since = self.assert_fault_then_recovery(
            [FIRST_TWO_PAGES_PASS, {"path": TRANSACTIONS, "error": "429", "retry_after": 2, "count": None}],
            "error",
            "The bank asks to fetch less often",
        )
        self.assert_fault_hit_page_three(since)
        # Every attempt waited as long as the bank asked.
        self.assertEqual(self.sleeps[:3], [2.0] * 3)

    def test_429_and_500_that_pass_are_retried_without_doubles(self):
        journal, account = self.link_and_fetch()
        new_ids = self.book_new_transactions()
        self.sandbox.set_faults(
            [
                FIRST_TWO_PAGES_PASS,
                {"path": TRANSACTIONS, "error": "429", "retry_after": 1},
                {"path": TRANSACTIONS, "error": "500", "count": 2},
            ]
        )
        self.assert_fetch_succeeds(journal)
        self.assertEqual(account.link_id.state, "linked")
        self.assertEqual(len(self.sleeps), 3)
        self.assert_complete(account, new_ids)

    def test_500_on_page_three_in_the_scheduled_fetch(self):
        since = self.assert_fault_then_recovery(
            [FIRST_TWO_PAGES_PASS, {"path": TRANSACTIONS, "error": "500", "count": None}],
            "error",
            TRANSIENT,
            cron=True,
        )
        self.assert_fault_hit_page_three(since)
        # Backoff 1, 2, 4 s between the four attempts.
        self.assertEqual(self.sleeps[:3], [1.0, 2.0, 4.0])

    def test_time_out_on_page_three(self):
        self.client_timeout = 1.0
        self.retry_policy = self.retry_policy.__class__(max_attempts=2)
        self.assert_fault_then_recovery(
            [FIRST_TWO_PAGES_PASS, {"path": TRANSACTIONS, "error": "timeout", "seconds": 2.5, "count": 2}],
            "error",
            TRANSIENT,
        )
        failed = self.fetch_attempts()[1]
        self.assertIn("did not answer (transactions page 3) after 2 attempt(s)", failed.message)
        self.assertEqual(len(self.sleeps), 1)

    def test_page_three_cut_short(self):
        since = self.assert_fault_then_recovery(
            [FIRST_TWO_PAGES_PASS, {"path": TRANSACTIONS, "error": "truncate"}], "error", TRANSIENT
        )
        self.assert_fault_hit_page_three(since)

    def test_page_three_malformed(self):
        since = self.assert_fault_then_recovery(
            [FIRST_TWO_PAGES_PASS, {"path": TRANSACTIONS, "error": "malformed"}], "error", TRANSIENT
        )
        self.assert_fault_hit_page_three(since)

    def test_token_endpoint_unavailable_while_refreshing(self):
        # The access token (7200 s) has expired: the fetch must refresh, and
        # ABN AMRO's token endpoint is down. The consent itself is fine.
        journal, account = self.link_and_fetch()
        self.sandbox.advance_clock(7300, calendar=False)
        new_ids = self.book_new_transactions()
        self.sandbox.set_faults({"path": TOKEN, "method": "POST", "error": "503", "count": None})
        params = self.fetch(journal)
        self.assertEqual(params["type"], "danger")
        link = account.link_id
        self.assertEqual(link.state, "error")
        self.assertIn(TRANSIENT, link.last_error)
        self.assert_told(journal, link, link.last_error)
        self.sandbox.clear_faults()
        self.assert_fetch_succeeds(journal)
        self.assertEqual(link.state, "linked")
        self.assert_complete(account, new_ids)

    def test_consent_expires_during_the_fetch(self):
        self.assert_fault_then_recovery(
            [FIRST_TWO_PAGES_PASS, {"path": TRANSACTIONS, "error": "expire_consent"}],
            "expired",
            CONSENT_ENDED,
            renew=True,
        )

    def test_consent_revoked_during_the_fetch(self):
        # ABN AMRO answers a revoked consent as an expired one (401, then a
        # refused refresh; bank-protocols.md: "consent needed again"), so
        # the link asks for a renewal.
        self.assert_fault_then_recovery(
            [FIRST_TWO_PAGES_PASS, {"path": TRANSACTIONS, "error": "revoke_consent"}],
            "expired",
            CONSENT_ENDED,
            renew=True,
        )

    def test_bank_says_consent_withdrawn(self):
        # When the bank does say so (403, "consent ... revoked"), the link
        # is revoked rather than expired; renewing brings everything back.
        self.assert_fault_then_recovery(
            [
                FIRST_TWO_PAGES_PASS,
                {"path": TRANSACTIONS, "error": "403", "code": "ERR_3002_099",
                 "message": "The consent was revoked by the account holder"},
            ],
            "revoked",
            "The bank reports that the consent was withdrawn",
            renew=True,
            renew_hint="Renew",
        )


    def test_consent_ended_keeps_no_tokens(self):
        journal, account = self.link_and_fetch()
        self.sandbox.end_consents("abnamro", "revoke")
        params = self.fetch(journal)
        self.assertEqual(params["type"], "danger")
        self.assertEqual(account.link_id.state, "expired")
        # The dead consent's tokens are wiped, not kept around.
        self.assertEqual(account.link_id._abnamro_consents(), {})
        self.assertEqual(journal.bank_link_state, "expired")

    # ------------------------------------------------------------ card rows

    def card_lines(self, account):
        # Without a bank id the framework's identity is a fingerprint.
        return self.statement_lines(account).filtered(lambda ln: "fp:" in ln.unique_import_id)

    def assert_card_rows_once(self, account):
        """As many card lines in Odoo as card rows (no transactionId) at
        the bank, each day's alike rows included."""
        start = account.start_date
        rows = self.bank_rows(account.link_id, start, self.bank_today)
        card_rows = [r for r in rows if not r["transactionId"]]
        self.assertTrue(card_rows)
        self.assertTrue(all(r["mutationCode"] == "426" for r in card_rows))
        lines = self.card_lines(account)
        self.assertEqual(len(lines), len(card_rows))
        for day in {r["bookDate"] for r in card_rows}:
            bank = sorted(str(r["amount"]) for r in card_rows if r["bookDate"] == day)
            odoo = sorted(
                "%.2f" % line.amount
                for line in lines
                if line.date == datetime.date.fromisoformat(day)
            )
            self.assertEqual(odoo, [("%.2f" % float(a)) for a in bank], day)
        return lines

    def test_card_rows_once_across_three_fetches(self):
        journal, account = self.link_and_fetch()
        first = self.assert_card_rows_once(account)
        yesterday = self.bank_today - datetime.timedelta(days=1)
        self.assertEqual(len(first.filtered(lambda ln: ln.date == yesterday and ln.amount == -4.35)), 2)
        # Fetch 2 reads the last days again (overlap): nothing new.
        self.assert_fetch_succeeds(journal)
        self.assertEqual(self.card_lines(account), first)
        # A third card payment alike the two of yesterday is booked late on
        # yesterday, and one today: fetch 3 adds exactly those two.
        self.sandbox.add_transactions("abnamro", FIRST_IBAN, [dict(CARD_ROWS[0]), dict(CARD_ROWS[0], days_ago=0)])
        self.assert_fetch_succeeds(journal)
        third = self.assert_card_rows_once(account)
        self.assertEqual(len(third - first), 2)
        self.assertEqual(len(third.filtered(lambda ln: ln.date == yesterday and ln.amount == -4.35)), 3)
        self.assert_complete(account)
        self.assertLessEqual(account.last_fetched_date - datetime.timedelta(days=account.overlap_days), yesterday)
