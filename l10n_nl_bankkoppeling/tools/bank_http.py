"""HTTP helpers every bank client needs: retry timing, ``Retry-After``,
exact JSON, and tidy text fields. Plain Python, no Odoo imports."""

from __future__ import annotations

import dataclasses
import datetime
import email.utils
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from . import ibans, provider


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
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return max((moment - datetime.datetime.now(datetime.timezone.utc)).total_seconds(), 0.0)


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
