# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""End to end: an ABN AMRO bank file and the ABN AMRO link through the real
bank sandbox (HTTPS, mutual TLS, API key, the consent page) bring the same
transactions; Odoo books each exactly once, in either order. The files are
the ABN AMRO samples of tests/data with their dates moved to the sandbox's
days and a third card payment, identical to the first, added; the sandbox
holds the same transactions (in ABN AMRO's API wording: card rows without
transactionId, descriptions cut at 32 characters) plus one of today that
no file has yet. Also: a file bringing the days before the link's start
date, its last day already fetched (the file's statement must then close
before that day, or Odoo warns that the next statement does not chain)."""

import base64
import copy
import datetime
import re
from decimal import Decimal
from pathlib import Path

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.account_bank_link_abnamro.tests.common import FIRST_IBAN, AbnAmroSandboxCase

DATA = Path(__file__).parent / "data"
#: ABN AMRO writes its files in Windows-1252 (also the camt, which declares
#: UTF-8): read and write them byte for byte.
ENCODING = "latin-1"
OPENING = Decimal("3236.28")
#: The samples' closing balance, and with the added card payment.
SAMPLE_CLOSING, CLOSING = Decimal("6215.73"), Decimal("6209.18")
#: The samples' days: opening balance, then the two booking days.
SAMPLE_D0, SAMPLE_D1, SAMPLE_D2 = (datetime.date(2026, 3, d) for d in (2, 3, 4))
CARD = {"amount": "-6.55", "kind": "card", "counterparty_name": "Albert Heijn 1234"}
#: The samples' first card payment; the sandbox and the files hold it twice,
#: alike in every field ABN AMRO shows.
CARD_1 = {**CARD, "time": "12:17:00", "card": {"terminal": "CT123456", "card_number": "123", "city": "UTRECHT"}}
CARD_2 = {**CARD, "time": "12:41:00", "card": {"terminal": "CT123457", "card_number": "123", "city": "UTRECHT"}}


def sandbox_transactions():
    """The ABN AMRO samples' transactions as the sandbox's ABN AMRO serves
    them, with the first card payment twice and one transaction of today."""
    return [
        {"days_ago": 3, "time": "09:02:00", "amount": "-12.95", "counterparty_name": "ALBERT HEIJN 1584",
         "counterparty_iban": "NL02ABNA0123456789", "counterparty_bic": "ABNANL2A",
         "description": "Boodschappen 3 maart, fact. 2026/05"},
        {"days_ago": 3, "time": "10:30:00", "amount": "3250.50", "counterparty_name": "Café De Gouden Leeuw",
         "counterparty_iban": "NL20INGB0001234567", "counterparty_bic": "INGBNL2A",
         "reference": "5000056789012345", "end_to_end_id": "E2E-LEEUW-77"},
        {"days_ago": 3, **CARD_1},
        {"days_ago": 3, **CARD_1},
        {"days_ago": 3, **CARD_2},
        {"days_ago": 2, "time": "09:49:00", "amount": "-50.00", "kind": "atm",
         "counterparty_name": "ABN AMRO BANK NV", "card": {"terminal": "S1J313", "card_number": "123",
                                                           "city": "UTRECHT"}},
        {"days_ago": 2, "time": "11:00:00", "amount": "-120.00", "kind": "direct_debit",
         "counterparty_name": "KPN B.V.", "counterparty_iban": "NL86INGB0002445588",
         "counterparty_bic": "INGBNL2A", "description": "Zakelijk Internet + Bellen maart 2026",
         "end_to_end_id": "KPN-2026-03-0042", "mandate_id": "1234567",
         "creditor_id": "NL24ZZZ273475990000"},
        {"days_ago": 2, "time": "14:00:00", "amount": "-75.00", "counterparty_name": "Drukkerij Van Dijk",
         "counterparty_iban": "NL02ABNA0123456789", "counterparty_bic": "ABNANL2A",
         # Not a valid betalingskenmerk: the link keeps it as text, the
         # files as the payment's reference.
         "reference": "1234567890123456"},
        {"days_ago": 0, "time": "08:30:00", "amount": "75.00", "counterparty_name": "Bouwbedrijf Jansen & Zn",
         "counterparty_iban": "NL16ABNA0441298765", "counterparty_bic": "ABNANL2A",
         "description": "Factuur 2026-0120"},
    ]


@tagged("post_install", "-at_install")
class TestBankFileAndAbnAmroLink(AbnAmroSandboxCase):
    def setUp(self):
        super().setUp()
        scenario = copy.deepcopy(self.scenario)
        account = next(a for a in scenario["abnamro"]["accounts"] if a["iban"] == FIRST_IBAN)
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
        self.journal = self.journals["ABN"]

    # ------------------------------------------------------------ the files

    def move_days(self, text, fmt, before=""):
        """The samples' days written as ``fmt`` after ``before`` (a regex),
        moved to the sandbox's days in one pass (a moved day may be
        another sample day)."""
        table = {sample.strftime(fmt): day.strftime(fmt) for sample, day in self.days.items()}
        pattern = f"({before})(" + "|".join(map(re.escape, table)) + ")"
        return re.sub(pattern, lambda m: m[1] + table[m[2]], text, flags=re.M)

    def camt_file(self):
        """The ABN AMRO camt.053 sample on the sandbox's days, with the first
        card payment twice (its own AcctSvcrRef, as the bank gives one)."""
        text = (DATA / "abnamro.camt053.xml").read_bytes().decode(ENCODING)
        card = re.search(r"\s*<Ntry>(?:(?!</Ntry>).)*>0303A3<(?:(?!</Ntry>).)*</Ntry>", text, re.S)[0]
        text = text.replace(card, card + card.replace("0303A3", "0303A9"))
        text = text.replace(f">{SAMPLE_CLOSING}<", f">{CLOSING}<")
        text = self.move_days(text, "%Y-%m-%d")
        # The card rows' moment (``03.03.26/12:17``), as the bank prints it.
        return self.move_days(text, "%d.%m.%y/").encode(ENCODING)

    def mt940_file(self):
        """The ABN AMRO MT940 sample likewise (CRLF, Windows-1252)."""
        text = (DATA / "abnamro.mt940.sta").read_bytes().decode(ENCODING)
        first = text.index(":61:2603030303D6,55N426")
        second = text.index(":61:2603030303D6,55N426", first + 1)
        self.assertIn("NR:CT123456,", text[first:second])
        text = text[:second] + text[first:second] + text[second:]
        text = text.replace(f"EUR{SAMPLE_CLOSING}".replace(".", ","), f"EUR{CLOSING}".replace(".", ","))
        text = self.move_days(text, "%y%m%d%m%d", ":61:")
        text = self.move_days(text, "%y%m%d", "^:6[0245][FM]?:[CD]")
        return self.move_days(text, "%d.%m.%y/").encode(ENCODING)

    def import_file(self, name, data):
        wizard = (
            self.env["account.statement.import"]
            .with_user(self.user)
            .with_context(journal_id=self.journal.id)
            .create({"statement_file": base64.b64encode(data), "statement_filename": name})
        )
        return wizard.import_file_button()

    def journal_lines(self):
        return self.env["account.bank.statement.line"].search(
            [("journal_id", "=", self.journal.id)]
        )

    # ------------------------------------------------------------ the link

    def link_account(self):
        self.give_consent(self.link)
        account = self.link.account_ids.filtered(lambda a: a.iban == FIRST_IBAN)
        self.assertTrue(account, self.link.account_ids.mapped("iban"))
        account.write(
            {
                "journal_id": self.journal.id,
                "start_date": self.bank_today - datetime.timedelta(days=30),
            }
        )
        return account

    # ------------------------------------------------------------ checks

    def assert_each_transaction_once(self, sources):
        """Every booked transaction at the bank is one line of the journal,
        with no balance correction, nothing marked as possible duplicate,
        and statements whose balances chain without Odoo's warning."""
        bank = self.sandbox_account()
        lines = self.journal_lines()
        self.assertFalse(
            lines.filtered("nl_is_balance_correction"),
            "a balance correction hides a lost or doubled transaction",
        )
        self.assertEqual(len(lines), bank["booked"])
        self.assertEqual(len(lines), 9)
        total = sum((Decimal(str(a)) for a in lines.mapped("amount")), Decimal(0))
        self.assertEqual(total, Decimal(str(bank["balance"])) - OPENING)
        expected = sorted(
            (self.bank_today - datetime.timedelta(days=t["days_ago"]), float(t["amount"]))
            for t in sandbox_transactions()
        )
        self.assertEqual(sorted(zip(lines.mapped("date"), lines.mapped("amount"), strict=False)), expected)
        self.assertFalse(lines.filtered("nl_possible_duplicate").mapped("payment_ref"))
        self.assertEqual(
            {ln.nl_import_source for ln in lines if ln.date != self.bank_today}, sources
        )
        self.assertEqual(lines.filtered(lambda ln: ln.date == self.bank_today).nl_import_source, "link")
        # The three card payments of one day: the two alike stay two.
        cards = lines.filtered(lambda ln: ln.amount == -6.55)
        self.assertEqual(len(cards), 3)
        self.assertEqual(set(cards.mapped("date")), {self.days[SAMPLE_D1]})
        # Odoo warns about a statement whose balances do not chain.
        statements = lines.statement_id
        self.assertEqual(
            statements.filtered("problem_description").mapped("problem_description"), []
        )
        self.assertTrue(all(statements.mapped("is_complete")), statements.mapped("name"))
        return lines

    def assert_file_then_link(self, name, data, source):
        self.import_file(name, data)
        self.assertEqual(len(self.journal_lines()), 8)
        account = self.link_account()
        self.assert_fetch_succeeds(self.journal.with_user(self.user))
        lines = self.assert_each_transaction_once({source})
        # The betalingskenmerk and end-to-end id from the file.
        payment = lines.filtered(lambda ln: ln.amount == 3250.5)
        self.assertEqual(payment.nl_structured_reference, "5000056789012345")
        self.assertEqual(payment.nl_end_to_end_id, "E2E-LEEUW-77")
        self.assertEqual(lines.filtered(lambda ln: ln.nl_import_source == "link").nl_bank_link_account_id, account)
        self.assertEqual(
            Decimal(str(account.bank_balance)), Decimal(str(self.sandbox_account()["balance"]))
        )
        # A second fetch of the same days changes nothing.
        self.assert_fetch_succeeds(self.journal.with_user(self.user))
        self.assert_each_transaction_once({source})
        # Nor does the same period in the other file format.
        other = ("abn-maart.xml", self.camt_file()) if source == "mt940" else ("abn-maart.sta", self.mt940_file())
        with self.assertRaisesRegex(UserError, "already imported"):
            self.import_file(*other)
        self.assert_each_transaction_once({source})

    # ------------------------------------------------------------ tests

    def test_camt_first_then_the_link_fetches_the_same_days(self):
        self.assert_file_then_link("abn-maart.xml", self.camt_file(), "camt")

    def test_mt940_first_then_the_link_fetches_the_same_days(self):
        self.assert_file_then_link("abn-maart.sta", self.mt940_file(), "mt940")

    def test_link_first_then_the_files_of_the_same_days(self):
        self.link_account()
        self.assert_fetch_succeeds(self.journal.with_user(self.user))
        lines = self.assert_each_transaction_once({"link"})
        # ABN AMRO's card rows come without a bank id: their identity is
        # derived, and the two alike are told apart by their number.
        cards = lines.filtered(lambda ln: ln.amount == -6.55)
        self.assertTrue(all(":fp:" in uid for uid in cards.mapped("unique_import_id")), cards.mapped("unique_import_id"))
        self.assertEqual(len(set(cards.mapped("unique_import_id"))), 3)
        for name, data in (("abn-maart.sta", self.mt940_file()), ("abn-maart.xml", self.camt_file())):
            with self.assertRaisesRegex(UserError, "already imported"):
                self.import_file(name, data)
        self.assert_each_transaction_once({"link"})

    def test_file_fills_the_days_before_the_link_started(self):
        """The link started on the file's last day: the file brings the day
        before it, and its statement fits before the link's."""
        account = self.link_account()
        account.start_date = self.days[SAMPLE_D2]
        self.assert_fetch_succeeds(self.journal.with_user(self.user))
        self.assertEqual(len(self.journal_lines()), 4)
        self.import_file("abn-maart.xml", self.camt_file())
        lines = self.assert_each_transaction_once({"camt", "link"})
        self.assertEqual({ln.nl_import_source for ln in lines if ln.date == self.days[SAMPLE_D1]}, {"camt"})
        self.assertEqual({ln.nl_import_source for ln in lines if ln.date > self.days[SAMPLE_D1]}, {"link"})
        statement = lines.filtered(lambda ln: ln.nl_import_source == "camt").statement_id
        day_total = sum(Decimal(t["amount"]) for t in sandbox_transactions() if t["days_ago"] == 3)
        self.assertEqual(Decimal(str(statement.balance_start)), OPENING)
        self.assertEqual(Decimal(str(statement.balance_end_real)), OPENING + day_total)
        # The same period in the other format and a new fetch change nothing.
        with self.assertRaisesRegex(UserError, "already imported"):
            self.import_file("abn-maart.sta", self.mt940_file())
        self.assert_fetch_succeeds(self.journal.with_user(self.user))
        self.assert_each_transaction_once({"camt", "link"})
