"""Hostile input: numbers outside the schemas, documents missing what a converter needs, and inputs built to cost
time or memory. Every reader, check and conversion answers with findings or the library's own error, never a crash,
and stays within bounded time and memory (hang guards and memory bounds, never timings)."""

import io
import json
import re
import subprocess
import sys
import textwrap
import zipfile
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest
from lxml import etree

from campaign.hostile import CII_INVOICE, zip_bomb  # the campaign's small CII invoice and ZIP bombs
from einvoice import cii, cli, en16931, inbound, ubl
from einvoice.errors import EInvoiceError
from einvoice.model import Note, negated_invoice
from einvoice.numeric import DECIMAL, INTEGER, MAX_DIGITS, NumberError, read_number
from einvoice.pl import fa3
from einvoice.pl.documents_cli import _with_polish_kind
from einvoice.ro import ciusro
from einvoice.xmlsafe import MAX_ATTRIBUTES, UnsafeInputError, parse_xml, read_zip

from . import pl_scenarios
from .ro_scenarios import build, line

ROOT = Path(__file__).resolve().parent.parent
HANG_GUARD = 60  # seconds: a subprocess that takes longer has hung (the work takes a few seconds)
MEMORY_BOUND_MB = 200

# numbers xsd:decimal does not allow (optional sign, ASCII digits, optional fraction: nothing else)
NOT_NUMBERS = [
    "NaN", "sNaN", "-NaN", "Infinity", "-Infinity", "inf", "1E+999999999", "1e5", "1E-999999999",
    "\u0661\u0662\u0663", "\u0661\u0660\u0660.\u0660\u0660", "0x10", "1,50", "1 000", "+-1", "1.2.3", ".", "+",
    "\u221e", "1_000", "--5", "5-", "", " \n ", "12\u00a0", "\u00a012",
]  # fmt: skip
TOO_LONG = ["1" * 32, "9" * (MAX_DIGITS + 1), "0." + "0" * MAX_DIGITS + "1"]
UBL_NUMBER_TAGS = ["LineExtensionAmount", "PriceAmount", "InvoicedQuantity", "Percent", "TaxAmount", "TaxableAmount"]


def ubl_invoice():
    return ciusro.render(build([line(1), line(2, "3", "19.99", rate="11")]))


def ubl_credit_note():
    return ciusro.render(build(type_code="381"))


def with_text(xml, tag, value, occurrence=0):
    """``xml`` with the text of the ``occurrence``-th element of local name ``tag`` set to ``value``."""
    root = etree.fromstring(xml)
    found = [
        element for element in root.iter() if isinstance(element.tag, str) and etree.QName(element).localname == tag
    ]
    found[occurrence].text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def without(xml, path):
    """``xml`` without the first element matched by the ElementPath ``path`` (UBL prefixes)."""
    root = etree.fromstring(xml)
    element = root.find(path, ubl.NS)
    element.getparent().remove(element)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def converted(data):
    """What ``einvoice ro convert`` and ``einvoice pl convert`` do with ``data``: the documents written (or the
    library's refusals). Any other exception fails the test."""
    results = []
    result = ciusro.read(data)
    for credit_note_as_invoice in (False, True):
        try:
            xml = ciusro.render(result.invoice, credit_note_as_invoice=credit_note_as_invoice, strict=False)
        except ciusro.CiusRoError as refused:
            results.append(refused)
        else:
            results.append(ciusro.check_document(xml))
    try:
        xml = fa3.write(_with_polish_kind(result.invoice))
    except fa3.Fa3Error as refused:
        results.append(refused)
    else:
        results.append(fa3.check_document(xml))
    return results


def run_cli(capsys, *argv):
    """The ``einvoice`` command in this process: its exit status and everything it printed."""
    status = cli.main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


