"""Knab, Triodos Bank, ASN Bank, SNS and RegioBank (Berlin Group
NextGenPSD2): the administrator links each brand's demo journal through the
wizard (the bank recognised from the IBAN, the consent on the bank's Dutch
page with its TAN), its transactions arrive, the consent is renewed from the
journal and the journal is unlinked again.

The demo's Odoo runs over plain http on this machine: its sandbox
registrations may send the user back to ``http://127.0.0.1`` (sandbox only:
a production registration needs https, tests/unit/test_nextgenpsd2_provider.py)."""

from __future__ import annotations

import odoo_ui as ui
import pytest
from conftest import SANDBOX_TAN
from link_lifecycle import renew_from_journal, unlink_from_journal
from playwright.sync_api import expect
from test_1_administrator import _accounts_step, _journal, _linked_card_shows, _wait_for_fetches

#: (journal code of the demo, the bank as the wizard lists it)
BANKS = [("KNAB", "Knab"), ("TRIO", "Triodos Bank"), ("ASN", "ASN Bank"), ("SNS", "SNS"), ("RGB", "RegioBank")]


def _register_at_triodos(page, rpc, odoo_url, shot):
    """Triodos registers the certificate by API, for Odoo's exact callback address: the
    administrator presses the button on the registration (the demo's Odoo is on http, so
    ./setup/demo leaves it to them)."""
    registration = rpc.search_read("account.bank.registration", [("provider", "=", "triodos")],
                                   ["id", "environment"])[0]
    assert registration["environment"] == "sandbox", registration
    page.goto(f"{odoo_url}/odoo/action-l10n_nl_bankkoppeling.action_account_bank_registration/{registration['id']}")
    page.locator("button[name=action_nextgenpsd2_register_client]").click()
    expect(page.locator(".o-mail-Message").first).to_contain_text("Geregistreerd bij Triodos Bank voor http://127.0.0.1")
    shot("triodos-registered")
    client_id = rpc("account.bank.registration", "read", [registration["id"]], ["client_id"])[0]["client_id"]
    assert client_id, "the registration did not get Triodos's client id"


@pytest.mark.parametrize(("code", "bank_label"), BANKS, ids=[code.lower() for code, _label in BANKS])
def test_link_fetch_renew_and_unlink(page, shot, rpc, odoo_url, code, bank_label):
    journal = _journal(rpc, code)
    assert not journal["bank_link_state"], f"the demo starts with {bank_label} not linked"
    kvk = rpc.search_read("res.company", [], ["company_registry"], limit=1)[0]["company_registry"]
    if code == "TRIO":
        _register_at_triodos(page, rpc, odoo_url, shot)

    # Link: the wizard, the bank's Dutch consent page with the TAN, back in the wizard.
    ui.start_wizard_from_card(page, odoo_url, journal["name"])
    wizard = ui.dialog(page)
    # Known from the journal's IBAN: the bank is chosen already.
    expect(wizard.locator("div[name=provider] select option:checked")).to_have_text(bank_label)
    ui.wizard_to_bank(page, bank_label, kvk, shot)
    expect(page.locator("header")).to_contain_text(bank_label)
    ui.approve_at_bank(page, [journal["iban"]], SANDBOX_TAN, shot)
    ui.back_in_odoo(page, odoo_url)
    _accounts_step(page, rpc, [journal], shot, name=f"wizard-{code.lower()}-accounts")

    # Fetched: the first import that linking started brought the bank's transactions.
    _wait_for_fetches(rpc, [journal["id"]])
    ui.open_dashboard(page, odoo_url)
    _linked_card_shows(page, journal, rpc, bank_label)
    lines = rpc.count("account.bank.statement.line", [("journal_id", "=", journal["id"])])
    assert lines > 1, f"the first fetch brought no {bank_label} transactions"
    shot(f"dashboard-{code.lower()}-linked")

    renew_from_journal(page, rpc, odoo_url, journal, bank_label, shot)
    unlink_from_journal(page, rpc, odoo_url, journal, shot)
