# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""One account at the bank within a consent, and fetching its statements."""

import datetime
import logging
from zoneinfo import ZoneInfo

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.misc import formatLang
from stdnum import iban as stdnum_iban

from ..tools import provider as bank_provider
from .account_bank_link import ACTIVE_STATES
from .statement_builder import StatementBuilder

_logger = logging.getLogger(__name__)

#: Days re-read before the last fetched day, for bookings the bank adds late.
DEFAULT_OVERLAP_DAYS = 5


class AccountBankLinkAccount(models.Model):
    _name = "account.bank.link.account"
    _description = "Bank account within a bank link"
    _order = "link_id, iban"
    _check_company_auto = True

    link_id = fields.Many2one(
        "account.bank.link", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="link_id.company_id", store=True, index=True)
    provider = fields.Selection(related="link_id.provider", store=True)
    link_state = fields.Selection(related="link_id.state", string="Link state")
    iban = fields.Char("IBAN", required=True, index=True)
    resource_id = fields.Char(
        help="The bank's handle for this account in its API.", readonly=True
    )
    currency_code = fields.Char("Currency", default="EUR")
    holder_name = fields.Char()
    product = fields.Char("Bank product")
    eligible = fields.Boolean(default=True, readonly=True)
    ineligible_reason = fields.Char(readonly=True)
    journal_id = fields.Many2one(
        "account.journal",
        check_company=True,
        domain="[('type', '=', 'bank'), ('company_id', '=', company_id)]",
        index=True,
    )
    carries_transactions = fields.Boolean("Transactions", default=True)
    carries_payments = fields.Boolean(
        "Payments", readonly=True, help="Sending payments: not available yet."
    )
    carries_direct_debits = fields.Boolean(
        "Direct debits", readonly=True, help="Sending direct debits: not available yet."
    )
    start_date = fields.Date(
        "Import from",
        default=fields.Date.context_today,
        help="Transactions booked before this date are not imported.",
    )
    statement_grouping = fields.Selection(
        [
            ("day", "One statement per booking date"),
            ("period", "One statement per period (month), filled day by day"),
        ],
        default="day",
        required=True,
    )
    overlap_days = fields.Integer(
        default=DEFAULT_OVERLAP_DAYS,
        help="Days re-read at each fetch to pick up bookings the bank adds late.",
    )
    active_link = fields.Boolean(
        compute="_compute_active_link",
        store=True,
        help="Transactions of this account are imported into its journal.",
    )
    last_fetched_date = fields.Date(
        readonly=True,
        copy=False,
        help="Last booking date fully asked from the bank.",
    )
    last_fetch_at = fields.Datetime(readonly=True, copy=False)
    last_notice = fields.Text(readonly=True, copy=False)
    bank_balance = fields.Monetary(readonly=True, currency_field="journal_currency_id")
    bank_balance_date = fields.Date(readonly=True)
    balance_difference = fields.Monetary(
        readonly=True,
        currency_field="journal_currency_id",
        help="Bank's booked balance minus the balance computed from the "
        "imported lines, at the bank balance's date.",
    )
    journal_currency_id = fields.Many2one(
        "res.currency", compute="_compute_journal_currency_id"
    )
    fetch_ids = fields.One2many("account.bank.link.fetch", "link_account_id")

    @api.depends("journal_id", "carries_transactions", "eligible", "link_id.state")
    def _compute_active_link(self):
        for account in self:
            account.active_link = bool(
                account.journal_id
                and account.carries_transactions
                and account.eligible
                and account.link_id.state not in ("draft", "revoked")
            )

    @api.depends("journal_id")
    def _compute_journal_currency_id(self):
        for account in self:
            account.journal_currency_id = (
                account.journal_id.currency_id or account.company_id.currency_id
            )

    @api.model
    def _normalize_iban(self, iban):
        return stdnum_iban.compact(iban or "")

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("iban"):
                vals["iban"] = self._normalize_iban(vals["iban"])
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("iban"):
            vals["iban"] = self._normalize_iban(vals["iban"])
        return super().write(vals)

    @api.constrains("iban")
    def _check_iban(self):
        for account in self:
            if not stdnum_iban.is_valid(account.iban):
                raise ValidationError(
                    _("'%(iban)s' is not a valid IBAN.", iban=account.iban)
                )

    @api.constrains(
        "active_link", "iban", "journal_id", "carries_transactions", "eligible"
    )
    def _check_iban_linked_once(self):
        """An IBAN feeds one journal in the whole database: two companies
        importing the same account would each book its transactions."""
        active = self.filtered("active_link")
        if not active:
            return
        others = self.sudo().search(
            [
                ("iban", "in", active.mapped("iban")),
                ("active_link", "=", True),
                ("id", "not in", active.ids),
            ]
        )
        by_iban = {}
        for other in others:
            by_iban.setdefault(other.iban, other)
        for account in active:
            clash = by_iban.get(account.iban, others.browse())
            if clash and clash.company_id != account.company_id:
                raise ValidationError(
                    _(
                        "Account %(iban)s is already linked by company "
                        "%(company)s in this database.",
                        iban=stdnum_iban.format(account.iban),
                        company=clash.company_id.name,
                    )
                )
            if clash:
                raise ValidationError(
                    _(
                        "Account %(iban)s is already linked to journal %(journal)s.",
                        iban=stdnum_iban.format(account.iban),
                        journal=clash.journal_id.display_name,
                    )
                )

    @api.constrains("journal_id", "currency_code")
    def _check_journal_currency(self):
        for account in self.filtered("journal_id"):
            journal_currency = (
                account.journal_id.currency_id or account.company_id.currency_id
            )
            if account.currency_code and journal_currency.name != account.currency_code:
                raise ValidationError(
                    _(
                        "Account %(iban)s is in %(currency)s, journal %(journal)s in "
                        "%(journal_currency)s.",
                        iban=stdnum_iban.format(account.iban),
                        currency=account.currency_code,
                        journal=account.journal_id.display_name,
                        journal_currency=journal_currency.name,
                    )
                )

    def _compute_display_name(self):
        for account in self:
            account.display_name = " ".join(
                filter(
                    None, [stdnum_iban.format(account.iban or ""), account.holder_name]
                )
            )

    # ------------------------------------------------------------------
    # Fetching
    # ------------------------------------------------------------------

    @api.model
    def _bank_today(self):
        """Today at the bank: booking dates are Amsterdam calendar dates."""
        now = fields.Datetime.now().replace(tzinfo=datetime.UTC)
        return now.astimezone(ZoneInfo(bank_provider.BANK_TIMEZONE)).date()

    def _bank_link_window(self, today):
        """[date_from, date_to] to ask; None when nothing is due yet."""
        self.ensure_one()
        start = self.start_date or today
        if self.last_fetched_date:
            overlap = datetime.timedelta(days=max(self.overlap_days, 0))
            date_from = max(start, self.last_fetched_date - overlap)
        else:
            date_from = start
        if date_from > today:
            return None
        return date_from, today

    def _bank_account_record(self):
        self.ensure_one()
        return bank_provider.BankAccount(
            resource_id=self.resource_id or self.iban,
            iban=self.iban,
            currency=self.currency_code or "EUR",
            holder_name=self.holder_name,
            product=self.product,
            eligible=self.eligible,
        )

    def _bank_link_try_lock(self):
        """Transaction-scoped lock: two fetches of one account never overlap.
        An advisory lock, so it also holds against a fetch in another
        transaction that cannot see this one's uncommitted rows."""
        self.ensure_one()
        self.env.cr.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)",
            (self._bank_link_lock_class(), self.id),
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _bank_link_lock_class(self):
        # A fixed 32-bit key so that the lock space does not clash with others.
        return 0x424B4C41  # "BKLA"

    def _bank_link_fetch(self, unattended=True):
        """Fetch and import each account. Returns {account: error message}
        for the accounts that failed; never raises a provider error."""
        errors = {}
        for account in self:
            message = account._bank_link_fetch_one(unattended)
            if message:
                errors[account] = message
        return errors

    def _bank_link_fetch_one(self, unattended):
        self.ensure_one()
        link = self.link_id
        # The link's state first: an ended link also makes its accounts
        # inactive, and the user must read how to renew, not "no journal".
        if link.state not in ACTIVE_STATES:
            return self._bank_link_inactive_message()
        if not self.active_link:
            return _("Account %(iban)s is not linked to a journal.", iban=self.iban)
        if not self._bank_link_try_lock():
            return _(
                "Account %(iban)s is being fetched already; try again in a moment.",
                iban=stdnum_iban.format(self.iban),
            )
        window = self._bank_link_window(self._bank_today())
        if not window:
            return False
        log = (
            self.env["account.bank.link.fetch"]
            .sudo()
            .create(
                {
                    "link_account_id": self.id,
                    "unattended": unattended,
                    "date_from": window[0],
                    "date_to": window[1],
                }
            )
        )
        try:
            provider = link._bank_link_get_provider()
            pages, balance = self._bank_link_download(provider, *window)
        except bank_provider.BankLinkError as error:
            message = link._bank_link_handle_error(error)
            log.write({"state": "failed", "message": message})
            return message
        with self.env.cr.savepoint():
            result = self._bank_link_import(provider, pages, balance, window)
        log.write({"state": "done", "lines_imported": result["created"]})
        self._bank_link_after_fetch(window, result, pages)
        return False

    def _bank_link_inactive_message(self):
        link = self.link_id
        if link.state == "expired":
            return _(
                "The consent at the bank has ended; nothing was fetched. Renew the "
                "link on the journal with 'Renew'."
            )
        if link.state == "revoked":
            return _(
                "The link was ended; nothing was fetched. Start a new link with "
                "'Renew'."
            )
        return _("The bank has not given consent yet; nothing was fetched.")

    def _bank_link_download(self, provider, date_from, date_to):
        """All pages of the window, read completely before anything is
        imported, so that a failure halfway imports nothing."""
        link = self.link_id
        tokens = link._bank_link_tokens()
        bank_account = self._bank_account_record()
        for attempt in (1, 2):
            try:
                pages = list(
                    provider.fetch_transactions(
                        tokens, bank_account, date_from, date_to
                    )
                )
                balance = provider.fetch_balance(tokens, bank_account)
                return pages, balance
            except bank_provider.TokenExpiredError:
                if attempt == 2:
                    raise
                try:
                    tokens = link._bank_link_refresh_tokens(provider, tokens)
                except bank_provider.TokenExpiredError as error:
                    raise bank_provider.ConsentExpiredError(
                        error.message,
                        bank_code=error.bank_code,
                        http_status=error.http_status,
                        reference=error.reference,
                    ) from error

    def _bank_link_import(self, provider, pages, balance, window):
        transactions = [tx for page in pages for tx in page.transactions]
        # Importing is the framework's job on behalf of whoever may fetch
        # (a billing user may not create statements by hand).
        builder = StatementBuilder(self.sudo(), provider.code or self.provider)
        result = builder.import_transactions(transactions)
        if balance is not None:
            result["balance"] = builder.check_balance(balance, window[1])
        return result

    def _bank_link_after_fetch(self, window, result, pages):
        now = fields.Datetime.now()
        notices = []
        for page in pages:
            if page.adjusted_date_from and page.adjusted_date_from > window[0]:
                notices.append(
                    _(
                        "The bank only delivered transactions from %(date)s "
                        "instead of %(asked)s.",
                        date=self.link_id._bank_link_format_date(
                            page.adjusted_date_from
                        ),
                        asked=self.link_id._bank_link_format_date(window[0]),
                    )
                )
            notices.extend(_(notice) for notice in page.notices)
        self.write(
            {
                "last_fetched_date": max(
                    window[1], self.last_fetched_date or window[1]
                ),
                "last_fetch_at": now,
                "last_notice": "\n".join(notices) or False,
            }
        )
        link_vals = {"last_fetch_at": now}
        if self.link_id.state == "error":
            link_vals.update(state="linked", last_error=False)
        self.link_id.sudo().write(link_vals)
        body = _(
            "Fetched %(iban)s from %(date_from)s to %(date_to)s: %(count)s new "
            "transaction(s).",
            iban=stdnum_iban.format(self.iban),
            date_from=self.link_id._bank_link_format_date(window[0]),
            date_to=self.link_id._bank_link_format_date(window[1]),
            count=result["created"],
        )
        if notices:
            body = f"{body} {' '.join(notices)}"
        self.journal_id.sudo().message_post(body=body)
        balance_result = result.get("balance")
        if balance_result:
            self._bank_link_report_balance(balance_result)

    def _bank_link_report_balance(self, check):
        self.write(
            {
                "bank_balance": check["bank"],
                "bank_balance_date": check["date"],
                "balance_difference": check["difference"],
            }
        )
        currency = self.journal_currency_id
        if currency.is_zero(check["found_difference"]):
            return
        args = {
            "date": self.link_id._bank_link_format_date(check["date"]),
            "bank": formatLang(self.env, check["bank"], currency_obj=currency),
            "computed": formatLang(self.env, check["computed"], currency_obj=currency),
            "difference": formatLang(
                self.env, check["found_difference"], currency_obj=currency
            ),
        }
        if check["corrected"]:
            body = _(
                "Balance check %(date)s: the bank's booked balance is %(bank)s, the "
                "imported lines give %(computed)s. A correction line of "
                "%(difference)s was booked on the statement; find and fix the "
                "cause.",
                **args,
            )
        else:
            body = _(
                "Balance check %(date)s: the bank's booked balance is %(bank)s, the "
                "imported lines give %(computed)s (difference %(difference)s). "
                "Transactions may be missing or entered by hand.",
                **args,
            )
        self.journal_id.sudo().message_post(body=body)

    # ------------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------------

    @api.model
    def _cron_bank_link_fetch(self):
        accounts = self.search(
            [("active_link", "=", True), ("link_id.state", "in", ACTIVE_STATES)]
        )
        due = accounts._bank_link_due_unattended(fields.Datetime.now())
        for account in due:
            try:
                with self.env.cr.savepoint():
                    account._bank_link_fetch_one(unattended=True)
            except Exception:
                # One broken account must not stop the others.
                _logger.exception("Bank link fetch failed for account %s", account.id)
            if not self.env.registry.in_test_mode():
                self.env.cr.commit()

    def _bank_link_due_unattended(self, now):
        """Accounts whose bank still allows an unattended fetch in the last
        24 hours, spread evenly over the day."""
        if not self:
            return self
        since = now - datetime.timedelta(hours=24)
        groups = (
            self.env["account.bank.link.fetch"]
            .sudo()
            ._read_group(
                [
                    ("link_account_id", "in", self.ids),
                    ("unattended", "=", True),
                    ("fetched_at", ">", since),
                ],
                ["link_account_id"],
                ["__count", "fetched_at:max"],
            )
        )
        recent = {account.id: (count, last) for account, count, last in groups}
        due = self.browse()
        for account in self:
            limit = account._bank_link_max_unattended()
            count, last = recent.get(account.id, (0, None))
            if count >= limit:
                continue
            if last and now - last < datetime.timedelta(hours=24) / limit:
                continue
            due |= account
        return due

    def _bank_link_max_unattended(self):
        self.ensure_one()
        try:
            provider = self.link_id._bank_link_get_provider()
        except UserError:
            return bank_provider.MAX_UNATTENDED_FETCHES_PER_DAY
        return max(
            1,
            min(
                provider.max_unattended_fetches_per_day,
                bank_provider.MAX_UNATTENDED_FETCHES_PER_DAY,
            ),
        )


class AccountBankLinkFetch(models.Model):
    """One fetch attempt: counts against the bank's daily limit and tells
    the user what happened."""

    _name = "account.bank.link.fetch"
    _description = "Bank link fetch"
    _order = "id desc"

    link_account_id = fields.Many2one(
        "account.bank.link.account", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="link_account_id.company_id", store=True)
    fetched_at = fields.Datetime(default=fields.Datetime.now, required=True, index=True)
    unattended = fields.Boolean()
    date_from = fields.Date()
    date_to = fields.Date()
    state = fields.Selection(
        [("running", "Running"), ("done", "Done"), ("failed", "Failed")],
        default="running",
    )
    lines_imported = fields.Integer()
    message = fields.Text()
