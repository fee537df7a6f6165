from . import account_einvoice_document
