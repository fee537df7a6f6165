"""FA(3) of a 200-line invoice: build, our checks, write, the official schema, read back (target: at most 20 ms)."""

import os
from pathlib import Path

from lxml import etree

from einvoice.pl import checks, fa3
from einvoice.validation import FA3_XSD_ENV, fa3_schema
from tests.pl_scenarios import SCENARIOS

from .timing import best_of

SHARED_SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "rules" / "ksef-fa3" / "faktury" / "schemy" / "FA"


def run():
    # the configured schema, else the Ministry's copy beside the checkout, else the one ksef-client ships
    schema = fa3_schema(os.environ.get(FA3_XSD_ENV) or (SHARED_SCHEMA if SHARED_SCHEMA.is_dir() else None))
    make = SCENARIOS["two_hundred_lines"]
    invoice = make()
    xml = fa3.write(invoice)
    root = etree.fromstring(xml)

    def everything():
        built = make()
        checks.check(built)
        schema.validate(etree.fromstring(fa3.write(built)))

    figures = [
        ("build (Invoice.build)", make),
        ("our checks", lambda: checks.check(invoice)),
        ("write (checks included)", lambda: fa3.write(invoice)),
        ("official XSD", lambda: schema.validate(root)),
        ("read back", lambda: fa3.read(xml)),
        ("build + checks + write + XSD", everything),
    ]
    print(f"  200-line invoice, {len(xml) / 1024:.0f} KiB of FA(3)")
    for label, function in figures:
        print(f"  {label + ':':32}{best_of(function, repeat=7, number=5) * 1000:8.2f} ms")
