"""The accountant's morning in the OCA reconciliation screen: accept a
proposal; book a line by hand on an account and answer the offer to make
a booking rule of it."""

from __future__ import annotations

import json
import re
import ssl
import time
import urllib.request

import odoo_ui as ui
from playwright.sync_api import expect


def _open_reconciliation(page, odoo_url, journal_name):
    """From the dashboard card: the button that opens the lines to reconcile."""
    ui.open_dashboard(page, odoo_url)
    card = ui.journal_card(page, journal_name)
    card.locator("button", has_text="Afletteren").click()
    page.wait_for_selector(".o_account_reconcile_oca, .o_reconcile_controller, .o_kanban_view")


def _select_line(page, payment_ref, amount_text):
    record = page.locator(".o_kanban_record", has_text=payment_ref[:25]).filter(has_text=amount_text)
    expect(record).to_have_count(1)
    record.click()
    return record


def _dutch_amount(amount):
    text = f"{abs(amount):,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return text


def test_accept_a_proposal(page, shot, rpc, odoo_url):
    proposed = rpc.search_read(
        "account.bank.statement.line",
        [("nl_reconcile_state", "=", "proposed"), ("is_reconciled", "=", False),
         ("nl_proposal_line_ids", "!=", False)],
        ["id", "journal_id", "payment_ref", "amount", "nl_proposal_line_ids"], order="id")
    assert proposed, "after fetching, the demo story leaves lines with a proposal for the accountant"
    line = proposed[0]
    proposal = rpc.search_read("account.move.line", [("id", "in", line["nl_proposal_line_ids"])],
                               ["move_id", "move_name"], order="date_maturity, id")[0]
    journal_name = line["journal_id"][1]

    _open_reconciliation(page, odoo_url, journal_name)
    shot("reconciliation-list")
    _select_line(page, line["payment_ref"], _dutch_amount(line["amount"]))
    form = page.locator(".o_form_view").filter(has=page.locator("button[name=reconcile_bank_line]"))
    # the proposal is filled in, and the screen says why
    expect(form).to_contain_text(proposal["move_name"])
    expect(form.locator(".alert-info").first).to_contain_text("Voorstel")
    shot("proposal")
    form.locator("button[name=reconcile_bank_line]").click()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        done = rpc.search_read("account.bank.statement.line", [("id", "=", line["id"])], ["is_reconciled"])[0]
        if done["is_reconciled"]:
            break
        time.sleep(0.3)
    assert done["is_reconciled"], "accepting the proposal did not reconcile the line"
    ui.dismiss_reward(page)
    invoice = rpc.search_read("account.move", [("id", "=", proposal["move_id"][0])], ["payment_state"])[0]
    assert invoice["payment_state"] in ("paid", "in_payment", "partial"), invoice
    shot("proposal-accepted")


def _bank_reports_new_payment(sandbox_urls, iban, description, counterparty, amount):
    """The bank gets a transaction nobody has booked before (sandbox admin API)."""
    transaction = {
        "days_ago": 0,
        "amount": f"{amount:.2f}",
        "counterparty_name": counterparty,
        "counterparty_iban": "NL02ABNA0123456789",
        "description": description,
        "id": f"BROWSER-{int(time.time() * 1000)}",
    }
    body = json.dumps({"bank": "ing", "iban": iban, "transactions": [transaction]}).encode()
    request = urllib.request.Request(f"{sandbox_urls['ing']}/_sandbox/transactions", data=body,
                                     headers={"Content-Type": "application/json"}, method="POST")
    context = ssl.create_default_context(cafile=f"{sandbox_urls['certs']}/ca.pem")
    with urllib.request.urlopen(request, context=context, timeout=30) as answer:
        assert answer.status == 200


def _expense_account(rpc, words):
    """The account an accountant would pick for printing costs in the Dutch chart."""
    for word in words:
        found = rpc.search_read("account.account", [("account_type", "=", "expense"), ("name", "ilike", word)],
                                ["id", "code", "name"], order="code", limit=1)
        if found:
            return found[0]
    return rpc.search_read("account.account", [("account_type", "=", "expense")],
                           ["id", "code", "name"], order="code", limit=1)[0]


def test_book_by_hand_and_accept_the_rule_offer(page, shot, rpc, odoo_url, sandbox_urls):
    ing = rpc.search_read("account.journal", [("code", "=", "ING")], ["id", "name", "bank_acc_number"])[0]
    description = "Drukwerk flyers voorjaarsactie"
    _bank_reports_new_payment(sandbox_urls, ing["bank_acc_number"].replace(" ", ""), description,
                              "Drukkerij De Letter B.V.", -181.50)
    ui.open_journal_form(page, odoo_url, ing["id"])
    page.locator("button[name=action_bank_link_fetch]").click()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        lines = rpc.search_read("account.bank.statement.line",
                                [("journal_id", "=", ing["id"]), ("payment_ref", "ilike", description)],
                                ["id", "is_reconciled", "nl_rule_offer_id"])
        if lines:
            break
        time.sleep(1)
    assert lines, "the new bank transaction was not fetched"
    line = lines[0]
    assert not line["is_reconciled"], "nothing in the books explains this payment yet"
    expense = _expense_account(rpc, ("drukwerk", "reclame", "advertis", "kantoor"))

    _open_reconciliation(page, odoo_url, ing["name"])
    _select_line(page, description, _dutch_amount(181.50))
    form = page.locator(".o_form_view").filter(has=page.locator("button[name=reconcile_bank_line]"))
    # the open amount (suspense) line: click it and book it on an expense account by hand
    form.locator("div[name=reconcile_data_info] tr", has_text="181,50").last.click()
    form.locator("a.nav-link", has_text=re.compile("Handmatige")).click()
    account = form.locator("div[name=manual_account_id] input")
    account.fill(expense["code"])
    page.locator(".o-autocomplete--dropdown-item", has_text=expense["code"]).first.click()
    expect(form.locator("div[name=reconcile_data_info]")).to_contain_text(expense["code"])
    shot("manual-account")
    form.locator("button[name=reconcile_bank_line]").click()

    ui.dismiss_reward(page)
    offer = page.locator(".o_nl_rule_offer")
    expect(offer).to_be_visible()
    expect(offer).to_contain_text(expense["code"])
    shot("rule-offer")
    offer.locator(".o_nl_rule_offer_accept").click()
    expect(page.locator(".o_nl_rule_offer")).to_be_hidden()

    done = rpc.search_read("account.bank.statement.line", [("id", "=", line["id"])],
                           ["is_reconciled", "nl_reconcile_rule_id"])[0]
    assert done["is_reconciled"]
    rule = rpc.search_read("account.nl.reconcile.rule", [("id", "=", done["nl_reconcile_rule_id"][0])],
                           ["confirmed", "learned", "account_id"])[0]
    assert rule["confirmed"] and rule["learned"] and rule["account_id"][0] == expense["id"], rule
    shot("rule-accepted")
