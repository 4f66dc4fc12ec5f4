# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Bank Link: Payment and Direct-Debit Orders",
    "summary": "Send SEPA payment and direct-debit orders through the bank link, "
    "follow their status at the bank and reconcile the executed batch",
    "version": "18.0.1.0.0",
    "category": "Accounting/Payment",
    "website": "https://github.com/bankkoppeling/odoo-bankkoppeling",
    "author": "Bankkoppeling developers",
    "license": "LGPL-3",
    "countries": ["nl"],
    "depends": [
        "l10n_nl_bankkoppeling",
        "account_payment_order",
        "account_banking_sepa_credit_transfer",
        "account_banking_sepa_direct_debit",
    ],
    "external_dependencies": {
        "python": ["lxml"],
    },
    "data": [
        "security/security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron.xml",
        "views/account_payment_order_views.xml",
    ],
}