# -- one strict number reader --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("-0.5", D("-0.5")), ("+12", D(12)), ("12.", D(12)), (".5", D("0.5")), ("+.5", D("0.5")), ("-0", D(0)),
     ("0012.500", D("12.500")), ("1" * MAX_DIGITS, D("1" * MAX_DIGITS)), ("0." + "0" * 26 + "1", D("1E-27")),
     ("\n\t 12.50 \r\n", D("12.50"))],
)  # fmt: skip
def test_the_number_reader_takes_what_xsd_decimal_allows(text, value):
    read = read_number(text, "cbc:Amount")
    assert read == value and read.is_finite()
    assert read_number("0012.500", "cbc:Amount").as_tuple().exponent == -3  # the decimals as written, for BR-DEC


@pytest.mark.parametrize("text", NOT_NUMBERS + TOO_LONG)
def test_the_number_reader_refuses_anything_else_naming_the_field(text):
    with pytest.raises(NumberError) as refused:
        read_number(text, "cbc:PriceAmount")
    assert "cbc:PriceAmount" in str(refused.value.message)


def test_a_megabyte_number_is_refused_and_quoted_short():
    with pytest.raises(NumberError) as refused:
        read_number("1" * 5_000_000, "cbc:PriceAmount")
    assert len(str(refused.value.message)) < 200


def test_integers_are_ascii_digits_only():
    assert read_number("+42", "FormaPlatnosci", INTEGER) == 42
    for text in ("\u0664\u0662", "4_2", "42.0", "1e3"):
        with pytest.raises(NumberError):
            read_number(text, "FormaPlatnosci", INTEGER)
    assert read_number("42", "x", DECIMAL) == D(42)


@pytest.mark.parametrize("tag", UBL_NUMBER_TAGS)
@pytest.mark.parametrize(
    "value", ["NaN", "sNaN", "Infinity", "1E+999999999", "\u0661\u0662\u0663", "1" * 32, "", "12\u00a0"]
)
def test_a_ubl_number_outside_xsd_decimal_is_a_fatal_finding_and_stays_out_of_the_model(tag, value):
    data = with_text(ubl_invoice(), tag, value)
    result = ciusro.read(data)
    refused = [finding for finding in result.findings if finding.rule == "UBL-NUMBER"]
    assert len(refused) == 1 and refused[0].fatal and tag in refused[0].location
    assert repr(value)[:10] in str(refused[0].message)
    numbers = [line.quantity for line in result.invoice.lines] + [line.price for line in result.invoice.lines]
    numbers += [line.net_amount for line in result.invoice.lines] + [line.vat_rate for line in result.invoice.lines]
    numbers += [vat.taxable_amount for vat in result.invoice.vat_breakdown]
    numbers += [vat.tax_amount for vat in result.invoice.vat_breakdown]
    assert all(number is None or (number.is_finite() and number.adjusted() < 10) for number in numbers)
    findings = ciusro.check_document(data)
    assert any(finding.rule == "UBL-NUMBER" and finding.fatal for finding in findings)
    for outcome in converted(data):
        assert isinstance(outcome, EInvoiceError | list)


CII_NUMBER_TAGS = ["LineTotalAmount", "ChargeAmount", "BilledQuantity", "CalculatedAmount", "TaxTotalAmount"]


@pytest.mark.parametrize("tag", CII_NUMBER_TAGS)
@pytest.mark.parametrize("value", ["NaN", "sNaN", "-Infinity", "1E+999999999", "\u0661\u0662\u0663", "1" * 32, " "])
def test_a_cii_number_outside_xsd_decimal_is_a_fatal_finding_reported_once(tag, value):
    data = with_text(CII_INVOICE, tag, value)
    result = cii.read(data)
    refused = [finding for finding in result.findings if finding.rule == "CII-NUMBER"]
    assert len(refused) == 1 and refused[0].fatal and tag in refused[0].location
    assert any(finding.rule == "CII-NUMBER" for finding in ciusro.check_document(data))
    for outcome in converted(data):
        assert isinstance(outcome, EInvoiceError | list)


def test_the_cii_sample_reads_cleanly():
    assert cii.read(CII_INVOICE).findings == []


