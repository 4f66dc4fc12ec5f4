# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Keys and certificates leave ir.attachment (readable by every link
reader) for the link's admin-only columns."""

from odoo import SUPERUSER_ID, api

FIELDS = ("abnamro_tls_certificate", "abnamro_tls_key", "abnamro_ca_certificate")


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    if not set(FIELDS) <= set(env["account.bank.link"]._fields):
        # Upgraded straight to 18.0.1.2.0 or later: the settings live on the
        # bank registration now. Files still in attachments are not taken
        # over (the administrator uploads them there again), but they are
        # deleted: every link reader could read them.
        env["ir.attachment"].sudo().with_context(active_test=False).search(
            [("res_model", "=", "account.bank.link"), ("res_field", "in", list(FIELDS))]
        ).unlink()
        return
    env["account.bank.link"]._bank_link_move_credentials_from_attachments(FIELDS)
