# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The link wizard, in the steps the Dutch packages use: data, contact,
bank consent, accounts, done."""

import re

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import date_utils
from odoo.tools.safe_eval import safe_eval

from ..tools import ibans

STEPS = [
    ("data", "Data"),
    ("contact", "Link"),
    ("consent", "Bank consent"),
    ("accounts", "Accounts"),
    ("done", "Done"),
]

_KVK = re.compile(r"^\d{8}$")
#: A new link imports the current month and this many whole months before
#: it: enough history to reconcile open invoices without a long first import.
DEFAULT_HISTORY_MONTHS = 3


class AccountBankLinkWizard(models.TransientModel):
    _name = "account.bank.link.wizard"
    _description = "Link a bank account"
    _check_company_auto = True

    step = fields.Selection(STEPS, default="data", required=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        domain=lambda self: [("id", "in", self.env.user.company_ids.ids)],
    )
    company_registry = fields.Char("KvK number")
    company_name = fields.Char(related="company_id.name")
    journal_id = fields.Many2one(
        "account.journal",
        domain="[('type', '=', 'bank'), ('company_id', '=', company_id)]",
        check_company=True,
    )
    provider = fields.Selection(selection="_selection_provider", string="Bank")
    link_id = fields.Many2one("account.bank.link", check_company=True)
    legal_representative_name = fields.Char("Name")
    legal_representative_email = fields.Char("E-mail")
    legal_representative_confirmed = fields.Boolean(
        "This person is the company's legal representative",
        help="The banks only accept a link from the legal representative "
        "(wettelijk vertegenwoordiger), not from someone who is only authorised "
        "on the account.",
    )
    line_ids = fields.One2many("account.bank.link.wizard.line", "wizard_id")
    consent_text = fields.Text(compute="_compute_texts")
    eligibility_text = fields.Text(compute="_compute_texts")
    first_fetch_text = fields.Text(compute="_compute_texts")
    link_state = fields.Selection(related="link_id.state")
    invitation_text = fields.Char(compute="_compute_invitation_text")

    @api.constrains("company_id")
    def _check_company_of_the_user(self):
        # The wizard writes the company's KvK number and shows its link with
        # elevated rights: only for a company the user works in.
        if self.env.su:
            return
        allowed = self.env.user.company_ids
        for wizard in self:
            if wizard.company_id not in allowed:
                raise UserError(
                    self.env._("You cannot link bank accounts of %(company)s.",
                      company=wizard.company_id.sudo().name)
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._bank_link_detect_provider(vals)
            if vals.get("provider") and not vals.get("link_id"):
                vals.update(self._bank_link_draft_contact(vals))
        return super().create(vals_list)

    @api.model
    def _bank_link_draft_contact(self, vals):
        """The legal representative of the link the wizard will continue
        with (``account.bank.link._bank_link_reusable_link``), so that it
        need not be typed again."""
        company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
        link = self.env["account.bank.link"]._bank_link_reusable_link(vals["provider"], company)
        return {
            name: link[name]
            for name in ("legal_representative_name", "legal_representative_email")
            if link[name] and not vals.get(name)
        }

    @api.model
    def _bank_link_detect_provider(self, vals):
        """Started from a journal with a Dutch IBAN: the bank is known. It
        is the one whose provider class names the IBAN's bank code in
        ``iban_bank_codes`` (INGB, ABNA, RABO...). Bank addons whose own
        ``create`` needs the bank before this one runs call it first."""
        if not vals.get("journal_id") or vals.get("provider"):
            return
        journal = self.env["account.journal"].browse(vals["journal_id"])
        bank_code = (ibans.compact(journal.bank_acc_number) or "")[4:8]
        if not bank_code:
            return
        links = self.env["account.bank.link"]
        for provider, _label in self._selection_provider():
            bank = links.new({"provider": provider})._bank_link_provider_class()
            if bank and bank_code in bank.iban_bank_codes:
                vals["provider"] = provider
                return

    @api.model
    def _selection_provider(self):
        return (
            self.env["account.bank.link"]
            ._fields["provider"]
            ._description_selection(self.env)
        )

    @api.depends("provider", "link_id")
    def _compute_texts(self):
        for wizard in self:
            link = wizard.link_id or self.env["account.bank.link"].new(
                {"provider": wizard.provider}
            )
            texts = link._bank_link_wizard_texts()
            wizard.consent_text = texts.get("consent")
            wizard.eligibility_text = texts.get("eligibility")
            wizard.first_fetch_text = texts.get("first_fetch")

    @api.depends("link_id.invitation_sent_to", "link_id.invitation_expires_at")
    def _compute_invitation_text(self):
        for wizard in self:
            link = wizard.link_id
            if link.invitation_sent_to and link.invitation_expires_at:
                wizard.invitation_text = self.env._(
                    "Invitation sent by e-mail to %(email)s. Its link is valid "
                    "once, until %(date)s. You may close this window: the "
                    "journal shows when the bank gave consent.",
                    email=link.invitation_sent_to,
                    date=link._bank_link_format_datetime(link.invitation_expires_at),
                )
            else:
                wizard.invitation_text = False

    @api.model
    def _bank_link_open(self, journal=None, link=None):
        """Open the wizard; with a link (renew) it starts at the consent."""
        company = (
            (link or journal).company_id if (link or journal) else self.env.company
        )
        vals = {
            "company_id": company.id,
            "company_registry": company.company_registry,
            "journal_id": journal.id if journal else False,
        }
        if link:
            vals.update(
                link_id=link.id,
                provider=link.provider,
                legal_representative_name=link.legal_representative_name,
                legal_representative_email=link.legal_representative_email,
                step="contact",
            )
        wizard = self.create(vals)
        return wizard._reopen()

    def _reopen(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Link your bank account"),
        }

    # ------------------------------------------------------------------
    # Steps
    # ------------------------------------------------------------------

    def action_next(self):
        self.ensure_one()
        getattr(self, f"_step_{self.step}_done")()
        return self._reopen()

    def action_previous(self):
        self.ensure_one()
        order = [key for key, _label in STEPS]
        index = order.index(self.step)
        if index:
            self.step = order[index - 1]
        return self._reopen()

    def _step_data_done(self):
        registry = (self.company_registry or "").replace(" ", "")
        if not _KVK.match(registry):
            raise UserError(self.env._("A KvK number has 8 digits."))
        if not self.provider:
            raise UserError(self.env._("Choose your bank."))
        if self.company_id.company_registry != registry:
            # An accountant who may link the company's bank may record its
            # KvK number, also without the right to edit companies.
            self.company_id.sudo().company_registry = registry
        self.step = "contact"

    def _step_contact_done(self):
        if not self.legal_representative_name or not self.legal_representative_email:
            raise UserError(
                self.env._("Fill in the name and e-mail address of the legal representative.")
            )
        if not self.legal_representative_confirmed:
            raise UserError(
                self.env._(
                    "The bank only accepts a link given by the company's legal "
                    "representative. Confirm it, or invite the legal representative "
                    "by e-mail in the next step."
                )
            )
        if not self.link_id:
            self.link_id = self.env["account.bank.link"]._bank_link_reusable_link(
                self.provider, self.company_id
            )
        vals = {
            "company_id": self.company_id.id,
            "provider": self.provider,
            "legal_representative_name": self.legal_representative_name,
            "legal_representative_email": self.legal_representative_email,
            "legal_representative_confirmed": True,
        }
        if self.link_id:
            self.link_id.write(vals)
        else:
            self.link_id = self.env["account.bank.link"].create(vals)
        self.step = "consent"

    def _step_consent_done(self):
        if self.link_id.state not in ("linked", "expiring"):
            raise UserError(
                self.env._("The bank has not given consent yet. Click 'Go to the bank'.")
            )
        self._load_accounts()
        self.step = "accounts"

    def _step_accounts_done(self):
        self._apply_accounts()
        # The first import (up to 18 months) runs in the background; the
        # journal shows its progress.
        fresh = self.line_ids.filtered("selected").link_account_id.filtered(
            lambda account: account.active_link and not account.last_fetched_date
        )
        if fresh:
            fresh._bank_link_queue_fetch()
        self.step = "done"

    def _step_done_done(self):
        return True

    def action_close(self):
        """Back to the accounting dashboard: after the bank's redirect the
        wizard is the only thing on the page, so closing just the dialog
        would leave the user on an empty screen. The journal's card shows
        the first import's progress."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.open_account_journal_dashboard_kanban"
        )
        # A fresh start: nothing behind the dashboard to go back to, and
        # no trace of the wizard (its id as active_id) in the dashboard's URL.
        action["target"] = "main"
        context = safe_eval(
            action.get("context") or "{}",
            {"uid": self.env.uid, "allowed_company_ids": self.env.companies.ids},
        )
        action["context"] = {**context, "active_id": False, "active_ids": False}
        return action

    # ------------------------------------------------------------------
    # Consent
    # ------------------------------------------------------------------

    def action_go_to_bank(self):
        self.ensure_one()
        action = self.link_id.action_start_consent()
        action["url"] = f"{action['url']}?wizard_id={self.id}"
        return action

    def action_send_invitation(self):
        self.ensure_one()
        self.link_id.action_send_invitation()
        # The reopened wizard confirms it: to whom, valid until when.
        self.invalidate_recordset(["invitation_text"])
        return self._reopen()

    def _bank_link_consent_given(self):
        """Called by the callback once the bank gave consent."""
        self._load_accounts()
        self.step = "accounts"

    # ------------------------------------------------------------------
    # Accounts
    # ------------------------------------------------------------------

    def _load_accounts(self):
        self.ensure_one()
        existing = self.line_ids.link_account_id
        journal_iban = self.env["account.bank.link.account"]._normalize_iban(
            self.journal_id.bank_acc_number or ""
        )
        default_start = self._bank_link_default_start_date()
        lines = []
        for account in self.link_id.account_ids - existing:
            chosen_here = account.iban == journal_iban
            lines.append(
                {
                    "wizard_id": self.id,
                    "link_account_id": account.id,
                    "selected": account.eligible
                    and (account.active_link or chosen_here),
                    "journal_id": account.journal_id.id
                    or (self.journal_id.id if chosen_here else False),
                    # An account that fed a journal keeps its start; a new
                    # one only has the model's default (today): no history.
                    "start_date": account.start_date
                    if account.journal_id and account.start_date
                    else default_start,
                    "statement_grouping": account.statement_grouping,
                }
            )
        self.env["account.bank.link.wizard.line"].create(lines)

    def _bank_link_default_start_date(self):
        """The first day of the month :data:`DEFAULT_HISTORY_MONTHS` months
        back, but not before the history the bank serves."""
        today = fields.Date.context_today(self)
        start = date_utils.start_of(
            today - relativedelta(months=DEFAULT_HISTORY_MONTHS), "month"
        )
        history_months = 0
        if self.link_id:
            # A fact of the bank, read without loading this link's keys.
            history_months = self.link_id._bank_link_provider_fact("history_months")
        if history_months:
            start = max(start, today - relativedelta(months=history_months))
        return start

    def _apply_accounts(self):
        for line in self.line_ids:
            account = line.link_account_id
            if line.selected and not account.eligible:
                raise UserError(
                    self.env._(
                        "%(account)s cannot be linked: %(reason)s",
                        account=account.display_name,
                        reason=account.ineligible_reason or "",
                    )
                )
            if line.selected and not line.journal_id:
                raise UserError(
                    self.env._("Choose a journal for %(account)s.", account=account.display_name)
                )
        for line in self.line_ids:
            line._apply()


