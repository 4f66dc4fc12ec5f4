"""Rabobank's hosts and paths (``../shared/specs/rabobank/NOTES.md`` sections 1 and 3).

Production has two hosts: the authorisation server (``oauth.rabobank.nl``)
and the API (``api.rabobank.nl``); both put their paths under ``/openapi``.
A sandbox (Rabobank's or the local one) is configured by its base URL.
"""

from __future__ import annotations

#: The only hosts a production link may send tokens and secrets to.
PRODUCTION_HOSTS = ("api.rabobank.nl", "oauth.rabobank.nl")

PRODUCTION_API_URL = "https://api.rabobank.nl/openapi"  # [C R-spec]
PRODUCTION_AUTH_URL = "https://oauth.rabobank.nl/openapi/oauth2"  # [C R-oauth]
#: Rabobank's own sandbox: API and OAuth under one base [C R-spec; I public clients].
SANDBOX_API_URL = "https://api-sandbox.rabobank.nl/openapi/sandbox"
SANDBOX_AUTH_URL = "https://api-sandbox.rabobank.nl/openapi/sandbox/oauth2"
#: Under the local bank sandbox's base URL (setup/bank_sandbox/rabobank.py).
LOCAL_SANDBOX_API_PATH = "/openapi"
LOCAL_SANDBOX_AUTH_PATH = "/openapi/oauth2"

#: Relative to the API base URL.
AIS_PATH = "/payments/account-information/ais"  # 4.0.x: no /v3 [C R-spec]
#: Relative to the API base URL; the host is assumed [I Y].
CONSENT_DETAILS_PATH = "/oauth2/v1/consents/{consent_id}"
#: Relative to the authorisation base URL [I Y README].
AUTHORIZE_PATH = "/authorize"
TOKEN_PATH = "/token"
