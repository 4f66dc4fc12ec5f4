"""Plain-Python parts of the bunq link: no Odoo imports anywhere below.

Import the modules themselves (``from .tools import bunq_client``); this
package imports nothing so that each module loads on its own, also outside
Odoo (see ``tests/conftest.py``).
"""
