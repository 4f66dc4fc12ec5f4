from . import bank_link_wizard
