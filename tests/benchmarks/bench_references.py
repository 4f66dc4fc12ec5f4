"""Benchmark of the payment-reference reader (single core).

    python tests/benchmarks/bench_references.py [--seconds 3]

Prints descriptions per second over the labelled corpus, and the time for
1 MB adversarial inputs built to make a backtracking regular expression
blow up (long digit runs with separators, near-IBANs, label and tag
floods, 32-column wrapped lines). Linear time shows as roughly equal
times for 0.5 MB and 1 MB (x2), not x4 or worse.
"""

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
import conftest  # noqa: F401, E402  (registers the addon folders as packages)

from l10n_nl_bankkoppeling.tools import betalingskenmerk, references  # noqa: E402

MEGABYTE = 1_000_000


def corpus_texts():
    """The labelled corpus as ``(text, structured)`` pairs."""
    corpus = json.loads(
        (REPO / "tests" / "data" / "reference_corpus.json").read_text(encoding="utf-8")
    )
    return [(entry["text"], entry.get("structured")) for entry in corpus]


def bench_corpus(seconds):
    """Descriptions per second over the corpus, for ``seconds``."""
    texts = corpus_texts()
    rounds, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for text, structured in texts:
            references.extract_references(text, structured)
        rounds += 1
    elapsed = time.perf_counter() - started
    rate = rounds * len(texts) / elapsed
    print(
        f"corpus: {len(texts)} descriptions x {rounds} rounds in {elapsed:.2f} s "
        f"= {rate:,.0f} descriptions/second (single core)"
    )
    return rate


def adversarial_inputs(size):
    """Inputs shaped against each pattern's worst case."""

    def fill(unit):
        return (unit * (size // len(unit) + 1))[:size]

    return {
        "digit groups": fill("1234 "),
        "digits, one separator": fill("1.2-3 4"),
        "digits then a letter": fill("1" * 999 + "A"),
        "one long digit run": "9" * size,
        "near-IBAN": fill("NL91ABNA041716430 "),
        "IBAN-like long words": fill("NL91" + "A" * 40 + " NL91 ABNA 0417 1643 00AB "),
        "RF flood": fill("RF18 5390 0754 70 "),
        "label flood": fill("Kenmerk: Naam: "),
        "tag flood": fill("/REMI//EREF/"),
        "invoice-like": fill("INV/2026/ factuur 2026- "),
        "32-column lines": "\n".join(
            fill("5000 0567 8901 2")[i : i + 32] for i in range(0, size, 33)
        ),
        "no newline, no space": fill("x"),
        "valid kenmerken": fill(
            betalingskenmerk.format("5000056789012345") + " factuur 123 "
        ),
        "label with kenmerk flood": fill("Kenmerk: 5000056789012345 "),
        "invoice flood": fill("factuur 123, INV/2026/00123 "),
        "RF flood, valid": fill("RF18 5390 0754 7034 "),
        "structured tag flood": fill("/REMI/STRD/CUR/5000056789012345/EREF/E2E-1"),
        "wrapped kenmerken": "\n".join(
            fill(
                "OMSCHRIJVING: " + betalingskenmerk.format("5000056789012345") + " X "
            )[i : i + 32]
            for i in range(0, size, 32)
        ),
        "random-ish unicode": fill("é٥𝟓\u00a0<br>\x00"),
    }


def bench_adversarial():
    """Time each 1 MB adversarial input, and its first half."""
    worst = 0.0
    for name, text in adversarial_inputs(MEGABYTE).items():
        half = text[: len(text) // 2]
        times = []
        for sample in (half, text):
            started = time.perf_counter()
            result = references.extract_references(sample)
            times.append(time.perf_counter() - started)
        worst = max(worst, times[1])
        print(
            f"1 MB {name:24s} {times[1]:6.2f} s (0.5 MB {times[0]:5.2f} s, "
            f"ratio {times[1] / max(times[0], 1e-9):4.1f}), {len(result)} references"
        )
    print(f"1 MB adversarial inputs: worst {worst:.2f} s")
    return worst


def bench_validate():
    """Betalingskenmerken validated per second."""
    numbers = [betalingskenmerk.generate(n) for n in range(20000)]
    started = time.perf_counter()
    for number in numbers:
        betalingskenmerk.is_valid(number)
    elapsed = time.perf_counter() - started
    print(f"betalingskenmerk.is_valid: {len(numbers) / elapsed:,.0f} numbers/second")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="time spent on the corpus"
    )
    args = parser.parse_args()
    bench_corpus(args.seconds)
    bench_validate()
    bench_adversarial()


if __name__ == "__main__":
    main()
