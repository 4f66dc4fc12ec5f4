# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Bank endpoints (API, login and token URLs) and the hosts they may name.

An endpoint decides where the link sends its access tokens, refresh tokens
and API keys, so it must be ``https`` and, for a production link, one of the
bank's own hosts. The standard library's URL parser does the parsing; what
is written here is only the policy (no library knows the banks' hosts).

In the style of python-stdnum: ``compact``, ``validate``, ``is_valid``.
"""

from __future__ import annotations

import dataclasses
import urllib.parse


@dataclasses.dataclass(frozen=True)
class EndpointProblem(ValueError):
    """Why a URL may not be a bank endpoint; ``code`` is stable for translation."""

    #: ``empty``, ``not_https``, ``credentials``, ``no_host`` or ``foreign_host``.
    code: str
    url: str
    allowed_hosts: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.code}: {self.url!r}"


def compact(url: str | None) -> str:
    """The URL without surrounding blanks and trailing slashes."""
    return (url or "").strip().rstrip("/")


def host(url: str | None) -> str:
    """The lower-case host name of ``url`` ('' when it has none)."""
    try:
        return (urllib.parse.urlsplit(compact(url)).hostname or "").lower()
    except ValueError:
        return ""


def validate(url: str | None, allowed_hosts: tuple[str, ...] | list[str] = ()) -> str:
    """The compacted URL when it may be a bank endpoint; raises
    :class:`EndpointProblem` otherwise. With ``allowed_hosts`` (production)
    the host must be one of them exactly: no sub-domains, so that a look-alike
    such as ``api.ing.com.example.net`` never passes."""
    value = compact(url)
    allowed = tuple(name.lower() for name in allowed_hosts)
    if not value:
        raise EndpointProblem("empty", value, allowed)
    try:
        parts = urllib.parse.urlsplit(value)
        _port = parts.port  # raises ValueError on a port that is no number
    except ValueError as error:
        raise EndpointProblem("no_host", value, allowed) from error
    if parts.scheme.lower() != "https":
        raise EndpointProblem("not_https", value, allowed)
    if parts.username or parts.password:
        raise EndpointProblem("credentials", value, allowed)
    name = (parts.hostname or "").lower()
    if not name:
        raise EndpointProblem("no_host", value, allowed)
    if allowed and name not in allowed:
        raise EndpointProblem("foreign_host", value, allowed)
    return value


def is_valid(url: str | None, allowed_hosts: tuple[str, ...] | list[str] = ()) -> bool:
    try:
        validate(url, allowed_hosts)
    except EndpointProblem:
        return False
    return True
