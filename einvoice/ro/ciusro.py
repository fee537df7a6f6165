"""CIUS-RO: the Romanian use of EN 16931 in UBL, as ANAF's RO e-Factura accepts it.

:func:`render` turns a neutral invoice into the XML to upload; :func:`read` and :func:`check_document` take any
EN 16931 document ANAF accepts (UBL Invoice or CreditNote, UN/CEFACT CII).
"""

from dataclasses import replace
from decimal import Decimal

from lxml import etree

from .. import cii, en16931, ubl
from ..errors import EInvoiceError
from ..i18n import _
from ..model import CREDIT_NOTE_TYPES, INVOICE, Note, negated_invoice
from ..xmlsafe import parse_xml
from . import checks
from .codes import CIUS_RO_ID

ITEM_NAME_LIMIT = 100  # BR-RO-L1024
DESCRIPTION_LIMIT = 200  # BR-RO-L212
NOTE_LIMIT = 300  # BR-RO-L302
NOTE_COUNT_LIMIT = 20  # BR-RO-A020


class CiusRoError(EInvoiceError):
    """The invoice cannot be written as CIUS-RO; ``findings`` says why."""

    def __init__(self, message, findings=()):
        super().__init__(message)
        self.findings = list(findings)


def render(invoice, *, credit_note_as_invoice=False, strict=True):
    """The CIUS-RO UBL bytes of ``invoice``.

    ``credit_note_as_invoice`` writes a credit note as an ``Invoice`` of type 380 with negative quantities and
    amounts (what many Romanian buyers' systems expect) instead of a ``CreditNote``.
    What can be fixed without changing the invoice is fixed (see :func:`prepare`). Anything else ANAF would reject is
    refused with every finding at once, wrong arithmetic included: an invoice we issue never has totals that do not
    add up. ``strict=False`` writes it anyway, to convert or inspect a received document: a received document is
    never lost to our checks, whose findings the caller reports (``check_document`` of the result).
    """
    prepared = prepare(invoice, credit_note_as_invoice=credit_note_as_invoice)
    if strict:
        wrong = en16931.arithmetic_findings(prepared, ubl.facts_for(prepared))
        if wrong:
            raise CiusRoError(_("The invoice totals do not add up; it was not written."), wrong)
        fatal = [finding for finding in checks.check(prepared) if finding.fatal]
        if fatal:
            raise CiusRoError(_("ANAF would reject this invoice; it was not written."), fatal)
    return ubl.write(prepared)


def prepare(invoice, *, credit_note_as_invoice=False):
    """``invoice`` as CIUS-RO wants it: its specification id, long texts fitted, the credit note style chosen.

    Only what survives unchanged is fitted: an item name over 100 characters is shortened and kept whole in the
    item description when that is free; a note over 300 characters is split into several notes; a negative price
    (a discount line) becomes a negative quantity at a positive price, the line amount unchanged (BR-27).
    Anything else over a limit stays, and the checks report it.
    """
    invoice = replace(invoice, customization_id=CIUS_RO_ID, totals=_with_vat_total(invoice))
    if credit_note_as_invoice and invoice.type_code in CREDIT_NOTE_TYPES:
        invoice = replace(negated_invoice(invoice), type_code=INVOICE)
    lines = tuple(_fit_item_name(_positive_price(line)) for line in invoice.lines)
    notes = _split_notes(invoice.notes)
    return replace(invoice, lines=lines, notes=notes)


def _with_vat_total(invoice):
    """The totals with the VAT total (BT-110) UBL needs: CII may leave it out when the total with VAT equals the total
    without (CEN's CII BR-CO-15); it is then the sum of the VAT breakdown (BR-CO-14), zero when there is none."""
    totals = invoice.totals
    if totals is None or totals.tax_total is not None or totals.tax_inclusive != totals.tax_exclusive:
        return totals
    tax = sum((vat.tax_amount for vat in invoice.vat_breakdown if vat.tax_amount is not None), Decimal(0))
    return replace(totals, tax_total=en16931.xround(tax))


def _positive_price(line):
    if line.price is None or line.price >= 0 or line.quantity is None:
        return line
    return replace(line, price=-line.price, quantity=-line.quantity)


def _fit_item_name(line):
    name = line.item_name or ""
    if len(name) <= ITEM_NAME_LIMIT:
        return line
    description = line.description
    if not description and len(name) <= DESCRIPTION_LIMIT:
        description = name
    return replace(line, item_name=name[: ITEM_NAME_LIMIT - 1].rstrip() + "…", description=description)


def _split_notes(notes):
    """Each note over the limit as several, cut at a space where one is near the limit; the notes unchanged when that
    makes more notes than CIUS-RO allows.

    The text left to cut is tracked by position, never copied: a note of megabytes is cut in time linear in its
    length, and the cutting stops as soon as there are too many notes.
    """
    split = []
    for note in notes:
        text = note.text
        start, end = 0, len(text)
        while end - start > NOTE_LIMIT:
            cut = text.rfind(" ", start, start + NOTE_LIMIT)
            cut = cut if cut - start > NOTE_LIMIT // 2 else start + NOTE_LIMIT
            split.append(Note(text[start:cut].strip(), note.subject_code))
            if len(split) > NOTE_COUNT_LIMIT:
                return tuple(notes)
            # what is left is text[cut:end] without the blanks around it
            while end > 0 and text[end - 1].isspace():
                end -= 1
            start = cut
            while start < end and text[start].isspace():
                start += 1
        split.append(Note(text[start:end].strip(), note.subject_code))
    return tuple(split) if len(split) <= NOTE_COUNT_LIMIT else tuple(notes)


def read(data):
    """Read a UBL or CII document (bytes) into a :class:`~einvoice.ubl.ReadResult`."""
    root = parse_xml(data, what=_("e-invoice"))
    namespace = etree.QName(root).namespace
    if namespace == cii.RSM:
        return cii.read_element(root)
    return ubl.read_element(root)


def check_document(data):
    """Every finding for the document ``data``: what reading found, then the CIUS-RO and EN 16931 checks."""
    result = read(data)
    return result.findings + checks.check(result.invoice, result.facts)
