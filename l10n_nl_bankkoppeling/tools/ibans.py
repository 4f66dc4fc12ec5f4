"""IBANs as the banks send them and as users type them: one helper.

Plain Python (no Odoo), over ``python-stdnum`` (already a dependency).
"""

from __future__ import annotations

from typing import Any

from stdnum import iban as _stdnum_iban
from stdnum.exceptions import ValidationError


class IbanError(ValueError):
    """Not an IBAN; the message says why, for the user."""


def compact(value: Any) -> str | None:
    """Without white space or dashes, upper case; None when empty or not text."""
    if not isinstance(value, str):
        return None
    return _stdnum_iban.compact("".join(value.split())) or None


def is_valid(value: Any) -> bool:
    """Country, length and check digits are right."""
    iban = compact(value)
    return bool(iban) and _stdnum_iban.is_valid(iban)


def validate(value: Any) -> str:
    """The compact IBAN, or :class:`IbanError` naming what is wrong."""
    iban = compact(value)
    if not iban:
        raise IbanError("No IBAN given")
    try:
        return _stdnum_iban.validate(iban)
    except ValidationError as error:
        raise IbanError(f"{format_iban(iban)} is not a valid IBAN: {error}") from None


def format_iban(value: Any) -> str:
    """In groups of four, as printed on a statement; '' when empty."""
    return _stdnum_iban.format(compact(value) or "")


def same(first: Any, second: Any) -> bool:
    """The same account, however each was spaced or cased."""
    return compact(first) is not None and compact(first) == compact(second)
