"""Betalingskenmerk (Dutch structured payment reference).

The Dutch banks' payment reference (Betaalvereniging specification) printed
on invoices and acceptgiro's.  It has 7 to 16 digits:

* 16 digits: a check digit followed by 15 digits;
* 9 to 14 digits: a check digit, a length code (the number of digits that
  follow it, modulo 10) and 7 to 12 digits;
* 7 digits: no check digit at all.

8 and 15 digits are not allowed.  The check digit is ``11 - (sum mod 11)``
(10 becomes 1, 11 becomes 0) over everything right of it, length code
included, with the weights 2, 4, 8, 5, 10, 9, 7, 3, 6, 1 (repeating) from
the rightmost digit.

This module follows python-stdnum's conventions and imports nothing from
Odoo.

>>> validate('5000 0567 8901 2345')
'5000056789012345'
>>> validate('271234567')
'271234567'
>>> is_valid('5010012368971337')  # invalid check digit
False
>>> format('5000056789012345')
'5000 0567 8901 2345'
>>> generate(123)
'0000000000000123'
>>> generate(1234567, length=9)
'271234567'
"""

from stdnum import exceptions
from stdnum.util import isdigits

WEIGHTS = (2, 4, 8, 5, 10, 9, 7, 3, 6, 1)
#: Lengths that carry a check digit and a length code.
LENGTH_CODE_LENGTHS = range(9, 15)
#: Every allowed length (8 and 15 are not allowed by the specification).
VALID_LENGTHS = (7, 9, 10, 11, 12, 13, 14, 16)
#: Characters payers type between digit groups.
SEPARATORS = ".-\u2013"

__all__ = [
    "InvalidCharacters",
    "InvalidCheckDigit",
    "InvalidLength",
    "InvalidLengthCode",
    "calc_check_digit",
    "calc_length_code",
    "compact",
    "format",
    "generate",
    "is_valid",
    "validate",
]


# The errors subclass python-stdnum's (which are ValueErrors), so callers
# catching either ``ValueError`` or ``stdnum.exceptions.ValidationError``
# get them, and their messages explain the rule that failed.
class InvalidLength(exceptions.InvalidLength):
    """The number has a length not allowed (allowed: 7, 9-14, 16 digits)."""

    message = "A betalingskenmerk has 7, 9 to 14 or 16 digits."


class InvalidCharacters(exceptions.InvalidFormat):
    """The number contains something else than digits and separators."""

    message = "A betalingskenmerk contains only the digits 0-9."


class InvalidLengthCode(exceptions.InvalidComponent):
    """The length code (second digit of 9-14 digit numbers) is wrong."""

    message = "The length code (second digit) of the betalingskenmerk is wrong."


class InvalidCheckDigit(exceptions.InvalidChecksum):
    """The check digit (first digit) does not match the other digits."""

    message = "The check digit (first digit) of the betalingskenmerk is wrong."


def compact(number):
    """Convert the number to its minimal form: strip whitespace (also the
    non-breaking spaces PDFs paste), dots and dashes.

    Anything else is kept, so that ``validate`` can reject it.
    """
    if not isinstance(number, str):
        raise InvalidCharacters()
    return "".join(
        char for char in number if char not in SEPARATORS and not char.isspace()
    )


def _weighted_sum(digits):
    """Sum of the digits times the weights, from the rightmost digit."""
    return sum(
        WEIGHTS[position % len(WEIGHTS)] * int(digit)
        for position, digit in enumerate(reversed(digits))
    )


def calc_check_digit(digits):
    """Calculate the check digit for ``digits``: everything that follows
    the check digit (length code included for 9-14 digit numbers).

    >>> calc_check_digit('000056789012345')
    '5'
    """
    check = 11 - _weighted_sum(digits) % 11
    return {10: "1", 11: "0"}.get(check, str(check))


def calc_length_code(total_length):
    """The length code of a ``total_length`` digit betalingskenmerk: the
    number of digits after the length code, modulo 10.

    >>> calc_length_code(9)
    '7'
    >>> calc_length_code(12)
    '0'
    """
    return str((total_length - 2) % 10)


def validate(number):
    """Check the number and return its compact form.

    Raises ``InvalidCharacters``, ``InvalidLength``, ``InvalidLengthCode``
    or ``InvalidCheckDigit`` (all ``ValueError`` subclasses).
    """
    number = compact(number)
    if not isdigits(number):
        raise InvalidCharacters()
    if len(number) not in VALID_LENGTHS:
        raise InvalidLength()
    if len(number) == 7:
        return number
    if len(number) in LENGTH_CODE_LENGTHS and number[1] != calc_length_code(
        len(number)
    ):
        raise InvalidLengthCode()
    if number[0] != calc_check_digit(number[1:]):
        raise InvalidCheckDigit()
    return number


def is_valid(number):
    """Check whether the number is a valid betalingskenmerk."""
    try:
        return bool(validate(number))
    except exceptions.ValidationError:
        return False


# python-stdnum's name for it (compact/validate/is_valid/format).
def format(number, separator=" "):  # pylint: disable=redefined-builtin
    """Reformat the number in groups of four digits, as printed on Dutch
    invoices and acceptgiro's (``5000 0567 8901 2345``)."""
    number = compact(number)
    return separator.join(
        number[start : start + 4] for start in range(0, len(number), 4)
    )


def generate(base_number, length=16):
    """Build a valid betalingskenmerk of ``length`` digits from a
    non-negative integer such as an invoice sequence number.

    The number is zero-padded after the check digit (and length code), so
    different base numbers give different betalingskenmerken of one length.
    ``length=7`` gives the number zero-padded, without a check digit.

    Raises ``ValueError`` when the length is not allowed or the number does
    not fit.
    """
    if isinstance(base_number, bool) or not isinstance(base_number, int):
        raise TypeError("base_number must be an int")
    if length not in VALID_LENGTHS:
        raise InvalidLength()
    if length == 7:
        payload_length = 7
    elif length == 16:
        payload_length = 15
    else:
        payload_length = length - 2
    if base_number < 0 or base_number >= 10**payload_length:
        raise ValueError(
            f"{base_number} does not fit in a {length} digit betalingskenmerk"
        )
    payload = str(base_number).zfill(payload_length)
    if length == 7:
        return payload
    if length in LENGTH_CODE_LENGTHS:
        payload = calc_length_code(length) + payload
    return calc_check_digit(payload) + payload
