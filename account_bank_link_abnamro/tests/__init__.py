from . import test_abnamro_settings
from . import test_abnamro_end_to_end
from . import test_abnamro_faults
from . import test_abnamro_consent_per_account
from . import test_abnamro_attacks
