from . import test_ing_settings
from . import test_ing_end_to_end
from . import test_ing_faults
from . import test_ing_attacks
