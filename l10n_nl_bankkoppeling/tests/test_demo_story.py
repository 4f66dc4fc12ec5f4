# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The demo's story as the accountant lives it: the demo company's
invoices, bills and booking rules (setup/lib/demo_data.py, what
./setup/demo loads), the sandbox paying them as Dutch customers do, both
banks linked through their consent pages, the first import in the
background, and then most bank lines reconciled and the rest proposed.

Real parts only: the bank sandbox over HTTPS with mutual TLS, Odoo's HTTP
routes for the consent, PostgreSQL; the bank addons for ING and ABN AMRO
(installed with this one in every test database)."""

import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .conformance import import_repo_helpers
from .route_helpers import confirm

PASSWORD = "korenaar-verhaal-7"


@tagged("post_install", "-at_install")
class TestDemoStory(AccountTestInvoicingCommon, HttpCase):
    country_code = "NL"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sandbox, demo = import_repo_helpers()
        cls.demo = demo
        env, company = cls.env, cls.company_data["company"]
        cls.company = company
        company.company_registry = demo.COMPANY["company_registry"]
        cls.journals = demo.ensure_journals(env, company, remember_ids=False)
        cls.partners, cls.invoices, cls.bills = demo.ensure_story(env, company, cls.journals, remember_ids=False)
        scenario = demo.story_scenario(env, cls.invoices, cls.bills, cls.partners)
        cls.sandbox = cls.enterClassContext(sandbox.running_sandbox(scenario=scenario))
        cls.links = demo.ensure_bank_links(
            env,
            company,
            {
                "ing": cls.sandbox.ing_url,
                "abnamro": cls.sandbox.abnamro_url,
                "certs": str(cls.sandbox.certs.directory),
            },
            remember_ids=False,
        )
        cls.user = new_test_user(
            env,
            login="korenaar_verhaal",
            password=PASSWORD,
            groups="account.group_account_manager,account.group_account_user,"
            "l10n_nl_bankkoppeling.group_bank_link_admin",
            company_id=company.id,
            company_ids=[company.id],
        )

    # ------------------------------------------------------------ the browser

    def consent(self, start_url, approve):
        self.authenticate(self.user.login, PASSWORD)
        response = confirm(self, start_url)
        self.assertEqual(response.status_code, 303, response.text[:1000])
        back = approve(response.headers["Location"])
        query = dict(parse_qsl(urlsplit(back).query))
        self.assertIn("code", query, back)
        response = self.url_open("/bank_link/callback?" + urlencode(query), allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:1000])
        self.env.invalidate_all()

    def wizard_to_consent(self, journal):
        action = journal.with_user(self.user).action_bank_link_start()
        wizard = self.env["account.bank.link.wizard"].with_user(self.user).browse(action["res_id"])
        wizard.action_next()
        wizard.legal_representative_confirmed = True
        wizard.action_next()
        self.assertEqual(wizard.step, "consent")
        return wizard

    def finish(self, wizard, journals_by_iban):
        self.assertEqual(wizard.step, "accounts")
        for line in wizard.line_ids:
            journal = journals_by_iban.get(line.iban)
            line.write({"selected": bool(journal), "journal_id": journal.id if journal else False})
            if journal:
                # The demo sets where the first import starts: nobody has to
                # pick a date for the story to appear.
                self.assertEqual(line.start_date, self.start_date)
        wizard.action_next()
        self.assertEqual(wizard.step, "done")

    # ------------------------------------------------------------ the story

    def test_link_both_banks_fetch_and_find_most_lines_reconciled(self):
        today = datetime.date.today()
        self.start_date = (today.replace(day=1) - datetime.timedelta(days=62)).replace(day=1)
        ing, abn, abn2 = (self.journals[code] for code in ("ING", "ABN", "ABN2"))

        wizard = self.wizard_to_consent(ing)
        self.consent(wizard.action_go_to_bank()["url"], self.sandbox.approve_ing)
        self.finish(wizard, {self.demo.make_iban("INGB", "0006543210"): ing})

        wizard = self.wizard_to_consent(abn)
        for iban in (abn.bank_acc_number, abn2.bank_acc_number):
            iban = iban.replace(" ", "")
            self.consent(
                wizard.action_go_to_bank()["url"],
                lambda url, iban=iban: self.sandbox.approve_abnamro(url, iban=iban),
            )
        self.finish(wizard, {abn.bank_acc_number.replace(" ", ""): abn, abn2.bank_acc_number.replace(" ", ""): abn2})

        # The first imports wait for the background worker; the cards say so.
        journals = (ing | abn | abn2).with_user(self.user)
        journals.invalidate_recordset()
        self.assertEqual(set(journals.mapped("bank_link_job_state")), {"queued"})
        self.assertEqual(set(journals.mapped("bank_link_next_action")), {"wait"})
        # New bank lines are reconciled as they are created, as in production
        # (OCA's account_reconcile_oca skips that in test mode unless asked).
        self.env["account.bank.link.fetch"].with_context(
            _test_account_reconcile_oca=True
        )._cron_bank_link_run_queued()
        self.env.invalidate_all()
        jobs = self.env["account.bank.link.fetch"].search([("link_account_id.journal_id", "in", journals.ids)])
        self.assertEqual(set(jobs.mapped("state")), {"done"}, jobs.mapped("message"))
        self.assertTrue(all(job.first_import and job.months_total >= 3 for job in jobs))

        lines = self.env["account.bank.statement.line"].search(
            [("journal_id", "in", journals.ids), ("nl_bank_link_account_id", "!=", False)])
        ibans = {j.bank_acc_number.replace(" ", "") for j in journals}
        booked = sum(a["booked"] for bank in ("ing", "abnamro") for a in self.sandbox.accounts(bank)
                     if a["iban"] in ibans)
        self.assertGreaterEqual(booked, 60)
        self.assertEqual(len(lines), booked)
        states = {state: len(lines.filtered(lambda line, s=state: line.nl_reconcile_state == s))
                  for state in ("auto", "proposed", "none", False)}
        reconciled = lines.filtered("is_reconciled")
        self.assertEqual(len(reconciled), states["auto"])
        # Most lines reconciled, the rest proposed, nothing left without a clue.
        self.assertGreaterEqual(len(reconciled) / len(lines), 0.9, states)
        self.assertEqual(len(reconciled) + states["proposed"], len(lines), [
            (line.payment_ref, line.amount, line.nl_reconcile_state, line.nl_reconcile_reason)
            for line in lines - reconciled])

        invoices = self.invoices
        for index in list(range(1, 41)) + [43, 44] + list(range(51, 56)):
            self.assertEqual(invoices[index].payment_state, "paid" if index != 41 else "partial",
                             (index, invoices[index].name))
        self.assertEqual(invoices[41].payment_state, "partial")
        partial = lines.filtered(lambda line: "F041" in (line.unique_import_id or ""))
        self.assertAlmostEqual(invoices[41].amount_residual, invoices[41].amount_total - partial.amount, places=2)
        for index in [42] + list(range(45, 51)) + list(range(56, 61)):
            self.assertEqual(invoices[index].payment_state, "not_paid", index)

        # The typo'd kenmerk is proposed with the right invoice, not booked.
        typo = lines.filtered(lambda line: "F042" in (line.unique_import_id or ""))
        self.assertEqual(typo.nl_reconcile_state, "proposed")
        self.assertIn(invoices[42].line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable"),
                      typo.nl_proposal_line_ids)
        # Bank costs, the tax office, the card terminal and fuel by booking rule.
        for text in ("Kosten Zakelijk Betalingsverkeer", "Omzetbelasting", "pintransacties", "Shell"):
            found = lines.filtered(lambda line, t=text: t.lower() in (line.payment_ref or "").lower())
            self.assertTrue(found, text)
            self.assertEqual(set(found.mapped("nl_reconcile_state")), {"auto"}, found.mapped("nl_reconcile_reason"))
        # The learned, unconfirmed Makro rule is offered, not applied.
        makro = lines.filtered(lambda line: "makro" in (line.payment_ref or "").lower())
        self.assertEqual(makro.mapped("nl_reconcile_state"), ["proposed"])
        # Supplier bills paid from our account are matched by IBAN and amount.
        for name in ("bill_001", "bill_002", "bill_003"):
            self.assertEqual(self.bills[name].payment_state, "paid", name)

        # Each card: linked, when the consent ends, what is left to do.
        for journal in journals:
            self.assertEqual(journal.bank_link_state, "linked")
            self.assertTrue(journal.bank_link_valid_until)
            self.assertTrue(journal.bank_link_last_fetch_at)
            self.assertEqual(journal.bank_link_next_action, "fetch", (journal.name, journal.bank_link_status))
            self.assertEqual(
                journal.bank_link_to_reconcile,
                len(lines.filtered(lambda line, j=journal: line.journal_id == j and not line.is_reconciled)),
            )
        self.assertEqual(sum(journals.mapped("bank_link_to_reconcile")), states["proposed"])
