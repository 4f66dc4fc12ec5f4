from . import account_payment_order_bank_submission
from . import account_payment_order
from . import account_payment_line
from . import account_bank_statement_line
