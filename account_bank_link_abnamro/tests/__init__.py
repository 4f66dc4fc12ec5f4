from . import test_abnamro_settings
from . import test_abnamro_conformance
from . import test_abnamro_consent_per_account
