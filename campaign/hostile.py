"""Hostile inputs against every public reader, check and document command, each case in a worker process held to
a time and a memory limit.

A case is bytes (an XML document or a ZIP archive) built from a seed: XXE and entity tricks, encodings, depth and
width, numbers and dates outside the schemas' lexical spaces, ZIP bombs of every compression, path traversal, and
random mutations of valid UBL, CII and FA(3) invoices. Every target must either answer or refuse with the library's
own typed error (:class:`einvoice.errors.EInvoiceError`) or fatal findings. A case is *bad* when a target raises
anything else (a traceback), runs longer than the time limit, takes the worker over the memory limit, or accepts
what it must refuse (an entity, a DTD, a bomb, a climbing member name, a number or date the schema does not allow,
or the content of a file an external entity points at).
"""

import bz2
import contextlib
import io
import json
import lzma
import random
import re
import resource
import select
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

TIME_LIMIT = 10.0  # seconds a case may take, all its targets together
MEMORY_LIMIT_MB = 500  # peak resident memory of the worker
ADDRESS_SPACE = 4 * 1024**3  # a hard stop far above the limit, so that a runaway case ends the worker, not the machine
CANARY = "CANARY-9f1c2e"  # the content of the file the external entities point at; must never come out

XML_TARGETS = (
    "parse_xml",
    "read_received",
    "ubl.read",
    "cii.read",
    "fa3.read",
    "ro.check",
    "pl.check",
    "cli ro check",
    "cli ro convert",
    "cli pl check",
    "cli pl convert",
)
ZIP_TARGETS = ("read_zip", "read_received", "anaf.parse_download")
UBL_DOCUMENT = ("ro.check", "cli ro check")  # must refuse a UBL or CII document the schema does not allow
FA3_DOCUMENT = ("pl.check", "cli pl check")


@dataclass
class Case:
    index: int
    family: str
    name: str
    data: bytes = field(repr=False)
    kind: str = "xml"  # or "zip"
    refuse: tuple = ()  # targets that must refuse it


# -- valid documents to start from ------------------------------------------------------------------------------------
def valid_documents():
    """One valid document per syntax we read, made by our own writers (and a small CII invoice)."""
    from einvoice.pl import fa3
    from einvoice.ro import ciusro
    from tests import pl_scenarios, ro_scenarios

    return {
        "ubl": ciusro.render(ro_scenarios.SCENARIOS["several_lines_and_rates"]()),
        "ubl-credit-note": ciusro.render(ro_scenarios.build(type_code="381")),
        "cii": CII_INVOICE,
        "fa3": fa3.write(pl_scenarios.build()),
    }


