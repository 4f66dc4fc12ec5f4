from . import account_bank_link
from . import account_bank_registration
