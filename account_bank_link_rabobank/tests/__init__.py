from . import test_rabobank_registration
from . import test_rabobank_conformance
