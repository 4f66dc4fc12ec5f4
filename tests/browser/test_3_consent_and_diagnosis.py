"""A consent that ends soon is renewed from the dashboard; a journal that
shows no transactions explains why."""

from __future__ import annotations

import datetime
import re

import odoo_ui as ui
from conftest import SANDBOX_TAN
from playwright.sync_api import expect


def _ing(rpc):
    return rpc.search_read("account.journal", [("code", "=", "ING")],
                           ["id", "name", "bank_acc_number", "bank_link_id", "bank_link_state",
                            "bank_link_valid_until"])[0]


def _run_cron(rpc, xmlid):
    module, name = xmlid.split(".")
    cron_id = rpc.search_read("ir.model.data", [("module", "=", module), ("name", "=", name)], ["res_id"])[0]["res_id"]
    rpc("ir.cron", "method_direct_trigger", [cron_id])


def test_renew_expiring_consent(page, shot, rpc, odoo_url):
    ing = _ing(rpc)
    assert ing["bank_link_state"] == "linked", "test_link_ing links ING first"
    link_id = ing["bank_link_id"][0]
    # Set-up a user cannot do: the bank's consent ends in 5 days. The
    # nightly job then marks the link as expiring, as it would in real life.
    ends = datetime.date.today() + datetime.timedelta(days=5)
    rpc("account.bank.link", "write", [link_id], {"consent_valid_until": ends.isoformat()})
    _run_cron(rpc, "l10n_nl_bankkoppeling.cron_bank_link_consent_lifecycle")
    assert _ing(rpc)["bank_link_state"] == "expiring"

    ui.open_dashboard(page, odoo_url)
    card = ui.journal_card(page, ing["name"])
    expect(card).to_contain_text(ui.dutch_date(ends))
    action = ui.card_action(card)
    expect(action).to_have_text("Toestemming vernieuwen")
    card.scroll_into_view_if_needed()
    shot("dashboard-expiring")

    ui.open_journal_form(page, odoo_url, ing["id"])
    expect(page.locator(".alert-warning div[name=bank_link_status]")).to_contain_text(
        f"Toestemming bij ING verloopt op {ui.dutch_date(ends)}: vernieuw de koppeling")
    shot("journal-expiring")
    page.locator("button[name=action_bank_link_renew]").click()
    wizard = ui.dialog(page)
    # renewing starts at the legal representative: the company's data are known
    expect(wizard.locator("div[name=legal_representative_name] input")).not_to_have_value("")
    assert ui.wizard_step(page) == "contact"
    wizard.locator("div[name=legal_representative_confirmed] input").check()
    wizard.locator("button[name=action_next]").click()
    ui.consent_step(page, "ING", shot)
    ui.approve_at_bank(page, [ing["bank_acc_number"].replace(" ", "")], SANDBOX_TAN)
    ui.back_in_odoo(page, odoo_url)
    expect(wizard.locator("div[name=line_ids] .o_data_row").first).to_be_visible()
    assert ui.wizard_step(page) == "accounts"
    wizard.locator("button[name=action_next]").click()
    expect(wizard).to_contain_text(re.compile(r"[Bb]ankkoppeling is actief"))
    wizard.locator(".modal-footer button[name=action_close]").click()
    page.wait_for_url(re.compile(r"/odoo/accounting"))

    renewed = _ing(rpc)
    assert renewed["bank_link_state"] == "linked"
    new_end = datetime.date.fromisoformat(renewed["bank_link_valid_until"])
    assert new_end > ends + datetime.timedelta(days=30), new_end
    ui.open_dashboard(page, odoo_url)
    card = ui.journal_card(page, ing["name"])
    expect(card).to_contain_text(ui.dutch_date(new_end))
    expect(ui.card_action(card).filter(has_text="Toestemming vernieuwen")).to_have_count(0)
    shot("dashboard-renewed")


def _diagnose(page, odoo_url, journal_id):
    ui.open_journal_form(page, odoo_url, journal_id)
    button = page.locator("button[name=action_bank_link_diagnose]")
    expect(button).to_have_text("Ik zie geen mutaties")
    button.click()
    dialog = ui.dialog(page)
    expect(dialog.locator(".modal-title")).to_have_text("Waarom zie ik geen mutaties?")
    return dialog.locator("div[name=result]")


def test_diagnosis_no_transactions(page, shot, rpc, odoo_url):
    """'Ik zie geen mutaties' names the concrete cause, or says all is well."""
    # A bank journal of the chart without an account number: the first cause.
    bare = rpc.search_read("account.journal", [("type", "=", "bank"), ("bank_account_id", "=", False)],
                           ["id", "name"], limit=1)
    assert bare, "the demo company has a bank journal without an IBAN (the chart's 'Bank')"
    result = _diagnose(page, odoo_url, bare[0]["id"])
    expect(result).to_contain_text("Het dagboek heeft geen bankrekening (IBAN). "
                                   "Vul het rekeningnummer in op het dagboek.")
    # not linked: the dialog offers to link the bank, not to fetch
    expect(ui.dialog(page).locator(".modal-footer button[name=action_link]:visible")).to_have_text("Bank koppelen")
    expect(ui.dialog(page).locator(".modal-footer button[name=action_fetch]")).to_have_count(0)
    shot("no-iban")
    ui.dialog(page).locator(".modal-footer button[special=cancel]").click()

    # The linked, fetched ING journal: nothing wrong, and the dialog says so.
    ing = _ing(rpc)
    assert rpc.count("account.bank.statement.line", [("journal_id", "=", ing["id"])])
    result = _diagnose(page, odoo_url, ing["id"])
    expect(result).to_contain_text("Geen probleem gevonden.")
    expect(result.locator("li")).to_have_count(1)
    shot("linked-ok")
    expect(ui.dialog(page).locator("button[name=action_fetch]")).to_have_text(re.compile("Nu ophalen"))


def test_unlink_a_journal(page, shot, rpc, odoo_url):
    """'Ontkoppelen' stops the import into one journal; the consent stays
    while another journal still uses it."""
    journal = rpc.search_read("account.journal", [("code", "=", "ABN2")],
                              ["id", "name", "bank_link_id", "bank_link_state"])[0]
    assert journal["bank_link_state"] == "linked", "test_link_abnamro_two_accounts links it first"
    link_id = journal["bank_link_id"][0]
    lines_before = rpc.count("account.bank.statement.line", [("journal_id", "=", journal["id"])])

    ui.open_journal_form(page, odoo_url, journal["id"])
    page.locator("button[name=action_bank_link_unlink]").click()
    confirm = ui.dialog(page)
    expect(confirm).to_contain_text("Stoppen met het inlezen van mutaties in dit dagboek?")
    shot("confirm")
    confirm.locator(".modal-footer .btn-primary").click()
    expect(page.locator("button[name=action_bank_link_start]")).to_be_visible()
    expect(page.locator("button[name=action_bank_link_unlink]")).to_be_hidden()
    shot("unlinked")

    after = rpc.search_read("account.journal", [("id", "=", journal["id"])], ["bank_link_state"])[0]
    assert not after["bank_link_state"]
    # what was imported stays; the other ABN AMRO journal keeps the consent
    assert rpc.count("account.bank.statement.line", [("journal_id", "=", journal["id"])]) == lines_before
    assert rpc.search_read("account.bank.link", [("id", "=", link_id)], ["state"])[0]["state"] == "linked"
    ui.open_dashboard(page, odoo_url)
    expect(ui.card_action(ui.journal_card(page, journal["name"]))).to_have_text("Bank koppelen")
