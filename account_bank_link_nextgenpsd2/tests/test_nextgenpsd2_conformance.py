# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Knab, Triodos and de Volksbank's three brands (ASN Bank, SNS and RegioBank:
one platform and one code, each its own path) pass the framework's
conformance suite against the local bank sandbox: consent through the
wizard and the bank's page, refresh, paging, the fault matrix and the
OAuth state.

de Volksbank gives no ``transactionId``, only an ``entryReference`` the
sandbox derives from its transaction id: the suite's ``bank_import_id``
hook finds the bookings it added by that."""

import copy
import sys
from decimal import Decimal

from odoo.tests import HttpCase, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.l10n_nl_bankkoppeling.tests import conformance

from ..tools import nextgenpsd2_client, nextgenpsd2_provider
from .common import REPO


def nextgenpsd2_defaults():
    """The sandbox's NextGenPSD2 accounts (setup/bank_sandbox/nextgenpsd2_scenario.py)."""
    if str(REPO / "setup") not in sys.path:
        sys.path.insert(0, str(REPO / "setup"))
    from bank_sandbox.nextgenpsd2_scenario import NEXTGENPSD2_DEFAULTS

    return copy.deepcopy(NEXTGENPSD2_DEFAULTS)


class NextGenPsd2Conformance(conformance.SandboxConformance):
    """The suite's hooks for a NextGenPSD2 bank: its registration (not
    settings on the link), its sandbox port, its consent page."""

    retry_policy_class = nextgenpsd2_client.RetryPolicy
    page_size_setting = "page_size"
    transactions_path = "*/accounts/*/transactions"
    token_path = "*/token"
    consent_withdrawn_code = "CONSENT_INVALID"
    # A consent the user revoked at the bank answers 401 CONSENT_INVALID (Berlin Group).
    # CONSENT_INVALID: the framework words it as withdrawn ("revoked").
    consent_revoked_outcome = ("revoked", conformance.CONSENT_WITHDRAWN)

    @classmethod
    def adjust_scenario(cls, scenario):
        # The demo scenario leaves the NextGenPSD2 banks to the sandbox's defaults.
        scenario[cls.bank] = nextgenpsd2_defaults()[cls.bank]
        return super().adjust_scenario(scenario)

    @classmethod
    def bank_link(cls):
        parameters = cls.env["ir.config_parameter"].sudo()
        # The banks take https redirect URLs only, as a production Odoo has.
        parameters.set_param("web.base.url", "https://korenaar.example")
        parameters.set_param("web.base.url.freeze", "True")
        cls.demo_data.ensure_bank_registrations(
            cls.env, cls.company, {"nextgenpsd2": cls.sandbox.nextgenpsd2_url, "certs": str(cls.sandbox.certs.directory)}
        )
        return cls.env["account.bank.link"].create({
            "company_id": cls.company.id,
            "provider": cls.bank,
            "legal_representative_name": cls.demo_data.LEGAL_REPRESENTATIVE[0],
            "legal_representative_email": cls.demo_data.LEGAL_REPRESENTATIVE[1],
        })

    def bank_page_prefix(self):
        return self.sandbox.nextgenpsd2_url + "/"

    def approve(self, bank_page):
        return self.sandbox.approve_nextgenpsd2(self.bank, bank_page, [self.iban])


@tagged("post_install", "-at_install")
class TestKnabConformance(NextGenPsd2Conformance, AccountTestInvoicingCommon, HttpCase):
    bank = "knab"
    provider_class = nextgenpsd2_provider.KnabProvider
    iban = "NL89KNAB2131337205"
    journal_code = "KNAB"
    opening_balance = Decimal("4800.00")
    next_page_marker = "pageKey"
    api_prefix = "/knab/openbanking/"
    access_token_seconds = 3600


def savings_account(bank, product):
    """An account the bank does not let link (the suite checks it is left out)."""
    return {
        "iban": None, "bank_account_seed": f"{bank}-savings", "holder": "Bakkerij De Korenbloem B.V.",
        "product": product, "currency": "EUR", "kind": "savings", "opening_balance": "9000.00",
        "generate": False, "transactions": [],
    }