CII_INVOICE = b"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
 xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
 xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
 <rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>
  <ram:ID>urn:cen.eu:en16931:2017#compliant#urn:efactura.mfinante.ro:CIUS-RO:1.0.1</ram:ID>
 </ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>
 <rsm:ExchangedDocument><ram:ID>CII-1</ram:ID><ram:TypeCode>380</ram:TypeCode>
  <ram:IssueDateTime><udt:DateTimeString format="102">20261204</udt:DateTimeString></ram:IssueDateTime>
 </rsm:ExchangedDocument>
 <rsm:SupplyChainTradeTransaction>
  <ram:IncludedSupplyChainTradeLineItem>
   <ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>
   <ram:SpecifiedTradeProduct><ram:Name>Servicii</ram:Name></ram:SpecifiedTradeProduct>
   <ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>100.00</ram:ChargeAmount>
   </ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>
   <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="H87">1</ram:BilledQuantity>
   </ram:SpecifiedLineTradeDelivery>
   <ram:SpecifiedLineTradeSettlement><ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode>
    <ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>21</ram:RateApplicablePercent>
   </ram:ApplicableTradeTax><ram:SpecifiedTradeSettlementLineMonetarySummation>
    <ram:LineTotalAmount>100.00</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation>
   </ram:SpecifiedLineTradeSettlement>
  </ram:IncludedSupplyChainTradeLineItem>
  <ram:ApplicableHeaderTradeAgreement>
   <ram:SellerTradeParty><ram:Name>Alfa SRL</ram:Name><ram:PostalTradeAddress><ram:LineOne>Str. A 1</ram:LineOne>
    <ram:CityName>SECTOR1</ram:CityName><ram:CountryID>RO</ram:CountryID>
    <ram:CountrySubDivisionName>RO-B</ram:CountrySubDivisionName></ram:PostalTradeAddress>
    <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">RO18547290</ram:ID></ram:SpecifiedTaxRegistration>
   </ram:SellerTradeParty>
   <ram:BuyerTradeParty><ram:Name>Beta SRL</ram:Name><ram:PostalTradeAddress><ram:LineOne>Str. B 2</ram:LineOne>
    <ram:CityName>Cluj-Napoca</ram:CityName><ram:CountryID>RO</ram:CountryID>
    <ram:CountrySubDivisionName>RO-CJ</ram:CountrySubDivisionName></ram:PostalTradeAddress>
    <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">RO14399840</ram:ID></ram:SpecifiedTaxRegistration>
   </ram:BuyerTradeParty>
  </ram:ApplicableHeaderTradeAgreement>
  <ram:ApplicableHeaderTradeDelivery/>
  <ram:ApplicableHeaderTradeSettlement><ram:InvoiceCurrencyCode>RON</ram:InvoiceCurrencyCode>
   <ram:ApplicableTradeTax><ram:CalculatedAmount>21.00</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode>
    <ram:BasisAmount>100.00</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode>
    <ram:RateApplicablePercent>21</ram:RateApplicablePercent></ram:ApplicableTradeTax>
   <ram:SpecifiedTradePaymentTerms><ram:DueDateDateTime><udt:DateTimeString format="102">20261231</udt:DateTimeString>
   </ram:DueDateDateTime></ram:SpecifiedTradePaymentTerms>
   <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    <ram:LineTotalAmount>100.00</ram:LineTotalAmount><ram:TaxBasisTotalAmount>100.00</ram:TaxBasisTotalAmount>
    <ram:TaxTotalAmount currencyID="RON">21.00</ram:TaxTotalAmount><ram:GrandTotalAmount>121.00</ram:GrandTotalAmount>
    <ram:DuePayableAmount>121.00</ram:DuePayableAmount>
   </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
  </ram:ApplicableHeaderTradeSettlement>
 </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>
