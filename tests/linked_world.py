"""Many accounts linked through the running bank sandbox, without a browser.

For the soak benchmark and the crash tests: they need dozens of linked
accounts, and walking Odoo's consent pages for each would make them about
linking instead of fetching (the consent itself is tested end to end in the
addons' tests). The steps are the ones Odoo's callback route takes
(``controllers/main.py``): the provider's authorization URL, the bank's
consent pages (walked by ``tests/sandbox.py``), the code exchange, storing the
consent and reading the accounts; then the journal is set as the wizard's
last step does.

Needs Odoo (``env``) for :func:`link_accounts`; :func:`scenario` and
:func:`ibans` are plain Python.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO / "setup" / "lib", REPO / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

#: Bank codes in the IBANs of each bank's accounts.
BANK_CODES = {"ing": "INGB", "abnamro": "ABNA"}


def ibans(bank: str, count: int, first: int = 7_100_000) -> list[str]:
    """``count`` valid Dutch IBANs of ``bank`` (11-test account numbers)."""
    from stdnum.iban import calc_check_digits

    found = []
    number = first
    while len(found) < count:
        account = f"{number:010d}"
        if sum(int(d) * w for d, w in zip(account, range(10, 0, -1), strict=False)) % 11 == 0:
            bban = BANK_CODES[bank] + account
            found.append(f"NL{calc_check_digits('NL00' + bban)}{bban}")
        number += 1
    return found


def scenario(ing_count: int, abnamro_count: int, seed: int = 15, clock_days: int = 0) -> dict:
    """A sandbox scenario with that many empty current accounts per bank:
    every transaction is added later, so that its adder knows all of them.

    ``clock_days``: how far the caller moves both clocks ahead (the sandbox's
    admin clock and Odoo's, frozen). The sandbox checks ING's signed Date
    header against the real time, not its admin clock, so it is told to
    accept that much difference."""

    def accounts(bank, count):
        return [
            {"iban": iban, "holder": f"Soak {bank.upper()} {n:02d} B.V.", "product": "Zakelijke Rekening",
             "currency": "EUR", "kind": "current", "opening_balance": "1000.00", "generate": False}
            for n, iban in enumerate(ibans(bank, count))
        ]

    ing = {"accounts": accounts("ing", ing_count)}
    if clock_days:
        ing["signature_max_skew_seconds"] = (clock_days + 1) * 86400
    return {"seed": seed, "ing": ing,
            "abnamro": {"accounts": accounts("abnamro", abnamro_count)}}


def _code_from(url: str) -> str:
    query = dict(parse_qsl(urlsplit(url).query))
    if "code" not in query:
        raise RuntimeError(f"the bank gave no code: {url}")
    return query["code"]


def link_accounts(env, sandbox, start_date: datetime.date | None = None, company=None) -> dict:
    """Link every account of the sandbox's scenario to a journal of its own.

    ``sandbox``: a ``tests/sandbox.py`` SandboxHandle. One ING link (one
    consent for all ING accounts) and one ABN AMRO link (a consent per
    account, as that bank gives them). Returns {iban: link account}.
    """
    import demo_data

    company = company or env.company
    if not company.company_registry:
        company.company_registry = "81234567"
    links = demo_data.ensure_bank_links(
        env, company,
        {"ing": sandbox.ing_url, "abnamro": sandbox.abnamro_url, "certs": str(sandbox.certs.directory)},
        remember_ids=False,
    )
    callback = env["account.bank.link"].get_base_url() + "/bank_link/callback"
    ing = links["ing"]
    ing.legal_representative_confirmed = True
    url = ing._bank_link_get_provider().authorization_url(callback, "soak")
    # What ING's developer portal tells: the client id of the certificate.
    ing._bank_link_registration().client_id = dict(parse_qsl(urlsplit(url).query))["client_id"]
    provider = ing._bank_link_get_provider()
    tokens = provider.exchange_code(_code_from(sandbox.approve_ing(url)), callback)
    ing._bank_link_store_consent(tokens)
    ing._bank_link_sync_accounts(provider, tokens)
    abn = links["abnamro"]
    abn.legal_representative_confirmed = True
    for account in sandbox.accounts("abnamro"):
        provider = abn._bank_link_get_provider()
        url = provider.authorization_url(callback, "soak")
        tokens = provider.exchange_code(_code_from(sandbox.approve_abnamro(url, account["iban"])), callback)
        abn._bank_link_store_consent(tokens)
        abn._bank_link_sync_accounts(provider, tokens)
    start_date = start_date or datetime.date.fromisoformat(sandbox.info()["today"])
    linked = {}
    for number, account in enumerate((ing | abn).account_ids.filtered("eligible")):
        journal = env["account.journal"].create({
            "name": f"Soak {account.iban}", "code": f"S{number:03d}", "type": "bank",
            "company_id": company.id, "bank_acc_number": account.iban,
        })
        account.write({"journal_id": journal.id, "start_date": start_date})
        linked[account.iban] = account
    return linked
