"""bunq's hosts (``../shared/specs/bunq/NOTES.md``, "Hosts") [C B-doc, B-sdk].

Three hosts in production: the API, the OAuth page the customer's browser
opens, and the OAuth token endpoint. A sandbox (bunq's or the local one) is
configured by its three URLs.
"""

from __future__ import annotations

from urllib.parse import urlsplit

#: The only hosts a production link may send keys and tokens to.
PRODUCTION_HOSTS = ("api.bunq.com", "oauth.bunq.com", "api.oauth.bunq.com")

PRODUCTION_API_URL = "https://api.bunq.com/v1"
PRODUCTION_AUTHORIZE_URL = "https://oauth.bunq.com/auth"
PRODUCTION_TOKEN_URL = "https://api.oauth.bunq.com/v1/token"

SANDBOX_API_URL = "https://public-api.sandbox.bunq.com/v1"
SANDBOX_AUTHORIZE_URL = "https://oauth.sandbox.bunq.com/auth"
SANDBOX_TOKEN_URL = "https://api-oauth.sandbox.bunq.com/v1/token"

#: The local sandbox (setup/bank_sandbox/bunq.py): API, OAuth page and token on one port.
LOCAL_SANDBOX_API_PATH = "/v1"
LOCAL_SANDBOX_AUTH_PATH = "/auth"

#: bunq's OAuth page host -> its token endpoint [C B-doc].
TOKEN_URLS = {
    "oauth.bunq.com": PRODUCTION_TOKEN_URL,
    "oauth.sandbox.bunq.com": SANDBOX_TOKEN_URL,
}


def token_url_for(api_base_url: str, authorize_url: str) -> str:
    """The OAuth token endpoint: bunq's own for bunq's OAuth pages; for
    another host (the local sandbox, with the API on the same port) the
    API's ``/token``."""
    host = urlsplit(authorize_url).hostname or ""
    return TOKEN_URLS.get(host) or api_base_url.rstrip("/") + "/token"


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
DRAFT_PAYMENTS_PATH = "/user/{user_id}/monetary-account/{account_id}/draft-payment"
DRAFT_PAYMENT_PATH = "/user/{user_id}/monetary-account/{account_id}/draft-payment/{draft_id}"