"""

# -- the families of cases ----------------------------------------------------------------------------------------
# numbers outside xsd:decimal's lexical space (optional sign, ASCII digits, optional fraction; nothing else)
BAD_NUMBERS = [
    "NaN", "sNaN", "-NaN", "Infinity", "-Infinity", "inf", "1E+999999999", "1e5", "1E-999999999",
    "\u0661\u0662\u0663", "\u0661\u0660\u0660.\u0660\u0660", "\u0661e5", "0x10", "1,50", "1 000", "+-1", "1.2.3", "",
    " ", "\u221e", "12\u00a0", "--5", "5-", ".", "+", "1_000",
]  # fmt: skip
EDGE_NUMBERS = ["9" * 32, "0." + "0" * 40 + "1", "-0", "+12", "12.", ".5", "9" * 18 + ".99", "0" * 300 + "1"]
BAD_DATES = ["2026-02-30", "2026-13-01", "2026-00-10", "0000-01-01", "2026-1-1", "tomorrow", "2026-02-29", "2026/02/01"]
AMOUNT_TAGS = {
    "ubl": ["LineExtensionAmount", "PriceAmount", "TaxAmount", "PayableAmount", "TaxableAmount", "InvoicedQuantity"],
    "cii": ["LineTotalAmount", "ChargeAmount", "CalculatedAmount", "GrandTotalAmount", "BilledQuantity"],
    "fa3": ["P_11", "P_9A", "P_13_1", "P_14_1", "P_15", "P_8B"],
}
DATE_TAGS = {"ubl": ["IssueDate", "DueDate"], "fa3": ["P_1", "P_6"]}


def _replace_text(xml, tag, value, occurrence=0):
    """``xml`` with the text of the ``occurrence``-th element named ``tag`` (any prefix) replaced by ``value``."""
    text = xml.decode("utf-8")
    starts = list(re.finditer(rf"<(?:[\w.-]+:)?{re.escape(tag)}(?=[\s/>])[^>]*>", text))  # opening tags only
    if len(starts) <= occurrence or starts[occurrence].group().endswith("/>"):
        return None
    opening_end = starts[occurrence].end()
    closing = text.find("</", opening_end)
    return (text[:opening_end] + value + text[closing:]).encode("utf-8")


def _xxe_cases(canary_file):
    url = Path(canary_file).as_uri()
    root = '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'
    laughs = "".join(f'<!ENTITY l{i} "{"&l%d;" % (i - 1) * 10}">' for i in range(1, 10))
    return [
        ("external entity", f'<!DOCTYPE Invoice [<!ENTITY x SYSTEM "{url}">]>{root}<Note>&x;</Note></Invoice>'),
        ("external dtd", f'<!DOCTYPE Invoice SYSTEM "{url}">{root}</Invoice>'),
        ("parameter entity", f'<!DOCTYPE Invoice [<!ENTITY % p SYSTEM "{url}"> %p;]>{root}</Invoice>'),
        ("network dtd", f'<!DOCTYPE Invoice SYSTEM "http://127.0.0.1:9/x.dtd">{root}</Invoice>'),
        ("billion laughs", f'<!DOCTYPE Invoice [<!ENTITY l0 "ha">{laughs}]>{root}<Note>&l9;</Note></Invoice>'),
        (
            "quadratic blowup",
            f'<!DOCTYPE Invoice [<!ENTITY a "{"x" * 50_000}">]>{root}<Note>{"&a;" * 20_000}</Note></Invoice>',
        ),
        ("internal entity", f'<!DOCTYPE Invoice [<!ENTITY e "1.00">]>{root}<Note>&e;</Note></Invoice>'),
    ]


def _xinclude(valid, canary_file):
    include = (
        f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{Path(canary_file).as_uri()}" parse="text"/>'
    )
    return valid.replace(b"</cbc:ID>", f"{include}</cbc:ID>".encode(), 1)


def _encoding_cases(valid):
    text = valid.decode("utf-8")
    body = text.split("?>", 1)[1] if text.startswith("<?xml") else text
    return [
        ("utf-16 with bom", ("\ufeff" + '<?xml version="1.0" encoding="UTF-16"?>' + body).encode("utf-16-le"), False),
        (
            "latin-1 bytes declared utf-8",
            ('<?xml version="1.0" encoding="UTF-8"?>' + body + "\u00e9").encode("latin-1", "replace"),
            True,
        ),
        ("unknown encoding", ('<?xml version="1.0" encoding="x-unknown"?>' + body).encode(), True),
        (
            "utf-8 bom, utf-16 declared",
            b"\xef\xbb\xbf" + ('<?xml version="1.0" encoding="UTF-16"?>' + body).encode(),
            True,
        ),
        ("nul byte", valid.replace(b">", b">\x00", 1), True),
        ("control character", valid.replace(b"</cbc:ID>", b"\x01</cbc:ID>", 1), True),
        ("overlong utf-8", valid.replace(b"</cbc:ID>", b"\xc0\xaf</cbc:ID>", 1), True),
        ("lone surrogate", valid.replace(b"</cbc:ID>", b"\xed\xa0\x80</cbc:ID>", 1), True),
        (
            "iso-8859-2 declared",
            ('<?xml version="1.0" encoding="ISO-8859-2"?>' + body).encode("iso-8859-2", "replace"),
            False,
        ),
    ]


def _shape_cases(valid):
    root = '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'
    note_at = valid.find(b"</cbc:Note>")
    long_note = valid[:note_at] + b"n " * 4_000_000 + valid[note_at:] if note_at > 0 else None
    attributes = " ".join(f'a{i}="{i}"' for i in range(100_000))
    return [
        ("deep nesting", (root + "<a>" * 100_000 + "</a>" * 100_000 + "</Invoice>").encode(), False),
        ("wide", (root + "<Note>x</Note>" * 300_000 + "</Invoice>").encode(), False),
        ("many attributes", f"{root}<Note {attributes}>x</Note></Invoice>".encode(), False),
        ("long attribute", f'{root}<Note a="{"v" * 10_000_000}">x</Note></Invoice>'.encode(), False),
        ("long name", f"{root}<{'N' * 1_000_000}/></Invoice>".encode(), False),
        ("many namespaces", (root[:-1] + "".join(f' xmlns:p{i}="u{i}"' for i in range(20_000)) + "/>").encode(), False),
        ("long note", long_note, False),
        ("too large", b"<a>" + b"x" * (60 * 1024 * 1024) + b"</a>", True),
        ("empty", b"", True),
        ("blank", b"  \n ", True),
        ("not xml", b"%PDF-1.7 \x00\xff", True),
        ("empty invoice", root.replace(">", "/>").encode(), False),
        ("truncated", valid[: len(valid) // 2], True),
    ]


def _zip(members, compression=zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", compression) as archive:
        warnings.simplefilter("ignore")  # a duplicate name is one of the cases
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


ZERO_MB = bytes(1024 * 1024)


def _zeros_compressed(compressor, megabytes):
    return b"".join(compressor.compress(ZERO_MB) for _ in range(megabytes)) + compressor.flush()


def zip_bomb(method, megabytes, claimed_size=None):
    """A ZIP with one member of ``megabytes`` of zeros, whose headers claim ``claimed_size`` bytes (None: the truth)."""
    header = b""
    if method == zipfile.ZIP_DEFLATED:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    elif method == zipfile.ZIP_BZIP2:
        compressor = bz2.BZ2Compressor(9)
    else:
        filters = [{"id": lzma.FILTER_LZMA1, "dict_size": 1 << 20}]
        compressor = lzma.LZMACompressor(lzma.FORMAT_RAW, filters=filters)
        properties = lzma._encode_filter_properties(filters[0])  # the ZIP's LZMA header carries them (APPNOTE 5.8)
        header = struct.pack("<BBH", 9, 4, len(properties)) + properties
    payload = header + _zeros_compressed(compressor, megabytes)
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(ZERO_MB, crc)
    size = megabytes * len(ZERO_MB) if claimed_size is None else claimed_size
    return _raw_zip("bomb.xml", payload, method, size, crc)


def _raw_zip(name, payload, method, size, crc):
    """A one-member ZIP written by hand, so that its size fields can lie."""
    encoded = name.encode()
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 63, 0, method, 0, 0, crc, len(payload), size, len(encoded), 0)
    central = struct.pack(
        "<4s6H3L5H2L", b"PK\x01\x02", 63, 63, 0, method, 0, 0, crc, len(payload), size, len(encoded), 0, 0, 0, 0, 0, 0
    )
    offset = len(local) + len(encoded) + len(payload)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(encoded), offset, 0)
    return local + encoded + payload + central + encoded + end


def _zip_cases(valid):
    invoice = [("123.xml", valid), ("semnatura_123.xml", b"<Signature/>")]
    deflate_bomb = zip_bomb(zipfile.ZIP_DEFLATED, 120)
    return [
        ("ANAF-like archive", _zip(invoice), ()),
        ("deflate bomb", deflate_bomb, ZIP_TARGETS),
        ("deflate bomb, lying header", zip_bomb(zipfile.ZIP_DEFLATED, 300, claimed_size=1000), ZIP_TARGETS),
        ("bzip2 bomb", zip_bomb(zipfile.ZIP_BZIP2, 60), ZIP_TARGETS),
        ("bzip2 bomb, lying header", zip_bomb(zipfile.ZIP_BZIP2, 500, claimed_size=1000), ZIP_TARGETS),
        ("lzma bomb", zip_bomb(zipfile.ZIP_LZMA, 60), ZIP_TARGETS),
        ("lzma bomb, lying header", zip_bomb(zipfile.ZIP_LZMA, 200, claimed_size=1000), ZIP_TARGETS),
        ("zip in zip", _zip([("inner.zip", deflate_bomb), ("semnatura_1.xml", b"<S/>")]), ()),
        ("many members", _zip([(f"{i}.xml", b"<a/>") for i in range(2_000)]), ZIP_TARGETS),
        ("climbing name", _zip([("../../evil.xml", valid)]), ZIP_TARGETS),
        ("absolute name", _zip([("/etc/evil.xml", valid)]), ZIP_TARGETS),
        ("windows name", _zip([("C:\\evil.xml", valid)]), ZIP_TARGETS),
        ("duplicate names", _zip([("a.xml", valid), ("a.xml", valid)]), ZIP_TARGETS),
        ("encrypted flag", _encrypted(_zip([("a.xml", valid)])), ZIP_TARGETS),
        ("truncated archive", _zip(invoice)[:-30], ZIP_TARGETS),
        ("bad crc", _bad_crc(_zip([("a.xml", valid)], zipfile.ZIP_STORED)), ZIP_TARGETS),
        ("not a zip", b"PK\x03\x04" + b"\xff" * 100, ZIP_TARGETS),
        ("empty zip", _zip([]), ("read_received", "anaf.parse_download")),
    ]


def _encrypted(data):
    data = bytearray(data)
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = data.find(signature)
        data[position + flag_offset] |= 1
    return bytes(data)


def _bad_crc(data):
    data = bytearray(data)
    position = data.find(b"PK\x03\x04")
    data[position + 14] ^= 0xFF
    return bytes(data)


MUTATIONS = ("delete", "duplicate", "hostile text", "swap codes", "truncate", "flip bytes", "strip namespace")
HOSTILE_TEXTS = [*BAD_NUMBERS, *BAD_DATES, "", "x" * 100_000, "<", "]]>", "\u202e", "RO" + "9" * 60, "ZZ", "XXX"]
CODE_SWAPS = [(b">RON<", b">XXX<"), (b">RO<", b">ZZ<"), (b">S<", b">Q<"), (b">380<", b">999<"), (b">H87<", b">??<")]


def _mutate(valid, rng):
    from lxml import etree

    kind = rng.choice(MUTATIONS)
    if kind in ("truncate", "flip bytes", "swap codes"):
        data = bytearray(valid)
        if kind == "truncate":
            return kind, bytes(data[: rng.randrange(1, len(data))])
        if kind == "flip bytes":
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            return kind, bytes(data)
        old, new = rng.choice(CODE_SWAPS)
        return kind, valid.replace(old, new)
    root = etree.fromstring(valid)
    elements = [element for element in root.iter() if isinstance(element.tag, str) and element is not root]
    target = rng.choice(elements)
    if kind == "delete":
        target.getparent().remove(target)
    elif kind == "duplicate":
        target.addnext(etree.fromstring(etree.tostring(target)))
    elif kind == "hostile text":
        leaves = [element for element in elements if len(element) == 0]
        rng.choice(leaves).text = rng.choice(HOSTILE_TEXTS)
    else:  # strip namespace
        return kind, valid.replace(b"xmlns=", b"xmlns:gone=", 1)
    return kind, etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def cases(seed, count, canary_file):
    """``count`` cases (at least the fixed ones), the same for the same seed."""
    rng = random.Random(seed)  # noqa: S311 - reproducible cases, not secrets
    documents = valid_documents()
    fixed = []
    for name, xml in _xxe_cases(canary_file):
        fixed.append(("xxe", name, xml.encode(), "xml", XML_TARGETS))
    fixed.append(("xxe", "xinclude", _xinclude(documents["ubl"], canary_file), "xml", ()))
    for name, data, refused in _encoding_cases(documents["ubl"]):
        fixed.append(("encoding", name, data, "xml", XML_TARGETS if refused else ()))
    for name, data, refused in _shape_cases(documents["ubl"]):
        fixed.append(("shape", name, data, "xml", XML_TARGETS if refused else ()))
    for name, data, refuse in _zip_cases(documents["ubl"]):
        fixed.append(("zip", name, data, "zip", refuse))
    for syntax in ("ubl", "cii", "fa3"):  # each value once per syntax, in an amount or quantity chosen by the seed
        refuse = FA3_DOCUMENT if syntax == "fa3" else UBL_DOCUMENT
        for values, family, tags, must_refuse in (
            (BAD_NUMBERS, "numbers", AMOUNT_TAGS[syntax], True),
            (EDGE_NUMBERS, "numbers", AMOUNT_TAGS[syntax], False),
            (BAD_DATES, "dates", DATE_TAGS.get(syntax, ()), True),
        ):
            for value in values if tags else ():
                tag = rng.choice(tags)
                fixed.append((family, f"{syntax} {tag}={value[:24]!r}", _replace_text(documents[syntax], tag, value),
                              "xml", refuse if must_refuse else ()))  # fmt: skip
    fixed = [fields for fields in fixed if fields[2] is not None]
    generated = [Case(index, *fields[:3], kind=fields[3], refuse=fields[4]) for index, fields in enumerate(fixed)]
    syntaxes = sorted(documents)
    while len(generated) < count:
        syntax = rng.choice(syntaxes)
        kind, data = _mutate(documents[syntax], rng)
        generated.append(Case(len(generated), "mutation", f"{syntax} {kind} #{len(generated)}", data))
    return generated


# -- running the targets (inside a worker) ----------------------------------------------------------------------------
def _refused(outcome):
    """Whether a target's outcome is a refusal: the library's typed error, a fatal finding, or a failing exit status."""
    if isinstance(outcome, int):
        return outcome != 0
    if isinstance(outcome, Exception):
        return True
    findings = getattr(outcome, "findings", outcome)
    return isinstance(findings, list | tuple) and any(getattr(finding, "fatal", False) for finding in findings)


def _targets(kind, path, workdir):
    from einvoice import cii, cli, inbound, ubl, xmlsafe
    from einvoice.pl import fa3
    from einvoice.ro import anaf, ciusro

    data = path.read_bytes()

    def command(*argv):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                return cli.main([*argv]) or 0
            except SystemExit as stop:
                return stop.code if isinstance(stop.code, int) else 2

    if kind == "zip":
        return {
            "read_zip": lambda: xmlsafe.read_zip(data),
            "read_received": lambda: inbound.read_received(data, "case.zip"),
            "anaf.parse_download": lambda: anaf.parse_download(data, "1"),
        }
    return {
        "parse_xml": lambda: xmlsafe.parse_xml(data),
        "read_received": lambda: inbound.read_received(data, "case.xml"),
        "ubl.read": lambda: ubl.read(data),
        "cii.read": lambda: cii.read(data),
        "fa3.read": lambda: fa3.read(data),
        "ro.check": lambda: ciusro.check_document(data),
        "pl.check": lambda: fa3.check_document(data),
        "cli ro check": lambda: command("ro", "check", str(path)),
        "cli ro convert": lambda: command("ro", "convert", str(path), "--output", str(workdir / "ro.xml")),
        "cli pl check": lambda: command("pl", "check", str(path)),
        "cli pl convert": lambda: command("pl", "convert", str(path), "--output", str(workdir / "pl.xml")),
    }


def run_case(case, workdir):
    """Every target on ``case``; returns the problems found (empty when the case is handled well)."""
    from einvoice.errors import EInvoiceError

    path = workdir / ("case.zip" if case.kind == "zip" else "case.xml")
    path.write_bytes(case.data)
    problems = []
    for name, target in _targets(case.kind, path, workdir).items():
        try:
            outcome = target()
        except EInvoiceError as error:
            outcome = error
        except RecursionError:
            problems.append(f"{name}: RecursionError")
            continue
        except Exception as error:
            problems.append(f"{name}: {type(error).__name__}: {str(error)[:200]}")
            continue
        if CANARY in _visible(outcome) or any(CANARY in p.read_text(errors="replace") for p in workdir.glob("*.xml")):
            problems.append(f"{name}: the content of an external entity's file came out")
        if name in case.refuse and not _refused(outcome):
            problems.append(f"{name}: accepted what it must refuse")
    return problems


def _visible(outcome):
    try:
        return repr(outcome) + repr(getattr(outcome, "invoice", ""))
    except Exception:
        return ""


def _peak_mb():
    """The worker's own peak resident memory, in MB.

    Linux keeps ``ru_maxrss`` across ``exec``: a worker started by a large process (a long test session) would report
    its parent's size. The memory map's high-water mark (``VmHWM``) starts afresh with the worker's own program.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match[1]) // 1024 if match else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def worker(folder, indices):
    """Run the cases ``indices`` written in ``folder``, one JSON line each: ``start`` before, then the result."""
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    manifest = json.loads((Path(folder) / "manifest.json").read_text())
    with tempfile.TemporaryDirectory(prefix="einvoice-hostile-") as scratch:
        workdir = Path(scratch)
        for index in indices:
            entry = manifest[str(index)]
            case = Case(index, entry["family"], entry["name"], (Path(folder) / f"{index}.bin").read_bytes(),
                        entry["kind"], tuple(entry["refuse"]))  # fmt: skip
            print(json.dumps({"start": index}), flush=True)
            try:
                problems = run_case(case, workdir)
            except MemoryError:
                problems = ["MemoryError"]
            peak = _peak_mb()
            if peak > MEMORY_LIMIT_MB:
                problems.append(f"the worker reached {peak} MB")
            print(json.dumps({"index": index, "problems": problems, "peak_mb": peak}), flush=True)
            if peak > MEMORY_LIMIT_MB:
                return  # a peak cannot go down: the next case starts in a fresh worker


