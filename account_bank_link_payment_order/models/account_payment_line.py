# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class AccountPaymentLine(models.Model):
    _inherit = "account.payment.line"

    @api.model_create_multi
    def create(self, vals_list):
        orders = self.env["account.payment.order"].browse(
            {vals["order_id"] for vals in vals_list if vals.get("order_id")})
        orders._bank_check_not_sent()
        return super().create(vals_list)

    def write(self, vals):
        self.order_id._bank_check_not_sent()
        return super().write(vals)

    def unlink(self):
        self.order_id._bank_check_not_sent()
        return super().unlink()
