# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ING on the bank link: settings of the TPP registration, the provider,
which accounts may be linked, and ING's texts in the link wizard."""


from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.l10n_nl_bankkoppeling.tools import pem_files

from ..tools import ing_mapping, ing_provider

ADMIN_GROUP = "l10n_nl_bankkoppeling.group_bank_link_admin"
#: System parameter with the base URL of the local bank sandbox (./setup/demo
#: sets it); without it the sandbox environment means ING's own sandbox.
SANDBOX_URL_PARAMETER = "account_bank_link_ing.sandbox_url"
#: (certificate field, key field) pairs that must belong together.
ING_KEY_PAIRS = (
    ("ing_tls_certificate", "ing_tls_key"),
    ("ing_signing_certificate", "ing_signing_key"),
)
ING_CERTIFICATES = ("ing_tls_certificate", "ing_signing_certificate", "ing_ca_certificate")
ING_KEYS = ("ing_tls_key", "ing_signing_key")
#: The TPP registration: the same for every consent of a company, so a new
#: link (a renewal, or one the wizard makes) starts with these of the last
#: configured ING link of its company.
ING_SETTINGS = (
    "ing_environment", "ing_base_url", "ing_client_id",
    "ing_tls_certificate", "ing_tls_certificate_name", "ing_tls_key", "ing_tls_key_name",
    "ing_signing_certificate", "ing_signing_certificate_name",
    "ing_signing_key", "ing_signing_key_name",
    "ing_ca_certificate", "ing_ca_certificate_name",
)


