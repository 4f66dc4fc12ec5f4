"""The accounting firm is not the legal representative: it sends an
invitation, and the legal representative gives consent from the e-mail's
link, without an Odoo login."""

from __future__ import annotations

import re
import time

import odoo_ui as ui
from conftest import SANDBOX_TAN, VIEWPORT
from playwright.sync_api import expect


def _invitation_url(rpc, since_id):
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        mails = rpc.search_read("mail.mail", [("id", ">", since_id), ("body_html", "ilike", "/bank_link/invite/")],
                                ["body_html", "email_to", "recipient_ids"], order="id desc", limit=1)
        if mails:
            match = re.search(r"https?://[^\s\"'<>]+/bank_link/invite/[A-Za-z0-9_\-]+", mails[0]["body_html"])
            assert match, mails[0]["body_html"]
            return match.group(0), mails[0]
        time.sleep(0.5)
    raise AssertionError("no invitation e-mail was queued")


def test_invitation_to_the_legal_representative(page, shot, rpc, odoo_url, browser):
    journal = rpc.search_read("account.journal", [("code", "=", "ABN2")],
                              ["id", "name", "bank_acc_number", "bank_link_state"])[0]
    assert not journal["bank_link_state"], "test_unlink_a_journal unlinks this journal first"
    last_mail = (rpc.search_read("mail.mail", [], ["id"], order="id desc", limit=1) or [{"id": 0}])[0]["id"]

    ui.start_wizard_from_card(page, odoo_url, journal["name"])
    wizard = ui.dialog(page)
    wizard.locator("div[name=provider] select").select_option(label="ABN AMRO")
    wizard.locator("button[name=action_next]").click()
    expect(wizard.locator("div[name=legal_representative_name]")).to_be_visible()
    wizard.locator("div[name=legal_representative_name] input").fill("Anna de Graaf")
    wizard.locator("div[name=legal_representative_email] input").fill("directie@goudenkorenaar.example")
    wizard.locator("div[name=legal_representative_confirmed] input").check()
    wizard.locator("button[name=action_next]").click()
    expect(wizard.locator("button[name=action_send_invitation]")).to_have_text("Uitnodiging versturen")
    wizard.locator("button[name=action_send_invitation]").click()
    url, mail = _invitation_url(rpc, last_mail)
    assert "directie@goudenkorenaar.example" in (mail["email_to"] or "") or mail["recipient_ids"], mail
    # the wizard confirms it: to whom, and until when the link is valid
    expect(wizard.locator("div[name=invitation_sent]")).to_contain_text(
        "Uitnodiging per e-mail verstuurd naar directie@goudenkorenaar.example")
    expect(wizard.locator("div[name=invitation_sent]")).to_contain_text(re.compile(r"tot \d{2}-\d{2}-\d{4} \d{2}:\d{2}"))
    shot("invitation-sent")
    wizard.locator(".modal-footer button[special=cancel]").click()

    # The legal representative: another browser, never logged in to Odoo.
    guest = browser.new_context(viewport=VIEWPORT, locale="nl-NL", ignore_https_errors=True)
    try:
        bank = guest.new_page()
        bank.goto(url)
        # Opening the link only asks (a mail scanner's visit uses nothing up);
        # the button sends the legal representative on to the bank.
        expect(bank.locator("h1")).to_contain_text("Bankkoppeling van")
        ui.confirm_and_go_to_bank(bank, "ABN AMRO")
        expect(bank.locator("header")).to_contain_text("ABN AMRO")
        ui.approve_at_bank(bank, [journal["bank_acc_number"].replace(" ", "")], SANDBOX_TAN)
        bank.wait_for_url(f"{odoo_url}/**")
        expect(bank.locator("h1")).to_have_text("Toestemming gegeven")
        expect(bank.locator("p.lead")).to_contain_text("De bankkoppeling is actief")
        bank.screenshot(path=str(shot.folder / "invitation_to_the_legal_representative-consent-given.png"))
        # the link is used up: a second visit is refused
        bank.goto(url)
        expect(bank.locator("h1")).to_have_text(re.compile("geweigerd|Bankkoppeling"))
    finally:
        guest.close()

    accounts = rpc.search_read("account.bank.link.account",
                               [("iban", "=", journal["bank_acc_number"].replace(" ", ""))],
                               ["link_id", "link_state"], order="id desc", limit=1)
    assert accounts and accounts[0]["link_state"] in ("linked", "expiring"), accounts
