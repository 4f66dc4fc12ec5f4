# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Keys and certificates leave ir.attachment (readable by every link
reader) for the link's admin-only columns; deleted when the settings
live on the bank registration already."""

from odoo import SUPERUSER_ID, api

FIELDS = (
    "ing_tls_certificate", "ing_tls_key", "ing_signing_certificate",
    "ing_signing_key", "ing_ca_certificate",
)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["account.bank.link"]._bank_link_move_credentials_from_attachments(FIELDS)
