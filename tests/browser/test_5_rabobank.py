"""The administrator links the demo's Rabobank journal through the wizard
(the bank recognised from the RABO IBAN, the consent on Rabobank's pages)
and its transactions arrive; the registration it uses is on its own screen.
The consent is then renewed from the journal and the journal unlinked."""

from __future__ import annotations

import odoo_ui as ui
from conftest import SANDBOX_TAN
from link_lifecycle import renew_from_journal, unlink_from_journal
from playwright.sync_api import expect
from test_1_administrator import _accounts_step, _journal, _linked_card_shows, _wait_for_fetches


def test_link_rabobank_fetch_renew_and_unlink(page, shot, rpc, odoo_url):
    rabo = _journal(rpc, "RABO")
    assert not rabo["bank_link_state"], "the demo starts with Rabobank not linked"
    kvk = rpc.search_read("res.company", [], ["company_registry"], limit=1)[0]["company_registry"]
    registrations = rpc.search_read("account.bank.registration", [("provider", "=", "rabobank")],
                                    ["environment", "tls_certificate_expiry"])
    assert registrations and registrations[0]["environment"] == "sandbox", registrations

    ui.start_wizard_from_card(page, odoo_url, rabo["name"])
    wizard = ui.dialog(page)
    # Known from the journal's IBAN (NL..RABO..): the bank is chosen already.
    expect(wizard.locator("div[name=provider] select option:checked")).to_have_text("Rabobank")
    ui.wizard_to_bank(page, "Rabobank", kvk, shot)
    expect(page.locator("header")).to_contain_text("Rabobank")
    ui.approve_at_bank(page, [rabo["iban"]], SANDBOX_TAN, shot)
    ui.back_in_odoo(page, odoo_url)
    _accounts_step(page, rpc, [rabo], shot, name="wizard-rabobank-accounts")
    _wait_for_fetches(rpc, [rabo["id"]])

    ui.open_dashboard(page, odoo_url)
    _linked_card_shows(page, rabo, rpc, "Rabobank")
    lines = rpc.count("account.bank.statement.line", [("journal_id", "=", rabo["id"])])
    assert lines > 1, "the first fetch brought no Rabobank transactions"
    shot("dashboard-rabobank-linked")

    renew_from_journal(page, rpc, odoo_url, rabo, "Rabobank", shot)
    unlink_from_journal(page, rpc, odoo_url, rabo, shot)
