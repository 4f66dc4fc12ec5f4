# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Bank Link: Knab, Triodos, ASN Bank, SNS, RegioBank",
    "summary": "Link Knab, Triodos Bank, ASN Bank, SNS and RegioBank business accounts through their "
    "Berlin Group NextGenPSD2 interfaces",
    "version": "18.0.1.0.0",
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
        "views/account_bank_registration_views.xml",
    ],
}
