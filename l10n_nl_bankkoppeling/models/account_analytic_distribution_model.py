# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Analytic distribution models, read once per reconciliation batch.

Odoo looks the models up (one search) for every journal item whose partner
or account changes, one search per partner and account. The Dutch batch
reconciliation changes thousands of such items at once: when the companies
have no distribution model at all (checked once per batch), every search
would find nothing, so the batch says so in its context and the search is
skipped. With a distribution model, Odoo's search runs as before.
"""

from odoo import api, models


class AccountAnalyticDistributionModel(models.Model):
    _inherit = "account.analytic.distribution.model"

    def _get_distribution(self, vals):
        if self.env.context.get("nl_no_distribution_model"):
            return {}
        return super()._get_distribution(vals)

    @api.model
    def _nl_none_for(self, companies):
        """True when no distribution model can apply to ``companies``."""
        return not self.sudo().with_context(active_test=False).search_count(
            [("company_id", "in", [*companies.ids, False])], limit=1)
