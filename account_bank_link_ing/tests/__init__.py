from . import test_ing_settings
