"""The checklist of readme/SECURITY.md, read from the source of every bank
addon (present and future): a new addon that keeps a key as an attachment,
leaves an endpoint open to non-administrators, bypasses the field check in
``create`` or ships without its attack tests fails here. The registry walk
in l10n_nl_bankkoppeling/tests/test_security_registry.py checks the same
on the installed fields."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ADMIN_GROUP = "l10n_nl_bankkoppeling.group_bank_link_admin"
BANK_ADDONS = sorted(
    path.parent for path in REPO.glob("account_bank_link_*/__manifest__.py")
    if path.parent.name != "account_bank_link_payment_order"
)
ENDPOINT_SUFFIXES = ("_url", "_environment", "_host")


def field_calls(path):
    """(field name, fields.<Type>(...) call) of every class attribute."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                        and isinstance(stmt.targets[0], ast.Name)
                        and isinstance(stmt.value, ast.Call)
                        and isinstance(stmt.value.func, ast.Attribute)
                        and getattr(stmt.value.func.value, "id", "") == "fields"):
                    yield stmt.targets[0].id, stmt.value


def keyword(call, name):
    for item in call.keywords:
        if item.arg == name:
            return item.value
    return None


def is_admin_group(node):
    return (isinstance(node, ast.Name) and node.id == "ADMIN_GROUP") or (
        isinstance(node, ast.Constant) and node.value == ADMIN_GROUP)


def test_there_are_bank_addons_to_check():
    names = {path.name for path in BANK_ADDONS}
    assert {"account_bank_link_ing", "account_bank_link_abnamro"} <= names


@pytest.mark.parametrize("addon", BANK_ADDONS, ids=lambda path: path.name)
def test_credential_files_are_admin_only_columns(addon):
    problems = []
    for path in (addon / "models").glob("*.py"):
        for name, call in field_calls(path):
            if call.func.attr != "Binary":
                continue
            attachment = keyword(call, "attachment")
            if not (isinstance(attachment, ast.Constant) and attachment.value is False):
                problems.append(f"{path.name}: {name} must say attachment=False")
            if not is_admin_group(keyword(call, "groups")):
                problems.append(f"{path.name}: {name} must have groups=ADMIN_GROUP")
    assert problems == []


REGISTRATION = REPO / "l10n_nl_bankkoppeling" / "models" / "account_bank_registration.py"


def uses_the_registration(addon):
    """A bank addon whose settings live in the framework's bank registration
    (no settings fields on its link): the registration is checked instead."""
    path = addon / "models" / "account_bank_link.py"
    # Either the link asks for its registration itself, or its provider is in
    # the framework's registry, which builds it from the registration.
    registered = any("@provider.register" in tool.read_text() for tool in (addon / "tools").glob("*_provider.py"))
    return ("_bank_link_registration()" in path.read_text() or registered) and not any(
        name.endswith(ENDPOINT_SUFFIXES) for name, _call in field_calls(path))


@pytest.mark.parametrize("addon", BANK_ADDONS, ids=lambda path: path.name)
def test_endpoints_are_admin_only_tracked_and_checked(addon):
    path = REGISTRATION if uses_the_registration(addon) else addon / "models" / "account_bank_link.py"
    source = path.read_text()
    problems = []
    endpoints = []
    for name, call in field_calls(path):
        if not name.endswith(ENDPOINT_SUFFIXES):
            continue
        endpoints.append(name)
        if not is_admin_group(keyword(call, "groups")):
            problems.append(f"{name} must have groups=ADMIN_GROUP")
        tracking = keyword(call, "tracking")
        if not (isinstance(tracking, ast.Constant) and tracking.value):
            problems.append(f"{name} must be tracked")
    assert endpoints, "a bank addon names where it talks to"
    assert "_bank_link_check_endpoints(" in source, "no constraint checks the endpoints"
    if path == REGISTRATION:
        # The hosts come from the provider class.
        assert "production_hosts" in source, "production is not limited to the bank's hosts"
        provider_source = "".join(p.read_text() for p in (addon / "tools").glob("*_provider.py"))
        assert "production_hosts = " in provider_source, "the provider names no production hosts"
    else:
        assert "PRODUCTION_HOSTS" in source, "production is not limited to the bank's hosts"
    assert problems == []


@pytest.mark.parametrize("addon", BANK_ADDONS, ids=lambda path: path.name)
def test_no_create_override_bypasses_the_field_check(addon):
    tree = ast.parse((addon / "models" / "account_bank_link.py").read_text())
    creates = [node.name for node in ast.walk(tree)
               if isinstance(node, ast.FunctionDef) and node.name == "create"]
    assert creates == [], "inherit settings through _bank_link_inherited_vals instead"


CONFORMANCE = REPO / "l10n_nl_bankkoppeling" / "tests" / "conformance.py"


@pytest.mark.parametrize("addon", BANK_ADDONS, ids=lambda path: path.name)
def test_the_addon_ships_its_attack_tests(addon):
    """Its own tests/test_<bank>_attacks.py, or the framework's security
    checklist (conformance.SettingsConformance) run by one of its tests."""
    tests = [path for path in (addon / "tests").glob("test_*.py")]
    attacks = [path for path in tests if path.name.endswith("attacks.py")]
    attacks += [path for path in tests if "conformance.SettingsConformance" in path.read_text()]
    assert attacks, f"{addon.name} has no tests/test_<bank>_attacks.py and does not run conformance.SettingsConformance"
    text = "".join(path.read_text() for path in attacks)
    if any("conformance.SettingsConformance" in path.read_text() for path in attacks):
        text += CONFORMANCE.read_text()
    for attack in ("/web/content", "ir.attachment", "xmlrpc"):
        assert attack in text, f"{addon.name}'s attack tests do not try {attack}"
    init = (addon / "tests" / "__init__.py").read_text()
    for path in attacks:
        assert f"import {path.stem}" in init, f"{path.name} is not run"