@pytest.mark.parametrize(
    ("tag", "value"),
    [
        ("P_11", "1" * 32),  # 32 digits: TKwotowy has 16 before the point
        ("P_11", "12.345"),  # TKwotowy: 2 decimals
        ("P_15", "0012.50"),  # TKwotowy's pattern: no leading zeros
        ("P_15", "+12.50"),  # nor a plus sign
        ("P_9A", "1.123456789"),  # TKwotowy2: 8 decimals
        ("P_8B", "\u0661\u0662"),
        ("P_8B", "1.1234567"),  # TIlosci: 6 decimals
        ("P_13_1", "NaN"),
        ("P_14_1", "1E+999999999"),
        ("KursWaluty", "Infinity"),
        ("P_8B", " "),  # present but empty
        ("P_9A", "12\u00a0"),  # a no-break space is not an XML blank
        ("P_15", ""),
    ],
)
def test_an_fa3_number_outside_its_schema_type_is_a_fatal_finding(tag, value):
    data = fa3_with(tag, value)
    result = fa3.read(data)
    refused = [finding for finding in result.findings if finding.rule == "PL-READ-02"]
    assert len(refused) == 1 and refused[0].fatal and refused[0].location.endswith(tag)
    findings = fa3.check_document(data)
    assert any(finding.rule == "PL-READ-02" for finding in findings)
    received = inbound.read_received(data, "received.xml")  # the KSeF inbox takes it in, with the finding
    assert any(finding.rule == "PL-READ-02" for finding in received.findings)
    for outcome in converted_fa3(data):
        assert isinstance(outcome, EInvoiceError | list)


@pytest.mark.parametrize(
    ("tag", "value"),
    [("P_11", "-9999999999999999.99"), ("P_9A", "0.00000001"), ("P_8B", "0.000001"), ("P_15", "-0"),
     ("KursWaluty", "9999999999999999.999999")],
)  # fmt: skip
def test_an_fa3_number_its_schema_type_allows_is_read(tag, value):
    data = fa3_with(tag, value)
    assert [finding for finding in fa3.read(data).findings if finding.rule == "PL-READ-02"] == []
    fa3.check_document(data)
    converted_fa3(data)


def test_the_largest_amounts_fa3_allows_never_break_the_arithmetic():
    """VAT in PLN is the VAT times the exchange rate: 18 digits times 22 is more than decimal's default 28."""
    invoice = pl_scenarios.SCENARIOS["foreign_currency_with_exchange_rate"]()
    data = fa3.write(invoice)
    for tag, value in (("P_14_1", "9999999999999999.99"), ("KursWaluty", "9999999999999999.999999")):
        data = with_text(data, tag, value)
    findings = fa3.check_document(data)
    assert "PL-READ-02" not in {finding.rule for finding in findings}
    converted_fa3(data)


@pytest.mark.parametrize(("tag", "occurrence"), [("LineExtensionAmount", 1), ("TaxableAmount", 0), ("TaxAmount", 1)])
@pytest.mark.parametrize("value", ["9" * MAX_DIGITS, "9" * (MAX_DIGITS - 2) + ".99"])
def test_the_largest_amounts_ubl_allows_never_break_the_arithmetic(tag, occurrence, value):
    """Rounding such an amount, or a sum with it, to cents needs more digits than decimal's default 28."""
    data = with_text(ubl.write(pl_scenarios.build()), tag, value, occurrence)
    assert not any(finding.rule == "UBL-NUMBER" for finding in ciusro.check_document(data))
    for outcome in converted(data):
        assert isinstance(outcome, EInvoiceError | list)


def fa3_with(tag, value):
    return with_text(fa3.write(pl_scenarios.SCENARIOS["foreign_currency_with_exchange_rate"]()), tag, value)


def converted_fa3(data):
    """What ``einvoice pl convert`` does with an FA(3) document."""
    try:
        xml = fa3.write(fa3.read(data).invoice)
    except fa3.Fa3Error as refused:
        return [refused]
    return [fa3.check_document(xml)]


# -- conversions of documents missing what they need -------------------------------------------------------------


EMPTY_DOCUMENTS = {
    "empty Invoice": b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>',
    "empty CreditNote": b'<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"/>',
}


