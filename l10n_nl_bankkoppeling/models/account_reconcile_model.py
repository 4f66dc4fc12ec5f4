# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Rules 1-4 of the Dutch matching as reconciliation models.

Each Dutch company gets one ``account.reconcile.model`` per matching kind
(payment reference, invoice number, counterparty IBAN, payer name), so the
accountant switches a rule off (archive) or keeps it to proposals (untick
auto-validate) in Accounting > Configuration > Reconciliation Models, where
Odoo and the OCA reconciliation screen list them. The engine
(tools/matching.py) does the matching; these records say per company which
rules run and whether they reconcile.
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import matching

NL_MATCHING_KINDS = [
    (matching.RULE_REFERENCE, "Payment reference (betalingskenmerk, RF)"),
    (matching.RULE_INVOICE_NUMBER, "Invoice numbers in the text"),
    (matching.RULE_IBAN, "Known counterparty IBAN and amount"),
    (matching.RULE_NAME, "Payer name (proposals only)"),
]

#: xmlid suffix, name, sequence per kind (the sequence orders them before
#: Odoo's generic models in the list).
_KIND_RECORDS = {
    matching.RULE_REFERENCE: ("nl_reconcile_model_reference", 1),
    matching.RULE_INVOICE_NUMBER: ("nl_reconcile_model_invoice_number", 2),
    matching.RULE_IBAN: ("nl_reconcile_model_iban", 3),
    matching.RULE_NAME: ("nl_reconcile_model_name", 4),
}


def _kind_names(env):
    return {
        matching.RULE_REFERENCE: env._("Dutch matching: payment reference"),
        matching.RULE_INVOICE_NUMBER: env._("Dutch matching: invoice numbers in the text"),
        matching.RULE_IBAN: env._("Dutch matching: known IBAN and amount"),
        matching.RULE_NAME: env._("Dutch matching: payer name"),
    }


class AccountReconcileModel(models.Model):
    _inherit = "account.reconcile.model"

    nl_matching_kind = fields.Selection(
        NL_MATCHING_KINDS,
        string="Dutch matching",
        copy=False,
        index="btree_not_null",
        help="This model runs one rule of the Dutch matching (l10n_nl_bankkoppeling) "
        "instead of the conditions below. Archive it to switch the rule off; "
        "without Auto-validate the rule only proposes.",
    )

    @api.constrains("nl_matching_kind", "auto_reconcile", "rule_type")
    def _check_nl_matching_kind(self):
        for model in self.filtered("nl_matching_kind"):
            if model.rule_type != "invoice_matching":
                raise ValidationError(self.env._(
                    "The reconciliation model %(model)s runs a Dutch matching rule: "
                    "its type must be 'Rule to match invoices/bills'.", model=model.name))
            if model.nl_matching_kind == matching.RULE_NAME and model.auto_reconcile:
                raise ValidationError(self.env._(
                    "The reconciliation model %(model)s matches on the payer's name, which is "
                    "never certain: it can only propose, not validate automatically.",
                    model=model.name))

    @api.constrains("nl_matching_kind", "company_id", "active")
    def _check_one_per_company(self):
        kinds = self.filtered("nl_matching_kind")
        if not kinds:
            return
        groups = self.read_group(
            [("nl_matching_kind", "in", kinds.mapped("nl_matching_kind")),
             ("company_id", "in", kinds.company_id.ids)],
            ["nl_matching_kind", "company_id"], ["nl_matching_kind", "company_id"], lazy=False)
        if any(group["__count"] > 1 for group in groups):
            raise ValidationError(self.env._(
                "A company has one active reconciliation model per Dutch matching rule."))

    # ------------------------------------------------------------------
    # What the engine needs, once per batch
    # ------------------------------------------------------------------

    @api.model
    def _nl_kind_modes(self, companies):
        """``({company_id: {kind: mode}}, {(company_id, kind): model})`` of
        ``companies``: the engine's ``kind_modes`` and the model behind each
        rule. A company that never had Dutch models is left out (the
        engine's defaults apply); archived models switch their rule off."""
        found = self.sudo().with_context(active_test=False).search([
            ("nl_matching_kind", "!=", False),
            ("company_id", "in", companies.ids),
        ])
        modes, by_kind = {}, {}
        for model in found:
            company_modes = modes.setdefault(model.company_id.id, {})
            if not model.active:
                continue
            company_modes[model.nl_matching_kind] = (
                matching.MODE_AUTO if model.auto_reconcile else matching.MODE_PROPOSE)
            by_kind[(model.company_id.id, model.nl_matching_kind)] = model.id
        return modes, by_kind

    # ------------------------------------------------------------------
    # The OCA reconciliation screen
    # ------------------------------------------------------------------

    def _apply_rules(self, st_line, partner):
        """The OCA screen asks every model for a match when it opens a line:
        the Dutch models answer with the engine's proposal, never
        reconciling from the screen (the batch run does that)."""
        dutch = self.filtered("nl_matching_kind")
        # Not for OCA's own automatic run (lines of Dutch companies get ours
        # in batch instead, see _auto_reconcile), and not for lines the batch
        # found nothing for.
        if (dutch and not self.env.context.get("nl_skip_auto_reconcile")
                and st_line.nl_reconcile_state in (False, "undone", "proposed")):
            decision = st_line._nl_decide()[0]
            by_kind = {model.nl_matching_kind: model for model in dutch}
            model = by_kind.get(decision.rule)
            item_ids = decision.proposal_item_ids or tuple(a.item_id for a in decision.allocations)
            if model and item_ids:
                return {
                    "amls": self.env["account.move.line"].browse(item_ids),
                    "model": model,
                    "status": "proposed",
                    "auto_reconcile": False,
                }
        return super(AccountReconcileModel, self - dutch)._apply_rules(st_line, partner)

    # ------------------------------------------------------------------
    # Setup for Dutch companies
    # ------------------------------------------------------------------

    @api.model
    def _nl_setup_companies(self, companies):
        """Give ``companies`` their Dutch matching models and the example
        booking rules; what exists already is left as the user keeps it."""
        langs = [code for code, _name in self.env["res.lang"].get_installed()]
        for company in companies:
            records = []
            for kind, (xmlid, sequence) in _KIND_RECORDS.items():
                full_xmlid = f"l10n_nl_bankkoppeling.{company.id}_{xmlid}"
                if self.env.ref(full_xmlid, raise_if_not_found=False):
                    continue
                records.append({
                    "xml_id": full_xmlid,
                    "noupdate": True,
                    "values": {
                        "name": _kind_names(self.with_context(lang="en_US").env)[kind],
                        "sequence": sequence,
                        "company_id": company.id,
                        "rule_type": "invoice_matching",
                        "nl_matching_kind": kind,
                        "auto_reconcile": kind != matching.RULE_NAME,
                        "match_partner": False,
                    },
                })
            created = self.sudo().with_context(lang="en_US")._load_records(records)
            for model in created:
                model.update_field_translations("name", {
                    lang: _kind_names(self.with_context(lang=lang).env)[model.nl_matching_kind]
                    for lang in langs if lang != "en_US"
                })
            self.env["account.nl.reconcile.rule"]._nl_setup_examples(company)


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    def _post_load_data(self, template_code, company, template_data):
        result = super()._post_load_data(template_code, company, template_data)
        company = company or self.env.company
        if template_code == "nl" or company.account_fiscal_country_id.code == "NL":
            self.env["account.reconcile.model"]._nl_setup_companies(company)
        return result
