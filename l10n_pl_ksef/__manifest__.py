{
    "name": "Poland: KSeF 2.0",
    "summary": "Send invoices to the Polish National e-Invoice System (KSeF 2.0) and import purchase invoices",
    "version": "19.0.1.0.0",
    "category": "Accounting/Localizations/EDI",
    "author": "einvoice contributors",
    "license": "LGPL-3",
    "countries": ["pl"],
    "depends": ["account_einvoice", "l10n_pl"],
    "external_dependencies": {"python": ["efactura-ksef"]},
    "data": [
        "security/ir.model.access.csv",
        "security/l10n_pl_ksef_security.xml",
        "data/ir_cron.xml",
        "views/account_move_views.xml",
        "views/product_views.xml",
        "views/report_invoice.xml",
        "views/l10n_pl_ksef_connection_views.xml",
        "views/account_einvoice_inbox_views.xml",
        "views/res_config_settings_views.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "l10n_pl_ksef/static/tests/tours/**/*",
        ],
    },
    "post_init_hook": "_post_init_hook",
    "uninstall_hook": "_uninstall_hook",
}
