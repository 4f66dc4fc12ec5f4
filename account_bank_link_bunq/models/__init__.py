from . import account_bank_link