class AccountBankLink(models.Model):
    _inherit = "account.bank.link"

    provider = fields.Selection(selection_add=[("ing", "ING")], ondelete={"ing": "cascade"})
    ing_environment = fields.Selection(
        [("sandbox", "Sandbox (test)"), ("production", "Production")],
        string="ING environment",
        default="sandbox",
        tracking=True,
        groups=ADMIN_GROUP,
    )
    # Where the link sends its tokens and signed requests: administrators
    # only, https only, ING's own host in production (see SECURITY.md).
    ing_base_url = fields.Char(
        "ING API URL",
        compute="_compute_ing_base_url",
        store=True,
        readonly=False,
        tracking=True,
        groups=ADMIN_GROUP,
        help="Production: https://api.ing.com. Sandbox: the local bank sandbox when "
        "one is configured, else ING's own sandbox.",
    )
    ing_client_id = fields.Char(
        "ING client id",
        groups=ADMIN_GROUP,
        help="The client id of your app in ING's developer portal. ING also "
        "returns it with every application token; the one ING returns wins.",
    )
    ing_tls_certificate = fields.Binary(
        "ING TLS certificate (QWAC)", attachment=False, groups=ADMIN_GROUP, copy=False
    )
    ing_tls_certificate_name = fields.Char(
        "ING TLS certificate file name", groups=ADMIN_GROUP, copy=False
    )
    ing_tls_key = fields.Binary(
        "ING TLS private key", attachment=False, groups=ADMIN_GROUP, copy=False
    )
    ing_tls_key_name = fields.Char(
        "ING TLS key file name", groups=ADMIN_GROUP, copy=False
    )
    ing_signing_certificate = fields.Binary(
        "ING signing certificate (QSealC)", attachment=False, groups=ADMIN_GROUP, copy=False
    )
    ing_signing_certificate_name = fields.Char(
        "ING signing certificate file name", groups=ADMIN_GROUP, copy=False
    )
    ing_signing_key = fields.Binary(
        "ING signing private key", attachment=False, groups=ADMIN_GROUP, copy=False
    )
    ing_signing_key_name = fields.Char(
        "ING signing key file name", groups=ADMIN_GROUP, copy=False
    )
    ing_ca_certificate = fields.Binary(
        "ING sandbox CA certificate",
        attachment=False,
        groups=ADMIN_GROUP,
        copy=False,
        help="Sandbox only: the certificate authority of the sandbox's HTTPS "
        "server. Production uses the system's trusted authorities.",
    )
    ing_ca_certificate_name = fields.Char(
        "ING CA certificate file name", groups=ADMIN_GROUP, copy=False
    )
    ing_tls_certificate_expiry = fields.Date(
        "TLS certificate valid until", compute="_compute_ing_certificate_facts", store=True
    )
    ing_signing_certificate_expiry = fields.Date(
        "Signing certificate valid until", compute="_compute_ing_certificate_facts", store=True
    )
    ing_tls_certificate_subject = fields.Char(
        "TLS certificate subject", compute="_compute_ing_certificate_facts", store=True
    )
    ing_signing_certificate_subject = fields.Char(
        "Signing certificate subject", compute="_compute_ing_certificate_facts", store=True
    )

    # ------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------

    @api.model
    def _bank_link_inherited_vals(self, vals):
        inherited = super()._bank_link_inherited_vals(vals)
        if vals.get("provider") == "ing" and not any(vals.get(f) for f in ING_KEYS):
            inherited.update(
                self._bank_link_inherited_settings("ing", vals, ING_SETTINGS, "ing_tls_key")
            )
        return inherited

    @api.constrains("ing_environment", "ing_base_url", "provider")
    def _check_ing_endpoints(self):
        for link in self.sudo().filtered(lambda record: record.provider == "ing"):
            link._bank_link_check_endpoints(
                link.ing_environment, ("ing_base_url",), ing_provider.PRODUCTION_HOSTS
            )

    @api.model
    def _ing_sandbox_url(self):
        parameter = self.env["ir.config_parameter"].sudo().get_param(SANDBOX_URL_PARAMETER)
        return (parameter or ing_provider.SANDBOX_URL).rstrip("/")

    @api.depends("ing_environment", "provider")
    def _compute_ing_base_url(self):
        for link in self:
            if link.provider != "ing":
                link.ing_base_url = False
            elif link.ing_environment == "production":
                link.ing_base_url = ing_provider.PRODUCTION_URL
            else:
                link.ing_base_url = link._ing_sandbox_url()

    @api.depends("ing_tls_certificate", "ing_signing_certificate")
    def _compute_ing_certificate_facts(self):
        for link in self:
            for kind in ("tls", "signing"):
                info = link._ing_certificate_info("ing_%s_certificate" % kind)
                link["ing_%s_certificate_expiry" % kind] = info and info.not_valid_after.date()
                link["ing_%s_certificate_subject" % kind] = info and info.subject

    def _ing_certificate_info(self, field_name):
        data = self._bank_link_pem_bytes(field_name)
        if not data:
            return False
        try:
            return pem_files.certificate_info(data)
        except pem_files.PemProblem:
            return False

    @api.constrains(*ING_CERTIFICATES, *ING_KEYS)
    def _check_ing_pem_files(self):
        for link in self:
            link._bank_link_check_pem_files(ING_CERTIFICATES, ING_KEYS, ING_KEY_PAIRS)

    @api.onchange(*ING_CERTIFICATES, *ING_KEYS)
    def _onchange_ing_pem_files(self):
        """Say at once, on upload, what the save would refuse."""
        try:
            self._bank_link_check_pem_files(ING_CERTIFICATES, ING_KEYS, ING_KEY_PAIRS)
        except ValidationError as error:
            return {
                "warning": {
                    "title": self.env._("Certificate or key refused"),
                    "message": error.args[0],
                }
            }

    # ------------------------------------------------------------------
    # Hooks of the framework
    # ------------------------------------------------------------------

    def _ing_config(self):
        self.ensure_one()
        self._bank_link_missing_settings(
            ("ing_base_url", "ing_tls_certificate", "ing_tls_key",
             "ing_signing_certificate", "ing_signing_key")
        )
        self._bank_link_check_expiry(
            ("ing_tls_certificate_expiry", "ing_signing_certificate_expiry")
        )
        link = self.sudo()
        # Again at use: a row written around the ORM must not send tokens
        # to a host the constraint would refuse.
        link._check_ing_endpoints()
        verify = True
        if link.ing_environment == "sandbox" and link.ing_ca_certificate:
            verify = link._bank_link_pem_path("ing_ca_certificate", "-ca.pem")
        production = link.ing_environment == "production"
        return ing_provider.IngConfig(
            authorization_hosts=ing_provider.authorization_hosts(link.ing_base_url, production),
            base_url=link.ing_base_url.rstrip("/"),
            client_id=link.ing_client_id or "",
            tls_cert_path=link._bank_link_pem_path("ing_tls_certificate", "-tls.pem"),
            tls_key_path=link._bank_link_pem_path("ing_tls_key", "-tls.key"),
            signing_cert_path=link._bank_link_pem_path("ing_signing_certificate", "-signing.pem"),
            signing_key_path=link._bank_link_pem_path("ing_signing_key", "-signing.key"),
            verify=verify,
        )

    def _bank_link_provider_class(self):
        if self.provider != "ing":
            return super()._bank_link_provider_class()
        return ing_provider.IngProvider

    def _bank_link_get_provider(self):
        if self.provider != "ing":
            return super()._bank_link_get_provider()
        self.ensure_one()
        return ing_provider.IngProvider(self._ing_config())

    def _bank_link_wizard_texts(self):
        texts = super()._bank_link_wizard_texts()
        if self.provider == "ing":
            texts.update(
                consent=self.env._(
                    "You are sent to ING. Only the company's legal representative "
                    "(wettelijk vertegenwoordiger) can give this consent; someone who is "
                    "only authorised on the account cannot. Log in with the ING app, "
                    "choose the accounts and confirm. Afterwards you come back here."
                ),
                eligibility=self.env._(
                    "ING links business current accounts and G-accounts. Savings, "
                    "foreign-currency, investment and private accounts cannot be linked."
                ),
                first_fetch=self.env._(
                    "ING delivers transactions daily; we fetch them up to 4 times a day. "
                    "Linked before 20:00? Then today's transactions arrive today; linked "
                    "later, they arrive tomorrow."
                ),
            )
        return texts

    def _bank_link_account_eligibility(self, bank_account):
        eligible, reason = super()._bank_link_account_eligibility(bank_account)
        if self.provider != "ing":
            return eligible, reason
        # ING's own rule, worded for the user in their language (the
        # provider's reason is English).
        ing_eligible, _english = ing_mapping.eligibility(
            bank_account.product, bank_account.currency
        )
        if not bank_account.iban:
            return False, self.env._("This account has no IBAN (card account).")
        if not ing_eligible:
            return False, self._ing_ineligible_reason(bank_account)
        return eligible, reason

    def _ing_ineligible_reason(self, bank_account):
        currency = (bank_account.currency or "").upper()
        product = (bank_account.product or "").strip()
        name = product.lower()
        if currency != "EUR":
            return self.env._(
                "This is a foreign-currency account (%(currency)s): only euro accounts "
                "can be linked.",
                currency=currency or "-",
            )
        if any(word in name for word in ing_mapping.EXCLUDED_PRODUCTS[0][1]):
            return self.env._(
                "This is a savings account (%(product)s): only business current "
                "accounts and G-accounts can be linked.",
                product=product,
            )
        if any(word in name for word in ing_mapping.EXCLUDED_PRODUCTS[1][1]):
            return self.env._(
                "This is an investment account (%(product)s): only business current "
                "accounts and G-accounts can be linked.",
                product=product,
            )
        if any(word in name for word in ing_mapping.PRIVATE_PRODUCTS):
            return self.env._(
                "This is a private account (%(product)s): only business current "
                "accounts and G-accounts can be linked.",
                product=product,
            )
        return self.env._(
            "ING product '%(product)s' is not a business current account or G-account "
            "and cannot be linked.",
            product=product or "-",
        )
