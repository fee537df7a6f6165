"""Inbound matching: 1 000 invoices x 10 lines against 20 000 partners and 100 000 products (the engine's share)."""

import time

from einvoice.matching import MatchIndex, MatchSettings, match_invoice
from tests.test_matching import synthetic_batch


def run():
    started = time.perf_counter()
    arguments, cases = synthetic_batch()
    generated = time.perf_counter()
    index = MatchIndex(**arguments)
    built = time.perf_counter()
    settings = MatchSettings(company_id=1)
    results = [match_invoice(received, index, settings) for received, _vendor, _expected in cases]
    matched = time.perf_counter()
    lines = sum(len(result.lines) for result in results)
    print(f"  {len(arguments['partners'])} partners, {len(arguments['products'])} products, {len(cases)} invoices")
    print(f"  (synthetic data made in {generated - started:.2f} s)")
    print(f"  build the index:          {built - generated:6.2f} s")
    print(f"  match {lines} lines:      {matched - built:6.2f} s  ({(matched - built) / lines * 1e6:.0f} µs a line)")
    print(f"  engine total:             {matched - generated:6.2f} s  (inbound target, database included: 60 s)")
