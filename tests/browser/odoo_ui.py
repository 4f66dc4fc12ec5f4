"""What a user does in Odoo's web client and at the bank, step by step.

Selectors are Odoo's stable ones (field names, button names, roles) and
the texts a Dutch user reads; counts and dates come from the database.
"""

from __future__ import annotations

import datetime
import re

from playwright.sync_api import Page, expect

DUTCH_DATE = "%d-%m-%Y"  # nl_NL's date format in Odoo


def dutch_date(value) -> str:
    if isinstance(value, str):
        value = datetime.date.fromisoformat(value[:10])
    return value.strftime(DUTCH_DATE)


def open_dashboard(page: Page, odoo_url: str) -> None:
    page.goto(f"{odoo_url}/odoo/accounting")
    page.wait_for_selector(".o_kanban_record")


def journal_card(page: Page, journal_name: str):
    """The dashboard card of one journal (its title, exactly)."""
    title = re.compile(rf"^\s*{re.escape(journal_name)}\s*$")
    return page.locator(".o_kanban_record").filter(
        has=page.locator("a[name=open_action]", has_text=title))


def card_action(card):
    """The card's one button for the bank link (link, renew, fix, fetch)."""
    return card.locator("button.o_bank_link_next, button[name=action_bank_link_start]")


def open_journal_form(page: Page, odoo_url: str, journal_id: int) -> None:
    page.goto(f"{odoo_url}/odoo/action-account.action_account_journal_form/{journal_id}")
    page.wait_for_selector(".o_form_view div[name=bank_link_status], .o_form_view .o_form_sheet")


def dialog(page: Page):
    return page.locator(".modal-dialog").last


def wizard_step(page: Page) -> str:
    """The wizard's current step as its status bar shows it."""
    return dialog(page).locator(".o_statusbar_status button[aria-checked=true]").get_attribute("data-value")


def click_dialog_button(page: Page, name: str) -> None:
    dialog(page).locator(f"button[name={name}]").click()


def approve_at_bank(page: Page, ibans: list[str], tan: str, screenshot=None) -> None:
    """The sandbox's consent pages (ING and ABN AMRO alike): tick the
    accounts, continue, type the TAN, confirm."""
    expect(page.locator("h1")).to_have_text("Toestemming geven")
    for iban in ibans:
        spaced = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
        page.locator("label.account", has_text=spaced).locator("input").check()
    if screenshot:
        screenshot("bank-accounts")
    page.get_by_role("button", name="Doorgaan").click()
    expect(page.locator("h1")).to_have_text("Toestemming bevestigen")
    page.fill("input[name=tan]", tan)
    if screenshot:
        screenshot("bank-tan")
    page.get_by_role("button", name="Bevestigen").click()


def notification_texts(page: Page) -> list[str]:
    toasts = page.locator(".o_notification")
    toasts.first.wait_for()
    return [text.strip() for text in toasts.all_inner_texts()]


def start_wizard_from_card(page: Page, odoo_url: str, journal_name: str) -> None:
    open_dashboard(page, odoo_url)
    card = journal_card(page, journal_name)
    expect(card).to_have_count(1)
    card_action(card).click()
    expect(dialog(page).locator(".modal-title")).to_have_text(re.compile(r"Koppel \w+ bankrekening"))


def wizard_to_bank(page: Page, bank_label: str, kvk: str, shot) -> None:
    """Steps 'Gegevens' and 'Koppeling' of the wizard, then off to the bank."""
    wizard = dialog(page)
    assert wizard_step(page) == "data"
    expect(wizard.locator("div[name=company_registry] input")).to_have_value(kvk)
    wizard.locator("div[name=provider] select").select_option(label=bank_label)
    shot("wizard-data")
    wizard.locator("button[name=action_next]").click()
    expect(wizard.locator("div[name=legal_representative_name]")).to_be_visible()
    assert wizard_step(page) == "contact"
    name = wizard.locator("div[name=legal_representative_name] input")
    if not name.input_value():
        name.fill("Anna de Graaf")
    email = wizard.locator("div[name=legal_representative_email] input")
    if not email.input_value():
        email.fill("directie@goudenkorenaar.example")
    wizard.locator("div[name=legal_representative_confirmed] input").check()
    shot("wizard-contact")
    wizard.locator("button[name=action_next]").click()
    consent_step(page, bank_label, shot)


def consent_step(page: Page, bank_label: str, shot) -> None:
    wizard = dialog(page)
    expect(wizard.locator("div[name=consent_text]")).to_contain_text(bank_label)
    assert wizard_step(page) == "consent"
    shot("wizard-consent")
    wizard.locator("button[name=action_go_to_bank]").click()
    confirm_and_go_to_bank(page, bank_label, shot)


def confirm_and_go_to_bank(page: Page, bank_label: str, shot=None) -> None:
    """Odoo's page before the bank: it says where the user goes; its button
    (a form POST with Odoo's CSRF token) goes on to the bank."""
    button = page.locator("button.o_bank_link_confirm")
    expect(button).to_have_text(f"Verder naar {bank_label}")
    if shot:
        shot("consent-confirm")
    button.click()
    page.wait_for_url(re.compile(r"^https://"))


def back_in_odoo(page: Page, odoo_url: str) -> None:
    """The bank sends the user back to the wizard, in its dialog."""
    page.wait_for_url(f"{odoo_url}/**")
    expect(dialog(page).locator(".modal-title")).to_have_text(re.compile(r"Koppel \w+ bankrekening"))


def dismiss_reward(page: Page) -> None:
    """Odoo's rainbow man after the last line is reconciled: click it away
    (as a user does), so that it does not hide the screen."""
    reward = page.locator(".o_reward")
    try:
        reward.wait_for(timeout=1500)
    except Exception:  # no reward this time
        return
    reward.click()
    expect(reward).to_have_count(0)
