"""Bring each addon's i18n/nl.po up to date with the terms in the code.

    .venv/bin/python setup/lib/i18n_sync.py .local/odoo-test-<db>.conf <db>

Exports the translatable terms of our installed addons from database <db>
with Odoo's own exporter (so occurrences keep the format Odoo's importer
needs), keeps every Dutch translation already in nl.po (matched by msgid),
(or in another of our addons' nl.po), leaves new terms with an empty msgstr (the translation test names them) and
drops terms the code no longer has. Translate the empty entries afterwards.
"""

import io
import sys
from pathlib import Path

import polib

import odoo
from odoo.tools import config
from odoo.tools.translate import trans_export

REPO = Path(__file__).resolve().parents[2]
ADDONS = tuple(sorted(p.parent.name for p in REPO.glob("*/__manifest__.py")))


def known_translations(addon: str) -> dict[str, str]:
    """The addon's own translations first, then the other addons' (a term
    that moved between addons keeps its Dutch)."""
    known = {}
    for other in sorted(ADDONS, key=lambda name: name == addon):
        path = REPO / other / "i18n" / "nl.po"
        if path.exists():
            known.update({e.msgid: e.msgstr for e in polib.pofile(str(path)) if e.msgstr and not e.obsolete})
    return known


def sync(cr, addon: str) -> tuple[int, int]:
    path = REPO / addon / "i18n" / "nl.po"
    path.parent.mkdir(exist_ok=True)
    known = known_translations(addon)
    buffer = io.BytesIO()
    trans_export("nl_NL", [addon], buffer, "po", cr)
    exported = polib.pofile(buffer.getvalue().decode())
    for entry in exported:
        if entry.msgid in known:
            entry.msgstr = known[entry.msgid]
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
    exported.metadata.update({"Language": "nl", "Plural-Forms": "nplurals=2; plural=(n != 1);"})
    for key in ("POT-Creation-Date", "PO-Revision-Date"):
        exported.metadata.pop(key, None)
    exported.save(str(path))
    return len(exported), sum(1 for e in exported if not e.msgstr)


def main(config_path: str, database: str) -> None:
    config.parse_config(["-c", config_path])
    registry = odoo.modules.registry.Registry(database)
    with registry.cursor() as cr:
        for addon in ADDONS:
            total, missing = sync(cr, addon)
            print(f"{addon}: {total} terms, {missing} without Dutch translation")


if __name__ == "__main__":
    main(*sys.argv[1:])
