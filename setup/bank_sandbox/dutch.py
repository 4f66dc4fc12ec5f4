"""Small Dutch banking number helpers the sandbox needs to invent data.

Written here rather than imported from the addons or a library on purpose:
the sandbox must stay an independent second implementation of these rules.
"""

import random
import string

BIC_BY_BANK_CODE = {
    "INGB": "INGBNL2A",
    "ABNA": "ABNANL2A",
    "RABO": "RABONL2U",
    "TRIO": "TRIONL2U",
    "SNSB": "SNSBNL2A",
    "KNAB": "KNABNL2H",
    "BUNQ": "BUNQNL2A",
    "ASNB": "ASNBNL21",
}

# Betaalvereniging weights, applied from the rightmost digit leftwards.
_KENMERK_WEIGHTS = (2, 4, 8, 5, 10, 9, 7, 3, 6, 1)


def _iban_numeric(text):
    return "".join(str(int(ch, 36)) for ch in text)


def iban_check_digits(country, bban):
    remainder = int(_iban_numeric(bban + country + "00")) % 97
    return "%02d" % (98 - remainder)


def make_nl_iban(bank_code, account_number):
    """NL IBAN from a 4-letter bank code and a 10-digit account number."""
    bban = bank_code + account_number.rjust(10, "0")
    return "NL" + iban_check_digits("NL", bban) + bban


def is_valid_iban(iban):
    iban = iban.replace(" ", "").upper()
    if len(iban) < 15 or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    return int(_iban_numeric(iban[4:] + iban[:4])) % 97 == 1


def random_nl_account_number(rng):
    """10 digits that also pass the old Dutch 11-test (some validators check it)."""
    while True:
        digits = [rng.randrange(10) for _ in range(9)]
        if digits[0] == 0:
            continue
        weighted = sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=False))
        last = (-weighted) % 11
        if last < 10:
            return "".join(map(str, digits + [last]))


def random_nl_iban(rng, bank_code=None):
    bank_code = bank_code or rng.choice(sorted(BIC_BY_BANK_CODE))
    return make_nl_iban(bank_code, random_nl_account_number(rng))


def bic_for_iban(iban):
    return BIC_BY_BANK_CODE.get(iban[4:8], "")


def kenmerk_check_digit(digits):
    """Check digit over everything right of it (including a length code)."""
    total = sum(
        int(ch) * _KENMERK_WEIGHTS[i % len(_KENMERK_WEIGHTS)]
        for i, ch in enumerate(reversed(digits))
    )
    check = 11 - (total % 11)
    return {10: 1, 11: 0}.get(check, check)


def make_betalingskenmerk(body15):
    """16-digit betalingskenmerk: check digit + 15 digits."""
    if len(body15) != 15 or not body15.isdigit():
        raise ValueError("a 16-digit betalingskenmerk needs 15 digits after its check digit")
    return str(kenmerk_check_digit(body15)) + body15


def is_valid_betalingskenmerk(reference):
    reference = reference.replace(" ", "").replace(".", "")
    if not reference.isdigit() or len(reference) not in (7, 9, 10, 11, 12, 13, 14, 16):
        return False
    if len(reference) == 7:
        return True
    if len(reference) < 16 and int(reference[1]) != (len(reference) - 2) % 10:
        return False
    return int(reference[0]) == kenmerk_check_digit(reference[1:])


def random_betalingskenmerk(rng):
    return make_betalingskenmerk("".join(rng.choice(string.digits) for _ in range(15)))


def rf_reference(body):
    """ISO 11649 creditor reference for an alphanumeric body."""
    body = body.upper()
    check = 98 - int(_iban_numeric(body + "RF00")) % 97
    return "RF%02d%s" % (check, body)


def seeded(*parts):
    return random.Random("|".join(str(p) for p in parts))
