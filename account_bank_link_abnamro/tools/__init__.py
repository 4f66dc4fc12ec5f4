"""Plain-Python parts of the bank link: no Odoo imports anywhere below.

Import the modules themselves (``from .tools import betalingskenmerk``);
this package imports nothing so that each module loads on its own, also
outside Odoo (see ``tests/conftest.py``).
"""
