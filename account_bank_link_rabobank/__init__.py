# The Odoo models come with the addon's manifest; until then only the
# plain-Python client in tools/ exists (see tools/__init__.py).
