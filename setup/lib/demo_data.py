"""Dutch demo data for ./setup/demo.

Idempotent: every record carries an external id in the module
``bankkoppeling_demo`` and is created only when missing, so a second run
changes nothing and a newer version of this file only adds what is new.
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
from decimal import Decimal
from pathlib import Path

from schwifty import IBAN

MODULE = "bankkoppeling_demo"

COMPANY = {
    "name": "De Gouden Korenaar B.V.",
    "street": "Korenmarkt 12",
    "zip": "3811 GW",
    "city": "Amersfoort",
    "company_registry": "81234567",  # KvK
    "vat": "NL861234571B01",
    "email": "administratie@goudenkorenaar.example",
    "phone": "+31 33 123 4567",
}

JOURNALS = [
    # code, name, bank code, account number (IBAN is computed), provider
    ("ING", "ING Zakelijk", "INGB", "0006543210", "ing"),
    ("ABN", "ABN AMRO Zakelijk", "ABNA", "0417164300", "abnamro"),
    ("ABN2", "ABN AMRO Zakelijk 2", "ABNA", "0532013000", "abnamro"),
    ("RABO", "Rabobank Zakelijk", "RABO", "3982597919", "rabobank"),
    # NextGenPSD2 (account_bank_link_nextgenpsd2): the sandbox's first account per bank
    # (its IBAN follows from the demo scenario's seed, setup/bank_sandbox/nextgenpsd2_scenario.py).
    ("KNAB", "Knab Zakelijk", "KNAB", "2131337205", "knab"),
    ("TRIO", "Triodos Zakelijk", "TRIO", "1904624944", "triodos"),
    ("ASN", "ASN Zakelijk", "ASNB", "4149506426", "asn"),
    ("SNS", "SNS Zakelijk", "SNSB", "3565267348", "sns"),
    ("RGB", "RegioBank Zakelijk", "RBRB", "7732280172", "regiobank"),
    ("BUNQ", "bunq Zakelijk", "BUNQ", "9137818406", "bunq"),
]

CUSTOMERS = [
    ("cust_bakker", "Bakkerij Van der Meer B.V.", "Utrecht", "RABO", "0123456789"),
    ("cust_hotel", "Hotel De Zwaan B.V.", "Zwolle", "INGB", "0007356188"),
    ("cust_dijk", "Van Dijk Catering", "Amersfoort", "ABNA", "0562917345"),
    ("cust_jansen", "Jansen & Zn. V.O.F.", "Apeldoorn", "RABO", "0312875123"),
    ("cust_devries", "De Vries Lunchroom", "Deventer", "INGB", "0004628711"),
    ("cust_smit", "Smit Evenementen B.V.", "Hilversum", "ABNA", "0441298765"),
    ("cust_bos", "Bos Koffiebar", "Nijkerk", "SNSB", "0871234561"),
    ("cust_visser", "Visser Zorggroep", "Leusden", "RABO", "0156781234"),
    ("cust_hoek", "Lunchroom 't Hoekje", "Baarn", "INGB", "0003874512"),
    ("cust_klaver", "Zorgboerderij Het Klaverblad", "Barneveld", "ABNA", "0459812376"),
]

#: A subsidiary whose invoices its parent company pays, from the parent's
#: account: (key, name, city, parent key).
SUBSIDIARIES = [
    ("cust_visser_leusden", "Visser Zorg Leusden B.V.", "Leusden", "cust_visser"),
]

SUPPLIERS = [
    ("supp_meel", "Meelfabriek Holland B.V.", "Wormerveer", "INGB", "0002345671"),
    ("supp_energie", "Energie Direct Zakelijk B.V.", "Amsterdam", "ABNA", "0602841234"),
    ("supp_verpakking", "Verpakkingen Oost B.V.", "Hengelo", "RABO", "0174526389"),
]


def make_iban(bank_code: str, account: str) -> str:
    return str(IBAN.generate("NL", bank_code=bank_code, account_code=account).compact)


def ref(env, name):
    return env.ref(f"{MODULE}.{name}", raise_if_not_found=False)


def remember(env, name, record):
    env["ir.model.data"].create({"module": MODULE, "name": name, "model": record._name,
                                 "res_id": record.id, "noupdate": True})
    return record


def ensure(env, name, model, values):
    record = ref(env, name)
    if record:
        return record
    return remember(env, name, env[model].create(values))


#: ABN2 is a current account in the sandbox (both ABN AMRO journals can be
#: linked); demo databases made before carry its former name.
FORMER_JOURNAL_NAMES = {"ABN2": ("ABN AMRO Spaarrekening Zakelijk",)}


def ensure_journals(env, company, remember_ids=True):
    """The demo bank journals, by code: {"ING": journal, ...}."""
    journals = {}
    for code, name, bank_code, account, _provider in JOURNALS:
        iban = make_iban(bank_code, account)
        journal = ref(env, f"journal_{code.lower()}") if remember_ids else None
        if not journal:
            journal = env["account.journal"].search(
                [("company_id", "=", company.id), ("code", "=", code)], limit=1
            ) or env["account.journal"].create({
                "name": name, "code": code, "type": "bank", "company_id": company.id,
                "bank_acc_number": iban,
            })
            if remember_ids:
                remember(env, f"journal_{code.lower()}", journal)
        if journal.name in FORMER_JOURNAL_NAMES.get(code, ()):
            journal.name = name
        journals[code] = journal
    return journals


#: Legal representative of the demo company: the banks only accept a consent
#: from the legal representative; the demo user plays that role.
LEGAL_REPRESENTATIVE = ("Anna de Graaf", "directie@goudenkorenaar.example")


def _pem(certs: Path, name: str) -> bytes:
    return base64.b64encode((certs / name).read_bytes())


def _files(certs: Path, **files) -> dict:
    """Registration values of PEM files: each field with its file name."""
    values = {}
    for field, name in files.items():
        values[field] = _pem(certs, name)
        values[f"{field}_name"] = name
    return values


SANDBOX_URL_PARAMETERS = {
    "ing": "account_bank_link_ing.sandbox_url",
    "abnamro": "account_bank_link_abnamro.sandbox_url",
    "rabobank": "account_bank_link_rabobank.sandbox_url",
    "knab": "account_bank_link_knab.sandbox_url",
    "triodos": "account_bank_link_triodos.sandbox_url",
    "asn": "account_bank_link_asn.sandbox_url",
    "bunq": "account_bank_link_bunq.sandbox_url",
}


def bank_registration_settings(sandbox: dict) -> dict:
    """The demo company's registrations (account.bank.registration) per
    bank at the sandbox: its certificates, client id and secret (the
    sandbox's defaults, scenario.py); the endpoints follow from the
    sandbox's URL."""
    certs = Path(sandbox["certs"])
    settings = {}
    for bank in ("ing", "rabobank"):
        if sandbox.get(bank):
            settings[bank] = {
                "environment": "sandbox",
                **_files(
                    certs,
                    tls_certificate=f"{bank}_tls.pem",
                    tls_key=f"{bank}_tls.key",
                    signing_certificate=f"{bank}_signing.pem",
                    signing_key=f"{bank}_signing.key",
                    ca_certificate="ca.pem",
                ),
            }
    if sandbox.get("abnamro"):
        # ABN AMRO signs nothing: its TLS pair, client id and API key (the sandbox's defaults).
        settings["abnamro"] = {
            "environment": "sandbox",
            "client_id": sandbox.get("abnamro_client_id", "sandbox-tpp"),
            "api_key": sandbox.get("abnamro_api_key", "sandbox-api-key"),
            **_files(certs, tls_certificate="abnamro_tls.pem", tls_key="abnamro_tls.key", ca_certificate="ca.pem"),
        }
    if "rabobank" in settings:
        settings["rabobank"].update(
            client_id=sandbox.get("rabobank_client_id", "sandbox-rabo-client"),
            client_secret=sandbox.get("rabobank_client_secret", "sandbox-rabo-secret"),
        )
    if sandbox.get("nextgenpsd2"):
        # Knab, Triodos and de Volksbank on the sandbox's NextGenPSD2 port. One registration
        # serves ASN Bank, SNS and RegioBank (de Volksbank registers a TPP once for its three
        # brands); Triodos gets its client id by API (account_bank_link_nextgenpsd2).
        qwac = {
            "environment": "sandbox",
            "tls_certificate": _pem(certs, "nextgenpsd2_tls.pem"),
            "tls_certificate_name": "nextgenpsd2_tls.pem",
            "tls_key": _pem(certs, "nextgenpsd2_tls.key"),
            "tls_key_name": "nextgenpsd2_tls.key",
            "ca_certificate": _pem(certs, "ca.pem"),
            "ca_certificate_name": "ca.pem",
        }
        qsealc = {
            "signing_certificate": _pem(certs, "nextgenpsd2_signing.pem"),
            "signing_certificate_name": "nextgenpsd2_signing.pem",
            "signing_key": _pem(certs, "nextgenpsd2_signing.key"),
            "signing_key_name": "nextgenpsd2_signing.key",
        }
        settings["knab"] = {**qwac, **qsealc, "client_id": "sandbox-knab-client",
                            "client_secret": "sandbox-knab-secret"}
        settings["triodos"] = {**qwac, **qsealc}
        settings["asn"] = {**qwac, "client_id": "sandbox-volksbank-client",
                           "client_secret": "sandbox-volksbank-secret"}
    if sandbox.get("bunq"):
        # The OAuth client of the sandbox's PSD2 registration (scenario.py).
        settings["bunq"] = {
            "environment": "sandbox",
            "client_id": sandbox.get("bunq_client_id", "sandbox-bunq-oauth-client"),
            "client_secret": sandbox.get("bunq_client_secret", "sandbox-bunq-oauth-secret"),
            "ca_certificate": _pem(certs, "ca.pem"),
            "ca_certificate_name": "ca.pem",
        }
    return settings


def ensure_bank_registrations(env, company, sandbox: dict):
    """The company's registration per bank, pointing at the local sandbox
    (its URL as the system parameter the registration's defaults read).
    Re-running takes the sandbox's current certificates and URLs; an
    administrator's production registration is left alone."""
    if "account.bank.registration" not in env:
        return {}
    Registration = env["account.bank.registration"].with_context(active_test=False)
    providers = dict(env["account.bank.link"]._fields["provider"]._description_selection(env))
    registrations = {}
    for provider, values in bank_registration_settings(sandbox).items():
        if provider not in providers:
            continue  # the bank's addon is not installed
        env["ir.config_parameter"].sudo().set_param(
            SANDBOX_URL_PARAMETERS[provider], sandbox.get(provider) or sandbox["nextgenpsd2"])
        registration = Registration.search([("company_id", "=", company.id), ("provider", "=", provider)])
        if not registration:
            registration = Registration.create({"company_id": company.id, "provider": provider, **values})
        elif registration.environment == "sandbox":
            registration.write(values)
            registration._compute_endpoints()  # from the sandbox's (new) URL
        base_url = env["ir.config_parameter"].sudo().get_param("web.base.url") or ""
        if provider == "triodos" and registration.environment == "sandbox" and base_url.startswith("https://"):
            # Triodos registers by API, once per certificate (the sandbox forgets at restart),
            # and takes https redirect URLs only: an Odoo on http registers by hand later.
            registration.action_nextgenpsd2_register_client()
        registrations[provider] = registration
    return registrations


def ensure_bank_links(env, company, sandbox: dict, remember_ids=True):
    """A draft link per bank of the demo journals, configured for the local
    sandbox, so that the journal's "Link bank" walks the consent at once.
    Re-running points existing draft links at the sandbox's current URLs and
    certificates (they change when the sandbox's certificates are remade);
    links that have a consent are left alone. The company's registrations
    (ensure_bank_registrations) are made first: the links work with them."""
    ensure_bank_registrations(env, company, sandbox)
    Link = env["account.bank.link"]
    providers = dict(Link._fields["provider"]._description_selection(env))
    links = {}
    # Banks on a registration (ensure_bank_registrations) get a draft link
    # without settings of its own.
    drafts = {provider: {} for provider in bank_registration_settings(sandbox)}
    for provider, values in drafts.items():
        if provider not in providers or not set(values) <= set(Link._fields):
            continue  # the bank's addon is not installed (or an older one)
        env["ir.config_parameter"].sudo().set_param(
            SANDBOX_URL_PARAMETERS[provider], sandbox.get(provider) or sandbox["nextgenpsd2"])
        name = f"bank_link_{provider}"
        link = ref(env, name) if remember_ids else None
        if not link:
            link = Link.search([("company_id", "=", company.id), ("provider", "=", provider),
                                ("state", "=", "draft")], limit=1)
        if not link:
            link = Link.create({
                "company_id": company.id,
                "provider": provider,
                "legal_representative_name": LEGAL_REPRESENTATIVE[0],
                "legal_representative_email": LEGAL_REPRESENTATIVE[1],
                "legal_representative_confirmed": True,
            })
            if remember_ids:
                remember(env, name, link)
        if link.state == "draft":
            link.write(values)
        links[provider] = link
    return links


#: The sandbox's base scenario (accounts per bank); the story's
#: transactions are added to it from the invoices (see story_scenario).
BASE_SCENARIO = Path(__file__).resolve().parent.parent / "bank_sandbox" / "demo_scenario.json"

#: Number of open customer invoices in the story.
INVOICE_COUNT = 60

#: Counterparties that are no partner: the tax office and the card terminal
#: acquirer (its IBAN is fixed so that the booking rule finds it).
BELASTINGDIENST = ("Belastingdienst", "NL86INGB0002445588")
CARD_ACQUIRER = ("CCV Payment Services", "NL48ABNA0248591207")
#: The tax office's own betalingskenmerk on its assessment (valid check digit).
BELASTINGDIENST_KENMERK = "1000842195307112"
FUEL_STATION = "Shell Amersfoort A28"
WHOLESALER = "Makro Nieuwegein"


def load(env, sandbox: dict) -> None:
    company = env.ref("base.main_company")
    if company.name != COMPANY["name"]:
        company.write(dict(COMPANY, country_id=env.ref("base.nl").id))
        company.partner_id.write({"country_id": env.ref("base.nl").id})
    env.user.write({"lang": "nl_NL", "tz": "Europe/Amsterdam"})
    admin = env.ref("base.user_admin")
    # The demo's administrator works in Dutch and reconciles: OCA's screen
    # needs "Show Full Accounting Features", which Community gives nobody.
    admin.write({"lang": "nl_NL", "tz": "Europe/Amsterdam"})
    admin.groups_id |= env.ref("account.group_account_user")

    journals = ensure_journals(env, company)
    if sandbox:
        ensure_bank_links(env, company, sandbox)
    retire_first_demo_invoices(env)
    partners, invoices, bills = ensure_story(env, company, journals)
    if sandbox:
        send_story_to_sandbox(sandbox, story_scenario(env, invoices, bills, partners))


def ensure_story(env, company, journals, remember_ids=True):
    """The accountant's side of the story: partners, invoices, bills,
    booking rules, where the import starts, the journals' opening balances."""
    partners = ensure_partners(env)
    invoices = ensure_invoices(env, company, partners)
    bills = ensure_bills(env, company, partners)
    ensure_booking_rules(env, company)
    start = ensure_import_start(env, company)
    ensure_opening_balances(env, company, journals, start - datetime.timedelta(days=1), remember_ids)
    return partners, invoices, bills


def ensure_partners(env):
    nl = env.ref("base.nl").id
    partners = {}
    for key, name, city, bank_code, account in CUSTOMERS + SUPPLIERS:
        iban = make_iban(bank_code, account)
        partners[key] = ensure(env, key, "res.partner", {
            "name": name, "city": city, "country_id": nl, "is_company": True,
            "bank_ids": [(0, 0, {"acc_number": iban})],
        })
    for key, name, city, parent in SUBSIDIARIES:
        partners[key] = ensure(env, key, "res.partner", {
            "name": name, "city": city, "country_id": nl, "is_company": True,
            "parent_id": partners[parent].id,
        })
    return partners


def retire_first_demo_invoices(env):
    """Demo databases made before the story carry 20 invoices without a
    betalingskenmerk: cancel the open ones so the dashboard tells the story."""
    old = env["account.move"]
    for index in range(1, 21):
        move = ref(env, f"invoice_{index:03d}")
        if move and move.state == "posted" and move.payment_state == "not_paid":
            old |= move
    if old:
        old.button_draft()
        old.button_cancel()


def _tax(env, company, use, amount):
    return env["account.tax"].search([
        ("company_id", "=", company.id), ("type_tax_use", "=", use),
        ("amount", "=", amount), ("amount_type", "=", "percent")], limit=1)


def ensure_invoices(env, company, partners):
    """INVOICE_COUNT posted customer invoices, one every working day or so
    over the last three months, each with its own betalingskenmerk."""
    sale_journals = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "sale")])
    sale_journals.filtered(lambda j: j.invoice_reference_model != "nl").invoice_reference_model = "nl"
    taxes = {9: _tax(env, company, "sale", 9), 21: _tax(env, company, "sale", 21)}
    customers = [key for key, *_rest in CUSTOMERS] + [key for key, *_rest in SUBSIDIARIES]
    today = datetime.date.today()
    invoices, new = {}, env["account.move"]
    for index in range(1, INVOICE_COUNT + 1):
        name = f"story_invoice_{index:03d}"
        move = ref(env, name)
        if not move:
            # 38 and 40 go to the customer of 37 and 39, who pays two at once.
            key = customers[(index - 1 if index in (38, 40) else index) % len(customers)]
            if index in (43, 44):
                key = "cust_visser_leusden"  # paid by the parent company
            rate = 9 if index % 3 else 21
            move = remember(env, name, env["account.move"].create({
                "move_type": "out_invoice",
                "journal_id": sale_journals[:1].id,
                "partner_id": partners[key].id,
                # From three months ago to last week; 30 days to pay.
                "invoice_date": today - datetime.timedelta(days=95 - index * 3 // 2),
                "invoice_date_due": today - datetime.timedelta(days=65 - index * 3 // 2),
                "invoice_line_ids": [(0, 0, {
                    "name": ("Brood en banket, levering week %d" if rate == 9 else "Catering en zaalhuur, week %d")
                    % ((today - datetime.timedelta(days=95 - index * 3 // 2)).isocalendar()[1]),
                    "quantity": 1,
                    "price_unit": float(Decimal(85 + (index * 53) % 1400) + Decimal(index % 4) / 4),
                    "tax_ids": [(6, 0, taxes[rate].ids)],
                })],
            }))
            new |= move
        invoices[index] = move
    if new:
        new.action_post()
    return invoices


def ensure_bills(env, company, partners):
    purchase_tax = _tax(env, company, "purchase", 21)
    purchase_journal = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "purchase")], limit=1)
    today = datetime.date.today()
    specs = [
        ("bill_001", "supp_meel", 10, "Meel en grondstoffen", 1250.0),
        ("bill_002", "supp_energie", 20, "Energie", 2500.0),
        ("bill_003", "supp_verpakking", 25, "Broodzakken en dozen", 418.6),
        ("bill_004", "supp_meel", 6, "Meel en grondstoffen", 1875.0),
    ]
    bills, new = {}, env["account.move"]
    for number, (name, key, days, text, price) in enumerate(specs, start=1):
        bill = ref(env, name)
        if not bill:
            bill = remember(env, name, env["account.move"].create({
                "move_type": "in_invoice",
                "journal_id": purchase_journal.id,
                "partner_id": partners[key].id,
                "invoice_date": today - datetime.timedelta(days=days),
                "ref": f"F{today.year}-{4100 + number}",
                "invoice_line_ids": [(0, 0, {
                    "name": text, "quantity": 1, "price_unit": price,
                    "tax_ids": [(6, 0, purchase_tax.ids)],
                })],
            }))
            new |= bill
        bills[name] = bill
    if new:
        new.action_post()
    return bills


def _account(env, company, code):
    return env["account.account"].search(
        [("company_ids", "in", company.id), ("code", "=like", code + "%")], order="code", limit=1)


def ensure_booking_rules(env, company):
    """Booking rules an accountant sets up once: bank costs, the tax office,
    the card terminal's payouts, fuel; one rule learned from two hand
    reconciliations and not confirmed yet (it is proposed, not booked)."""
    rules = [
        ("rule_bank_costs", {"name": "Bankkosten", "text_pattern": "Kosten Zakelijk Betalingsverkeer",
                             "direction": "out", "account_id": _account(env, company, "4630").id}),
        ("rule_belastingdienst", {"name": "Belastingdienst omzetbelasting",
                                  "counterparty_iban": BELASTINGDIENST[1], "text_pattern": "Omzetbelasting",
                                  "direction": "out", "account_id": _account(env, company, "1550").id}),
        ("rule_card_terminal", {"name": "Pinautomaat winkel (CCV)", "counterparty_iban": CARD_ACQUIRER[1],
                                "direction": "in", "account_id": _account(env, company, "8001").id,
                                "tax_ids": [(6, 0, _tax(env, company, "sale", 9).ids)]}),
        ("rule_fuel", {"name": "Brandstof bestelbus", "text_pattern": "Shell",
                       "direction": "out", "account_id": _account(env, company, "4411").id,
                       "tax_ids": [(6, 0, _tax(env, company, "purchase", 21).ids)]}),
        ("rule_wholesaler", {"name": "Makro inkopen", "text_pattern": "Makro", "direction": "out",
                             "account_id": _account(env, company, "4310").id, "confirmed": False,
                             "learned": True, "times_seen": 2}),
    ]
    mine = env["account.nl.reconcile.rule"]
    for name, values in rules:
        if values["account_id"]:
            mine |= ensure(env, name, "account.nl.reconcile.rule", dict(values, company_id=company.id))
    # The addon ships unconfirmed example rules (CCV, Belastingdienst, ...);
    # the demo accountant replaced the ones her own rules cover.
    covered_texts = [CARD_ACQUIRER[0], "Omzetbelasting", "Kosten Zakelijk Betalingsverkeer", FUEL_STATION, WHOLESALER]
    covered_ibans = {BELASTINGDIENST[1], CARD_ACQUIRER[1]}
    examples = env["account.nl.reconcile.rule"].search(
        [("company_id", "=", company.id), ("confirmed", "=", False), ("id", "not in", mine.ids)])
    examples.filtered(lambda rule: (rule.counterparty_iban or "") in covered_ibans or (
        rule.text_pattern and any(rule.text_pattern.lower() in text.lower() for text in covered_texts)
    )).active = False


def ensure_import_start(env, company):
    """Accounts linked in the demo import from the first day of the month
    three months back, so the first import brings the whole story."""
    today = datetime.date.today()
    first = today.replace(day=1)
    for _month in range(3):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    env["ir.default"].set("account.bank.link.account", "start_date", first.isoformat(), company_id=company.id)
    return first


def ensure_opening_balances(env, company, journals, day, remember_ids=True):
    """Each demo bank journal starts with the bank's opening balance (as a
    bookkeeping taken over would), so the balance check after the first
    import agrees with the bank."""
    base = json.loads(BASE_SCENARIO.read_text())
    opening = {}
    for bank in ("ing", "abnamro", "rabobank", "bunq"):
        for account in base.get(bank, {}).get("accounts", []):
            if account.get("iban"):
                opening[account["iban"]] = account.get("opening_balance", "0")
    equity = company.get_unaffected_earnings_account()
    for code, journal in journals.items():
        iban = (journal.bank_acc_number or "").replace(" ", "")
        name = f"opening_{code.lower()}"
        if iban not in opening or (remember_ids and ref(env, name)):
            continue
        line = env["account.bank.statement.line"].create({
            "journal_id": journal.id,
            "date": day,
            "payment_ref": "Beginsaldo",
            "amount": float(opening[iban]),
            "counterpart_account_id": equity.id,
        })
        # In a statement of its own: the imported statements chain on from it.
        statement = env["account.bank.statement"].create({
            "name": f"Beginsaldo {journal.name}",
            "journal_id": journal.id,
            "line_ids": [(6, 0, line.ids)],
            "balance_start": 0.0,
            "balance_end_real": float(opening[iban]),
        })
        if remember_ids:
            remember(env, name, statement)


# --------------------------------------------------------------------------
# The sandbox's side of the story: transactions computed from the invoices.

def _money(amount) -> str:
    return str(Decimal(str(amount)).quantize(Decimal("0.01")))


def _spaced(kenmerk: str) -> str:
    return " ".join(kenmerk[i:i + 4] for i in range(0, len(kenmerk), 4))


def _typo(kenmerk: str) -> str:
    """The kenmerk with two neighbouring digits swapped, as typed by hand."""
    digits = list(kenmerk)
    for i in range(5, len(digits) - 1):
        if digits[i] != digits[i + 1]:
            digits[i], digits[i + 1] = digits[i + 1], digits[i]
            break
    return "".join(digits)


def _iban(partner):
    return partner.bank_ids[:1].acc_number.replace(" ", "") if partner.bank_ids else ""


# One story, told in order: split up, the order would be lost.
def story_transactions(invoices, bills, partners, today):  # noqa: C901
    """{"ING" / "ABN" / "ABN2": [explicit sandbox transactions]}: how the
    customers pay the invoices (most of them), plus costs, taxes, cards."""
    out = {"ING": [], "ABN": [], "ABN2": []}

    def pay_day(move, days=12):
        return min(move.invoice_date + datetime.timedelta(days=days), today - datetime.timedelta(days=1))

    def add(journal, tag, day, amount, payer, description="", reference=None, kind="sepa", **extra):
        out[journal].append(dict({
            "id": f"STORY-{journal}-{tag}",
            "booking_date": day.isoformat(),
            "amount": _money(amount),
            "counterparty_name": payer[0],
            "counterparty_iban": payer[1],
            "description": description,
            "kind": kind,
            **({"reference": reference} if reference else {}),
        }, **extra))

    def payer_of(move):
        partner = move.partner_id.commercial_partner_id
        return (partner.name, _iban(partner))

    def kenmerk(move):
        return (move.payment_reference or "").replace(" ", "")

    for index, move in invoices.items():
        tag = f"F{index:03d}"
        total = move.amount_total
        if index <= 20:  # betalingskenmerk in the structured field (bank app, acceptgiro)
            journal = "ING" if index % 2 else "ABN"
            add(journal, tag, pay_day(move), total, payer_of(move), reference=kenmerk(move))
        elif index <= 28:  # kenmerk typed in the description, in groups of four
            add("ABN", tag, pay_day(move), total, payer_of(move), f"Betalingskenmerk {_spaced(kenmerk(move))}")
        elif index <= 36:  # only the invoice number
            add("ING", tag, pay_day(move), total, payer_of(move), f"Factuur {move.name}")
        elif index in (37, 39):  # two invoices in one payment
            other = invoices[index + 1]
            if other.partner_id.commercial_partner_id == move.partner_id.commercial_partner_id:
                add("ING", tag, pay_day(other), total + other.amount_total, payer_of(move),
                    f"Facturen {move.name} en {other.name}")
            else:
                add("ING", tag, pay_day(move), total, payer_of(move), f"Factuur {move.name}")
                add("ING", f"F{index + 1:03d}", pay_day(other), other.amount_total, payer_of(other),
                    f"Factuur {other.name}")
        elif index == 41:  # a partial payment: half now, the rest later
            add("ING", tag, pay_day(move), (Decimal(str(total)) / 2).quantize(Decimal("0.01")), payer_of(move),
                f"Deelbetaling {_spaced(kenmerk(move))}")
        elif index == 42:  # a typo in the kenmerk, from an account we do not know: proposed, not booked
            add("ABN", tag, pay_day(move), total, (payer_of(move)[0], make_iban("SNSB", "0941286532")),
                f"Betalingskenmerk {_spaced(_typo(kenmerk(move)))}")
        elif index in (43, 44):  # the parent company pays its subsidiary's invoices
            parent = partners["cust_visser"]
            add("ING", tag, pay_day(move, 20), total, (parent.name, _iban(parent)),
                f"Factuur {move.name} Visser Zorg Leusden")
        elif 51 <= index <= 55:  # customers who pay to the second ABN AMRO account
            add("ABN2", tag, pay_day(move, 8), total, payer_of(move), reference=kenmerk(move))
        # 38, 40 (paid above), 45-50 and 56-60 stay open: mostly not due yet

    for name, bill in bills.items():  # we pay the suppliers' bills
        if name == "bill_004":
            continue  # not due yet
        partner = bill.partner_id
        add("ING", name.upper(), min(bill.invoice_date + datetime.timedelta(days=5), today - datetime.timedelta(days=1)),
            -bill.amount_total, (partner.name, _iban(partner)), f"Factuur {bill.ref}")

    # Bank costs on the first of each month, at both banks.
    first = today.replace(day=1)
    for _month in range(3):
        for journal, amount in (("ING", "18.75"), ("ABN", "23.40")):
            add(journal, f"COSTS-{first:%Y%m}", first, "-" + amount, ("", ""),
                "Kosten Zakelijk Betalingsverkeer", kind="costs")
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    # Turnover tax of the last quarter, paid with the tax office's kenmerk.
    tax_day = today - datetime.timedelta(days=25)
    quarter = (tax_day.month - 1) // 3 or 4
    add("ING", "BELASTING", tax_day, "-4817.00", BELASTINGDIENST,
        f"Omzetbelasting {quarter}e kwartaal {tax_day.year if quarter != 4 else tax_day.year - 1}",
        reference=BELASTINGDIENST_KENMERK)
    # The shop's card terminal pays out the day's card sales.
    for days, amount in ((9, "612.35"), (6, "498.10"), (2, "731.80")):
        day = today - datetime.timedelta(days=days)
        add("ABN", f"PIN-{day:%Y%m%d}", day, amount, CARD_ACQUIRER,
            f"Uitbetaling pintransacties {day:%d-%m-%Y} terminal 5GYV99")
    # Card payments with the company's debit card.
    for days, amount, merchant, city in ((11, "-86.40", FUEL_STATION, "AMERSFOORT"),
                                         (4, "-92.15", FUEL_STATION, "AMERSFOORT"),
                                         (3, "-246.83", WHOLESALER, "NIEUWEGEIN")):
        day = today - datetime.timedelta(days=days)
        add("ABN2", f"CARD-{day:%Y%m%d}-{abs(Decimal(amount)):.0f}", day, amount, (merchant, ""),
            f"BEA, Betaalpas {merchant},PAS321 {day:%d.%m.%y}", kind="card",
            card={"terminal": "CT" + day.strftime("%d%m"), "card_number": "321", "city": city})
    return out


def story_scenario(env, invoices, bills, partners, base=None):
    """The sandbox scenario of the demo: the base accounts, no generated
    noise, and the story's transactions on the three demo accounts."""
    scenario = copy.deepcopy(base if base is not None else json.loads(BASE_SCENARIO.read_text()))
    today = datetime.date.today()
    transactions = story_transactions(invoices, bills, partners, today)
    by_iban = {make_iban(bank_code, account): code for code, _n, bank_code, account, _p in JOURNALS}
    for bank in ("ing", "abnamro"):
        for account in scenario.get(bank, {}).get("accounts", []):
            code = by_iban.get((account.get("iban") or "").replace(" ", ""))
            if code:
                account["generate"] = False
                account["transactions"] = transactions[code]
    return scenario


def send_story_to_sandbox(sandbox: dict, scenario: dict) -> None:
    """Replace the running sandbox's scenario (its admin API keeps tokens
    and consents), so linking in the browser finds the story."""
    import requests

    ca = str(Path(sandbox["certs"]) / "ca.pem")
    base = sandbox.get("ing") or sandbox.get("abnamro")
    response = requests.post(f"{base}/_sandbox/scenario", json=scenario, verify=ca, timeout=30)
    response.raise_for_status()
