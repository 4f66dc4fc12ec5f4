"""The administrator links ING and ABN AMRO and fetches: what ./setup/demo's
walk-through promises, in a real browser, in Dutch."""

from __future__ import annotations

import re
import time

import odoo_ui as ui
from conftest import SANDBOX_TAN
from playwright.sync_api import expect


def _accounts_step(page, rpc, journals, shot, name="wizard-accounts"):
    """Back from the bank: each journal's account is ticked and feeds that journal."""
    wizard = ui.dialog(page)
    expect(wizard.locator("div[name=line_ids] .o_data_row").first).to_be_visible()
    assert ui.wizard_step(page) == "accounts"
    for journal in journals:
        row = wizard.locator("div[name=line_ids] .o_data_row", has_text=journal["iban_spaced_or_compact"])
        expect(row).to_have_count(1)
        if not row.locator("td[name=selected] input").is_checked():
            # an account the wizard was not started from: the user ticks it and picks its journal
            row.locator("td[name=selected]").click()
            row.locator("td[name=selected] input").check()
            row.locator("td[name=journal_id]").click()
            row.locator("td[name=journal_id] input").fill(journal["name"])
            page.locator(".o-autocomplete--dropdown-item", has_text=journal["name"]).first.click()
            wizard.locator(".modal-body p").first.click()  # leave the row: the line is saved
        expect(row.locator("td[name=journal_id]")).to_have_text(journal["name"])
        expect(row.locator("td[name=selected] input")).to_be_checked()
    shot(name)
    wizard.locator("button[name=action_next]").click()
    expect(wizard.locator("div[name=first_fetch_text]")).to_be_visible()
    assert ui.wizard_step(page) == "done"
    expect(wizard).to_contain_text(re.compile(r"[Bb]ankkoppeling is actief"))
    shot("wizard-done")
    # "Sluiten" leads to the accounting dashboard, not to an empty page
    wizard.locator(".modal-footer button[name=action_close]").click()
    expect(page.locator(".modal-dialog")).to_have_count(0)
    page.wait_for_url(re.compile(r"/odoo/accounting"))
    expect(page.locator(".o_kanban_record").first).to_be_visible()


def _journal(rpc, code):
    journal = rpc.search_read("account.journal", [("code", "=", code)],
                              ["id", "name", "code", "bank_acc_number", "bank_link_state"])[0]
    iban = journal["bank_acc_number"].replace(" ", "")
    journal["iban"] = iban
    # the wizard's list shows the IBAN as the bank account stores it
    journal["iban_spaced_or_compact"] = iban
    return journal


def _linked_card_shows(page, journal, rpc, bank_label):
    """The dashboard card says the journal is linked, with the bank and the consent's end date."""
    values = rpc.search_read("account.journal", [("id", "=", journal["id"])],
                             ["bank_link_state", "bank_link_valid_until"])[0]
    assert values["bank_link_state"] == "linked", values
    card = ui.journal_card(page, journal["name"])
    expect(card).to_contain_text(bank_label)
    expect(card).to_contain_text(ui.dutch_date(values["bank_link_valid_until"]))
    expect(ui.card_action(card).filter(has_text="Bank koppelen")).to_have_count(0)


def test_link_ing(page, shot, rpc, odoo_url):
    ing = _journal(rpc, "ING")
    assert not ing["bank_link_state"], "the demo starts with ING not linked"
    kvk = rpc.search_read("res.company", [], ["company_registry"], limit=1)[0]["company_registry"]

    ui.open_dashboard(page, odoo_url)
    card = ui.journal_card(page, ing["name"])
    expect(ui.card_action(card)).to_have_text("Bank koppelen")
    card.scroll_into_view_if_needed()
    shot("dashboard-not-linked")

    ui.start_wizard_from_card(page, odoo_url, ing["name"])
    ui.wizard_to_bank(page, "ING", kvk, shot)
    expect(page.locator("header")).to_contain_text("ING")
    ui.approve_at_bank(page, [ing["iban"]], SANDBOX_TAN, shot)
    ui.back_in_odoo(page, odoo_url)
    _accounts_step(page, rpc, [ing], shot)

    ui.open_dashboard(page, odoo_url)
    _linked_card_shows(page, ing, rpc, "ING")
    shot("dashboard-ing-linked")


