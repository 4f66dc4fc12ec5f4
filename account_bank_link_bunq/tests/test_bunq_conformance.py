# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""bunq passes the framework's conformance suite against the local bank
sandbox: consent on bunq's page, the session renewed as the framework's
refresh, paging with ``older_id``, the fault matrix and the OAuth state.

What bunq does differently, as hooks: no mutual TLS (every API call is
signed with the link's own key and carries its session token instead); the
"refresh" is a new session (``POST /v1/session-server``) on the same
installation, and the API key (the customer's OAuth access token) stays;
pages are asked with ``count`` by the client, not set by the bank; a
payment's identity is bunq's own numeric id, so a booking of the suite is
found by its description; bunq does not tell a withdrawn grant from an
ended one (both: a refused new session, "consent needed again")."""

import dataclasses
import re
from decimal import Decimal

from odoo.tests import HttpCase, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.l10n_nl_bankkoppeling.tests import conformance

from ..tools import bunq_client, bunq_provider
from .common import BUNQ_IBAN, OPENING_BALANCE

SESSION_SERVER = "/v1/session-server"


@tagged("post_install", "-at_install")
class TestBunqConformance(conformance.SandboxConformance, AccountTestInvoicingCommon, HttpCase):
    bank = "bunq"
    provider_class = bunq_provider.BunqProvider
    retry_policy_class = bunq_client.RetryPolicy
    iban = BUNQ_IBAN
    journal_code = "BUNQ"
    opening_balance = Decimal(OPENING_BALANCE)
    transactions_path = "/v1/user/*/monetary-account/*/payment"
    token_path = SESSION_SERVER
    next_page_marker = "older_id"
    api_prefix = "/v1/user/"
    # The customer's session lasts bunq's default auto-logout, a week (scenario.py).
    access_token_seconds = 7 * 86400
    consent_withdrawn_code = None

    @classmethod
    def adjust_scenario(cls, scenario):
        """bunq's client asks for its page size (``count``): see setUp."""

    def setUp(self):
        super().setUp()
        patched = self.provider_class.__init__
        test = self

        def small_pages(provider, config, **kwargs):
            patched(provider, dataclasses.replace(config, page_count=test.page_size), **kwargs)

        self.patch(self.provider_class, "__init__", small_pages)

    def approve(self, bank_page):
        return self.sandbox.approve_bunq(bank_page)

    def assert_api_calls_authenticated(self, api_calls):
        # No mTLS at bunq: each call carries the session (checked by the
        # sandbox, 401 otherwise) and was answered.
        self.assertTrue(all(e["status"] < 500 or e.get("fault") for e in api_calls))

    def transaction_calls(self, since):
        return [e for e in self.bank_log(since) if e["path"].endswith("/payment") and e["method"] == "GET"]

    def refreshes(self, since=0):
        return [e for e in self.bank_log(since) if e["path"] == SESSION_SERVER and e["method"] == "POST"]

    def lines_of_booking(self, lines, bank_id):
        # The suite's bank id FAULT-BUNQ-<test>-<batch><number:03d> and its
        # description "Fault test <batch>-<number>" (book_new_transactions).
        tail = bank_id.rsplit("-", 1)[1]
        pattern = re.compile(rf"Fault test {tail[:-3]}-{int(tail[-3:])}\b")
        return lines.filtered(lambda ln: pattern.search(ln.payment_ref or ""))

    def test_bank_says_consent_withdrawn(self):
        """bunq has no error code for a withdrawn grant: the grant withdrawn
        in the bunq app shows as a refused new session, which asks for a
        renewal like an ended consent; renewing brings everything back."""
        self.assert_fault_then_recovery(
            self.on_page_three(error="revoke_consent"), "expired", conformance.CONSENT_ENDED, renew=True
        )
