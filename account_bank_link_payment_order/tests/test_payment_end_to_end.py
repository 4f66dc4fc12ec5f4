# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""End to end against the local bank sandbox (real HTTPS, mutual TLS, HTTP
signatures, the banks' Dutch approval pages with TAN): an ING payment order
and an ABN AMRO direct-debit order from creation to executed and to the
reconciled batch line on the fetched statement; rejection and sending
again; double sending refused; every generated file against its XSD."""

import datetime
import hashlib
import json
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import html2plaintext

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.l10n_nl_bankkoppeling.tests.common import run_fetch
from odoo.addons.l10n_nl_bankkoppeling.tests.conformance import (
    DEMO_SCENARIO,
    import_repo_helpers,
)
from odoo.addons.l10n_nl_bankkoppeling.tests.route_helpers import confirm

from .common import PaymentOrderMixin

ING_IBAN = "NL67INGB0006543210"
ABN_IBAN = "NL91ABNA0417164300"
PASSWORD = "betaler-korenaar-1"


@tagged("post_install", "-at_install")
class TestPaymentEndToEnd(PaymentOrderMixin, AccountTestInvoicingCommon, HttpCase):
    country_code = "NL"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sandbox, demo_data = import_repo_helpers()
        cls.sandbox = cls.enterClassContext(
            sandbox.running_sandbox(scenario=json.loads(DEMO_SCENARIO.read_text())))
        cls.company = cls.company_data["company"]
        cls.company.company_registry = "81234567"
        cls.journals = demo_data.ensure_journals(cls.env(su=True), cls.company, remember_ids=False)
        cls.links = demo_data.ensure_bank_links(
            cls.env(su=True), cls.company,
            {"ing": cls.sandbox.ing_url, "abnamro": cls.sandbox.abnamro_url,
             "certs": str(cls.sandbox.certs.directory)}, remember_ids=False)
        cls.setup_payment_data()

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        self.bank_today = datetime.date.fromisoformat(self.sandbox.info()["today"])
        self.authenticate(self.sender.login, PASSWORD)

    # ----------------------------------------------------------- helpers

    def link(self, provider, code, iban):
        """The framework's consent (start route, bank page with TAN,
        callback); the account then feeds the demo journal."""
        link = self.links[provider]
        start = link.with_user(self.sender).sudo().action_start_consent()["url"]
        response = confirm(self, start)
        self.assertEqual(response.status_code, 303, response.text[:500])
        bank_page = response.headers["Location"]
        if provider == "ing":
            link._bank_link_registration().client_id = dict(parse_qsl(urlsplit(bank_page).query))["client_id"]
            back = self.sandbox.approve_ing(bank_page)
        else:
            back = self.sandbox.approve_abnamro(bank_page, iban=iban)
        response = self.url_open("/bank_link/callback?" + urlsplit(back).query,
                                 allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.env.invalidate_all()
        account = link.account_ids.filtered(lambda a: a.iban == iban)
        account.sudo().write({"journal_id": self.journals[code].id,
                              "start_date": self.bank_today - datetime.timedelta(days=5)})
        return account

    def send(self, order):
        """'Send to bank' as the user clicks it: the start route's answer."""
        action = order.with_user(self.sender).action_bank_send()
        response = confirm(self, action["url"])
        self.assertEqual(response.status_code, 303, response.text[:1000])
        return response.headers["Location"]

    def come_back(self, url):
        response = self.url_open(urlsplit(url).path + "?" + urlsplit(url).query,
                                 allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:1000])
        self.env.invalidate_all()
        return response.headers["Location"]

    def chatter(self, order):
        messages = self.env["mail.message"].search(
            [("model", "=", order._name), ("res_id", "=", order.id)], order="id desc")
        return "\n".join(html2plaintext(m.body) for m in messages if m.body)

    def fetch(self, code):
        """'Fetch now' and the background fetch; the statement lines are
        reconciled as they are created, as outside tests (the OCA switches
        that off under test unless told)."""
        env = self.env(context=dict(self.env.context, _test_account_reconcile_oca=True))
        params = run_fetch(env, self.journals[code].with_env(env).with_user(self.sender))
        self.assertEqual(params["type"], "success", params["message"])

    def batch_line(self, journal, order):
        return self.env["account.bank.statement.line"].search([
            ("journal_id", "=", journal.id),
            ("amount", "=", (-1 if order.payment_type == "outbound" else 1)
             * order.bank_submission_id.amount_total)])

    # ------------------------------------------------------------- tests

    def test_ing_payment_order_from_bills_to_reconciled_batch_line(self):
        account = self.link("ing", "ING", ING_IBAN)
        self.assertTrue(account.carries_payments)
        self.assertFalse(account.carries_direct_debits, "ING's PSD2 API has no direct debits")
        order, bills = self.make_order("out", "ING", [1210.00, 99.95, 2359.50])
        self.assertEqual(order.bank_send_mode, "api")
        approval = self.send(order)
        self.assertTrue(approval.startswith(self.sandbox.ing_url + "/payment-initiation/"))
        xml = self.order_file(order)
        self.assert_valid_pain(xml, "pain.001.001.03")
        submission = order.bank_submission_id
        self.assertEqual(submission.state, "received")
        self.assertEqual(submission.file_hash, hashlib.sha256(xml).hexdigest())
        at_bank = self.sandbox.payment(submission.bank_payment_id)
        self.assertEqual(Decimal(str(at_bank["total"])), Decimal("3669.45"))
        self.assertEqual(at_bank["account"], ING_IBAN)

        # The user signs with the TAN and comes back to the order.
        back = self.sandbox.approve_payment(approval)
        landing = self.come_back(back)
        self.assertIn(f"id={order.id}", landing)
        self.assertEqual((submission.state, submission.iso_status), ("accepted", "ACCP"))
        self.assertEqual(order.state, "uploaded")
        # The return address is single-use.
        again = self.url_open(urlsplit(back).path + "?" + urlsplit(back).query,
                              allow_redirects=False)
        self.assertEqual(again.status_code, 400)

        self.sandbox.advance_payment(submission.bank_payment_id, to="executed")
        order.with_user(self.sender).action_bank_refresh_status()
        self.assertEqual((submission.state, submission.iso_status), ("executed", "ACSC"))
        self.assertIn("ACSC", self.chatter(order))

        self.fetch("ING")
        line = self.batch_line(self.journals["ING"], order)
        self.assertEqual(len(line), 1, "one bank line for the whole batch")
        self.assertTrue(line.is_reconciled)
        self.assertEqual(submission.statement_line_id, line)
        self.assertEqual(set(bills.mapped("payment_state")), {"paid"})
        self.assertIn("reconciled with its 2 payments", self.chatter(order))

    def test_rejected_order_is_sent_again_and_never_twice(self):
        self.link("ing", "ING", ING_IBAN)
        order, _bills = self.make_order("out", "ING", [410.00, 75.25])
        approval = self.send(order)
        with self.assertRaisesRegex(UserError, "not sent twice"):
            order.with_user(self.sender).action_bank_send()
        # The same start address again is refused too.
        first = order.bank_submission_id
        response = self.url_open(f"/bank_link/payment/start/{first.id}", allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        self.assertIn("not sent twice", response.text)

        # At the bank the user presses "Annuleren": rejected with CUST.
        self.come_back(self.sandbox.cancel_payment(approval))
        self.assertEqual((first.state, first.reason_code), ("rejected", "CUST"))
        self.assertEqual(order.bank_state, "rejected")
        self.assertEqual(order.state, "generated", "nothing was posted for a rejected batch")
        self.assertIn("CUST", self.chatter(order))

        # Sent again: a new sending with a new key; the bank accepts it.
        approval = self.send(order)
        second = order.bank_submission_id
        self.assertNotEqual(second, first)
        self.assertNotEqual(second.idempotency_key, first.idempotency_key)
        self.come_back(self.sandbox.approve_payment(approval))
        self.assertEqual(second.state, "accepted")
        self.sandbox.reject_payment(second.bank_payment_id, "AM04")
        # The scheduled status check (every 15 minutes) finds the rejection.
        self.env["account.payment.order.bank.submission"]._cron_refresh_status()
        self.assertEqual((second.state, second.reason_code), ("rejected", "AM04"))
        self.assertIn("Onvoldoende saldo", second.reason_text)
        self.assertEqual(len(self.sandbox.payments("ing")), 2)

    def test_bank_refuses_a_duplicate_and_the_order_says_so(self):
        self.link("ing", "ING", ING_IBAN)
        order, _bills = self.make_order("out", "ING", [12.00])
        self.send(order)
        first = order.bank_submission_id
        # "Not at the bank" only applies to a sending whose answer was lost.
        first.with_user(self.sender).action_mark_not_sent()
        self.assertEqual(first.state, "received")
        # Say the answer was lost and someone clicked "not at the bank" by
        # mistake: the bank's own duplicate refusal stops a second payment.
        first.sudo().state = "unknown"
        first.with_user(self.sender).action_mark_not_sent()
        again = order.with_user(self.sender).action_bank_send()
        second = order.bank_submission_id
        confirm(self, again["url"])
        self.env.invalidate_all()
        self.assertEqual(second.state, "unknown")
        self.assertIn("AM05", second.reason_text or "")
        self.assertEqual(len(self.sandbox.payments("ing")), 1)

    def test_abnamro_direct_debit_order_to_reconciled_batch_line(self):
        account = self.link("abnamro", "ABN", ABN_IBAN)
        self.assertTrue(account.carries_direct_debits)
        customers = [self.customers[0], self.customers[2]]  # one scheme (CORE) per file
        order, invoices = self.make_order("in", "ABN", [45.00, 1512.50], partners=customers)
        consent_page = self.send(order)
        self.assertIn("psd2%3Apayment%3Abatchsdd%3Awrite", consent_page)
        back = self.sandbox.approve_abnamro(consent_page, iban=ABN_IBAN)
        self.assertEqual(urlsplit(back).path, "/bank_link/payment/callback")
        authorise = self.come_back(back)
        self.assertTrue(authorise.startswith(self.sandbox.abnamro_url), authorise)
        self.assert_valid_pain(self.order_file(order), "pain.008.001.02")
        submission = order.bank_submission_id
        # ABN AMRO reports no status: received until the statement shows it.
        self.assertEqual((submission.state, submission.bank_status), ("received", "RECEIVED"))
        self.assertFalse(submission.has_status)
        self.assertEqual(order.state, "uploaded")
        self.assertIn("ondertekend", self.sandbox.approve_payment(authorise).lower())

        at_bank = next(p for p in self.sandbox.payments("abnamro")
                       if p["message_id"] == submission.message_id)
        self.assertEqual(at_bank["count"], 2)
        self.sandbox.advance_payment(at_bank["id"], to="executed")
        self.fetch("ABN")
        line = self.batch_line(self.journals["ABN"], order)
        self.assertEqual(len(line), 1)
        self.assertTrue(line.is_reconciled)
        self.assertEqual(submission.state, "executed")
        self.assertEqual(set(invoices.mapped("payment_state")), {"paid"})
        # The consent's tokens served this batch only: nothing stored.
        self.assertNotIn("batchsdd", json.dumps(self.links["abnamro"].sudo()
                                                ._bank_link_secret().bank_data or {}))

    def test_start_route_belongs_to_the_sender(self):
        self.link("ing", "ING", ING_IBAN)
        order, _bills = self.make_order("out", "ING", [33.00])
        start = order.with_user(self.sender).action_bank_send()["url"]
        self.authenticate(self.viewer.login, "meekijker-korenaar-1")
        response = self.url_open(start, allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        self.assertIn("Send payments to the bank", response.text)
        self.assertFalse(self.sandbox.payments("ing"))
        self.assertEqual(order.bank_submission_id.state, "sending")

    def test_ing_direct_debits_are_offered_as_file(self):
        self.link("ing", "ING", ING_IBAN)
        order, _invoices = self.make_order("in", "ING", [45.00])
        self.assertEqual(order.bank_send_mode, "file")
        order.open2generated()
        self.assert_valid_pain(self.order_file(order), "pain.008.001.02")
        with self.assertRaisesRegex(UserError, "upload it in the bank's portal"):
            order.with_user(self.sender).action_bank_send()
        self.assertFalse(self.sandbox.payments())
