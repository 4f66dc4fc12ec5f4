from . import controllers
from . import models
from . import wizards


def _l10n_nl_bankkoppeling_post_init(env):
    """Dutch companies' sales journals switch to the betalingskenmerk, as new
    journals of Dutch companies get it by default; a journal already set to
    another model than Odoo's plain one is left as its owner chose."""
    env["account.journal"].search([
        ("type", "=", "sale"),
        ("invoice_reference_model", "=", "odoo"),
        ("company_id.partner_id.country_id.code", "=", "NL"),
    ]).invoice_reference_model = "nl"
    # Rules 1-4 as reconciliation models, and example booking rules.
    env["account.reconcile.model"]._nl_setup_companies(env["res.company"].search([
        "|", ("chart_template", "=", "nl"), ("account_fiscal_country_id.code", "=", "NL"),
    ]))
