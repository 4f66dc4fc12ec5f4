# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ING's settings leave the consents (account.bank.link) for the company's
ING registration (account.bank.registration): each company's registration
is made from its last configured ING link (the one with a TLS key, as new
links inherited from until now), then the settings are cleared from every
link. The fields are gone from the model by now, their columns not yet
(Odoo drops them after all modules are loaded): they are read with SQL."""

import logging

from psycopg2 import sql

from odoo import SUPERUSER_ID, api
from odoo.exceptions import ValidationError
from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)

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
#: Settings that are no file: kept when a file is refused (expired, say).
PLAIN = ("environment", "api_base_url", "client_id")


def _last_configured_links(cr, columns):
    """Per company, the values of its last ING link with a TLS key."""
    cr.execute(
        sql.SQL(
            "SELECT DISTINCT ON (company_id) company_id, {columns} FROM account_bank_link "
            "WHERE provider = 'ing' AND ing_tls_key IS NOT NULL ORDER BY company_id, id DESC"
        ).format(columns=sql.SQL(", ").join(map(sql.Identifier, columns)))
    )
    return cr.dictfetchall()


def _create_registration(env, company_id, values):
    """The registration with all values; when the checks refuse a file
    (an expired certificate, say), without the files, so that the
    administrator uploads new ones; never a failed upgrade."""
    Registration = env["account.bank.registration"]
    plain = {name: value for name, value in values.items() if name in PLAIN}
    for attempt in (values, plain, {}):
        try:
            with env.cr.savepoint():
                return Registration.create({"company_id": company_id, "provider": "ing", **attempt})
        except ValidationError as error:
            _logger.warning("ING registration of company %s: settings refused (%s)", company_id, error)
    return Registration


def migrate(cr, version):
    columns = [column for column in COLUMNS if column_exists(cr, "account_bank_link", column)]
    if "ing_tls_key" not in columns:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    existing = env["account.bank.registration"].with_context(active_test=False).search([("provider", "=", "ing")])
    for row in _last_configured_links(cr, columns):
        if row["company_id"] in existing.company_id.ids:
            continue  # an administrator made one already
        values = {COLUMNS[column]: row[column] for column in columns if row[column]}
        for name, value in values.items():
            if isinstance(value, memoryview):  # a Binary column's base64 text
                values[name] = value.tobytes()
        _create_registration(env, row["company_id"], values)
    # No copy of a secret stays behind on the consents.
    cr.execute(
        sql.SQL("UPDATE account_bank_link SET {} WHERE provider = 'ing'").format(
            sql.SQL(", ").join(sql.SQL("{} = NULL").format(sql.Identifier(column)) for column in columns)
        )
    )
