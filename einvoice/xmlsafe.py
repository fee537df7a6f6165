"""Reading untrusted XML and ZIP archives: whatever a platform or a supplier sends us goes through here.

XML: no DTD at all (so no entities, external or internal, and no billion laughs), no network, a size cap, a cap on
the attributes of one element.
ZIP: stored or deflated members only; a cap on members, on each member's size, on the total and on the compression
ratio, measured while reading (declared sizes can lie); member names that climb out of the archive are refused.
"""

import codecs
import io
import posixpath
import re
import struct
import zipfile

from lxml import etree

from .errors import EInvoiceError
from .i18n import _

MAX_XML_BYTES = 50 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000
MAX_MEMBER_BYTES = 50 * 1024 * 1024
MAX_ZIP_TOTAL_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
# attributes and namespace declarations of one element. The libxml2 of lxml 4.9 (2.10) compares each attribute of
# a start tag with every earlier one: 100 000 attributes take 20 s to parse. An invoice element has a handful.
MAX_ATTRIBUTES = 100
# Only these compressions are read. zipfile hands a bzip2 or LZMA decompressor each compressed block whole, with no
# limit on what it produces: a few hundred bytes of bzip2 expand to hundreds of megabytes in one call, before any
# limit here can look at them, and an LZMA member sets its own dictionary size. ANAF's and KSeF's archives are
# deflated, and zipfile inflates in bounded steps.
ZIP_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA"}
_CHUNK = 64 * 1024


class UnsafeInputError(EInvoiceError):
    """Input refused before or while reading it: malformed, too large, or built to harm the reader."""


def parse_xml(data, *, max_bytes=MAX_XML_BYTES, what=None):
    """Parse ``data`` (bytes) into an lxml element; ``what`` names the document in error messages."""
    what = what or _("XML document")
    if isinstance(data, str):
        raise TypeError("parse_xml() takes bytes so that the declared encoding is honoured")
    if not data or not data.strip():
        raise UnsafeInputError(_("The %(what)s is empty.", what=what))
    if len(data) > max_bytes:
        raise UnsafeInputError(
            _(
                "The %(what)s is %(size)s bytes, more than the %(limit)s allowed.",
                what=what,
                size=len(data),
                limit=max_bytes,
            )
        )
    _refuse_crowded_elements(data, what)
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as error:
        raise UnsafeInputError(
            # the parser's own words with their line and column, without its "(<string>, line n)" internals
            _("The %(what)s is not well-formed XML: %(detail)s", what=what, detail=error.msg or str(error))
        ) from None
    except (ValueError, LookupError) as error:  # unknown or inconsistent encoding declarations
        raise UnsafeInputError(_("The %(what)s cannot be decoded: %(detail)s", what=what, detail=str(error))) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeInputError(_("The %(what)s declares a DTD, which is not accepted for e-invoices.", what=what))
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        raise UnsafeInputError(_("The %(what)s uses entity references, which are not accepted.", what=what))
    return root


# Attribute values cannot hold "<" (XML 1.0, AttValue), so every "=" of a start tag lies between its "<" and the
# next "<": only a stretch holding more "=" than MAX_ATTRIBUTES can be such an element, and only there are the
# attributes themselves counted. Both patterns start at a "<" and never pass the next one, so searching a document
# takes time linear in its length. They are compiled for bytes and for text (a document in an encoding that is not
# ASCII-compatible is also searched decoded).
_CROWDED = r"<(?:[^<=]*=){%d}" % (MAX_ATTRIBUTES + 1)
_ATTRIBUTES = r"""<[^\s<>/!?=]+(?:[\s]+[^\s<>/="']+[\s]*=[\s]*(?:"[^"<]*"|'[^'<]*')){%d}""" % (MAX_ATTRIBUTES + 1)
_PATTERNS = {
    str: (re.compile(_CROWDED), re.compile(_ATTRIBUTES, re.ASCII)),
    bytes: (re.compile(_CROWDED.encode()), re.compile(_ATTRIBUTES.encode())),
}
_NOT_MARKS = bytes(byte for byte in range(256) if byte not in b"<=")
_NOT_MARK_RUNS = re.compile(r"[^<=]+")
# what tells an XML document's encoding before its declaration can be read (XML 1.0, appendix F)
_SIGNATURES = (
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x4c\x6f\xa7\x94", "cp037"),  # EBCDIC: "<", "=" and the quotes are the same in all its code pages
)
# besides UTF-8 and ISO 8859: encodings whose bytes for "<", "=", the quotes and the blanks (all below 0x40) are
# those characters and never part of another one
_ASCII_COMPATIBLE = frozenset(
    ("ascii", "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1257", "shift_jis", "euc_jp", "gbk", "gb18030")
)
_DECLARED = re.compile(rb"""<\?xml[^>]*?encoding[ \t\r\n]*=[ \t\r\n]*["']([A-Za-z][A-Za-z0-9._-]*)["']""")


