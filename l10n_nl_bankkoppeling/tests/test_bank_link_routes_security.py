# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Attacks on the consent routes over real HTTP, as a cross-site page, a
mail scanner, a reader of the link's messages and an anonymous visitor
would try them: a GET changes nothing, a POST without Odoo's CSRF token is
refused, the invitation link is readable nowhere but in the e-mail itself,
and a bank that is configured wrongly gets a message page, not a crash."""

import xmlrpc.client
from urllib.parse import parse_qs, urlparse

from odoo.tests import HttpCase, new_test_user, tagged

from ..tools import provider as bp
from .common import BankLinkCase
from .route_helpers import back_link, confirm, confirmation_form

PASSWORD = "route-aanvaller-1"


@tagged("post_install", "-at_install")
class TestBankLinkRoutesSecurity(BankLinkCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        users = {
            "accountant": "account.group_account_manager,account.group_account_user",
            "billing": "account.group_account_invoice",
            "portal": "base.group_portal",
        }
        for role, groups in users.items():
            user = new_test_user(
                cls.env,
                login=f"route_{role}",
                password=PASSWORD,
                groups=groups,
                company_id=cls.company.id,
                company_ids=[cls.company.id],
            )
            setattr(cls, role, user)

    def setUp(self):
        super().setUp()
        self.link, _account = self.make_link(state="consent_pending")
        self.link._bank_link_wipe_secrets()
        self.start_url = f"/bank_link/start/{self.link.id}"

    def nonce_hash(self):
        return self.link._bank_link_secret().sudo().consent_nonce_hash

    def invite(self):
        """The accountant invites the legal representative: (path, token)."""
        self.link.with_user(self.accountant).action_send_invitation()
        mail = self.env["mail.mail"].sudo().search(
            [("body_html", "ilike", "/bank_link/invite/")], order="id desc", limit=1
        )
        url = next(
            part for part in mail.body_html.split('"') if "/bank_link/invite/" in part
        )
        path = urlparse(url).path
        return path, path.rsplit("/", 1)[1]

    def invitation_open(self):
        return bool(self.link._bank_link_secret().sudo().invitation_token_hash)

    # ------------------------------------------------------------ start

    def test_cross_site_get_of_start_starts_no_consent(self):
        self.authenticate(self.accountant.login, PASSWORD)
        # What an <img src> or a link on another site makes the browser do.
        response = self.url_open(self.start_url, allow_redirects=False)
        self.assertEqual(response.status_code, 200, response.text[:500])
        self.assertNotIn("Location", response.headers)
        self.assertFalse(self.nonce_hash(), "no consent was started")
        # The page only asks; its button goes on.
        confirmation_form(self, response)
        response = confirm(self, self.start_url)
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertEqual(urlparse(response.headers["Location"]).netloc, "bank.example")
        self.assertTrue(self.nonce_hash())

    def test_post_to_start_without_csrf_token_is_refused(self):
        self.authenticate(self.accountant.login, PASSWORD)
        response = self.url_open(
            self.start_url, data={"wizard_id": "0"}, allow_redirects=False
        )
        self.assertEqual(response.status_code, 400)
        # A token of another session (the attacker's own) is no better.
        self.authenticate(self.billing.login, PASSWORD)
        _action, fields = confirmation_form(self, self.url_open(self.start_url))
        self.authenticate(self.accountant.login, PASSWORD)
        response = self.url_open(self.start_url, data=fields, allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.nonce_hash(), "no consent was started")

    def test_bank_configuration_error_at_start_is_a_message_page(self):
        def misconfigured(redirect_uri, state):
            raise bp.ConfigurationError("client id missing")

        self.bank.authorization_url = misconfigured
        self.authenticate(self.accountant.login, PASSWORD)
        response = confirm(self, self.start_url)
        self.assertEqual(response.status_code, 400, response.text[:500])
        self.assertIn("not configured correctly", response.text)
        self.assertTrue(back_link(response), "a way back into Odoo")

    # ------------------------------------------------------- invitation

    def test_scanner_get_of_invitation_does_not_use_it(self):
        path, _token = self.invite()
        self.authenticate(None, None)  # an anonymous visitor
        for _preview in range(2):  # a mail scanner and a link preview
            response = self.url_open(path, allow_redirects=False)
            self.assertEqual(response.status_code, 200, response.text[:500])
            self.assertNotIn("Location", response.headers)
        self.assertTrue(self.invitation_open(), "the invitation is still valid")
        self.assertFalse(self.nonce_hash())
        # The legal representative presses the button: now it is used, once.
        response = confirm(self, path)
        self.assertEqual(response.status_code, 303, response.text[:500])
        state = parse_qs(urlparse(response.headers["Location"]).query)["state"][0]
        self.assertFalse(self.invitation_open())
        response = self.url_open(
            f"/bank_link/callback?state={state}&code=good-code", allow_redirects=False
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.link.state, "linked")
        response = self.url_open(path, allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        self.assertIn("not valid", response.text)

    def test_post_to_invitation_without_csrf_token_is_refused(self):
        path, _token = self.invite()
        self.authenticate(None, None)  # an anonymous visitor
        response = self.url_open(path, data={"confirm": "1"}, allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        self.assertTrue(self.invitation_open(), "the invitation is not used")
        # With the page's own form it goes through.
        response = confirm(self, path)
        self.assertEqual(response.status_code, 303, response.text[:500])

    def test_bank_configuration_error_keeps_the_invitation(self):
        path, _token = self.invite()
        self.authenticate(None, None)  # an anonymous visitor

        def misconfigured(redirect_uri, state):
            raise bp.ConfigurationError("client id missing")

        self.bank.authorization_url = misconfigured
        response = confirm(self, path)
        self.assertEqual(response.status_code, 400, response.text[:500])
        self.assertIn("not configured correctly", response.text)
        self.assertTrue(self.invitation_open(), "usable again once it is fixed")

    def test_message_readers_never_find_the_invitation_link(self):
        path, token = self.invite()
        db = self.env.cr.dbname
        for user in (self.accountant, self.billing, self.portal):
            def call(model, method, *args, user=user, **kwargs):
                return self.xmlrpc_object.execute_kw(
                    db, user.id, PASSWORD, model, method, list(args), kwargs
                )

            for needle in (token, "/bank_link/invite/"):
                found = call(
                    "mail.message", "search_read", [("body", "ilike", needle)],
                    fields=["body"],
                )
                self.assertFalse(found, f"{user.login} reads the invitation link")
            if user != self.portal:
                # The link's chatter, as the web client loads it.
                bodies = " ".join(
                    message["body"]
                    for message in call(
                        "mail.message", "search_read",
                        [("model", "=", self.link._name), ("res_id", "=", self.link.id)],
                        fields=["body"],
                    )
                )
                self.assertIn("Invitation to give consent sent to", bodies)
                self.assertNotIn(token, bodies)
            with self.assertRaises(xmlrpc.client.Fault):
                call("mail.mail", "search_read", [], fields=["body_html"])
        # The e-mail that goes out has it (the queue, for administrators).
        self.assertTrue(
            self.env["mail.mail"].sudo().search_count([("body_html", "ilike", token)])
        )
