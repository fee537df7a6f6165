"""What every command shares: errors told in the user's language, findings reported the same way, the options
every command takes, files and moments shown the same way."""

import argparse
import functools
import os
import re
import sys

from .errors import EInvoiceError
from .i18n import _, ngettext, translate
from .rules import described

LANGUAGES = ("en", "pl", "ro")


def default_language():
    """The language of the user's locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``) when it is one we speak, else
    English: ``ro_RO.UTF-8`` is ``ro``, ``C.UTF-8`` is ``en``."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            language = re.split(r"[_.@-]", value)[0].lower()
            return language if language in LANGUAGES else "en"
    return "en"


def add_language_option(parser, default=argparse.SUPPRESS):
    """``--lang``: only a language we speak; a command's own option, given after it, wins over the main one."""
    parser.add_argument(
        "--lang", type=str.lower, choices=LANGUAGES, default=default, help="language of messages (en, pl, ro)"
    )


def language_options():
    """A parent parser adding ``--lang`` to a command, so it may also come after the command's name."""
    parent = argparse.ArgumentParser(add_help=False)
    add_language_option(parent)
    return parent


def lang_of(args):
    return getattr(args, "lang", None)


def say(args, message):
    """Print ``message`` (a translatable text) in the user's language."""
    print(translate(message, lang_of(args)))


def written(path, args):
    """Tell that ``path`` was written."""
    say(args, _("%(path)s: written", path=str(path)))


def timestamp(moment):
    """A moment as ISO 8601 with its offset from UTC, to the second: ``2026-11-22T10:30:00+02:00``."""
    return moment.isoformat(timespec="seconds")


def command(failure=1):
    """Turn library and file errors of ``function(args)`` into a message on stderr, in ``args.lang``, and exit
    status ``failure``."""

    def decorate(function):
        @functools.wraps(function)
        def run(args):
            try:
                return function(args)
            except EInvoiceError as error:
                print(f"einvoice: {translate(error.message, lang_of(args))}", file=sys.stderr)
            except BrokenPipeError:
                raise  # the reader went away: nothing to tell it, the main program ends quietly
            except OSError as error:
                print(f"einvoice: {error}", file=sys.stderr)
            return failure

        return run

    return decorate


def report(findings, lang):
    """Print each finding on one line and a count; exit status 1 when one is fatal."""
    fatal = [finding for finding in findings if finding.fatal]
    for finding in findings:
        print(finding_line(finding, lang))
    errors = ngettext("%(count)s error", "%(count)s errors", len(fatal), count=len(fatal))
    warnings = len(findings) - len(fatal)
    warnings = ngettext("%(count)s warning", "%(count)s warnings", warnings, count=warnings)
    print(f"{translate(errors, lang)}, {translate(warnings, lang)}")
    return 1 if fatal else 0


def finding_line(finding, lang):
    """``error: [RULE] message (where)`` on one line: the rule id once (the official texts carry it already),
    element names without their namespaces, the place in words a person can read."""
    level = "error" if finding.fatal else "warning"
    message = _CLARK_NAMESPACE.sub("", " ".join(translate(finding.message, lang).split()))
    mentioned = finding.rule and re.search(rf"(?<![\w-]){re.escape(finding.rule)}(?![\w-])", message)
    rule = f"[{finding.rule}] " if finding.rule and not mentioned else ""
    where = described(readable_location(finding.location), lang)
    if where and not message.lower().startswith(where.lower()):  # "Line 3: ..." says where already
        message += f" ({where})"
    return f"{level}: {rule}{message}"


_CLARK_NAMESPACE = re.compile(r"\{[^{}\s]*:[^{}\s]*\}(?=[A-Za-z_])")  # {urn:...}IssueDate, as the schema checks say
_PREDICATE = re.compile(r"\[(?!\d+\])(?:[^\[\]'\"]|'[^']*'|\"[^\"]*\")*\]")  # any but a position
_EXPANDED_NAME = re.compile(r"Q\{[^}]*\}")


def readable_location(location):
    """A finding's place as a person reads it. An XPath, as the official Schematron reports it
    (``/*:Invoice[namespace-uri()='…'][1]/*:AccountingSupplierParty[namespace-uri()='…'][1]``) or as the readers
    name elements (``cac:LegalMonetaryTotal/cbc:PayableAmount``), becomes the element names below the document
    root without prefixes and predicates (``AccountingSupplierParty``), and nothing for the document as a whole.
    A position other than the first stays (``InvoiceLine[3]/Price``). Other places (``BT-48``, ``line 3``) stay."""
    location = (location or "").strip()
    if "/" not in location and not re.match(r"^[\w*-]+:[\w*]", location):
        return location
    absolute = location.startswith("/")
    location = _EXPANDED_NAME.sub("", location)
    while _PREDICATE.search(location):
        location = _PREDICATE.sub("", location)
    location = location.replace("[1]", "")
    steps = [step.rpartition(":")[2] for step in location.split("/") if step]
    if absolute:
        steps = steps[1:]  # the document root (Invoice, CreditNote, Faktura) says nothing
    return "/".join(steps)
