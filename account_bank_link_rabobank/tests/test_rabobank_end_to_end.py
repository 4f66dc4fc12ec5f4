# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Rabobank end to end against the local sandbox: the consent on Rabobank's
pages, the first fetch with the one-time history over several pages, the
hourly access token renewed with a rotating refresh token, and the end of
the link."""

import datetime
from urllib.parse import parse_qsl

from .common import RabobankSandboxCase

TRANSACTIONS = "/transactions"
TOKEN = "/oauth2/token"


class TestRabobankEndToEnd(RabobankSandboxCase):
    def transaction_calls(self):
        return [entry for entry in self.bank_calls(TRANSACTIONS) if entry["method"] == "GET"]

    def test_link_and_first_fetch_take_the_history_once_over_pages(self):
        self.sandbox.clear_log()
        journal, account = self.link_and_fetch(days=120)
        calls = self.transaction_calls()
        self.assertGreater(len(calls), 2, "the fetch did not page")
        self.assertTrue(all(call["status"] == 200 for call in calls), calls)
        first = dict(parse_qsl(calls[0]["query"]))
        recent_from = self.bank_today - datetime.timedelta(days=90)
        self.assertLess(datetime.date.fromisoformat(first["dateFrom"]), recent_from,
                        "the first fetch did not ask for the history")
        # A later fetch asks for the recent days only, and adds nothing twice.
        self.sandbox.clear_log()
        self.sandbox.add_transactions("rabobank", self.iban, [{
            "days_ago": 0, "amount": "12.50", "counterparty_name": "Bakkerij Van der Meer B.V.",
            "counterparty_iban": "NL39RABO0123456789", "description": "Na het koppelen", "id": "RABO-AFTER",
        }])
        self.assert_fetch_succeeds(journal)
        lines = self.assert_complete(account)
        self.assertIn("Na het koppelen", " ".join(lines.mapped("payment_ref")))
        for call in self.transaction_calls():
            query = dict(parse_qsl(call["query"]))
            if "dateFrom" in query:
                self.assertGreaterEqual(datetime.date.fromisoformat(query["dateFrom"]), recent_from)

    def test_the_access_token_is_renewed_with_the_rotated_refresh_token(self):
        journal, account = self.link_and_fetch()
        secret = self.link._bank_link_secret()
        first_refresh_token = secret._get_token_set().refresh_token
        for _round in range(2):
            # Rabobank's access token lasts an hour.
            self.sandbox.advance_clock(2 * 3600, calendar=False)
            self.sandbox.clear_log()
            self.assert_fetch_succeeds(journal)
            refreshes = [e for e in self.bank_calls(TOKEN) if e["method"] == "POST"]
            self.assertEqual([e["status"] for e in refreshes], [200])
            self.assertNotIn("refresh_token_reused", [e.get("note") for e in refreshes])
        secret.invalidate_recordset()
        self.assertNotEqual(secret._get_token_set().refresh_token, first_refresh_token)
        self.assertEqual(self.link.state, "linked")
        self.assert_complete(account)

    def test_an_ended_consent_is_renewed_on_rabobanks_pages(self):
        journal, account = self.link_and_fetch()
        self.sandbox.end_consents("rabobank", "expire")
        self.sandbox.advance_clock(2 * 3600, calendar=False)
        params = self.fetch(journal)
        self.assertNotEqual(params["type"], "success")
        self.env.invalidate_all()
        self.assertEqual(self.link.state, "expired")
        self.give_consent(self.link)
        self.assert_fetch_succeeds(journal)
        self.assert_complete(account)

    def test_ending_the_link_forgets_its_tokens(self):
        journal, _account = self.link_and_fetch()
        self.link.with_user(self.user).action_revoke()
        self.env.invalidate_all()
        self.assertEqual(self.link.state, "revoked")
        self.assertFalse(self.link._bank_link_secret()._get_token_set())
        self.assertIn("keys were deleted", self.last_message(self.link))
        params = self.fetch(journal)
        self.assertEqual(params["type"], "danger")