class AccountBankLinkWizardLine(models.TransientModel):
    _name = "account.bank.link.wizard.line"
    _description = "Account to link"

    _check_company_auto = True

    wizard_id = fields.Many2one(
        "account.bank.link.wizard", required=True, ondelete="cascade"
    )
    link_account_id = fields.Many2one(
        "account.bank.link.account", required=True, ondelete="cascade", check_company=True
    )
    company_id = fields.Many2one(related="wizard_id.company_id")
    iban = fields.Char(related="link_account_id.iban")
    currency_code = fields.Char(related="link_account_id.currency_code")
    holder_name = fields.Char(related="link_account_id.holder_name")
    product = fields.Char(related="link_account_id.product")
    eligible = fields.Boolean(related="link_account_id.eligible")
    ineligible_reason = fields.Char(related="link_account_id.ineligible_reason")
    selected = fields.Boolean("Transactions")
    journal_id = fields.Many2one(
        "account.journal",
        domain="[('type', '=', 'bank'), ('company_id', '=', company_id)]",
        check_company=True,
    )
    start_date = fields.Date("Import from")
    statement_grouping = fields.Selection(
        [("day", "Statement per day"), ("period", "Statement per period")],
        default="day",
        required=True,
    )

    def _apply(self):
        self.ensure_one()
        account = self.link_account_id
        if not self.selected:
            if account.carries_transactions and account.journal_id:
                account.write({"carries_transactions": False})
            return
        account.write(
            {
                "journal_id": self.journal_id.id,
                "carries_transactions": True,
                "start_date": self.start_date,
                "statement_grouping": self.statement_grouping,
            }
        )
        journal = self.journal_id
        journal_vals = {"bank_statements_source": "bank_link"}
        if not journal.bank_account_id:
            journal_vals["bank_acc_number"] = account.iban
        journal.write(journal_vals)
        journal.message_post(
            body=self.env._(
                "Bank link: account %(account)s now feeds this journal from %(date)s.",
                account=account.display_name,
                date=account.link_id._bank_link_format_date(self.start_date),
            )
        )


class AccountBankLinkDiagnosis(models.TransientModel):
    _name = "account.bank.link.diagnosis"
    _description = "Why do I see no transactions?"

    journal_id = fields.Many2one("account.journal", required=True)
    result = fields.Html(readonly=True, sanitize=True)
    # Which button fits: fetching is no help on a journal without a link.
    next_action = fields.Selection(related="journal_id.bank_link_next_action")

    def action_fetch(self):
        return self.journal_id.action_bank_link_fetch()

    def action_link(self):
        """Start the link wizard (or renew the link) for this journal."""
        return self.journal_id.action_bank_link_renew()
