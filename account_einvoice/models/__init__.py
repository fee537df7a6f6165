from . import einvoice_secret_mixin
from . import account_einvoice_document
from . import account_move
from . import account_tax
from . import uom_uom
from . import account_move_send
from . import res_company
from . import res_config_settings
