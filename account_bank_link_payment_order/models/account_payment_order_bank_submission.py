# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""One sending of a payment or direct-debit order to the bank.

An order may be sent again only after the bank rejected it or nothing
reached the bank: at most one *live* submission per order, guarded by a
partial unique index (two browsers clicking at once cannot both send).
"""

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import consteq, sql
from odoo.tools.misc import hmac as odoo_hmac

from odoo.addons.l10n_nl_bankkoppeling.tools import ibans
from odoo.addons.l10n_nl_bankkoppeling.tools import provider as bank_provider

from ..tools import pain

_logger = logging.getLogger(__name__)

SEND_GROUP = "account_bank_link_payment_order.group_bank_payment_send"
#: A submission in one of these states blocks sending the order again.
LIVE_STATES = ("sending", "received", "accepted", "executed", "unknown")
STATES = [
    ("sending", "Being sent"),
    ("received", "Received by the bank"),
    ("accepted", "Accepted by the bank"),
    ("executed", "Executed"),
    ("rejected", "Rejected by the bank"),
    ("failed", "Not sent"),
    ("unknown", "Outcome unknown"),
]
_STATE_SCOPE = "account_bank_link_payment_order.state"
#: Seconds a state for the bank's consent page is accepted.
CONSENT_STATE_LIFETIME = 600
#: Seconds a state for the return from the approval page is accepted: the
#: user may take a while (a second signer in Mijn ING).
RETURN_STATE_LIFETIME = 3600


class PaymentStateError(Exception):
    """A ``state`` coming back from the bank is not valid for this user."""


def _digest(value):
    return hashlib.sha256(value.encode()).hexdigest()


class AccountPaymentOrderBankSubmission(models.Model):
    _name = "account.payment.order.bank.submission"
    _description = "Payment order sent to the bank"
    _order = "order_id, id desc"
    _check_company_auto = True

    order_id = fields.Many2one(
        "account.payment.order", required=True, ondelete="cascade", index=True,
        readonly=True,
    )
    company_id = fields.Many2one(related="order_id.company_id", store=True, index=True)
    link_account_id = fields.Many2one(
        "account.bank.link.account", readonly=True, ondelete="restrict", required=True,
    )
    provider = fields.Selection(related="link_account_id.provider", store=True)
    order_type = fields.Selection(
        [
            (bank_provider.ORDER_CREDIT_TRANSFER, "Credit transfers"),
            (bank_provider.ORDER_DIRECT_DEBIT, "Direct debits"),
        ],
        required=True, readonly=True,
    )
    state = fields.Selection(STATES, default="sending", required=True, readonly=True)
    idempotency_key = fields.Char(
        required=True, readonly=True, copy=False, default=lambda self: str(uuid.uuid4()),
        help="Sent with the batch; the same key never reaches the bank twice.",
    )
    file_hash = fields.Char(readonly=True, help="SHA-256 of the file sent.")
    content_hash = fields.Char(
        readonly=True, help="Fingerprint of the order's transactions when it was sent.",
    )
    attachment_id = fields.Many2one("ir.attachment", readonly=True, string="File sent")
    message_id = fields.Char("Message id", readonly=True)
    amount_total = fields.Monetary(readonly=True, currency_field="currency_id")
    currency_id = fields.Many2one("res.currency", readonly=True)
    transaction_count = fields.Integer(readonly=True)
    user_id = fields.Many2one("res.users", readonly=True, string="Sent by")
    sent_at = fields.Datetime(readonly=True)
    bank_payment_id = fields.Char("Bank's id", readonly=True)
    iso_status = fields.Char("Bank status", readonly=True)
    bank_status = fields.Char("Bank's own status", readonly=True)
    reason_code = fields.Char("Reason code", readonly=True)
    reason_text = fields.Char("Reason", readonly=True)
    status_at = fields.Datetime("Status checked at", readonly=True)
    approval_url = fields.Char("Approval page", readonly=True)
    has_status = fields.Boolean(readonly=True, help="The bank reports a status for this batch.")
    reference_data = fields.Json(readonly=True, copy=False)
    statement_line_id = fields.Many2one(
        "account.bank.statement.line", readonly=True, string="Bank line",
        help="The bank line of the executed batch, reconciled with the order.",
    )
    consent_nonce_hash = fields.Char(readonly=True, copy=False, groups="base.group_system")
    return_nonce_hash = fields.Char(readonly=True, copy=False, groups="base.group_system")

    _sql_constraints = [
        ("idempotency_key_unique", "unique(idempotency_key)",
         "A batch key is used for one submission only."),
    ]

    def init(self):
        # One live submission per order, whatever the application does.
        name = "account_payment_order_bank_submission_one_live"
        if not sql.index_exists(self.env.cr, name):
            self.env.cr.execute(sql.SQL(
                "CREATE UNIQUE INDEX %s ON %s (order_id) WHERE state IN %s",
                sql.SQL.identifier(name), sql.SQL.identifier(self._table), LIVE_STATES,
            ))

    def __repr__(self):  # never anything that could help replay a state
        return f"{self._name}({self._ids})"

    def _compute_display_name(self):
        labels = dict(self._fields["state"]._description_selection(self.env))
        for submission in self:
            submission.display_name = f"{submission.order_id.name} #{submission.id} " \
                f"({labels.get(submission.state, '')})"

    # ------------------------------------------------------------------
    # Access
    # ------------------------------------------------------------------

    @api.model
    def _check_may_send(self, user=None):
        user = user or self.env.user
        if not user.has_group(SEND_GROUP):
            raise AccessError(
                self.env._("Only members of the group 'Send payments to the bank' can send "
                  "orders to the bank.")
            )

    # ------------------------------------------------------------------
    # Signed, single-use states (consent page, return from approval)
    # ------------------------------------------------------------------

    def _make_state(self, purpose, user):
        self.ensure_one()
        nonce = secrets.token_urlsafe(24)
        field = "consent_nonce_hash" if purpose == "consent" else "return_nonce_hash"
        self.sudo()[field] = _digest(nonce)
        lifetime = CONSENT_STATE_LIFETIME if purpose == "consent" else RETURN_STATE_LIFETIME
        payload = {
            "s": self.id, "c": self.company_id.id, "u": user.id, "p": purpose,
            "n": nonce, "e": int(time.time()) + lifetime,
        }
        body = base64.urlsafe_b64encode(
            json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")
        return f"{body}.{odoo_hmac(self.env(su=True), _STATE_SCOPE, body)}"

    @api.model
    def _verify_state(self, state, purpose, user):
        """The submission of a valid state; consumes it. Raises
        :class:`PaymentStateError` with a message for the user."""
        body, _dot, signature = (state or "").partition(".")
        if not body or not signature or not consteq(
            signature, odoo_hmac(self.env(su=True), _STATE_SCOPE, body)
        ):
            raise PaymentStateError(self.env._("This link from the bank is not valid."))
        try:
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError as error:
            raise PaymentStateError(self.env._("This link from the bank is not valid.")) from error
        if payload.get("p") != purpose:
            raise PaymentStateError(self.env._("This link from the bank is not valid."))
        if payload.get("e", 0) < time.time():
            raise PaymentStateError(
                self.env._("This link from the bank has expired. The status is checked "
                  "automatically; open the order to see it."))
        submission = self.sudo().browse(payload.get("s")).exists()
        if not submission or submission.company_id.id != payload.get("c"):
            raise PaymentStateError(self.env._("This link from the bank belongs to another company."))
        if not user or user.id != payload.get("u") or submission.company_id not in user.company_ids:
            raise PaymentStateError(
                self.env._("This link from the bank was started by another user."))
        field = "consent_nonce_hash" if purpose == "consent" else "return_nonce_hash"
        expected = submission[field]
        if not expected or not hmac.compare_digest(expected, _digest(payload.get("n") or "")):
            raise PaymentStateError(self.env._("This link from the bank was used already."))
        submission[field] = False
        return submission

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------

    def _provider(self):
        return self.link_account_id.link_id.sudo()._bank_link_get_provider()

    def _support(self, provider=None):
        return (provider or self._provider()).payment_support(self.order_type)

    def _batch(self, redirect_uri="", psu_ip=None):
        self.ensure_one()
        xml = base64.b64decode(self.attachment_id.sudo().datas or b"")
        # Compared at every sending, never skipped: the bytes that go out are
        # the ones checked against the order when the submission was made.
        if not self.file_hash or pain.file_hash(xml) != self.file_hash:
            raise UserError(self.env._("The payment file changed after it was made; it is not sent."))
        return pain.read_batch(
            xml, idempotency_key=self.idempotency_key, file_name=self.attachment_id.name,
            redirect_uri=redirect_uri, psu_ip_address=psu_ip,
        )

    def _submit(self, provider, tokens=None, redirect_uri="", psu_ip=None):
        """Send the batch once; the outcome is written on the submission and
        told in the order's chatter. Returns the bank's approval URL or None."""
        self.ensure_one()
        self._check_may_send()
        if self.state != "sending":
            raise UserError(self.env._("This submission was sent already; it is not sent again."))
        self.order_id._bank_check_unchanged(self)
        batch = self._batch(redirect_uri, psu_ip)
        if not ibans.same(batch.account_iban, self.link_account_id.iban):
            raise UserError(self.env._("The file pays from another account than the linked one."))
        now = fields.Datetime.now()
        try:
            result = provider.submit_payment_batch(batch, tokens)
        except bank_provider.DuplicatePaymentError as error:
            self._record_failure("unknown", error, self.env._(
                "The bank says it has this batch already; it was not sent again. "
                "Check the batch in the bank's portal."))
            return None
        except bank_provider.BankLinkError as error:
            if error.retryable:
                # The answer was lost: the batch may be at the bank. Sending
                # again could pay twice; the user checks at the bank first.
                self._record_failure("unknown", error, self.env._(
                    "The bank did not answer; the batch may have arrived. Check the "
                    "bank's portal before sending again."))
            else:
                self._record_failure("failed", error, self.env._(
                    "The bank refused the batch; nothing was sent."))
            return None
        support = self._support(provider)
        self.sudo().write({
            "bank_payment_id": result.bank_payment_id,
            "approval_url": result.approval_url,
            "reference_data": dict(result.reference_data),
            "sent_at": now,
            "has_status": support.has_status,
        })
        self._apply_status(result.status, initial=True)
        return result.approval_url if result.status.phase != bank_provider.PHASE_REJECTED else None

    def _record_failure(self, state, error, message):
        # Users read submissions only: every state change is the code's own.
        self.sudo().write({
            "state": state,
            "reason_code": error.bank_code or False,
            "reason_text": (error.message or "")[:500],
            "status_at": fields.Datetime.now(),
        })
        # The bank's English stays in reason_text and the log; the chatter
        # gets the framework's words and the bank's codes.
        detail = self.link_account_id.link_id._bank_link_error_detail(error)
        self.order_id._bank_post(f"{message} ({detail})" if detail else message)
        _logger.info("Payment order %s: submission %s %s: %s", self.order_id.name, self.id,
                     state, error)

    def _apply_status(self, status, initial=False):
        """Write the bank's status; tell the order's chatter when it changed."""
        self.ensure_one()
        phase = status.phase
        new_state = {
            bank_provider.PHASE_RECEIVED: "received",
            bank_provider.PHASE_ACCEPTED: "accepted",
            bank_provider.PHASE_EXECUTED: "executed",
            bank_provider.PHASE_REJECTED: "rejected",
        }[phase]
        changed = initial or new_state != self.state or status.iso_status != self.iso_status
        self.sudo().write({
            "state": new_state,
            "iso_status": status.iso_status,
            "bank_status": status.bank_status or status.iso_status,
            "reason_code": status.reason_code or False,
            "reason_text": (status.reason_text or "")[:500] or False,
            "status_at": fields.Datetime.now(),
        })
        order = self.order_id
        if new_state in ("accepted", "executed") or (
            new_state == "received" and not self.has_status
        ):
            # The bank holds the batch for good: the payments are posted
            # so that the batch's bank line can be reconciled with them.
            if order.state == "generated":
                order.sudo().generated2uploaded()
        if changed:
            order._bank_post(self._status_message())

    def _status_message(self):
        labels = dict(self._fields["state"]._description_selection(self.env))
        message = self.env._("Bank status of %(order)s: %(state)s (%(code)s).",
                    order=self.order_id.name, state=labels[self.state],
                    code=self.iso_status or "-")
        if self.reason_code or self.reason_text:
            message += " " + self.env._("Reason: %(code)s %(text)s",
                               code=self.reason_code or "", text=self.reason_text or "")
        if self.state == "received" and not self.has_status:
            message += " " + self.env._("Authorise the batch in the bank's portal. This bank reports "
                               "no status: the batch counts as executed when it is on the "
                               "statement.")
        if self.state == "rejected" and self.order_id.state == "uploaded":
            message += " " + self.env._("The payments were posted already: cancel the order's "
                               "payments and make a new order.")
        elif self.state == "rejected":
            message += " " + self.env._("Correct the order if needed and send it again.")
        return message

    def _refresh_status(self):
        """Ask the bank for the status of these submissions; errors are told,
        not raised (the cron goes on with the next one)."""
        for submission in self:
            if not submission.has_status or submission.state not in ("received", "accepted"):
                continue
            try:
                status = submission._provider().payment_batch_status(
                    submission.reference_data or {})
            except (bank_provider.BankLinkError, UserError) as error:
                submission.write({"status_at": fields.Datetime.now()})
                _logger.info("Payment status of %s not available: %s",
                             submission.order_id.name, error)
                continue
            submission._apply_status(status)

    @api.model
    def _cron_refresh_status(self):
        # System work for every company, whoever the cron runs as; texts in
        # the language of the user the cron runs as.
        self = self.with_context(lang=self.env.lang or self.env.user.lang)
        self.sudo().search(
            [("state", "in", ("received", "accepted")), ("has_status", "=", True)]
        )._refresh_status()

    def action_mark_not_sent(self):
        """After checking in the bank's portal that an 'outcome unknown'
        batch is not there: the order may be sent again."""
        self._check_may_send()
        for submission in self.filtered(lambda s: s.state == "unknown"):
            submission.sudo().state = "failed"
            submission.order_id._bank_post(self.env._(
                "%(user)s checked at the bank that the batch is not there; the order "
                "may be sent again.", user=self.env.user.name))
        return True
