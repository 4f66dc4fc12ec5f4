"""Tests of the bank sandbox itself (real HTTPS, real mTLS, no addon code)."""

from sandbox import bank_sandbox, bank_sandbox_session  # noqa: F401  (pytest fixtures)
