# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Keys and certificates leave ir.attachment (readable by every link
reader) for the link's admin-only columns; deleted when the settings
live on the bank registration already."""

from odoo import SUPERUSER_ID, api

FIELDS = ("abnamro_tls_certificate", "abnamro_tls_key", "abnamro_ca_certificate")


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["account.bank.link"]._bank_link_move_credentials_from_attachments(FIELDS)
