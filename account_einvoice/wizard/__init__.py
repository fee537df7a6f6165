from . import account_einvoice_import_wizard
from . import account_move_reversal
