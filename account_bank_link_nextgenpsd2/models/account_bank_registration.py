# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Triodos's dynamic client registration: Triodos has no portal; the
registration's certificates register themselves once by API and Triodos
returns the client id and secret (readme/CONFIGURE.md)."""

from odoo import models
from odoo.exceptions import UserError

from odoo.addons.l10n_nl_bankkoppeling.controllers.main import CALLBACK_PATH
from odoo.addons.l10n_nl_bankkoppeling.tools import provider as bank_provider

from ..tools import nextgenpsd2_provider


class AccountBankRegistration(models.Model):
    _inherit = "account.bank.registration"

    def action_nextgenpsd2_register_client(self):
        """Register this Triodos registration's certificate at Triodos and
        keep the client id and secret it answers. A new certificate revokes
        the earlier client at Triodos: register again after a change."""
        self.ensure_one()
        # The button is on an administrator's form, but a method is callable over RPC by
        # anyone who knows a record id: the sudo() below may only follow the caller's own
        # right to change this registration (ACL and company rules).
        self.check_access("write")
        registration = self.sudo()
        if registration.provider != "triodos":
            raise UserError(self.env._("Only Triodos Bank registers by API; other banks give the client id in their portal."))
        registration._bank_link_missing_settings(
            ("api_base_url", "auth_base_url", "tls_certificate", "tls_key", "signing_certificate", "signing_key")
        )
        config = nextgenpsd2_provider.NextGenPsd2Config(
            api_base_url=registration.api_base_url.rstrip("/"),
            auth_base_url=registration.auth_base_url.rstrip("/"),
            tls_cert_path=registration._bank_link_pem_path("tls_certificate", "-tls.pem"),
            tls_key_path=registration._bank_link_pem_path("tls_key", "-tls.key"),
            signing_cert_path=registration._bank_link_pem_path("signing_certificate", "-signing.pem"),
            signing_key_path=registration._bank_link_pem_path("signing_key", "-signing.key"),
            verify=registration._bank_registration_verify(),
            sandbox=registration.environment == "sandbox",
        )
        redirect_uri = self.env["account.bank.link"].sudo().get_base_url() + CALLBACK_PATH
        try:
            answer = nextgenpsd2_provider.TriodosProvider(config).register_client([redirect_uri])
        except bank_provider.BankLinkError as error:
            raise UserError(
                self.env._("Triodos Bank refused the registration: %(detail)s", detail=error.__class__.__name__)
            ) from error
        registration.write({"client_id": answer["client_id"], "client_secret": answer["client_secret"]})
        registration.message_post(
            body=self.env._("Registered at Triodos Bank for %(url)s.", url=redirect_uri)
        )
        return True
