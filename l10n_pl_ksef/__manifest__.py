{
    "name": "Poland: KSeF 2.0",
    "summary": "Send invoices to the Polish National e-Invoice System (KSeF 2.0) and import purchase invoices",
    "version": "19.0.1.0.0",
    "category": "Accounting/Localizations/EDI",
    "author": "einvoice contributors",
    "license": "LGPL-3",
    "countries": ["pl"],
    "depends": ["account_einvoice", "l10n_pl"],
    "external_dependencies": {"python": ["einvoice"]},
}
