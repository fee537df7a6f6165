"""Reading untrusted XML and ZIP archives: whatever a platform or a supplier sends us goes through here.

XML: no DTD at all (so no entities, external or internal, and no billion laughs), no network, a size cap.
ZIP: a cap on members, on each member's size, on the total and on the compression ratio, measured while
reading (declared sizes can lie); member names that climb out of the archive are refused.
"""

import io
import posixpath
import zipfile

from lxml import etree

from .errors import EInvoiceError
from .i18n import _

MAX_XML_BYTES = 50 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000
MAX_MEMBER_BYTES = 50 * 1024 * 1024
MAX_ZIP_TOTAL_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
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
            _("The %(what)s is not well-formed XML: %(detail)s", what=what, detail=str(error))
        ) from None
    except (ValueError, LookupError) as error:  # unknown or inconsistent encoding declarations
        raise UnsafeInputError(_("The %(what)s cannot be decoded: %(detail)s", what=what, detail=str(error))) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeInputError(_("The %(what)s declares a DTD, which is not accepted for e-invoices.", what=what))
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        raise UnsafeInputError(_("The %(what)s uses entity references, which are not accepted.", what=what))
    return root


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
