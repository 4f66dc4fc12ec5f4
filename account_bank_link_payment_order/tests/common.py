# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Supplier bills and customer invoices of the demo company, paid by SEPA
payment and direct-debit orders on the demo ING and ABN AMRO journals."""

import base64

from lxml import etree

from odoo import Command, fields
from odoo.tests import new_test_user
from odoo.tools import file_path

from odoo.addons.account_bank_link_payment_order.tools import pain
from odoo.addons.l10n_nl_bankkoppeling.tests.conformance import import_repo_helpers

SEND_GROUP = "account_bank_link_payment_order.group_bank_payment_send"
XSD = {
    "pain.001.001.03": "account_banking_sepa_credit_transfer/data/pain.001.001.03.xsd",
    "pain.008.001.02": "account_banking_sepa_direct_debit/data/pain.008.001.02.xsd",
}


def creditor_identifier(country, national_id):
    """A SEPA creditor identifier with valid check digits (ISO 7064 mod 97)."""
    digits = "".join(str(int(c, 36)) for c in f"{national_id}{country}00")
    return f"{country}{98 - int(digits) % 97:02d}ZZZ{national_id}"


class PaymentOrderMixin:
    """Needs ``cls.company`` and ``cls.journals`` (demo journals by code);
    ``setup_demo_company`` provides both."""

    @classmethod
    def setup_demo_company(cls):
        """The demo company of AccountTestInvoicingCommon with the demo's bank
        journals (by code), its KvK number and the payment data."""
        _sandbox, demo_data = import_repo_helpers()
        cls.company = cls.company_data["company"]
        cls.company.company_registry = "81234567"
        cls.journals = demo_data.ensure_journals(cls.env(su=True), cls.company, remember_ids=False)
        cls.setup_payment_data()

    @classmethod
    def link_journal(cls, provider, code, iban, **flags):
        """A linked account of ``provider`` on the demo journal ``code``, as
        a consent leaves it (the consent itself is tested end to end)."""
        link = cls.env["account.bank.link"].create(
            {"company_id": cls.company.id, "provider": provider, "state": "linked"})
        return cls.env["account.bank.link.account"].create({
            "link_id": link.id, "iban": iban, "journal_id": cls.journals[code].id,
            "carries_payments": True, **flags,
        })

    @classmethod
    def setup_payment_data(cls):
        env = cls.env(su=True)  # the data, not the user's rights, is under test here
        cls.company.write({
            "sepa_creditor_identifier": creditor_identifier("NL", "812345670000"),
            "initiating_party_identifier": "81234567",
        })
        cls.sct = env.ref("account_banking_sepa_credit_transfer.sepa_credit_transfer")
        cls.sdd = env.ref("account_banking_sepa_direct_debit.sepa_direct_debit")
        outstanding_out, outstanding_in = (env["account.account"].create({
            "code": code, "name": name, "account_type": "asset_current", "reconcile": True,
            "company_ids": [Command.set(cls.company.ids)],
        }) for code, name in (("109010", "Onderweg betalingen"), ("109020", "Onderweg incasso's")))
        cls.outstanding = {"out": outstanding_out, "in": outstanding_in}
        for journal in cls.journals.values():
            journal.write({
                "outbound_payment_method_line_ids": [Command.create({
                    "payment_method_id": cls.sct.id, "payment_account_id": outstanding_out.id})],
                "inbound_payment_method_line_ids": [Command.create({
                    "payment_method_id": cls.sdd.id, "payment_account_id": outstanding_in.id})],
            })
        cls.modes = {}
        for code, journal in cls.journals.items():
            cls.modes[("out", code)] = env["account.payment.mode"].create({
                "name": f"SEPA overboeking {code}", "company_id": cls.company.id,
                "payment_method_id": cls.sct.id, "bank_account_link": "fixed",
                "fixed_journal_id": journal.id, "payment_order_ok": True,
                "default_date_prefered": "now", "default_batch_booking": True,
            })
            cls.modes[("in", code)] = env["account.payment.mode"].create({
                "name": f"SEPA incasso {code}", "company_id": cls.company.id,
                "payment_method_id": cls.sdd.id, "bank_account_link": "fixed",
                "fixed_journal_id": journal.id, "payment_order_ok": True,
                "default_date_prefered": "now", "default_batch_booking": True,
            })
        cls.suppliers = [
            cls._partner("Meelfabriek Holland B.V.", "NL81INGB0002345671"),
            cls._partner("Zuivel & Co Zeeland", "NL02ABNA0123456789"),
        ]
        cls.customers = [
            cls._partner("Hotel De Zwaan B.V.", "NL82INGB0007356188"),
            cls._partner("Smit Evenementen B.V.", "NL16ABNA0441298765"),
            cls._partner("Lunchroom 't Hoekje", "NL02ABNA0123456789"),
        ]
        cls.mandates = {}
        for customer, scheme in zip(cls.customers, ("CORE", "B2B", "CORE"), strict=False):
            cls.mandates[customer.id] = env["account.banking.mandate"].create({
                "format": "sepa", "type": "recurrent", "recurrent_sequence_type": "recurring",
                "scheme": scheme,
                "signature_date": fields.Date.today().replace(day=1),
                "partner_bank_id": customer.bank_ids[:1].id, "company_id": cls.company.id,
                "state": "valid", "unique_mandate_reference": f"KORENAAR-{customer.id}",
            })
        cls.sender = new_test_user(
            env, login="betaler", password="betaler-korenaar-1",
            groups=f"account.group_account_manager,account.group_account_user,{SEND_GROUP}",
            company_id=cls.company.id, company_ids=[cls.company.id],
        )
        cls.viewer = new_test_user(
            env, login="meekijker", password="meekijker-korenaar-1",
            groups="account.group_account_manager,account.group_account_user,"
            "account_payment_order.group_account_payment",
            company_id=cls.company.id, company_ids=[cls.company.id],
        )

    @classmethod
    def _partner(cls, name, iban):
        partner = cls.env["res.partner"].sudo().create({
            "name": name, "company_id": False, "country_id": cls.env.ref("base.nl").id,
            "city": "Amsterdam", "street": "Damrak 1", "zip": "1012 LG",
        })
        cls.env["res.partner.bank"].sudo().create({
            "partner_id": partner.id, "acc_number": iban, "allow_out_payment": True,
        })
        return partner

    def make_order(self, direction, journal_code, amounts, partners=None):
        """A confirmed order paying (out) bills or collecting (in) invoices
        of ``amounts`` on the journal: (order, invoices)."""
        env = self.env(su=True)
        partners = partners or (self.suppliers if direction == "out" else self.customers[:2])
        mode = self.modes[(direction, journal_code)]
        invoices = env["account.move"]
        for index, amount in enumerate(amounts):
            partner = partners[index % len(partners)]
            invoice = env["account.move"].create({
                "move_type": "in_invoice" if direction == "out" else "out_invoice",
                "partner_id": partner.id,
                "company_id": self.company.id,
                "invoice_date": fields.Date.today(),
                "ref": f"INK-{index + 1:03d}" if direction == "out" else False,
                "payment_mode_id": mode.id,
                "invoice_line_ids": [Command.create({
                    "name": "Meel" if direction == "out" else "Broodjes",
                    "quantity": 1, "price_unit": amount, "tax_ids": [Command.clear()],
                })],
            })
            invoices |= invoice
        invoices.action_post()
        if direction == "in":
            for invoice in invoices:
                invoice.mandate_id = self.mandates[invoice.partner_id.id]
        invoices.create_account_payment_line()
        order = env["account.payment.order"].search(
            [("payment_mode_id", "=", mode.id), ("state", "=", "draft")], limit=1)
        order.draft2open()
        # As the administrator; the tests act as a user with with_user().
        return order, invoices

    def order_file(self, order):
        attachment = self.env["ir.attachment"].search(
            [("res_model", "=", order._name), ("res_id", "=", order.id),
             ("name", "=ilike", "%.xml")], order="id desc", limit=1)
        self.assertTrue(attachment, "the order has no payment file")
        return base64.b64decode(attachment.datas)

    def assert_valid_pain(self, xml, version):
        """Validated here with lxml against the official XSD the OCA ships,
        not only by the OCA's own check."""
        self.assertEqual(pain.pain_version(xml), version)
        schema = etree.XMLSchema(etree.parse(file_path(XSD[version])))
        document = etree.fromstring(xml)
        self.assertTrue(schema.validate(document), str(schema.error_log))
        return document