@dataclass
class Report:
    cases: int = 0
    bad: list = field(default_factory=list)  # (case name, problems)
    families: dict = field(default_factory=dict)
    peak_mb: int = 0
    slowest: tuple = (0.0, "")

    def line(self):
        families = ", ".join(f"{name} {count}" for name, count in sorted(self.families.items()))
        return (
            f"hostile: {self.cases} cases ({families}), {len(self.bad)} bad; worker peak {self.peak_mb} MB, "
            f"slowest case {self.slowest[0]:.1f} s ({self.slowest[1]})"
        )


def run(seed=1, count=500, *, limit=None):
    """The campaign: the seed's cases (``limit`` of them, fixed and generated alike, when given) through workers."""
    with tempfile.TemporaryDirectory(prefix="einvoice-campaign-") as folder:
        canary_file = Path(folder) / "secret.txt"
        canary_file.write_text(CANARY)
        all_cases = cases(seed, count, str(canary_file))
        if limit:
            all_cases = random.Random(seed).sample(  # noqa: S311 - a reproducible slice
                all_cases, min(limit, len(all_cases))
            )
        report = Report(cases=len(all_cases))
        manifest = {}
        for case in all_cases:
            report.families[case.family] = report.families.get(case.family, 0) + 1
            (Path(folder) / f"{case.index}.bin").write_bytes(case.data)
            manifest[case.index] = {"family": case.family, "name": case.name, "kind": case.kind,
                                    "refuse": list(case.refuse)}  # fmt: skip
        (Path(folder) / "manifest.json").write_text(json.dumps(manifest))
        pending = [case.index for case in all_cases]
        while pending:
            pending = _run_worker(folder, pending, {case.index: case for case in all_cases}, report)
    return report


