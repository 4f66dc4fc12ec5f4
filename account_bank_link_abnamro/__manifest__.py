# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Bank Link: ABN AMRO",
    "summary": "Link ABN AMRO business accounts through ABN AMRO's PSD2 Account Information API",
    "version": "18.0.1.2.0",
    "category": "Accounting/Localizations",
    "website": "https://github.com/bankkoppeling/odoo-bankkoppeling",
    "author": "Bankkoppeling developers",
    "license": "LGPL-3",
    "countries": ["nl"],
    "depends": ["l10n_nl_bankkoppeling"],
    "external_dependencies": {
        "python": ["requests", "cryptography"],
    },
    "data": [
        "views/account_bank_link_views.xml",
    ],
}
