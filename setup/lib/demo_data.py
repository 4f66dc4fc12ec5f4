"""Dutch demo data for ./setup/demo.

Idempotent: every record carries an external id in the module
``bankkoppeling_demo`` and is created only when missing, so a second run
changes nothing and a newer version of this file only adds what is new.
"""

from __future__ import annotations

import base64
import datetime
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
]

SUPPLIERS = [
    ("supp_meel", "Meelfabriek Holland B.V.", "Wormerveer", "INGB", "0002345671"),
    ("supp_energie", "Energie Direct Zakelijk B.V.", "Amsterdam", "ABNA", "0602841234"),
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


def bank_link_settings(sandbox: dict) -> dict:
    """Settings of the demo links per provider, pointing at the sandbox.
    The sandbox's client id and API key are its defaults (scenario.py)."""
    certs = Path(sandbox["certs"])
    settings = {}
    if sandbox.get("ing"):
        settings["ing"] = {
            "ing_environment": "sandbox",
            "ing_base_url": sandbox["ing"],
            "ing_tls_certificate": _pem(certs, "ing_tls.pem"),
            "ing_tls_certificate_name": "ing_tls.pem",
            "ing_tls_key": _pem(certs, "ing_tls.key"),
            "ing_tls_key_name": "ing_tls.key",
            "ing_signing_certificate": _pem(certs, "ing_signing.pem"),
            "ing_signing_certificate_name": "ing_signing.pem",
            "ing_signing_key": _pem(certs, "ing_signing.key"),
            "ing_signing_key_name": "ing_signing.key",
            "ing_ca_certificate": _pem(certs, "ca.pem"),
            "ing_ca_certificate_name": "ca.pem",
        }
    if sandbox.get("abnamro"):
        settings["abnamro"] = {
            "abnamro_environment": "sandbox",
            "abnamro_api_url": sandbox["abnamro"],
            "abnamro_auth_url": sandbox["abnamro"],
            "abnamro_token_url": sandbox["abnamro"] + "/as/token.oauth2",
            "abnamro_client_id": sandbox.get("abnamro_client_id", "sandbox-tpp"),
            "abnamro_api_key": sandbox.get("abnamro_api_key", "sandbox-api-key"),
            "abnamro_tls_certificate": _pem(certs, "abnamro_tls.pem"),
            "abnamro_tls_certificate_name": "abnamro_tls.pem",
            "abnamro_tls_key": _pem(certs, "abnamro_tls.key"),
            "abnamro_tls_key_name": "abnamro_tls.key",
            "abnamro_ca_certificate": _pem(certs, "ca.pem"),
            "abnamro_ca_certificate_name": "ca.pem",
        }
    return settings


SANDBOX_URL_PARAMETERS = {
    "ing": "account_bank_link_ing.sandbox_url",
    "abnamro": "account_bank_link_abnamro.sandbox_url",
}


def ensure_bank_links(env, company, sandbox: dict, remember_ids=True):
    """A draft link per bank of the demo journals, configured for the local
    sandbox, so that the journal's "Link bank" walks the consent at once.
    Re-running points existing draft links at the sandbox's current URLs and
    certificates (they change when the sandbox's certificates are remade);
    links that have a consent are left alone."""
    Link = env["account.bank.link"]
    providers = dict(Link._fields["provider"]._description_selection(env))
    links = {}
    for provider, values in bank_link_settings(sandbox).items():
        if provider not in providers or not set(values) <= set(Link._fields):
            continue  # the bank's addon is not installed (or an older one)
        env["ir.config_parameter"].sudo().set_param(SANDBOX_URL_PARAMETERS[provider], sandbox[provider])
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


def load(env, sandbox: dict) -> None:
    company = env.ref("base.main_company")
    if company.name != COMPANY["name"]:
        company.write(dict(COMPANY, country_id=env.ref("base.nl").id))
        company.partner_id.write({"country_id": env.ref("base.nl").id})
    env.user.write({"lang": "nl_NL", "tz": "Europe/Amsterdam"})

    ensure_journals(env, company)
    if sandbox:
        ensure_bank_links(env, company, sandbox)

    partners = {}
    for key, name, city, bank_code, account in CUSTOMERS + SUPPLIERS:
        iban = make_iban(bank_code, account)
        partners[key] = ensure(env, key, "res.partner", {
            "name": name, "city": city, "country_id": env.ref("base.nl").id, "is_company": True,
            "bank_ids": [(0, 0, {"acc_number": iban})],
        })

    sale_tax = env["account.tax"].search([
        ("company_id", "=", company.id), ("type_tax_use", "=", "sale"),
        ("amount", "=", 21), ("amount_type", "=", "percent")], limit=1)
    purchase_tax = env["account.tax"].search([
        ("company_id", "=", company.id), ("type_tax_use", "=", "purchase"),
        ("amount", "=", 21), ("amount_type", "=", "percent")], limit=1)
    today = datetime.date.today()
    invoices = env["account.move"]
    for index in range(1, 21):
        name = f"invoice_{index:03d}"
        if ref(env, name):
            continue
        partner = partners[CUSTOMERS[index % len(CUSTOMERS)][0]]
        amount = 75 + (index * 37.5) % 900
        move = env["account.move"].create({
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": today - datetime.timedelta(days=40 - index),
            "invoice_line_ids": [(0, 0, {
                "name": "Brood en banket, levering week %d" % (index + 20),
                "quantity": 1,
                "price_unit": round(amount, 2),
                "tax_ids": [(6, 0, sale_tax.ids)],
            })],
        })
        remember(env, name, move)
        invoices |= move
    for index, (key, *_rest) in enumerate(SUPPLIERS, start=1):
        name = f"bill_{index:03d}"
        if ref(env, name):
            continue
        bill = env["account.move"].create({
            "move_type": "in_invoice",
            "partner_id": partners[key].id,
            "invoice_date": today - datetime.timedelta(days=10 * index),
            "ref": f"F{today.year}-{4100 + index}",
            "invoice_line_ids": [(0, 0, {
                "name": "Meel en grondstoffen" if key == "supp_meel" else "Energie",
                "quantity": 1, "price_unit": 1250.0 * index,
                "tax_ids": [(6, 0, purchase_tax.ids)],
            })],
        })
        remember(env, name, bill)
        invoices |= bill
    if invoices:
        invoices.action_post()
