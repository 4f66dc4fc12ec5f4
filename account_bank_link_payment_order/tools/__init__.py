"""Plain-Python parts of the payment-order link: no Odoo imports below."""
