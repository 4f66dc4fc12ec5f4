"""Plain-Python parts of the NextGenPSD2 link (Knab, Triodos, ASN Bank, SNS, RegioBank):
no Odoo imports anywhere below.

Import the modules themselves (``from .tools import profiles``); this package
imports nothing so that each module loads on its own, also outside Odoo (see
``tests/conftest.py``).
"""
