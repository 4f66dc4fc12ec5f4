# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The security model, checked over the whole registry: every secret,
credential or bank endpoint of every bank addon installed is readable and
writable by link administrators only, and none lives in an attachment
that ``ir.attachment`` would serve (see readme/SECURITY.md). A new bank
addon that forgets ``groups`` or keeps a key as a field attachment fails
here, before review."""

import re

from odoo.tests import TransactionCase, tagged

ADMIN_GROUPS = {"l10n_nl_bankkoppeling.group_bank_link_admin", "base.group_system"}
#: Names that say a field holds a secret or a credential file.
SECRET_NAME = re.compile(
    r"(^|_)(token|secret|password|api_key|key|private_key|certificate|nonce_hash|"
    r"token_hash|bank_data)(_|$)"
)
#: Names that say a field chooses where the link talks to: the bank's hosts.
ENDPOINT_NAME = re.compile(r"(^|_)(url|environment|host|endpoint)$")
#: Named like a secret, but none: the keys that recognise a statement or
#: a transaction again (hashes of bank data the accountant sees anyway).
NOT_SECRET_FIELDS = {
    ("account.bank.statement", "nl_statement_key"),
    ("account.bank.statement.line", "nl_transaction_key"),
}
#: Fields whose names look like that but are no secret or endpoint, and why.
NOT_SECRET = {
    # A date, a subject line, a file name or a yes/no about the credential.
    "expiry", "subject", "name", "valid_until", "given", "expires_at",
    # Sent with every batch so the bank refuses a second copy: no secret.
    "idempotency",
}
#: Fields named like an endpoint that users must read: where the bank sends
#: the user to approve a batch (the bank's answer, never chosen by a user).
USER_URLS = {
    ("account.payment.order.bank.submission", "approval_url"),
    ("account.payment.order", "bank_approval_url"),
}
OUR_PREFIXES = ("l10n_nl_bankkoppeling", "account_bank_link_")


def _ours(field):
    return (getattr(field, "_module", None) or "").startswith(OUR_PREFIXES)


def _is_secret(name):
    parts = set(name.split("_"))
    return bool(SECRET_NAME.search(name)) and not parts & NOT_SECRET


@tagged("post_install", "-at_install")
class TestSecurityRegistry(TransactionCase):
    def our_fields(self):
        for model_name in self.env.registry:
            model = self.env[model_name]
            for name, field in model._fields.items():
                if _ours(field) and not field.related:
                    yield model_name, name, field

    def test_the_check_sees_the_bank_addons_credentials(self):
        seen = {(model, name) for model, name, _field in self.our_fields()}
        # The walk would be worthless if it missed the fields it is for.
        self.assertIn(("account.bank.registration", "tls_key"), seen)
        self.assertIn(("account.bank.registration", "api_key"), seen)
        self.assertIn(("account.bank.link.secret", "refresh_token"), seen)
        self.assertIn(("account.bank.registration", "signing_key"), seen)
        self.assertIn(("account.bank.registration", "auth_base_url"), seen)
        self.assertTrue(_is_secret("ing_signing_key"))
        self.assertFalse(_is_secret("ing_tls_certificate_expiry"))

    def test_secret_and_credential_fields_are_admin_only_and_not_attachments(self):
        problems = []
        for model, name, field in self.our_fields():
            if (model, name) in NOT_SECRET_FIELDS:
                continue
            if not _is_secret(name) or field.type in ("many2one", "one2many", "boolean"):
                continue
            groups = set(filter(None, (field.groups or "").split(",")))
            if not groups or not groups <= ADMIN_GROUPS:
                problems.append(f"{model}.{name}: groups={field.groups!r}")
            if field.type == "binary" and field.attachment:
                problems.append(f"{model}.{name}: a field attachment (ir.attachment serves it)")
        self.assertEqual(problems, [], "secrets readable beyond link administrators")

    def test_bank_endpoints_are_admin_only(self):
        problems = []
        for model, name, field in self.our_fields():
            if not ENDPOINT_NAME.search(name) or (model, name) in USER_URLS:
                continue
            if model not in ("account.bank.link", "account.bank.registration"):
                continue
            groups = set(filter(None, (field.groups or "").split(",")))
            if not groups or not groups <= ADMIN_GROUPS:
                problems.append(f"{model}.{name}: groups={field.groups!r}")
        self.assertEqual(problems, [], "bank endpoints writable beyond link administrators")

    def test_secret_models_grant_access_to_administrators_only(self):
        admin_groups = self.env.ref("l10n_nl_bankkoppeling.group_bank_link_admin") | \
            self.env.ref("base.group_system")
        for model_name in self.env.registry:
            secret_model = model_name.startswith("account.bank.link") and "secret" in model_name
            if not secret_model and model_name != "account.bank.registration":
                continue
            access = self.env["ir.model.access"].sudo().search(
                [("model_id.model", "=", model_name)])
            self.assertTrue(access, f"{model_name} has no access rule at all")
            for row in access:
                self.assertIn(row.group_id, admin_groups,
                              f"{model_name}: access for {row.group_id.full_name or 'everyone'}")

    def test_no_credential_is_kept_as_an_attachment(self):
        # The link's and the bank registration's (every bank's settings live there now).
        credential_fields = [
            (model, name) for model, name, field in self.our_fields()
            if model in ("account.bank.link", "account.bank.registration") and field.type == "binary"
        ]
        self.assertIn(("account.bank.registration", "tls_key"), credential_fields)
        for model, name in credential_fields:
            self.assertFalse(self.env["ir.attachment"].sudo().search_count([
                ("res_model", "=", model), ("res_field", "=", name),
            ]), f"{model}.{name} kept as an attachment")
