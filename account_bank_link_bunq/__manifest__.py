# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Bank Link: bunq",
    "summary": "Link bunq business accounts through bunq's public API as a PSD2 provider",
    "version": "18.0.1.0.0",
    "category": "Accounting/Localizations",
    "website": "https://github.com/bankkoppeling/odoo-bankkoppeling",
    "author": "Bankkoppeling developers",
    "license": "LGPL-3",
    "countries": ["nl"],
    "depends": ["l10n_nl_bankkoppeling"],
    "data": ["views/account_bank_registration_views.xml"],
    "external_dependencies": {
        "python": ["requests", "cryptography"],
    },
}
