from . import test_nextgenpsd2_end_to_end
from . import test_nextgenpsd2_conformance
from . import test_nextgenpsd2_settings
