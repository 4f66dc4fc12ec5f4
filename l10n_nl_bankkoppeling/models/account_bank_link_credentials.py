import base64
import os

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import config

from ..tools import endpoints, pem_files

ADMIN_GROUP = "l10n_nl_bankkoppeling.group_bank_link_admin"


class BankSettingsMixin(models.AbstractModel):
    """What every holder of bank credentials needs (the bank registration,
    and until their move the ING and ABN AMRO settings on the link): uploaded
    PEM files checked before they fail at the bank, written to a private file
    when the TLS layer needs one, endpoints that are https and the bank's
    own, and settings that must be complete."""

    _name = "account.bank.settings.mixin"
    _description = "Bank credentials: checks shared by every bank"

    def _bank_link_check_endpoints(self, environment, field_names, production_hosts):
        """Refuse an endpoint that is not ``https``, or, in production, not
        one of the bank's own hosts: the tokens and keys go where it says."""
        for link in self.sudo():
            for name in field_names:
                value = link[name]
                if not value:
                    continue  # the missing-settings check names it when used
                hosts = production_hosts if environment == "production" else ()
                try:
                    endpoints.validate(value, hosts)
                except endpoints.EndpointProblem as problem:
                    raise ValidationError(
                        link._bank_link_endpoint_message(name, problem)
                    ) from problem

    def _bank_link_endpoint_message(self, field_name, problem):
        label = self._fields[field_name]._description_string(self.env)
        if problem.code == "not_https":
            return self.env._(
                "%(field)s must start with https:// (the link sends its tokens "
                "there): %(url)s",
                field=label,
                url=problem.url,
            )
        if problem.code == "credentials":
            return self.env._(
                "%(field)s may not contain a user name or password: %(url)s",
                field=label,
                url=problem.url,
            )
        if problem.code == "foreign_host":
            return self.env._(
                "%(field)s of a production link must be one of the bank's own "
                "hosts (%(hosts)s), not %(url)s.",
                field=label,
                hosts=", ".join(problem.allowed_hosts),
                url=problem.url,
            )
        return self.env._("%(field)s is not a valid web address: %(url)s", field=label, url=problem.url)

    def _bank_link_pem_bytes(self, field_name):
        """The uploaded file's bytes (Binary fields hold base64)."""
        self.ensure_one()
        value = self.sudo()[field_name]
        return base64.b64decode(value) if value else b""

    def _bank_link_check_pem_files(self, certificates, keys, pairs):
        """Refuse an upload that will only fail later at the bank: no
        certificate, expired, a key with a password or of another pair."""
        self.ensure_one()
        for name in certificates:
            data = self._bank_link_pem_bytes(name)
            if data:
                self._bank_link_pem_guard(name, pem_files.check_certificate, data)
        for name in keys:
            data = self._bank_link_pem_bytes(name)
            if data:
                self._bank_link_pem_guard(name, pem_files.load_private_key, data)
        for certificate_name, key_name in pairs:
            certificate = self._bank_link_pem_bytes(certificate_name)
            key = self._bank_link_pem_bytes(key_name)
            if certificate and key:
                self._bank_link_pem_guard(
                    certificate_name, pem_files.check_key_pair, certificate, key
                )

    def _bank_link_pem_guard(self, field_name, check, *args):
        try:
            return check(*args)
        except pem_files.PemProblem as problem:
            raise ValidationError(
                self._bank_link_pem_message(field_name, problem)
            ) from problem

    def _bank_link_pem_message(self, field_name, problem):
        label = self._fields[field_name]._description_string(self.env)
        date = problem.details.get("date")
        date = self._bank_link_format_date(date) if date else ""
        messages = {
            "not_certificate": self.env._(
                "%(field)s is not a certificate in PEM format. Upload the certificate "
                "file (.pem or .crt, starting with '-----BEGIN CERTIFICATE-----').",
                field=label,
            ),
            "not_key": self.env._(
                "%(field)s is not a private key in PEM format. Upload the key file "
                "(.key or .pem, starting with '-----BEGIN PRIVATE KEY-----').",
                field=label,
            ),
            "key_encrypted": self.env._(
                "%(field)s is protected by a password. Upload the key without a "
                "password (for example: openssl pkey -in key.pem -out key-open.pem).",
                field=label,
            ),
            "expired": self.env._(
                "%(field)s expired on %(date)s. Upload a valid certificate.",
                field=label,
                date=date,
            ),
            "not_yet_valid": self.env._(
                "%(field)s is only valid from %(date)s on.", field=label, date=date
            ),
            "key_mismatch": self.env._(
                "The private key does not belong to %(field)s. Upload the key that "
                "was made together with this certificate.",
                field=label,
            ),
        }
        return messages[problem.kind]

    def _bank_link_pem_path(self, field_name, suffix):
        """A file (0600) under Odoo's data directory with the uploaded PEM:
        the TLS layer reads keys from files only."""
        self.ensure_one()
        data = self._bank_link_pem_bytes(field_name)
        directory = os.path.join(
            config["data_dir"], "bank_link", self.env.cr.dbname, self._bank_link_pem_folder()
        )
        return pem_files.materialise(directory, data, suffix)

    def _bank_link_pem_folder(self):
        """The record's own folder under the database's: the link's id (as
        before), the registration's prefixed so the two never meet."""
        return str(self.id)

    def _bank_link_missing_settings(self, required):
        link = self.sudo()
        labels = [
            link._fields[name]._description_string(self.env)
            for name in required
            if not link[name]
        ]
        if labels:
            raise UserError(
                self.env._(
                    "The bank link is not configured completely. An administrator must "
                    "fill in: %(settings)s.",
                    settings=", ".join(labels),
                )
            )

    def _bank_link_check_expiry(self, expiry_fields):
        today = fields.Date.context_today(self)
        for name in expiry_fields:
            expiry = self[name]
            if expiry and expiry < today:
                raise UserError(
                    self.env._(
                        "%(field)s: the certificate expired on %(date)s. An administrator "
                        "must upload a new one.",
                        field=self._fields[name]._description_string(self.env),
                        date=self._bank_link_format_date(expiry),
                    )
                )


    def _bank_link_format_date(self, date):
        lang = self.env["res.lang"]._lang_get(self.env.lang or "nl_NL")
        date_format = lang.date_format if lang else "%d-%m-%Y"
        return date.strftime(date_format) if date else ""


