from . import account_bank_link
from . import account_bank_link_secret
from . import account_bank_link_account
from . import account_bank_statement
from . import account_journal
from . import res_company
from . import account_move
from . import account_journal_reference
