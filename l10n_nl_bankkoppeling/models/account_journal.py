# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The bank link as the user sees it: on the journal and its dashboard card."""

import datetime

from markupsafe import Markup, escape
from stdnum import iban as stdnum_iban

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import formatLang

from .account_bank_link import ACTIVE_STATES, LINK_STATES


class AccountJournal(models.Model):
    _inherit = "account.journal"

    bank_link_account_id = fields.Many2one(
        "account.bank.link.account",
        compute="_compute_bank_link",
        string="Linked bank account",
    )
    bank_link_id = fields.Many2one(
        "account.bank.link", compute="_compute_bank_link", string="Bank link"
    )
    bank_link_state = fields.Selection(
        LINK_STATES, compute="_compute_bank_link", string="Bank link state"
    )
    bank_link_valid_until = fields.Date(
        compute="_compute_bank_link", string="Consent valid until"
    )
    bank_link_last_fetch_at = fields.Datetime(
        compute="_compute_bank_link", string="Last fetched"
    )
    bank_link_status = fields.Char(compute="_compute_bank_link", string="Bank link status")
    bank_link_status_level = fields.Selection(
        [("ok", "OK"), ("warning", "Warning"), ("danger", "Problem")],
        compute="_compute_bank_link",
    )
    bank_link_job_state = fields.Selection(
        [
            ("queued", "Queued"),
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Failed"),
        ],
        compute="_compute_bank_link",
        string="Fetch in the background",
    )
    bank_link_job_text = fields.Char(
        compute="_compute_bank_link", string="Fetch progress"
    )
    bank_link_to_reconcile = fields.Integer(
        compute="_compute_bank_link", string="Bank lines to reconcile"
    )
    bank_link_next_action = fields.Selection(
        [
            ("link", "Link bank"),
            ("renew", "Renew consent"),
            ("fix", "Fix"),
            ("fetch", "Fetch now"),
            ("wait", "Wait for the fetch"),
        ],
        compute="_compute_bank_link",
        string="Next step",
    )
    bank_link_next_action_label = fields.Char(
        compute="_compute_bank_link", string="Next step label"
    )

    def __get_bank_statements_available_sources(self):
        # account's selection calls this name-mangled method, which only a
        # class also named AccountJournal can extend (as Odoo's own online
        # synchronisation does).
        sources = super().__get_bank_statements_available_sources()
        return sources + [("bank_link", self.env._("Bank link (bankkoppeling)"))]

    @api.depends_context("uid", "tz", "lang")
    def _compute_bank_link(self):
        accounts = self.env["account.bank.link.account"].search(
            [("journal_id", "in", self.ids), ("carries_transactions", "=", True)],
            order="active_link desc, id desc",
        )
        by_journal = {}
        for account in accounts:
            by_journal.setdefault(account.journal_id.id, account)
        jobs = self._bank_link_latest_jobs(accounts)
        to_reconcile = self._bank_link_count_to_reconcile()
        for journal in self:
            account = by_journal.get(journal.id, self.env["account.bank.link.account"])
            link = account.link_id
            journal.bank_link_account_id = account
            journal.bank_link_id = link
            journal.bank_link_state = account.link_state or False
            journal.bank_link_valid_until = link.consent_valid_until
            journal.bank_link_last_fetch_at = account.last_fetch_at
            status, level = journal._bank_link_status_text(account)
            journal.bank_link_status = status
            journal.bank_link_status_level = level
            job = jobs.get(account.id)
            journal.bank_link_job_state = job.state if job else False
            journal.bank_link_job_text = job.progress_text if job else False
            journal.bank_link_to_reconcile = to_reconcile.get(journal.id, 0)
            action, label = journal._bank_link_next_step(account, job)
            journal.bank_link_next_action = action
            journal.bank_link_next_action_label = label

    def _bank_link_latest_jobs(self, accounts):
        """{account id: its latest fetch a user asked for}, when it is still
        waiting or running, or ended in the last 12 hours."""
        if not accounts:
            return {}
        now = fields.Datetime.now()
        jobs = (
            self.env["account.bank.link.fetch"]
            .sudo()
            .search(
                [
                    ("link_account_id", "in", accounts.ids),
                    ("unattended", "=", False),
                    ("fetched_at", ">", now - datetime.timedelta(hours=12)),
                ],
                order="id desc",
            )
        )
        latest = {}
        for job in jobs:
            latest.setdefault(job.link_account_id.id, job)
        return latest

    def _bank_link_count_to_reconcile(self):
        bank_journals = self.filtered(lambda j: j.type == "bank" and j.id)
        if not bank_journals:
            return {}
        groups = self.env["account.bank.statement.line"]._read_group(
            [
                ("journal_id", "in", bank_journals.ids),
                ("is_reconciled", "=", False),
                ("move_id.state", "=", "posted"),
            ],
            ["journal_id"],
            ["__count"],
        )
        return {journal.id: count for journal, count in groups}

    def _bank_link_next_step(self, account, job):
        """The one thing to do now on this journal, and its button label."""
        if self.type != "bank":
            return False, False
        if job and job.state in ("queued", "running"):
            return "wait", False
        link = account.link_id
        if not account or link.state in ("draft", "consent_pending"):
            return "link", self.env._("Link bank")
        if account.link_state in ("expired", "revoked", "expiring"):
            return "renew", self.env._("Renew consent")
        problem = False
        if link.state == "error":
            problem = (link.last_error or "").split(". ")[0].split(" (")[0]
        elif account.balance_difference and not account.journal_currency_id.is_zero(
            account.balance_difference
        ):
            problem = self.env._("balance differs from the bank")
        elif account.last_notice:
            problem = account.last_notice.splitlines()[0]
        if problem:
            if len(problem) > 60:
                problem = problem[:57].rstrip() + "..."
            return "fix", self.env._("Fix: %(problem)s", problem=problem)
        return "fetch", self.env._("Fetch now")

    def _bank_link_status_text(self, account):
        """One line: 'Linked with ING until 19-05-2027 · last fetched today
        10:02', or what is wrong."""
        if not account:
            return False, False
        link = account.link_id
        bank = dict(link._fields["provider"]._description_selection(self.env)).get(
            link.provider, link.provider or ""
        )
        until = link._bank_link_format_date(link.consent_valid_until)
        state = account.link_state
        if account.consent_state and link.state in ACTIVE_STATES:
            # The bank ended this account's own consent; the link's other
            # accounts still fetch.
            return self.env._(
                "Consent at %(bank)s for %(iban)s has ended: renew the consent",
                bank=bank,
                iban=stdnum_iban.format(account.iban),
            ), "danger"
        if state in ("linked", "expiring"):
            if state == "expiring":
                text = self.env._(
                    "Consent at %(bank)s ends on %(date)s: renew the link",
                    bank=bank,
                    date=until,
                )
                level = "warning"
            else:
                text = self.env._("Linked with %(bank)s until %(date)s", bank=bank, date=until)
                level = "ok"
            if account.last_fetch_at:
                text += " · " + self.env._(
                    "last fetched %(when)s",
                    when=self._bank_link_when(account.last_fetch_at),
                )
            else:
                text += " · " + self.env._("not fetched yet")
            if account.balance_difference and not account.journal_currency_id.is_zero(
                account.balance_difference
            ):
                text += " · " + self.env._(
                    "balance differs from the bank by %(amount)s",
                    amount=formatLang(
                        self.env,
                        account.balance_difference,
                        currency_obj=account.journal_currency_id,
                    ),
                )
                level = "danger"
            return text, level
        if state == "expired":
            return self.env._(
                "Consent at %(bank)s expired on %(date)s: renew the link",
                bank=bank,
                date=until,
            ), "danger"
        if state == "revoked":
            return self.env._(
                "Link with %(bank)s ended: start a new link to fetch again", bank=bank
            ), "danger"
        if state == "error":
            return self.env._(
                "Link with %(bank)s has a problem: %(error)s",
                bank=bank,
                error=link.last_error or "",
            ), "danger"
        if state == "consent_pending":
            return self.env._("Waiting for consent at %(bank)s", bank=bank), "warning"
        return self.env._("Link with %(bank)s not finished", bank=bank), "warning"

    def _bank_link_when(self, moment):
        tz_env = self.with_context(tz=self.env.user.tz or "Europe/Amsterdam")
        local = fields.Datetime.context_timestamp(tz_env, moment)
        today = fields.Datetime.context_timestamp(tz_env, fields.Datetime.now()).date()
        hour = local.strftime("%H:%M")
        if local.date() == today:
            return self.env._("today %(time)s", time=hour)
        if local.date() == today - datetime.timedelta(days=1):
            return self.env._("yesterday %(time)s", time=hour)
        link_model = self.env["account.bank.link"]
        return f"{link_model._bank_link_format_date(local.date())} {hour}"

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def action_bank_link_start(self):
        self.ensure_one()
        return self.env["account.bank.link.wizard"]._bank_link_open(journal=self)

    def action_bank_link_fetch(self):
        """Fetch now, with the user present: not counted against the bank's
        limit of unattended fetches. The fetch is queued for the background
        worker, so the browser never waits on the bank; what can be told
        without the bank (the link has ended) is told at once."""
        self.ensure_one()
        account = self.bank_link_account_id
        if not account:
            raise UserError(
                self.env._("Journal %(journal)s is not linked to a bank.", journal=self.name)
            )
        if account.link_state not in ACTIVE_STATES:
            return self._bank_link_notification(
                account._bank_link_inactive_message(), "danger"
            )
        job = account._bank_link_queue_fetch()[:1]
        self.invalidate_recordset()
        if job.state == "running":
            message = self.env._(
                "A fetch is running already: %(progress)s", progress=job.progress_text
            )
        else:
            message = self.env._(
                "Fetching in the background. The journal shows the progress; "
                "you get a message when it is done."
            )
        return self._bank_link_notification(message, "info", reload=True)

    def action_bank_link_next(self):
        """The card's one button: do what the journal needs now."""
        self.ensure_one()
        action = self.bank_link_next_action
        if action == "wait" and self.env["account.bank.link.fetch"].sudo()._bank_link_fail_abandoned(
            self.bank_link_account_id
        ):
            # The fetch it waited for lost its worker (server restart).
            action = "fetch"
        if action == "link":
            return self.action_bank_link_renew()
        if action == "renew":
            return self.action_bank_link_renew()
        if action == "fix":
            # The diagnosis names the cause and the step that fixes it.
            return self.action_bank_link_diagnose()
        if action == "fetch":
            return self.action_bank_link_fetch()
        return self._bank_link_notification(
            self.bank_link_job_text or self.env._("Nothing to do."), "info"
        )

    def action_bank_link_renew(self):
        self.ensure_one()
        link = self.bank_link_id
        if not link:
            return self.action_bank_link_start()
        return self.env["account.bank.link.wizard"]._bank_link_open(
            journal=self, link=link
        )

    def action_bank_link_unlink(self):
        """Stop importing into this journal; end the consent when no other
        journal uses it."""
        self.ensure_one()
        account = self.bank_link_account_id
        if not account:
            return True
        link = account.link_id
        account.write({"journal_id": False, "carries_transactions": False})
        self.message_post(
            body=self.env._(
                "Bank link for %(iban)s stopped on this journal.",
                iban=stdnum_iban.format(account.iban),
            )
        )
        if not link.account_ids.filtered("active_link"):
            link.action_revoke()
        self.invalidate_recordset()
        return True

    def action_bank_link_diagnose(self):
        self.ensure_one()
        causes = self._bank_link_diagnose()
        body = Markup("<ul>%s</ul>") % Markup("").join(
            Markup("<li>%s</li>") % escape(cause) for cause in causes
        )
        wizard = self.env["account.bank.link.diagnosis"].create(
            {"journal_id": self.id, "result": body}
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": wizard._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Why do I see no transactions?"),
        }

    def _bank_link_notification(self, message, kind, reload=False):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Bank link"),
                "message": message,
                "type": kind,
                "sticky": kind == "danger",
                # Reloading shows the queued fetch on the card or form.
                "next": {"type": "ir.actions.client", "tag": "soft_reload"}
                if reload
                else {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------------
    # "I see no transactions"
    # ------------------------------------------------------------------

    def _bank_link_diagnose(self):
        """Concrete causes, most fundamental first, as the FAQ of the
        accounting packages lists them by hand."""
        self.ensure_one()
        causes = []
        journal_iban = stdnum_iban.compact(self.bank_acc_number or "")
        if not journal_iban:
            causes.append(
                self.env._(
                    "The journal has no bank account (IBAN). Fill in the account number on the journal."
                )
            )
        account = self.bank_link_account_id
        if not account and journal_iban:
            known = self.env["account.bank.link.account"].search(
                [("iban", "=", journal_iban), ("company_id", "=", self.company_id.id)],
                limit=1,
            )
            if not known:
                causes.append(
                    self.env._(
                        "IBAN %(iban)s is not in any consent of this company. Start the link "
                        "and select this account at the bank.",
                        iban=stdnum_iban.format(journal_iban),
                    )
                )
            elif not known.eligible:
                causes.append(
                    self.env._(
                        "The bank does not allow account %(iban)s in a link: %(reason)s",
                        iban=stdnum_iban.format(journal_iban),
                        reason=known.ineligible_reason or "",
                    )
                )
            elif known.journal_id != self:
                causes.append(
                    self.env._(
                        "Account %(iban)s is in the consent but feeds %(journal)s, not this journal.",
                        iban=stdnum_iban.format(journal_iban),
                        journal=known.journal_id.display_name or self.env._("no journal"),
                    )
                )
        elif not account:
            causes.append(self.env._("The journal is not linked to a bank."))
        if account:
            causes.extend(self._bank_link_diagnose_account(account, journal_iban))
        if not causes:
            causes.append(self.env._("No problem found."))
        return causes

    def _bank_link_diagnose_account(self, account, journal_iban):
        causes = []
        link = account.link_id
        if journal_iban and journal_iban != account.iban:
            causes.append(
                self.env._(
                    "The journal's IBAN %(journal_iban)s differs from the linked account %(iban)s.",
                    journal_iban=stdnum_iban.format(journal_iban),
                    iban=stdnum_iban.format(account.iban),
                )
            )
        if not account.eligible:
            causes.append(
                self.env._(
                    "The bank does not allow this account in a link: %(reason)s",
                    reason=account.ineligible_reason or "",
                )
            )
        if account.link_state in ("expired", "revoked", "draft", "consent_pending"):
            status, _level = self._bank_link_status_text(account)
            causes.append(status)
        today = account._bank_today()
        if account.start_date and account.start_date > today:
            causes.append(
                self.env._(
                    "The import starts on %(date)s, which is in the future.",
                    date=link._bank_link_format_date(account.start_date),
                )
            )
        if link.last_error and link.state == "error":
            causes.append(self.env._("Last error: %(error)s", error=link.last_error))
        if account.last_notice:
            causes.append(account.last_notice)
        if not causes:
            count = self.env["account.bank.statement.line"].search_count(
                [("nl_bank_link_account_id", "=", account.id)], limit=1
            )
            if not count:
                if account.last_fetch_at:
                    causes.append(
                        self.env._(
                            "The bank has not reported any transaction yet. Transfer one cent "
                            "to or from the account and fetch again."
                        )
                    )
                else:
                    causes.append(
                        self.env._(
                            "Nothing fetched yet. Click 'Fetch now' or wait for the next automatic fetch."
                        )
                    )
        return causes

    # The default model is picked by country code prefix (see
    # account.journal._default_invoice_reference_model): 'nl' for Dutch
    # companies, as l10n_be/l10n_fi/l10n_no do for theirs.
    invoice_reference_model = fields.Selection(
        selection_add=[("nl", "Dutch (betalingskenmerk)")],
        ondelete={"nl": lambda journals: journals.write({"invoice_reference_model": "odoo"})},
    )

    def _get_bank_statements_available_import_formats(self):
        formats = super()._get_bank_statements_available_import_formats()
        formats.append(self.env._("MT940 (ING, ABN AMRO, Rabobank)"))
        return formats

    def action_nl_auto_reconcile(self):
        """Match every unreconciled bank line of these journals."""
        lines = self.env["account.bank.statement.line"]._nl_unreconciled_lines(self)
        return lines.action_nl_auto_reconcile_button()