@pytest.mark.parametrize("name", sorted(EMPTY_DOCUMENTS))
def test_an_empty_document_converts_to_findings(name):
    for outcome in converted(EMPTY_DOCUMENTS[name]):
        assert isinstance(outcome, EInvoiceError | list)
        findings = outcome.findings if isinstance(outcome, EInvoiceError) else outcome
        assert any(finding.fatal for finding in findings)


def test_a_price_that_is_not_a_number_converts_to_findings():
    data = with_text(ubl_invoice(), "PriceAmount", "abc")
    as_cius_ro = converted(data)[0]  # written without the price, which its checks then miss
    assert isinstance(as_cius_ro, list) and "BR-26" in {finding.rule for finding in as_cius_ro}


def test_a_credit_note_line_without_its_amount_converts_to_findings():
    data = without(ubl_credit_note(), "cac:CreditNoteLine/cbc:LineExtensionAmount")
    invoice = ciusro.read(data).invoice
    assert negated_invoice(invoice).lines[0].net_amount is None
    for outcome in converted(data):
        assert isinstance(outcome, EInvoiceError | list)


BROKEN_DOCUMENTS = {
    **{name: lambda data=data: data for name, data in EMPTY_DOCUMENTS.items()},
    "non-numeric price": lambda: with_text(ubl_invoice(), "PriceAmount", "abc"),
    "credit note line without amount": lambda: without(ubl_credit_note(), "cac:CreditNoteLine/cbc:LineExtensionAmount"),
    "NaN amount": lambda: with_text(ubl_invoice(), "LineExtensionAmount", "NaN"),
    "32-digit quantity": lambda: with_text(ubl_invoice(), "InvoicedQuantity", "1" * 32),
}


@pytest.mark.parametrize("name", sorted(BROKEN_DOCUMENTS))
@pytest.mark.parametrize(
    "command", [("ro", "convert"), ("ro", "convert", "--credit-note-as-invoice"), ("pl", "convert")]
)
def test_the_convert_commands_answer_with_a_message_not_a_traceback(name, command, tmp_path, capsys):
    source = tmp_path / "in.xml"
    source.write_bytes(BROKEN_DOCUMENTS[name]())
    status, output = run_cli(capsys, "--lang", "en", *command[:2], source, "-o", tmp_path / "out.xml", *command[2:])
    assert status in (1, 2)
    assert output.strip() and "Traceback" not in output


@pytest.mark.parametrize("command", ["check", "convert"])
def test_the_commands_in_a_subprocess_answer_a_nan_amount_with_a_message(command, tmp_path):
    source = tmp_path / "in.xml"
    source.write_bytes(with_text(ubl_invoice(), "LineExtensionAmount", "NaN"))
    output = ["-o", str(tmp_path / "out.xml")] if command == "convert" else []
    result = subprocess.run(
        [sys.executable, "-m", "einvoice.cli", "--lang", "en", "ro", command, str(source), *output],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        cwd=ROOT,
    )
    assert result.returncode in (1, 2)
    assert (result.stdout + result.stderr).strip() and "Traceback" not in result.stderr
    if command == "check":
        assert "UBL-NUMBER" in result.stdout and "NaN" in result.stdout


# -- time: linear where the official rules are written quadratically --------------------------------------------------


class CountedUses(tuple):
    """``SyntaxFacts.category_uses`` that counts every use handed out by iterating it."""

    visits = 0

    def __iter__(self):
        for use in super().__iter__():
            CountedUses.visits += 1
            yield use


def vat_breakdowns(count):
    """An invoice of ``count`` lines, each with its own VAT rate: ``count`` VAT breakdowns."""
    return build([line(n + 1, "1", "10.00", rate=str(D(1) + D(n) / 1000)) for n in range(count)])


def test_the_vat_category_rules_look_at_each_use_a_bounded_number_of_times():
    invoice = vat_breakdowns(800)
    facts = ubl.facts_for(invoice)
    uses = CountedUses(facts.category_uses)
    CountedUses.visits = 0
    findings = en16931.RULES.run(invoice, replace(facts, category_uses=uses))
    assert not [finding for finding in findings if finding.rule.startswith("BR-S-")]
    assert CountedUses.visits <= 30 * len(uses)  # a few passes, not one per breakdown


