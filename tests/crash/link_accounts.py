"""Link the demo journals to the bank sandbox in a database, as the link
wizard does after the bank's consent: run with the virtual environment's
Python by tests/crash/conftest.py.

    python link_accounts.py CONFIG DATABASE SANDBOX_JSON START_DATE

Prints, as JSON, the linked accounts: {iban: {"account", "journal", "link"}}.
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "setup" / "lib"), str(REPO / "setup"), str(REPO / "tests")]

import odoo  # noqa: E402
from odoo.tools import config  # noqa: E402

#: Where the bank would send the browser back; nobody follows it here.
REDIRECT = "http://127.0.0.1/bank_link/callback"


def query_of(url):
    return dict(parse_qsl(urlsplit(url).query))


def give_consent(link, approve):
    """The consent the user gives at the bank, without a browser: the
    bank's pages are walked by the sandbox handle."""
    provider = link._bank_link_get_provider()
    url = provider.authorization_url(REDIRECT, "crash-test")
    if link.provider == "ing":
        # What ING's developer portal tells: the client id of the certificate.
        registration = link._bank_link_registration()
        registration.client_id = query_of(url).get("client_id") or registration.client_id
        provider = link._bank_link_get_provider()
    code = query_of(approve(url))["code"]
    tokens = provider.exchange_code(code, REDIRECT)
    link._bank_link_store_consent(tokens)
    link._bank_link_sync_accounts(provider, tokens)


def main(config_path, database, sandbox_json, start_date):
    import demo_data
    from sandbox import SandboxCerts, SandboxHandle

    sandbox = json.loads(sandbox_json)
    config.parse_config(["-c", config_path])
    handle = SandboxHandle("127.0.0.1", sandbox["ports"], SandboxCerts(Path(sandbox["certs"])),
                           None, None, None)
    registry = odoo.modules.registry.Registry(database)
    linked = {}
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.ref("base.main_company")
        journals = demo_data.ensure_journals(env, company, remember_ids=False)
        links = demo_data.ensure_bank_links(env, company, sandbox, remember_ids=False)
        for link in links.values():
            link.legal_representative_confirmed = True
        give_consent(links["ing"], handle.approve_ing)
        give_consent(links["abnamro"], lambda url: handle.approve_abnamro(url, iban=sandbox["abnamro_iban"]))
        by_iban = {journal.bank_account_id.sanitized_acc_number: journal for journal in journals.values()}
        for link in links.values():
            for account in link.account_ids:
                journal = by_iban.get(account.iban)
                if not journal or not account.eligible:
                    continue
                account.write({"journal_id": journal.id,
                               "start_date": datetime.date.fromisoformat(start_date)})
                linked[account.iban] = {"account": account.id, "journal": journal.id, "link": link.id}
    print(json.dumps(linked))


if __name__ == "__main__":
    main(*sys.argv[1:])
