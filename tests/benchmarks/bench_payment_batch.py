"""Prints how long a full 5,000-payment batch (ING's maximum) takes to read
back from its pain.001 file, check against the XSD and map to ING's bulk
JSON and ABN AMRO's gzip+base64 body: the work done before "Send to bank"
leaves Odoo.

    .venv/bin/python tests/benchmarks/bench_payment_batch.py [--payments 5000]
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import conftest  # noqa: F401,E402  (registers the addons as bare packages)
from pain_samples import XSD, credit_transfers  # noqa: E402

from account_bank_link_abnamro.tools import abnamro_payments  # noqa: E402
from account_bank_link_ing.tools import ing_payments  # noqa: E402
from account_bank_link_payment_order.tools import pain  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=5000)
    count = parser.parse_args().payments
    payments = [(f"E2E-{i}", f"{10 + i % 990}.{i % 100:02d}", f"Leverancier {i} & Zn",
                 "NL02ABNA0123456789", f"Factuur {2026000 + i}") for i in range(count)]
    xml = credit_transfers("BENCH-1", "NL67INGB0006543210", payments)
    figures = {}
    started = time.perf_counter()
    pain.validate(xml, XSD["pain.001.001.03"])
    figures["xsd validation"] = time.perf_counter() - started
    started = time.perf_counter()
    batch = pain.read_batch(xml, idempotency_key="bench")
    figures["read back"] = time.perf_counter() - started
    started = time.perf_counter()
    body = json.dumps(ing_payments.bulk_body(batch)).encode()
    figures["ING bulk JSON"] = time.perf_counter() - started
    started = time.perf_counter()
    abn = json.dumps(abnamro_payments.batch_body(batch)).encode()
    figures["ABN AMRO gzip+base64"] = time.perf_counter() - started
    print(f"{count} payments, file {len(xml) / 1e6:.2f} MB, ING body {len(body) / 1e6:.2f} MB, "
          f"ABN AMRO body {len(abn) / 1e6:.2f} MB")
    for name, seconds in figures.items():
        print(f"{name:>22}: {seconds * 1000:8.1f} ms")
    print(f"{'total':>22}: {sum(figures.values()) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