BIG_VAT_CHECK = """
import json, sys
from tests.test_hostile_input import vat_breakdowns
from einvoice import ubl
from einvoice.ro import ciusro

xml = ubl.write(vat_breakdowns(5000))
right = ciusro.check_document(xml)
start = xml.index(b"<cbc:TaxableAmount")
start = xml.index(b">", start) + 1
end = xml.index(b"<", start)
wrong = ciusro.check_document(xml[:start] + b"99999.00" + xml[end:])
print(json.dumps({"right": sorted({f.rule for f in right}), "wrong": [f.rule for f in wrong]}))
"""


def run_guarded(code, *args):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_five_thousand_vat_breakdowns_are_checked_right():
    outcome = run_guarded(BIG_VAT_CHECK)
    assert not [rule for rule in outcome["right"] if rule.startswith(("BR-S-", "BR-CO-"))]
    assert outcome["wrong"].count("BR-S-08") == 1


class CountedText(str):
    """A note text that counts the characters every slice of it copies (slices of it count on)."""

    copied = 0

    def __getitem__(self, key):
        piece = str.__getitem__(self, key)
        CountedText.copied += len(piece)
        return CountedText(piece)

    def strip(self, chars=None):
        return CountedText(str.strip(self, chars))


def test_a_long_note_is_cut_without_copying_what_is_left_each_time():
    text = CountedText(("word " * 60 + "\n") * 2_000)  # 600 kB: more than the 20 notes CIUS-RO allows
    CountedText.copied = 0
    prepared = ciusro.prepare(build(notes=(Note(text),)))
    assert prepared.notes == (Note(text),)  # too many pieces: the note stays whole, for the checks to report
    assert CountedText.copied <= 2 * ciusro.NOTE_LIMIT * (ciusro.NOTE_COUNT_LIMIT + 1)

    text = CountedText("word " * 1_000)
    CountedText.copied = 0
    prepared = ciusro.prepare(build(notes=(Note(text),)))
    assert " ".join(note.text for note in prepared.notes) == text.strip()
    assert all(len(note.text) <= ciusro.NOTE_LIMIT for note in prepared.notes)
    assert CountedText.copied <= 2 * len(text)


LONG_NOTE_CONVERSION = """
import json, sys
from tests.test_hostile_input import build
from einvoice.model import Note
from einvoice.ro import ciusro

xml = ciusro.render(build(notes=(Note("n " * 4_000_000),)), strict=False)
findings = ciusro.check_document(xml)
print(json.dumps({"size": len(xml), "rules": sorted({f.rule for f in findings})}))
"""


def test_an_eight_megabyte_note_is_converted():
    outcome = run_guarded(LONG_NOTE_CONVERSION)
    assert outcome["size"] > 8_000_000  # written whole, too long for CIUS-RO
    assert "BR-RO-L302" in outcome["rules"]


# -- attributes: refused before libxml2 compares each with every other -------------------------------------------


def crowded(count, encoding="utf-8", separator=" "):
    attributes = separator.join(f'a{n}="{n}"' for n in range(count))
    text = f'<?xml version="1.0" encoding="{encoding}"?><Invoice><Note {attributes}>x</Note></Invoice>'
    return text.encode(encoding)


@pytest.mark.parametrize(
    "data",
    [
        crowded(100_000),
        crowded(MAX_ATTRIBUTES + 1),
        crowded(50_000, separator="\n\t "),
        b"\xef\xbb\xbf" + crowded(20_000),
        "\ufeff".encode("utf-16-le") + crowded(20_000, "utf-16-le"),
        crowded(20_000, "utf-16-be"),
        crowded(20_000, "utf-7"),
        ("<Invoice " + " ".join(f'xmlns:p{n}="urn:{n}"' for n in range(20_000)) + "/>").encode(),
    ],
    ids=["100000", "one too many", "blanks", "utf-8 bom", "utf-16 bom", "utf-16 be", "utf-7", "namespaces"],
)
def test_an_element_with_too_many_attributes_is_refused_before_parsing(data):
    with pytest.raises(UnsafeInputError, match=f"more than {MAX_ATTRIBUTES} attributes"):
        parse_xml(data)


