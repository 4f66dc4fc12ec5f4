# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Bank files through the user's "Import statement" wizard: camt.053 and
MT940 of ING, ABN AMRO and Rabobank, every mapped field, the errors, and
one line per transaction when a file and the bank link bring the same
transactions (in either order). The link here is the framework's memory
bank; tests/test_bank_file_sandbox.py does it against the real sandbox."""

import base64
from datetime import date
from pathlib import Path

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import TEST_IBAN, BankLinkCase, tx

DATA = Path(__file__).parent / "data"
BANKFILES = Path(__file__).resolve().parents[2] / "tests" / "data" / "bankfiles"
ING_IBAN = "NL67INGB0006543210"
RABO_IBAN = "NL44RABO0123456789"

#: (date, amount, payment_ref, partner_name, counterparty IBAN, BIC,
#: end-to-end id, structured reference, bank code in camt, in MT940)
ING_ROWS = [
    (date(2026, 3, 3), 1250.00, "Van der Meer Installatietechniek B.V.",
     "Van der Meer Installatietechniek B.V.", "NL91ABNA0417164300", "ABNANL2A",
     "E2E-KORENAAR-0117", "5000056789012345", "00100", "00100"),
    (date(2026, 3, 3), -45.67, "Factuur 2026-0042 klantnr 4711", "Drukkerij Van Dijk",
     "NL02ABNA0123456789", "ABNANL2A", False, False, "00200", "00200"),
    (date(2026, 3, 3), -4.50,
     "Pasvolgnr: 001 03-03-2026 08:12 Transactie: A1B2C3 Term: A101 Albert Heijn 1234 UTRECHT",
     False, False, False, False, False, "00300", "00300"),
    (date(2026, 3, 4), 605.00, "De Groot Advies", "De Groot Advies", "NL20INGB0001234567",
     "INGBNL2A", False, "RF18539007547034", "00100", "00100"),
    (date(2026, 3, 4), -350.00, "Energie termijnbedrag maart 2026",
     "Vattenfall Klantenservice N.V.", "NL86INGB0002445588", "INGBNL2A", "VATT20260304",
     False, "01016", "01016"),
]
ABN_ROWS = [
    (date(2026, 3, 3), -12.95, "Boodschappen 3 maart, fact. 2026/05", "ALBERT HEIJN 1584",
     "NL02ABNA0123456789", "ABNANL2A", False, False, "N658", "SEPA OVERBOEKING"),
    (date(2026, 3, 3), 3250.50, "Café De Gouden Leeuw", "Café De Gouden Leeuw",
     "NL20INGB0001234567", "INGBNL2A", "E2E-LEEUW-77", "5000056789012345", "N654",
     "SEPA OVERBOEKING"),
    (date(2026, 3, 3), -6.55,
     "BEA, Betaalpas Albert Heijn 1234,PAS123 NR:CT123456, 03.03.26/12:17 UTRECHT",
     "Albert Heijn 1234", False, False, False, False, "BEA", "BEA"),
    (date(2026, 3, 3), -6.55,
     "BEA, Betaalpas Albert Heijn 1234,PAS123 NR:CT123457, 03.03.26/12:41 UTRECHT",
     "Albert Heijn 1234", False, False, False, False, "BEA", "BEA"),
    (date(2026, 3, 4), -50.00, "GEA NR:S1J313 04.03.26/09.49 ABN AMRO BANK NV UTRECHT,PAS123",
     "ABN AMRO BANK NV UTRECHT", False, False, False, False, "GEA", "GEA"),
    (date(2026, 3, 4), -120.00, "Zakelijk Internet + Bellen maart 2026", "KPN B.V.",
     "NL86INGB0002445588", "INGBNL2A", "KPN-2026-03-0042", False, "N247",
     "SEPA INCASSO ALGEMEEN DOORLOPEND"),
    (date(2026, 3, 4), -75.00, "Drukkerij Van Dijk", "Drukkerij Van Dijk",
     "NL02ABNA0123456789", "ABNANL2A", False, "1234567890123456", "N658", "SEPA OVERBOEKING"),
]
RABO_ROWS = [
    (date(2026, 3, 3), 100.00, "Factuur 2026-0118", "Jan Jansen", "NL91ABNA0417164300",
     "ABNANL2A", "E2E-RABO-001", False, "541", "541"),
    (date(2026, 3, 4), -49.95, "Bakkersgroothandel Bakkersland B.V.",
     "Bakkersgroothandel Bakkersland B.V.", "NL20INGB0001234567", "INGBNL2A", False,
     "5000056789012345", "544", "544"),
    (date(2026, 3, 4), -12.00, "Kosten Zakelijk Betalingsverkeer maart 2026", False, False,
     False, False, False, "093", "093"),
]


def abn_link_transactions(skip_second_card=False):
    """The ABN AMRO sample's transactions as ABN AMRO's link reports them:
    other ids, other wording (descriptionLines), no id for card rows."""
    rows = [
        tx("ABN-API-1", date(2026, 3, 3), "-12.95", "Boodschappen 3 maart, fact.\n2026/05",
           counterparty_iban="NL02ABNA0123456789", counterparty_name="ALBERT HEIJN 1584",
           bank_transaction_code="658"),
        tx("ABN-API-2", date(2026, 3, 3), "3250.50", "Betalingskenmerk: 50000567890\n12345",
           counterparty_iban="NL20INGB0001234567", counterparty_name="Café De Gouden Leeuw",
           structured_reference="5000056789012345", end_to_end_id="E2E-LEEUW-77",
           bank_transaction_code="654"),
        tx(None, date(2026, 3, 3), "-6.55", "BEA, Betaalpas\nAlbert Heijn 1234,PAS123\n12:17",
           counterparty_name="Albert Heijn 1234", bank_transaction_code="426",
           is_card_payment=True),
        tx(None, date(2026, 3, 3), "-6.55", "BEA, Betaalpas\nAlbert Heijn 1234,PAS123\n12:41",
           counterparty_name="Albert Heijn 1234", bank_transaction_code="426",
           is_card_payment=True),
        tx(None, date(2026, 3, 4), "-50.00", "GEA ABN AMRO BANK NV UTRECHT", bank_transaction_code="426",
           is_card_payment=True),
        tx("ABN-API-6", date(2026, 3, 4), "-120.00", "Zakelijk Internet + Bellen",
           counterparty_iban="NL86INGB0002445588", counterparty_name="KPN B.V.",
           end_to_end_id="KPN-2026-03-0042", bank_transaction_code="247"),
        tx("ABN-API-7", date(2026, 3, 4), "-75.00", "",
           counterparty_iban="NL02ABNA0123456789", counterparty_name="Drukkerij Van Dijk",
           structured_reference="1234567890123456", bank_transaction_code="658"),
    ]
    if skip_second_card:
        del rows[3]
    return rows


@tagged("post_install", "-at_install")
class TestBankFileImport(BankLinkCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Journal = cls.env["account.journal"].sudo()
        cls.ing_journal = Journal.create(
            {"name": "ING zakelijk", "code": "INGF", "type": "bank", "bank_acc_number": ING_IBAN}
        )
        cls.rabo_journal = Journal.create(
            {"name": "Rabobank", "code": "RABF", "type": "bank", "bank_acc_number": RABO_IBAN}
        )

    # ------------------------------------------------------------ helpers

    def import_file(self, name, journal=None, data=None):
        """As the user: the journal's "Import statement" wizard."""
        journal = journal or self.journal
        wizard = (
            self.env["account.statement.import"]
            .with_context(journal_id=journal.id)
            .create(
                {
                    "statement_file": base64.b64encode(
                        data if data is not None else (DATA / name).read_bytes()
                    ),
                    "statement_filename": name,
                }
            )
        )
        return wizard.import_file_button()

    def lines(self, journal=None):
        return self.env["account.bank.statement.line"].search(
            [("journal_id", "=", (journal or self.journal).id)],
            order="date, statement_id, sequence, id",
        )

    def assert_rows(self, lines, rows, fmt):
        self.assertEqual(len(lines), len(rows))
        code_column = 8 if fmt == "camt" else 9
        for line, row in zip(lines, rows, strict=True):
            day, amount, label, name, iban, bic, e2e, reference = row[:8]
            actual = (
                line.date, line.amount, line.payment_ref, line.partner_name,
                line.account_number, line.nl_counterparty_bic, line.nl_end_to_end_id,
                line.nl_structured_reference, line.nl_bank_transaction_code,
                line.nl_import_source,
            )
            expected = (day, amount, label, name, iban, bic, e2e, reference,
                        row[code_column], fmt)
            self.assertEqual(actual, expected)
            self.assertTrue(line.nl_transaction_key and line.nl_transaction_group)
            self.assertFalse(line.nl_possible_duplicate)

    # ------------------------------------------------------------ formats

    def test_ing_camt053_maps_every_field(self):
        self.import_file("ing.camt053.xml", self.ing_journal)
        lines = self.lines(self.ing_journal)
        self.assert_rows(lines, ING_ROWS, "camt")
        statement = lines.statement_id
        self.assertEqual(len(statement), 1)
        self.assertEqual(
            (statement.balance_start, statement.balance_end_real), (15250.00, 16704.83)
        )
        self.assertTrue(statement.is_valid)
        # The betalingskenmerk is the line's reference, for reconciliation.
        self.assertEqual(lines[0].ref, "5000056789012345")

    def test_ing_mt940_maps_every_field(self):
        self.import_file("ing.mt940.sta", self.ing_journal)
        lines = self.lines(self.ing_journal)
        self.assert_rows(lines, ING_ROWS, "mt940")
        self.assertEqual(lines.statement_id.balance_end_real, 16704.83)
        self.assertEqual(lines[0].ref, "5000056789012345")

    def test_abnamro_mt940_tagged_columns_and_card_lines(self):
        self.import_file("abnamro.mt940.sta")
        self.assert_rows(self.lines(), ABN_ROWS, "mt940")

    def test_abnamro_camt053_with_windows_1252_names(self):
        data = (DATA / "abnamro.camt053.xml").read_bytes()
        self.assertIn("Café".encode("cp1252"), data)  # the quirk under test
        self.import_file("abnamro.camt053.xml")
        self.assert_rows(self.lines(), ABN_ROWS, "camt")

    def test_rabobank_mt940_and_camt053(self):
        self.import_file("rabobank.mt940.sta", self.rabo_journal)
        lines = self.lines(self.rabo_journal)
        rows = [row[:5] + (False,) + row[6:] for row in RABO_ROWS]  # no BIC in MT940
        self.assert_rows(lines, rows, "mt940")
        lines.statement_id.line_ids.unlink()
        self.import_file("rabobank.camt053.xml", self.rabo_journal)
        self.assert_rows(self.lines(self.rabo_journal), RABO_ROWS, "camt")

    def test_mt940_extensions_and_formats_offered(self):
        for name in ("ing.940", "ing.mt940", "ing.swi", "ing.txt"):
            with self.subTest(name=name):
                data = (DATA / "ing.mt940.sta").read_bytes()
                self.env["account.bank.statement.line"].search(
                    [("journal_id", "=", self.ing_journal.id)]
                ).unlink()
                self.import_file(name, self.ing_journal, data=data)
                self.assertEqual(len(self.lines(self.ing_journal)), 5)
        self.assertIn(
            "MT940 (ING, ABN AMRO, Rabobank)",
            self.ing_journal._get_bank_statements_available_import_formats(),
        )

    def test_mollie_balance_files(self):
        """Mollie's MT940 of its balance: every merchant's file carries
        Mollie's own account, payments keep their payer and Mollie's payment
        id, the payout names the company's own account, and a file again
        adds nothing."""
        mollie = self.env["account.journal"].sudo().create(
            {"name": "Mollie", "code": "MOLL", "type": "bank", "bank_acc_number": "NL30ABNA0524590958"}
        )
        for name in ("mollie-daily.sta", "mollie-payout.sta"):
            self.import_file(name, mollie, data=(BANKFILES / "mollie" / name).read_bytes())
        lines = self.lines(mollie)
        self.assertEqual(len(lines), 6)
        self.assertEqual(
            [(line.amount, line.account_number or False, line.nl_end_to_end_id or False) for line in lines],
            [(121.0, "NL20INGB0001234567", "tr_7UhSN1zuXS"), (59.95, False, "tr_Rkz2QvQk5d"),
             (-0.58, False, False), (24.2, "BE71096123456769", "tr_WDqYK6vllg"),
             (-30.0, "NL20INGB0001234567", "re_4qqhO89gsT"),
             (-1694.97, "NL91ABNA0417164300", "T2026.0311.2201")],
        )
        self.assertEqual(lines[0].partner_name, "J. de Vries")
        self.assertEqual(lines.statement_id.mapped("balance_end_real"), [1700.77, 0.0])
        with self.assertRaisesRegex(UserError, "already imported"):
            self.import_file("mollie-payout.sta", mollie,
                             data=(BANKFILES / "mollie" / "mollie-payout.sta").read_bytes())
        self.assertEqual(len(self.lines(mollie)), 6)

    def test_file_of_several_accounts_fills_each_journal(self):
        """An "all accounts" export (MT940 and camt.053) imported from one
        journal puts each account's statement in its own journal and says
        so; an account without a journal refuses the whole file."""
        mt940 = (DATA / "ing.mt940.sta").read_bytes() + b"\r\n" + (DATA / "abnamro.mt940.sta").read_bytes()
        action = self.import_file("all.sta", self.journal, data=mt940)
        self.assertEqual(len(self.lines()), 7)
        self.assertEqual(len(self.lines(self.ing_journal)), 5)
        self.assertIn(f"imported into journal {self.ing_journal.display_name}", action["params"]["message"])
        ing = (DATA / "ing.camt053.xml").read_bytes()
        abn = (DATA / "abnamro.camt053.xml").read_bytes()  # ABN AMRO's Windows-1252 names
        ing_statement = ing[ing.index(b"<Stmt>"): ing.index(b"</Stmt>") + len(b"</Stmt>")]
        both = abn.replace(b"</Stmt>", b"</Stmt>" + ing_statement, 1)
        with self.assertRaisesRegex(UserError, "already imported"):
            self.import_file("all.xml", self.rabo_journal, data=both)
        self.assertEqual((len(self.lines()), len(self.lines(self.ing_journal))), (7, 5))
        unknown = both.replace(ING_IBAN.encode(), b"NL86INGB0002445588")
        with self.assertRaisesRegex(UserError, "account NL86INGB0002445588 has no bank journal"):
            self.import_file("all.xml", self.rabo_journal, data=unknown)
        self.assertFalse(self.lines(self.rabo_journal))

    # ------------------------------------------------------------ same file twice

    def test_same_file_again_and_other_format_of_same_period(self):
        self.import_file("ing.mt940.sta", self.ing_journal)
        with self.assertRaisesRegex(UserError, "already imported"):
            self.import_file("ing.mt940.sta", self.ing_journal)
        with self.assertRaisesRegex(UserError, "already imported"):
            self.import_file("ing.camt053.xml", self.ing_journal)
        self.assertEqual(len(self.lines(self.ing_journal)), 5)

    def test_abnamro_camt_after_mt940_without_end_to_end_ids(self):
        self.import_file("abnamro.mt940.sta")
        with self.assertRaisesRegex(UserError, "already imported"):
            self.import_file("abnamro.camt053.xml")
        self.assertEqual(len(self.lines()), 7)
        self.assertFalse(self.lines().filtered("nl_possible_duplicate"))

    def test_overlapping_file_brings_only_new_days(self):
        self.import_file("ing.mt940.sta", self.ing_journal)
        text = (DATA / "ing.mt940.sta").read_text()
        # A later file: 4 March again, plus 5 March.
        later = text.replace(":60F:C260302EUR15250,00", ":60F:C260303EUR16449,83")
        start = later.index(":61:2603030303C1250")
        end = later.index(":61:2603040304C605")
        later = later[:start] + later[end:]
        later = later.replace(
            ":62F:C260304EUR16704,83",
            ":61:2603050305C10,00NTRFNONREF//26064500012350\r\n/TRCD/00100/\r\n"
            ":86:/EREF/E2E-NEW//CNTP/NL20INGB0001234567/INGBNL2A/De Groot Advies/HOUTEN//"
            "/REMI/USTD//Nabetaling/\r\n:62F:C260305EUR16714,83",
        )
        action = self.import_file("ing-later.sta", self.ing_journal, data=later.encode())
        self.assertIn("2 transaction(s) had already been imported", action["params"]["message"])
        lines = self.lines(self.ing_journal)
        self.assertEqual(len(lines), 6)
        new = lines.filtered(lambda ln: ln.date == date(2026, 3, 5))
        self.assertEqual(new.nl_end_to_end_id, "E2E-NEW")
        # The skipped lines count in the opening balance: the statement adds up.
        self.assertEqual(new.statement_id.balance_start, 16704.83)
        self.assertTrue(new.statement_id.is_complete)

    # ------------------------------------------------------------ file and link

    @freeze_time("2026-03-05 09:00:00")
    def test_file_then_link_keeps_each_transaction_once(self):
        link, account = self.make_link()
        self.import_file("abnamro.mt940.sta")
        self.bank.transactions[TEST_IBAN] = abn_link_transactions()
        self.assertFalse(account._bank_link_fetch())
        lines = self.lines()
        self.assertEqual(len(lines), 7)
        self.assertEqual(set(lines.mapped("nl_import_source")), {"mt940"})
        self.assertFalse(lines.filtered("nl_possible_duplicate"))
        # And again: still once.
        self.assertFalse(account._bank_link_fetch())
        self.assertEqual(len(self.lines()), 7)

    @freeze_time("2026-03-11 09:00:00")
    def test_batch_payments_from_a_file_then_the_link_total(self):
        """The link books a direct-debit batch as one total and names no
        batch: after a camt.054 with the batch's payments, the fetched total
        is kept but marked, with the payments, as a possible duplicate."""
        link, account = self.make_link()
        notification = (BANKFILES / "abnamro" / "abnamro-collection-notification.camt054.xml").read_text("utf-8")
        self.import_file("n.camt054.xml", data=notification.replace("NL02ABNA0123456789", TEST_IBAN).encode())
        self.bank.transactions[TEST_IBAN] = [
            tx("LNK-1", date(2026, 3, 10), "62.50", "INCASSO BATCH"),
            tx("LNK-2", date(2026, 3, 10), "40.00", "Andere betaling"),
        ]
        self.assertFalse(account._bank_link_fetch())
        lines = self.lines()
        marked = lines.filtered("nl_possible_duplicate")
        self.assertEqual(sorted(marked.mapped("amount")), [12.5, 25.0, 25.0, 62.5])
        self.assertIn("INC-2026-03-001", marked.filtered(lambda line: line.amount == 62.5).nl_duplicate_note)
        self.assertEqual(len(lines), 6)

    @freeze_time("2026-03-05 09:00:00")
    def test_link_then_file_keeps_each_transaction_once(self):
        link, account = self.make_link()
        self.bank.transactions[TEST_IBAN] = abn_link_transactions()
        self.assertFalse(account._bank_link_fetch())
        self.assertEqual(len(self.lines()), 7)
        for name in ("abnamro.mt940.sta", "abnamro.camt053.xml"):
            with self.assertRaisesRegex(UserError, "already imported"):
                self.import_file(name)
        lines = self.lines()
        self.assertEqual(len(lines), 7)
        self.assertEqual(set(lines.mapped("nl_import_source")), {"link"})
        self.assertEqual(sum(lines.mapped("amount")), 2979.45)

    @freeze_time("2026-03-05 09:00:00")
    def test_link_then_file_with_a_new_transaction(self):
        link, account = self.make_link()
        self.bank.transactions[TEST_IBAN] = abn_link_transactions()
        del self.bank.transactions[TEST_IBAN][5]  # KPN not yet fetched
        account._bank_link_fetch()
        self.journal.bank_statements_source = "bank_link"
        action = self.import_file("abnamro.mt940.sta")
        # A file filling a gap leaves the journal linked.
        self.assertEqual(self.journal.bank_statements_source, "bank_link")
        self.assertIn("6 transaction(s) were already in Odoo", action["params"]["message"])
        lines = self.lines()
        self.assertEqual(len(lines), 7)
        kpn = lines.filtered(lambda ln: ln.nl_import_source == "mt940")
        self.assertEqual(kpn.partner_name, "KPN B.V.")
        self.assertEqual(kpn.statement_id.balance_end_real, 6215.73)
        self.assertTrue(kpn.statement_id.is_complete)

    @freeze_time("2026-03-05 09:00:00")
    def test_uncertain_duplicate_is_kept_marked_and_resolved(self):
        """Two identical card payments in the file, one through the link:
        which one is the link's cannot be known. All stay, all are marked."""
        link, account = self.make_link()
        self.import_file("abnamro.mt940.sta")
        self.bank.transactions[TEST_IBAN] = abn_link_transactions(skip_second_card=True)
        account._bank_link_fetch()
        lines = self.lines()
        self.assertEqual(len(lines), 8)
        marked = lines.filtered("nl_possible_duplicate")
        self.assertEqual(len(marked), 3)
        self.assertEqual(set(marked.mapped("amount")), {-6.55})
        self.assertEqual(
            sorted(marked.mapped("nl_import_source")), ["link", "mt940", "mt940"]
        )
        self.assertIn("Possible duplicate", marked[0].nl_duplicate_note)
        self.assertIn("may already have been imported", account.last_notice)
        # Visible: the filter and the statement's count.
        found = self.env["account.bank.statement.line"].search(
            [("journal_id", "=", self.journal.id), ("nl_possible_duplicate", "=", True)]
        )
        self.assertEqual(found, marked)
        statements = self.env["account.bank.statement"].search(
            [("nl_possible_duplicate_count", ">", 0)]
        )
        self.assertEqual(statements, marked.statement_id)
        self.assertEqual(sum(statements.mapped("nl_possible_duplicate_count")), 3)
        # The user removes the link's copy: the file's two are settled, and
        # the next fetch does not bring the removed one back.
        link_line = marked.filtered(lambda ln: ln.nl_import_source == "link")
        link_line.action_nl_remove_duplicate()
        self.assertFalse(link_line.exists())
        self.assertFalse(self.lines().filtered("nl_possible_duplicate"))
        account._bank_link_fetch()
        self.assertEqual(len(self.lines()), 7)

    @freeze_time("2026-03-05 09:00:00")
    def test_uncertain_duplicate_not_a_duplicate(self):
        link, account = self.make_link()
        self.bank.transactions[TEST_IBAN] = abn_link_transactions(skip_second_card=True)
        account._bank_link_fetch()
        action = self.import_file("abnamro.mt940.sta")
        self.assertIn("marked as possible duplicates", action["params"]["message"])
        marked = self.lines().filtered("nl_possible_duplicate")
        self.assertEqual(len(marked), 3)
        with self.assertRaisesRegex(UserError, "Only lines marked"):
            (marked | self.lines()[0]).action_nl_remove_duplicate()
        marked[0].action_nl_keep_duplicate()
        self.assertFalse(self.lines().filtered("nl_possible_duplicate"))
        self.assertEqual(len(self.lines()), 8)

    # ------------------------------------------------------------ errors

    def assert_refused(self, name, message, journal=None, data=None):
        journal = journal or self.journal
        before = self.env["account.bank.statement.line"].search_count([])
        with self.assertRaises(UserError) as caught:
            self.import_file(name, journal, data=data)
        self.assertIn(message, str(caught.exception))
        self.assertEqual(self.env["account.bank.statement.line"].search_count([]), before)
        return str(caught.exception)

    def test_error_file_of_another_account(self):
        message = self.assert_refused(
            "ing.camt053.xml", "holds a statement of account NL67INGB0006543210"
        )
        self.assertIn("NL91 ABNA 0417 1643 00", message)
        self.assert_refused("rabobank.mt940.sta", "holds a statement of account NL44RABO0123456789",
                            self.ing_journal)

    def test_error_other_currency(self):
        usd = self.env.ref("base.USD")
        usd.active = True
        data = (DATA / "ing.mt940.sta").read_text().replace("EUR", "USD").encode()
        self.assert_refused("ing-usd.sta", "is in USD, but the journal", self.ing_journal, data)

    def test_error_malformed_mt940_names_the_line(self):
        text = (DATA / "ing.mt940.sta").read_text().splitlines()
        text[13] = ":61:26030X0303D45,67NTRFNONREF"
        self.assert_refused("broken.sta", "malformed at line 14", self.ing_journal,
                            "\r\n".join(text).encode())
        text = (DATA / "ing.mt940.sta").read_text().splitlines()
        text[6] = ":60F:C260302EUR15.250,00"
        self.assert_refused("broken.sta", "malformed at line 7", self.ing_journal,
                            "\r\n".join(text).encode())

    def test_error_mt940_that_does_not_add_up(self):
        text = (DATA / "ing.mt940.sta").read_text()
        cut = text.index(":61:2603040304D350")
        text = text[:cut] + text[text.index(":62F:"):]
        self.assert_refused("cut.sta", "does not add up", self.ing_journal, text.encode())

    def test_error_damaged_camt_names_the_line(self):
        data = (DATA / "ing.camt053.xml").read_bytes().replace(b"</Ntry>", b"</Ntri>", 1)
        message = self.assert_refused("broken.xml", "damaged at line", self.ing_journal, data)
        self.assertRegex(message, r"line \d+")

    def test_error_unreadable_file(self):
        self.assert_refused("picture.sta", "cannot be read as text at line 3",
                            self.ing_journal, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

    def test_multi_statement_file_whole_or_nothing(self):
        """Two statements, the second of an account without journal: nothing stays."""
        ing = (DATA / "ing.mt940.sta").read_text()
        rabo = (DATA / "rabobank.mt940.sta").read_text().replace(":940:\n", "").replace(
            "NL44RABO0123456789", "NL38RABO0309876541")
        both = ing.replace("-}", "") + rabo + "-}\r\n"
        self.assert_refused("both.sta", "account NL38RABO0309876541 has no bank journal",
                            self.ing_journal, both.encode())
        self.assertFalse(self.lines(self.ing_journal))


    # ------------------------------------------- XML entities, balances, dates

    def test_error_camt_with_an_entity_reads_no_file_of_the_server(self):
        """The attack of the security issue (item 8): a camt.053 declaring a
        SYSTEM entity, imported through the wizard by an accountant."""
        secret = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
        original = (DATA / "ing.camt053.xml").read_bytes()
        xxe = original.replace(
            b'<?xml version="1.0" encoding="UTF-8"?>',
            b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/hostname">]>',
        ).replace(b"Factuur 2026-0042 klantnr 4711", b"&secret;")
        self.assertIn(b"<!DOCTYPE", xxe)
        variants = {
            "plain": xxe,
            # far down the file: no look at the first kilobytes only
            "late": xxe.replace(b"<!DOCTYPE", b"<!--" + b" " * 5000 + b"-->\n<!DOCTYPE", 1),
            "utf-16": xxe.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"),
        }
        for label, data in variants.items():
            with self.subTest(label):
                message = self.assert_refused("xxe.xml", "declares a DOCTYPE or an entity",
                                              self.ing_journal, data)
                self.assertRegex(message, r"line \d+")
        if secret:
            texts = self.env["account.bank.statement.line"].search([]).mapped(
                lambda line: f"{line.payment_ref} {line.narration or ''}")
            self.assertFalse([text for text in texts if secret in text])

    def test_error_camt_that_does_not_add_up(self):
        data = (DATA / "ing.camt053.xml").read_bytes().replace(
            b"<Amt Ccy=\"EUR\">16704.83</Amt>", b"<Amt Ccy=\"EUR\">16804.83</Amt>", 1)
        message = self.assert_refused("wrong-balance.xml", "does not add up", self.ing_journal, data)
        self.assertIn("16804.83", message)
        self.assertRegex(message, r"line \d+")

    def test_error_camt_closing_before_its_entries(self):
        data = (DATA / "ing.camt053.xml").read_bytes().replace(
            b"<Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">16704.83</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
            b"<Dt><Dt>2026-03-04</Dt>",
            b"<Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">16704.83</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
            b"<Dt><Dt>2026-03-02</Dt>", 1)
        self.assertIn(b"2026-03-02", data)
        message = self.assert_refused("wrong-date.xml", "closes on 2026-03-02", self.ing_journal, data)
        self.assertIn("booked on 2026-03-03", message)

    def test_error_mt940_closing_before_its_transactions(self):
        text = (DATA / "ing.mt940.sta").read_text()
        closing = text[text.index(":62F:"):].splitlines()[0]
        wrong = closing[:6] + "260201" + closing[12:]
        message = self.assert_refused("wrong-date.sta", "The dates of the file are wrong",
                                      self.ing_journal, text.replace(closing, wrong).encode())
        self.assertIn("line", message)
