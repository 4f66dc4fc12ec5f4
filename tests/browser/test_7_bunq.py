"""The administrator links the demo's "bunq Zakelijk" journal through the
wizard (the bank recognised from the BUNQ IBAN, the consent on bunq's
OAuth page in Dutch with its TAN) and its payments arrive; the consent is
then renewed from the journal and the journal unlinked."""

from __future__ import annotations

import odoo_ui as ui
from conftest import SANDBOX_TAN
from link_lifecycle import renew_from_journal, unlink_from_journal
from playwright.sync_api import expect
from test_1_administrator import _accounts_step, _journal, _linked_card_shows, _wait_for_fetches


def test_link_bunq_fetch_renew_and_unlink(page, shot, rpc, odoo_url):
    bunq = _journal(rpc, "BUNQ")
    assert not bunq["bank_link_state"], "the demo starts with bunq not linked"
    assert "BUNQ" in bunq["iban"], bunq
    kvk = rpc.search_read("res.company", [], ["company_registry"], limit=1)[0]["company_registry"]

    ui.start_wizard_from_card(page, odoo_url, bunq["name"])
    wizard = ui.dialog(page)
    # Known from the journal's IBAN (NL..BUNQ..): the bank is chosen already.
    expect(wizard.locator("div[name=provider] select option:checked")).to_have_text("bunq")
    ui.wizard_to_bank(page, "bunq", kvk, shot)
    expect(page.locator("header")).to_contain_text("bunq")
    ui.approve_at_bank(page, [bunq["iban"]], SANDBOX_TAN, shot)
    ui.back_in_odoo(page, odoo_url)
    _accounts_step(page, rpc, [bunq], shot, name="wizard-bunq-accounts")
    _wait_for_fetches(rpc, [bunq["id"]])

    ui.open_dashboard(page, odoo_url)
    _linked_card_shows(page, bunq, rpc, "bunq")
    lines = rpc.search_read("account.bank.statement.line", [("journal_id", "=", bunq["id"])],
                            ["payment_ref", "partner_name", "amount"])
    assert len(lines) > 1, "the first fetch brought no bunq payments"
    # bunq's counterparty alias gives the name; the description is the line's label.
    assert all(line["payment_ref"] for line in lines), lines
    assert any(line["partner_name"] for line in lines), lines
    shot("dashboard-bunq-linked")

    renew_from_journal(page, rpc, odoo_url, bunq, "bunq", shot)
    unlink_from_journal(page, rpc, odoo_url, bunq, shot)
