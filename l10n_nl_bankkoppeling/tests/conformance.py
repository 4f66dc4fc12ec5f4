# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The conformance suite every bank addon runs against its own bank in the
local sandbox (real HTTPS, mutual TLS, the bank's consent pages; nothing
mocked but the waits between retries).

Two mixins, neither a test case by itself (so nothing here runs twice):

* :class:`SandboxConformance`: consent through the bank's pages, refresh
  (with or without refresh-token rotation, as the provider class's
  ``rotates_refresh_token`` says), paging without gaps or doubles over
  several fetches, the fault matrix (401 that persists, 401 once, 403, 429,
  passing 429/500, 500 in the scheduled fetch, time-out, a page cut short,
  a malformed page, the token endpoint down while refreshing, the consent
  expiring, revoked or withdrawn during a fetch, no tokens kept after the
  consent ended) and the OAuth ``state`` (bound to user, link and company,
  used once).
* :class:`SettingsConformance`: settings validation (incomplete settings,
  a key of another certificate, an expired certificate, http and foreign
  production endpoints), eligibility (an ineligible account is refused with
  a Dutch reason) and the security checklist (a non-admin bank-link user
  reads, writes or creates no secret and no endpoint, over the ORM and
  XML-RPC; no key in an attachment or behind ``/web/content``).

A bank addon runs them with a small subclass that gives the hooks::

    from odoo.addons.l10n_nl_bankkoppeling.tests import conformance

    @tagged("post_install", "-at_install")
    class TestMyBankConformance(conformance.SandboxConformance, AccountTestInvoicingCommon, HttpCase):
        bank = "mybank"                  # provider code = the sandbox's bank name
        provider_class = MyBankProvider  # its __init__ takes (config, sleep=, retry=)
        retry_policy_class = RetryPolicy # the client's retry policy (max_attempts=)
        iban = "NL.."                    # the demo account the suite fetches
        journal_code = "MYB"             # its demo journal (setup/lib/demo_data.py)
        opening_balance = Decimal("...") # its opening balance in the scenario
        page_size_setting = "page_size"  # the scenario key of the bank's page size
        transactions_path = "/v1/accounts/*/transactions"  # sandbox fault paths
        token_path = "/oauth/token"
        next_page_marker = "next"        # in the query of every page after the first
        api_prefix = "/v1/"              # the bank's API calls (mutual TLS checked)
        access_token_seconds = 3600      # the sandbox's access-token lifetime
        consent_withdrawn_code = "..."   # the bank's error code for a withdrawn consent

        def approve(self, bank_page):    # the sandbox's consent pages, approved
            return self.sandbox.approve_mybank(bank_page)

    @tagged("post_install", "-at_install")
    class TestMyBankSettings(conformance.SettingsConformance, HttpCase):
        bank = "mybank"; bank_label = "My Bank"; ...   # see the class's hooks

