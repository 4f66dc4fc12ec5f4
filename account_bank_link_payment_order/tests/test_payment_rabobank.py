# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Rabobank single SEPA credit transfers end to end against the local
sandbox: an order of one payment goes through Rabobank's payment initiation
(approval on Rabobank's page, status back in Odoo); an order of more
payments is never sent as if Rabobank had a batch interface."""

import datetime
import json
from decimal import Decimal
from urllib.parse import urlsplit

from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import html2plaintext

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.account_bank_link_rabobank.tests.common import (
    DEMO_SCENARIO,
    RABO_IBAN,
    import_repo_helpers,
)
from odoo.addons.l10n_nl_bankkoppeling.tests.route_helpers import confirm

from .common import PaymentOrderMixin

PASSWORD = "betaler-korenaar-1"


@tagged("post_install", "-at_install")
class TestPaymentRabobank(PaymentOrderMixin, AccountTestInvoicingCommon, HttpCase):
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
        demo_data.ensure_bank_registrations(cls.env(su=True), cls.company, {
            "rabobank": cls.sandbox.rabobank_url, "certs": str(cls.sandbox.certs.directory),
            "rabobank_client_id": cls.sandbox.rabobank_client_id,
            "rabobank_client_secret": cls.sandbox.rabobank_client_secret,
        })
        cls.rabo_link = cls.env["account.bank.link"].create({
            "company_id": cls.company.id, "provider": "rabobank",
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
        # Rabobank wants https return addresses, as a production Odoo has.
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "https://odoo.example.nl")

    def link_rabobank(self):
        start = self.rabo_link.with_user(self.sender).sudo().action_start_consent()["url"]
        response = confirm(self, start)
        self.assertEqual(response.status_code, 303, response.text[:500])
        back = self.sandbox.approve_rabobank(response.headers["Location"])
        response = self.url_open("/bank_link/callback?" + urlsplit(back).query, allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.env.invalidate_all()
        account = self.rabo_link.account_ids.filtered(lambda a: a.iban == RABO_IBAN)
        account.sudo().write({"journal_id": self.journals["RABO"].id,
                              "start_date": self.bank_today - datetime.timedelta(days=5)})
        return account

    def chatter(self, order):
        messages = self.env["mail.message"].search(
            [("model", "=", order._name), ("res_id", "=", order.id)], order="id desc")
        return "\n".join(html2plaintext(m.body) for m in messages if m.body)

    def test_one_payment_goes_through_rabobanks_payment_initiation(self):
        account = self.link_rabobank()
        self.assertTrue(account.carries_payments)
        self.assertFalse(account.carries_direct_debits, "Rabobank's PSD2 API has no direct debits")
        order, _bills = self.make_order("out", "RABO", [418.60])
        self.assertEqual(order.bank_send_mode, "api")
        action = order.with_user(self.sender).action_bank_send()
        response = confirm(self, action["url"])
        self.assertEqual(response.status_code, 303, response.text[:1000])
        approval = response.headers["Location"]
        self.assertTrue(approval.startswith(self.sandbox.rabobank_url + "/betalen/"), self.chatter(order))
        submission = order.bank_submission_id
        self.assertEqual((submission.state, submission.iso_status), ("received", "ACTC"))
        at_bank = self.sandbox.payment(submission.bank_payment_id)
        self.assertEqual(Decimal(str(at_bank["total"])), Decimal("418.60"))
        self.assertEqual(at_bank["account"], RABO_IBAN)

        back = self.sandbox.approve_payment(approval)
        response = self.url_open(urlsplit(back).path + "?" + urlsplit(back).query, allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:1000])
        self.env.invalidate_all()
        self.assertEqual((submission.state, submission.iso_status), ("accepted", "ACCP"))
        self.assertEqual(order.state, "uploaded")
        self.sandbox.advance_payment(submission.bank_payment_id, to="executed")
        order.with_user(self.sender).action_bank_refresh_status()
        self.assertEqual((submission.state, submission.iso_status), ("executed", "ACSC"))
        self.assertIn("ACSC", self.chatter(order))

    def test_an_order_of_more_payments_is_not_sent_as_a_batch(self):
        self.link_rabobank()
        order, _bills = self.make_order("out", "RABO", [1210.00, 99.95])
        # Said on the order before anything is tried: the file, not the link.
        self.assertEqual(order.bank_send_mode, "file")
        self.assertIn("at most 1 payment(s) per order; this order has 2", order.bank_send_explanation)
        with self.assertRaisesRegex(UserError, "at most 1 payment"):
            order.with_user(self.sender).action_bank_send()
        self.assertFalse(order.bank_submission_ids)
        self.assertEqual(self.sandbox.payments("rabobank"), [])
