# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Dutch Bank Link (Bankkoppeling)",
    "summary": "Link Dutch business bank accounts, fetch statements on a schedule "
    "and recognise Dutch payment references (betalingskenmerk, RF)",
    "version": "18.0.1.1.0",
    "category": "Accounting/Localizations",
    "website": "https://github.com/bankkoppeling/odoo-bankkoppeling",
    "author": "Bankkoppeling developers",
    "license": "LGPL-3",
    "countries": ["nl"],
    "depends": [
        "account",
        "l10n_nl",
        "mail",
        "account_statement_import_base",
        "account_reconcile_oca",
        "account_statement_import_camt",
    ],
    "external_dependencies": {
        "python": ["requests", "python-stdnum", "cryptography", "mt-940"],
    },
    "data": [
        "security/security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron.xml",
        "data/mail_template.xml",
        "data/mail_activity_type.xml",
        "views/account_bank_link_views.xml",
        "views/account_bank_registration_views.xml",
        "views/account_journal_views.xml",
        "views/res_config_settings_views.xml",
        "views/templates.xml",
        "wizards/bank_link_wizard_views.xml",
        "views/report_invoice.xml",
        "data/nl_reconcile_data.xml",
        "views/nl_reconcile_views.xml",
        "security/bank_file_security.xml",
        "views/bank_file_import_views.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "l10n_nl_bankkoppeling/static/src/js/reconcile_rule_offer.esm.js",
        ],
    },
    "post_init_hook": "_l10n_nl_bankkoppeling_post_init",
}
