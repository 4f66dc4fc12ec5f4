# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Attacks on "Send to bank" over real HTTP: a cross-site GET of the start
route sends nothing, a POST without Odoo's CSRF token is refused, and a
payment file that cannot be read gets a message page with a way back to
the order, not a crash. The bank is one in memory that counts batches."""

import base64
from unittest.mock import patch

from odoo.tests import HttpCase, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.account_bank_link_payment_order.tools import pain
from odoo.addons.l10n_nl_bankkoppeling.tests.common import MemoryBank
from odoo.addons.l10n_nl_bankkoppeling.tests.route_helpers import (
    back_link,
    confirm,
    confirmation_form,
)
from odoo.addons.l10n_nl_bankkoppeling.tools import provider as bp

from .common import PaymentOrderMixin

ING_IBAN = "NL67INGB0006543210"
PASSWORD = "betaler-korenaar-1"


class PaymentBank(MemoryBank):
    """Takes credit transfers and keeps every batch it received."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def payment_support(self, order_type):
        if order_type == bp.ORDER_CREDIT_TRANSFER:
            return bp.PaymentSupport(order_type=order_type, how=bp.SUPPORT_API)
        return super().payment_support(order_type)

    def submit_payment_batch(self, batch, tokens=None):
        self.batches.append(batch)
        return bp.PaymentSubmission(
            bank_payment_id=f"batch-{len(self.batches)}",
            status=bp.PaymentStatus(iso_status="RCVD"),
            approval_url="https://bank.example/approve",
        )


@tagged("post_install", "-at_install")
class TestPaymentRoutesSecurity(PaymentOrderMixin, AccountTestInvoicingCommon, HttpCase):
    country_code = "NL"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_demo_company()
        cls.link_journal("ing", "ING", ING_IBAN)
        Link = cls.env.registry["account.bank.link"]
        cls.startClassPatcher(
            patch.object(Link, "_bank_link_get_provider", lambda self: cls.bank))

    def setUp(self):
        super().setUp()
        type(self).bank = PaymentBank()
        self.order, _bills = self.make_order("out", "ING", [410.00, 75.25])
        self.start_url = self.order.with_user(self.sender).action_bank_send()["url"]
        self.submission = self.order.bank_submission_id
        self.authenticate(self.sender.login, PASSWORD)

    def test_cross_site_get_of_start_sends_nothing(self):
        response = self.url_open(self.start_url, allow_redirects=False)
        self.assertEqual(response.status_code, 200, response.text[:500])
        self.assertNotIn("Location", response.headers)
        self.assertFalse(self.bank.batches, "nothing reached the bank")
        self.assertEqual(self.submission.state, "sending")
        # The page says what will be sent before the user sends it.
        self.assertIn(self.order.name, response.text)
        self.assertIn("485.25", response.text)
        confirmation_form(self, response)
        response = confirm(self, self.start_url)
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertEqual(response.headers["Location"], "https://bank.example/approve")
        self.assertEqual(len(self.bank.batches), 1)
        self.assertEqual(self.submission.state, "received")

    def test_post_to_start_without_csrf_token_is_refused(self):
        response = self.url_open(self.start_url, data={"send": "1"}, allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        # A token of another session (the attacker's own) is no better.
        self.authenticate(self.viewer.login, "meekijker-korenaar-1")
        csrf = self.url_open("/web/login").text.split('name="csrf_token" value="')[1][:60]
        csrf = csrf.split('"')[0]
        self.authenticate(self.sender.login, PASSWORD)
        response = self.url_open(self.start_url, data={"csrf_token": csrf},
                                 allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.bank.batches, "nothing reached the bank")
        self.assertEqual(self.submission.state, "sending")

    def test_malformed_payment_file_is_a_message_page(self):
        broken = b"<?xml version='1.0'?><Document><CstmrCdtTrfInitn>"
        attachment = self.submission.attachment_id.sudo()
        attachment.datas = base64.b64encode(broken)
        # As if the stored hash had been made to match (issue: the file's
        # hash was writable); the route must still not crash on the file.
        self.env.cr.execute(
            "UPDATE account_payment_order_bank_submission SET file_hash = %s WHERE id = %s",
            (pain.file_hash(broken), self.submission.id))
        self.env.invalidate_all()
        # Said before the user is asked to send it.
        response = self.url_open(self.start_url, allow_redirects=False)
        self.assertEqual(response.status_code, 400, response.text[:500])
        self.assertIn("Not sent to the bank", response.text)
        self.assertIn("cannot be read", response.text)
        self.assertIn(f"id={self.order.id}", back_link(response) or "", "a way back to the order")
        self.assertFalse(self.bank.batches, "nothing reached the bank")

    def test_do_not_send_ends_the_prepared_sending(self):
        action, fields = confirmation_form(self, self.url_open(self.start_url))
        response = self.url_open(action, data={**fields, "cancel": "1"}, allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertIn(f"id={self.order.id}", response.headers["Location"])
        self.assertFalse(self.bank.batches, "nothing reached the bank")
        self.env.invalidate_all()
        self.assertEqual(self.submission.state, "failed")
        # The order is not stuck "being sent": it can be sent later.
        again = self.order.with_user(self.sender).action_bank_send()["url"]
        self.assertEqual(confirm(self, again).status_code, 303)
        self.assertEqual(len(self.bank.batches), 1)