Optional hooks (``adjust_scenario``, ``before_approval``,
``stored_refresh_token``, ``assert_no_tokens_kept``,
``expected_bank_balance``, ``book_extra``, ``assert_recovered``,
``assert_api_calls_authenticated``, ``bank_import_id``, ``lines_of_booking``) have a
default that fits a bank with one consent for all accounts; each is
documented where it is defined. The bank's own behaviour (ABN AMRO's
consent per account, ING's client id) stays as tests in the bank's
subclass.
"""

import base64
import dataclasses
import datetime
import json
import sys
import xmlrpc.client
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user
from odoo.tests.common import HOST, _super_send
from odoo.tools import html2plaintext

from . import pem_factory
from .common import run_fetch, with_payment_group
from .route_helpers import confirm

REPO = Path(__file__).resolve().parents[2]
DEMO_SCENARIO = REPO / "setup" / "bank_sandbox" / "demo_scenario.json"

TRANSIENT = "The bank could not be reached or gave an incomplete answer"
CONSENT_ENDED = "The consent at the bank has ended"
CONSENT_WITHDRAWN = "The bank reports that the consent was withdrawn"


def import_repo_helpers():
    """tests/sandbox.py (starts the sandbox) and setup/lib/demo_data.py (the
    demo's journals and links): the tests use what ./setup/demo uses."""
    for folder in (REPO / "tests", REPO / "setup" / "lib"):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    import demo_data
    import sandbox

    return sandbox, demo_data


OUR_MODULES = ("l10n_nl_bankkoppeling", "account_bank_link_")


def _our_public_actions(model_class):
    """The ``action_*`` methods our addons define on a model: what a form's
    buttons call, callable over RPC by any user with a record id."""
    return sorted({
        name
        for cls in model_class.__mro__
        if (getattr(cls, "_module", None) or "").startswith(OUR_MODULES)
        for name, value in vars(cls).items()
        if name.startswith("action_") and callable(value)
    })


def b64(data):
    return base64.b64encode(data)


class SandboxBankCase:
    """The bank's demo journal linked through the local sandbox, and the
    helpers to fetch and check it. A mixin: combine with
    ``AccountTestInvoicingCommon`` and ``HttpCase``."""

    country_code = "NL"
    password = "korenaar-conformance-1"

    # -- hooks: what the bank addon sets ----------------------------------
    bank = None
    provider_class = None
    retry_policy_class = None
    iban = None
    journal_code = None
    opening_balance = None
    page_size_setting = None
    #: Small pages: a fetch of a few days spans several pages, so that a
    #: fault can hit a page in the middle of it.
    page_size = 4
    transactions_path = None
    token_path = None
    next_page_marker = None
    #: Where the bank's API calls start (each must carry the client certificate).
    api_prefix = None
    access_token_seconds = None
    consent_withdrawn_code = None
    #: The text of the bank's answer when the holder withdrew the consent.
    consent_withdrawn_message = "The consent was revoked by the account holder"
    #: The link's state, and what it says, after the holder ended the consent
    #: at the bank: most banks answer as for an expired consent (401, then
    #: a refused refresh); one that says "withdrawn" (Rabobank) revokes.
    consent_revoked_outcome = ("expired", CONSENT_ENDED)
    #: Seconds per request of the client; the time-out test shortens it.
    client_timeout = 10.0

    @classmethod
    def adjust_scenario(cls, scenario):
        """Hook: change the demo scenario before the sandbox starts (call
        super() to keep the small pages)."""
        scenario[cls.bank][cls.page_size_setting] = cls.page_size

    @classmethod
    def bank_link(cls):
        """Hook: the draft link the suite consents with (default: the demo's
        link from ``demo_data.ensure_bank_links``). A bank configured by its
        registration makes the registration and the link here."""
        return cls.links.get(cls.bank) or cls.env["account.bank.link"].create({
            "company_id": cls.company.id,
            "provider": cls.bank,
            "legal_representative_name": cls.demo_data.LEGAL_REPRESENTATIVE[0],
            "legal_representative_email": cls.demo_data.LEGAL_REPRESENTATIVE[1],
        })

    def bank_page_prefix(self):
        """Hook: where the bank's consent pages start (default: the
        sandbox's URL of the bank, ``sandbox.<bank>_url``)."""
        return getattr(self.sandbox, f"{self.bank}_url") + "/"

    def approve(self, bank_page):
        """Hook: the sandbox's consent pages at ``bank_page`` approved for
        the account under test; the redirect back to Odoo."""
        raise NotImplementedError

    def before_approval(self, link, bank_page):
        """Hook: what the bank's registration does before the consent is
        given (nothing by default)."""

    def stored_refresh_token(self, account):
        """Hook: the refresh token Odoo keeps for ``account``."""
        tokens = account.link_id._bank_link_secret()._get_token_set()
        return tokens and tokens.refresh_token

    def assert_no_tokens_kept(self, link):
        """Hook: nothing of an ended consent's tokens is kept."""
        self.assertFalse(link._bank_link_secret()._get_token_set())

    def expected_bank_balance(self, expected, lines):
        """Hook: the balance the bank reports for the account, from the
        sandbox's account (``expected``) and Odoo's ``lines``."""
        return Decimal(str(expected["balance"]))

    def book_extra(self):
        """Hook: more rows the bank books with the new transactions (rows
        without a bank id, say); how many."""
        return 0

    def assert_recovered(self, account):
        """Hook: more checks after a fault is gone and the fetch passed."""

    def bank_import_id(self, bank_id):
        """Hook: how Odoo's import id of the booking the test gave the id
        ``bank_id`` ends (by default that id: the bank's id of the
        transaction). A bank whose identity is derived from it (de
        Volksbank's ``entryReference``) gives the derived part."""
        return bank_id

    def lines_of_booking(self, lines, bank_id):
        """Hook: the statement lines of the booking the test gave the id
        ``bank_id`` (by default those whose import id ends with
        :meth:`bank_import_id`)."""
        tail = self.bank_import_id(bank_id)
        return lines.filtered(lambda ln: ln.unique_import_id.endswith(tail))

    def assert_api_calls_authenticated(self, api_calls):
        """Hook: how the bank knows the caller on each API call (``api_calls``:
        the sandbox's log entries); by default mutual TLS."""
        self.assertTrue(all(e["client_cert"] for e in api_calls))

    # -- set-up -------------------------------------------------------------

    @classmethod
    def get_default_groups(cls):
        return with_payment_group(cls.env, super().get_default_groups())

    @classmethod
    def sandbox_urls(cls):
        urls = {"certs": str(cls.sandbox.certs.directory)}
        for bank in ("ing", "abnamro", "rabobank", "bunq"):
            if hasattr(cls.sandbox, f"{bank}_url"):
                urls[bank] = getattr(cls.sandbox, f"{bank}_url")
        # The client id and secret the sandbox gives the demo's registrations.
        for name in ("rabobank_client_id", "rabobank_client_secret"):
            if hasattr(cls.sandbox, name):
                urls[name] = getattr(cls.sandbox, name)
        return urls

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sandbox, cls.demo_data = import_repo_helpers()
        cls.scenario = json.loads(DEMO_SCENARIO.read_text())
        cls.adjust_scenario(cls.scenario)
        # As a dict, not scenario_file=: reset() reloads only a dict.
        cls.sandbox = cls.enterClassContext(sandbox.running_sandbox(scenario=cls.scenario))
        cls.company = cls.company_data["company"]
        # As the demo company: with a KvK number the wizard need not write
        # the company (which an accountant may not).
        cls.company.company_registry = "81234567"
        cls.journals = cls.demo_data.ensure_journals(cls.env, cls.company, remember_ids=False)
        cls.links = cls.demo_data.ensure_bank_links(cls.env, cls.company, cls.sandbox_urls(), remember_ids=False)
        # Banks whose settings live in the bank registration: the
        # registration as ./setup/demo makes it.
        cls.demo_data.ensure_bank_registrations(cls.env, cls.company, cls.sandbox_urls())
        cls.link = cls.bank_link()
        cls.link.legal_representative_confirmed = True
        cls.user = new_test_user(
            cls.env,
            login=f"korenaar_{cls.bank}",
            password=cls.password,
            groups="account.group_account_manager,account.group_account_user",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.user.groups_id |= with_payment_group(cls.env, cls.env["res.groups"])

    @classmethod
    def _request_handler(cls, session, request, /, **kwargs):
        # Odoo's test harness raises every time-out below 10 s to 10 s; the
        # time-out tests need the client's own, short one (loopback only).
        if urlsplit(request.url).hostname in (HOST, "localhost"):
            return _super_send(session, request, **kwargs)
        return super()._request_handler(session, request, **kwargs)

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        # Booking dates are Amsterdam dates: the sandbox's today, not ours.
        self.bank_today = datetime.date.fromisoformat(self.sandbox.info()["today"])
        # Waiting between retries is not under test: record the waits
        # instead of sleeping them. The retries themselves are real.
        self.sleeps = []
        self.retry_policy = self.retry_policy_class()
        original_init = self.provider_class.__init__
        test = self

        def init_without_waiting(provider, config, **kwargs):
            kwargs["sleep"] = test.sleeps.append
            kwargs["retry"] = test.retry_policy
            config = dataclasses.replace(config, timeout=test.client_timeout)
            original_init(provider, config, **kwargs)

        self.patch(self.provider_class, "__init__", init_without_waiting)

    # -- linking ------------------------------------------------------------

    def bank_redirect(self, start_url):
        """Odoo's start route as the user follows it: the bank's page."""
        self.authenticate(self.user.login, self.password)
        response = confirm(self, start_url)
        self.assertEqual(response.status_code, 303, response.text[:1000])
        return response.headers["Location"]

    def callback(self, back):
        """The bank's redirect back, followed: Odoo's callback's answer."""
        query = dict(parse_qsl(urlsplit(back).query))
        self.assertIn("code", query, back)
        self.assertEqual(urlsplit(back).path, "/bank_link/callback")
        return self.url_open("/bank_link/callback?" + urlencode(query), allow_redirects=False)

    def consent_at_the_bank(self, start_url, link=None):
        """The browser: Odoo's start route, the bank's pages, Odoo's
        callback; where Odoo lands."""
        bank_page = self.bank_redirect(start_url)
        self.assertTrue(bank_page.startswith(self.bank_page_prefix()), bank_page)
        self.before_approval(link or self.link, bank_page)
        response = self.callback(self.approve(bank_page))
        self.assertEqual(response.status_code, 303, response.text[:1000])
        self.env.invalidate_all()
        return response.headers["Location"]

    def give_consent(self, link):
        self.consent_at_the_bank(link.with_user(self.user).action_start_consent()["url"], link)
        self.assertEqual(link.state, "linked", link.last_error)

    def link_and_fetch(self, days=90):
        """The demo journal linked from ``days`` back and fetched once:
        (journal as the accountant, its account at the bank)."""
        self.give_consent(self.link)
        account = self.link.account_ids.filtered(lambda a: a.iban == self.iban)
        self.assertTrue(account, self.link.account_ids.mapped("iban"))
        account.write(
            {
                "journal_id": self.journals[self.journal_code].id,
                "start_date": self.bank_today - datetime.timedelta(days=days),
            }
        )
        journal = self.journals[self.journal_code].with_user(self.user)
        self.assert_fetch_succeeds(journal)
        self.assert_complete(account)
        return journal, account

    def walk_wizard_to_the_bank(self, journal):
        """The journal's "Link bank" up to the consent step: (wizard, the
        action that goes to the bank)."""
        action = journal.with_user(self.user).action_bank_link_start()
        wizard = self.env["account.bank.link.wizard"].with_user(self.user).browse(action["res_id"])
        # Started from a journal with the bank's IBAN: the bank is chosen.
        self.assertEqual(wizard.provider, self.bank)
        self.assertEqual(wizard.company_registry, "81234567")
        wizard.action_next()
        # The demo's draft link knows the legal representative already.
        self.assertEqual(wizard.legal_representative_name, "Anna de Graaf")
        self.assertEqual(wizard.legal_representative_email, "directie@goudenkorenaar.example")
        wizard.legal_representative_confirmed = True
        wizard.action_next()
        self.assertEqual(wizard.step, "consent")
        return wizard, wizard.action_go_to_bank()

    # -- fetching -----------------------------------------------------------

    def fetch(self, journal):
        """Fetch now as the user does, then the queued fetch as the background
        worker runs it; the result as a notification's params."""
        return run_fetch(self.env, journal)

    def assert_fetch_succeeds(self, journal):
        params = self.fetch(journal)
        self.assertEqual(params["type"], "success", params["message"])

    def statement_lines(self, account):
        return self.env["account.bank.statement.line"].search(
            [("nl_bank_link_account_id", "=", account.id), ("nl_is_balance_correction", "=", False)]
        )

    def sandbox_account(self, iban=None):
        return next(a for a in self.sandbox.accounts(self.bank) if a["iban"] == (iban or self.iban))

    def assert_complete(self, account, bank_ids=()):
        """Every booked transaction at the bank is in Odoo exactly once: the
        count, the sum (the bank's balance minus the opening balance), the
        bank's balance and the bank's ids of ``bank_ids`` each on one line."""
        expected = self.sandbox_account()
        lines = self.statement_lines(account)
        import_ids = lines.mapped("unique_import_id")
        self.assertEqual(len(import_ids), len(set(import_ids)), "a transaction is imported twice")
        self.assertEqual(len(lines), expected["booked"])
        total = sum((Decimal(str(amount)) for amount in lines.mapped("amount")), Decimal(0))
        self.assertEqual(total, Decimal(str(expected["balance"])) - self.opening_balance)
        for bank_id in bank_ids:
            self.assertEqual(len(self.lines_of_booking(lines, bank_id)), 1, bank_id)
        self.assertFalse(
            self.env["account.bank.statement.line"].search_count(
                [("nl_bank_link_account_id", "=", account.id), ("nl_is_balance_correction", "=", True)]
            ),
            "a balance correction hides a lost or doubled transaction",
        )
        self.assertEqual(Decimal(str(account.bank_balance)), self.expected_bank_balance(expected, lines))
        # The journal agrees with the bank: no difference on the journal's card, and every
        # statement closes on its lines (a bank balance that counts pending bookings, as
        # Rabobank's and de Volksbank's, must not close a statement on it).
        self.assertTrue(account.journal_currency_id.is_zero(account.balance_difference),
                        f"the journal shows a balance difference of {account.balance_difference}")
        statements = lines.statement_id
        self.assertEqual(statements.filtered(lambda s: not s.is_complete), statements.browse(),
                         "a statement does not close on its lines")
        return lines

    def book_new_transactions(self, batch=1):
        """Four bookings arrive at the bank after the first fetch: two
        today, two in the days the next fetch reads again (and the bank's
        :meth:`book_extra`). Their bank ids."""
        bookings = [
            (0, "1210.00", "Bakkerij Het Oosten B.V."),
            (0, "-86.35", "Makro Amsterdam"),
            (1, "333.33", "Lunchroom De Wit"),
            (3, "-1200.00", "Verhuur Pand B.V."),
        ]
        ids = []
        for number, (days_ago, amount, name) in enumerate(bookings, start=1):
            bank_id = f"FAULT-{self.bank.upper()}-{self._testMethodName[-6:]}-{batch}{number:03d}"
            ids.append(bank_id)
            self.sandbox.add_transactions(
                self.bank,
                self.iban,
                [
                    {
                        "days_ago": days_ago,
                        "amount": amount,
                        "counterparty_name": name,
                        "counterparty_iban": "NL91ABNA0417164300",
                        "description": f"Fault test {batch}-{number}",
                        "id": bank_id,
                    }
                ],
            )
        self.extra_booked = self.book_extra()
        return ids

    def bank_log(self, since=0):
        return self.sandbox.log(bank=self.bank, since=since)

    def transaction_calls(self, since):
        return [e for e in self.bank_log(since) if e["path"].endswith("/transactions")]

    def refreshes(self, since=0):
        return [e for e in self.bank_log(since) if e.get("grant_type") == "refresh_token"]

    def log_position(self):
        log = self.bank_log()
        return log[-1]["seq"] if log else 0

    def last_message(self, record):
        messages = self.env["mail.message"].search(
            [("model", "=", record._name), ("res_id", "=", record.id)], order="id desc", limit=5
        )
        # Tracked field changes are messages without a body.
        return next((html2plaintext(m.body) for m in messages if m.body), "")

    def assert_told(self, journal, link, text):
        """``text`` is the latest message in the journal's and the link's chatter."""
        for record in (journal, link):
            message = " ".join(self.last_message(record).split())
            self.assertIn(" ".join(text.split()), message, record._name)


class SandboxConformance(SandboxBankCase):
    """Consent, refresh, paging, the fault matrix and the OAuth state,
    against the bank's sandbox."""

    def first_two_pages_pass(self):
        """Let the first two pages of the next fetch through: a "time-out"
        of zero seconds answers normally, so the real fault hits page 3."""
        return {"path": self.transactions_path, "bank": self.bank, "error": "timeout", "seconds": 0, "count": 2}

    def on_page_three(self, **fault):
        return [self.first_two_pages_pass(), {"path": self.transactions_path, **fault}]

    def assert_fault_then_recovery(self, faults, state, message, *, cron=False, renew=False):
        """The whole story of one fault: a linked journal, new bookings at
        the bank, a fetch that meets ``faults``, then the fault gone."""
        journal, account = self.link_and_fetch()
        link = account.link_id
        before = self.statement_lines(account)
        new_ids = self.book_new_transactions()
        since = self.log_position()
        self.sandbox.set_faults(faults)

        if cron:
            self.env["account.bank.link.account"]._cron_bank_link_fetch()
            self.env.invalidate_all()
        else:
            params = self.fetch(journal)
            self.assertEqual(params["type"], "danger", params["message"])
            self.assertIn(message, params["message"])
        self.assertEqual(link.state, state)
        self.assertIn(message, link.last_error)
        self.assertTrue(link.last_error_at)
        self.assert_told(journal, link, link.last_error)
        # Nothing of the failed fetch is imported, not even the pages that
        # came in before the fault.
        self.assertEqual(self.statement_lines(account), before)
        attempt = self.env["account.bank.link.fetch"].search([("link_account_id", "=", account.id)], limit=1)
        self.assertEqual(attempt.state, "failed")
        self.assertEqual(attempt.unattended, cron)
        self.assertEqual(attempt.message, link.last_error)

        self.sandbox.clear_faults()
        if renew:
            # A fetch without consent asks for none at the bank.
            params = self.fetch(journal)
            self.assertEqual(params["type"], "danger")
            self.assertIn("Renew", params["message"])
            self.assertEqual(self.statement_lines(account), before)
            self.give_consent(link)
        self.assert_fetch_succeeds(journal)
        self.assertEqual(link.state, "linked")
        self.assertFalse(link.last_error)
        lines = self.assert_complete(account, new_ids)
        self.assertEqual(len(lines), len(before) + len(new_ids) + self.extra_booked)
        self.assert_recovered(account)
        return since

    def assert_fault_hit_page_three(self, since):
        calls = self.transaction_calls(since)
        self.assertEqual([c["status"] for c in calls[:2]], [200, 200])
        # Page 2 was asked with the bank's next-page marker: page 3 is the third.
        self.assertIn(self.next_page_marker, str(calls[1]["query"]))
        self.assertNotIn(calls[2].get("fault"), (None, "timeout"))

    # -- consent --------------------------------------------------------------

    def test_consent_through_the_banks_pages_links_the_account(self):
        journal = self.journals[self.journal_code]
        self.assertEqual(self.link.state, "draft")
        wizard, action = self.walk_wizard_to_the_bank(journal)
        # The wizard continues with the configured draft link.
        self.assertEqual(wizard.link_id, self.link)
        landing = self.consent_at_the_bank(action["url"])
        # Back in the wizard's dialog (an action with target "new"), not on a bare record.
        resume = self.env.ref("l10n_nl_bankkoppeling.action_bank_link_wizard_resume")
        self.assertTrue(landing.endswith(f"/odoo/action-{resume.id}/{wizard.id}"), landing)
        link = wizard.link_id
        self.assertEqual(link.state, "linked")
        self.assertIn(link.consent_date, {datetime.date.today(), self.bank_today})
        self.assertTrue(link.consent_valid_until)
        # The account is on the link; only accounts the bank lets link are.
        account = link.account_ids.filtered(lambda a: a.iban == self.iban)
        self.assertTrue(account, link.account_ids.mapped("iban"))
        self.assertTrue(self.stored_refresh_token(account))
        self.assertTrue(all(link.account_ids.mapped("eligible")))
        ineligible = {a["iban"] for a in self.sandbox.accounts(self.bank) if not a["eligible"]}
        self.assertTrue(ineligible, "the scenario has an account the bank does not let link")
        self.assertFalse(ineligible & set(link.account_ids.mapped("iban")))
        # Mutual TLS on every API call of this link.
        api_calls = [e for e in self.bank_log() if e["path"].startswith(self.api_prefix)]
        self.assertTrue(api_calls)
        self.assert_api_calls_authenticated(api_calls)

    # -- refresh --------------------------------------------------------------

    def test_refresh_after_the_access_token_expired(self):
        """Three fetches, each after the access token expired: each refreshes
        it. A bank that rotates refresh tokens (``rotates_refresh_token``)
        answers a stale one by ending the consent, so the rounds only pass
        when each new refresh token was kept; a bank that does not rotate
        may answer without one, and the old one is kept."""
        journal, account = self.link_and_fetch()
        since = self.log_position()
        kept = [self.stored_refresh_token(account)]
        self.assertTrue(kept[0])
        for batch in (1, 2, 3):
            self.sandbox.advance_clock(self.access_token_seconds + 100, calendar=False)
            new_ids = self.book_new_transactions(batch)
            self.assert_fetch_succeeds(journal)
            self.assert_complete(account, new_ids)
            kept.append(self.stored_refresh_token(account))
        refreshes = self.refreshes(since)
        self.assertEqual([e["status"] for e in refreshes], [200, 200, 200])
        self.assertFalse([e for e in self.bank_log() if e.get("note") == "refresh_token_reused"])
        self.assertTrue(all(kept))
        if self.provider_class.rotates_refresh_token:
            self.assertEqual(len(set(kept)), len(kept), "a rotated refresh token was not kept")
        else:
            # At least one refresh answer came without a new refresh token:
            # the old one stays and works on.
            self.assertTrue(any(old == new for old, new in zip(kept, kept[1:], strict=False)), kept)
        self.assertEqual(account.link_id.state, "linked")

    # -- paging -----------------------------------------------------------------

    def test_paging_without_gaps_or_doubles_over_several_fetches(self):
        since = self.log_position()
        journal, account = self.link_and_fetch()
        first = self.transaction_calls(since)
        following = [c for c in first if self.next_page_marker in str(c["query"])]
        self.assertGreater(len(following), 1, "the first fetch read several pages")
        for batch in (1, 2):
            before = self.statement_lines(account)
            new_ids = self.book_new_transactions(batch)
            since = self.log_position()
            self.assert_fetch_succeeds(journal)
            self.assertGreater(len(self.transaction_calls(since)), 1)
            lines = self.assert_complete(account, new_ids)
            self.assertEqual(len(lines - before), len(new_ids) + self.extra_booked)
            self.assertFalse(before - lines)
        # The overlap is read again: nothing new, nothing twice.
        self.assert_fetch_succeeds(journal)
        self.assertEqual(self.statement_lines(account), lines)
        self.assert_complete(account)
        # Every API call of the fetches carried the client certificate.
        self.assert_api_calls_authenticated([e for e in self.bank_log() if e["path"].startswith(self.api_prefix)])

    # -- faults -------------------------------------------------------------------

    def test_401_on_page_three_that_persists(self):
        since = self.assert_fault_then_recovery(self.on_page_three(error="401", count=None), "error", TRANSIENT)
        self.assert_fault_hit_page_three(since)
        # The framework refreshed the access token once and asked again.
        refreshes = self.refreshes(since)
        self.assertTrue(refreshes)
        self.assertEqual(refreshes[0]["status"], 200)

    def test_401_once_is_a_refresh_not_an_error(self):
        journal, account = self.link_and_fetch()
        new_ids = self.book_new_transactions()
        since = self.log_position()
        self.sandbox.set_faults(self.on_page_three(error="401"))
        self.assert_fetch_succeeds(journal)
        self.assertEqual(account.link_id.state, "linked")
        self.assert_complete(account, new_ids)
        self.assertTrue(self.refreshes(since))

    def test_403_on_page_three(self):
        since = self.assert_fault_then_recovery(
            self.on_page_three(error="403"), "error", "The bank refuses access to this account"
        )
        self.assert_fault_hit_page_three(since)

    def test_429_on_page_three_after_retries(self):
        since = self.assert_fault_then_recovery(
            self.on_page_three(error="429", retry_after=2, count=None), "error", "The bank asks to fetch less often"
        )
        self.assert_fault_hit_page_three(since)
        # Every attempt waited as long as the bank asked.
        self.assertEqual(self.sleeps[:3], [2.0] * 3)

    def test_429_and_500_that_pass_are_retried_without_doubles(self):
        journal, account = self.link_and_fetch()
        new_ids = self.book_new_transactions()
        self.sandbox.set_faults(
            [
                self.first_two_pages_pass(),
                {"path": self.transactions_path, "error": "429", "retry_after": 1},
                {"path": self.transactions_path, "error": "500", "count": 2},
            ]
        )
        self.assert_fetch_succeeds(journal)
        self.assertEqual(account.link_id.state, "linked")
        self.assertEqual(len(self.sleeps), 3)
        self.assert_complete(account, new_ids)

    def test_500_on_page_three_in_the_scheduled_fetch(self):
        since = self.assert_fault_then_recovery(
            self.on_page_three(error="500", count=None), "error", TRANSIENT, cron=True
        )
        self.assert_fault_hit_page_three(since)
        # Backoff 1, 2, 4 s between the four attempts.
        self.assertEqual(self.sleeps[:3], [1.0, 2.0, 4.0])

    def test_time_out_on_page_three(self):
        self.client_timeout = 1.0
        self.retry_policy = self.retry_policy_class(max_attempts=2)
        self.assert_fault_then_recovery(
            self.on_page_three(error="timeout", seconds=2.5, count=2), "error", TRANSIENT
        )
        failed = self.env["account.bank.link.fetch"].search([], order="id desc")[1]
        # The user reads the framework's words; what the client saw stays
        # for the administrator who diagnoses it with the bank.
        self.assertNotIn("did not answer", failed.message)
        # bunq names its pages "payments page N".
        self.assertRegex(failed.sudo().technical_detail, r"did not answer \((transactions|payments) page 3\) after 2 attempt\(s\)")
        self.assertEqual(len(self.sleeps), 1)

    def test_page_three_cut_short(self):
        since = self.assert_fault_then_recovery(self.on_page_three(error="truncate"), "error", TRANSIENT)
        self.assert_fault_hit_page_three(since)

    def test_page_three_malformed(self):
        since = self.assert_fault_then_recovery(self.on_page_three(error="malformed"), "error", TRANSIENT)
        self.assert_fault_hit_page_three(since)

    def test_token_endpoint_unavailable_while_refreshing(self):
        # The access token has expired: the fetch must refresh, and the
        # bank's token endpoint is down. The consent itself is fine.
        journal, account = self.link_and_fetch()
        self.sandbox.advance_clock(self.access_token_seconds + 100, calendar=False)
        new_ids = self.book_new_transactions()
        self.sandbox.set_faults({"path": self.token_path, "method": "POST", "error": "503", "count": None})
        params = self.fetch(journal)
        self.assertEqual(params["type"], "danger")
        link = account.link_id
        self.assertEqual(link.state, "error")
        self.assertIn(TRANSIENT, link.last_error)
        self.assert_told(journal, link, link.last_error)
        self.sandbox.clear_faults()
        self.assert_fetch_succeeds(journal)
        self.assertEqual(link.state, "linked")
        self.assert_complete(account, new_ids)

    def test_consent_expires_during_the_fetch(self):
        self.assert_fault_then_recovery(
            self.on_page_three(error="expire_consent"), "expired", CONSENT_ENDED, renew=True
        )

    def test_consent_revoked_during_the_fetch(self):
        # Most banks answer a revoked consent as an expired one (401, then a
        # refused refresh; bank-protocols.md: "consent needed again"), so
        # the link asks for a renewal (``consent_revoked_outcome``).
        self.assert_fault_then_recovery(
            self.on_page_three(error="revoke_consent"), *self.consent_revoked_outcome, renew=True
        )

    def test_bank_says_consent_withdrawn(self):
        # When the bank does say so (403, "consent ... revoked"), the link
        # is revoked rather than expired; renewing brings everything back.
        self.assert_fault_then_recovery(
            self.on_page_three(
                error="403", code=self.consent_withdrawn_code, message=self.consent_withdrawn_message
            ),
            "revoked",
            CONSENT_WITHDRAWN,
            renew=True,
        )

    def test_consent_ended_keeps_no_tokens(self):
        journal, account = self.link_and_fetch()
        self.sandbox.end_consents(self.bank, "revoke")
        params = self.fetch(journal)
        self.assertEqual(params["type"], "danger")
        state = self.consent_revoked_outcome[0]
        self.assertEqual(account.link_id.state, state)
        # The dead consent's tokens are wiped, not kept around.
        self.assert_no_tokens_kept(account.link_id)
        self.assertEqual(journal.bank_link_state, state)

    # -- the OAuth state ------------------------------------------------------------

    def test_oauth_state_is_bound_to_user_link_and_company_and_used_once(self):
        bank_page = self.bank_redirect(self.link.with_user(self.user).action_start_consent()["url"])
        self.before_approval(self.link, bank_page)
        back = self.approve(bank_page)
        query = dict(parse_qsl(urlsplit(back).query))
        state = query["state"]

        def callback(state):
            return self.url_open("/bank_link/callback?" + urlencode(dict(query, state=state)), allow_redirects=False)

        # Another user (the administrator) cannot use it.
        self.authenticate("admin", "admin")
        response = callback(state)
        self.assertEqual(response.status_code, 400)
        self.assertIn("another user", response.text)
        # Nor can the user with it moved to another link (the signature breaks).
        other_link = self.env["account.bank.link"].create({"provider": self.bank, "company_id": self.company.id})
        body, signature = state.split(".")
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        payload["l"] = other_link.id
        moved = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")
        self.authenticate(self.user.login, self.password)
        response = callback(f"{moved}.{signature}")
        self.assertEqual(response.status_code, 400)
        self.assertIn("not valid", response.text)
        self.env.invalidate_all()
        self.assertFalse(other_link._bank_link_secret()._get_token_set())
        self.assertNotEqual(self.link.state, "linked")
        # The user who started it links the bank with it, once.
        response = callback(state)
        self.assertEqual(response.status_code, 303, response.text[:1000])
        self.env.invalidate_all()
        self.assertEqual(self.link.state, "linked", self.link.last_error)
        response = callback(state)
        self.assertEqual(response.status_code, 400)
        self.assertIn("used already", response.text)
        # A correctly signed state naming another company than the link's.
        other = self.setup_other_company(name="Vreemde B.V.")["company"]
        payload.update(l=self.link.id, c=other.id)
        foreign = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")
        response = callback(f"{foreign}.{self.link._bank_link_state_signature(foreign)}")
        self.assertEqual(response.status_code, 400)
        self.assertIn("another company", response.text)


class SettingsConformance:
    """Settings validation, eligibility and the security checklist for the
    bank's registration fields. A mixin: combine with ``HttpCase`` (the
    security checklist goes over XML-RPC and HTTP).

    The settings live on the company's bank registration
    (``account.bank.registration``, ``settings_model``) or, for a bank not
    moved to it yet, on the link itself (``settings_model =
    "account.bank.link"``); ``self.settings`` is that record and
    ``self.link`` the consent that uses it."""

    # -- hooks: what the bank addon sets ----------------------------------
    bank = None
    bank_label = None
    #: Where the bank's settings live: the company's bank registration, or
    #: (a bank not moved to it yet) the link.
    settings_model = "account.bank.registration"
    #: (certificate field, its key's field, the certificate's label, its
    #: expiry field): an mTLS pair every bank has.
    tls_certificate_field = None
    tls_key_field = None
    tls_certificate_label = None
    tls_certificate_expiry_field = None
    #: Secrets no bank-link user may read or write (keys, certificates,
    #: API keys, client secrets).
    secret_fields = ()
    #: The private keys among them (never served, never in an attachment).
    key_fields = ()
    #: The trust anchor a sandbox link may use (admin only), if any.
    ca_certificate_field = None
    #: The environment field and the endpoint URL fields (admin only).
    environment_field = None
    endpoint_fields = ()
    #: What an incomplete configuration names as missing.
    missing_setting_labels = ()
    #: Texts the wizard shows for this bank: {field: [phrases]}.
    wizard_texts = {}
    #: Unattended fetches a day of an account of this bank.
    unattended_fetches_per_day = None

    def configure_values(self):
        """Hook: complete, valid settings (client id, keys, certificates, API
        key) with the pair ``self.tls_key`` / ``self.tls_certificate_pem``."""
        raise NotImplementedError

    def eligible_account(self):
        """Hook: a ``BankAccount`` this bank lets link."""
        raise NotImplementedError

    def ineligible_account(self):
        """Hook: (a ``BankAccount`` this bank does not let link, a phrase of
        its English reason, a phrase of its Dutch reason)."""
        raise NotImplementedError

    # -- set-up -------------------------------------------------------------

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tls_key = pem_factory.make_key()
        cls.other_key = pem_factory.make_key()
        cls.tls_certificate_pem, cls.tls_certificate = pem_factory.certificate_pem(cls.tls_key, "TLS TPP")
        cls.link = cls.env["account.bank.link"].create({"provider": cls.bank})
        if cls.settings_model == "account.bank.link":
            cls.settings = cls.link
        else:
            cls.settings = cls.env[cls.settings_model].create({"provider": cls.bank})
        company = cls.env.company
        cls.clerk = new_test_user(  # invoicing only: a bank-link user by implication
            cls.env,
            login=f"{cls.bank}_clerk",
            groups="account.group_account_invoice",
            company_id=company.id,
            company_ids=[company.id],
        )
        cls.accountant = new_test_user(
            cls.env,
            login=f"{cls.bank}_boekhouder",
            groups="account.group_account_user,l10n_nl_bankkoppeling.group_bank_link_user",
            company_id=company.id,
            company_ids=[company.id],
        )

    def configure(self, settings=None):
        """``settings`` (default: the link's) filled in completely."""
        settings = settings or self.settings
        settings.write(self.configure_values())
        return settings

    def production_settings(self):
        """Complete settings in production: a new link's (settings on the
        link) or the company's registration (one per company and bank)."""
        if self.settings_model == "account.bank.link":
            settings = self.configure(self.env["account.bank.link"].create({"provider": self.bank}))
        else:
            settings = self.configure()
        settings[self.environment_field] = "production"
        return settings

    def rpc(self, user, model, method, *args, **kwargs):
        return self.xmlrpc_object.execute_kw(self.env.cr.dbname, user.id, user.login, model, method, list(args), kwargs)

    def assert_refused(self, user, model, method, *args, **kwargs):
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.rpc(user, model, method, *args, **kwargs)
        self.assertRegex(caught.exception.faultString, "not allowed|AccessError|access|rights")

    # -- the bank and its settings ----------------------------------------------

    def test_bank_is_a_bank_to_choose(self):
        labels = dict(self.env["account.bank.link"]._fields["provider"]._description_selection(self.env))
        self.assertEqual(labels.get(self.bank), self.bank_label)
        self.assertEqual(self.link.name, f"{self.bank_label} - {self.env.company.name}")
        wizard = self.env["account.bank.link.wizard"].create({"provider": self.bank})
        self.assertEqual(wizard.provider, self.bank)
        for field, phrases in self.wizard_texts.items():
            for phrase in phrases:
                self.assertIn(phrase, wizard[field])

    def test_unattended_fetches_a_day(self):
        self.configure()
        account = self.env["account.bank.link.account"].create({"link_id": self.link.id, "iban": self.eligible_account().iban})
        self.assertEqual(account._bank_link_max_unattended(), self.unattended_fetches_per_day)

    def test_incomplete_settings_name_what_is_missing(self):
        with self.assertRaises(UserError) as caught:
            self.link._bank_link_get_provider()
        for label in self.missing_setting_labels:
            self.assertIn(label, str(caught.exception))

    def test_valid_certificate_is_accepted_and_its_expiry_shown(self):
        self.configure()
        self.assertEqual(self.settings[self.tls_certificate_expiry_field], self.tls_certificate.not_valid_after.date())
        self.assertTrue(self.link._bank_link_get_provider())

    def test_key_of_another_certificate_is_refused(self):
        self.configure()
        with self.assertRaises(ValidationError) as caught:
            self.settings[self.tls_key_field] = b64(pem_factory.key_pem(self.other_key))
        self.assertIn(f"does not belong to {self.tls_certificate_label}", str(caught.exception))

    def test_expired_certificate_is_refused(self):
        expired_pem, expired = pem_factory.certificate_pem(self.tls_key, days_valid=-2, days_ago_start=30)
        with self.assertRaises(ValidationError) as caught:
            self.settings[self.tls_certificate_field] = b64(expired_pem)
        message = str(caught.exception)
        self.assertIn("expired on", message)
        self.assertIn(self.settings._bank_link_format_date(expired.not_valid_after.date()), message)

    def test_production_endpoints_are_the_banks_own_https_hosts(self):
        link = self.production_settings().sudo()
        for field in self.endpoint_fields:
            production = link[field]
            host = urlsplit(production).hostname
            self.assertTrue(production.startswith("https://"), field)
            for url in (f"http://{host}", f"https://{host}.attacker.example", "https://attacker.example", "https://127.0.0.1:9"):
                with self.assertRaises(ValidationError, msg=f"{field}: {url}") as caught:
                    with self.env.cr.savepoint():
                        link.write({field: url})
                        link.flush_recordset()
                self.assertIn(link._fields[field].string, str(caught.exception))
            self.assertEqual(link[field], production)
        # A sandbox may be local, over https still.
        link[self.environment_field] = "sandbox"
        for field in self.endpoint_fields:
            link.write({field: "https://127.0.0.1:8443"})
            with self.assertRaises(ValidationError, msg=field):
                with self.env.cr.savepoint():
                    link.write({field: "http://127.0.0.1:8443"})
                    link.flush_recordset()

    # -- eligibility ------------------------------------------------------------

    def test_eligible_account_is_accepted(self):
        self.assertEqual(self.link._bank_link_account_eligibility(self.eligible_account()), (True, False))

    def test_ineligible_account_is_refused_with_a_dutch_reason(self):
        account, english, dutch = self.ineligible_account()
        eligible, reason = self.link.with_context(lang="en_US")._bank_link_account_eligibility(account)
        self.assertFalse(eligible)
        self.assertIn(english, reason)
        self.env["res.lang"]._activate_lang("nl_NL")
        eligible, reason = self.link.with_context(lang="nl_NL")._bank_link_account_eligibility(account)
        self.assertFalse(eligible)
        self.assertIn(dutch, reason)
        self.assertNotIn(english, reason)

    # -- security checklist -----------------------------------------------------

    def test_bank_link_user_reads_no_secret_and_no_endpoint(self):
        settings = self.production_settings()
        if settings._name == "account.bank.link":
            self.assertTrue(settings.with_user(self.accountant)[self.tls_certificate_expiry_field])  # shown to the accountant
        else:
            # The registration is the administrators' alone: a user finds none.
            for user in (self.clerk, self.accountant):
                self.assert_refused(user, settings._name, "search_read", [], fields=["name"])
        for field in (*self.secret_fields, self.environment_field, *self.endpoint_fields):
            with self.assertRaises(AccessError, msg=field):
                settings.with_user(self.accountant).read([field])
            self.assert_refused(self.clerk, settings._name, "read", [settings.id], [field])
        if settings._name != "account.bank.link":
            # The user's link still works: it reads the registration in code only.
            self.assertTrue(self.link.with_user(self.accountant)._bank_link_get_provider())

    def test_bank_link_user_writes_no_secret_and_no_endpoint(self):
        link = self.production_settings()
        production = {field: link.sudo()[field] for field in self.endpoint_fields}
        planted = {
            self.environment_field: "sandbox",
            **{field: b64(pem_factory.key_pem(self.other_key)).decode() for field in self.key_fields},
            **{field: "http://127.0.0.1:9" for field in self.endpoint_fields},
        }
        if self.ca_certificate_field:
            planted[self.ca_certificate_field] = b64(self.tls_certificate_pem).decode()
        for user in (self.clerk, self.accountant):
            for field, value in planted.items():
                self.assert_refused(user, link._name, "write", [link.id], {field: value})
                self.assert_refused(user, link._name, "create", {"provider": self.bank, field: value})
        link.invalidate_recordset()
        self.assertEqual(link.sudo()[self.environment_field], "production")
        self.assertEqual({field: link.sudo()[field] for field in self.endpoint_fields}, production)
        self.assertEqual(base64.b64decode(link.sudo()[self.tls_key_field]), pem_factory.key_pem(self.tls_key))
        if self.ca_certificate_field:
            self.assertFalse(link.sudo()[self.ca_certificate_field])

    def test_bank_link_user_calls_no_action_of_the_registration(self):
        """A button of the registration's form is a public method anyone can
        call over XML-RPC with a record id (Triodos's and bunq's register
        at the bank and replace the client's secrets). Each refuses a user
        who may not change the registration (an access error, not a
        missing setting) before it works with ``sudo()``."""
        if self.settings_model == "account.bank.link":
            self.skipTest("a link's actions are the bank-link user's to call")
        settings = self.production_settings()
        actions = _our_public_actions(type(settings))
        if not actions:
            self.skipTest(f"{self.bank_label}'s registration has no action of its own")
        before = {field: settings.sudo()[field] for field in self.secret_fields}
        for user in (self.clerk, self.accountant):
            for name in actions:
                with self.assertRaises(xmlrpc.client.Fault, msg=name) as caught:
                    self.rpc(user, settings._name, name, [settings.id])
                # 4: Odoo's AccessError over XML-RPC.
                self.assertEqual(caught.exception.faultCode, 4, f"{name}: {caught.exception.faultString}")
        settings.invalidate_recordset()
        self.assertEqual({field: settings.sudo()[field] for field in self.secret_fields}, before)

    def test_no_key_in_an_attachment_and_no_route_serves_it(self):
        link = self.production_settings()
        for user in (self.clerk, self.accountant):
            rows = self.rpc(
                user,
                "ir.attachment",
                "search_read",
                [("res_model", "=", link._name), ("res_field", "!=", False)],
                fields=["datas", "res_field"],
            )
            self.assertEqual(rows, [], "credential files are field attachments again")
        # Not even the system keeps them there: there is nothing to serve.
        self.assertFalse(
            self.env["ir.attachment"].sudo().search_count(
                [("res_model", "=", link._name), ("res_field", "in", list(self.secret_fields))]
            )
        )
        self.authenticate(self.clerk.login, self.clerk.login)
        for field in self.key_fields:
            response = self.url_open(f"/web/content/{link._name}/{link.id}/{field}?download=true")
            self.assertNotEqual(response.status_code, 200, f"{field} was served")
            self.assertNotIn(b"PRIVATE KEY", response.content)

    def test_form_shows_keys_to_administrators_only(self):
        Settings = self.env[self.settings_model]
        admin_form = Settings.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn(f'name="{self.tls_certificate_expiry_field}"', admin_form)
        for field in self.key_fields:
            self.assertIn(f'name="{field}"', admin_form)
        if self.settings_model != "account.bank.link":
            # The registration's form is the administrators' only.
            self.assertFalse(Settings.with_user(self.accountant).has_access("read"))
            return
        user_form = Settings.with_user(self.accountant).get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn(f'name="{self.tls_certificate_expiry_field}"', user_form)
        for field in self.secret_fields:
            self.assertNotIn(f'name="{field}"', user_form)