@pytest.mark.parametrize(
    "data",
    [
        crowded(MAX_ATTRIBUTES),
        crowded(MAX_ATTRIBUTES, "iso-8859-2"),
        crowded(MAX_ATTRIBUTES, "utf-16"),
        b"<Invoice><Note>" + b"=" * 5_000 + b"</Note><Note a='" + b"=" * 500 + b"'/></Invoice>",
        b"<Invoice>" + b"<Note a='1' b='2'>x</Note>" * 10_000 + b"</Invoice>",
    ],
    ids=["at the limit", "iso-8859-2", "utf-16", "equals signs in text and values", "many small elements"],
)
def test_elements_within_the_limit_are_parsed(data):
    assert parse_xml(data) is not None


@pytest.mark.parametrize("declared", ["UTF-16", "UTF-32", "ISO-8859-2"])
def test_a_utf8_byte_order_mark_with_another_declared_encoding_is_refused_on_every_libxml2(declared):
    body = ubl_invoice().split(b"?>", 1)[1]
    data = b"\xef\xbb\xbf" + f'<?xml version="1.0" encoding="{declared}"?>'.encode() + body
    with pytest.raises(UnsafeInputError, match="byte order mark"):
        parse_xml(data)
    assert parse_xml(b"\xef\xbb\xbf" + b'<?xml version="1.0" encoding="utf-8"?>' + body) is not None


def test_an_encoding_the_count_cannot_read_is_refused():
    with pytest.raises(UnsafeInputError, match=r"cannot be decoded|not well-formed"):
        parse_xml(b'<?xml version="1.0" encoding="x-unknown-9"?><a/>')


# -- memory: ZIP members whatever their headers claim -------------------------------------------------------------


# the peak resident memory of this process since it started: VmHWM, which starts afresh with the program, unlike
# ru_maxrss, which keeps the peak of the parent the process was forked from
PEAK_MB = """
def peak_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) // 1024
"""
READ_ZIP = (
    PEAK_MB
    + """
import json, sys
from einvoice.xmlsafe import UnsafeInputError, read_zip

data = open(sys.argv[1], "rb").read()
try:
    read_zip(data)
    outcome = "read"
except UnsafeInputError as error:
    outcome = str(error)
print(json.dumps({"outcome": outcome, "peak_mb": peak_mb()}))
"""
)


@pytest.mark.parametrize(
    ("method", "megabytes"), [(zipfile.ZIP_BZIP2, 500), (zipfile.ZIP_LZMA, 200)], ids=["bzip2", "lzma"]
)
def test_a_bzip2_or_lzma_bomb_is_refused_in_bounded_memory(method, megabytes, tmp_path):
    path = tmp_path / "bomb.zip"
    path.write_bytes(zip_bomb(method, megabytes, claimed_size=1000))
    assert path.stat().st_size < 100_000
    outcome = run_guarded(READ_ZIP, path)
    assert "only stored and deflated files are read" in outcome["outcome"]
    assert outcome["peak_mb"] < MEMORY_BOUND_MB


def test_stored_and_deflated_archives_are_still_read():
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", method) as archive:
            archive.writestr("123.xml", ubl_invoice())
            archive.writestr("semnatura_123.xml", b"<Signature/>")
        assert set(read_zip(buffer.getvalue())) == {"123.xml", "semnatura_123.xml"}


def test_a_member_whose_local_header_contradicts_the_directory_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("123.xml", ubl_invoice())
    data = bytearray(buffer.getvalue())
    data[14] ^= 0xFF  # the checksum in the member's own header; the directory keeps the right one
    with pytest.raises(UnsafeInputError, match="described differently"):
        read_zip(bytes(data))
    with pytest.raises(UnsafeInputError, match="described differently"):
        inbound.read_received(bytes(data), "archive.zip")


def test_a_bzip2_member_of_an_archive_is_refused_by_name():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("123.xml", ubl_invoice())
    with pytest.raises(UnsafeInputError, match=re.escape("123.xml") + ".*bzip2"):
        read_zip(buffer.getvalue())
