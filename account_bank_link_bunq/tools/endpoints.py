"""bunq's hosts (``../shared/specs/bunq/NOTES.md``, "Hosts") [C B-doc, B-sdk].

Three hosts in production: the API, the OAuth page the customer's browser
opens, and the OAuth token endpoint. A sandbox (bunq's or the local one) is
configured by its three URLs.
"""

from __future__ import annotations

#: The only hosts a production link may send keys and tokens to.
PRODUCTION_HOSTS = ("api.bunq.com", "oauth.bunq.com", "api.oauth.bunq.com")

PRODUCTION_API_URL = "https://api.bunq.com/v1"
PRODUCTION_AUTHORIZE_URL = "https://oauth.bunq.com/auth"
PRODUCTION_TOKEN_URL = "https://api.oauth.bunq.com/v1/token"

SANDBOX_API_URL = "https://public-api.sandbox.bunq.com/v1"
SANDBOX_AUTHORIZE_URL = "https://oauth.sandbox.bunq.com/auth"
SANDBOX_TOKEN_URL = "https://api-oauth.sandbox.bunq.com/v1/token"

#: Relative to the API base URL (which ends in ``/v1``).
INSTALLATION_PATH = "/installation"
DEVICE_SERVER_PATH = "/device-server"
SESSION_SERVER_PATH = "/session-server"
SESSION_PATH = "/session/{session_id}"
PSP_CREDENTIAL_PATH = "/payment-service-provider-credential"
OAUTH_CLIENT_PATH = "/user/{user_id}/oauth-client"
MONETARY_ACCOUNTS_PATH = "/user/{user_id}/monetary-account"
MONETARY_ACCOUNT_PATH = "/user/{user_id}/monetary-account/{account_id}"
PAYMENTS_PATH = "/user/{user_id}/monetary-account/{account_id}/payment"
