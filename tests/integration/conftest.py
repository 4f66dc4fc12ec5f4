"""Fixtures for the bank clients' integration tests: the local bank sandbox
(real HTTPS, real mutual TLS; see tests/sandbox.py)."""

from sandbox import bank_sandbox, bank_sandbox_session  # noqa: F401  (pytest fixtures)
