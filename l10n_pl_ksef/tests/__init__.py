from . import test_coexistence
from . import test_connection
from . import test_fa3
from . import test_install
from . import test_send