@tagged("post_install", "-at_install")
class TestTriodosConformance(NextGenPsd2Conformance, AccountTestInvoicingCommon, HttpCase):
    """Triodos: one current account per consent [C T-faq], signed requests, unsigned amounts."""

    bank = "triodos"
    provider_class = nextgenpsd2_provider.TriodosProvider
    iban = "NL63TRIO1904624944"
    journal_code = "TRIO"
    opening_balance = Decimal("7300.00")
    next_page_marker = "edgeToken"
    api_prefix = "/triodos/xs2a-bg/nl/"
    access_token_seconds = 600

    @classmethod
    def adjust_scenario(cls, scenario):
        result = super().adjust_scenario(scenario)
        # The suite links 90 days back and expects every booking: a history within those 90
        # days (Triodos serves more only on the first request; the end-to-end tests cover that).
        scenario["triodos"]["accounts"][0]["generate"]["days"] = 60
        scenario["triodos"]["accounts"].append(savings_account("triodos", "Triodos Zakelijke Spaarrekening"))
        return result

    def setUp(self):
        super().setUp()
        # The suite resets the sandbox before each test, and a fresh Triodos knows no client:
        # register the certificate again, as the administrator does after a new certificate.
        registration = self.env["account.bank.registration"].search(
            [("company_id", "=", self.company.id), ("provider", "=", "triodos")])
        registration.action_nextgenpsd2_register_client()


@tagged("post_install", "-at_install")
class TestAsnBankConformance(NextGenPsd2Conformance, AccountTestInvoicingCommon, HttpCase):
    """de Volksbank, for its three brands (one platform, one profile function)."""

    bank = "asn"
    provider_class = nextgenpsd2_provider.AsnProvider
    iban = "NL82ASNB4149506426"
    journal_code = "ASN"
    opening_balance = Decimal("16000.00")
    next_page_marker = "entryReferenceFrom"
    api_prefix = "/psd2/asnbank/v1"
    access_token_seconds = 600
    savings_product = "ASN Zakelijk Sparen"

    @classmethod
    def adjust_scenario(cls, scenario):
        result = super().adjust_scenario(scenario)
        scenario[cls.bank]["accounts"].append(savings_account(cls.bank, cls.savings_product))
        return result

    def bank_import_id(self, bank_id):
        # entryReference "<booking date>-<number>": the number follows from the sandbox's id.
        from bank_sandbox.nextgenpsd2 import volksbank_entry_number

        return "-" + volksbank_entry_number(bank_id)

    def assert_api_calls_authenticated(self, api_calls):
        # The OAuth base shares /v1 with the consent API: its authorize page is the user's browser.
        return super().assert_api_calls_authenticated([e for e in api_calls if not e["path"].endswith("/authorize")])

    def expected_bank_balance(self, expected, lines):
        # de Volksbank gives only interimAvailable (what is not booked yet included) [I Y-vb README].
        return Decimal(str(expected.get("expected_balance", expected["balance"])))


@tagged("post_install", "-at_install")
class TestSnsConformance(TestAsnBankConformance):
    """SNS: de Volksbank's platform under its own brand path."""

    bank = "sns"
    provider_class = nextgenpsd2_provider.SnsProvider
    iban = "NL87SNSB3565267348"
    journal_code = "SNS"
    api_prefix = "/psd2/snsbank/v1"
    savings_product = "SNS Zakelijk Sparen"


@tagged("post_install", "-at_install")
class TestRegioBankConformance(TestAsnBankConformance):
    """RegioBank: de Volksbank's platform under its own brand path."""

    bank = "regiobank"
    provider_class = nextgenpsd2_provider.RegioBankProvider
    iban = "NL58RBRB7732280172"
    journal_code = "RGB"
    api_prefix = "/psd2/regiobank/v1"
    savings_product = "RegioBank Zakelijk Sparen"
