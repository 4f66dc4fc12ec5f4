# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""End to end: a bank file and the ING link through the real bank sandbox
(HTTPS, mutual TLS, HTTP signatures, the consent pages) bring the same
transactions; Odoo books each exactly once, in either order. The file is
the ING sample of tests/data with its dates moved to the sandbox's days,
the sandbox holds the same transactions (with ING's API ids and wording)
plus one of today that no file has yet."""

import base64
import copy
import datetime
import re
from decimal import Decimal
from pathlib import Path

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.account_bank_link_ing.tests.common import ING_IBAN, IngSandboxCase

DATA = Path(__file__).parent / "data"
OPENING = Decimal("15250.00")
#: The sample's booking days.
SAMPLE_D0, SAMPLE_D1, SAMPLE_D2 = (datetime.date(2026, 3, d) for d in (2, 3, 4))
CARD = {"amount": "-4.50", "kind": "card", "counterparty_name": "Albert Heijn 1234"}


def sandbox_transactions():
    """The ING sample's transactions as the sandbox's ING serves them, with
    a second identical card payment (also in the file) and one of today."""
    return [
        {"days_ago": 3, "amount": "1250.00", "counterparty_name": "Van der Meer Installatietechniek B.V.",
         "counterparty_iban": "NL91ABNA0417164300", "reference": "5000056789012345",
         "end_to_end_id": "E2E-KORENAAR-0117"},
        {"days_ago": 3, "amount": "-45.67", "counterparty_name": "Drukkerij Van Dijk",
         "counterparty_iban": "NL02ABNA0123456789", "description": "Factuur 2026-0042 klantnr 4711"},
        {"days_ago": 3, **CARD},
        {"days_ago": 3, **CARD},
        {"days_ago": 2, "amount": "605.00", "counterparty_name": "De Groot Advies",
         "counterparty_iban": "NL20INGB0001234567", "reference": "RF18539007547034"},
        {"days_ago": 2, "amount": "-350.00", "kind": "direct_debit",
         "counterparty_name": "Vattenfall Klantenservice N.V.", "counterparty_iban": "NL86INGB0002445588",
         "description": "Energie termijnbedrag maart 2026", "end_to_end_id": "VATT20260304",
         "mandate_id": "MNDT-0042-KORENAAR", "creditor_id": "NL71ZZZ330374540000"},
        {"days_ago": 0, "amount": "75.00", "counterparty_name": "Bouwbedrijf Jansen & Zn",
         "counterparty_iban": "NL02ABNA0123456789", "description": "Factuur 2026-0120"},
    ]


@tagged("post_install", "-at_install")
class TestBankFileAndIngLink(IngSandboxCase):
    def setUp(self):
        super().setUp()
        scenario = copy.deepcopy(self.scenario)
        account = next(a for a in scenario["ing"]["accounts"] if a["iban"] == ING_IBAN)
        account.update(
            generate=False, opening_balance=str(OPENING), transactions=sandbox_transactions()
        )
        self.sandbox.reset(scenario)
        self.bank_today = datetime.date.fromisoformat(self.sandbox.info()["today"])
        self.days = {
            SAMPLE_D0: self.bank_today - datetime.timedelta(days=4),
            SAMPLE_D1: self.bank_today - datetime.timedelta(days=3),
            SAMPLE_D2: self.bank_today - datetime.timedelta(days=2),
        }
        self.journal = self.journals["ING"]

    # ------------------------------------------------------------ the files

    def camt_file(self):
        """The ING camt.053 sample on the sandbox's days, with the second
        card payment."""
        text = (DATA / "ing.camt053.xml").read_text()
        card = re.search(r"\s*<Ntry>(?:(?!</Ntry>).)*Pasvolgnr(?:(?!</Ntry>).)*</Ntry>", text, re.S)[0]
        text = text.replace(card, card + card.replace("26062500012347", "26062500012399"))
        text = text.replace("16704.83", "16700.33")
        for sample, day in self.days.items():
            text = text.replace(sample.isoformat(), day.isoformat())
        return text.encode()

    def mt940_file(self):
        text = (DATA / "ing.mt940.sta").read_text()
        start = text.index(":61:2603030303D4,50")
        end = text.index(":61:2603040304C605")
        text = text[:end] + text[start:end].replace("26062500012347", "26062500012399") + text[end:]
        text = text.replace("16704,83", "16700,33")
        for sample, day in self.days.items():
            text = re.sub(
                rf"(:61:){sample:%y%m%d}{sample:%m%d}", rf"\g<1>{day:%y%m%d}{day:%m%d}", text
            )
            text = re.sub(
                rf"^(:6[0245][FM]?:[CD]){sample:%y%m%d}", rf"\g<1>{day:%y%m%d}", text, flags=re.M
            )
        return text.encode()

    def import_file(self, name, data):
        wizard = (
            self.env["account.statement.import"]
            .with_user(self.user)
            .with_context(journal_id=self.journal.id)
            .create({"statement_file": base64.b64encode(data), "statement_filename": name})
        )
        return wizard.import_file_button()

    # ------------------------------------------------------------ the link

    def link_account(self):
        self.give_consent(self.link)
        account = self.link.account_ids.filtered(lambda a: a.iban == ING_IBAN)
        account.write(
            {
                "journal_id": self.journal.id,
                "start_date": self.bank_today - datetime.timedelta(days=30),
            }
        )
        return account

    # ------------------------------------------------------------ checks

    def assert_each_transaction_once(self, sources):
        """Every booked transaction at the bank is one line of the journal."""
        bank = self.sandbox_account()
        lines = self.env["account.bank.statement.line"].search(
            [("journal_id", "=", self.journal.id), ("nl_is_balance_correction", "=", False)]
        )
        self.assertEqual(len(lines), bank["booked"])
        self.assertEqual(len(lines), 7)
        total = sum((Decimal(str(a)) for a in lines.mapped("amount")), Decimal(0))
        self.assertEqual(total, Decimal(str(bank["balance"])) - OPENING)
        expected = sorted(
            (self.bank_today - datetime.timedelta(days=t["days_ago"]), float(t["amount"]))
            for t in sandbox_transactions()
        )
        self.assertEqual(sorted(zip(lines.mapped("date"), lines.mapped("amount"), strict=False)), expected)
        self.assertFalse(lines.filtered("nl_possible_duplicate"))
        self.assertEqual(
            {ln.nl_import_source for ln in lines if ln.date != self.bank_today}, sources
        )
        self.assertEqual(lines.filtered(lambda ln: ln.date == self.bank_today).nl_import_source, "link")
        return lines

    # ------------------------------------------------------------ tests

    def test_file_first_then_the_link_fetches_the_same_days(self):
        self.import_file("ing-maart.xml", self.camt_file())
        self.assertEqual(
            self.env["account.bank.statement.line"].search_count([("journal_id", "=", self.journal.id)]), 6
        )
        account = self.link_account()
        self.assert_fetch_succeeds(self.journal.with_user(self.user))
        lines = self.assert_each_transaction_once({"camt"})
        # The fetched line of today, and the betalingskenmerk from the file.
        self.assertEqual(
            lines.filtered(lambda ln: ln.amount == 1250.0).nl_structured_reference, "5000056789012345"
        )
        self.assertEqual(lines.filtered(lambda ln: ln.nl_import_source == "link").nl_bank_link_account_id, account)
        # A second fetch of the same days changes nothing.
        self.assert_fetch_succeeds(self.journal.with_user(self.user))
        self.assert_each_transaction_once({"camt"})

    def test_link_first_then_the_file_of_the_same_days(self):
        self.link_account()
        self.assert_fetch_succeeds(self.journal.with_user(self.user))
        self.assert_each_transaction_once({"link"})
        for name, data in (("ing-maart.sta", self.mt940_file()), ("ing-maart.xml", self.camt_file())):
            with self.assertRaisesRegex(UserError, "already imported"):
                self.import_file(name, data)
        self.assert_each_transaction_once({"link"})
