from . import account_einvoice_document
from . import account_move
from . import template_ro
