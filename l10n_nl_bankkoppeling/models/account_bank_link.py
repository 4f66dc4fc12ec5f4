# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""One consent at one bank for one company."""

import base64
import datetime
import json
import logging
import secrets
import time

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import consteq, email_normalize
from odoo.tools.misc import hmac as odoo_hmac

from ..tools import provider as bank_provider

_logger = logging.getLogger(__name__)

#: Days before the end of a consent at which the contact gets an e-mail.
REMINDER_DAYS = (15, 3, 1)
#: A link becomes ``expiring`` this many days before the consent ends.
EXPIRING_DAYS = 15
#: An accountant's invitation to the legal representative lasts this long.
INVITATION_DAYS = 7

LINK_STATES = [
    ("draft", "Draft"),
    ("consent_pending", "Waiting for consent"),
    ("linked", "Linked"),
    ("expiring", "Expiring"),
    ("expired", "Expired"),
    ("revoked", "Revoked"),
    ("error", "Error"),
]
#: An OAuth ``state`` is accepted this many seconds after it was issued.
STATE_LIFETIME = 600
_STATE_SCOPE = "l10n_nl_bankkoppeling.consent_state"


class ConsentStateError(Exception):
    """The ``state`` coming back from the bank is not one we issued for
    this user, link and company, or it was used or expired already."""


#: Key in ``cr.precommit.data`` (cleared at commit and rollback): secrets
#: committed through a second cursor during this transaction. Under
#: REPEATABLE READ this transaction may not update those rows itself any
#: more, so later writes to them go through a second cursor too.
_SIDE_WRITTEN = "l10n_nl_bankkoppeling.side_written_secrets"

#: States in which the framework may call the bank with the stored tokens.
ACTIVE_STATES = ("linked", "expiring", "error")


