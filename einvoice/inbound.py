"""A received e-invoice as it arrives: one XML file, or a platform's archive holding it next to its signature.

:func:`read_received` finds the invoice whatever its syntax (UBL, CII, FA(3)) and keeps every other file of the
archive (ANAF's signature, a PDF) so that the caller can attach them to the vendor bill.
"""

from dataclasses import dataclass, field, replace

from lxml import etree

from . import cii, en16931, ubl
from .errors import EInvoiceError
from .i18n import _
from .model import Invoice
from .pl import fa3
from .xmlsafe import UnsafeInputError, parse_xml, read_zip

ZIP_MAGIC = b"PK\x03\x04"
SIGNATURE_PREFIX = "semnatura_"  # ANAF's archives sign the invoice in a file of this name, itself rooted in Invoice
SYNTAXES = {
    (ubl.INVOICE_NS, "Invoice"): ("UBL", ubl.read_element),
    (ubl.CREDIT_NOTE_NS, "CreditNote"): ("UBL", ubl.read_element),
    (cii.RSM, "CrossIndustryInvoice"): ("CII", cii.read_element),
    (fa3.NS, "Faktura"): ("FA(3)", fa3.read_element),
}


class ReceivedDocumentError(EInvoiceError):
    """The file holds no invoice this library reads, or more than one."""


@dataclass(frozen=True)
class ReceivedDocument:
    invoice: Invoice
    syntax: str  # UBL, CII or FA(3)
    xml_name: str
    xml: bytes = field(repr=False)
    files: dict = field(default_factory=dict, repr=False)  # the archive's other files by name (signature, PDF...)
    findings: tuple = ()  # what reading found that the model cannot carry (malformed dates or numbers)
    facts: object = field(default=None, repr=False)  # the document's shape as written (ubl.SyntaxFacts), UBL and CII

    def warnings(self):
        """What the EN 16931 checks find in a UBL or CII document, every finding a warning: a received document is
        read whatever our checks say (the platform, or the official rules, accepted it), and the reader decides."""
        if self.facts is None:
            return []
        return [replace(finding, fatal=False) for finding in en16931.RULES.run(self.invoice, self.facts)]

    def pdf(self):
        """``(name, bytes)`` of the invoice's own PDF: embedded in the XML (BG-24), else next to it in the archive."""
        for attachment in self.invoice.attachments:
            if attachment.content and (attachment.mime_code or "").lower() == "application/pdf":
                return attachment.filename or f"{attachment.id}.pdf", attachment.content
        for name, content in self.files.items():
            if name.lower().endswith(".pdf"):
                return name, content
        return None


def read_received(data, name="invoice.xml"):
    """Read ``data`` (bytes): an e-invoice XML, or a ZIP archive holding exactly one."""
    files = read_zip(data, what=_("archive %(name)s", name=name)) if data[:4] == ZIP_MAGIC else {name: data}
    invoices = []
    for file_name, content in files.items():
        if len(files) > 1 and (not file_name.lower().endswith(".xml") or file_name.startswith(SIGNATURE_PREFIX)):
            continue
        try:
            root = parse_xml(content, what=_("file %(name)s", name=file_name))
        except UnsafeInputError:
            if len(files) == 1:
                raise
            continue  # another file of the archive, not the invoice
        found = SYNTAXES.get((etree.QName(root).namespace, etree.QName(root).localname))
        if found:
            invoices.append((file_name, content, found, root))
    if not invoices:
        raise ReceivedDocumentError(
            _("%(name)s holds no e-invoice in a syntax we read (UBL, CII or FA(3)).", name=name)
        )
    if len(invoices) > 1:
        raise ReceivedDocumentError(
            _(
                "%(name)s holds several invoices (%(files)s): import them one by one.",
                name=name,
                files=", ".join(item[0] for item in invoices),
            )
        )
    file_name, content, (syntax, read_element), root = invoices[0]
    result = read_element(root)
    return ReceivedDocument(
        invoice=result.invoice,
        syntax=syntax,
        xml_name=file_name,
        xml=content,
        files={other: value for other, value in files.items() if other != file_name},
        findings=tuple(result.findings),
        facts=result.facts if syntax in ("UBL", "CII") else None,  # EN 16931 does not judge FA(3)
    )
