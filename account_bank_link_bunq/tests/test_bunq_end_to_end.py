# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""bunq end to end against the local sandbox: the consent on bunq's page
(the access token becomes the API key of the link's own API context), the
first fetch over several pages (``older_id``), the session that ends and is
renewed on the same installation, an answer with a bad server signature
refused with nothing imported, and the end of the link."""

import datetime
from urllib.parse import parse_qsl

from .common import BunqSandboxCase

PAYMENTS = "/payment"
SESSION_SERVER = "/v1/session-server"
INSTALLATION = "/v1/installation"
#: The customer's session lasts bunq's default auto-logout, a week (scenario.py).
SESSION_SECONDS = 7 * 86400


class TestBunqEndToEnd(BunqSandboxCase):
    def payment_calls(self):
        return [entry for entry in self.bank_calls(PAYMENTS) if entry["method"] == "GET"]

    def posts(self, path):
        return [entry for entry in self.sandbox.log(self.bank) if entry["path"] == path and entry["method"] == "POST"]

    def test_link_builds_an_api_context_kept_as_secrets_only(self):
        self.sandbox.clear_log()
        self.give_consent(self.link)
        # bunq's OAuth token became the API key of a context of our own.
        self.assertEqual([e["status"] for e in self.posts(INSTALLATION)], [200])
        self.assertEqual([e["status"] for e in self.posts(SESSION_SERVER)], [200])
        tokens = self.link._bank_link_secret()._get_token_set()
        self.assertIn('"bunq_context":1', tokens.access_token)
        self.assertTrue(tokens.refresh_token)
        self.assertTrue(tokens.expires_at)
        # Nothing of the context in the link's chatter or in an attachment.
        bodies = " ".join(self.env["mail.message"].search(
            [("model", "=", "account.bank.link"), ("res_id", "=", self.link.id)]).mapped("body"))
        self.assertNotIn(tokens.refresh_token, bodies)
        self.assertNotIn("PRIVATE KEY", bodies)
        self.assertFalse(self.env["ir.attachment"].sudo().search_count(
            [("res_model", "in", ("account.bank.link", "account.bank.link.secret"))]))
        # The consent covers bunq Zakelijk (the savings account is not offered).
        self.assertEqual(self.link.account_ids.mapped("iban"), [self.iban])

    def test_the_first_fetch_pages_back_and_a_second_adds_only_the_new(self):
        self.sandbox.clear_log()
        journal, account = self.link_and_fetch()
        calls = self.payment_calls()
        self.assertGreater(len(calls), 2, "the fetch did not page")
        self.assertTrue(all(call["status"] == 200 for call in calls), calls)
        self.assertTrue(any("older_id" in dict(parse_qsl(call["query"])) for call in calls), calls)
        payer_iban = self.demo_data.make_iban("RABO", "0123456789")
        self.sandbox.add_transactions("bunq", self.iban, [{
            "days_ago": 0, "amount": "12.50", "counterparty_name": "Bakkerij Van der Meer B.V.",
            "counterparty_iban": payer_iban, "description": "Na het koppelen", "id": "BUNQ-AFTER",
        }])
        self.assert_fetch_succeeds(journal)
        lines = self.assert_complete(account)
        line = lines.filtered(lambda row: "Na het koppelen" in (row.payment_ref or ""))
        self.assertEqual(len(line), 1)
        self.assertEqual(line.partner_name, "Bakkerij Van der Meer B.V.")
        self.assertEqual(line.account_number.replace(" ", ""), payer_iban)

    def test_an_ended_session_is_renewed_on_the_same_installation(self):
        journal, account = self.link_and_fetch()
        first = self.link._bank_link_secret()._get_token_set()
        self.sandbox.advance_clock(SESSION_SECONDS + 3600, calendar=False)
        self.sandbox.clear_log()
        self.sandbox.add_transactions("bunq", self.iban, [{
            "days_ago": 0, "amount": "-7.95", "counterparty_name": "Makro Nieuwegein",
            "counterparty_iban": self.demo_data.make_iban("INGB", "0001234567"), "description": "Na de sessie",
            "id": "BUNQ-SESSION",
        }])
        self.assert_fetch_succeeds(journal)
        self.assertEqual([e["status"] for e in self.posts(SESSION_SERVER)], [200])
        self.assertEqual(self.posts(INSTALLATION), [], "a new session needs no new installation")
        secret = self.link._bank_link_secret()
        secret.invalidate_recordset()
        renewed = secret._get_token_set()
        self.assertNotEqual(renewed.access_token, first.access_token)
        self.assertEqual(renewed.refresh_token, first.refresh_token, "the API key stays")
        self.assertGreater(renewed.expires_at, first.expires_at)
        self.assertEqual(self.link.state, "linked")
        self.assert_complete(account)

    def test_a_session_bunq_ends_early_is_renewed_too(self):
        journal, account = self.link_and_fetch()
        self.sandbox.set_faults({"path": "/v1/user/*/monetary-account/*", "error": "expire_session",
                                 "bank": "bunq"})
        self.sandbox.clear_log()
        self.assert_fetch_succeeds(journal)
        self.assertEqual([e["status"] for e in self.posts(SESSION_SERVER)], [200])
        self.assertEqual(self.link.state, "linked")
        self.assert_complete(account)

    def test_an_answer_with_a_bad_server_signature_is_refused_and_nothing_imported(self):
        self.give_consent(self.link)
        account = self.link.account_ids.filtered(lambda a: a.iban == self.iban)
        account.write({"journal_id": self.journal.id,
                       "start_date": self.bank_today - datetime.timedelta(days=70)})
        # The payments' answers are not bunq's: the whole fetch stops.
        self.sandbox.set_faults({"path": "/v1/user/*/monetary-account/*/payment", "error": "bad_server_signature",
                                 "bank": "bunq", "count": None})
        self.sandbox.clear_log()
        params = self.fetch(self.journal.with_user(self.user))
        self.assertNotEqual(params["type"], "success")
        # bunq's sandbox answered (200): the refusal is the client's check.
        self.assertTrue(self.payment_calls())
        self.assertTrue(all(call["status"] == 200 for call in self.payment_calls()))
        self.assertFalse(self.statement_lines(account), "lines of an unsigned answer were imported")
        self.env.invalidate_all()
        self.assertTrue(self.link.last_error)
        self.sandbox.clear_faults()
        self.assert_fetch_succeeds(self.journal.with_user(self.user))
        self.assert_complete(account)

    def test_ending_the_link_forgets_its_context(self):
        journal, _account = self.link_and_fetch()
        self.sandbox.clear_log()
        self.link.with_user(self.user).action_revoke()
        self.env.invalidate_all()
        self.assertEqual(self.link.state, "revoked")
        self.assertFalse(self.link._bank_link_secret()._get_token_set())
        self.assertIn("keys were deleted", self.last_message(self.link))
        self.assertTrue([e for e in self.sandbox.log(self.bank) if e["method"] == "DELETE"],
                        "bunq's session was not ended")
        params = self.fetch(journal)
        self.assertEqual(params["type"], "danger")
