"""Hostile inputs that once took time or memory out of proportion: figures to watch, never limits asserted."""

import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path

from lxml import etree

from einvoice import ubl
from einvoice.model import Note
from einvoice.ro import checks, ciusro
from einvoice.xmlsafe import UnsafeInputError, _refuse_crowded_elements, parse_xml
from tests.test_hostile_input import PEAK_MB, build, crowded, vat_breakdowns, zip_bomb

from .timing import best_of

ROOT = Path(__file__).resolve().parent.parent
PEAK = (
    PEAK_MB
    + """
import sys
from einvoice.xmlsafe import UnsafeInputError, read_zip
try:
    read_zip(open(sys.argv[1], "rb").read())
except UnsafeInputError:
    pass
print(peak_mb())
"""
)


def run():
    print(f"  lxml {etree.__version__} (libxml2 {'.'.join(map(str, etree.LIBXML_VERSION))})")

    xml = ubl.write(vat_breakdowns(5000))
    result = ciusro.read(xml)
    seconds = best_of(lambda: checks.check(result.invoice, result.facts), repeat=3)
    print(f"  CIUS-RO and EN 16931 checks, 5 000 VAT breakdowns: {seconds:.2f} s")

    invoice = build(notes=(Note("n " * 4_000_000),))
    seconds = best_of(lambda: ciusro.prepare(invoice), repeat=3)
    print(f"  fitting an 8 MB note to CIUS-RO: {seconds * 1e6:.0f} µs")

    data = crowded(100_000)
    seconds = best_of(lambda: _refused(data), repeat=3)
    print(f"  refusing an element with 100 000 attributes ({len(data) / 1e6:.1f} MB): {seconds * 1000:.2f} ms")
    for label, unit in (
        ("small elements", b"<Note a='1' b='2' c='3'>x</Note>"),
        ("stretches of 101 '=' outside attributes", b"<Note a='1'>" + b"=" * 101 + b"</Note>"),
    ):
        data = b"<Invoice>" + unit * (10_000_000 // len(unit)) + b"</Invoice>"
        seconds = best_of(lambda data=data: _refuse_crowded_elements(data, "bench"), repeat=3)
        parse = best_of(lambda data=data: parse_xml(data), repeat=3)
        print(f"  10 MB of {label}: attribute count {seconds * 1000:.0f} ms of a safe parse of {parse * 1000:.0f} ms")

    with tempfile.TemporaryDirectory() as folder:
        for method, megabytes in ((zipfile.ZIP_BZIP2, 500), (zipfile.ZIP_LZMA, 200)):
            path = Path(folder) / "bomb.zip"
            path.write_bytes(zip_bomb(method, megabytes))
            peak = subprocess.run(  # noqa: S603 - our own interpreter and script
                [sys.executable, "-c", textwrap.dedent(PEAK), str(path)],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            ).stdout.strip()
            name = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA"}[method]
            print(
                f"  {name} member of {megabytes} MB in {path.stat().st_size} bytes, lying about its size: "
                f"refused, peak {peak} MB"
            )


def _refused(data):
    try:
        parse_xml(data)
    except UnsafeInputError:
        return True
    return False
