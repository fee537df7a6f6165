from . import test_advance_invoices
from . import test_cius_ro
from . import test_coexistence
from . import test_install
from . import test_oauth
from . import test_send
from . import test_inbox
from . import test_tour
