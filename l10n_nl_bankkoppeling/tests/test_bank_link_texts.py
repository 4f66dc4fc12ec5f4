# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What a bank says reaches the user in the user's language: a provider's
notices are codes the framework words, and a failed fetch shows the
framework's sentence with the bank's HTTP status, code and reference, never
the provider's English (that stays in the fetch's technical detail for the
administrator)."""

from freezegun import freeze_time

from odoo.tests import tagged

from ..tools import provider as bp
from .common import TEST_IBAN, BankLinkCase


@tagged("post_install", "-at_install")
class TestBankLinkTexts(BankLinkCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("nl_NL")

    def test_notices_are_worded_in_the_readers_language(self):
        link, _account = self.make_link()
        spent = bp.Notice(bp.NOTICE_HISTORY_SPENT, {"bank": "Rabobank", "days": 90})
        limit = bp.Notice(bp.NOTICE_HISTORY_LIMIT, {"bank": "ING", "period": "P13M"})
        dutch = link.with_context(lang="nl_NL")
        self.assertEqual(
            dutch._bank_link_notice_text(spent),
            "Rabobank geeft de volledige historie maar één keer na de toestemming; mutaties "
            "ouder dan 90 dagen zijn niet opnieuw opgehaald. Importeer oudere mutaties uit "
            "een bankbestand.",
        )
        self.assertIn("bewaart de historie een beperkte periode (P13M)", dutch._bank_link_notice_text(limit))
        self.assertIn("only once after consent", link.with_context(lang="en_US")._bank_link_notice_text(spent))
        # A code no framework text knows: no English of the bank, a Dutch remark.
        self.assertEqual(dutch._bank_link_notice_text(bp.Notice("unknown_code", {"text": "Only EUR"})),
                         "De bank gaf een opmerking bij deze ophaalactie (zie het serverlogboek).")

    @freeze_time("2026-03-05 09:00:00")
    def test_failed_fetch_tells_the_bank_codes_not_its_english(self):
        link, account = self.make_link()
        self.bank.transactions[TEST_IBAN] = []
        self.bank.fail_on_page = 1
        self.bank.fail_error = bp.BankUnavailableError(
            "Testbank did not answer (transactions page 1) after 3 attempt(s): ReadTimeout",
            bank_code="SERVICE_UNAVAILABLE", http_status=503, reference="trace-77",
        )
        message = account.with_context(lang="nl_NL")._bank_link_fetch()[account]
        self.assertTrue(message.startswith("De bank was niet bereikbaar"), message)
        for text in (message, link.last_error, self.journal.message_ids[0].body):
            self.assertIn("HTTP 503, foutcode bank SERVICE_UNAVAILABLE, referentie trace-77", text)
            self.assertNotIn("did not answer", text)
        job = self.env["account.bank.link.fetch"].search([("link_account_id", "=", account.id)], limit=1)
        self.assertIn("did not answer (transactions page 1)", job.sudo().technical_detail)
