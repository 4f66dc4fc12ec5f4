# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Rabobank passes the framework's conformance suite against the local bank
sandbox (consent, refresh with a rotating refresh token, paging, the fault
matrix, the OAuth state), plus what only Rabobank does: the history older
than 90 days, given once right after the consent."""

import datetime
from urllib.parse import parse_qsl

from odoo.tests import tagged

from odoo.addons.l10n_nl_bankkoppeling.tests import conformance

from .common import RabobankSandboxCase


@tagged("post_install", "-at_install")
class TestRabobankConformance(conformance.SandboxConformance, RabobankSandboxCase):
    def rabobank_transaction_calls(self, since):
        return [entry for entry in self.transaction_calls(since) if entry["method"] == "GET"]

    def test_first_fetch_takes_the_history_once(self):
        since = self.log_position()
        journal, account = self.link_and_fetch(days=120)
        calls = self.rabobank_transaction_calls(since)
        self.assertGreater(len(calls), 2, "the fetch did not page")
        self.assertTrue(all(call["status"] == 200 for call in calls), calls)
        first = dict(parse_qsl(calls[0]["query"]))
        recent_from = self.bank_today - datetime.timedelta(days=90)
        self.assertLess(datetime.date.fromisoformat(first["dateFrom"]), recent_from,
                        "the first fetch did not ask for the history")
        # A later fetch asks for the recent days only, and adds nothing twice.
        since = self.log_position()
        new_ids = self.book_new_transactions()
        self.assert_fetch_succeeds(journal)
        self.assert_complete(account, new_ids)
        later = self.rabobank_transaction_calls(since)
        self.assertTrue(later)
        for call in later:
            query = dict(parse_qsl(call["query"]))
            if "dateFrom" in query:
                self.assertGreaterEqual(datetime.date.fromisoformat(query["dateFrom"]), recent_from)

    def test_ending_the_link_forgets_its_tokens(self):
        journal, _account = self.link_and_fetch()
        self.link.with_user(self.user).action_revoke()
        self.env.invalidate_all()
        self.assertEqual(self.link.state, "revoked")
        self.assertFalse(self.link._bank_link_secret()._get_token_set())
        self.assertIn("keys were deleted", self.last_message(self.link))
        params = self.fetch(journal)
        self.assertEqual(params["type"], "danger")
