# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ING's settings leave the consents (account.bank.link) for the company's
ING registration (account.bank.registration), made from its last
configured ING link; no copy stays on any link (the framework's
``_bank_registration_take_over_link_columns``)."""

from odoo import SUPERUSER_ID, api

#: Column on account_bank_link -> field of account.bank.registration.
COLUMNS = {
    "ing_environment": "environment",
    "ing_base_url": "api_base_url",
    "ing_client_id": "client_id",
    "ing_tls_certificate": "tls_certificate",
    "ing_tls_certificate_name": "tls_certificate_name",
    "ing_tls_key": "tls_key",
    "ing_tls_key_name": "tls_key_name",
    "ing_signing_certificate": "signing_certificate",
    "ing_signing_certificate_name": "signing_certificate_name",
    "ing_signing_key": "signing_key",
    "ing_signing_key_name": "signing_key_name",
    "ing_ca_certificate": "ca_certificate",
    "ing_ca_certificate_name": "ca_certificate_name",
}


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["account.bank.registration"]._bank_registration_take_over_link_columns("ing", COLUMNS, "ing_tls_key")
