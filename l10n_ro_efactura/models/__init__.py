from . import account_einvoice_document
from . import account_move
from . import l10n_ro_efactura_connection
from . import l10n_ro_efactura_oauth_nonce
from . import res_company
from . import template_ro
from . import account_move_send
from . import res_config_settings
