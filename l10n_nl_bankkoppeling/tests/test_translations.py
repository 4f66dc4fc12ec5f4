"""Every user-facing term of our addons has a Dutch translation."""

from pathlib import Path

import polib

from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

#: every addon of this repository, including ones added later
OUR_ADDONS = tuple(sorted(p.parent.name for p in Path(__file__).resolve().parents[2].glob("*/__manifest__.py")))


@tagged("post_install", "-at_install")
class TestDutchTranslations(TransactionCase):
    def _dutch_catalogue(self, addon):
        path = Path(get_module_path(addon)) / "i18n" / "nl.po"
        self.assertTrue(path.exists(), f"{addon} has no i18n/nl.po")
        return {e.msgid for e in polib.pofile(str(path)) if e.msgstr.strip() and not e.obsolete and "fuzzy" not in e.flags}

    def test_every_term_has_a_dutch_translation(self):
        installed = self.env["ir.module.module"].search([("name", "in", OUR_ADDONS), ("state", "=", "installed")])
        self.assertTrue(installed, "our addons are not installed")
        for addon in installed.mapped("name"):
            terms = {row[4] for row in TranslationModuleReader(self.env.cr, modules=[addon], lang="nl_NL")
                     if row[0] == addon}
            self.assertTrue(terms, f"{addon} exports no terms at all")
            missing = sorted(terms - self._dutch_catalogue(addon))
            self.assertFalse(
                missing,
                f"{addon}: {len(missing)} terms lack a Dutch translation in i18n/nl.po "
                f"(run setup/lib/i18n_sync.py, then translate): {missing[:15]}",
            )

    def test_every_translation_says_where_it_is_used(self):
        """Odoo loads a translation only through its occurrence (`#: code:`,
        `#: model:`): an entry without one stays English in the interface."""
        for addon in OUR_ADDONS:
            path = Path(get_module_path(addon)) / "i18n" / "nl.po"
            unplaced = [e.msgid for e in polib.pofile(str(path)) if not e.obsolete and not e.occurrences]
            self.assertFalse(
                unplaced,
                f"{addon}: {len(unplaced)} entries of i18n/nl.po have no occurrence and never show "
                f"(run setup/lib/i18n_sync.py): {unplaced[:10]}",
            )

    def test_dutch_is_what_a_dutch_user_sees(self):
        """The field labels of the bank link read Dutch for a Dutch user."""
        self.env["res.lang"]._activate_lang("nl_NL")
        model = self.env["ir.model"]._get("account.bank.link")
        self.assertTrue(model)
        label = model.with_context(lang="nl_NL").name
        self.assertNotEqual(label, model.with_context(lang="en_US").name,
                            "the model name of account.bank.link is not translated to Dutch")
