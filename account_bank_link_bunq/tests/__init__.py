from . import test_bunq_registration
from . import test_bunq_attacks
from . import test_bunq_end_to_end
from . import test_bunq_conformance
from . import test_bunq_psp_registration
