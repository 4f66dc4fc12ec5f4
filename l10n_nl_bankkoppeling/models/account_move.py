from odoo import api, models
from odoo.exceptions import ValidationError

from ..tools import betalingskenmerk


class AccountMove(models.Model):
    _inherit = "account.move"

    def _get_invoice_reference_nl_invoice(self):
        """A 16-digit betalingskenmerk built from the invoice's database id:
        unique in the database (so per company too), known as soon as the
        invoice exists, and never changed once posted (Odoo computes the
        payment reference only while it is empty)."""
        self.ensure_one()
        return betalingskenmerk.generate(self.id)

    def _get_invoice_reference_nl_partner(self):
        """Customer-based: the partner's id and the invoice's id, so each
        invoice still gets its own betalingskenmerk. Kept to 15 digits:
        partner id in the first 6, invoice id in the last 9."""
        self.ensure_one()
        return betalingskenmerk.generate(
            (self.commercial_partner_id.id % 10**6) * 10**9 + self.id % 10**9
        )

    def _l10n_nl_payment_reference_display(self):
        """The payment reference as printed: a betalingskenmerk in groups of
        four (``5000 0567 8901 2345``), anything else unchanged."""
        self.ensure_one()
        reference = self.payment_reference or ""
        if betalingskenmerk.is_valid(reference):
            return betalingskenmerk.format(reference)
        return reference

    @api.constrains("payment_reference", "state")
    def _check_l10n_nl_payment_reference_unique(self):
        """Two open customer invoices of one company must never share a
        betalingskenmerk: a payment would fit both."""
        invoices = self.filtered(
            lambda m: m.state == "posted" and m.move_type == "out_invoice"
            and m.journal_id.invoice_reference_model == "nl" and m.payment_reference
        )
        references = {betalingskenmerk.compact(m.payment_reference) for m in invoices}
        if not references:
            return
        duplicates = self.env["account.move"]._read_group(
            [("move_type", "=", "out_invoice"), ("state", "=", "posted"),
             ("company_id", "in", invoices.company_id.ids), ("payment_reference", "in", list(references))],
            ["company_id", "payment_reference"],
            ["__count"],
            having=[("__count", ">", 1)],
        )
        if duplicates:
            company, reference, _count = duplicates[0]
            raise ValidationError(self.env._(
                "The betalingskenmerk %(reference)s is already used on another invoice of %(company)s. "
                "Each invoice needs its own payment reference.",
                reference=betalingskenmerk.format(reference), company=company.name,
            ))
