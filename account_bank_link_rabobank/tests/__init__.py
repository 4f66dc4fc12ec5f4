from . import test_rabobank_registration
from . import test_rabobank_attacks
from . import test_rabobank_end_to_end
