from . import test_bank_link_fetch
from . import test_bank_link_balance
from . import test_bank_link_lifecycle
from . import test_bank_link_security
from . import test_bank_link_consent
from . import test_bank_link_wizard
from . import test_invoice_reference
from . import test_translations
