# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ABN AMRO's settings leave the consents (account.bank.link) for the
company's ABN AMRO registration (account.bank.registration), made from its
last configured ABN AMRO link; no copy stays on any link (the framework's
``_bank_registration_take_over_link_columns``). The per-account consents
stay where they are, with the link's secrets.

The token URL is no setting any more: it follows from the authorisation
URL (``abnamro_provider.token_url``). A link whose token URL was set to
something else is named in the log, so that the administrator checks it."""

import logging

from odoo import SUPERUSER_ID, api
from odoo.tools.sql import column_exists

from odoo.addons.account_bank_link_abnamro.tools import abnamro_provider

_logger = logging.getLogger(__name__)

#: Column on account_bank_link -> field of account.bank.registration.
COLUMNS = {
    "abnamro_environment": "environment",
    "abnamro_api_url": "api_base_url",
    "abnamro_auth_url": "auth_base_url",
    "abnamro_client_id": "client_id",
    "abnamro_api_key": "api_key",
    "abnamro_tls_certificate": "tls_certificate",
    "abnamro_tls_certificate_name": "tls_certificate_name",
    "abnamro_tls_key": "tls_key",
    "abnamro_tls_key_name": "tls_key_name",
    "abnamro_ca_certificate": "ca_certificate",
    "abnamro_ca_certificate_name": "ca_certificate_name",
}
#: Columns that are no setting of the registration, cleared too.
DROPPED = ("abnamro_token_url",)


def _warn_about_other_token_urls(cr):
    if not (column_exists(cr, "account_bank_link", "abnamro_token_url")
            and column_exists(cr, "account_bank_link", "abnamro_auth_url")):
        return
    cr.execute(
        "SELECT id, abnamro_auth_url, abnamro_token_url FROM account_bank_link "
        "WHERE provider = 'abnamro' AND abnamro_tls_key IS NOT NULL AND abnamro_token_url IS NOT NULL"
    )
    for link_id, auth_url, token_url in cr.fetchall():
        if auth_url and token_url != abnamro_provider.token_url(auth_url):
            _logger.warning(
                "ABN AMRO link %s had token URL %s; the registration uses %s (from its authorisation URL)",
                link_id, token_url, abnamro_provider.token_url(auth_url),
            )


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    _warn_about_other_token_urls(cr)
    env["account.bank.registration"]._bank_registration_take_over_link_columns(
        "abnamro", COLUMNS, "abnamro_tls_key", also_clear=DROPPED
    )
