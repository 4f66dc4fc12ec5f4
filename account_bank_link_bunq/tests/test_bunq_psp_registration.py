# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The administrator registers the company at bunq as a PSD2 provider from
the registration's form ("Register at bunq"): the seal certificate, its
key and its chain go to the sandbox's ``/payment-service-provider-credential``
and the PSD2 API key and OAuth client come back onto the registration. A
certificate bunq refuses changes nothing; an ordinary user cannot press
the button over XML-RPC."""

import base64
import xmlrpc.client
from pathlib import Path

from odoo.exceptions import UserError

from .common import BunqSandboxCase


def b64_file(path):
    return base64.b64encode(Path(path).read_bytes())


class TestBunqPspRegistration(BunqSandboxCase):
    def setUp(self):
        super().setUp()
        certs = self.sandbox.certs
        self.registration.write({
            "signing_certificate": b64_file(certs.bunq_psp_cert),
            "signing_key": b64_file(certs.bunq_psp_key),
            "signing_certificate_chain": b64_file(certs.ca),
            "client_id": False, "client_secret": False, "api_key": False,
        })

    def test_registration_fills_in_the_api_key_and_the_oauth_client(self):
        info = self.sandbox.info()["bunq"]
        self.registration.action_bunq_register_psp()
        self.assertEqual(self.registration.client_id, info["client_id"])
        self.assertEqual(self.registration.client_secret, info["client_secret"])
        self.assertTrue(self.registration.api_key)
        message = self.registration.message_ids[:1]
        self.assertIn("Registered at bunq as a PSD2 provider for", message.body)
        self.assertIn("/bank_link/callback", message.body)
        for secret in (info["client_secret"], self.registration.api_key):
            self.assertNotIn(secret, message.body)
        # The consents use what came back: the link now reaches bunq's consent page.
        self.give_consent(self.link)
        self.assertEqual(self.link.state, "linked")

    def test_a_certificate_bunq_refuses_changes_nothing(self):
        certs = self.sandbox.certs
        self.registration.write({
            "signing_certificate": b64_file(certs.other_signing_cert),
            "signing_key": b64_file(certs.other_signing_key),
            "client_id": "kept-client", "client_secret": "kept-secret",
        })
        with self.assertRaises(UserError) as caught:
            self.registration.action_bunq_register_psp()
        self.assertIn("bunq refused the PSD2 registration", str(caught.exception))
        self.assertEqual((self.registration.client_id, self.registration.client_secret),
                         ("kept-client", "kept-secret"))
        self.assertFalse(self.registration.api_key)

    def test_without_the_chain_the_error_names_it(self):
        self.registration.signing_certificate_chain = False
        with self.assertRaises(UserError) as caught:
            self.registration.action_bunq_register_psp()
        self.assertIn("Certificate chain", str(caught.exception))

    def test_an_ordinary_user_cannot_register_over_xmlrpc(self):
        self.assertFalse(self.user.has_group("l10n_nl_bankkoppeling.group_bank_link_admin"))
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.xmlrpc_object.execute_kw(self.env.cr.dbname, self.user.id, self.password,
                                          "account.bank.registration", "action_bunq_register_psp",
                                          [[self.registration.id]])
        self.assertEqual(caught.exception.faultCode, 4, caught.exception.faultString)  # AccessError
        self.assertFalse(self.registration.client_id)
        self.assertFalse(self.registration.api_key)
