# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A bank in memory for the framework's tests (not shipped as a bank):
pages, tokens that expire, and failures that can be injected."""

import datetime
from decimal import Decimal
from unittest.mock import patch
from urllib.parse import urlencode

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from ..tools import provider as bp

TEST_IBAN = "NL91ABNA0417164300"
OTHER_IBAN = "NL20INGB0001234567"
SAVINGS_IBAN = "NL69INGB0123456789"
COUNTERPARTY_IBAN = "NL02ABNA0123456789"


def tx(bank_id, day, amount, text="", **kwargs):
    return bp.BankTransaction(
        bank_id=bank_id,
        booking_date=day,
        amount=Decimal(str(amount)),
        currency=kwargs.pop("currency", "EUR"),
        remittance_text=text,
        **kwargs,
    )


class MemoryBank(bp.BankProvider):
    """Serves ``transactions[iban]`` within the asked window, ``page_size``
    per page. ``fail_on_page`` raises ``fail_error`` when that page is read."""

    code = "testbank"
    name = "Testbank"

    def __init__(self):
        self.accounts = [
            bp.BankAccount(
                resource_id="acc-1",
                iban=TEST_IBAN,
                holder_name="Test B.V.",
                product="Zakelijke rekening",
            ),
            bp.BankAccount(
                resource_id="acc-2",
                iban=SAVINGS_IBAN,
                holder_name="Test B.V.",
                product="Spaarrekening",
                eligible=False,
                ineligible_reason="Savings accounts cannot be linked.",
            ),
        ]
        self.transactions = {}
        self.balances = {}
        self.page_size = 2
        self.fail_on_page = None
        self.fail_error = None
        self.expired_access_tokens = set()
        self.refresh_error = None
        self.refresh_count = 0
        self.fetch_calls = []
        self.revoked = []
        self.valid_codes = {"good-code"}

    # consent
    def authorization_url(self, redirect_uri, state):
        return "https://bank.example/authorize?" + urlencode(
            {"redirect_uri": redirect_uri, "state": state}
        )

    def exchange_code(self, code, redirect_uri):
        if code not in self.valid_codes:
            raise bp.InvalidRequestError("Unknown authorization code", http_status=400)
        return bp.TokenSet(access_token="access-0", refresh_token="refresh-0")

    def refresh(self, tokens):
        if self.refresh_error:
            raise self.refresh_error
        self.refresh_count += 1
        return bp.TokenSet(
            access_token=f"access-{self.refresh_count}",
            refresh_token=f"refresh-{self.refresh_count}",
        )

    def revoke(self, tokens):
        self.revoked.append(tokens)

    def _check(self, tokens):
        if tokens.access_token in self.expired_access_tokens:
            raise bp.TokenExpiredError("Access token expired", http_status=401)

    def list_accounts(self, tokens):
        self._check(tokens)
        return list(self.accounts)

    def fetch_transactions(self, tokens, account, date_from, date_to):
        self._check(tokens)
        self.fetch_calls.append((account.iban, date_from, date_to))
        rows = [
            t
            for t in self.transactions.get(account.iban, [])
            if date_from <= t.booking_date <= date_to
        ]
        pages = [
            rows[i : i + self.page_size] for i in range(0, len(rows), self.page_size)
        ] or [[]]
        for number, page in enumerate(pages, start=1):
            if self.fail_on_page == number:
                raise self.fail_error or bp.ProtocolError(f"Page {number} cut short")
            yield bp.TransactionPage(transactions=page)

    def fetch_balance(self, tokens, account):
        self._check(tokens)
        return self.balances.get(account.iban)


def run_fetch(env, journal):
    """"Fetch now" as the user clicks it, then the queued fetch run as the
    background worker does; the result as a notification's params."""
    params = journal.action_bank_link_fetch()["params"]
    if params["type"] == "info":
        Fetch = env["account.bank.link.fetch"]
        Fetch._cron_bank_link_run_queued()
        env.invalidate_all()
        job = Fetch.search(
            [("link_account_id", "=", journal.bank_link_account_id.id), ("unattended", "=", False)],
            limit=1,
        )
        params = job._bank_link_result_params()
    env.invalidate_all()
    return params


def with_payment_group(env, groups):
    """OCA's account_payment_order (installed with our payment addon) lets only
    its "Accounting / Payments" group edit bank accounts: accountants need it."""
    payment = env.ref("account_payment_order.group_account_payment", raise_if_not_found=False)
    return groups | payment if payment else groups


class BankLinkCase(AccountTestInvoicingCommon):
    """A Dutch company (EUR) with a bank journal linked to the memory bank."""

    country_code = "NL"

    @classmethod
    def get_default_groups(cls):
        return with_payment_group(cls.env, super().get_default_groups())

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Like production, the framework commits rotated tokens through a
        # second cursor and commits between accounts in the cron; in test
        # mode both stay inside the test's transaction.
        if not cls.registry.in_test_mode():
            cls.registry.enter_test_mode(cls.cr)
            cls.addClassCleanup(cls.registry.leave_test_mode)
        cls.bank = MemoryBank()
        Link = cls.env.registry["account.bank.link"]
        LinkAccount = cls.env.registry["account.bank.link.account"]
        selection = [("testbank", "Testbank")]
        for field in (Link._fields["provider"], LinkAccount._fields["provider"]):
            cls.startClassPatcher(patch.object(field, "selection", selection))
            cls.startClassPatcher(patch.object(field, "_selection", dict(selection)))
        cls.startClassPatcher(
            patch.object(Link, "_bank_link_get_provider", lambda self: cls.bank)
        )
        cls.startClassPatcher(
            patch.object(Link, "_bank_link_provider_class", lambda self: type(cls.bank))
        )
        cls.company = cls.company_data["company"]
        cls.journal = cls.company_data["default_journal_bank"]
        cls.journal.bank_acc_number = TEST_IBAN
        cls.today = datetime.date(2026, 3, 10)

    def setUp(self):
        super().setUp()
        # Each test gets a fresh bank; the class patch reads cls.bank.
        type(self).bank = MemoryBank()

    @classmethod
    def make_link(
        cls,
        company=None,
        journal=None,
        iban=TEST_IBAN,
        state="linked",
        start_date=None,
        **account_vals,
    ):
        company = company or cls.company
        journal = journal or cls.journal
        link = cls.env["account.bank.link"].create(
            {
                "company_id": company.id,
                "provider": "testbank",
                "state": state,
                "consent_date": datetime.date(2026, 1, 1),
                "consent_valid_until": datetime.date(2026, 6, 30),
                "legal_representative_name": "Jan de Vries",
                "legal_representative_email": "jan@example.com",
                "legal_representative_confirmed": True,
            }
        )
        link._bank_link_secret()._store_token_set(
            bp.TokenSet(access_token="access-0", refresh_token="refresh-0")
        )
        account = cls.env["account.bank.link.account"].create(
            {
                "link_id": link.id,
                "iban": iban,
                "resource_id": "acc-1",
                "currency_code": (journal.currency_id or company.currency_id).name,
                "journal_id": journal.id,
                "start_date": start_date or datetime.date(2026, 3, 1),
                **account_vals,
            }
        )
        return link, account

    def statement_lines(self, account):
        return self.env["account.bank.statement.line"].search(
            [("nl_bank_link_account_id", "=", account.id)], order="internal_index, id"
        )