def _refuse_crowded_elements(data, what):
    """Refuse ``data`` when an element has more than MAX_ATTRIBUTES attributes, before lxml spends its time on it."""
    for text in _scannable(data, what):
        if b"=" * (MAX_ATTRIBUTES + 1) not in _marks(text):  # the usual case, settled in one fast pass
            continue
        crowded, attributes = _PATTERNS[type(text)]
        position = 0
        while found := crowded.search(text, position):
            if attributes.match(text, found.start()):
                raise UnsafeInputError(
                    _(
                        "The %(what)s has an element with more than %(limit)s attributes.",
                        what=what,
                        limit=MAX_ATTRIBUTES,
                    )
                )
            position = found.end()  # those "=" were in text or in attribute values: go on from the next "<"


def _marks(text):
    """Only the "<" and "=" of ``text``, in order: a run of more "=" than MAX_ATTRIBUTES is a crowded stretch."""
    if isinstance(text, bytes):
        return text.translate(None, _NOT_MARKS)
    return _NOT_MARK_RUNS.sub("", text).encode("ascii")


def _scannable(data, what):
    """``data`` as the parser may read it: its bytes, where "<", "=" and the quotes are ASCII (UTF-8, the 8-bit
    encodings); also decoded, when its byte order mark or declaration names an encoding where they are not (UTF-16,
    UTF-7, EBCDIC...), so that no encoding hides an attribute from the count."""
    yield data
    encoding = next((name for signature, name in _SIGNATURES if data.startswith(signature)), None)
    bom = encoding == "utf-8"
    if encoding is None or bom:
        declared = _DECLARED.match(data, len(codecs.BOM_UTF8) if bom else 0, 1024)
        encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        name = codecs.lookup(encoding).name
    except LookupError:  # the parser might know it from iconv, and read what the count cannot see
        raise UnsafeInputError(
            _("The %(what)s cannot be decoded: %(detail)s", what=what, detail=f"unknown encoding {encoding}")
        ) from None
    if bom and name != "utf-8":
        # a fatal error for XML (4.3.3), which the libxml2 of lxml 4.9 reports and that of lxml 6 lets pass
        raise UnsafeInputError(
            _(
                "The %(what)s starts with a UTF-8 byte order mark but declares the encoding %(encoding)s.",
                what=what,
                encoding=encoding,
            )
        )
    if name != "utf-8" and name not in _ASCII_COMPATIBLE and not name.startswith("iso8859-"):
        yield data.decode(name, errors="replace")


