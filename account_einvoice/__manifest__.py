{
    "name": "E-invoicing: national platforms",
    "summary": "Clearance of customer invoices and import of supplier invoices through national e-invoicing platforms",
    "version": "19.0.1.0.0",
    "category": "Accounting/Localizations/EDI",
    "author": "einvoice contributors",
    "license": "LGPL-3",
    "depends": ["account", "mail"],
    "external_dependencies": {"python": ["efactura-ksef", "cryptography", "lxml", "requests"]},
    "data": [
        "security/account_einvoice_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron.xml",
        "data/uom_data.xml",
        "views/account_einvoice_document_views.xml",
        "views/account_move_views.xml",
        "views/account_einvoice_inbox_views.xml",
        "views/account_tax_views.xml",
        "views/res_config_settings_views.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "account_einvoice/static/tests/tours/**/*",
        ],
    },
}
