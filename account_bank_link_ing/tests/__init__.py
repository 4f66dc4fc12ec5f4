from . import test_ing_settings
from . import test_ing_conformance
