"""Steps every bank's browser test shares once a journal is linked: the
consent is renewed from the journal when it is about to end, and the
journal is unlinked again (what was imported stays)."""

from __future__ import annotations

import datetime
import re

import odoo_ui as ui
from conftest import SANDBOX_TAN
from playwright.sync_api import expect
from test_1_administrator import _wait_for_fetches
from test_3_consent_and_diagnosis import _run_cron as run_cron


def link_of(rpc, journal_id):
    return rpc.search_read("account.journal", [("id", "=", journal_id)],
                           ["bank_link_id", "bank_link_state", "bank_link_valid_until"])[0]


def renew_from_journal(page, rpc, odoo_url, journal, bank_label, shot):
    """The bank's consent ends in 5 days; the nightly job says so on the journal; the
    administrator renews it there on the bank's page and the link runs another term."""
    code = journal["code"]
    link_id = link_of(rpc, journal["id"])["bank_link_id"][0]
    ends = datetime.date.today() + datetime.timedelta(days=5)
    rpc("account.bank.link", "write", [link_id], {"consent_valid_until": ends.isoformat()})
    run_cron(rpc, "l10n_nl_bankkoppeling.cron_bank_link_consent_lifecycle")
    assert link_of(rpc, journal["id"])["bank_link_state"] == "expiring"
    ui.open_journal_form(page, odoo_url, journal["id"])
    expect(page.locator(".alert-warning div[name=bank_link_status]")).to_contain_text(
        f"Toestemming bij {bank_label} verloopt op {ui.dutch_date(ends)}")
    page.locator("button[name=action_bank_link_renew]").click()
    wizard = ui.dialog(page)
    expect(wizard.locator("div[name=legal_representative_name] input")).not_to_have_value("")
    assert ui.wizard_step(page) == "contact"
    wizard.locator("div[name=legal_representative_confirmed] input").check()
    wizard.locator("button[name=action_next]").click()
    ui.consent_step(page, bank_label, shot)
    ui.approve_at_bank(page, [journal["iban"]], SANDBOX_TAN)
    ui.back_in_odoo(page, odoo_url)
    expect(wizard.locator("div[name=line_ids] .o_data_row").first).to_be_visible()
    wizard.locator("button[name=action_next]").click()
    expect(wizard).to_contain_text(re.compile(r"[Bb]ankkoppeling is actief"))
    wizard.locator(".modal-footer button[name=action_close]").click()
    page.wait_for_url(re.compile(r"/odoo/accounting"))
    renewed = link_of(rpc, journal["id"])
    assert renewed["bank_link_state"] == "linked", renewed
    new_end = datetime.date.fromisoformat(renewed["bank_link_valid_until"])
    assert new_end > ends + datetime.timedelta(days=30), new_end
    shot(f"dashboard-{code.lower()}-renewed")


def unlink_from_journal(page, rpc, odoo_url, journal, shot):
    """Unlinked from the journal: no more imports into it; what was imported stays."""
    code = journal["code"]
    _wait_for_fetches(rpc, [journal["id"]])
    lines = rpc.count("account.bank.statement.line", [("journal_id", "=", journal["id"])])
    ui.open_journal_form(page, odoo_url, journal["id"])
    page.locator("button[name=action_bank_link_unlink]").click()
    confirm = ui.dialog(page)
    expect(confirm).to_contain_text("Stoppen met het inlezen van mutaties in dit dagboek?")
    confirm.locator(".modal-footer .btn-primary").click()
    expect(page.locator("button[name=action_bank_link_start]")).to_be_visible()
    expect(page.locator("button[name=action_bank_link_unlink]")).to_be_hidden()
    shot(f"{code.lower()}-unlinked")
    assert not link_of(rpc, journal["id"])["bank_link_state"]
    assert rpc.count("account.bank.statement.line", [("journal_id", "=", journal["id"])]) == lines
    ui.open_dashboard(page, odoo_url)
    expect(ui.card_action(ui.journal_card(page, journal["name"]))).to_have_text("Bank koppelen")
