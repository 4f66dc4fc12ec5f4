"""Fixtures of the crash and restart tests (crash_harness.py: a module name
of its own, since every test folder has a conftest)."""

from crash_harness import crash_world  # noqa: F401  (pytest fixture)
