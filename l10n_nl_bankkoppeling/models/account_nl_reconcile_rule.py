# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import matching

#: The Belastingdienst's account for tax payments.
BELASTINGDIENST_IBAN = "NL86INGB0002445588"


def _example_rules(env):
    """Recurring bank lines of Dutch companies: (key, name, IBAN, text,
    direction, l10n_nl account code, confirmed). Only bank costs have one
    obvious account; for the others the company chooses (which tax, which
    loan, which transit account), so they ship unconfirmed: proposed, never
    reconciled until a user confirms."""
    return [
        ("bank_costs", env._("Bank costs"), None, "Kosten Zakelijk Betalingsverkeer", "out", "4630", True),
        ("belastingdienst", env._("Belastingdienst (choose the tax)"), BELASTINGDIENST_IBAN, None, "out",
         "1550", False),
        ("interest", env._("Loan interest"), None, "RENTE", "out", "4710", False),
        ("repayment", env._("Loan repayment"), None, "AFLOSSING", "out", "0821", False),
        ("card_ccv", env._("Card-terminal settlement CCV"), None, "CCV", "in", "1350", False),
        ("card_worldline", env._("Card-terminal settlement Worldline"), None, "Worldline", "in", "1350", False),
        ("salaries", env._("Salaries"), None, "SALARIS", "out", "1625", False),
    ]


class AccountNlReconcileRule(models.Model):
    """A booking rule ("betalingskenmerk-instelling"): bank lines from a
    counterparty IBAN and/or with a text are booked on an account.

    Rules learned from hand reconciliations start unconfirmed: they are
    proposed (once chosen twice) but never reconcile until a user confirms.
    """

    _name = "account.nl.reconcile.rule"
    _description = "Dutch bank booking rule"
    _order = "company_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=False)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    counterparty_iban = fields.Char(
        "Counterparty IBAN", help="Bank lines from or to this account number."
    )
    text_pattern = fields.Char(
        "Text contains",
        help="Bank lines whose description or counterparty name contains this "
        "text (not case-sensitive).",
    )
    direction = fields.Selection(
        [("both", "Receipts and payments"), ("in", "Receipts only"), ("out", "Payments only")],
        default="both",
        required=True,
    )
    account_id = fields.Many2one(
        "account.account", required=True, check_company=True,
        domain="[('deprecated', '=', False), ('account_type', 'not in', "
        "('asset_receivable', 'liability_payable', 'asset_cash', 'liability_credit_card'))]",
    )
    tax_ids = fields.Many2many(
        "account.tax", string="Taxes", check_company=True,
        help="Taxes included in the amount of the bank line.",
    )
    analytic_distribution = fields.Json("Analytic")
    analytic_precision = fields.Integer(
        store=False,
        default=lambda self: self.env["decimal.precision"].precision_get("Percentage Analytic"),
    )
    partner_id = fields.Many2one("res.partner", check_company=True)
    label = fields.Char(help="Label of the booked journal item; the bank text when empty.")
    confirmed = fields.Boolean(
        default=True,
        help="Only confirmed rules reconcile automatically. Rules learned from "
        "your own reconciliations are proposed until you confirm them.",
    )
    learned = fields.Boolean(readonly=True, help="Made from reconciliations done by hand.")
    times_seen = fields.Integer(
        "Times chosen by hand", readonly=True, default=0,
        help="How often a user booked a matching line on this account by hand.",
    )
    times_applied = fields.Integer("Times applied", readonly=True, default=0)

    @api.constrains("counterparty_iban", "text_pattern", "account_id")
    def _check_something_to_match(self):
        for rule in self:
            if not (rule.counterparty_iban or "").strip() and not (rule.text_pattern or "").strip():
                raise ValidationError(self.env._(
                    "The booking rule %(rule)s needs a counterparty IBAN, a text, or both: "
                    "otherwise it would match every bank line.", rule=rule.name,
                ))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("counterparty_iban"):
                vals["counterparty_iban"] = matching.normalize_iban(vals["counterparty_iban"])
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("counterparty_iban"):
            vals["counterparty_iban"] = matching.normalize_iban(vals["counterparty_iban"])
        return super().write(vals)

    def action_confirm(self):
        self.write({"confirmed": True})

    @api.model
    def _nl_setup_examples(self, company):
        """The example rules for a company with the Dutch chart of accounts;
        a rule whose account the chart lacks is skipped, one made before is
        left as the user keeps it (or deleted it)."""
        chart = self.env["account.chart.template"].with_company(company)
        env = self.with_context(lang=company.partner_id.lang or "en_US").env
        records = []
        for key, name, iban, text, direction, code, confirmed in _example_rules(env):
            xmlid = f"l10n_nl_bankkoppeling.{company.id}_nl_rule_{key}"
            if self.env["ir.model.data"]._xmlid_to_res_id(xmlid, raise_if_not_found=False):
                continue
            account = chart.ref(code, raise_if_not_found=False)
            if not account:
                continue
            records.append({"xml_id": xmlid, "noupdate": True, "values": {
                "name": name, "company_id": company.id, "counterparty_iban": iban,
                "text_pattern": text, "direction": direction, "account_id": account.id,
                "confirmed": confirmed, "learned": False,
            }})
        return self.sudo()._load_records(records)

    def _nl_target(self):
        """What the rule books: rules with equal targets agree."""
        self.ensure_one()
        distribution = self.analytic_distribution or {}
        return (
            self.account_id.id,
            tuple(sorted(self.tax_ids.ids)),
            tuple(sorted((str(k), float(v)) for k, v in distribution.items())),
            self.partner_id.id,
        )

    def _nl_as_engine_rules(self):
        sign = {"both": 0, "in": 1, "out": -1}
        return [
            matching.TextRule(
                id=rule.id,
                company_id=rule.company_id.id,
                target=rule._nl_target(),
                iban=rule.counterparty_iban or None,
                pattern=(rule.text_pattern or "").strip() or None,
                sign=sign[rule.direction],
                confirmed=rule.confirmed,
                times_seen=rule.times_seen,
                name=rule.name,
                learned=rule.learned,
            )
            for rule in self
        ]

    @api.model
    def _nl_learn(self, st_line, account, tax_ids=(), analytic_distribution=None, partner=None):
        """A user booked ``st_line`` on ``account`` by hand: count it on the
        learned rule for that counterparty and text, made if needed."""
        iban = matching.normalize_iban(st_line.account_number)
        pattern = matching.learned_text_pattern(st_line.payment_ref)
        if not iban and not pattern:
            return self.browse()
        domain = [
            ("company_id", "=", st_line.company_id.id),
            ("counterparty_iban", "=", iban or False),
            ("text_pattern", "=", pattern or False),
            ("account_id", "=", account.id),
            ("active", "in", (True, False)),
        ]
        rule = self.search(domain, limit=1)
        if rule:
            if rule.active:
                rule.times_seen += 1
            return rule
        return self.create({
            "name": pattern or st_line.partner_name or iban,
            "company_id": st_line.company_id.id,
            "counterparty_iban": iban,
            "text_pattern": pattern,
            "direction": "in" if st_line.amount > 0 else "out",
            "account_id": account.id,
            "tax_ids": [fields.Command.set(list(tax_ids))],
            "analytic_distribution": analytic_distribution or False,
            "partner_id": partner.id if partner else False,
            "confirmed": False,
            "learned": True,
            "times_seen": 1,
        })
