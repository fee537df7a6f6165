"""``einvoice ro check|validate|convert``: CIUS-RO documents from the command line.

Exit status: 0 when the document has no fatal finding, 1 when it has, 2 when it cannot be read at all.
``validate`` says whether ANAF's official rules ran: they need their compiled Schematron (``--rules`` or
``EINVOICE_CIUS_RO_RULES``) and the saxonche package.
"""

import os
from pathlib import Path

from lxml import etree

from ..cli_support import command, lang_of, language_options, report, say, written
from ..i18n import _
from ..validation import ValidationUnavailableError, official_rules, validate_ubl
from . import ciusro

UNREADABLE = 2  # exit status of a document that cannot be read at all
RULES_ENV = "EINVOICE_CIUS_RO_RULES"  # the official compiled XSLT, e.g. EN16931-CIUS_RO-UBL-validation.xslt


def register(ro_subparsers):
    """Add the document commands to the ``ro`` command group."""
    common = [language_options()]
    check = ro_subparsers.add_parser(
        "check", parents=common, help="check a UBL or CII invoice against the CIUS-RO rules"
    )
    check.add_argument("file", type=Path)
    check.set_defaults(run=_check)

    validate = ro_subparsers.add_parser(
        "validate", parents=common, help="check, plus the UBL schema and the official rules"
    )
    validate.add_argument("file", type=Path)
    validate.add_argument(
        "--rules",
        type=Path,
        default=os.environ.get(RULES_ENV),
        help=f"ANAF's compiled Schematron (XSLT 2.0); default from {RULES_ENV}",
    )
    validate.set_defaults(run=_validate)

    convert = ro_subparsers.add_parser("convert", parents=common, help="read UBL or CII, write CIUS-RO UBL")
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
    return report(ciusro.check_document(args.file.read_bytes()), lang_of(args))


@command(failure=UNREADABLE)
def _validate(args):
    data = args.file.read_bytes()
    findings = ciusro.check_document(data)
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    if etree.QName(root).localname in ("Invoice", "CreditNote"):
        findings += validate_ubl(root)
    reported = {finding.rule for finding in findings}
    findings += [finding for finding in _official_findings(args, data) if finding.rule not in reported]
    return report(findings, lang_of(args))


def _official_findings(args, data):
    """The findings of ANAF's official rules, with a line saying whether they ran."""
    if not args.rules:
        say(
            args,
            _(
                "ANAF's official rules (CIUS-RO Schematron) were not run: set %(env)s or give --rules FILE.",
                env=RULES_ENV,
            ),
        )
        return []
    try:
        rules = official_rules(args.rules)
    except ValidationUnavailableError as error:
        if not args.rules.is_file():
            raise  # a rules file that is not there is a mistake in the command
        say(args, _("ANAF's official rules (CIUS-RO Schematron) were not run: %(reason)s", reason=error.message))
        return []
    findings = rules.findings(data)
    say(args, _("ANAF's official rules: run (%(path)s)", path=str(args.rules)))
    return findings


@command(failure=UNREADABLE)
def _convert(args):
    result = ciusro.read(args.file.read_bytes())
    # a converted document keeps its faults, wrong arithmetic included, and they are reported: nothing is lost
    xml = ciusro.render(result.invoice, credit_note_as_invoice=args.credit_note_as_invoice, strict=False)
    args.output.write_bytes(xml)
    findings = ciusro.check_document(xml)
    written(args.output, args)
    return report(findings, lang_of(args))
