"""Each addon builds as the wheel an Odoo partner would pip-install
(the OCA's whool convention: odoo-addon-<addon_name>)."""

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ADDONS = ("l10n_nl_bankkoppeling", "account_bank_link_ing", "account_bank_link_abnamro",
          "account_bank_link_payment_order")


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    target = tmp_path_factory.mktemp("wheels")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(target),
         *(str(REPO / addon) for addon in ADDONS)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {path.name.split("-")[0]: path for path in target.glob("*.whl")}


@pytest.mark.parametrize("addon", ADDONS)
def test_addon_builds_as_odoo_addon_wheel(wheels, addon):
    wheel = wheels[f"odoo_addon_{addon}"]
    manifest = ast.literal_eval((REPO / addon / "__manifest__.py").read_text())
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith("/METADATA"))).decode()
    assert f"Name: odoo-addon-{addon}" in metadata
    assert f"License: {manifest['license']}" in metadata
    assert "Requires-Dist: odoo==18.0.*" in metadata
    for dependency in manifest["external_dependencies"]["python"]:
        assert f"Requires-Dist: {dependency}" in metadata
    # the data files Odoo loads travel in the wheel too
    for data_file in manifest.get("data", []):
        assert f"odoo/addons/{addon}/{data_file}" in names
    assert f"odoo/addons/{addon}/i18n/nl.po" in names
