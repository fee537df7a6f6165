"""The ``einvoice`` command line."""

import argparse
import os
import sys

from . import __version__
from .cli_support import add_language_option, default_language, language_options
from .pl import documents_cli as pl_documents_cli
from .pl import ksef_cli
from .ro import anaf_cli, documents_cli

BROKEN_PIPE = 141  # the status a shell gives a command ended by SIGPIPE (128 + 13)


def build_parser():
    parser = argparse.ArgumentParser(prog="einvoice", description="RO e-Factura and KSeF 2.0 e-invoicing tools")
    parser.add_argument("--version", action="version", version=f"einvoice {__version__}")
    add_language_option(parser, default=default_language())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ro = commands.add_parser("ro", help="Romania: RO e-Factura (CIUS-RO documents, ANAF)")
    ro_commands = ro.add_subparsers(dest="ro_command", required=True, metavar="COMMAND")
    documents_cli.register(ro_commands)
    anaf_cli.register(ro_commands)

    pl = commands.add_parser("pl", help="Poland: KSeF 2.0")
    pl_commands = pl.add_subparsers(dest="pl_command", required=True, metavar="COMMAND")
    pl_documents_cli.register(pl_commands)
    ksef_cli.register(pl_commands)

    genkey = commands.add_parser(
        "genkey", parents=[language_options()], help="print a new key for encrypting secrets (einvoice_secret_key)"
    )
    genkey.set_defaults(run=_genkey)

    demo = commands.add_parser(
        "demo", parents=[language_options()], help="run the whole flow against the embedded simulators"
    )
    demo.set_defaults(run=_demo)
    return parser


def _genkey(args):
    from .secrets import generate_key

    print(generate_key())
    return 0


def _demo(args):
    from .demo import run

    return run()


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        status = args.run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader went away (``einvoice ... | head -1``): end quietly, as other tools do; what is still
        # buffered goes nowhere instead of failing again when Python exits
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE
    return status


if __name__ == "__main__":
    sys.exit(main())
