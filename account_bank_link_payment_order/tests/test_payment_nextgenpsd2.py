# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""SEPA credit transfers through NextGenPSD2 payment initiation, end to end
against the local sandbox, per bank family that offers it: Knab (instant
credit transfer) and de Volksbank (ASN Bank here; SNS and RegioBank are the
same code on their own paths). An order of one payment is approved on the
bank's page and its status comes back in Odoo; an order of more payments and
every Triodos order are the pain.001 file, said in Dutch on the order."""

import datetime
import json
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit

from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import html2plaintext

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.account_bank_link_nextgenpsd2.tools.nextgenpsd2_provider import TriodosProvider
from odoo.addons.l10n_nl_bankkoppeling.tests.conformance import DEMO_SCENARIO, import_repo_helpers
from odoo.addons.l10n_nl_bankkoppeling.tests.route_helpers import confirm

from .common import PaymentOrderMixin

PASSWORD = "betaler-korenaar-1"


class NextGenPsd2PaymentCase(PaymentOrderMixin):
    """A mixin (not a test case by itself): one class per bank below."""

    country_code = "NL"
    #: Set by the subclass: the bank and its demo journal.
    bank = journal_code = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sandbox, demo_data = import_repo_helpers()
        cls.sandbox = cls.enterClassContext(sandbox.running_sandbox(scenario=json.loads(DEMO_SCENARIO.read_text())))
        cls.company = cls.company_data["company"]
        cls.company.company_registry = "81234567"
        cls.journals = demo_data.ensure_journals(cls.env(su=True), cls.company, remember_ids=False)
        # The banks send the user back to https only, as a production Odoo has.
        parameters = cls.env["ir.config_parameter"].sudo()
        parameters.set_param("web.base.url", "https://odoo.example.nl")
        parameters.set_param("web.base.url.freeze", "True")
        demo_data.ensure_bank_registrations(cls.env(su=True), cls.company, {
            "nextgenpsd2": cls.sandbox.nextgenpsd2_url, "certs": str(cls.sandbox.certs.directory)})
        cls.link = cls.env["account.bank.link"].create({
            "company_id": cls.company.id, "provider": cls.bank,
            "legal_representative_name": "Anna de Graaf",
            "legal_representative_email": "directie@goudenkorenaar.example",
            "legal_representative_confirmed": True,
        })
        cls.iban = cls.journals[cls.journal_code].bank_acc_number.replace(" ", "")
        cls.setup_payment_data()

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        self.bank_today = datetime.date.fromisoformat(self.sandbox.info()["today"])
        self.authenticate(self.sender.login, PASSWORD)

    def link_bank(self):
        start = self.link.with_user(self.sender).sudo().action_start_consent()["url"]
        response = confirm(self, start)
        self.assertEqual(response.status_code, 303, response.text[:500])
        back = self.sandbox.approve_nextgenpsd2(self.bank, response.headers["Location"], [self.iban])
        query = dict(parse_qsl(urlsplit(back).query))
        response = self.url_open("/bank_link/callback?" + urlencode(query), allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.env.invalidate_all()
        account = self.link.account_ids.filtered(lambda a: a.iban == self.iban)
        account.sudo().write({"journal_id": self.journals[self.journal_code].id,
                              "start_date": self.bank_today - datetime.timedelta(days=5)})
        return account

    def chatter(self, order):
        messages = self.env["mail.message"].search([("model", "=", order._name), ("res_id", "=", order.id)])
        return "\n".join(html2plaintext(m.body) for m in messages if m.body)

    def test_one_payment_goes_through_the_banks_payment_initiation(self):
        account = self.link_bank()
        self.assertTrue(account.carries_payments)
        self.assertFalse(account.carries_direct_debits, "no NextGenPSD2 bank here takes direct debits from us")
        order, _bills = self.make_order("out", self.journal_code, [418.60])
        self.assertEqual(order.bank_send_mode, "api", order.bank_send_explanation)
        action = order.with_user(self.sender).action_bank_send()
        response = confirm(self, action["url"])
        self.assertEqual(response.status_code, 303, response.text[:1000])
        approval = response.headers["Location"]
        self.assertTrue(approval.startswith(self.sandbox.nextgenpsd2_url + "/"), self.chatter(order))
        submission = order.bank_submission_id
        self.assertEqual((submission.state, submission.iso_status), ("received", "RCVD"))
        at_bank = self.sandbox.payment(submission.bank_payment_id)
        self.assertEqual(at_bank["bank"], self.bank)
        self.assertEqual(Decimal(str(at_bank["total"])), Decimal("418.60"))
        self.assertEqual(at_bank["account"], self.iban)
        # The account holder signs with the TAN at the bank; back in Odoo, the status is asked.
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
        status_calls = [e for e in self.sandbox.log(self.bank) if e["path"].endswith("/status")
                        and "payments" in e["path"]]
        self.assertTrue(status_calls and all(e["client_cert"] for e in status_calls))

    def test_an_order_of_more_payments_is_the_file_with_a_dutch_note(self):
        self.link_bank()
        order, _bills = self.make_order("out", self.journal_code, [1210.00, 99.95])
        self.assertEqual(order.bank_send_mode, "file")
        self.env["res.lang"]._activate_lang("nl_NL")
        dutch = order.with_context(lang="nl_NL").bank_send_explanation
        self.assertIn("neemt hoogstens 1 betaling(en) per opdracht", dutch)
        with self.assertRaisesRegex(UserError, "at most 1 payment"):
            order.with_user(self.sender).action_bank_send()
        self.assertFalse(order.bank_submission_ids)
        self.assertEqual(self.sandbox.payments(self.bank), [])


@tagged("post_install", "-at_install")
class TestPaymentKnab(NextGenPsd2PaymentCase, AccountTestInvoicingCommon, HttpCase):
    bank, journal_code = "knab", "KNAB"


@tagged("post_install", "-at_install")
class TestPaymentAsnBank(NextGenPsd2PaymentCase, AccountTestInvoicingCommon, HttpCase):
    bank, journal_code = "asn", "ASN"


@tagged("post_install", "-at_install")
class TestPaymentTriodos(PaymentOrderMixin, AccountTestInvoicingCommon, HttpCase):
    """NOTES-triodos.md describes no payment interface: every Triodos order is the file."""

    country_code = "NL"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_demo_company()
        # What the link's account sync sets from the provider's payment_support.
        support = TriodosProvider.payment_support(TriodosProvider.__new__(TriodosProvider), "credit_transfer")
        cls.account = cls.link_journal("triodos", "TRIO", "NL63TRIO1904624944",
                                       carries_payments=support.how == "api")

    def test_every_order_is_the_file_with_a_dutch_note(self):
        order, _bills = self.make_order("out", "TRIO", [250.00])
        self.assertEqual(order.bank_send_mode, "file")
        self.env["res.lang"]._activate_lang("nl_NL")
        dutch = order.with_context(lang="nl_NL").bank_send_explanation
        self.assertIn("biedt via de bankkoppeling geen koppeling voor betaalopdrachten", dutch)
        self.assertIn("Triodos Bank", dutch)
        with self.assertRaises(UserError):
            order.with_user(self.sender).action_bank_send()
        self.assertFalse(order.bank_submission_ids)
