# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
from urllib.parse import parse_qs, urlparse

from freezegun import freeze_time

from odoo.tests import HttpCase, new_test_user, tagged

from .common import TEST_IBAN, BankLinkCase
from .route_helpers import confirm


@tagged("post_install", "-at_install")
class TestBankLinkConsent(BankLinkCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_password = "boekhouder-wachtwoord-1"
        cls.accountant = new_test_user(
            cls.env,
            login="consent_boekhouder",
            password=cls.user_password,
            groups="account.group_account_manager,account.group_account_user",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def setUp(self):
        super().setUp()
        self.link, _account = self.make_link(state="consent_pending")
        self.link.account_ids.unlink()
        self.link._bank_link_wipe_secrets()

    def start(self):
        """Log in and follow /bank_link/start: returns the state sent to the bank."""
        self.authenticate("consent_boekhouder", self.user_password)
        response = confirm(self, f"/bank_link/start/{self.link.id}")
        self.assertEqual(response.status_code, 303, response.text[:500])
        location = urlparse(response.headers["Location"])
        self.assertEqual(location.netloc, "bank.example")
        return parse_qs(location.query)["state"][0]

    def callback(self, state, code="good-code"):
        return self.url_open(
            f"/bank_link/callback?state={state}&code={code}", allow_redirects=False
        )

    def test_valid_state_is_accepted_and_accounts_are_read(self):
        state = self.start()
        response = self.callback(state)
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertEqual(self.link.state, "linked")
        self.assertEqual(self.link._bank_link_secret().sudo().access_token, "access-0")
        accounts = self.link.account_ids
        self.assertEqual(
            set(accounts.mapped("iban")), {TEST_IBAN, "NL69INGB0123456789"}
        )
        savings = accounts.filtered(lambda a: not a.eligible)
        self.assertEqual(
            savings.ineligible_reason, "Savings accounts cannot be linked."
        )

    def test_replayed_state_is_rejected(self):
        state = self.start()
        self.assertEqual(self.callback(state).status_code, 303)
        response = self.callback(state)
        self.assertEqual(response.status_code, 400)
        self.assertIn("used already", response.text)

    def test_forged_state_is_rejected(self):
        state = self.start()
        body, signature = state.split(".")
        forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + signature
        response = self.callback(forged)
        self.assertEqual(response.status_code, 400)
        self.assertIn("not valid", response.text)
        self.assertEqual(self.link.state, "consent_pending")
        response = self.callback("nonsense")
        self.assertEqual(response.status_code, 400)

    def test_expired_state_is_rejected(self):
        state = self.start()
        later = datetime.datetime.now() + datetime.timedelta(minutes=11)
        with freeze_time(later):
            response = self.callback(state)
        self.assertEqual(response.status_code, 400)
        self.assertIn("expired", response.text)
        self.assertFalse(self.link._bank_link_secret().sudo().access_token)

    def test_state_of_another_user_is_rejected(self):
        state = self.start()
        self.authenticate("admin", "admin")
        response = self.callback(state)
        self.assertEqual(response.status_code, 400)
        self.assertIn("another user", response.text)

    def test_cross_company_state_is_rejected(self):
        other = self.setup_other_company(name="Vreemde B.V.")["company"]
        self.authenticate("consent_boekhouder", self.user_password)
        # A correctly signed state that names another company than the link's.
        state = (
            self.link.with_company(other)
            .sudo()
            ._bank_link_make_state(user=self.accountant)
        )
        self.link.company_id = other
        response = self.callback(state)
        self.assertEqual(response.status_code, 400)
        self.assertIn("another company", response.text)
        # The user may not start a link of a company they cannot access.
        response = self.url_open(
            f"/bank_link/start/{self.link.id}", allow_redirects=False
        )
        self.assertEqual(response.status_code, 400)

    def test_unknown_code_is_refused_and_logged(self):
        state = self.start()
        response = self.callback(state, code="stolen-code")
        self.assertEqual(response.status_code, 400)
        self.assertIn("refused the request", response.text)
        self.assertFalse(self.link._bank_link_secret().sudo().access_token)
        self.assertIn("refused the request", self.link.message_ids[0].body)

    def test_bank_refusal_is_shown_and_changes_nothing(self):
        state = self.start()
        response = self.url_open(
            f"/bank_link/callback?state={state}&error=access_denied",
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("did not give consent", response.text)
        self.assertEqual(self.link.state, "consent_pending")

    def test_invitation_lets_the_representative_consent_once(self):
        self.link.action_send_invitation()
        mail = self.env["mail.mail"].search(
            [("model", "=", "account.bank.link"), ("res_id", "=", self.link.id)],
            limit=1,
        )
        self.assertIn("jan@example.com", mail.email_to)
        url = next(
            part for part in mail.body_html.split('"') if "/bank_link/invite/" in part
        )
        path = urlparse(url).path
        response = confirm(self, path)
        self.assertEqual(response.status_code, 303)
        state = parse_qs(urlparse(response.headers["Location"]).query)["state"][0]
        response = self.callback(state)
        self.assertEqual(response.status_code, 200)
        self.assertIn("Consent given", response.text)
        self.assertEqual(self.link.state, "linked")
        # Usable once.
        response = self.url_open(path, allow_redirects=False)
        self.assertEqual(response.status_code, 400)

    def test_invitation_expires_after_7_days(self):
        self.link.action_send_invitation()
        mail = self.env["mail.mail"].search(
            [("model", "=", "account.bank.link"), ("res_id", "=", self.link.id)],
            limit=1,
        )
        url = next(
            part for part in mail.body_html.split('"') if "/bank_link/invite/" in part
        )
        with freeze_time(
            datetime.datetime.now() + datetime.timedelta(days=7, minutes=1)
        ):
            response = self.url_open(urlparse(url).path, allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        self.assertIn("expired", response.text)
