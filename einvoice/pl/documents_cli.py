"""``einvoice pl check|validate|convert|pdf``: FA(3) documents from the command line.

Exit status, as for the Romanian documents: 0 when the document has no fatal finding, 1 when it has, 2 when it
cannot be read at all.
"""

from dataclasses import replace
from pathlib import Path

from lxml import etree

from ..cli_support import command, lang_of, language_options, report, written
from ..model import CORRECTED_INVOICE, negated_invoice
from ..ro import ciusro
from ..ro.documents_cli import UNREADABLE
from ..validation import FA3_XSD_ENV, validate_fa3
from ..xmlsafe import parse_xml
from . import fa3
from .model import KOR, PlInvoice
from .qr import QR_HOSTS
from .visual import render_pdf


def register(pl_subparsers):
    """Add the document commands to the ``pl`` command group."""
    common = [language_options()]
    check = pl_subparsers.add_parser(
        "check", parents=common, help="check an FA(3) invoice: NIP, every total, what its kind requires"
    )
    check.add_argument("file", type=Path)
    check.set_defaults(run=_check)

    validate = pl_subparsers.add_parser("validate", parents=common, help="check, plus the official FA(3) schema")
    validate.add_argument("file", type=Path)
    validate.add_argument(
        "--xsd-dir",
        type=Path,
        help=f"folder of the official schema and its bazowe/ imports; default from {FA3_XSD_ENV}",
    )
    validate.set_defaults(run=_validate)

    convert = pl_subparsers.add_parser("convert", parents=common, help="read FA(3), UBL or CII, write FA(3)")
    convert.add_argument("file", type=Path)
    convert.add_argument("--to", choices=["fa3"], default="fa3")
    convert.add_argument("-o", "--output", type=Path, required=True)
    convert.set_defaults(run=_convert)

    pdf = pl_subparsers.add_parser(
        "pdf", parents=common, help="draw an FA(3) invoice as a readable PDF, with its KSeF QR codes"
    )
    pdf.add_argument("file", type=Path)
    pdf.add_argument("--ksef-number", help="the number KSeF gave the invoice (printed under KOD I; else OFFLINE)")
    pdf.add_argument(
        "--env", choices=sorted(QR_HOSTS), default="prod", help="KSeF environment KOD I points to (default: prod)"
    )
    pdf.add_argument("-o", "--output", type=Path, help="the PDF to write; default: FILE with .pdf")
    pdf.set_defaults(run=_pdf)


def _with_polish_kind(invoice):
    """An EN 16931 credit note or corrected invoice is a correction (KOR) in FA(3), never a VAT invoice, and shows
    its differences with their signs. The corrected invoices' KSeF numbers are not in UBL or CII, so the checks
    ask for them."""
    if "pl" in invoice.extensions or not (invoice.is_credit_note or invoice.type_code == CORRECTED_INVOICE):
        return invoice
    if invoice.is_credit_note:
        invoice = replace(negated_invoice(invoice), type_code=CORRECTED_INVOICE)
    return replace(invoice, extensions={**invoice.extensions, "pl": PlInvoice(kind=KOR)})


@command(failure=UNREADABLE)
def _check(args):
    return report(fa3.check_document(args.file.read_bytes()), lang_of(args))


@command(failure=UNREADABLE)
def _validate(args):
    data = args.file.read_bytes()
    findings = fa3.check_document(data)
    findings += validate_fa3(parse_xml(data), args.xsd_dir)
    return report(findings, lang_of(args))


@command(failure=UNREADABLE)
def _convert(args):
    data = args.file.read_bytes()
    root = parse_xml(data)
    received_fa3 = etree.QName(root).namespace == fa3.NS
    result = fa3.read(data) if received_fa3 else ciusro.read(data)
    try:
        # an FA(3) document is written again as it is: only what KSeF would refuse stops it; from UBL or CII a new
        # FA(3) is made, and what the law certainly forbids stops it too
        xml = fa3.write(_with_polish_kind(result.invoice), outgoing=not received_fa3)
    except fa3.Fa3Error as refused:
        print(f"{args.output}: {refused.translated(lang_of(args))}")
        return report(result.findings + refused.findings, lang_of(args))
    args.output.write_bytes(xml)
    written(args.output, args)
    return report(fa3.check_document(xml), lang_of(args))


@command(failure=UNREADABLE)
def _pdf(args):
    pdf = render_pdf(args.file.read_bytes(), ksef_number=args.ksef_number, environment=args.env)
    output = args.output or args.file.with_suffix(".pdf")
    output.write_bytes(pdf)
    written(output, args)
    return 0
