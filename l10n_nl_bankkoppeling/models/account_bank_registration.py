# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The TPP registration of a company at one bank: the single place where the
bank's client id, secret, API key, certificates, keys and endpoints live.
Every consent (``account.bank.link``) of that company and bank uses it; no
copy is kept on the consents. Administrators only (see readme/SECURITY.md)."""

import logging

from psycopg2 import sql

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.sql import column_exists

from ..tools import pem_files
from ..tools import provider as bank_provider

_logger = logging.getLogger(__name__)

ADMIN_GROUP = "l10n_nl_bankkoppeling.group_bank_link_admin"
#: (certificate field, key field) pairs that must belong together.
KEY_PAIRS = (("tls_certificate", "tls_key"), ("signing_certificate", "signing_key"))
CERTIFICATES = ("tls_certificate", "signing_certificate", "ca_certificate")
KEYS = ("tls_key", "signing_key")
ENDPOINTS = ("api_base_url", "auth_base_url")
#: (field, name in the provider's config, file suffix) of the files a client opens.
PEM_FILES = (
    ("tls_certificate", "tls_cert_path", "-tls.pem"),
    ("tls_key", "tls_key_path", "-tls.key"),
    ("signing_certificate", "signing_cert_path", "-signing.pem"),
    ("signing_key", "signing_key_path", "-signing.key"),
)
#: Settings that are no file: kept when an upgrade's file is refused.
PLAIN_SETTINGS = ("environment", "api_base_url", "auth_base_url", "client_id", "client_secret", "api_key")


class AccountBankRegistration(models.Model):
    _name = "account.bank.registration"
    _inherit = ["account.bank.settings.mixin", "mail.thread"]
    _description = "Bank registration (TPP registration of a company at a bank)"
    _order = "company_id, provider"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    provider = fields.Selection(selection="_selection_provider", string="Bank", required=True)
    active = fields.Boolean(default=True)
    environment = fields.Selection(
        [("sandbox", "Sandbox (test)"), ("production", "Production")],
        default="sandbox",
        required=True,
        tracking=True,
        groups=ADMIN_GROUP,
    )
    # Where the links send their tokens and signed requests: administrators
    # only, https only, the bank's own hosts in production.
    api_base_url = fields.Char(
        "API URL",
        compute="_compute_endpoints",
        store=True,
        readonly=False,
        tracking=True,
        groups=ADMIN_GROUP,
        help="Filled in for the environment; production must be one of the bank's own hosts.",
    )
    auth_base_url = fields.Char(
        "Authorisation URL",
        compute="_compute_endpoints",
        store=True,
        readonly=False,
        tracking=True,
        groups=ADMIN_GROUP,
        help="Banks with a separate authorisation server (Rabobank): where the user "
        "gives consent and the tokens come from.",
    )
    client_id = fields.Char("Client id", groups=ADMIN_GROUP, help="From the bank's developer portal.")
    client_secret = fields.Char("Client secret", groups=ADMIN_GROUP, copy=False)
    api_key = fields.Char("API key", groups=ADMIN_GROUP, copy=False)
    tls_certificate = fields.Binary(
        "TLS certificate (QWAC)", attachment=False, groups=ADMIN_GROUP, copy=False
    )
    tls_certificate_name = fields.Char("TLS certificate file name", groups=ADMIN_GROUP, copy=False)
    tls_key = fields.Binary("TLS private key", attachment=False, groups=ADMIN_GROUP, copy=False)
    tls_key_name = fields.Char("TLS key file name", groups=ADMIN_GROUP, copy=False)
    signing_certificate = fields.Binary(
        "Signing certificate (QSealC)", attachment=False, groups=ADMIN_GROUP, copy=False
    )
    signing_certificate_name = fields.Char(
        "Signing certificate file name", groups=ADMIN_GROUP, copy=False
    )
    signing_key = fields.Binary(
        "Signing private key", attachment=False, groups=ADMIN_GROUP, copy=False
    )
    signing_key_name = fields.Char("Signing key file name", groups=ADMIN_GROUP, copy=False)
    ca_certificate = fields.Binary(
        "Sandbox CA certificate",
        attachment=False,
        groups=ADMIN_GROUP,
        copy=False,
        help="Sandbox only: the certificate authority of the sandbox's HTTPS server. "
        "Production uses the system's trusted authorities.",
    )
    ca_certificate_name = fields.Char("CA certificate file name", groups=ADMIN_GROUP, copy=False)
    tls_certificate_expiry = fields.Date(
        "TLS certificate valid until", compute="_compute_certificate_facts", store=True
    )
    signing_certificate_expiry = fields.Date(
        "Signing certificate valid until", compute="_compute_certificate_facts", store=True
    )
    tls_certificate_subject = fields.Char(
        "TLS certificate subject", compute="_compute_certificate_facts", store=True
    )
    signing_certificate_subject = fields.Char(
        "Signing certificate subject", compute="_compute_certificate_facts", store=True
    )

    _sql_constraints = [
        (
            "company_provider_unique",
            "unique(company_id, provider)",
            "A company has one registration per bank.",
        )
    ]

    @api.model
    def _selection_provider(self):
        # The link's selection: every bank addon's selection_add counts.
        return self.env["account.bank.link"]._fields["provider"]._description_selection(self.env)

    @api.depends("provider", "company_id")
    def _compute_name(self):
        labels = dict(self._selection_provider())
        for registration in self:
            registration.name = " - ".join(
                filter(None, [labels.get(registration.provider), registration.company_id.name])
            )

    def _provider_class(self):
        """The bank's provider class (its fixed facts), or the framework's
        base class when no bank module serves the provider."""
        self.ensure_one()
        link = self.env["account.bank.link"].new({"provider": self.provider})
        return link._bank_link_provider_class() or bank_provider.BankProvider

    # ------------------------------------------------------------------
    # Endpoints
    # ------------------------------------------------------------------

    def _local_sandbox_url(self):
        """The local bank sandbox's base URL, when ./setup/demo or a test set one."""
        parameter = f"account_bank_link_{self.provider}.sandbox_url"
        return (self.env["ir.config_parameter"].sudo().get_param(parameter) or "").rstrip("/")

    @api.depends("environment", "provider")
    def _compute_endpoints(self):
        for registration in self:
            bank = registration._provider_class()
            if registration.environment == "production":
                api_url, auth_url = bank.production_api_url, bank.production_auth_url
            elif registration.provider and registration._local_sandbox_url():
                local = registration._local_sandbox_url()
                api_url = local + bank.local_sandbox_api_path
                # A bank with an authorisation server of its own has one in
                # the local sandbox too (ABN AMRO's at the sandbox's root).
                has_auth = bank.local_sandbox_auth_path or bank.sandbox_auth_url
                auth_url = local + bank.local_sandbox_auth_path if has_auth else ""
            else:
                api_url, auth_url = bank.sandbox_api_url, bank.sandbox_auth_url
            registration.api_base_url = api_url or False
            registration.auth_base_url = auth_url or False

    @api.constrains("environment", "api_base_url", "auth_base_url", "provider")
    def _check_endpoints(self):
        for registration in self.sudo():
            registration._bank_link_check_endpoints(
                registration.environment, ENDPOINTS, registration._provider_class().production_hosts
            )

    # ------------------------------------------------------------------
    # Certificates and keys
    # ------------------------------------------------------------------

    @api.depends("tls_certificate", "signing_certificate")
    def _compute_certificate_facts(self):
        for registration in self:
            for kind in ("tls", "signing"):
                info = registration._certificate_info(f"{kind}_certificate")
                registration[f"{kind}_certificate_expiry"] = info and info.not_valid_after.date()
                registration[f"{kind}_certificate_subject"] = info and info.subject

    def _certificate_info(self, field_name):
        data = self._bank_link_pem_bytes(field_name)
        if not data:
            return False
        try:
            return pem_files.certificate_info(data)
        except pem_files.PemProblem:
            return False

    @api.constrains(*CERTIFICATES, *KEYS)
    def _check_pem_files(self):
        for registration in self:
            registration._bank_link_check_pem_files(CERTIFICATES, KEYS, KEY_PAIRS)

    @api.onchange(*CERTIFICATES, *KEYS)
    def _onchange_pem_files(self):
        """Say at once, on upload, what the save would refuse."""
        try:
            self._bank_link_check_pem_files(CERTIFICATES, KEYS, KEY_PAIRS)
        except ValidationError as error:
            return {
                "warning": {
                    "title": self.env._("Certificate or key refused"),
                    "message": error.args[0],
                }
            }

    def _bank_link_pem_folder(self):
        return f"registration-{self.id}"

    # ------------------------------------------------------------------
    # Use by the bank addons
    # ------------------------------------------------------------------

    def _bank_registration_ready(self):
        """This registration (sudo), after the checks a call to the bank
        needs: the bank's required settings filled in, the certificates not
        expired, and the endpoints checked again (a row written around the
        ORM must not send tokens to a host the constraint would refuse)."""
        self.ensure_one()
        registration = self.sudo()
        registration._bank_link_missing_settings(registration._provider_class().required_settings)
        registration._bank_link_check_expiry(
            ("tls_certificate_expiry", "signing_certificate_expiry")
        )
        registration._check_endpoints()
        return registration

    def _bank_registration_files(self):
        """The certificate and key files of the provider's config (written
        to Odoo's own, private folder), by their config names: the TLS pair
        (``tls_cert_path``, ``tls_key_path``), the signing pair when the
        bank signs (``signing_cert_path``, ``signing_key_path``) and
        ``verify``."""
        self.ensure_one()
        registration = self.sudo()
        files = {"verify": registration._bank_registration_verify()}
        for field, name, suffix in PEM_FILES:
            if registration[field]:
                files[name] = registration._bank_link_pem_path(field, suffix)
        return files

    def _bank_registration_settings(self):
        """What a provider's config is built from (``config_from_settings``):
        the environment, endpoints, client id, client secret, API key and
        the files of :meth:`_bank_registration_files`. Secrets: for the
        provider's config only, never to a log or a user."""
        self.ensure_one()
        registration = self.sudo()
        settings = {"environment": registration.environment}
        for name in ("api_base_url", "auth_base_url", "client_id", "client_secret", "api_key"):
            settings[name] = registration[name] or ""
        settings.update(registration._bank_registration_files())
        return settings

    def _bank_registration_verify(self):
        """``verify`` of the TLS layer: the sandbox's CA file, else the
        system's trusted authorities."""
        self.ensure_one()
        if self.environment == "sandbox" and self.sudo().ca_certificate:
            return self._bank_link_pem_path("ca_certificate", "-ca.pem")
        return True

    # ------------------------------------------------------------------
    # Upgrade: settings that lived on the links
    # ------------------------------------------------------------------

    @api.model
    def _bank_registration_take_over_link_columns(self, provider, columns, key_column, also_clear=()):
        """Upgrade step of a bank whose settings lived on every link: per
        company a registration made from its last configured link (the one
        with ``key_column``, as new links inherited from until then), then
        the settings cleared from every link of ``provider``. ``columns``:
        {column of account_bank_link: field of this model}. The fields are
        gone from the link model by then, their columns not yet (Odoo drops
        them after all modules are loaded): they are read with SQL. A
        company that has a registration already keeps it. ``also_clear``:
        columns of old settings the registration has no field for."""
        cr = self.env.cr
        present = [column for column in columns if column_exists(cr, "account_bank_link", column)]
        if key_column not in present:
            return self
        cr.execute(
            sql.SQL(
                "SELECT DISTINCT ON (company_id) company_id, {columns} FROM account_bank_link "
                "WHERE provider = %s AND {key} IS NOT NULL ORDER BY company_id, id DESC"
            ).format(columns=sql.SQL(", ").join(map(sql.Identifier, present)), key=sql.Identifier(key_column)),
            [provider],
        )
        rows = cr.dictfetchall()
        existing = self.sudo().with_context(active_test=False).search([("provider", "=", provider)])
        made = self.browse()
        for row in rows:
            if row["company_id"] in existing.company_id.ids:
                continue  # an administrator made one already
            values = {columns[column]: row[column] for column in present if row[column]}
            for name, value in values.items():
                if isinstance(value, memoryview):  # a Binary column's base64 text
                    values[name] = value.tobytes()
            made |= self._bank_registration_create_refusing_nothing(provider, row["company_id"], values)
        # No copy of a secret stays behind on the consents.
        present += [column for column in also_clear if column_exists(cr, "account_bank_link", column)]
        cr.execute(
            sql.SQL("UPDATE account_bank_link SET {} WHERE provider = %s").format(
                sql.SQL(", ").join(sql.SQL("{} = NULL").format(sql.Identifier(column)) for column in present)
            ),
            [provider],
        )
        return made

    @api.model
    def _bank_registration_create_refusing_nothing(self, provider, company_id, values):
        """The registration with all ``values``; when the checks refuse a
        file (an expired certificate, say), without the files, so that the
        administrator uploads new ones; never a failed upgrade."""
        plain = {name: value for name, value in values.items() if name in PLAIN_SETTINGS}
        for attempt in (values, plain, {}):
            try:
                with self.env.cr.savepoint():
                    return self.sudo().create({"company_id": company_id, "provider": provider, **attempt})
            except ValidationError as error:
                _logger.warning("%s registration of company %s: settings refused (%s)", provider, company_id, error)
        return self.browse()
