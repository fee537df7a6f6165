{
    "name": "Romania: RO e-Factura (ANAF SPV)",
    "summary": "Send customer invoices to ANAF's RO e-Factura and import supplier invoices from SPV",
    "version": "19.0.1.0.0",
    "category": "Accounting/Localizations/EDI",
    "author": "einvoice contributors",
    "license": "LGPL-3",
    "countries": ["ro"],
    "depends": ["account_einvoice", "l10n_ro"],
    "external_dependencies": {"python": ["efactura-ksef"]},
    "data": [
        "security/ir.model.access.csv",
        "security/l10n_ro_efactura_security.xml",
        "data/ir_cron.xml",
        "views/account_move_views.xml",
        "views/l10n_ro_efactura_connection_views.xml",
        "views/res_config_settings_views.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "l10n_ro_efactura/static/tests/tours/**/*",
        ],
    },
    "post_init_hook": "_post_init_hook",
    "uninstall_hook": "_uninstall_hook",
}
