# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""One account at the bank within a consent, and fetching its statements."""

import datetime
import logging
from zoneinfo import ZoneInfo

import psycopg2
from stdnum import iban as stdnum_iban

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.misc import formatLang

from ..tools import provider as bank_provider
from .account_bank_link import ACTIVE_STATES, LINK_STATES
from .statement_builder import StatementBuilder

_logger = logging.getLogger(__name__)

#: Days re-read before the last fetched day, for bookings the bank adds late.
DEFAULT_OVERLAP_DAYS = 5
#: A queued or running fetch older than this was interrupted (server
#: restart): the user may queue a new one.
STALE_JOB_AFTER = datetime.timedelta(hours=2)
#: Average month length, to count a history window in months.
MONTH_DAYS = 30.44


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
    link_state = fields.Selection(
        LINK_STATES,
        compute="_compute_link_state",
        string="Link state",
        help="The link's state, or this account's own when the bank ended "
        "its consent alone.",
    )
    consent_state = fields.Selection(
        [("expired", "Expired"), ("revoked", "Revoked")],
        "Own consent",
        readonly=True,
        copy=False,
        help="Set when the bank ended the consent of this account alone (banks "
        "that give a consent per account): this account waits for its renewal "
        "while the link's other accounts keep fetching.",
    )
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
        "Payments",
        readonly=True,
        help="The bank takes payment orders for this account through the bank "
        "link (set from what the bank offers at each consent).",
    )
    carries_direct_debits = fields.Boolean(
        "Direct debits",
        readonly=True,
        help="The bank takes direct-debit orders for this account through the "
        "bank link (set from what the bank offers at each consent).",
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

    @api.depends("link_id.state", "consent_state")
    def _compute_link_state(self):
        for account in self:
            state = account.link_id.state
            if account.consent_state and state in ACTIVE_STATES:
                state = account.consent_state
            account.link_state = state

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
                    self.env._("'%(iban)s' is not a valid IBAN.", iban=account.iban)
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
                    self.env._(
                        "Account %(iban)s is already linked by company "
                        "%(company)s in this database.",
                        iban=stdnum_iban.format(account.iban),
                        company=clash.company_id.name,
                    )
                )
            if clash:
                raise ValidationError(
                    self.env._(
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
                    self.env._(
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

    def _bank_link_try_session_lock(self):
        """Like :meth:`_bank_link_try_lock`, but held across commits until
        :meth:`_bank_link_session_unlock`, or until the connection dies
        with its worker: a running fetch without this lock was abandoned."""
        self.ensure_one()
        self.env.cr.execute(
            "SELECT pg_try_advisory_lock(%s, %s)",
            (self._bank_link_lock_class(), self.id),
        )
        return self.env.cr.fetchone()[0]

    def _bank_link_session_unlock(self):
        self.ensure_one()
        query = "SELECT pg_advisory_unlock(%s, %s)"
        params = (self._bank_link_lock_class(), self.id)
        try:
            self.env.cr.execute(query, params)
        except psycopg2.errors.InFailedSqlTransaction:
            # The caller raises anyway; the lock must not stay behind on a
            # connection that goes back to the pool.
            self.env.cr.rollback()
            self.env.cr.execute(query, params)

    def _bank_link_locked_ids(self):
        """Ids of these accounts whose fetch lock some session holds."""
        if not self:
            return set()
        # Two-key advisory locks show as classid, objid with objsubid 2.
        self.env.cr.execute(
            """
            SELECT objid::bigint FROM pg_locks
             WHERE locktype = 'advisory' AND granted AND objsubid = 2
               AND classid = %s::oid AND objid = ANY(%s::oid[])
            """,
            (self._bank_link_lock_class(), self.ids),
        )
        return {row[0] for row in self.env.cr.fetchall()}

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

    def _bank_link_fetch_one(self, unattended, job=None, outcome=None):
        """Fetch and import one account; the error message or False.

        ``job``: the queued fetch record this run works for. Its progress
        is written through a second cursor (visible at once), so this
        transaction must not write that row: the caller records the
        result after committing. ``outcome`` (a dict) receives the number
        of lines created."""
        self.ensure_one()
        link = self.link_id
        # The link's state first: an ended link also makes its accounts
        # inactive, and the user must read how to renew, not "no journal".
        if self.link_state not in ACTIVE_STATES:
            return self._bank_link_inactive_message()
        if not self.active_link:
            return self.env._("Account %(iban)s is not linked to a journal.", iban=self.iban)
        if not self._bank_link_try_lock():
            return self.env._(
                "Account %(iban)s is being fetched already; try again in a moment.",
                iban=stdnum_iban.format(self.iban),
            )
        window = self._bank_link_window(self._bank_today())
        if not window:
            return False
        if job:
            log = self.env["account.bank.link.fetch"]
            progress = job._bank_link_progress_writer(*window)
        else:
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
            progress = None
        try:
            provider = link._bank_link_get_provider()
            pages, balance = self._bank_link_download(
                provider, *window, progress=progress
            )
        except bank_provider.BankLinkError as error:
            message = self._bank_link_handle_error(error)
            log.sudo().write({"state": "failed", "message": message, "technical_detail": str(error)})
            if outcome is not None:
                outcome["technical_detail"] = str(error)
            return message
        with self.env.cr.savepoint():
            result = self._bank_link_import(provider, pages, balance, window)
        log.write({"state": "done", "lines_imported": result["created"]})
        if outcome is not None:
            outcome["created"] = result["created"]
        self._bank_link_after_fetch(window, result, pages)
        return False

    def _bank_link_handle_error(self, error):
        """The fetch of this account failed: the link's state follows.
        Banks with a consent per account end only this account's consent."""
        self.ensure_one()
        return self.link_id._bank_link_handle_error(error)

    def _bank_link_inactive_message(self):
        if self.link_state == "expired":
            return self.env._(
                "The consent at the bank has ended; nothing was fetched. Renew the "
                "link on the journal with 'Renew'."
            )
        if self.link_state == "revoked":
            return self.env._(
                "The link was ended; nothing was fetched. Start a new link with "
                "'Renew'."
            )
        return self.env._("The bank has not given consent yet; nothing was fetched.")

    def _bank_link_download(self, provider, date_from, date_to, progress=None):
        """All pages of the window, read completely before anything is
        imported, so that a failure halfway imports nothing. ``progress``
        is told the oldest booking date read so far (banks send the newest
        first)."""
        link = self.link_id
        tokens = link._bank_link_tokens()
        bank_account = self._bank_account_record()
        for attempt in (1, 2):
            try:
                pages = []
                for page in provider.fetch_transactions(
                    tokens, bank_account, date_from, date_to
                ):
                    pages.append(page)
                    if progress and page.transactions:
                        progress(min(tx.booking_date for tx in page.transactions))
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
                    self.env._(
                        "The bank only delivered transactions from %(date)s "
                        "instead of %(asked)s.",
                        date=self.link_id._bank_link_format_date(
                            page.adjusted_date_from
                        ),
                        asked=self.link_id._bank_link_format_date(window[0]),
                    )
                )
            notices.extend(self.link_id._bank_link_notice_text(notice) for notice in page.notices)
        if result.get("possible_duplicates"):
            notices.append(
                self.env._(
                    "%(count)s transaction(s) may already have been imported from "
                    "a file: they are marked as possible duplicates to check.",
                    count=result["possible_duplicates"],
                )
            )
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
        body = self.env._(
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
        if check.get("opening") is not None and check.get("pending") is not None:
            self.journal_id.sudo().message_post(
                body=self.env._(
                    "Opening balance of the first statement taken from the bank: "
                    "%(opening)s (the bank's balance of %(bank)s on %(date)s minus the "
                    "imported transactions up to that day). The bank counts pending "
                    "bookings in that balance: check the opening balance against a "
                    "bank statement.",
                    opening=formatLang(self.env, check["opening"], currency_obj=currency),
                    bank=formatLang(self.env, check["bank"], currency_obj=currency),
                    date=self.link_id._bank_link_format_date(check["date"]),
                )
            )
        elif check.get("opening") is not None:
            self.journal_id.sudo().message_post(
                body=self.env._(
                    "Opening balance of the first statement taken from the bank: "
                    "%(opening)s (the bank's booked balance of %(bank)s on %(date)s "
                    "minus the imported transactions up to that day).",
                    opening=formatLang(self.env, check["opening"], currency_obj=currency),
                    bank=formatLang(self.env, check["bank"], currency_obj=currency),
                    date=self.link_id._bank_link_format_date(check["date"]),
                )
            )
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
            body = self.env._(
                "Balance check %(date)s: the bank's booked balance is %(bank)s, the "
                "imported lines give %(computed)s. A correction line of "
                "%(difference)s was booked on the statement; find and fix the "
                "cause.",
                **args,
            )
        else:
            body = self.env._(
                "Balance check %(date)s: the bank's booked balance is %(bank)s, the "
                "imported lines give %(computed)s (difference %(difference)s). "
                "Transactions may be missing or entered by hand.",
                **args,
            )
        self.journal_id.sudo().message_post(body=body)

    # ------------------------------------------------------------------
    # Fetching in the background: the user never waits on a bank
    # ------------------------------------------------------------------

    def _bank_link_queue_fetch(self):
        """Queue a fetch with the user present for each account that has
        none queued or running, and wake the worker. Returns the queued
        fetch records (new and already waiting)."""
        Fetch = self.env["account.bank.link.fetch"].sudo()
        Fetch._bank_link_fail_abandoned(self)
        waiting = Fetch.search(
            [
                ("link_account_id", "in", self.ids),
                ("state", "in", ("queued", "running")),
                ("fetched_at", ">", fields.Datetime.now() - STALE_JOB_AFTER),
            ]
        )
        todo = self - waiting.link_account_id
        today = self._bank_today()
        vals_list = []
        for account in todo:
            window = account._bank_link_window(today) or (today, today)
            vals_list.append(
                {
                    "link_account_id": account.id,
                    "unattended": False,
                    "state": "queued",
                    "date_from": window[0],
                    "date_to": window[1],
                    "first_import": not account.last_fetched_date,
                    "requested_by_id": self.env.uid,
                }
            )
        jobs = Fetch.create(vals_list)
        if jobs:
            self.env.ref("l10n_nl_bankkoppeling.cron_bank_link_fetch_queued").sudo()._trigger()
        return waiting | jobs

    # ------------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------------

    @api.model
    def _cron_bank_link_fetch(self):
        # Cron: no language in the context; texts of this run (chatter,
        # errors, mails) in the language of the user the cron runs as.
        self = self.with_context(lang=self.env.lang or self.env.user.lang)
        accounts = self.search(
            [
                ("active_link", "=", True),
                ("link_id.state", "in", ACTIVE_STATES),
                ("consent_state", "=", False),
            ]
        )
        # A fetch a user queued (the first import after linking, "Fetch
        # now") does this account's work, with its progress on the journal.
        self.env["account.bank.link.fetch"].sudo()._bank_link_fail_abandoned(accounts)
        waiting = self.env["account.bank.link.fetch"].sudo().search(
            [
                ("link_account_id", "in", accounts.ids),
                ("state", "in", ("queued", "running")),
                ("fetched_at", ">", fields.Datetime.now() - STALE_JOB_AFTER),
            ]
        )
        accounts -= waiting.link_account_id
        errors = {}
        due = accounts._bank_link_due_unattended(fields.Datetime.now(), errors=errors)
        for account, error in errors.items():
            account._bank_link_record_failure(error)
        for account in due:
            # Each account's whole turn (download, statements, matching) in
            # its own savepoint: whatever goes wrong, even a bug, undoes
            # only this account's work and is kept on its link.
            try:
                with self.env.cr.savepoint():
                    account._bank_link_fetch_one(unattended=True)
            except Exception as error:
                account._bank_link_record_failure(error)
            # The cron owns this transaction: each account's import is
            # committed before the next account starts, so that a later
            # crash or time-out keeps what was imported already.
            if not self.env.registry.in_test_mode():
                self.env.cr.commit()  # pylint: disable=invalid-commit

    def _bank_link_due_unattended(self, now, errors=None):
        """Accounts whose bank still allows an unattended fetch in the last
        24 hours, spread evenly over the day. With ``errors`` (a dict), an
        account whose check fails is left out and its exception kept there
        instead of stopping the check of the others."""
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
            try:
                limit = account._bank_link_max_unattended()
            except Exception as error:
                if errors is None:
                    raise
                errors[account] = error
                continue
            count, last = recent.get(account.id, (0, None))
            if count >= limit:
                continue
            if last and now - last < datetime.timedelta(hours=24) / limit:
                continue
            due |= account
        return due

    def _bank_link_max_unattended(self):
        """The bank's daily limit, from its provider class: no keys are
        loaded for this, so a link with broken keys still gets its turn
        (and its error) like the others."""
        self.ensure_one()
        return max(
            1,
            min(
                self.link_id._bank_link_provider_fact("max_unattended_fetches_per_day"),
                bank_provider.MAX_UNATTENDED_FETCHES_PER_DAY,
            ),
        )

    def _bank_link_failure_message(self, error):
        """What the user reads about an error the fetch did not foresee.
        A ``UserError`` is worded for the user already; of anything else
        only its kind is shown: its text may hold a key or a token. The
        details are in the server log."""
        self.ensure_one()
        if isinstance(error, UserError):
            return self.env._(
                "The fetch of %(iban)s stopped: %(reason)s Nothing of it was "
                "imported; the other accounts were fetched.",
                iban=stdnum_iban.format(self.iban),
                reason=error.args[0] if error.args else "",
            )
        return self.env._(
            "The fetch of %(iban)s stopped on an unexpected error (%(kind)s); "
            "nothing of it was imported, the other accounts were fetched. Ask "
            "your administrator: the server log has the details.",
            iban=stdnum_iban.format(self.iban),
            kind=type(error).__name__,
        )

    def _bank_link_record_failure(self, error, unattended=True):
        """Keep an unforeseen failure of this account's fetch where the user
        looks: a failed fetch (which counts against the daily limit, so a
        broken link is not retried every hour), the link in ``error`` with
        ``last_error``, and a chatter message. Never raises: the cron must
        go on with the next account."""
        self.ensure_one()
        _logger.error(
            "Bank link fetch failed for account %s", self.id, exc_info=error
        )
        try:
            with self.env.cr.savepoint():
                message = self._bank_link_failure_message(error)
                self.env["account.bank.link.fetch"].sudo().create(
                    {
                        "link_account_id": self.id,
                        "unattended": unattended,
                        "state": "failed",
                        "message": message,
                        "finished_at": fields.Datetime.now(),
                    }
                )
                link = self.link_id.sudo()
                vals = {"last_error": message, "last_error_at": fields.Datetime.now()}
                if link.state in ACTIVE_STATES:
                    vals["state"] = "error"
                link.write(vals)
                link._bank_link_post(message)
        except Exception:
            _logger.exception(
                "Could not record the failed fetch of account %s", self.id
            )
        return True


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
        [
            ("queued", "Queued"),
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Failed"),
        ],
        default="running",
    )
    lines_imported = fields.Integer()
    message = fields.Text()
    # The provider's own words (English, never a token), for whoever
    # diagnoses the link with the bank; the user reads ``message``.
    technical_detail = fields.Text(groups="l10n_nl_bankkoppeling.group_bank_link_admin")
    first_import = fields.Boolean()
    requested_by_id = fields.Many2one("res.users", string="Requested by")
    months_total = fields.Integer(help="Months of history this fetch asks.")
    months_done = fields.Integer(help="Months of history read so far.")
    finished_at = fields.Datetime()
    progress_text = fields.Char(compute="_compute_progress_text")

    @api.depends("state", "months_done", "months_total", "first_import", "message")
    def _compute_progress_text(self):
        for job in self:
            job.progress_text = job._bank_link_progress_text()

    def _bank_link_progress_text(self):
        self.ensure_one()
        if self.state == "queued":
            return self.env._("Fetch queued; it starts in a moment.")
        if self.state == "running":
            if self.months_total > 1:
                if self.first_import:
                    return self.env._(
                        "First import: %(done)s of %(total)s months fetched",
                        done=self.months_done,
                        total=self.months_total,
                    )
                return self.env._(
                    "Fetching: %(done)s of %(total)s months fetched",
                    done=self.months_done,
                    total=self.months_total,
                )
            return self.env._("Fetching from the bank...")
        if self.state == "done":
            return self.env._(
                "Fetched: %(count)s new transaction(s).", count=self.lines_imported
            )
        return self.message or self.env._("The fetch failed.")

    @api.model
    def _bank_link_months(self, date_from, date_to):
        return max(1, round((date_to - date_from).days / MONTH_DAYS))

    def _bank_link_progress_writer(self, date_from, date_to):
        """A callback that records, through its own committed transaction,
        how many months back the download got: the journal shows it while
        this transaction is still reading pages."""
        self.ensure_one()
        total = self._bank_link_months(date_from, date_to)
        job_id = self.id
        reported = [0]

        def progress(oldest_date):
            done = min(total, max(0, round((date_to - oldest_date).days / MONTH_DAYS)))
            if done <= reported[0]:
                return
            reported[0] = done
            with self.env.registry.cursor() as cr:
                # Held in a name: the transaction flushes only the
                # environments still alive when it commits.
                env = self.env(cr=cr, su=True)
                env[self._name].browse(job_id).write({"months_done": done})
                env.flush_all()

        return progress

    @api.model
    def _cron_bank_link_run_queued(self):
        """Worker: run the fetches users queued, oldest first, each in its
        own transactions (state, then the import, then the result)."""
        self.sudo()._bank_link_fail_abandoned()
        jobs = self.sudo().search([("state", "=", "queued")], order="id")
        for job in jobs:
            # The texts of a fetch a user asked for: in that user's language.
            lang = job.requested_by_id.lang or self.env.lang or self.env.user.lang
            job.with_context(lang=lang)._bank_link_run()

    @api.model
    def _bank_link_fail_abandoned(self, accounts=None):
        """Mark failed the running fetches (of ``accounts``, or all) whose
        worker is gone, as after a server restart: nobody holds their
        account's lock any more. A new fetch may then start at once."""
        domain = [("state", "=", "running")]
        if accounts is not None:
            domain.append(("link_account_id", "in", accounts.ids))
        running = self.search(domain)
        if not running:
            return running
        held = running.link_account_id._bank_link_locked_ids()
        abandoned = running.filtered(lambda job: job.link_account_id.id not in held)
        if abandoned:
            abandoned.write(
                {
                    "state": "failed",
                    "message": self.env._(
                        "The fetch was interrupted, probably by a restart of the "
                        "server. Fetch again: transactions imported already are "
                        "not imported twice."
                    ),
                    "finished_at": fields.Datetime.now(),
                }
            )
        return abandoned

    def _bank_link_run(self):
        self.ensure_one()
        commit = not self.env.registry.in_test_mode()
        account = self.link_account_id
        # Held until the result is written, across the commits below: the
        # lock tells others this job still has a worker.
        locked = account._bank_link_try_session_lock()
        try:
            self._bank_link_run_locked(account, commit)
        finally:
            if locked:
                account._bank_link_session_unlock()

    def _bank_link_run_locked(self, account, commit):
        window = account._bank_link_window(account._bank_today())
        vals = {"state": "running", "fetched_at": fields.Datetime.now()}
        if window:
            vals.update(
                date_from=window[0],
                date_to=window[1],
                months_total=self._bank_link_months(*window),
                months_done=0,
            )
        self.write(vals)
        # Written out now: the progress comes through other transactions,
        # which a late flush of this write would overwrite.
        self.flush_recordset()
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        outcome = {"created": 0}
        try:
            with self.env.cr.savepoint():
                message = account._bank_link_fetch_one(
                    unattended=False, job=self, outcome=outcome
                )
        except Exception:
            _logger.exception("Queued bank link fetch %s failed", self.id)
            message = self.env._(
                "The fetch stopped on an unexpected error; nothing of it was "
                "imported. Try again or ask your administrator."
            )
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        # The progress was written by other transactions: read it afresh.
        self.invalidate_recordset()
        self.write(
            {
                "state": "failed" if message else "done",
                "message": message or False,
                "lines_imported": outcome["created"],
                "months_done": self.months_total,
                "finished_at": fields.Datetime.now(),
            }
        )
        if outcome.get("technical_detail"):
            self.sudo().technical_detail = outcome["technical_detail"]
        self._bank_link_notify_requester()
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _bank_link_notify_requester(self):
        """Tell the user who asked, in the browser, when the fetch ends."""
        for job in self.filtered("requested_by_id"):
            journal = job.link_account_id.journal_id
            job.requested_by_id._bus_send(
                "simple_notification",
                {
                    "type": "success" if job.state == "done" else "danger",
                    "title": journal.display_name or self.env._("Bank link"),
                    "message": job.progress_text,
                    "sticky": job.state == "failed",
                },
            )

    def _bank_link_result_params(self):
        """The result as a notification's params (type and message)."""
        self.ensure_one()
        return {
            "type": {"done": "success", "failed": "danger"}.get(self.state, "info"),
            "message": self.progress_text,
        }
