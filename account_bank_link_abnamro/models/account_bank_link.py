# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ABN AMRO on the bank link: one consent per IBAN, and ABN AMRO's texts in
the link wizard. The framework builds the provider (registered in
``abnamro_provider``) from the company's bank registration.

An ABN AMRO consent covers exactly one account, so one link holds a consent
per IBAN: their tokens live with the link's other secrets (``bank_data``
of ``account.bank.link.secret``, administrators only), keyed by IBAN. A
fetch of an account uses, and refreshes, the consent of that account only.
"""

import datetime

from markupsafe import Markup, escape
from stdnum import iban as stdnum_iban

from odoo import api, fields, models

from odoo.addons.l10n_nl_bankkoppeling.models.account_bank_link import (
    _SIDE_WRITTEN,
    ACTIVE_STATES,
)
from odoo.addons.l10n_nl_bankkoppeling.tools import provider as bank_provider

from ..tools import abnamro_provider

#: Registered with the framework, which builds it from the bank registration.
PROVIDER = abnamro_provider.AbnAmroProvider
#: Context key naming the IBAN whose consent a call uses.
CONSENT_IBAN = "abnamro_consent_iban"
#: Key in the secret's ``bank_data``: {IBAN: serialised TokenSet}.
CONSENTS_KEY = "abnamro_consents"

def _token_set_to_json(tokens, valid_until):
    def moment(value):
        return value.isoformat() if value else None

    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_at": moment(tokens.expires_at),
        "refresh_expires_at": moment(tokens.refresh_expires_at),
        "scope": tokens.scope,
        "consent_valid_until": moment(valid_until),
    }


def _token_set_from_json(data):
    def moment(value):
        return datetime.datetime.fromisoformat(value) if value else None

    valid_until = data.get("consent_valid_until")
    return bank_provider.TokenSet(
        access_token=data["access_token"],
        refresh_token=data.get("refresh_token"),
        expires_at=moment(data.get("expires_at")),
        refresh_expires_at=moment(data.get("refresh_expires_at")),
        scope=data.get("scope"),
        consent_valid_until=datetime.date.fromisoformat(valid_until) if valid_until else None,
    )


class AccountBankLink(models.Model):
    _inherit = "account.bank.link"

    provider = fields.Selection(selection_add=[(PROVIDER.code, PROVIDER.name)], ondelete={PROVIDER.code: "cascade"})
    abnamro_consent_progress = fields.Html(
        "ABN AMRO consents",
        compute="_compute_abnamro_consent_progress",
        sanitize=False,
        help="ABN AMRO asks a consent per account: which accounts have one.",
    )

    # ------------------------------------------------------------------
    # Texts
    # ------------------------------------------------------------------

    def _bank_link_wizard_texts(self):
        texts = super()._bank_link_wizard_texts()
        if self.provider == "abnamro":
            texts.update(
                consent=self.env._(
                    "The request starts at ABN AMRO: you log in there with the ABN AMRO "
                    "app or e.dentifier and choose ONE account. ABN AMRO asks a consent "
                    "per account. After each one you come back here and continue with "
                    "the next account."
                ),
                eligibility=self.env._(
                    "ABN AMRO business accounts in euros can be linked, one account per "
                    "consent."
                ),
                first_fetch=self.env._(
                    "ABN AMRO delivers transactions once a day; we fetch them once a day. "
                    "The first transactions can take a few days to arrive."
                ),
            )
        return texts

    def _bank_link_account_eligibility(self, bank_account):
        eligible, reason = super()._bank_link_account_eligibility(bank_account)
        if self.provider == "abnamro" and eligible and (bank_account.currency or "EUR") != "EUR":
            return False, self.env._(
                "This is a foreign-currency account (%(currency)s): only euro accounts "
                "can be linked.",
                currency=bank_account.currency,
            )
        return eligible, reason

    # ------------------------------------------------------------------
    # One consent per IBAN
    # ------------------------------------------------------------------

    def _abnamro_consents(self):
        """{IBAN: stored consent (JSON)} of this link."""
        self.ensure_one()
        # A lookup, not _bank_link_secret(): that one creates the row, and
        # this also runs while a form is read (possibly read-only cursor).
        secret = self.env["account.bank.link.secret"].sudo().search(
            [("link_id", "=", self.id)], limit=1
        )
        if not secret:
            return {}
        return dict(secret._get_bank_data().get(CONSENTS_KEY) or {})

    def _abnamro_store_consent(self, iban, tokens, valid_until):
        consents = self._abnamro_consents()
        consents[iban] = _token_set_to_json(tokens, valid_until)
        self._bank_link_secret()._set_bank_data({CONSENTS_KEY: consents})

    def _bank_link_store_consent(self, tokens):
        if self.provider != "abnamro":
            return super()._bank_link_store_consent(tokens)
        self.ensure_one()
        provider = self._bank_link_get_provider()
        accounts = provider.list_accounts(tokens)
        iban = stdnum_iban.compact(accounts[0].iban) if accounts else ""
        if not iban:
            raise bank_provider.ProtocolError("ABN AMRO's consent names no account")
        today = fields.Date.context_today(self)
        valid_until = provider.consent_valid_until(tokens) or (
            today + datetime.timedelta(days=provider.consent_days)
        )
        self._abnamro_store_consent(iban, tokens, valid_until)
        # Renewed: this account fetches again.
        self.account_ids.filtered(
            lambda account: account.iban == iban and account.consent_state
        ).sudo().write({"consent_state": False, "last_notice": False})
        super()._bank_link_store_consent(tokens)
        # The link-wide token set is a copy of this one consent; with
        # refresh tokens that rotate a stale copy is worse than none.
        self._bank_link_secret().sudo().write({"access_token": False, "refresh_token": False})
        self.sudo().consent_valid_until = min(
            datetime.date.fromisoformat(c["consent_valid_until"])
            for c in self._abnamro_consents().values()
            if c.get("consent_valid_until")
        )
        self._bank_link_post(
            self.env._(
                "ABN AMRO gave consent for account %(iban)s, valid until %(date)s.",
                iban=stdnum_iban.format(iban),
                date=self._bank_link_format_date(valid_until),
            )
        )

    def _bank_link_tokens(self):
        if self.provider != "abnamro":
            return super()._bank_link_tokens()
        self.ensure_one()
        consents = self._abnamro_consents()
        iban = self.env.context.get(CONSENT_IBAN)
        if iban:
            if iban not in consents:
                raise bank_provider.AccessDeniedError(
                    "No ABN AMRO consent for account %s yet" % stdnum_iban.format(iban)
                )
            return _token_set_from_json(consents[iban])
        if not consents:
            raise bank_provider.ConsentExpiredError("No tokens stored for this link")
        return _token_set_from_json(next(iter(consents.values())))

    def _bank_link_refresh_tokens(self, provider, tokens):
        """As the framework's, for the consent of one IBAN: ABN AMRO rotates
        the refresh token, so the new one is committed at once."""
        iban = self.env.context.get(CONSENT_IBAN)
        if self.provider != "abnamro" or not iban:
            return super()._bank_link_refresh_tokens(provider, tokens)
        self.ensure_one()
        new_tokens = provider.refresh(tokens)
        valid_until = new_tokens.consent_valid_until or self._abnamro_consents().get(
            iban, {}
        ).get("consent_valid_until")
        if isinstance(valid_until, str):
            valid_until = datetime.date.fromisoformat(valid_until)
        secret_id = self._bank_link_secret().id
        Secret = self.env["account.bank.link.secret"]
        Secret.flush_model()
        with self.env.registry.cursor() as cr:
            link = self.with_env(self.env(cr=cr, su=True))
            link._abnamro_store_consent(iban, new_tokens, valid_until)
        # Later writes of this transaction to the row go through a second
        # cursor too (see the framework's _bank_link_refresh_tokens).
        self.env.cr.precommit.data.setdefault(_SIDE_WRITTEN, set()).add(secret_id)
        Secret.browse(secret_id).invalidate_recordset()
        return new_tokens

    def _bank_link_sync_accounts(self, provider=None, tokens=None):
        if self.provider != "abnamro" or tokens is not None:
            return super()._bank_link_sync_accounts(provider, tokens)
        self.ensure_one()
        provider = provider or self._bank_link_get_provider()
        found = []
        for iban in self._abnamro_consents():
            link = self.with_context(**{CONSENT_IBAN: iban})
            found += super(AccountBankLink, link)._bank_link_sync_accounts(
                provider, link._bank_link_tokens()
            )
        return found

    def _abnamro_wanted_ibans(self, journal=None):
        """The accounts this link needs a consent of: those that have one,
        those feeding a journal (a renewal), the IBAN of ``journal`` (the
        wizard's) and the company's other bank journals with an ABN AMRO
        IBAN that the link does not know yet (a new account; one the user
        stopped linking stays out)."""
        self.ensure_one()
        known = set(self.account_ids.mapped("iban"))
        journals = self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", self.company_id.id)]
        )
        ibans = [stdnum_iban.compact(j.bank_acc_number or "") for j in journals]
        ibans = [iban for iban in ibans if iban[4:8] == "ABNA" and iban not in known]
        if journal:
            ibans.append(stdnum_iban.compact(journal.bank_acc_number or ""))
        ibans += list(self._abnamro_consents())
        ibans += [
            account.iban
            for account in self.account_ids
            if account.journal_id and account.carries_transactions
        ]
        # Shown in the order of the journals, whatever made them wanted.
        order = [stdnum_iban.compact(j.bank_acc_number or "") for j in journals]
        wanted = set(ibans)
        ibans = [iban for iban in order if iban in wanted] + ibans
        return [iban for iban in dict.fromkeys(ibans) if iban[4:8] == "ABNA"]

    def _abnamro_missing_consents(self, journal=None):
        self.ensure_one()
        done = self._abnamro_consents()
        return [iban for iban in self._abnamro_wanted_ibans(journal) if iban not in done]

    @api.model
    def _bank_link_reusable_link(self, provider, company):
        """The company's ABN AMRO link a new wizard continues with: one link
        holds a consent per account, so relinking adds to it instead of
        asking every account's consent again in a second link."""
        if provider != "abnamro":
            return super()._bank_link_reusable_link(provider, company)
        return self.search(
            [
                ("company_id", "=", company.id),
                ("provider", "=", "abnamro"),
                ("state", "in", ("consent_pending", *ACTIVE_STATES, "expired")),
            ],
            order="id desc",
            limit=1,
        ) or self._bank_link_reusable_draft("abnamro", company)

    # ------------------------------------------------------------------
    # One account's consent ends, the others keep fetching
    # ------------------------------------------------------------------

    def _abnamro_forget_consents(self, ibans):
        """Drop the consents of ``ibans``; the consents left. Through a
        second cursor when this transaction committed the row through one
        already (a refresh): it may neither write the row nor trust its
        own, older view of the other accounts' rotated tokens."""
        self.ensure_one()
        secret = self._bank_link_secret()
        if secret.id not in self.env.cr.precommit.data.get(_SIDE_WRITTEN, set()):
            return self._abnamro_drop_consents(ibans)
        self.env["account.bank.link.secret"].flush_model()
        with self.env.registry.cursor() as cr:
            remaining = self.with_env(self.env(cr=cr, su=True))._abnamro_drop_consents(ibans)
        secret.invalidate_recordset()
        return remaining

    def _abnamro_drop_consents(self, ibans):
        consents = {
            iban: consent
            for iban, consent in self._abnamro_consents().items()
            if iban not in ibans
        }
        self._bank_link_secret()._set_bank_data({CONSENTS_KEY: consents})
        return consents

    def _abnamro_end_consents(self, accounts, state, detail=""):
        """ABN AMRO ended the consent of ``accounts`` (expired or revoked):
        they stop, the link's other accounts keep fetching. Returns the
        message, or False when no consent is left: then the link as a
        whole has ended and the framework's handling applies."""
        self.ensure_one()
        remaining = self._abnamro_forget_consents(accounts.mapped("iban"))
        if not remaining:
            return False
        ends = [
            datetime.date.fromisoformat(consent["consent_valid_until"])
            for consent in remaining.values()
            if consent.get("consent_valid_until")
        ]
        self.sudo().consent_valid_until = min(ends) if ends else False
        for account in accounts:
            iban = stdnum_iban.format(account.iban)
            if state == "revoked":
                message = self.env._(
                    "ABN AMRO reports that the consent for account %(iban)s was "
                    "withdrawn. This account stopped fetching; the other accounts of "
                    "the link keep fetching. Renew its consent with 'Renew consent' "
                    "on its journal.",
                    iban=iban,
                )
            else:
                message = self.env._(
                    "The consent at ABN AMRO for account %(iban)s has ended. This "
                    "account stopped fetching; the other accounts of the link keep "
                    "fetching. Renew its consent with 'Renew consent' on its journal.",
                    iban=iban,
                )
            full = f"{message} ({detail})" if detail else message
            account.sudo().write({"consent_state": state, "last_notice": full})
            self.sudo().message_post(body=full)
            journal = account.journal_id.sudo()
            if journal:
                journal.message_post(body=full)
                journal.activity_schedule(
                    "l10n_nl_bankkoppeling.mail_activity_type_bank_link_renew",
                    date_deadline=fields.Date.context_today(self),
                    summary=self.env._("Renew the bank link"),
                    note=self.env._(
                        "ABN AMRO ended the consent for account %(iban)s. Click 'Renew "
                        "consent' on the journal and let the legal representative give "
                        "consent for this account at ABN AMRO.",
                        iban=iban,
                    ),
                    user_id=self.create_uid.id or self.env.uid,
                )
        return (
            accounts.last_notice
            if len(accounts) == 1
            else "\n".join(accounts.mapped("last_notice"))
        )

    def _bank_link_consent_step(self, today):
        """An account whose consent passed its last day stops alone."""
        if self.provider == "abnamro":
            ended = [
                iban
                for iban, consent in self._abnamro_consents().items()
                if consent.get("consent_valid_until")
                and datetime.date.fromisoformat(consent["consent_valid_until"]) < today
            ]
            accounts = self.account_ids.filtered(lambda account: account.iban in ended)
            ended_alone = accounts and self._abnamro_end_consents(accounts, "expired")
            if ended_alone and not self.consent_valid_until:
                return None
        return super()._bank_link_consent_step(today)

    def _bank_link_close_renewal_activities(self):
        if self.provider != "abnamro":
            return super()._bank_link_close_renewal_activities()
        # Only the journals whose account has a consent again.
        journals = self.account_ids.filtered(lambda account: not account.consent_state).journal_id
        if journals:
            journals.sudo().activity_feedback(
                ["l10n_nl_bankkoppeling.mail_activity_type_bank_link_renew"],
                feedback=self.env._("The bank gave consent again."),
            )

    @api.depends("provider", "state", "account_ids")
    def _compute_abnamro_consent_progress(self):
        for link in self:
            if link.provider != "abnamro" or not link.id:
                link.abnamro_consent_progress = False
                continue
            link.abnamro_consent_progress = link._abnamro_consent_progress_html(
                link._abnamro_wanted_ibans()
            )

    def _abnamro_consent_progress_html(self, ibans):
        """A list of ``ibans``: which have a consent, until when."""
        self.ensure_one()
        consents = self._abnamro_consents()
        ended = set(self.account_ids.filtered("consent_state").mapped("iban"))
        rows = []
        for iban in ibans:
            consent = consents.get(iban)
            if consent:
                until = consent.get("consent_valid_until")
                status = self.env._(
                    "consent given, valid until %(date)s",
                    date=self._bank_link_format_date(datetime.date.fromisoformat(until))
                    if until
                    else "-",
                )
                icon = "fa-check text-success"
            elif iban in ended:
                status = self.env._("consent ended, give it again")
                icon = "fa-exclamation-circle text-danger"
            else:
                status = self.env._("no consent yet")
                icon = "fa-circle-o text-warning"
            # An <i/> does not close in HTML: the rest of the row would be
            # inside the icon, in its font and colour.
            rows.append(
                Markup('<li><i class="fa %s me-1" role="img" title="%s"></i>'
                       "<strong>%s</strong>: %s</li>")
                % (icon, status, stdnum_iban.format(iban), status)
            )
        if not rows:
            return escape(self.env._("No ABN AMRO account found yet."))
        return Markup('<ul class="list-unstyled mb-0">%s</ul>') % Markup("").join(rows)
