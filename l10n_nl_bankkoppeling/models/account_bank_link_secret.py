# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Tokens and one-time codes of a bank link, apart from the link itself so
that users who read links (accountants) never load a secret: only bank-link
administrators have access rights on this model."""

import datetime
import hashlib
import hmac

from odoo import api, fields, models

from ..tools import provider as bank_provider

ADMIN_GROUP = "l10n_nl_bankkoppeling.group_bank_link_admin"


def _digest(value):
    return hashlib.sha256(value.encode()).hexdigest()


class AccountBankLinkSecret(models.Model):
    _name = "account.bank.link.secret"
    _description = "Bank link secrets (administrators only)"
    _rec_name = "link_id"

    link_id = fields.Many2one(
        "account.bank.link", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="link_id.company_id", store=True)
    access_token = fields.Char(groups=ADMIN_GROUP, copy=False)
    refresh_token = fields.Char(groups=ADMIN_GROUP, copy=False)
    expires_at = fields.Datetime(groups=ADMIN_GROUP, copy=False)
    refresh_expires_at = fields.Datetime(groups=ADMIN_GROUP, copy=False)
    scope = fields.Char(groups=ADMIN_GROUP, copy=False)
    consent_valid_until = fields.Date(groups=ADMIN_GROUP, copy=False)
    #: Bank-specific secrets (certificate references, consent ids...), set by
    #: bank addons through ``_set_bank_data``.
    bank_data = fields.Json(groups=ADMIN_GROUP, copy=False)
    consent_nonce_hash = fields.Char(groups=ADMIN_GROUP, copy=False)
    invitation_token_hash = fields.Char(groups=ADMIN_GROUP, copy=False, index=True)
    invitation_expires_at = fields.Datetime(groups=ADMIN_GROUP, copy=False)

    _sql_constraints = [
        ("link_unique", "unique(link_id)", "A bank link has one set of secrets."),
    ]

    def __repr__(self):  # never show anything but ids
        return f"account.bank.link.secret({self._ids})"

    def _get_token_set(self):
        self.ensure_one()
        secret = self.sudo()
        if not secret.access_token:
            return None
        return bank_provider.TokenSet(
            access_token=secret.access_token,
            refresh_token=secret.refresh_token or None,
            expires_at=secret.expires_at or None,
            refresh_expires_at=secret.refresh_expires_at or None,
            scope=secret.scope or None,
            consent_valid_until=secret.consent_valid_until or None,
        )

    def _store_token_set(self, tokens):
        self.sudo().write(
            {
                "access_token": tokens.access_token,
                "refresh_token": tokens.refresh_token or False,
                "expires_at": _naive_utc(tokens.expires_at),
                "refresh_expires_at": _naive_utc(tokens.refresh_expires_at),
                "scope": tokens.scope or False,
                "consent_valid_until": tokens.consent_valid_until or False,
            }
        )

    def _wipe(self):
        self.sudo().write(
            {
                "access_token": False,
                "refresh_token": False,
                "expires_at": False,
                "refresh_expires_at": False,
                "scope": False,
                "consent_valid_until": False,
                "bank_data": False,
                "consent_nonce_hash": False,
                "invitation_token_hash": False,
                "invitation_expires_at": False,
            }
        )

    def _get_bank_data(self):
        self.ensure_one()
        return dict(self.sudo().bank_data or {})

    def _set_bank_data(self, values):
        self.ensure_one()
        self.sudo().bank_data = {**self._get_bank_data(), **values}

    def _set_consent_nonce(self, nonce):
        self.sudo().consent_nonce_hash = _digest(nonce)

    def _pop_consent_nonce(self, nonce):
        self.ensure_one()
        secret = self.sudo()
        expected = secret.consent_nonce_hash
        if not expected or not hmac.compare_digest(expected, _digest(nonce)):
            return False
        secret.consent_nonce_hash = False
        return True

    def _set_invitation(self, token, expires_at):
        self.sudo().write(
            {
                "invitation_token_hash": _digest(token),
                "invitation_expires_at": expires_at,
            }
        )

    @api.model
    def _find_invitation(self, token):
        """The secret of an unused, unexpired invitation token."""
        if not token:
            return self.browse()
        secret = self.sudo().search(
            [
                ("invitation_token_hash", "=", _digest(token)),
                ("invitation_expires_at", ">", fields.Datetime.now()),
            ],
            limit=1,
        )
        return secret

    def _consume_invitation(self):
        self.sudo().write(
            {"invitation_token_hash": False, "invitation_expires_at": False}
        )


def _naive_utc(moment):
    if not moment:
        return False
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return moment