def _run_worker(folder, pending, by_index, report):
    """Run a worker over ``pending``; return what is left when it stopped early (a hang, a crash, its memory)."""
    command = [sys.executable, "-m", "campaign.hostile", folder, *map(str, pending)]
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=root, text=True)  # noqa: S603
    current, started, done = None, None, set()
    try:
        while True:
            wait = TIME_LIMIT - (time.monotonic() - started) if current is not None else 120
            ready, _w, _x = select.select([process.stdout], [], [], max(wait, 0))
            if not ready:
                report.bad.append((by_index[current].name, [f"no answer in {TIME_LIMIT:.0f} s"]))
                done.add(current)
                break
            line = process.stdout.readline()
            if not line:
                if current is not None and current not in done:
                    error = process.stderr.read()[-300:].strip()
                    report.bad.append((by_index[current].name, [f"the worker died: {error}"]))
                    done.add(current)
                break
            message = json.loads(line)
            if "start" in message:
                current, started = message["start"], time.monotonic()
                continue
            elapsed = time.monotonic() - started
            done.add(message["index"])
            report.peak_mb = max(report.peak_mb, message["peak_mb"])
            if elapsed > report.slowest[0]:
                report.slowest = (elapsed, by_index[message["index"]].name)
            if message["problems"]:
                report.bad.append((by_index[message["index"]].name, message["problems"]))
            current = None
    finally:
        process.kill()
        process.wait()
    return [index for index in pending if index not in done]


if __name__ == "__main__":
    worker(sys.argv[1], [int(index) for index in sys.argv[2:]])