class AccountBankLink(models.Model):
    _name = "account.bank.link"
    _description = "Bank link (consent at a bank)"
    _inherit = ["mail.thread"]
    _order = "company_id, provider, id"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    # Bank addons extend this with selection_add, e.g. ('ing', 'ING').
    provider = fields.Selection(selection=[], required=True, tracking=True)
    state = fields.Selection(
        LINK_STATES, default="draft", required=True, tracking=True, copy=False
    )
    consent_date = fields.Date(readonly=True, copy=False)
    consent_valid_until = fields.Date(readonly=True, copy=False, tracking=True)
    legal_representative_name = fields.Char(tracking=True)
    legal_representative_email = fields.Char(tracking=True)
    legal_representative_confirmed = fields.Boolean(
        help="The person who gives the consent confirmed being the company's "
        "legal representative, as the banks require.",
        copy=False,
    )
    last_fetch_at = fields.Datetime(readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    last_error_at = fields.Datetime(readonly=True, copy=False)
    reminder_days_sent = fields.Integer(
        readonly=True,
        copy=False,
        help="Smallest number of days-before-expiry for which the reminder "
        "went out, so that each reminder is sent once.",
    )
    account_ids = fields.One2many("account.bank.link.account", "link_id")
    invitation_expires_at = fields.Datetime(readonly=True, copy=False)
    invitation_sent_to = fields.Char(readonly=True, copy=False)

    @api.depends("provider", "company_id", "legal_representative_name")
    def _compute_name(self):
        labels = dict(self._fields["provider"]._description_selection(self.env))
        for link in self:
            link.name = " - ".join(
                filter(None, [labels.get(link.provider), link.company_id.name])
            )

    @api.constrains("legal_representative_email")
    def _check_legal_representative_email(self):
        for link in self:
            email = link.legal_representative_email
            if email and not email_normalize(email):
                raise ValidationError(
                    self.env._("'%(email)s' is not a valid e-mail address.", email=email)
                )

    # ------------------------------------------------------------------
    # Hooks for bank addons (documented in readme/DEVELOP.md)
    # ------------------------------------------------------------------

    def _bank_link_get_provider(self):
        """Return a configured :class:`BankProvider` for ``self.provider``.

        A bank whose addon registered its provider class
        (``provider.register``) with a ``config_class`` is built here from
        the company's bank registration; other bank addons override this:
        ``if self.provider == 'bunq': return ...`` and call ``super()``
        otherwise."""
        self.ensure_one()
        provider_class = bank_provider.PROVIDER_CLASSES.get(self.provider)
        if provider_class and provider_class.config_class:
            registration = self._bank_link_registration()._bank_registration_ready()
            return provider_class(provider_class.config_from_settings(registration._bank_registration_settings()))
        raise UserError(
            self.env._(
                "No bank module is installed for '%(provider)s'. Install the "
                "module of this bank.",
                provider=self.provider,
            )
        )

    def _bank_link_provider_class(self):
        """The :class:`BankProvider` subclass of ``self.provider``, not
        configured, or None when no bank module serves it.

        The registered class of the bank (``provider.register``); bank
        addons that do not register override this like
        :meth:`_bank_link_get_provider`. The cron reads the bank's fixed
        facts (daily limit, history) here: that needs no keys, so a link
        whose keys are broken cannot stop the scheduled fetch of the others
        before their own turn."""
        return bank_provider.PROVIDER_CLASSES.get(self.provider)

    def _bank_link_provider_fact(self, name):
        """A class-level fact of the bank (``max_unattended_fetches_per_day``,
        ``history_months``...), the framework's default for banks whose
        module does not name its provider class."""
        self.ensure_one()
        provider_class = self._bank_link_provider_class() or bank_provider.BankProvider
        return getattr(provider_class, name)

    def _bank_link_wizard_texts(self):
        """Bank-specific texts for the link wizard, in a dict with keys
        ``consent`` (what happens at the bank), ``eligibility`` (which
        accounts can be linked) and ``first_fetch`` (when transactions
        appear). Bank addons override and update the dict from super()."""
        return {
            "consent": self.env._(
                "You will be sent to your bank to log in with your bank app or "
                "card reader and to give consent. Afterwards you come back here."
            ),
            "eligibility": self.env._("Only business current accounts can be linked."),
            "first_fetch": self.env._(
                "Transactions appear after the first fetch. No transactions yet? "
                "Transfer one cent to or from the account."
            ),
        }

    def _bank_link_account_eligibility(self, bank_account):
        """Whether a :class:`BankAccount` may be linked, and why not.
        Bank addons may tighten this; the provider's verdict comes first."""
        self.ensure_one()
        if not bank_account.eligible:
            return False, bank_account.ineligible_reason or self.env._(
                "The bank does not allow this account in a bank link."
            )
        return True, False

    # ------------------------------------------------------------------
    # Secrets: only through these methods, always sudo, never logged
    # ------------------------------------------------------------------

    def _bank_link_secret(self):
        self.ensure_one()
        secret = (
            self.env["account.bank.link.secret"]
            .sudo()
            .search([("link_id", "=", self.id)], limit=1)
        )
        if not secret:
            secret = secret.create({"link_id": self.id})
        return secret

    def _bank_link_tokens(self):
        self.ensure_one()
        tokens = self._bank_link_secret()._get_token_set()
        if not tokens:
            raise bank_provider.ConsentExpiredError("No tokens stored for this link")
        return tokens

    def _bank_link_refresh_tokens(self, provider, tokens):
        """Refresh, then commit the new tokens in their own transaction at
        once: with a rotating refresh token the old one is dead from here
        on, so a crash later in this transaction must not lose the new one.
        Returns the new TokenSet; the caller keeps using it in memory and
        must not write the secret row again in this transaction."""
        self.ensure_one()
        new_tokens = provider.refresh(tokens)
        secret_id = self._bank_link_secret().id
        # Pending writes of this transaction must not overwrite the new
        # tokens later (callers refresh before touching the secret row).
        self.env["account.bank.link.secret"].flush_model()
        with self.env.registry.cursor() as cr:
            env = self.env(cr=cr, su=True)
            env["account.bank.link.secret"].browse(secret_id)._store_token_set(
                new_tokens
            )
        self.env.cr.precommit.data.setdefault(_SIDE_WRITTEN, set()).add(secret_id)
        self.env["account.bank.link.secret"].browse(secret_id).invalidate_recordset()
        if new_tokens.consent_valid_until:
            self.sudo().consent_valid_until = new_tokens.consent_valid_until
        return new_tokens

    def _bank_link_store_consent(self, tokens):
        """Keep the tokens of a consent the bank just granted."""
        self.ensure_one()
        provider = self._bank_link_get_provider()
        today = fields.Date.context_today(self)
        valid_until = provider.consent_valid_until(tokens) or (
            today + datetime.timedelta(days=provider.consent_days)
        )
        self._bank_link_secret()._store_token_set(tokens)
        self.sudo().write(
            {
                "state": "linked",
                "consent_date": today,
                "consent_valid_until": valid_until,
                "reminder_days_sent": 0,
                "last_error": False,
                "last_error_at": False,
            }
        )
        self._bank_link_post(
            self.env._(
                "The bank gave consent, valid until %(date)s.",
                date=self._bank_link_format_date(valid_until),
            )
        )
        self._bank_link_close_renewal_activities()

    def _bank_link_close_renewal_activities(self):
        journals = self.account_ids.journal_id
        if journals:
            journals.sudo().activity_feedback(
                ["l10n_nl_bankkoppeling.mail_activity_type_bank_link_renew"],
                feedback=self.env._("The bank gave consent again."),
            )

    def _bank_link_wipe_secrets(self):
        secrets_ = (
            self.env["account.bank.link.secret"]
            .sudo()
            .search([("link_id", "in", self.ids)])
        )
        side_written = self.env.cr.precommit.data.get(_SIDE_WRITTEN, set())
        committed = secrets_.filtered(lambda secret: secret.id in side_written)
        (secrets_ - committed)._wipe()
        if committed:
            with self.env.registry.cursor() as cr:
                env = self.env(cr=cr, su=True)
                env["account.bank.link.secret"].browse(committed.ids)._wipe()
            committed.invalidate_recordset()

    # ------------------------------------------------------------------
    # Accounts at the bank
    # ------------------------------------------------------------------

    def _bank_link_sync_accounts(self, provider=None, tokens=None):
        """Read the accounts the consent covers and keep one record per
        IBAN: new ones are added unlinked (no journal), known ones updated."""
        self.ensure_one()
        provider = provider or self._bank_link_get_provider()
        tokens = tokens or self._bank_link_tokens()
        bank_accounts = provider.list_accounts(tokens)
        existing = {acc.iban: acc for acc in self.account_ids}
        to_create = []
        carries = {
            field: provider.payment_support(order_type).how == bank_provider.SUPPORT_API
            for field, order_type in (
                ("carries_payments", bank_provider.ORDER_CREDIT_TRANSFER),
                ("carries_direct_debits", bank_provider.ORDER_DIRECT_DEBIT),
            )
        }
        for bank_account in bank_accounts:
            eligible, reason = self._bank_link_account_eligibility(bank_account)
            vals = {
                **{field: eligible and offered for field, offered in carries.items()},
                "resource_id": bank_account.resource_id,
                "currency_code": bank_account.currency,
                "holder_name": bank_account.holder_name,
                "product": bank_account.product,
                "eligible": eligible,
                "ineligible_reason": reason and self.env._(reason) or False,
            }
            iban = self.env["account.bank.link.account"]._normalize_iban(
                bank_account.iban
            )
            if iban in existing:
                existing[iban].write(vals)
            else:
                to_create.append({**vals, "link_id": self.id, "iban": iban})
        self.env["account.bank.link.account"].create(to_create)
        return bank_accounts

    # ------------------------------------------------------------------
    # Consent state (OAuth ``state`` handling lives in the controller's
    # helpers on this model so that tests can reach it without HTTP)
    # ------------------------------------------------------------------

    def _bank_link_consent_nonce(self):
        """A fresh single-use nonce, stored hashed with the secrets."""
        self.ensure_one()
        nonce = secrets.token_urlsafe(24)
        self._bank_link_secret()._set_consent_nonce(nonce)
        return nonce

    def _bank_link_pop_consent_nonce(self, nonce):
        """True once for the nonce last issued; it is then gone."""
        self.ensure_one()
        return self._bank_link_secret()._pop_consent_nonce(nonce)

    def _bank_link_make_state(self, user=None, wizard_id=0, invitation=False):
        """A signed OAuth ``state``, bound to user (or to the invitation),
        link and company, valid :data:`STATE_LIFETIME` seconds and once."""
        self.ensure_one()
        payload = {
            "l": self.id,
            "c": self.company_id.id,
            "u": 0 if invitation else (user or self.env.user).id,
            "w": wizard_id or 0,
            "i": 1 if invitation else 0,
            "n": self._bank_link_consent_nonce(),
            "e": int(time.time()) + STATE_LIFETIME,
        }
        body = (
            base64.urlsafe_b64encode(
                json.dumps(payload, separators=(",", ":")).encode()
            )
            .decode()
            .rstrip("=")
        )
        return f"{body}.{self._bank_link_state_signature(body)}"

    @api.model
    def _bank_link_state_signature(self, body):
        return odoo_hmac(self.env(su=True), _STATE_SCOPE, body)

    @api.model
    def _bank_link_verify_state(self, state, user):
        """The link and payload of a valid state; raises ConsentStateError
        with a message for the user otherwise. Consumes the state."""
        body, _dot, signature = (state or "").partition(".")
        if (
            not body
            or not signature
            or not consteq(signature, self._bank_link_state_signature(body))
        ):
            raise ConsentStateError(self.env._("This link to the bank is not valid."))
        try:
            payload = json.loads(
                base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            )
        except ValueError as error:
            raise ConsentStateError(self.env._("This link to the bank is not valid.")) from error
        if payload.get("e", 0) < time.time():
            raise ConsentStateError(
                self.env._("This link to the bank has expired (after 10 minutes). Start again.")
            )
        link = self.sudo().browse(payload.get("l")).exists()
        if not link or link.company_id.id != payload.get("c"):
            raise ConsentStateError(
                self.env._("This link to the bank belongs to another company.")
            )
        if payload.get("i"):
            # Bound to the single-use invitation that issued it, not to a user.
            pass
        elif not user or user.id != payload.get("u"):
            raise ConsentStateError(
                self.env._("This link to the bank was started by another user. Start again.")
            )
        elif link.company_id not in user.company_ids:
            raise ConsentStateError(
                self.env._("This link to the bank belongs to another company.")
            )
        if not link._bank_link_pop_consent_nonce(payload.get("n") or ""):
            raise ConsentStateError(
                self.env._("This link to the bank was used already. Start again.")
            )
        return link, payload

    # ------------------------------------------------------------------
    # Invitation of the legal representative (accounting firms)
    # ------------------------------------------------------------------

    def action_send_invitation(self):
        self.ensure_one()
        if not self.legal_representative_email:
            raise UserError(
                self.env._("Fill in the e-mail address of the legal representative first.")
            )
        token = secrets.token_urlsafe(32)
        expires_at = fields.Datetime.now() + datetime.timedelta(days=INVITATION_DAYS)
        self._bank_link_secret()._set_invitation(token, expires_at)
        self.write(
            {
                "state": "consent_pending"
                if self.state in ("draft", "expired", "revoked", "error")
                else self.state,
                "invitation_expires_at": expires_at,
                "invitation_sent_to": self.legal_representative_email,
            }
        )
        url = f"{self.get_base_url()}/bank_link/invite/{token}"
        template = self.env.ref(
            "l10n_nl_bankkoppeling.mail_template_bank_link_invitation"
        )
        mail_id = template.with_context(invitation_url=url).send_mail(
            self.id, force_send=False, email_layout_xmlid="mail.mail_notification_light"
        )
        # The link is a password for this consent. It goes out in the e-mail
        # (mail.mail's body_html: administrators only, deleted once sent);
        # the mail.message Odoo keeps beside it, which every reader of the
        # bank link can open, must not carry it.
        self.env["mail.mail"].sudo().browse(mail_id).mail_message_id.body = self.env._(
            "Invitation e-mail to %(email)s; the link to the bank is only in the e-mail.",
            email=self.legal_representative_email,
        )
        self._bank_link_post(
            self.env._(
                "Invitation to give consent sent to %(email)s, valid until %(date)s.",
                email=self.legal_representative_email,
                date=self._bank_link_format_datetime(expires_at),
            )
        )
        return True

    def _bank_link_find_invitation(self, token):
        """The link an unused, unexpired invitation token belongs to."""
        secret = self.env["account.bank.link.secret"].sudo()._find_invitation(token)
        return secret.link_id if secret else self.browse()

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_start_consent(self):
        """Send the browser to the controller that redirects to the bank."""
        self.ensure_one()
        if not self.legal_representative_confirmed:
            raise UserError(
                self.env._(
                    "The bank only accepts a consent from the company's legal "
                    "representative. Confirm that this person is the legal "
                    "representative first."
                )
            )
        if self.state in ("draft", "expired", "revoked", "error"):
            self.state = "consent_pending"
        return {
            "type": "ir.actions.act_url",
            "url": "/bank_link/start/%d" % self.id,
            "target": "self",
        }

    def action_fetch(self):
        """Fetch now, with the user present (not counted against the bank's
        daily limit); problems are shown and kept, not raised."""
        self.ensure_one()
        journal = self.account_ids.journal_id[:1]
        accounts = self.account_ids.filtered(
            lambda account: account.active_link and account.link_state in ACTIVE_STATES
        )
        if self.state not in ACTIVE_STATES or not accounts:
            message = (
                accounts[:1]._bank_link_inactive_message()
                if accounts
                else self.env._("No account of this link feeds a journal.")
            )
            return journal._bank_link_notification(message, "danger")
        accounts._bank_link_queue_fetch()
        return journal._bank_link_notification(
            self.env._(
                "Fetching in the background. The journal shows the progress; "
                "you get a message when it is done."
            ),
            "info",
            reload=True,
        )

    def action_revoke(self):
        for link in self:
            try:
                provider = link._bank_link_get_provider()
                tokens = link._bank_link_secret()._get_token_set()
                if tokens:
                    provider.revoke(tokens)
            except bank_provider.BankLinkError as error:
                # Best effort: the consent dies at the bank anyway at its end;
                # what matters is that we forget the tokens now.
                _logger.info("Revoke at bank failed for link %s: %s", link.id, error)
            except UserError as error:
                # An incomplete configuration cannot call the bank; the
                # tokens are forgotten all the same.
                _logger.info("Revoke at bank skipped for link %s: %s", link.id, error.args[0])
        self._bank_link_wipe_secrets()
        self.write({"state": "revoked"})
        for link in self:
            link._bank_link_post(
                self.env._(
                    "The link was ended and its keys were deleted. To fetch "
                    "transactions again, start a new link with 'Renew'."
                )
            )
        return True

    def unlink(self):
        self._bank_link_wipe_secrets()
        return super().unlink()

    # ------------------------------------------------------------------
    # Errors and state
    # ------------------------------------------------------------------

    def _bank_link_handle_error(self, error):
        """Map a provider error to the link state; returns the Dutch
        (translated) message for the user."""
        self.ensure_one()
        if isinstance(error, bank_provider.ConsentRevokedError):
            message = self.env._(
                "The bank reports that the consent was withdrawn. Fetching has "
                "stopped. Renew the link on the journal with 'Renew'."
            )
            state = "revoked"
        elif isinstance(error, bank_provider.ConsentExpiredError):
            message = self.env._(
                "The consent at the bank has ended. Fetching has stopped. Renew "
                "the link on the journal with 'Renew'; the legal representative "
                "logs in at the bank again."
            )
            state = "expired"
        elif isinstance(error, bank_provider.AccessDeniedError):
            message = self.env._(
                "The bank refuses access to this account: the consent does not "
                "cover it (anymore). Renew the link and select the account."
            )
            state = "error"
        elif isinstance(error, bank_provider.RateLimitedError):
            message = self.env._("The bank asks to fetch less often. The next run tries again.")
            state = "error"
        elif isinstance(error, bank_provider.ConfigurationError):
            message = self.env._(
                "The bank link is not configured correctly (certificate, key or "
                "client id). Ask your administrator."
            )
            state = "error"
        elif isinstance(error, bank_provider.BankLinkError) and error.retryable:
            message = self.env._(
                "The bank could not be reached or gave an incomplete answer. "
                "Nothing of this fetch was imported; the next run tries again."
            )
            state = "error"
        else:
            message = self.env._("The bank refused the request.")
            state = "error"
        # The provider's message is English and for the server log; the user
        # reads the framework's words and the bank's own codes.
        _logger.info("Bank link %s (%s): %s", self.id, self.provider, error)
        detail = self._bank_link_error_detail(error)
        full = f"{message} ({detail})" if detail else message
        vals = {"last_error": full, "last_error_at": fields.Datetime.now()}
        if state != "error" or self.state in ACTIVE_STATES:
            vals["state"] = state
        self.sudo().write(vals)
        if state in ("expired", "revoked"):
            self._bank_link_wipe_secrets()
        self._bank_link_post(full)
        return full

    def _bank_link_error_detail(self, error):
        """What the bank said, in the reader's language: its HTTP status,
        its error code and its reference for support."""
        parts = []
        if getattr(error, "http_status", None):
            parts.append(self.env._("HTTP %(status)s", status=error.http_status))
        if getattr(error, "bank_code", None):
            parts.append(self.env._("bank code %(code)s", code=error.bank_code))
        if getattr(error, "reference", None):
            parts.append(self.env._("reference %(reference)s", reference=error.reference))
        return ", ".join(parts)

    def _bank_link_notice_text(self, notice):
        """A provider's :class:`~provider.Notice` in the reader's language."""
        params = dict(getattr(notice, "params", None) or {})
        code = getattr(notice, "code", None)
        if code == bank_provider.NOTICE_HISTORY_LIMIT:
            return self.env._(
                "%(bank)s keeps its history for a limited period (%(period)s): older "
                "transactions cannot be fetched; import them from a bank file.",
                bank=params.get("bank") or self.provider, period=params.get("period") or "-",
            )
        if code == bank_provider.NOTICE_HISTORY_SPENT:
            return self.env._(
                "%(bank)s gives the full history only once after consent; transactions "
                "older than %(days)s days were not fetched again. Import older ones from "
                "a bank file.",
                bank=params.get("bank") or self.provider, days=params.get("days") or "-",
            )
        _logger.info("Bank link %s: notice %s not worded by the framework", self.id, notice)
        return self.env._("The bank sent a remark about this fetch (see the server log).")

    def _bank_link_post(self, body):
        """Log in the link's and the linked journals' chatter."""
        for link in self:
            link.sudo().message_post(body=body)
            journals = link.account_ids.journal_id
            for journal in journals:
                journal.sudo().message_post(body=body)

    def _bank_link_format_datetime(self, moment):
        local = fields.Datetime.context_timestamp(
            self.with_context(tz=self.env.user.tz or bank_provider.BANK_TIMEZONE),
            moment,
        )
        return f"{self._bank_link_format_date(local.date())} {local:%H:%M}"

    # ------------------------------------------------------------------
    # Consent lifecycle (cron)
    # ------------------------------------------------------------------

    @api.model
    def _cron_bank_link_consent_lifecycle(self):
        # Cron: no language in the context; texts of this run (chatter,
        # errors, mails) in the language of the user the cron runs as.
        self = self.with_context(lang=self.env.lang or self.env.user.lang)
        today = fields.Date.context_today(self)
        links = self.search(
            [
                ("state", "in", ("linked", "expiring", "error")),
                ("consent_valid_until", "!=", False),
            ]
        )
        for link in links:
            link._bank_link_consent_step(today)

    def _bank_link_consent_step(self, today):
        self.ensure_one()
        days_left = (self.consent_valid_until - today).days
        if days_left < 0:
            self._bank_link_wipe_secrets()
            self.state = "expired"
            self._bank_link_post(
                self.env._(
                    "The consent at the bank ended on %(date)s. Fetching has "
                    "stopped. Renew the link on the journal with 'Renew'.",
                    date=self._bank_link_format_date(self.consent_valid_until),
                )
            )
            return
        if days_left <= EXPIRING_DAYS and self.state == "linked":
            self.state = "expiring"
            self._bank_link_schedule_renewal_activity()
        due = [d for d in REMINDER_DAYS if days_left <= d]
        if not due:
            return
        threshold = min(due)
        if self.reminder_days_sent and self.reminder_days_sent <= threshold:
            return
        self.reminder_days_sent = threshold
        self._bank_link_send_expiry_reminder(days_left)

    def _bank_link_schedule_renewal_activity(self):
        summary = self.env._("Renew the bank link")
        note = self.env._(
            "The consent at the bank ends on %(date)s. Click 'Renew' on the journal "
            "and let the legal representative log in at the bank.",
            date=self._bank_link_format_date(self.consent_valid_until),
        )
        for journal in self.account_ids.journal_id:
            journal.sudo().activity_schedule(
                "l10n_nl_bankkoppeling.mail_activity_type_bank_link_renew",
                date_deadline=self.consent_valid_until,
                summary=summary,
                note=note,
                user_id=self.create_uid.id or self.env.uid,
            )

    def _bank_link_send_expiry_reminder(self, days_left):
        template = self.env.ref(
            "l10n_nl_bankkoppeling.mail_template_bank_link_expiring"
        )
        if self.legal_representative_email:
            template.with_context(days_left=days_left).send_mail(
                self.id, email_layout_xmlid="mail.mail_notification_light"
            )
        self._bank_link_post(
            self.env._(
                "The consent at the bank ends in %(days)s day(s), on %(date)s. "
                "Reminder sent to %(email)s.",
                days=days_left,
                date=self._bank_link_format_date(self.consent_valid_until),
                email=self.legal_representative_email
                or self.env._("nobody (no e-mail address)"),
            )
        )
