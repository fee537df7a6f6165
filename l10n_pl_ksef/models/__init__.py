from . import account_einvoice_document
from . import account_einvoice_inbox
from . import account_move
from . import account_move_send
from . import l10n_pl_ksef_connection
from . import l10n_pl_ksef_credentials
from . import res_company
from . import template_pl
