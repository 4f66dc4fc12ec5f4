# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""bunq's PSD2 provider registration from the registration's form: bunq has
no portal for third parties; the eIDAS seal certificate (QSealC) registers
itself by API (``/payment-service-provider-credential``) and bunq answers
the PSD2 API key, then the OAuth client whose id and secret the consents use
(readme/CONFIGURE.md)."""

import base64

from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.l10n_nl_bankkoppeling.controllers.main import CALLBACK_PATH
from odoo.addons.l10n_nl_bankkoppeling.tools import provider as bank_provider

from ..tools import bunq_client, endpoints

ADMIN_GROUP = "l10n_nl_bankkoppeling.group_bank_link_admin"


class AccountBankRegistration(models.Model):
    _inherit = "account.bank.registration"

    signing_certificate_chain = fields.Binary(
        "Certificate chain",
        attachment=False,
        groups=ADMIN_GROUP,
        copy=False,
        help="bunq only: the certificates of the trust service provider that issued the seal "
        "certificate (PEM), sent with it at the PSD2 registration.",
    )
    signing_certificate_chain_name = fields.Char("Certificate chain file name", groups=ADMIN_GROUP, copy=False)

    def action_bunq_register_psp(self):
        """Register this company at bunq as a PSD2 provider with the seal
        certificate and keep what bunq answers: the PSD2 API key and the
        OAuth client (id and secret) with Odoo's callback address."""
        self.ensure_one()
        # Callable over RPC by anyone with a record id: the sudo() below only
        # after the caller's own right to change this registration.
        self.check_access("write")
        registration = self.sudo()
        if registration.provider != "bunq":
            raise UserError(self.env._("Only bunq registers a PSD2 provider by API from here."))
        registration._bank_link_missing_settings(
            ("api_base_url", "auth_base_url", "signing_certificate", "signing_key", "signing_certificate_chain")
        )
        registration._bank_link_check_expiry(("signing_certificate_expiry",))
        registration._check_endpoints()
        api_url = registration.api_base_url.rstrip("/")
        authorize_url = registration.auth_base_url.rstrip("/")
        client = bunq_client.BunqClient(
            api_base_url=api_url, authorize_url=authorize_url,
            token_url=endpoints.token_url_for(api_url, authorize_url),
            verify=registration._bank_registration_verify(),
        )
        callback_url = self.env["account.bank.link"].sudo().get_base_url() + CALLBACK_PATH
        try:
            answer = client.register_psp(
                certificate_pem=base64.b64decode(registration.signing_certificate).decode(),
                chain_pem=base64.b64decode(registration.signing_certificate_chain).decode(),
                certificate_key_pem=base64.b64decode(registration.signing_key).decode(),
                callback_url=callback_url,
            )
        except bank_provider.BankLinkError as error:
            raise UserError(
                self.env._("bunq refused the PSD2 registration: %(detail)s", detail=error.__class__.__name__)
            ) from error
        finally:
            client.session.close()
        registration.write({
            "api_key": answer.context.api_key,
            "client_id": answer.client_id,
            "client_secret": answer.client_secret,
        })
        registration.message_post(
            body=self.env._("Registered at bunq as a PSD2 provider for %(url)s.", url=callback_url)
        )
        return True
