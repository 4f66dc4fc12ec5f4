"""Plain pytest for the addons' Odoo-free code.

Each addon folder is registered as a bare package, without running its
``__init__.py`` (which loads Odoo models), so that
``import l10n_nl_bankkoppeling.tools.betalingskenmerk`` works with no Odoo
at all. Inside Odoo the same modules are ``odoo.addons.<addon>.tools.*``.
"""

import importlib.machinery
import sys
import types
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ADDONS = ("l10n_nl_bankkoppeling", "account_bank_link_ing", "account_bank_link_abnamro",
          "account_bank_link_rabobank", "account_bank_link_nextgenpsd2",
          "account_bank_link_bunq",
          "account_bank_link_payment_order")


def _register_bare_package(name: str, folder: Path) -> None:
    if name in sys.modules:
        return
    package = types.ModuleType(name)
    package.__path__ = [str(folder)]
    package.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
    package.__spec__.submodule_search_locations = [str(folder)]
    sys.modules[name] = package


for _addon in ADDONS:
    _register_bare_package(_addon, REPO / _addon)

for _extra in (REPO / "setup", REPO / "tests"):
    if str(_extra) not in sys.path:
        sys.path.insert(0, str(_extra))
