"""Scenario defaults of the NextGenPSD2 banks (Knab, Triodos, de Volksbank's brands).

Kept apart from scenario.py so that file only merges them in. Facts and their
confidence: ../shared/specs/berlingroup/NOTES-*.md ([C] confirmed by the bank,
[I] inferred from third-party code); values the notes do not give are the
sandbox's own choice and say "inferred".
"""

from . import dutch

#: Bank code (IBAN positions 5-8) of each brand's own accounts.
NEXTGENPSD2_BANK_CODES = {"knab": "KNAB", "triodos": "TRIO", "asn": "ASNB", "sns": "SNSB", "regiobank": "RBRB"}


def _known_references(seed):
    """A payment with an RF reference and one with a betalingskenmerk on every generated
    account, so each brand's demo has both (the generator may give an account no RF)."""
    rng = dutch.seeded(seed, "known-references")
    return [
        {"days_ago": 3, "amount": "1815.00", "counterparty_name": "Gemeente Amersfoort",
         "counterparty_iban": "NL86INGB0002445588", "reference": dutch.rf_reference(f"2026{rng.randrange(10**6):06d}"),
         "end_to_end_id": f"GEM-{rng.randrange(10**8):08d}"},
        {"days_ago": 5, "amount": "742.50", "counterparty_name": "Hoveniersbedrijf Groenrijk",
         "counterparty_iban": dutch.random_nl_iban(rng), "reference": dutch.random_betalingskenmerk(rng),
         "description": "", "end_to_end_id": f"E2E{rng.randrange(10**9):09d}"},
    ]


def _account(seed, holder, product, balance, days=42, per_day=2, kind="current", generate=True):
    return {
        "iban": None, "bank_account_seed": seed, "holder": holder, "product": product, "currency": "EUR",
        "kind": kind, "opening_balance": balance,
        "generate": {"days": days, "per_day": per_day} if generate else False,
        "transactions": _known_references(seed) if generate else [],
    }


def _volksbank(brand, product):
    return {
        # One registration for all three brands [I Y-vb README]: the same client id.
        "client_id": "sandbox-volksbank-client",
        "client_secret": "sandbox-volksbank-secret",
        "access_token_expires_in": 600,  # [I Y-vb, T-vb]
        "refresh_token_expires_in": 7776000,  # inferred: 90 days, the consent's length
        "max_consent_days": 90,  # Yolt asks today + 90 days [I Y-vb]
        "code_ttl": 300,  # inferred
        "page_size": 25,  # inferred (Yolt asks limit=2000; small here so paging is exercised)
        "history_days": 730,  # inferred
        "accounts": [_account(f"{brand}-1", "Bakkerij De Korenbloem B.V.", product, "16000.00")],
    }


NEXTGENPSD2_DEFAULTS = {
    "knab": {
        "client_id": "sandbox-knab-client",
        "client_secret": "sandbox-knab-secret",
        "access_token_expires_in": 3600,  # the stub's value [I Y-knab]
        "application_token_expires_in": 3600,  # inferred
        "refresh_token_expires_in": 7776000,  # inferred: 90 days
        "max_consent_days": 90,  # Yolt asks today + 87 days [I Y-knab]; 90 inferred as the limit
        "code_ttl": 300,  # inferred
        "page_size": 25,  # inferred
        "history_days": 730,  # inferred
        "signature_max_skew_seconds": 300,  # inferred
        "accounts": [
            _account("knab-1", "Bakkerij De Korenbloem B.V.", "Knab Zakelijk Rekening", "4800.00"),
            # Business savings may come with only a BBAN [I Y-knab]; not linkable.
            _account("knab-savings", "Bakkerij De Korenbloem B.V.", "Knab Zakelijk Sparen", "15000.00",
                     kind="savings", generate=False),
        ],
    },
    "triodos": {
        "access_token_expires_in": 600,  # [I Y-tri]
        "refresh_token_expires_in": 7776000,  # inferred: 90 days
        "max_consent_days": 90,  # inferred
        "code_ttl": 300,  # inferred
        "page_size": 25,  # inferred
        # Full history on the first transactions request of a consent, then 90 days [C T-faq].
        "history_days": 730,  # inferred: the length of "full" is not published
        "recent_days": 90,
        "signature_max_skew_seconds": 300,  # inferred
        "accounts": [
            # 140 days: older than the 90 days served after the first request.
            _account("triodos-1", "Bakkerij De Korenbloem B.V.", "Triodos Zakelijke Rekening", "7300.00",
                     days=140),
            _account("triodos-2", "Korenbloem Vastgoed B.V.", "Triodos Zakelijke Rekening", "6100.00",
                     days=30, per_day=1),
        ],
    },
    "asn": _volksbank("asn", "ASN Zakelijke Rekening"),
    "sns": _volksbank("sns", "SNS Zakelijke Rekening"),
    "regiobank": _volksbank("regiobank", "RegioBank Zakelijke Rekening"),
}