class AccountBankLink(models.Model):
    """The link's own part: settings a new consent takes over (ING and ABN
    AMRO) and the bank registration it uses (every other bank)."""

    _name = "account.bank.link"
    _inherit = ["account.bank.link", "account.bank.settings.mixin"]

    @api.model_create_multi
    def create(self, vals_list):
        # Odoo checks field groups on write but not on create: without this a
        # bank-link user could create a link with a planted CA, key or
        # endpoint. The check sees the caller's values only; the settings a
        # new link inherits from its company's configured link are added
        # after it, by the bank addons' ``_bank_link_inherited_vals``.
        if not self.env.su:
            for vals in vals_list:
                self.check_field_access_rights("create", list(vals))
        for vals in vals_list:
            vals.update(self._bank_link_inherited_vals(vals))
        return super().create(vals_list)

    @api.model
    def _bank_link_inherited_vals(self, vals):
        """Hook: settings a new link of ``vals['provider']`` takes over from
        the company's configured link of that bank (see
        ``_bank_link_inherited_settings``)."""
        return {}

    @api.model
    def _bank_link_move_credentials_from_attachments(self, field_names):
        """Upgrade step: credential files that older versions kept as field
        attachments (readable through ``ir.attachment`` by every link
        reader) move into the link's own admin-only column, and the
        attachments are deleted. Only files uploaded by a link administrator
        (or the system) are taken: anything else was planted. When the
        fields are gone (upgraded straight to a version whose settings live
        on the bank registration) the files are not taken over (the
        administrator uploads them there again), but still deleted."""
        Attachment = self.env["ir.attachment"].sudo().with_context(active_test=False)
        attachments = Attachment.search(
            [("res_model", "=", self._name), ("res_field", "in", list(field_names))]
        )
        if not set(field_names) <= set(self._fields):
            attachments.unlink()
            return
        admins = self.env.ref(ADMIN_GROUP).users
        links = self.sudo().browse(set(attachments.mapped("res_id"))).exists()
        for attachment in attachments:
            link = links.browse(attachment.res_id) & links
            # The system user is inactive, so the group's users omit it.
            trusted = attachment.create_uid in admins or attachment.create_uid._is_superuser()
            if link and trusted and attachment.datas and not link[attachment.res_field]:
                # The ORM reads the column now that the field has no attachment.
                link.with_context(bank_link_migration=True).write(
                    {attachment.res_field: attachment.datas}
                )
        attachments.unlink()

    @api.model
    def _bank_link_inherited_settings(self, provider, vals, names, configured_field):
        """Settings of the company's latest configured link of ``provider``
        (one whose ``configured_field`` is set)."""
        company_id = vals.get("company_id") or self.env.company.id
        candidates = self.sudo().search(
            [("company_id", "=", company_id), ("provider", "=", provider)], order="id desc"
        )
        for link in candidates:
            if link[configured_field]:
                return {name: link[name] for name in names if name not in vals}
        return {}

    @api.model
    def _bank_link_reusable_draft(self, provider, company):
        """A configured draft link without accounts (./setup/demo makes
        one per bank): the wizard continues with it instead of adding one."""
        return self.search(
            [
                ("company_id", "=", company.id),
                ("provider", "=", provider),
                ("state", "=", "draft"),
                ("account_ids", "=", False),
            ],
            order="id",
            limit=1,
        )

    @api.model
    def _bank_link_reusable_link(self, provider, company):
        """Hook: the link of ``provider`` a new wizard continues with (a
        configured draft without accounts, by default), or none."""
        return self._bank_link_reusable_draft(provider, company)

    def _bank_link_registration(self):
        """The bank registration (sudo) of this link's company and bank: the
        client id, certificates and endpoints it works with. A clear error
        naming the bank when an administrator has not configured one."""
        self.ensure_one()
        registration = self.env["account.bank.registration"].sudo().search(
            [("company_id", "=", self.company_id.id), ("provider", "=", self.provider)], limit=1
        )
        if not registration:
            labels = dict(self._fields["provider"]._description_selection(self.env))
            raise UserError(
                self.env._(
                    "%(bank)s is not configured for %(company)s: an administrator must add "
                    "its bank registration (client id, certificates) under Accounting > "
                    "Configuration > Bank registrations.",
                    bank=labels.get(self.provider, self.provider),
                    company=self.company_id.name,
                )
            )
        return registration
