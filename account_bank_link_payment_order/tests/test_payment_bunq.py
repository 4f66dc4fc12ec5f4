# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""bunq payment orders end to end against the local sandbox: the order
becomes one bunq draft payment (one entry per payment), the customer accepts
it in the bunq app (the sandbox's page), its status comes back executed, and
the next fetch brings one statement line per payment, each reconciled with
its payment of the order."""

import datetime
import json
from decimal import Decimal
from urllib.parse import urlsplit

from odoo.tests import HttpCase, tagged
from odoo.tools import html2plaintext

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.account_bank_link_bunq.tests.common import BUNQ_IBAN, DEMO_SCENARIO, import_repo_helpers
from odoo.addons.l10n_nl_bankkoppeling.tests.common import run_fetch
from odoo.addons.l10n_nl_bankkoppeling.tests.route_helpers import confirm

from .common import PaymentOrderMixin

PASSWORD = "betaler-korenaar-1"
DRAFTS = "/draft-payment"


@tagged("post_install", "-at_install")
class TestPaymentBunq(PaymentOrderMixin, AccountTestInvoicingCommon, HttpCase):
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
        info = cls.sandbox.info()["bunq"]
        demo_data.ensure_bank_registrations(cls.env(su=True), cls.company, {
            "bunq": cls.sandbox.bunq_url, "certs": str(cls.sandbox.certs.directory),
            "bunq_client_id": info["client_id"], "bunq_client_secret": info["client_secret"],
        })
        cls.bunq_link = cls.env["account.bank.link"].create({
            "company_id": cls.company.id, "provider": "bunq",
            "legal_representative_name": "Anna de Graaf",
            "legal_representative_email": "directie@goudenkorenaar.example",
            "legal_representative_confirmed": True,
        })
        cls.setup_payment_data()

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        self.bank_today = datetime.date.fromisoformat(self.sandbox.info()["today"])
        self.authenticate(self.sender.login, PASSWORD)

    def link_bunq(self):
        start = self.bunq_link.with_user(self.sender).sudo().action_start_consent()["url"]
        response = confirm(self, start)
        self.assertEqual(response.status_code, 303, response.text[:500])
        back = self.sandbox.approve_bunq(response.headers["Location"])
        response = self.url_open("/bank_link/callback?" + urlsplit(back).query, allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.env.invalidate_all()
        account = self.bunq_link.account_ids.filtered(lambda a: a.iban == BUNQ_IBAN)
        account.sudo().write({"journal_id": self.journals["BUNQ"].id,
                              "start_date": self.bank_today - datetime.timedelta(days=5)})
        return account

    def send(self, order):
        action = order.with_user(self.sender).action_bank_send()
        response = confirm(self, action["url"])
        self.assertEqual(response.status_code, 303, response.text[:1000])
        self.env.invalidate_all()
        return response.headers["Location"]

    def chatter(self, order):
        messages = self.env["mail.message"].search(
            [("model", "=", order._name), ("res_id", "=", order.id)], order="id desc")
        return "\n".join(html2plaintext(m.body) for m in messages if m.body)

    def fetch(self):
        # Reconciled as the lines are created, as outside tests.
        env = self.env(context=dict(self.env.context, _test_account_reconcile_oca=True))
        params = run_fetch(env, self.journals["BUNQ"].with_env(env).with_user(self.sender))
        self.assertEqual(params["type"], "success", params["message"])

    def bunq_posts(self, part):
        return [e for e in self.sandbox.log("bunq") if part in e["path"] and e["method"] == "POST"]

    def test_order_to_draft_payment_accepted_in_the_app_executed_and_reconciled_line_by_line(self):
        account = self.link_bunq()
        self.assertTrue(account.carries_payments)
        self.assertFalse(account.carries_direct_debits, "bunq takes no direct debits from a PSD2 provider")
        order, bills = self.make_order("out", "BUNQ", [418.60, 99.95])
        self.assertEqual(order.bank_send_mode, "api")
        self.sandbox.clear_log()
        landing = self.send(order)
        # No bank page: back to the order, the draft waits in the bunq app.
        self.assertIn(f"id={order.id}", landing)
        self.assertEqual([e["status"] for e in self.bunq_posts(DRAFTS)], [200])
        submission = order.bank_submission_id
        self.assertEqual((submission.state, submission.iso_status, submission.bank_status),
                         ("received", "PDNG", "PENDING"))
        self.assertEqual(order.state, "generated", "nothing is posted before the customer accepts")
        at_bank = self.sandbox.payment(next(p["id"] for p in self.sandbox.payments("bunq")))
        self.assertEqual(at_bank["account"], BUNQ_IBAN)
        self.assertEqual(Decimal(at_bank["total"]), Decimal("518.55"))
        self.assertEqual(sorted((p["counterparty_iban"], p["amount"]) for p in at_bank["payments"]), [
            ("NL02ABNA0123456789", "99.95"), ("NL81INGB0002345671", "418.60")])
        # Still pending: asking again changes nothing.
        order.with_user(self.sender).action_bank_refresh_status()
        self.assertEqual(submission.state, "received")

        # The customer accepts the draft in the bunq app.
        self.assertIn("Opdracht ondertekend", self.sandbox.approve_payment(at_bank["approval_url"]))
        order.with_user(self.sender).action_bank_refresh_status()
        self.assertEqual((submission.state, submission.iso_status, submission.bank_status),
                         ("executed", "ACSC", "ACCEPTED"))
        self.assertEqual(order.state, "uploaded")
        self.assertIn("ACSC", self.chatter(order))

        self.fetch()
        lines = self.env["account.bank.statement.line"].search(
            [("journal_id", "=", self.journals["BUNQ"].id), ("amount", "in", (-418.60, -99.95))])
        self.assertEqual(len(lines), 2, "one bunq payment per entry on the statement")
        self.assertEqual(set(lines.mapped("is_reconciled")), {True})
        self.assertEqual(set(bills.mapped("payment_state")), {"paid"})
        self.assertIn(submission.statement_line_id, lines)
        self.assertIn("Every payment of", self.chatter(order))
        # Each line is reconciled with its own creditor's payment.
        for line in lines:
            counterpart = line._seek_for_lines()[2]
            self.assertTrue(counterpart.reconciled)
            partner = counterpart.partner_id
            self.assertEqual(len(partner), 1)
            self.assertEqual(partner.sudo().bank_ids.mapped("sanitized_acc_number"),
                             [line.account_number.replace(" ", "")])

    def test_a_draft_refused_in_the_app_is_rejected_and_the_order_can_be_sent_again(self):
        self.link_bunq()
        order, _bills = self.make_order("out", "BUNQ", [61.25])
        self.send(order)
        at_bank = self.sandbox.payments("bunq")[0]
        self.sandbox.cancel_payment(at_bank["approval_url"])
        order.with_user(self.sender).action_bank_refresh_status()
        submission = order.bank_submission_id
        self.assertEqual((submission.state, submission.iso_status, submission.bank_status),
                         ("rejected", "RJCT", "REJECTED"))
        self.assertEqual(order.state, "generated")
        self.assertTrue(order.bank_may_send)
        self.assertIn("send it again", self.chatter(order))

    def test_direct_debits_are_the_file_for_bunq(self):
        self.link_bunq()
        order, _invoices = self.make_order("in", "BUNQ", [75.00])
        self.assertEqual(order.bank_send_mode, "file")
        self.assertFalse(self.bunq_posts(DRAFTS))
