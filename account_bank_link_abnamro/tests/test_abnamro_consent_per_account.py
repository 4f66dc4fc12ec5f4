# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ABN AMRO gives a consent per account: when the bank ends one, only that
account stops and is renewed alone; a journal linked later joins the
company's link with its own consent. Against the local bank sandbox."""

import datetime

from odoo.tests import tagged

from .common import FIRST_IBAN, SECOND_IBAN, AbnAmroSandboxCase

RENEW_ACTIVITY = "l10n_nl_bankkoppeling.mail_activity_type_bank_link_renew"
SECOND_SPACED = "NL09 ABNA 0532 0130 00"


@tagged("post_install", "-at_install")
class TestAbnAmroConsentPerAccount(AbnAmroSandboxCase):
    def start_wizard(self, journal, renew=False):
        """The journal's button, then the wizard up to the consent step."""
        journal = journal.with_user(self.user)
        action = journal.action_bank_link_renew() if renew else journal.action_bank_link_start()
        wizard = self.env["account.bank.link.wizard"].with_user(self.user).browse(action["res_id"])
        if wizard.step == "data":
            wizard.action_next()
        wizard.legal_representative_confirmed = True
        wizard.action_next()
        self.assertEqual(wizard.step, "consent")
        return wizard

    def link_both_and_fetch(self):
        """Both demo ABN AMRO journals linked, one consent each, fetched."""
        self.give_consent(self.link)
        self.consent_for(self.link.with_user(self.user).action_start_consent()["url"], SECOND_IBAN)
        start = self.bank_today - datetime.timedelta(days=30)
        journals = {}
        for code, iban in (("ABN", FIRST_IBAN), ("ABN2", SECOND_IBAN)):
            account = self.link.account_ids.filtered(lambda a, i=iban: a.iban == i)
            self.assertTrue(account, self.link.account_ids.mapped("iban"))
            account.write({"journal_id": self.journals[code].id, "start_date": start})
            journals[code] = self.journals[code].with_user(self.user)
            self.assert_fetch_succeeds(journals[code])
        self.assertEqual(set(self.link._abnamro_consents()), {FIRST_IBAN, SECOND_IBAN})
        return journals["ABN"], journals["ABN2"]

    def renew_activities(self, journal):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "account.journal"),
                ("res_id", "=", journal.id),
                ("activity_type_id", "=", self.env.ref(RENEW_ACTIVITY).id),
            ]
        )

    def assert_only_second_stopped(self, first_journal, second_journal, reason):
        link = self.link
        self.env.invalidate_all()
        # The link still works for the first account and says so.
        self.assertEqual(link.state, "linked")
        self.assertEqual(set(link._abnamro_consents()), {FIRST_IBAN})
        self.assertEqual(first_journal.bank_link_state, "linked")
        self.assertEqual(first_journal.bank_link_next_action, "fetch")
        self.assertFalse(self.renew_activities(first_journal))
        # The second account shows its own end, on the account and its card.
        second = second_journal.bank_link_account_id
        self.assertEqual(second.iban, SECOND_IBAN)
        self.assertEqual(second.link_state, "expired")
        self.assertFalse(second.abnamro_consent_given)
        self.assertIn(reason, second.last_notice)
        self.assertEqual(second_journal.bank_link_state, "expired")
        self.assertEqual(second_journal.bank_link_next_action, "renew")
        self.assertIn(SECOND_SPACED, second_journal.bank_link_status)
        self.assertEqual(second_journal.bank_link_status_level, "danger")
        # Named in the link's chatter, with an activity to renew it.
        self.assertIn(SECOND_SPACED, self.last_message(link))
        self.assertIn(reason, self.last_message(link))
        activity = self.renew_activities(second_journal)
        self.assertEqual(len(activity), 1)
        self.assertIn(SECOND_SPACED, activity.note)
        # A fetch of the second asks nothing of the bank; the first fetches on.
        params = self.fetch(second_journal)
        self.assertEqual(params["type"], "danger")
        self.assertIn("Renew", params["message"])
        self.assert_fetch_succeeds(first_journal)
        self.assertEqual(link.state, "linked")

    def renew_second(self, second_journal):
        """Renew from the card: consent for the second account only."""
        wizard = self.start_wizard(second_journal, renew=True)
        self.assertEqual(wizard.link_id, self.link)
        self.assertEqual(wizard.abnamro_consents_missing, 1)
        self.assertIn("1 account below still needs its consent", wizard.consent_text)
        self.consent_for(wizard.action_go_to_bank()["url"], SECOND_IBAN)
        self.assertEqual(wizard.step, "accounts")
        wizard.action_next()
        self.env.invalidate_all()
        second = second_journal.bank_link_account_id
        self.assertFalse(second.consent_state)
        self.assertEqual(second_journal.bank_link_state, "linked")
        self.assertFalse(self.renew_activities(second_journal))
        self.assert_fetch_succeeds(second_journal)
        self.assertEqual(set(self.link._abnamro_consents()), {FIRST_IBAN, SECOND_IBAN})

    def test_one_consent_revoked_during_the_fetch_stops_only_that_account(self):
        first_journal, second_journal = self.link_both_and_fetch()
        first_token = self.link._abnamro_consents()[FIRST_IBAN]["refresh_token"]
        self.sandbox.set_faults(
            {"path": f"/v1/accounts/{SECOND_IBAN}/transactions", "bank": "abnamro", "error": "revoke_consent"}
        )
        params = self.fetch(second_journal)
        self.assertEqual(params["type"], "danger")
        reason = f"The consent at ABN AMRO for account {SECOND_SPACED} has ended"
        self.assertIn(reason, params["message"])
        self.sandbox.clear_faults()
        self.assert_only_second_stopped(first_journal, second_journal, reason)
        self.assertEqual(self.link._abnamro_consents()[FIRST_IBAN]["refresh_token"], first_token)
        self.renew_second(second_journal)

    def test_one_consent_past_its_end_stops_only_that_account(self):
        first_journal, second_journal = self.link_both_and_fetch()
        # The second consent was given earlier and ends before the first.
        yesterday = self.bank_today - datetime.timedelta(days=1)
        consents = self.link._abnamro_consents()
        consents[SECOND_IBAN]["consent_valid_until"] = yesterday.isoformat()
        self.link._bank_link_secret()._set_bank_data({"abnamro_consents": consents})
        self.link.consent_valid_until = yesterday
        self.env["account.bank.link"].with_context(
            tz="Europe/Amsterdam"
        )._cron_bank_link_consent_lifecycle()
        reason = f"The consent at ABN AMRO for account {SECOND_SPACED} has ended"
        self.assert_only_second_stopped(first_journal, second_journal, reason)
        self.assertEqual(
            self.link.consent_valid_until,
            datetime.date.fromisoformat(self.link._abnamro_consents()[FIRST_IBAN]["consent_valid_until"]),
        )
        self.renew_second(second_journal)

    def test_relinking_a_journal_reuses_the_link_and_asks_only_its_consent(self):
        self.give_consent(self.link)
        first = self.link.account_ids
        first.write({"journal_id": self.journals["ABN"].id})
        first_consent = self.link._abnamro_consents()[FIRST_IBAN]
        # The second journal is linked later, from its own card.
        wizard = self.start_wizard(self.journals["ABN2"])
        self.assertEqual(wizard.link_id, self.link)
        self.assertEqual(wizard.legal_representative_name, self.link.legal_representative_name)
        self.assertEqual(wizard.abnamro_consents_missing, 1)
        self.assertIn("1 account below still needs its consent", wizard.consent_text)
        progress = str(wizard.abnamro_consent_progress)
        self.assertIn("NL91 ABNA 0417 1643 00</strong>: consent given", progress)
        self.assertIn(f"{SECOND_SPACED}</strong>: no consent yet", progress)
        self.consent_for(wizard.action_go_to_bank()["url"], SECOND_IBAN)
        self.assertEqual(wizard.step, "accounts")
        second_line = wizard.line_ids.filtered(lambda ln: ln.iban == SECOND_IBAN)
        self.assertTrue(second_line.selected)
        self.assertEqual(second_line.journal_id, self.journals["ABN2"])
        wizard.action_next()
        self.assertEqual(wizard.step, "done")
        links = self.env["account.bank.link"].search(
            [("company_id", "=", self.company.id), ("provider", "=", "abnamro")]
        )
        self.assertEqual(links, self.link, "relinking made a second ABN AMRO link")
        # The first account's consent was not asked or touched again.
        self.assertEqual(self.link._abnamro_consents()[FIRST_IBAN], first_consent)
        self.assertEqual(
            sorted(self.link.account_ids.filtered("active_link").mapped("iban")),
            sorted([FIRST_IBAN, SECOND_IBAN]),
        )
        # Linking the first journal again asks no consent at all.
        wizard = self.start_wizard(self.journals["ABN"])
        self.assertEqual(wizard.link_id, self.link)
        self.assertEqual(wizard.abnamro_consents_missing, 0)

    def test_consent_progress_uses_the_normal_font(self):
        """Each icon is closed: the row's text is not inside it (which
        showed it in the icon font's serif fallback, with a stray icon)."""
        wizard = self.start_wizard(self.journals["ABN"])
        self.consent_for(wizard.action_go_to_bank()["url"], FIRST_IBAN)
        progress = str(wizard.abnamro_consent_progress)
        self.assertEqual(progress.count("<i "), 2)
        self.assertEqual(progress.count("</i><strong>"), 2)
        self.assertNotIn("/>", progress)
