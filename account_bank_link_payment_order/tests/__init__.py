from . import test_payment_orders
from . import test_payment_end_to_end
from . import test_payment_rabobank
from . import test_payment_nextgenpsd2
from . import test_payment_attacks
from . import test_payment_routes_security
from . import test_payment_bunq
