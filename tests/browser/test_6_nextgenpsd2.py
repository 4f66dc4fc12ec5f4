"""Knab, Triodos Bank, ASN Bank, SNS and RegioBank (Berlin Group
NextGenPSD2): the administrator links each brand's demo journal through the
wizard (the bank recognised from the IBAN, the consent on the bank's Dutch
page with its TAN), its transactions arrive, the consent is renewed from the
journal and the journal is unlinked again.

The demo's Odoo runs over plain http on this machine: its sandbox
registrations may send the user back to ``http://127.0.0.1`` (sandbox only:
a production registration needs https, tests/unit/test_nextgenpsd2_provider.py)."""

from __future__ import annotations

import datetime
import re

import odoo_ui as ui
import pytest
from conftest import SANDBOX_TAN
from playwright.sync_api import expect
from test_1_administrator import _accounts_step, _journal, _linked_card_shows, _wait_for_fetches
from test_3_consent_and_diagnosis import _run_cron

#: (journal code of the demo, the bank as the wizard lists it)
BANKS = [("KNAB", "Knab"), ("TRIO", "Triodos Bank"), ("ASN", "ASN Bank"), ("SNS", "SNS"), ("RGB", "RegioBank")]


def _link_of(rpc, journal_id):
    return rpc.search_read("account.journal", [("id", "=", journal_id)],
                           ["bank_link_id", "bank_link_state", "bank_link_valid_until"])[0]


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

    # Renew: the bank's consent ends in 5 days; the nightly job says so; the journal renews it.
    link_id = _link_of(rpc, journal["id"])["bank_link_id"][0]
    ends = datetime.date.today() + datetime.timedelta(days=5)
    rpc("account.bank.link", "write", [link_id], {"consent_valid_until": ends.isoformat()})
    _run_cron(rpc, "l10n_nl_bankkoppeling.cron_bank_link_consent_lifecycle")
    assert _link_of(rpc, journal["id"])["bank_link_state"] == "expiring"
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
    renewed = _link_of(rpc, journal["id"])
    assert renewed["bank_link_state"] == "linked", renewed
    new_end = datetime.date.fromisoformat(renewed["bank_link_valid_until"])
    assert new_end > ends + datetime.timedelta(days=30), new_end
    shot(f"dashboard-{code.lower()}-renewed")

    # Unlink: no more imports into the journal; what was imported stays.
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
    assert not _link_of(rpc, journal["id"])["bank_link_state"]
    assert rpc.count("account.bank.statement.line", [("journal_id", "=", journal["id"])]) == lines
    ui.open_dashboard(page, odoo_url)
    expect(ui.card_action(ui.journal_card(page, journal["name"]))).to_have_text("Bank koppelen")