def test_link_abnamro_two_accounts(page, shot, rpc, odoo_url):
    """ABN AMRO gives one consent per account: the wizard sends the user to
    the bank once per account, then lets them choose the journals."""
    journals = [_journal(rpc, "ABN"), _journal(rpc, "ABN2")]
    assert not any(j["bank_link_state"] for j in journals), "the demo starts with ABN AMRO not linked"
    kvk = rpc.search_read("res.company", [], ["company_registry"], limit=1)[0]["company_registry"]

    ui.start_wizard_from_card(page, odoo_url, journals[0]["name"])
    ui.wizard_to_bank(page, "ABN AMRO", kvk, shot)
    expect(page.locator("header")).to_contain_text("ABN AMRO")
    ui.approve_at_bank(page, [journals[0]["iban"]], SANDBOX_TAN, shot)
    ui.back_in_odoo(page, odoo_url)
    # the second account still lacks a consent: the wizard asks for it
    expect(ui.dialog(page).locator("div[name=consent_text]")).to_be_visible()
    assert ui.wizard_step(page) == "consent"
    shot("wizard-abnamro-second-consent")
    ui.click_dialog_button(page, "action_go_to_bank")
    ui.confirm_and_go_to_bank(page, "ABN AMRO")
    ui.approve_at_bank(page, [journals[1]["iban"]], SANDBOX_TAN)
    ui.back_in_odoo(page, odoo_url)
    _accounts_step(page, rpc, journals, shot, name="wizard-abnamro-accounts")

    ui.open_dashboard(page, odoo_url)
    for journal in journals:
        _linked_card_shows(page, journal, rpc, "ABN AMRO")
    shot("dashboard-abnamro-linked")


def _wait_for_fetches(rpc, journal_ids, timeout=180):
    """The fetch runs in Odoo's background worker: wait until none of the
    journals has one queued or running (the browser never waits on a bank)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = rpc.count("account.bank.link.fetch", [("link_account_id.journal_id", "in", journal_ids),
                                                     ("state", "in", ("queued", "running"))])
        if not busy:
            return
        time.sleep(1)
    raise AssertionError(f"fetches still queued or running after {timeout} s")


def test_fetch_now(page, shot, rpc, odoo_url):
    """'Nu ophalen' on the journal: the fetch runs in the background, the
    bank's transactions become statement lines, and the dashboard card shows
    the last fetch and how many lines are left to reconcile."""
    journals = [_journal(rpc, code) for code in ("ING", "ABN", "ABN2")]
    assert all(j["bank_link_state"] == "linked" for j in journals), "the link tests link ING and ABN AMRO first"
    ids = [j["id"] for j in journals]
    _wait_for_fetches(rpc, ids)  # the first import that linking started

    for journal in journals:
        ui.open_journal_form(page, odoo_url, journal["id"])
        expect(page.locator("div[name=bank_link_status]").first).to_contain_text(
            "ING" if journal["code"] == "ING" else "ABN AMRO")
        if journal["code"] == "ING":
            shot("journal-linked")
        page.locator("button[name=action_bank_link_fetch]").click()
        expect(page.locator(".o_notification").last).to_contain_text(re.compile("achtergrond|[Oo]pgehaald"))
        if journal["code"] == "ING":
            shot("journal-fetch-queued")
    _wait_for_fetches(rpc, ids)

    ui.open_dashboard(page, odoo_url)
    for journal in journals:
        lines = rpc.search_read("account.bank.statement.line", [("journal_id", "=", journal["id"])],
                                ["is_reconciled"])
        assert lines, f"{journal['name']}: fetching brought no transactions"
        card = ui.journal_card(page, journal["name"])
        expect(card).to_contain_text(re.compile(r"opgehaald (vandaag|om|op)"))
        to_reconcile = sum(not line["is_reconciled"] for line in lines)
        if to_reconcile:
            expect(card).to_contain_text(re.compile(rf"\b{to_reconcile} mutatie"))
    ui.journal_card(page, journals[1]["name"]).scroll_into_view_if_needed()
    shot("dashboard-fetched")
