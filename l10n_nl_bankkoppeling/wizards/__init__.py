from . import bank_link_wizard
from . import account_statement_import
