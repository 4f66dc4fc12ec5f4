from . import account_bank_link
from . import bank_link_wizard
