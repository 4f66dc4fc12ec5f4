from . import account_bank_link
from . import account_bank_link_account
from . import bank_link_wizard
