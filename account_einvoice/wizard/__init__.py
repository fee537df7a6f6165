from . import account_einvoice_import_wizard