def read_zip(
    data,
    *,
    max_members=MAX_ZIP_MEMBERS,
    max_member_bytes=MAX_MEMBER_BYTES,
    max_total_bytes=MAX_ZIP_TOTAL_BYTES,
    max_ratio=MAX_COMPRESSION_RATIO,
    what=None,
):
    """Every file of the ZIP archive ``data`` as ``{name: bytes}``, in archive order; folders are skipped."""
    what = what or _("ZIP archive")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as error:
        raise UnsafeInputError(
            _("The %(what)s is not a readable ZIP file: %(detail)s", what=what, detail=str(error))
        ) from None
    if len(members) > max_members:
        raise UnsafeInputError(
            _(
                "The %(what)s holds %(count)s files, more than the %(limit)s allowed.",
                what=what,
                count=len(members),
                limit=max_members,
            )
        )
    files = {}
    total = 0
    for member in members:
        if member.is_dir():
            continue
        name = _safe_member_name(member.filename, what)
        if name in files:
            raise UnsafeInputError(_("The %(what)s holds %(name)s twice.", what=what, name=name))
        if member.flag_bits & 0x1:
            raise UnsafeInputError(_("The %(what)s holds an encrypted file, %(name)s.", what=what, name=name))
        if member.compress_type not in ZIP_METHODS:
            raise UnsafeInputError(
                _(
                    "The file %(name)s in the %(what)s is compressed with method %(method)s; "
                    "only stored and deflated files are read.",
                    name=name,
                    what=what,
                    method=_METHOD_NAMES.get(member.compress_type, member.compress_type),
                )
            )
        if not _local_header_agrees(data, member):
            raise UnsafeInputError(
                _(
                    "The file %(name)s in the %(what)s is described differently by its own header and by the "
                    "archive's directory.",
                    name=name,
                    what=what,
                )
            )
        content = _read_member(archive, member, name, what, max_member_bytes, max_ratio)
        total += len(content)
        if total > max_total_bytes:
            raise UnsafeInputError(
                _("The %(what)s unpacks to more than %(limit)s bytes.", what=what, limit=max_total_bytes)
            )
        files[name] = content
    return files


def _safe_member_name(name, what):
    normalised = posixpath.normpath(name.replace("\\", "/"))
    if (
        not name
        or normalised.startswith(("/", "../"))
        or normalised in ("..", ".")
        or (len(normalised) > 1 and normalised[1] == ":")
    ):
        raise UnsafeInputError(_("The %(what)s holds a file with an unsafe name: %(name)r.", what=what, name=name))
    return normalised


def _local_header_agrees(data, member):
    """Whether the member's local header says what the central directory says of it.

    zipfile checks the data against the directory; other tools go by the local headers. An archive whose two
    descriptions differ shows each reader another file, so it is refused. Where the local header leaves its checksum
    and sizes to a data descriptor (flag bit 3) or to the ZIP64 extra field, those are not compared.
    """
    header = data[member.header_offset : member.header_offset + 30]
    if len(header) < 30:
        return False
    signature, _version, flags, method, _time, _date, crc, compressed, size, _name, _extra = struct.unpack(
        "<4s5H3L2H", header
    )
    if signature != b"PK\x03\x04" or method != member.compress_type:
        return False
    if flags & 0x08:
        return True
    return (
        crc == member.CRC
        and compressed in (member.compress_size, 0xFFFFFFFF)
        and size in (member.file_size, 0xFFFFFFFF)
    )


def _read_member(archive, member, name, what, max_bytes, max_ratio):
    # file_size is only a claim made by the archive: the limits are enforced on the bytes actually produced
    limit = min(max_bytes, max(member.compress_size, 1) * max_ratio)
    if member.file_size > limit:
        raise _too_large(what, name, max_bytes, max_ratio, member)
    buffer = io.BytesIO()
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                buffer.write(chunk)
                if buffer.tell() > limit:
                    raise _too_large(what, name, max_bytes, max_ratio, member)
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as error:
        # truncated or corrupt data, a bad CRC, an unsupported compression method
        raise UnsafeInputError(
            _("The file %(name)s in the %(what)s cannot be read: %(detail)s", name=name, what=what, detail=str(error))
        ) from None
    return buffer.getvalue()


def _too_large(what, name, max_bytes, max_ratio, member):
    return UnsafeInputError(
        _(
            "The file %(name)s in the %(what)s unpacks to more than %(limit)s bytes "
            "or more than %(ratio)s times its compressed size (%(compressed)s bytes).",
            name=name,
            what=what,
            limit=max_bytes,
            ratio=max_ratio,
            compressed=member.compress_size,
        )
    )
