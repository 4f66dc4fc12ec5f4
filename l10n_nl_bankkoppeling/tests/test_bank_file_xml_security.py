# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Attack: an accountant imports a camt.053 file that declares XML
entities, to read files of the server (XXE) or to exhaust its memory.
The file must be refused before any XML parser reads it, nothing may be
imported, and no byte of the server's files may reach the database or the
error message."""

import base64
import io
import tempfile
import zipfile
from pathlib import Path

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import BankLinkCase, with_payment_group

DATA = Path(__file__).parent / "data"
ING_IBAN = "NL67INGB0006543210"
#: What a server file holds; never to be seen in Odoo.
MARKER = "GEHEIM-SERVERBESTAND-7f3a9c"


@tagged("post_install", "-at_install")
class TestBankFileXmlEntities(BankLinkCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ing_journal = cls.env["account.journal"].sudo().create(
            {"name": "ING zakelijk", "code": "INGX", "type": "bank", "bank_acc_number": ING_IBAN}
        )
        cls.accountant = new_test_user(
            cls.env,
            login="boekhouder-xml",
            groups="account.group_account_user",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        # OCA's payment orders reserve bank accounts to their payments group;
        # an accountant who imports statements has it.
        cls.accountant.groups_id |= with_payment_group(cls.env, cls.env["res.groups"])
        secret = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
        secret.write(MARKER)
        secret.close()
        cls.secret_path = Path(secret.name)
        cls.addClassCleanup(cls.secret_path.unlink)
        hostname = Path("/etc/hostname")
        cls.hostname = hostname.read_text().strip() if hostname.exists() else ""

    def camt_with(self, doctype, entity_use):
        """The ING sample with a DOCTYPE after the XML declaration and an
        entity reference in the first remittance text."""
        text = (DATA / "ing.camt053.xml").read_text()
        declaration, rest = text.split("\n", 1)
        rest = rest.replace(
            "<Ustrd>Factuur 2026-0042 klantnr 4711</Ustrd>",
            f"<Ustrd>Factuur {entity_use}</Ustrd>",
        )
        return f"{declaration}\n{doctype}\n{rest}"

    def xxe_file(self):
        return self.camt_with(
            "<!DOCTYPE Document [\n"
            '  <!ENTITY host SYSTEM "file:///etc/hostname">\n'
            f'  <!ENTITY secret SYSTEM "file://{self.secret_path}">\n'
            "]>",
            "&host; &secret;",
        )

    def import_as_accountant(self, data, name="afschrift.xml"):
        wizard = (
            self.env["account.statement.import"]
            .with_user(self.accountant)
            # What the web client sends: the user's language.
            .with_context(journal_id=self.ing_journal.id, lang=self.accountant.lang)
            .create({"statement_file": base64.b64encode(data), "statement_filename": name})
        )
        return wizard.import_file_button()

    def assert_refused_whole(self, data, name="afschrift.xml", expect="declares a DOCTYPE or an entity"):
        Line = self.env["account.bank.statement.line"].sudo()
        Statement = self.env["account.bank.statement"].sudo()
        lines, statements = Line.search_count([]), Statement.search_count([])
        with self.assertRaises(UserError) as caught:
            self.import_as_accountant(data, name)
        message = str(caught.exception)
        self.assertIn(expect, message)
        self.assertIn("Nothing was imported", message)
        self.assertNotIn(MARKER, message)
        self.assertEqual(Line.search_count([]), lines)
        self.assertEqual(Statement.search_count([]), statements)
        return message

    def assert_secret_nowhere(self):
        Line = self.env["account.bank.statement.line"].sudo()
        for field in ("payment_ref", "narration", "ref", "partner_name"):
            self.assertFalse(Line.search([(field, "ilike", MARKER)]), field)
        self.assertFalse(
            self.env["mail.message"].sudo().search([("body", "ilike", MARKER)])
        )

    def test_external_entity_reading_server_files_is_refused(self):
        message = self.assert_refused_whole(self.xxe_file().encode())
        self.assertIn("line 2", message)
        if self.hostname:
            self.assertNotIn(self.hostname, message.replace("Nothing", ""))
        self.assert_secret_nowhere()
        self.assertFalse(self.env["account.bank.statement.line"].sudo().search(
            [("journal_id", "=", self.ing_journal.id)]))

    def test_internal_entities_and_bare_doctype_are_refused(self):
        laughs = self.camt_with(
            '<!DOCTYPE Document [<!ENTITY a "hahahahahahahahaha">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',
            "&c;",
        )
        self.assert_refused_whole(laughs.encode())
        bare = self.camt_with('<!DOCTYPE Document SYSTEM "camt.053.001.02.dtd">', "2026-0042")
        self.assert_refused_whole(bare.encode())

    def test_disguised_declarations_are_refused(self):
        """Lower case, UTF-16, or inside a zip of camt files (which OCA's
        wizard unpacks): still refused before parsing."""
        lower = self.xxe_file().replace("<!DOCTYPE", "<!doctype", 1)
        # XML keywords are case-sensitive: lxml rejects "<!doctype", but
        # the refusal must not depend on that.
        with self.assertRaises(UserError):
            self.import_as_accountant(lower.encode())
        utf16 = self.xxe_file().replace('encoding="UTF-8"', 'encoding="UTF-16"')
        self.assert_refused_whole(utf16.encode("utf-16"))
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("afschrift.xml", self.xxe_file())
        # Our wizard reads no zip at all (MT940/camt files only): refused
        # before OCA's unpacking, and so never parsed.
        self.assert_refused_whole(archive.getvalue(), "afschriften.zip", expect="line")
        self.assert_secret_nowhere()

    def test_refusal_is_dutch_for_a_dutch_accountant(self):
        self.env["res.lang"]._activate_lang("nl_NL")
        self.accountant.lang = "nl_NL"
        with self.assertRaises(UserError) as caught:
            self.import_as_accountant(self.xxe_file().encode())
        self.assertIn("Er is niets geïmporteerd", str(caught.exception))

    def test_plain_camt_still_imports(self):
        self.import_as_accountant((DATA / "ing.camt053.xml").read_bytes())
        self.assertEqual(
            self.env["account.bank.statement.line"].search_count(
                [("journal_id", "=", self.ing_journal.id)]
            ),
            5,
        )
