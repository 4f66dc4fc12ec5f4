# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Knab, Triodos, ASN Bank, SNS and RegioBank end to end against the local
sandbox, one class per bank: the consent on the bank's page (the consent
started at the redirect is kept as a secret of the link until the code
comes back), the first fetch over several pages, the access token renewed
with the refresh token, and the end of the link at the bank."""

from ..models.account_bank_link import FLOW_KEY
from .common import NextGenPsd2SandboxCase

#: Seconds after which each bank's access token has expired (sandbox scenario).
TOKEN_LIFETIME = {"knab": 3600, "triodos": 600, "asn": 600, "sns": 600, "regiobank": 600}


class EndToEnd:
    """The tests every NextGenPSD2 bank passes; mixed into a class per bank."""

    def consent_of_link(self):
        tokens = self.link._bank_link_secret()._get_token_set()
        return next(part[4:] for part in tokens.scope.split() if part.startswith("AIS:"))

    def sandbox_consent(self, consent_id):
        return next(c for c in self.sandbox.consents() if consent_id in (c.get("consent_id"), c.get("id")))

    def test_link_fetch_renew_and_unlink(self):
        self.sandbox.clear_log()
        journal, account = self.link_and_fetch()
        # The started consent waited in the link's secret between the redirect and the
        # callback, and is gone from it now; the consent id travels with the tokens.
        flow = self.link._bank_link_secret()._get_bank_data().get(FLOW_KEY) or {}
        self.assertNotIn("pending", flow)
        consent_id = self.consent_of_link()
        self.assertNotIn(consent_id, self.messages(self.link), "a consent id reached the chatter")
        transaction_calls = [c for c in self.bank_calls("/transactions") if c["method"] == "GET"]
        self.assertGreater(len(transaction_calls), 1, "the fetch did not page")
        # Renew: the access token has expired; the next fetch refreshes it and goes on.
        before = self.link._bank_link_secret()._get_token_set()
        self.sandbox.advance_clock(TOKEN_LIFETIME[self.bank] + 60, calendar=False)
        self.sandbox.add_transactions(self.bank, self.iban, [{
            "days_ago": 0, "amount": "-12.50", "counterparty_name": "Bakkerij Van der Meer B.V.",
            "counterparty_iban": "NL39RABO0123456789", "description": "Na het koppelen",
            "id": f"{self.bank.upper()}-AFTER",
        }])
        self.assert_fetch_succeeds(journal)
        secret = self.link._bank_link_secret()
        secret.invalidate_recordset()
        after = secret._get_token_set()
        self.assertNotEqual(after.access_token, before.access_token)
        self.assertEqual(self.consent_of_link(), consent_id)
        lines = self.assert_complete(account)
        self.assertIn("Na het koppelen", " ".join(lines.mapped("payment_ref")))
        # Unlink: the consent ends at the bank, the tokens are forgotten.
        self.link.with_user(self.user).action_revoke()
        self.env.invalidate_all()
        self.assertEqual(self.link.state, "revoked")
        self.assertFalse(self.link._bank_link_secret()._get_token_set())
        # The sandbox's admin view says "terminated" (the API: terminatedByTpp).
        self.assertIn(self.sandbox_consent(consent_id)["status"], ("terminated", "terminatedByTpp"))
        self.assertEqual(self.fetch(journal)["type"], "danger")

    def test_an_ended_consent_is_renewed_on_the_banks_page(self):
        journal, account = self.link_and_fetch()
        self.sandbox.end_consents(self.bank, "expire")
        params = self.fetch(journal)
        self.assertNotEqual(params["type"], "success")
        self.env.invalidate_all()
        self.assertEqual(self.link.state, "expired")
        self.give_consent(self.link)
        self.assert_fetch_succeeds(journal)
        self.assert_complete(account)

    def test_the_wizard_speaks_dutch_about_this_bank(self):
        texts = self.link.with_context(lang="nl_NL")._bank_link_wizard_texts()
        self.assertIn(self.link._bank_link_provider_class().name.split()[0], texts["consent"])


class TestKnab(EndToEnd, NextGenPsd2SandboxCase):
    bank = "knab"


class TestTriodos(EndToEnd, NextGenPsd2SandboxCase):
    bank = "triodos"


class TestAsnBank(EndToEnd, NextGenPsd2SandboxCase):
    bank = "asn"


class TestSns(EndToEnd, NextGenPsd2SandboxCase):
    """SNS has no registration of its own: de Volksbank's one, made for ASN Bank, serves it."""

    bank = "sns"

    def test_the_shared_volksbank_registration_serves_the_brand(self):
        self.assertNotIn("sns", self.registrations)
        config = self.link._nextgenpsd2_config()
        self.assertTrue(config.api_base_url.endswith("/psd2/snsbank"), config.api_base_url)


class TestRegioBank(EndToEnd, NextGenPsd2SandboxCase):
    bank = "regiobank"
