"""What every command shares: errors told in the user's language, findings reported the same way."""

import functools
import sys

from .errors import EInvoiceError
from .i18n import translate


def command(failure=1):
    """Turn library and file errors of ``function(args)`` into a message on stderr, in ``args.lang``, and exit
    status ``failure``."""

    def decorate(function):
        @functools.wraps(function)
        def run(args):
            try:
                return function(args)
            except EInvoiceError as error:
                print(f"einvoice: {translate(error.message, getattr(args, 'lang', None))}", file=sys.stderr)
            except OSError as error:
                print(f"einvoice: {error}", file=sys.stderr)
            return failure

        return run

    return decorate


def report(findings, lang):
    """Print each finding and a count; exit status 1 when one is fatal."""
    fatal = [finding for finding in findings if finding.fatal]
    for finding in findings:
        where = f" ({finding.location})" if finding.location else ""
        level = "error" if finding.fatal else "warning"
        print(f"{level}: [{finding.rule}] {translate(finding.message, lang)}{where}")
    print(f"{len(fatal)} error(s), {len(findings) - len(fatal)} warning(s)")
    return 1 if fatal else 0
