# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Bank statement lines: the bank link's fields, one identity across the
link and the bank files (tools/statement_identity.py) with the lines that
may be the same transaction twice, and the Dutch automatic reconciliation,
the Odoo side of tools/matching.py.

``action_nl_auto_reconcile()`` loads the candidates of a whole recordset of
bank lines with a few queries, asks the engine for a decision per line,
reconciles the certain ones in one batch (Odoo's ``_reconcile_plan``) and
stores the proposals, which the OCA reconciliation screen then shows.
"""

import json
import logging
import time
from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.models import NewId
from odoo.tools import SQL

from ..tools import matching
from ..tools import statement_identity as si

_logger = logging.getLogger(__name__)

NL_RULES = [
    (matching.RULE_REFERENCE, "Payment reference"),
    (matching.RULE_INVOICE_NUMBER, "Invoice number"),
    (matching.RULE_IBAN, "Counterparty IBAN and amount"),
    (matching.RULE_NAME, "Payer name"),
    (matching.RULE_TEXT, "Booking rule"),
]


def _reason_templates(env):
    """The engine's reason codes in the user's language."""
    return {
        "reference_full": env._("Payment reference %(reference)s of %(invoices)s, amount equal"),
        "reference_discount": env._("Payment reference %(reference)s of %(invoices)s, amount within the early-payment discount"),
        "reference_partial": env._("Payment reference %(reference)s of %(invoices)s, partial payment"),
        "reference_multi": env._("Payment references %(reference)s of %(invoices)s, amounts sum to the payment"),
        "reference_amount_differs": env._("Payment reference %(reference)s of %(invoices)s, but the amount differs"),
        "reference_currency": env._("Payment reference %(reference)s of %(invoices)s, but in another currency"),
        "invoice_full": env._("Invoice number(s) %(invoices)s in the text, amounts sum to the payment"),
        "invoice_discount": env._("Invoice number %(invoices)s in the text, amount within the early-payment discount"),
        "invoice_partial": env._("Invoice number %(invoices)s in the text, partial payment"),
        "invoice_ambiguous": env._("Invoice number %(numbers)s in the text fits several open invoices"),
        "invoice_amount_differs": env._("Invoice number(s) %(invoices)s in the text, but the amounts differ"),
        "invoice_partners_differ": env._("Invoice number(s) %(invoices)s in the text belong to different partners"),
        "invoice_payer_differs": env._("Invoice number(s) %(invoices)s in the text, but the payer's IBAN belongs to another partner"),
        "invoice_currency": env._("Invoice number(s) %(invoices)s in the text, but in another currency"),
        "invoice_payer_unconfirmed": env._("Invoice number(s) %(invoices)s in the text, but the payer is not known as the partner"),
        "invoice_partial_unconfirmed": env._(
            "Invoice number %(invoices)s in the text, partial payment not confirmed by the payer and "
            "the text"),
        "invoice_other_context": env._(
            "Invoice number(s) %(invoices)s in the text, but written as another kind of number "
            "(dossier, policy, order, kenmerk)"),
        "invoice_sum_others": env._(
            "Invoice number(s) %(invoices)s in the text; the payment equals them with other open items "
            "of the partner"),
        "reference_partial_unconfirmed": env._(
            "Payment reference %(reference)s of %(invoices)s, partial payment from a payer not known "
            "as the partner"),
        "iban_single": env._("Counterparty IBAN %(iban)s is known for %(partner)s, whose only open item of this amount is %(invoices)s"),
        "iban_several": env._("Counterparty IBAN %(iban)s is known, several open items of this amount"),
        "iban_sum": env._("Counterparty IBAN %(iban)s is known, the payment equals the sum of open items %(invoices)s"),
        "iban_parent": env._("Counterparty IBAN %(iban)s is known for a parent company of the partner of %(invoices)s"),
        "name_match": env._("Payer name %(name)s matches a partner (IBAN not known)"),
        "text_rule": env._("Booking rule %(rule_name)s"),
        "text_rule_unconfirmed": env._("Learned booking rule %(rule_name)s (not confirmed yet)"),
        "text_rules_conflict": env._("Several booking rules match"),
        "conflict": env._("The line fits several answers: %(detail)s"),
        "foreign_currency": env._("The payment is in a foreign currency: not reconciled automatically"),
        "learned_offer": env._("Booked by hand; booking rule %(rule)s offered (chosen %(count)s times)"),
    }


def _reason_args_json(args):
    """A decision's ``reason_args`` (pairs, a conflict's ``parts`` nested)
    as stored in JSON."""
    args = dict(args)
    if "parts" in args:
        args["parts"] = [[code, _reason_args_json(part_args)] for code, part_args in args["parts"]]
    return args

IMPORT_SOURCES = [
    (si.SOURCE_LINK, "Bank link"),
    (si.SOURCE_CAMT, "camt.053 file"),
    (si.SOURCE_MT940, "MT940 file"),
]


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    nl_reconcile_state = fields.Selection(
        [
            ("auto", "Reconciled automatically"),
            ("proposed", "Proposal"),
            ("none", "No match"),
            ("undone", "Automatic reconciliation undone"),
            ("learned", "Booking rule offered"),
        ],
        string="Automatic matching",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    nl_reconcile_rule = fields.Selection(NL_RULES, string="Matched by", readonly=True, copy=False)
    # The reason is stored as the rule's code with its parameters and put in
    # words for whoever reads it, in their language (a night run as another
    # user would store English text for a Dutch reader).
    nl_reconcile_reason_code = fields.Char("Reason code", readonly=True, copy=False)
    nl_reconcile_reason_args = fields.Json("Reason parameters", readonly=True, copy=False)
    nl_reconcile_reason_text = fields.Char(
        "Reason (text)", readonly=True, copy=False,
        help="A reason written as text by other code, shown when there is no reason code.")
    nl_reconcile_reason = fields.Char(
        "Why", compute="_compute_nl_reconcile_reason", inverse="_inverse_nl_reconcile_reason",
        readonly=True)
    nl_reconcile_rule_id = fields.Many2one(
        "account.nl.reconcile.rule", string="Booking rule", readonly=True, copy=False,
        ondelete="set null",
    )
    nl_reconcile_model_id = fields.Many2one(
        "account.reconcile.model", string="Reconciliation model", readonly=True, copy=False,
        ondelete="set null",
    )
    nl_proposal_line_ids = fields.Many2many(
        "account.move.line", "account_bank_statement_line_nl_proposal_rel", "statement_line_id",
        "move_line_id", string="Proposed items", readonly=True, copy=False,
    )
    nl_rule_offer_id = fields.Many2one(
        "account.nl.reconcile.rule", string="Booking rule offered", readonly=True, copy=False,
        ondelete="set null",
        help="Booked by hand on an account: the reconciliation screen offers to save it as a rule.",
    )
    nl_rule_offer_text = fields.Char("Rule offer", compute="_compute_nl_rule_offer_text")
    nl_iban_to_confirm = fields.Char(
        "New IBAN of the partner", readonly=True, copy=False,
        help="The partner paid from an account not known yet: confirm to add it to the partner.",
    )

    @api.depends("nl_reconcile_reason_code", "nl_reconcile_reason_args", "nl_reconcile_reason_text")
    @api.depends_context("lang")
    def _compute_nl_reconcile_reason(self):
        templates = _reason_templates(self.env)
        for line in self:
            if line.nl_reconcile_reason_code in templates:
                line.nl_reconcile_reason = line._nl_render_reason(
                    line.nl_reconcile_reason_code, line.nl_reconcile_reason_args or {}, templates)
            else:
                line.nl_reconcile_reason = line.nl_reconcile_reason_text or False

    def _inverse_nl_reconcile_reason(self):
        for line in self:
            line.write({"nl_reconcile_reason_text": line.nl_reconcile_reason,
                        "nl_reconcile_reason_code": False, "nl_reconcile_reason_args": False})

    def _nl_render_reason(self, code, args, templates):
        args = dict(args)
        if "parts" in args:
            args["detail"] = "; ".join(
                self._nl_render_reason(part_code, part_args, templates)
                for part_code, part_args in args.pop("parts") if part_code in templates)
        if code == "iban_single" and str(args.get("partner", "")).isdigit():
            args["partner"] = self.env["res.partner"].browse(int(args["partner"])).display_name
        try:
            return templates[code] % args
        except (KeyError, TypeError, ValueError):  # a translation naming other parameters
            return _reason_templates(self.with_context(lang="en_US").env)[code] % args

    @api.depends("nl_rule_offer_id")
    def _compute_nl_rule_offer_text(self):
        for line in self:
            rule = line.nl_rule_offer_id
            if not rule:
                line.nl_rule_offer_text = False
                continue
            counterparty = " / ".join(part for part in (
                line.partner_name or rule.partner_id.name or rule.counterparty_iban, rule.text_pattern,
            ) if part)
            line.nl_rule_offer_text = self.env._(
                "Save as rule for %(counterparty)s? Such lines are then booked on %(account)s "
                "automatically (chosen %(count)s times so far).",
                counterparty=counterparty, account=rule.account_id.display_name, count=rule.times_seen)

    # ------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------

    def action_nl_auto_reconcile(self):
        """Match these bank lines (any origin: bank link, camt.053 import,
        typed by hand) and reconcile the certain ones; the others get a
        proposal. Safe to call again: reconciled lines are skipped, and a
        line whose automatic reconciliation was undone is only proposed.

        :return: ``{'auto': n, 'proposed': n, 'none': n, 'decision_seconds': s,
            'write_seconds': s}``
        """
        lines = self.filtered(lambda line: not line.is_reconciled and line.move_id.state == "posted")
        stats = {"auto": 0, "proposed": 0, "none": 0, "decision_seconds": 0.0, "write_seconds": 0.0}
        if not lines:
            return stats
        started = time.perf_counter()
        kind_modes, model_ids = self.env["account.reconcile.model"]._nl_kind_modes(lines.company_id)
        decisions = lines._nl_decide(kind_modes)
        stats["decision_seconds"] = time.perf_counter() - started
        lines = lines.with_context(nl_reconcile_model_ids=model_ids)
        if self.env["account.analytic.distribution.model"]._nl_none_for(lines.company_id):
            lines = lines.with_context(nl_no_distribution_model=True)
        started = time.perf_counter()
        auto, other = [], []
        for line, decision in zip(lines, decisions, strict=False):
            if decision.status == matching.AUTO and line.nl_reconcile_state != "undone":
                auto.append((line, decision))
            else:
                other.append((line, decision))
        done = lines._nl_reconcile_batch(auto)
        # A line the batch refused (e.g. no early-payment discount account) is left as a proposal.
        other += [(line, decision) for line, decision in auto if line not in done]
        lines._nl_store_proposals(other)
        stats["write_seconds"] = time.perf_counter() - started
        stats["auto"] = len(done)
        stats["proposed"] = sum(1 for _line, d in other if d.status != matching.NOTHING)
        stats["none"] = len(lines) - stats["auto"] - stats["proposed"]
        return stats

    def action_nl_auto_reconcile_button(self):
        stats = self.action_nl_auto_reconcile()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Automatic reconciliation"),
                "message": self.env._(
                    "%(auto)s lines reconciled, %(proposed)s with a proposal, %(none)s without a match.",
                    auto=stats["auto"], proposed=stats["proposed"], none=stats["none"],
                ),
                "type": "success",
                "sticky": False,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_nl_confirm_iban(self):
        """Add the IBAN the partner paid from to the partner's bank accounts."""
        for line in self.filtered("nl_iban_to_confirm"):
            if not line.partner_id:
                raise UserError(self.env._("Set a partner on the bank line first."))
            line._find_or_create_bank_account()
            line.nl_iban_to_confirm = False

    def action_nl_dismiss_iban(self):
        self.nl_iban_to_confirm = False

    def action_nl_rule_offer_accept(self):
        """The user takes the offered rule: it is confirmed, so it books
        such lines automatically from now on."""
        self.nl_rule_offer_id.action_confirm()
        self.nl_rule_offer_id = False

    def action_nl_rule_offer_dismiss(self):
        """Not now: the rule stays unconfirmed (proposed once chosen twice)."""
        self.nl_rule_offer_id = False

    # ------------------------------------------------------------------
    # Decisions
    # ------------------------------------------------------------------

    def _nl_decide(self, kind_modes=None):
        """One decision per line; ``kind_modes`` as read by
        ``account.reconcile.model._nl_kind_modes`` (read here if not given)."""
        if kind_modes is None:
            kind_modes = self.env["account.reconcile.model"]._nl_kind_modes(self.company_id)[0]
        matcher = self._nl_build_matcher(kind_modes)
        return matcher.decide_all([line._nl_engine_line() for line in self])

    def _nl_model_id(self, decision):
        """The reconciliation model behind ``decision`` (rules 1-4)."""
        model_ids = self.env.context.get("nl_reconcile_model_ids") or {}
        return model_ids.get((self.company_id.id, decision.rule), False)

    def _nl_line_currency(self):
        return self.journal_id.currency_id or self.company_id.currency_id

    def _nl_engine_line(self):
        currency = self._nl_line_currency()
        foreign = None
        if self.foreign_currency_id and self.foreign_currency_id != currency:
            foreign = self.foreign_currency_id.name
        elif currency != self.company_id.currency_id:
            # Reconciling in a currency other than the company's needs rates: by hand.
            foreign = currency.name
        structured = self.nl_structured_reference or self.ref or None
        text = "\n".join(part for part in (self.payment_ref, self.ref, self.narration and str(self.narration)) if part and part != "/")
        return matching.BankLine(
            id=self.id,
            company_id=self.company_id.id,
            amount=_to_minor(self.amount, currency),
            currency=currency.name,
            text=text,
            structured_reference=structured,
            counterparty_iban=self.account_number or self.partner_bank_id.acc_number or None,
            counterparty_name=self.partner_name or None,
            date=self.date,
            foreign_currency=foreign,
            journal_id=self.journal_id.id,
            partner_id=self.partner_id.commercial_partner_id.id or None,
        )

    def _nl_build_matcher(self, kind_modes=None):
        companies = self.company_id
        items = self._nl_load_open_items(companies)
        ibans = {matching.normalize_iban(line.account_number) for line in self if line.account_number}
        ibans.discard(None)
        accounts = self._nl_load_partner_accounts(ibans)
        # Parent companies too: a holding paying under its own name confirms the payer.
        partner_ids = {member for item in items for member in item.partner_family | {item.partner_id} if member}
        names = [
            matching.PartnerName(partner.id, partner.name, partner.company_id.id or None)
            for partner in self.env["res.partner"].browse(partner_ids).with_context(prefetch_fields=False)
        ] if partner_ids else []
        rules = self.env["account.nl.reconcile.rule"].search([("company_id", "in", companies.ids)])
        return matching.Matcher(items, accounts, names, rules._nl_as_engine_rules(),
                                kind_modes=kind_modes)

    def _nl_load_open_items(self, companies):
        """Every open receivable/payable item of ``companies``, in one query."""
        self.env["account.move.line"].flush_model()
        self.env["account.move"].flush_model()
        self.env.cr.execute(SQL(
            """
            SELECT aml.id, aml.company_id, aml.amount_residual_currency, aml.amount_currency,
                   cur.name, cur.decimal_places, partner.commercial_partner_id,
                   move.payment_reference, move.ref, move.name, move.move_type,
                   aml.discount_amount_currency, aml.discount_date
              FROM account_move_line aml
              JOIN account_move move ON move.id = aml.move_id
              JOIN account_account account ON account.id = aml.account_id
              JOIN res_currency cur ON cur.id = aml.currency_id
         LEFT JOIN res_partner partner ON partner.id = aml.partner_id
             WHERE aml.company_id IN %s
               AND aml.parent_state = 'posted'
               AND NOT aml.reconciled
               AND account.account_type IN ('asset_receivable', 'liability_payable')
               AND aml.amount_residual_currency != 0
               AND move.statement_line_id IS NULL
               AND move.origin_payment_id IS NULL
            """,
            tuple(companies.ids),
        ))
        rows = self.env.cr.fetchall()
        families = self._nl_partner_families({row[6] for row in rows if row[6]})
        items = []
        for (aml_id, company_id, residual, amount_currency, currency, digits, partner_id,
             payment_reference, ref, name, move_type, discount_amount, discount_date) in rows:
            reference = payment_reference
            if not reference and move_type in ("in_invoice", "in_refund"):
                reference = ref  # a vendor's betalingskenmerk is often typed as the bill reference
            open_amount = round(residual * 10**digits)
            discount = None
            if discount_amount and discount_date and residual == amount_currency:
                discount = round(discount_amount * 10**digits)
            items.append(matching.OpenItem(
                id=aml_id,
                company_id=company_id,
                open_amount=open_amount,
                currency=currency,
                partner_id=partner_id,
                partner_family=families.get(partner_id, frozenset({partner_id} if partner_id else ())),
                payment_reference=reference,
                name=name,
                discount_amount=discount,
                discount_date=discount_date,
            ))
        return items

    def _nl_partner_families(self, partner_ids):
        """Each commercial partner with its parent companies, who may pay
        on its behalf."""
        if not partner_ids:
            return {}
        parents = {}
        todo = set(partner_ids)
        for _depth in range(5):  # holdings are rarely deeper than this
            if not todo:
                break
            self.env.cr.execute(
                "SELECT id, parent_id FROM res_partner WHERE id IN %s", [tuple(todo)])
            found = dict(self.env.cr.fetchall())
            parents.update(found)
            todo = {parent for parent in found.values() if parent and parent not in parents}
        families = {}
        for partner_id in partner_ids:
            family, current = [partner_id], parents.get(partner_id)
            while current and current not in family:
                family.append(current)
                current = parents.get(current)
            families[partner_id] = frozenset(family)
        return families

    def _nl_load_partner_accounts(self, ibans):
        if not ibans:
            return []
        self.env["res.partner.bank"].flush_model()
        self.env.cr.execute(
            """
            SELECT bank.sanitized_acc_number, partner.commercial_partner_id, bank.company_id
              FROM res_partner_bank bank
              JOIN res_partner partner ON partner.id = bank.partner_id
             WHERE bank.sanitized_acc_number IN %s AND bank.active
            """,
            [tuple(ibans)],
        )
        return [
            matching.PartnerAccount(iban, partner_id, company_id)
            for iban, partner_id, company_id in self.env.cr.fetchall()
        ]

    # ------------------------------------------------------------------
    # Writes
    # ------------------------------------------------------------------

    @staticmethod
    def _nl_reason_values(decision):
        """The reason of ``decision`` as stored: its code and parameters."""
        return {
            "nl_reconcile_reason_code": decision.reason_code or False,
            "nl_reconcile_reason_args": _reason_args_json(decision.reason_args) if decision.reason_code else False,
            "nl_reconcile_reason_text": False,
        }

    def _nl_reconcile_batch(self, auto):
        """Reconcile ``[(line, decision)]`` in one go: the suspense lines
        become the counterparts where one invoice settles the line (one
        write per account), else are replaced by counterparts
        (one delete and one create for all moves), and the
        counterparts reconciled with the invoices in one reconciliation
        plan. Returns the lines reconciled."""
        if not auto:
            return self.browse()
        aml_model = self.env["account.move.line"]
        rules = self.env["account.nl.reconcile.rule"].browse(
            {d.text_rule_id for _line, d in auto if d.text_rule_id})
        items = aml_model.browse({a.item_id for _line, d in auto for a in d.allocations})
        items.fetch(["account_id", "partner_id", "move_id", "currency_id", "name"])
        items.move_id.fetch(["name"])
        # The payer is the invoice's partner: set it first (grouped), so the
        # counterparts and the move carry it.
        by_partner = defaultdict(list)
        for line, decision in auto:
            partner_id = decision.partner_id or (
                rules.browse(decision.text_rule_id).partner_id.id if decision.text_rule_id else None)
            if partner_id and line.partner_id.commercial_partner_id.id != partner_id:
                by_partner[partner_id].append(line.id)
        self._nl_set_partners(by_partner)

        vals_list, pairs, done = [], [], self.browse()
        # Paid whole by one invoice (full or partial, no discount): the
        # suspense line becomes the counterpart in place, one write per
        # account, instead of a delete and a create per line
        # (creating journal items is most of the ORM's cost here).
        in_place = defaultdict(list)  # (account, partner) -> [(suspense item, invoice item, label)]
        for line, decision in auto:
            if line._nl_counterpart_in_place(decision, items, in_place):
                done |= line
                continue
            try:
                line_vals = (
                    line._nl_rule_counterpart_vals(rules.browse(decision.text_rule_id))
                    if decision.text_rule_id and not decision.allocations
                    else line._nl_invoice_counterpart_vals(decision, items)
                )
            except UserError as error:
                _logger.info("Bank line %s not reconciled automatically: %s", line.id, error)
                continue
            for vals, item in line_vals:
                if item:
                    pairs.append((len(vals_list), item))
                vals_list.append(vals)
            done |= line
        if not done:
            return done
        rewritten = aml_model.browse([suspense.id for group in in_place.values() for suspense, _i, _l in group])
        replaced = done.filtered(lambda line: line.move_id not in rewritten.move_id)
        moves = replaced.move_id
        suspense = aml_model.browse()
        for line in replaced:
            suspense |= line._seek_for_lines()[1]
        self._nl_write_in_place(in_place, rewritten)
        counterparts = aml_model.browse()
        if moves:
            container = {"records": moves, "self": moves}
            # These are posted entries without taxes on the suspense line: Odoo's
            # dynamic-line synchronisation (taxes, payment terms, balancing lines
            # of drafts) has nothing to do on them, and run after the delete it
            # would read every move again one by one (the delete empties the cache).
            with moves._check_balanced(container):
                suspense.with_context(
                    force_delete=True, skip_account_move_synchronization=True, skip_readonly_check=True,
                    skip_invoice_sync=True,
                ).unlink()
                counterparts = aml_model.with_context(
                    check_move_validity=False, skip_account_move_synchronization=True,
                    skip_invoice_sync=True, skip_sync_invoice=True,
                ).create(vals_list)
        # One prefetch set for the whole plan: the reconciliation reads each
        # pair's fields, which would otherwise be one query per pair.
        to_reconcile = counterparts | rewritten | items
        plan = [(counterparts[index] | item).with_prefetch(to_reconcile._prefetch_ids) for index, item in pairs]
        plan += [(suspense_item | item).with_prefetch(to_reconcile._prefetch_ids)
                 for group in in_place.values() for suspense_item, item, _label in group]
        if plan:
            to_reconcile.move_id.line_ids.fetch(["tax_ids"])  # read for all moves at once
            # Reconciling changes the items' residuals only: no invoice's payment
            # terms, taxes or discount lines follow from it, so Odoo's
            # dynamic-line sync (which computes every invoice's terms before
            # and after) is skipped, as Odoo's own cash-basis entries do.
            aml_model.with_context(skip_invoice_sync=True)._reconcile_plan(plan)

        known_ibans = done._nl_known_ibans()
        rows = []
        for line, decision in auto:
            if line not in done:
                continue
            reason = line._nl_reason_values(decision)
            rows.append(SQL(
                "(%s, %s, %s, %s, %s, %s, %s)", line.id, decision.rule or None,
                reason["nl_reconcile_reason_code"] or None,
                json.dumps(reason["nl_reconcile_reason_args"]) if reason["nl_reconcile_reason_args"] else None,
                decision.text_rule_id or None, line._nl_model_id(decision) or None,
                line._nl_new_iban(decision, known_ibans) or None,
            ))
        # What every reconciled line gets alike: one write.
        done.write({
            "nl_reconcile_state": "auto",
            "nl_proposal_line_ids": [Command.clear()],
            "reconcile_mode": "edit",
            "reconcile_data": False,
        })
        done.flush_recordset()
        # What differs per line (the reason's parameters name its invoices)
        # in one UPDATE instead of one write per line: these are this addon's
        # own columns, nothing stored is computed from them.
        self.env.cr.execute(SQL(
            """
            UPDATE account_bank_statement_line line
               SET nl_reconcile_rule = v.rule,
                   nl_reconcile_reason_code = v.code,
                   nl_reconcile_reason_args = v.args::jsonb,
                   nl_reconcile_reason_text = NULL,
                   nl_reconcile_rule_id = v.rule_id::integer,
                   nl_reconcile_model_id = v.model_id::integer,
                   nl_iban_to_confirm = v.iban
              FROM (VALUES %s) AS v(id, rule, code, args, rule_id, model_id, iban)
             WHERE line.id = v.id
            """,
            SQL(", ").join(rows),
        ))
        done.invalidate_recordset([
            "nl_reconcile_rule", "nl_reconcile_reason_code", "nl_reconcile_reason_args",
            "nl_reconcile_reason_text", "nl_reconcile_reason", "nl_reconcile_rule_id",
            "nl_reconcile_model_id", "nl_iban_to_confirm",
        ])
        for rule in rules:
            rule.times_applied += sum(1 for line, d in auto if line in done and d.text_rule_id == rule.id)
        return done

    def _nl_set_partners(self, line_ids_by_partner):
        """Set the partner on lines and their journal items, one write per
        partner. Odoo's (and OCA's) per-line synchronisation would also
        recompute the OCA screen's data (running its matcher) per line."""
        if not line_ids_by_partner:
            return
        # What the writes read and check (the moves' items, their partials
        # and analytic lines), read for all lines at once, not per partner.
        everything = self.browse([line_id for line_ids in line_ids_by_partner.values() for line_id in line_ids])
        all_items = everything.move_id.line_ids
        all_items.mapped("partner_id")
        all_items.fetch(["matched_debit_ids", "matched_credit_ids", "analytic_line_ids"])
        for partner_id, line_ids in line_ids_by_partner.items():
            lines = self.browse(line_ids).with_prefetch(everything._prefetch_ids).with_context(
                skip_account_move_synchronization=True, skip_readonly_check=True,
                skip_invoice_sync=True)
            lines.write({"partner_id": partner_id})
            items = lines.move_id.line_ids.filtered(
                lambda aml, partner_id=partner_id: aml.partner_id.id != partner_id and not aml.reconciled)
            items.with_context(
                skip_account_move_synchronization=True, check_move_validity=False,
                skip_readonly_check=True, skip_invoice_sync=True,
            ).write({"partner_id": partner_id})

    def _nl_known_ibans(self):
        """``{(IBAN, commercial partner)}`` of the bank accounts known for
        these lines' counterparty IBANs, in one query."""
        ibans = {matching.normalize_iban(line.account_number) for line in self if line.account_number}
        ibans.discard(None)
        return {(account.iban, account.partner_id) for account in self._nl_load_partner_accounts(ibans)}

    def _nl_new_iban(self, decision, known_ibans=None):
        """The payer's IBAN when an invoice match shows it belongs to the
        partner but is not known yet: the user confirms before it is added."""
        iban = matching.normalize_iban(self.account_number)
        if not iban or decision.rule not in (matching.RULE_REFERENCE, matching.RULE_INVOICE_NUMBER):
            return False
        if not self.partner_id:
            return False
        if known_ibans is None:
            known_ibans = self._nl_known_ibans()
        return False if (iban, self.partner_id.commercial_partner_id.id) in known_ibans else iban

    def _nl_write_in_place(self, in_place, rewritten):
        """Make the noted suspense items the counterparts of their invoice
        items: one write per account, the partner only where it differs."""
        aml_model = self.env["account.move.line"]
        sync_free = {
            "check_move_validity": False, "skip_account_move_synchronization": True,
            "skip_invoice_sync": True, "skip_sync_invoice": True, "skip_readonly_check": True,
        }
        # The partner is mostly set already (the payer's, on all the move's
        # items): written only where the invoice's differs, grouped.
        by_partner = defaultdict(list)
        for (_account_id, partner_id), group in in_place.items():
            for suspense_item, _item, _label in group:
                if suspense_item.partner_id.id != partner_id:
                    by_partner[partner_id].append(suspense_item.id)
        for partner_id, ids in by_partner.items():
            aml_model.browse(ids).with_prefetch(rewritten._prefetch_ids).with_context(**sync_free).write(
                {"partner_id": partner_id})
        by_account = defaultdict(list)
        for (account_id, _partner_id), group in in_place.items():
            by_account[account_id].extend(suspense_item.id for suspense_item, _i, _l in group)
        for account_id, ids in by_account.items():
            aml_model.browse(ids).with_prefetch(rewritten._prefetch_ids).with_context(**sync_free).write(
                {"account_id": account_id})
        if rewritten:
            # The counterpart's label names the invoice, as a created one does:
            # one UPDATE (a label is nothing stored is computed from).
            rewritten.flush_recordset()
            self.env.cr.execute(SQL(
                "UPDATE account_move_line aml SET name = v.name FROM (VALUES %s) AS v(id, name) WHERE aml.id = v.id",
                SQL(", ").join(SQL("(%s, %s)", suspense_item.id, label)
                               for group in in_place.values() for suspense_item, _i, label in group),
            ))
            rewritten.invalidate_recordset(["name"])

    def _nl_counterpart_in_place(self, decision, items, in_place):
        """When ``decision`` settles this line with one invoice item for the
        line's whole amount (no discount, same currency), note its suspense
        item to become the counterpart in ``in_place`` and return True."""
        if decision.text_rule_id or len(decision.allocations) != 1 or decision.allocations[0].discount:
            return False
        allocation = decision.allocations[0]
        item = items.browse(allocation.item_id).with_prefetch(items._prefetch_ids)
        currency = self._nl_line_currency()
        _liquidity, suspense, other = self._seek_for_lines()
        if (len(suspense) != 1 or other or item.currency_id != currency or suspense.currency_id != currency
                or suspense.tax_ids or suspense.reconciled):
            return False
        settled = _from_minor(allocation.amount, currency)
        if currency.compare_amounts(suspense.amount_currency, -settled) or currency.compare_amounts(
                suspense.balance, -settled):
            return False
        in_place[(item.account_id.id, item.partner_id.id or False)].append(
            (suspense, item, item.move_id.name or self.payment_ref))
        return True

    def _nl_invoice_counterpart_vals(self, decision, items):
        """``[(vals, invoice item or None)]`` for the counterparts of an
        invoice match (and an early-payment discount write-off)."""
        currency = self._nl_line_currency()
        result = []
        for allocation in decision.allocations:
            item = items.browse(allocation.item_id).with_prefetch(items._prefetch_ids)
            if item.currency_id != currency:
                raise UserError(self.env._("The invoice is in another currency."))
            settled = _from_minor(allocation.amount + allocation.discount, currency)
            result.append(({
                "move_id": self.move_id.id,
                "account_id": item.account_id.id,
                "partner_id": item.partner_id.id,
                "name": item.move_id.name or self.payment_ref,
                "balance": -settled,
                "amount_currency": -settled,
                "currency_id": currency.id,
            }, item))
            if allocation.discount:
                result += self._nl_early_payment_discount_vals(item, allocation, currency)
        return result

    def _nl_early_payment_discount_vals(self, item, allocation, currency):
        """The discount and tax-correction lines of an early payment, as
        Odoo's payment wizard makes them (the discount lowers the base and
        the VAT in the invoice's proportions when the payment term says so)."""
        invoice = item.move_id
        if not invoice._is_eligible_for_early_payment_discount(currency, self.date):
            raise UserError(self.env._("The early-payment discount of %(invoice)s does not apply any more.",
                              invoice=invoice.name))
        discount = _from_minor(allocation.discount, currency)
        epd = self.env["account.move"]._get_invoice_counterpart_amls_for_early_payment_discount(
            [{"aml": item, "amount_currency": -item.amount_residual_currency,
              "balance": -item.amount_residual}],
            discount,  # signed as the bank line: what the discount lines must sum to
        )
        result = []
        for vals_list in epd.values():
            for vals in vals_list:
                if not vals.get("account_id"):
                    raise UserError(self.env._("No account for early-payment discounts is set."))
                result.append(({
                    **vals,
                    "move_id": self.move_id.id,
                    "name": vals.get("name") or self.env._("Early payment discount %(invoice)s", invoice=invoice.name),
                }, None))
        if currency.compare_amounts(sum(vals["amount_currency"] for vals, _item in result), discount) != 0:
            raise UserError(self.env._("The early-payment discount of %(invoice)s does not add up.",
                              invoice=invoice.name))
        return result

    def _nl_rule_counterpart_vals(self, rule):
        """``[(vals, None)]`` booking the line with a booking rule; taxes
        (included in the amount) are computed by the reconcile model's own
        write-off code."""
        model = self._nl_writeoff_model(rule)
        partner = rule.partner_id or self.partner_id
        result = []
        for vals in model._get_write_off_move_lines_dict(-self.amount, partner.id, label=self.payment_ref):
            values = {
                "move_id": self.move_id.id,
                "account_id": vals["account_id"],
                "partner_id": vals.get("partner_id") or partner.id,
                "name": vals.get("name") or rule.label or self.payment_ref,
                "balance": vals["balance"],
                "amount_currency": vals["balance"],
                "currency_id": self._nl_line_currency().id,
                "analytic_distribution": vals.get("analytic_distribution"),
                "tax_ids": vals.get("tax_ids") or [],
            }
            for key in ("tax_repartition_line_id", "tax_tag_ids", "group_tax_id"):
                if vals.get(key):
                    values[key] = vals[key]
            result.append((values, None))
        return result

    def _nl_writeoff_model(self, rule):
        """An unsaved reconcile model doing what ``rule`` books."""
        return self.env["account.reconcile.model"].new({
            "name": rule.name,
            "rule_type": "writeoff_button",
            "company_id": rule.company_id.id,
            "line_ids": [Command.create({
                "account_id": rule.account_id.id,
                "amount_type": "percentage",
                "amount_string": "100",
                "amount": 100.0,
                "label": rule.label or False,
                "tax_ids": [Command.set(rule.tax_ids.ids)],
                "force_tax_included": len(rule.tax_ids) == 1,
                "analytic_distribution": rule.analytic_distribution or False,
            })],
        })

    def _nl_store_proposals(self, pairs):
        groups = defaultdict(list)
        for line, decision in pairs:
            status = "proposed" if decision.status != matching.NOTHING else "none"
            partner_id = (decision.partner_id if decision.partner_id and not line.partner_id
                          and decision.status != matching.NOTHING else None)
            key = (
                "undone" if line.nl_reconcile_state == "undone" else status,
                decision.rule or False,
                json.dumps(line._nl_reason_values(decision), sort_keys=True),
                decision.text_rule_id or False,
                tuple(decision.proposal_item_ids or (a.item_id for a in decision.allocations)),
                line._nl_model_id(decision) if decision.status != matching.NOTHING else False,
                partner_id,
            )
            groups[key].append(line.id)
        by_partner = defaultdict(list)
        for key, line_ids in groups.items():
            if key[-1]:
                by_partner[key[-1]].extend(line_ids)
        self._nl_set_partners(by_partner)
        for (state, rule, reason, rule_id, proposal_ids, model_id, _partner_id), line_ids in groups.items():
            values = {
                "nl_reconcile_state": state,
                "nl_reconcile_rule": rule,
                **json.loads(reason),
                "nl_reconcile_rule_id": rule_id,
                "nl_reconcile_model_id": model_id,
                "nl_proposal_line_ids": [Command.set(list(proposal_ids))],
                # The OCA screen computes its prefilled data from the proposal again.
                "reconcile_data": False,
            }
            self.browse(line_ids).write(values)

    # ------------------------------------------------------------------
    # The OCA reconciliation screen and undo
    # ------------------------------------------------------------------

    def _default_reconcile_data(self, from_unreconcile=False):
        """Prefill the OCA screen with our proposal: the proposed items,
        or the booking rule's lines."""
        if from_unreconcile or self.is_reconciled or self.nl_reconcile_state not in ("proposed", "undone"):
            return super()._default_reconcile_data(from_unreconcile=from_unreconcile)
        proposals = self.nl_proposal_line_ids.filtered(lambda aml: not aml.reconciled)
        rule = self.nl_reconcile_rule_id
        if not proposals and not rule:
            return super()._default_reconcile_data(from_unreconcile=from_unreconcile)
        liquidity_lines, _suspense, _other = self._seek_for_lines()
        data, aux = [], 1
        for line in liquidity_lines:
            aux, lines = self._get_reconcile_line(line, "liquidity", reconcile_auxiliary_id=aux, move=True)
            data += lines
        if proposals:
            if self.nl_reconcile_reason_code in ("iban_several", "iban_parent", "name_match"):
                proposals = proposals[:1]  # several of one amount: the first, the others are listed
            amount = self.amount_total_signed
            for aml in proposals:
                aux, line_data = self._get_reconcile_line(
                    aml, "other", is_counterpart=True, max_amount=amount,
                    reconcile_auxiliary_id=aux, move=True)
                amount -= sum(item.get("amount") for item in line_data)
                data += line_data
            return self._recompute_suspense_line(data, aux, self.manual_reference)
        data, aux = self._reconcile_data_by_model(data, self._nl_writeoff_model(rule), aux)
        for item in data:
            for key, value in item.items():
                if isinstance(value, NewId):
                    item[key] = False  # the model is not saved
        return self._recompute_suspense_line(data, aux, self.manual_reference)

    def action_undo_reconciliation(self):
        automatic = self.filtered(lambda line: line.nl_reconcile_state == "auto")
        result = super().action_undo_reconciliation()
        # Not reconciled again by the next run: the user disagreed.
        automatic.write({"nl_reconcile_state": "undone", "nl_iban_to_confirm": False})
        self.filtered("nl_rule_offer_id").nl_rule_offer_id = False
        return result

    def reconcile_bank_line(self):
        """A user reconciled in the OCA screen: learn from a booking on an
        account (not on invoices)."""
        data = list((self.reconcile_data_info or {}).get("data", []))
        result = super().reconcile_bank_line()
        self._nl_learn_from(data)
        return result

    def _nl_learn_from(self, data):
        others = [item for item in data if item.get("kind") == "other"]
        base = [item for item in others if not item.get("tax_repartition_line_id")]
        if not base or any(item.get("counterpart_line_ids") for item in others):
            return
        accounts = {item["account_id"][0] if isinstance(item["account_id"], (list, tuple))
                    else item["account_id"] for item in base}
        if len(accounts) != 1:
            return
        account = self.env["account.account"].browse(accounts.pop())
        if account.account_type in ("asset_receivable", "liability_payable"):
            return
        tax_ids = set()
        for item in base:
            for command in item.get("tax_ids") or []:
                if isinstance(command, (list, tuple)) and command and command[0] == 6:
                    tax_ids.update(command[2])
                elif isinstance(command, int):
                    tax_ids.add(command)
        partner = base[0].get("partner_id")
        partner = self.env["res.partner"].browse(partner[0]) if partner else None
        rule = self.env["account.nl.reconcile.rule"]._nl_learn(
            self, account, tax_ids=tax_ids,
            analytic_distribution=base[0].get("analytic_distribution"), partner=partner)
        if rule:
            self.write({
                "nl_rule_offer_id": rule.id if rule.active and not rule.confirmed else False,
                "nl_reconcile_state": "learned",
                "nl_reconcile_rule": matching.RULE_TEXT,
                "nl_reconcile_rule_id": rule.id,
                "nl_reconcile_reason_code": "learned_offer",
                "nl_reconcile_reason_args": {"rule": rule.name, "count": rule.times_seen},
                "nl_reconcile_reason_text": False,
            })

    def _auto_reconcile(self):
        """OCA reconciles new lines automatically as they are created (bank
        fetch, camt.053 import, typed by hand) with its own matcher: for
        Dutch companies ours decides instead, so a line is never reconciled
        on a postcode or house number."""
        if self.env.context.get("nl_skip_auto_reconcile"):
            return super()._auto_reconcile()
        dutch = self.filtered(lambda line: line.company_id.account_fiscal_country_id.code == "NL")
        if dutch:
            dutch.action_nl_auto_reconcile()
        return super(AccountBankStatementLine, self - dutch)._auto_reconcile()

    # ------------------------------------------------------------------
    # Journals, server action
    # ------------------------------------------------------------------

    @api.model
    def _nl_unreconciled_lines(self, journals):
        return self.search([
            ("journal_id", "in", journals.ids),
            ("is_reconciled", "=", False),
            ("move_id.state", "=", "posted"),
        ])

    # ------------------------------------------------------------------
    # Fields of the bank link
    # ------------------------------------------------------------------

    nl_bank_link_account_id = fields.Many2one(
        "account.bank.link.account",
        "Linked bank account",
        readonly=True,
        index="btree_not_null",
        copy=False,
    )
    nl_end_to_end_id = fields.Char("End-to-end id", readonly=True, copy=False)
    nl_bank_transaction_code = fields.Char(
        "Bank transaction code", readonly=True, copy=False
    )
    nl_structured_reference = fields.Char(
        "Structured reference", readonly=True, copy=False
    )
    nl_is_balance_correction = fields.Boolean(
        "Balance correction",
        readonly=True,
        copy=False,
        help="Booked by the bank link to make the statement match the bank's "
        "balance: find and fix the cause.",
    )

    # ------------------------------------------------------------------
    # One identity across link and files; possible duplicates
    # ------------------------------------------------------------------

    nl_import_source = fields.Selection(
        IMPORT_SOURCES, "Imported from", readonly=True, copy=False
    )
    nl_transaction_group = fields.Char(
        "Transaction group",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Account, booking date, amount and counterparty IBAN, hashed: "
        "equal for the same transaction in every source.",
    )
    nl_transaction_key = fields.Char(
        "Transaction identity",
        readonly=True,
        copy=False,
        help="The group plus end-to-end id or payment reference, hashed.",
    )
    nl_counterparty_bic = fields.Char("Counterparty BIC", readonly=True, copy=False)
    nl_batch_reference = fields.Char(
        "Batch",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The bank's id of the batch (direct-debit collection, salaries) this "
        "line belongs to, as the camt file gives it (PmtInfId).",
    )
    nl_batch_detail = fields.Boolean(
        "Batch detail",
        readonly=True,
        copy=False,
        help="One payment of a batch the bank booked as one total: the details "
        "came from a camt.054 or camt.053 file, the total is not booked again.",
    )
    nl_possible_duplicate = fields.Boolean(
        "Possible duplicate",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Another source (bank link or file) brought a transaction with "
        "the same date, amount and counterparty a different number of times: "
        "check whether this line is booked twice.",
    )
    nl_duplicate_note = fields.Text("Duplicate check", readonly=True, copy=False)

    def action_nl_keep_duplicate(self):
        """The user says these are different transactions: clear the mark
        on them and on the lines they were compared with."""
        self._nl_flagged_in_groups().write(
            {"nl_possible_duplicate": False, "nl_duplicate_note": False}
        )
        return True

    def action_nl_remove_duplicate(self):
        """Delete these lines as duplicates. Their import ids are remembered,
        so the next fetch or file does not bring them back."""
        lines = self.filtered("nl_possible_duplicate")
        if lines != self:
            raise UserError(
                self.env._("Only lines marked as possible duplicate can be removed here.")
            )
        if lines.filtered("is_reconciled"):
            raise UserError(
                self.env._(
                    "Undo the reconciliation of %(lines)s before removing it as a "
                    "duplicate.",
                    lines=", ".join(lines.filtered("is_reconciled").mapped("display_name")),
                )
            )
        groups = set(lines.mapped("nl_transaction_group"))
        journals = lines.journal_id
        self.env["account.bank.statement.line.removed"].create(
            [
                {
                    "unique_import_id": line.unique_import_id,
                    "journal_id": line.journal_id.id,
                    "date": line.date,
                    "amount": line.amount,
                    "payment_ref": line.payment_ref,
                }
                for line in lines
                if line.unique_import_id
            ]
        )
        lines.unlink()
        self._nl_settle_groups(journals, groups)
        return True

    def _nl_flagged_in_groups(self):
        return self.search(
            [
                ("journal_id", "in", self.journal_id.ids),
                ("nl_transaction_group", "in", list(set(self.mapped("nl_transaction_group")))),
                ("nl_possible_duplicate", "=", True),
            ]
        ) | self.filtered("nl_possible_duplicate")

    @api.model
    def _nl_settle_groups(self, journals, groups):
        """After a removal: where lines of one source only are left, there
        is no doubt any more."""
        rows = self._read_group(
            [
                ("journal_id", "in", journals.ids),
                ("nl_transaction_group", "in", list(groups)),
                ("nl_possible_duplicate", "=", True),
            ],
            ["journal_id", "nl_transaction_group"],
            ["nl_import_source:array_agg", "id:recordset"],
        )
        settled = self.browse()
        for _journal, _group, sources, lines in rows:
            if len(set(sources)) <= 1:
                settled |= lines
        settled.write({"nl_possible_duplicate": False, "nl_duplicate_note": False})


def _to_minor(amount, currency):
    return round(amount * 10**currency.decimal_places)


def _from_minor(amount, currency):
    return currency.round(amount / 10**currency.decimal_places)
