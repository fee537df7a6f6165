from . import test_cius_ro
from . import test_install
