"""``einvoice ro check|validate|convert``: CIUS-RO documents from the command line.

Exit status: 0 when the document has no fatal finding, 1 when it has, 2 when it cannot be read at all.
"""

import os
from pathlib import Path

from lxml import etree

from ..cli_support import command, report
from ..validation import official_rules, validate_ubl
from . import ciusro

UNREADABLE = 2  # exit status of a document that cannot be read at all
RULES_ENV = "EINVOICE_CIUS_RO_RULES"  # the official compiled XSLT, e.g. EN16931-CIUS_RO-UBL-validation.xslt


def register(ro_subparsers):
    """Add the document commands to the ``ro`` command group."""
    check = ro_subparsers.add_parser("check", help="check a UBL or CII invoice against the CIUS-RO rules")
    check.add_argument("file", type=Path)
    check.set_defaults(run=_check)

    validate = ro_subparsers.add_parser("validate", help="check, plus the UBL schema and the official rules")
    validate.add_argument("file", type=Path)
    validate.add_argument(
        "--rules",
        type=Path,
        default=os.environ.get(RULES_ENV),
        help=f"ANAF's compiled Schematron (XSLT 2.0); default from {RULES_ENV}",
    )
    validate.set_defaults(run=_validate)

    convert = ro_subparsers.add_parser("convert", help="read UBL or CII, write CIUS-RO UBL")
    convert.add_argument("file", type=Path)
    convert.add_argument("--to", choices=["cius-ro"], default="cius-ro")
    convert.add_argument("-o", "--output", type=Path, required=True)
    convert.add_argument(
        "--credit-note-as-invoice",
        action="store_true",
        help="write a credit note as an invoice with negative quantities instead of a CreditNote",
    )
    convert.set_defaults(run=_convert)


@command(failure=UNREADABLE)
def _check(args):
    return report(ciusro.check_document(args.file.read_bytes()), args.lang)


@command(failure=UNREADABLE)
def _validate(args):
    data = args.file.read_bytes()
    findings = ciusro.check_document(data)
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    if etree.QName(root).localname in ("Invoice", "CreditNote"):
        findings += validate_ubl(root)
    if args.rules:
        reported = {finding.rule for finding in findings}
        findings += [finding for finding in official_rules(args.rules).findings(data) if finding.rule not in reported]
    return report(findings, args.lang)


@command(failure=UNREADABLE)
def _convert(args):
    result = ciusro.read(args.file.read_bytes())
    # a converted document keeps its faults and they are reported; only wrong arithmetic stops the conversion
    xml = ciusro.render(result.invoice, credit_note_as_invoice=args.credit_note_as_invoice, strict=False)
    args.output.write_bytes(xml)
    findings = ciusro.check_document(xml)
    print(f"{args.output}: written")
    return report(findings, args.lang)
