"""HTTP helpers every bank client needs: one transport (time-outs, retries
honouring ``Retry-After``, transport failures as the typed errors of
``provider.py``), exact JSON, and tidy text fields. Plain Python, no Odoo
imports."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import email.utils
import json
import logging
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests

from . import ibans, provider

_logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a client retries 429, 5xx and time-outs."""

    max_attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 20.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (attempt counts from 1)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        return min(self.base_delay * (2 ** (attempt - 1)), self.max_delay)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    with contextlib.suppress(ValueError):  # not delta-seconds: an HTTP date
        return max(float(value), 0.0)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return max((moment - datetime.datetime.now(datetime.UTC)).total_seconds(), 0.0)


def is_transient(response: requests.Response) -> bool:
    """429 and 5xx: worth another attempt later."""
    return response.status_code == 429 or response.status_code >= 500


@dataclasses.dataclass(frozen=True)
class Sent:
    """The last answer of :meth:`Transport.send` and how many attempts it took."""

    response: requests.Response
    attempts: int

    @property
    def transient(self) -> bool:
        return is_transient(self.response)

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.response.headers.get("Retry-After"))


@dataclasses.dataclass
class Transport:
    """One bank's HTTP: mutual TLS, time-outs, retries of 429, 5xx and
    time-outs with a capped backoff that honours ``Retry-After``.

    Hand-written rather than urllib3's ``Retry``: headers are rebuilt for
    every attempt (Date, X-Request-ID and the HTTP signature must be fresh),
    which a mounted ``Retry`` cannot do, and a ``Retry-After`` longer than
    ``max_delay`` must come back to the caller at once, not be slept on.
    ``cert`` and ``verify`` go with every request, not on the session:
    requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's
    verify.
    """

    bank: str
    session: requests.Session
    cert: tuple[str, str] | None
    verify: bool | str = True
    timeout: float | tuple[float, float] = 30.0
    retry: RetryPolicy = dataclasses.field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep

    def send(
        self,
        method: str,
        url: str,
        headers: Callable[[], Mapping[str, str]],
        *,
        context: str,
        retry: bool = True,
        data: Any = None,
        json_body: Any = None,
    ) -> Sent:
        """One request, tried again on 429, 5xx and time-outs (unless not
        ``retry``). ``headers`` is called for every attempt. Returns the last
        answer, transient or not; raises the typed errors for what is not
        an answer."""
        max_attempts = self.retry.max_attempts if retry else 1
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.session.request(
                    method, url, data=data, json=json_body, headers=dict(headers()),
                    timeout=self.timeout, cert=self.cert, verify=self.verify,
                    allow_redirects=False,
                )
            except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as error:
                if isinstance(error, requests.exceptions.SSLError):
                    raise self._failure(error, context) from None
                if attempt >= max_attempts:
                    raise provider.BankUnavailableError(
                        f"{self.bank} did not answer ({context}) after {attempt} attempt(s): "
                        f"{type(error).__name__}"
                    ) from None
                self._wait(attempt, None, context, type(error).__name__)
                continue
            except (requests.exceptions.RequestException, OSError) as error:
                raise self._failure(error, context) from None
            _logger.debug("%s %s %s -> %s", self.bank, method, urlsplit(url).path,
                          response.status_code)
            sent = Sent(response, attempt)
            if sent.transient and attempt < max_attempts:
                retry_after = sent.retry_after
                if retry_after is None or retry_after <= self.retry.max_delay:
                    self._wait(attempt, retry_after, context, str(response.status_code))
                    continue
            return sent

    def _failure(self, error: BaseException, context: str) -> provider.BankLinkError:
        if isinstance(error, requests.exceptions.SSLError):
            return provider.ConfigurationError(
                f"TLS with {self.bank} failed ({context}); check the certificates: {error}"
            )
        if isinstance(error, (requests.exceptions.ChunkedEncodingError,
                              requests.exceptions.ContentDecodingError)):
            return provider.ProtocolError(f"{self.bank}'s answer was cut short ({context})")
        # Bad URL, unreadable certificate or key file, ...: ours to fix.
        return provider.ConfigurationError(
            f"Cannot call {self.bank} ({context}): {type(error).__name__}: {error}"
        )

    def _wait(self, attempt: int, retry_after: float | None, context: str, why: str) -> None:
        delay = self.retry.delay(attempt, retry_after)
        _logger.info("%s %s: %s, attempt %d, retrying in %.1f s",
                     self.bank, context, why, attempt, delay)
        self.sleep(delay)


def parse_json(content: bytes, *, what: str, bank: str) -> Any:
    """JSON with every non-integer number as an exact Decimal: amounts must
    never pass through a float."""
    try:
        return json.loads(content.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError) as error:
        raise provider.ProtocolError(
            f"{bank} sent an answer that is not valid JSON ({what}): {error}"
        ) from None


def clean_text(value: Any) -> str | None:
    """A bank's text field with its white space folded; None when empty."""
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


#: Kept for bank addons written against it; the one implementation is
#: :func:`ibans.compact`.
compact_iban = ibans.compact


def jsonable(value: Any) -> Any:
    """A bank's record with Decimals turned back into JSON numbers (floats),
    so that ``raw`` can be stored as JSON; amounts used elsewhere stay
    Decimal."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value
