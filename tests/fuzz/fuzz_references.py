"""Fuzz the payment-reference reader and the betalingskenmerk validator.

Coverage-guided with atheris when it is installed::

    /root/helper-venv/bin/python tests/fuzz/fuzz_references.py -runs=2000000

otherwise (or with ``--random SECONDS``) a seeded random run splicing
corpus texts, bank fragments and arbitrary Unicode::

    python tests/fuzz/fuzz_references.py --random 300

Either way a crash is any exception other than the documented
``betalingskenmerk`` errors, or a result breaking the invariants below.
``references._extract`` is called, not ``extract_references``: the latter's
safety net would hide a crash. Prints the inputs tried and the crashes.
"""

import atexit
import json
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
import conftest  # noqa: F401, E402  (registers the addon folders as packages)

try:
    import atheris
except ImportError:  # fall back to the random run
    atheris = None

if atheris:
    with atheris.instrument_imports():
        from l10n_nl_bankkoppeling.tools import betalingskenmerk, references
else:
    from l10n_nl_bankkoppeling.tools import betalingskenmerk, references

from stdnum import iso11649  # noqa: E402

CORPUS = [
    entry["text"]
    for entry in json.loads(
        (REPO / "tests" / "data" / "reference_corpus.json").read_text(encoding="utf-8")
    )
]
FRAGMENTS = [
    "Naam: ",
    "Omschrijving: ",
    "IBAN: ",
    "Kenmerk: ",
    "KENMERK: ",
    "EREF: ",
    "<br>",
    "\n",
    "/TRTP/",
    "/REMI/",
    "STRD/CUR/",
    "/STRD/ISO/",
    "/EREF/",
    "/CNTP/",
    "//",
    "USTD//",
    "NOTPROVIDED",
    "factuur ",
    "fact.nr. ",
    "INV/2026/00123",
    "F2026-0123",
    "2026-",
    "RF18 ",
    "5390 0754 7034",
    "5000 0567 8901 2345",
    "5010012368971337",
    "NL91ABNA0417164300",
    "1234 AB",
    "21-11-2026",
    "16:17",
    "EUR 1.234,56",
    "tel 06-12345678",
    "+31 20 123 4567",
    "PAS321",
    "BEA   NR:5GYV99   12.09.19/16.17",
    " " * 32,
    "0" * 40,
    "1." * 20,
    "\x00",
    "\ue000",
    "\ue001",
    "\u00a0",
    "٥",
    "𝟓",
    "ſ",
    "\u212a",
]
DOCUMENTED = (
    betalingskenmerk.InvalidLength,
    betalingskenmerk.InvalidCharacters,
    betalingskenmerk.InvalidLengthCode,
    betalingskenmerk.InvalidCheckDigit,
)
STATS = {"inputs": 0, "references": 0}


def check_one(text, structured):
    """Run both modules on one input; raise on anything undocumented."""
    STATS["inputs"] += 1
    result = references._extract(text, structured)
    assert isinstance(result, tuple)
    for ref in result:
        STATS["references"] += 1
        if ref.kind == "betalingskenmerk":
            assert betalingskenmerk.is_valid(ref.value), ref
        elif ref.kind == "rf":
            assert iso11649.is_valid(ref.value), ref
        elif ref.kind == "invoice_number":
            assert ref.value == str(ref.invoice_key), ref
    try:
        betalingskenmerk.validate(text)
    except DOCUMENTED:
        pass
    references.invoice_number_key(text)


def atheris_one_input(data):
    """One libFuzzer input: raw text, spliced corpus text or fragments."""
    provider = atheris.FuzzedDataProvider(data)
    mode = provider.ConsumeIntInRange(0, 3)
    text = provider.ConsumeUnicodeNoSurrogates(provider.ConsumeIntInRange(0, 400))
    if mode == 1:  # splice into a real transaction text
        base = CORPUS[provider.ConsumeIntInRange(0, len(CORPUS) - 1)]
        cut = provider.ConsumeIntInRange(0, len(base))
        text = base[:cut] + text + base[cut:]
    elif mode == 2:  # bank fragments glued by fuzz data
        pieces = [
            FRAGMENTS[provider.ConsumeIntInRange(0, len(FRAGMENTS) - 1)]
            for _ in range(8)
        ]
        text = "".join(piece + text[i::8] for i, piece in enumerate(pieces))
    structured = (
        provider.ConsumeUnicodeNoSurrogates(20) if provider.ConsumeBool() else None
    )
    check_one(text, structured)


def random_text(rng):
    """One random input: spliced corpus text, fragments, or junk."""
    kind = rng.random()
    if kind < 0.3:
        base = rng.choice(CORPUS)
        cut = rng.randrange(len(base) + 1)
        return base[:cut] + random_junk(rng) + base[cut:]
    if kind < 0.7:
        return "".join(
            rng.choice(FRAGMENTS) if rng.random() < 0.6 else random_junk(rng)
            for _ in range(rng.randrange(1, 30))
        )
    return random_junk(rng, rng.randrange(0, 300))


def random_junk(rng, length=None):
    """Random characters from digits, letters or all of Unicode."""
    length = rng.randrange(0, 12) if length is None else length
    alphabet = rng.choice(
        [
            "0123456789 .-/",
            "0123456789",
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ:/ ",
        ]
    )
    if rng.random() < 0.2:
        return (
            "".join(chr(rng.randrange(0, 0x2FFFF)) for _ in range(length))
            .encode("utf-8", "replace")
            .decode("utf-8", "replace")
        )
    return "".join(rng.choice(alphabet) for _ in range(length))


def run_random(seconds, seed=20261121):
    """Fuzz with the random generator for ``seconds``; return the crashes."""
    rng = random.Random(seed)
    crashes = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = random_text(rng)
        structured = random_text(rng) if rng.random() < 0.3 else None
        try:
            check_one(text, structured)
        except Exception as error:  # noqa: BLE001 -- any exception is a crash to count
            crashes += 1
            print(
                f"CRASH {type(error).__name__}: {error!r} on {text!r} / {structured!r}"
            )
    print(
        f"random run: {STATS['inputs']} inputs in {seconds} s, "
        f"{STATS['references']} references found, crashes: {crashes}"
    )
    return crashes


def report_atheris():
    # Reached only when libFuzzer ends normally: a crash ends it with a
    # traceback and a non-zero exit status instead.
    print(
        f"atheris run: {STATS['inputs']} inputs, {STATS['references']} references found"
    )


def main():
    if "--random" in sys.argv or atheris is None:
        index = sys.argv.index("--random") if "--random" in sys.argv else -1
        seconds = (
            float(sys.argv[index + 1])
            if index >= 0 and index + 1 < len(sys.argv)
            else 60
        )
        sys.exit(1 if run_random(seconds) else 0)
    atexit.register(report_atheris)
    atheris.Setup(sys.argv, atheris_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
