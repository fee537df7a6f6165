from . import test_move_mapping
from . import test_security
from . import test_inbox
from . import test_shared_budget
from . import test_inbox_review
from . import test_translations
from . import test_tour
