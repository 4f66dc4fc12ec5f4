# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ABN AMRO in the framework's conformance suite: the hooks of
``l10n_nl_bankkoppeling/tests/conformance.py`` for the first demo ABN AMRO
journal in the local bank sandbox (real HTTPS, mutual TLS, API key, the
bank's consent page: one account, TAN), with card payments that come
without transactionId."""

import datetime
from decimal import Decimal

from odoo.tests import HttpCase, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.l10n_nl_bankkoppeling.tests import conformance

from ..tools import abnamro_client, abnamro_provider

FIRST_IBAN = "NL91ABNA0417164300"
SECOND_IBAN = "NL09ABNA0532013000"
OPENING = {FIRST_IBAN: Decimal("8000.00"), SECOND_IBAN: Decimal("2500.00")}
#: Card payments (mutationCode 426) come without transactionId. Two alike
#: in every field on one day: only their number tells them apart.
CARD_ROWS = [
    {"days_ago": days_ago, "kind": "card", "amount": "-4.35", "counterparty_name": "Bakker Bart Utrecht",
     "time": "08:12:00", "card": {"terminal": "5GYV99", "card_number": "321", "city": "UTRECHT"}}
    for days_ago in (1, 1, 4)
]


class AbnAmroSandbox(conformance.SandboxBankCase):
    bank = "abnamro"
    provider_class = abnamro_provider.AbnAmroProvider
    retry_policy_class = abnamro_client.RetryPolicy
    iban = FIRST_IBAN
    journal_code = "ABN"
    opening_balance = OPENING[FIRST_IBAN]
    page_size_setting = "page_size"
    transactions_path = "/v1/accounts/*/transactions"
    token_path = "/as/token.oauth2"
    next_page_marker = "nextPageKey"
    api_prefix = "/v1/"
    access_token_seconds = 7200
    consent_withdrawn_code = "ERR_3002_099"
    #: The account the next consent at ABN AMRO's page is given for.
    consenting_iban = FIRST_IBAN

    @classmethod
    def adjust_scenario(cls, scenario):
        first = next(a for a in scenario["abnamro"]["accounts"] if a["iban"] == FIRST_IBAN)
        first["transactions"] = first.get("transactions", []) + CARD_ROWS
        return super().adjust_scenario(scenario)

    def approve(self, bank_page):
        self.assertTrue(bank_page.startswith(self.sandbox.abnamro_url + "/as/authorization.oauth2?"), bank_page)
        return self.sandbox.approve_abnamro(bank_page, iban=self.consenting_iban)

    def consent_for(self, start_url, iban):
        """The consent at ABN AMRO's page for the account ``iban``."""
        self.consenting_iban = iban
        try:
            return self.consent_at_the_bank(start_url)
        finally:
            self.consenting_iban = FIRST_IBAN

    def stored_refresh_token(self, account):
        # One consent, and its tokens, per account.
        return account.link_id._abnamro_consents().get(account.iban, {}).get("refresh_token")

    def assert_no_tokens_kept(self, link):
        self.assertEqual(link._abnamro_consents(), {})
        return super().assert_no_tokens_kept(link)

    def book_extra(self):
        # Alike the card payment of yesterday, but booked today.
        self.sandbox.add_transactions("abnamro", FIRST_IBAN, [dict(CARD_ROWS[0], days_ago=0)])
        return 1

    def assert_recovered(self, account):
        self.assert_card_rows_once(account)

    # -- card rows --------------------------------------------------------------

    def bank_rows(self, link, date_from, date_to):
        """The bank's own rows of the window, read from its API with the
        consent's access token (a plain GET: it changes nothing)."""
        consent = link._abnamro_consents()[FIRST_IBAN]
        session = self.sandbox.session("abnamro")
        headers = {"Authorization": f"Bearer {consent['access_token']}", "API-Key": self.sandbox.abnamro_api_key}
        params = {"bookDateFrom": date_from.isoformat(), "bookDateTo": date_to.isoformat()}
        rows = []
        while True:
            response = session.get(
                f"{self.sandbox.abnamro_url}/v1/accounts/{FIRST_IBAN}/transactions",
                params=params, headers=headers, timeout=30,
            )
            self.assertEqual(response.status_code, 200, response.text[:500])
            body = response.json()
            rows += body["transactions"]
            if not body.get("nextPageKey"):
                return rows
            params["nextPageKey"] = body["nextPageKey"]

    def card_lines(self, account):
        # Without a bank id the framework's identity is a fingerprint.
        return self.statement_lines(account).filtered(lambda ln: "fp:" in ln.unique_import_id)

    def assert_card_rows_once(self, account):
        """As many card lines in Odoo as card rows (no transactionId) at
        the bank, each day's alike rows included."""
        rows = self.bank_rows(account.link_id, account.start_date, self.bank_today)
        card_rows = [r for r in rows if not r["transactionId"]]
        self.assertTrue(card_rows)
        self.assertTrue(all(r["mutationCode"] == "426" for r in card_rows))
        lines = self.card_lines(account)
        self.assertEqual(len(lines), len(card_rows))
        for day in {r["bookDate"] for r in card_rows}:
            bank = sorted(str(r["amount"]) for r in card_rows if r["bookDate"] == day)
            odoo = sorted("%.2f" % line.amount for line in lines if line.date == datetime.date.fromisoformat(day))
            self.assertEqual(odoo, [("%.2f" % float(a)) for a in bank], day)
        return lines


@tagged("post_install", "-at_install")
class AbnAmroSandboxCase(AbnAmroSandbox, AccountTestInvoicingCommon, HttpCase):
    """The first demo ABN AMRO journal linked through the sandbox, for other
    addons' tests that need a working ABN AMRO link to start from."""
