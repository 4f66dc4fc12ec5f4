# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Rabobank in the framework's conformance suite: the hooks of
``l10n_nl_bankkoppeling/tests/conformance.py`` for the demo Rabobank
journal in the local bank sandbox (real HTTPS, mutual TLS, HTTP signatures,
Rabobank's consent pages), with the company's bank registration as
./setup/demo makes it."""

from decimal import Decimal

from odoo.tests import HttpCase, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.l10n_nl_bankkoppeling.tests import conformance
from odoo.addons.l10n_nl_bankkoppeling.tests.conformance import DEMO_SCENARIO, import_repo_helpers

from ..tools import rabobank_client, rabobank_provider

__all__ = ["DEMO_SCENARIO", "RABO_IBAN", "RabobankSandbox", "RabobankSandboxCase", "import_repo_helpers"]

RABO_IBAN = "NL65RABO3982597919"


class RabobankSandbox(conformance.SandboxBankCase):
    bank = "rabobank"
    provider_class = rabobank_provider.RabobankProvider
    retry_policy_class = rabobank_client.RetryPolicy
    iban = RABO_IBAN
    journal_code = "RABO"
    opening_balance = Decimal("6200.00")
    page_size_setting = "page_size"
    transactions_path = "/openapi/payments/account-information/ais/accounts/*/transactions"
    token_path = "/openapi/oauth2/token"
    next_page_marker = "nextPageToken"
    api_prefix = "/openapi/payments/"
    access_token_seconds = 3600
    consent_withdrawn_code = "CONSENT_INVALID"
    # What Rabobank answers for a consent the holder withdrew (inferred from
    # Yolt's stubs, as the sandbox answers it; NOTES.md [I Y]).
    consent_withdrawn_message = "The consent is no longer valid"
    # Rabobank answers every call of a consent the holder ended at the bank
    # so (403 CONSENT_INVALID): the link is revoked, not expired [I Y].
    consent_revoked_outcome = ("revoked", conformance.CONSENT_WITHDRAWN)

    def expected_bank_balance(self, expected, lines):
        # Rabobank reports only the "expected" balance: the booked one plus
        # the pending transactions [I Y].
        return Decimal(str(expected["expected_balance"]))

    def approve(self, bank_page):
        self.assertTrue(bank_page.startswith(self.sandbox.rabobank_url + "/openapi/oauth2/authorize"), bank_page)
        return self.sandbox.approve_rabobank(bank_page)


@tagged("post_install", "-at_install")
class RabobankSandboxCase(RabobankSandbox, AccountTestInvoicingCommon, HttpCase):
    """The demo Rabobank journal linked through the sandbox, for other
    addons' tests that need a working Rabobank link to start from."""
