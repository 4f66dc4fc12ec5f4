# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ING in the framework's conformance suite: the hooks of
``l10n_nl_bankkoppeling/tests/conformance.py`` for the demo ING journal in
the local bank sandbox (real HTTPS, mutual TLS, HTTP signatures, the bank's
consent pages with TAN)."""

from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

from odoo.tests import HttpCase, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.l10n_nl_bankkoppeling.tests import conformance

from ..tools import ing_client, ing_provider

ING_IBAN = "NL67INGB0006543210"


class IngSandbox(conformance.SandboxBankCase):
    bank = "ing"
    provider_class = ing_provider.IngProvider
    retry_policy_class = ing_client.RetryPolicy
    iban = ING_IBAN
    journal_code = "ING"
    opening_balance = Decimal("15250.00")
    page_size_setting = "page_limit_default"
    transactions_path = "/v3/accounts/*/transactions"
    token_path = "/oauth2/token"
    next_page_marker = "next"
    api_prefix = "/v3/"
    access_token_seconds = 900
    consent_withdrawn_code = "CONSENT_INVALID"
    #: Whether the registration knows its ING client id, as after registering
    #: in ING's developer portal (without it, see test_ing_conformance).
    configure_client_id = True

    def approve(self, bank_page):
        self.assertTrue(bank_page.startswith(self.sandbox.ing_url + "/granting/"), bank_page)
        return self.sandbox.approve_ing(bank_page)

    def before_approval(self, link, bank_page):
        if self.configure_client_id:
            # What ING's developer portal tells: the client id ING assigned
            # to the certificate (the consent URL carries it).
            link._bank_link_registration().client_id = dict(parse_qsl(urlsplit(bank_page).query))["client_id"]

    def expected_bank_balance(self, expected, lines):
        # ING's closingBooked balance is the end of yesterday: today's
        # bookings are not in it.
        today = lines.filtered(lambda ln: ln.date == self.bank_today).mapped("amount")
        return Decimal(str(expected["balance"])) - sum((Decimal(str(a)) for a in today), Decimal(0))


@tagged("post_install", "-at_install")
class IngSandboxCase(IngSandbox, AccountTestInvoicingCommon, HttpCase):
    """The demo ING journal linked through the sandbox, for other addons'
    tests that need a working ING link to start from."""
