"""The ``einvoice`` command line."""

import argparse
import os
import sys

from . import __version__
from .pl import documents_cli as pl_documents_cli
from .pl import ksef_cli
from .ro import anaf_cli, documents_cli


def build_parser():
    parser = argparse.ArgumentParser(prog="einvoice", description="RO e-Factura and KSeF 2.0 e-invoicing tools")
    parser.add_argument("--version", action="version", version=f"einvoice {__version__}")
    parser.add_argument(
        "--lang", default=os.environ.get("LANG", "en").split(".")[0], help="language of messages (ro, pl, en)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ro = commands.add_parser("ro", help="Romania: RO e-Factura (CIUS-RO documents, ANAF)")
    ro_commands = ro.add_subparsers(dest="ro_command", required=True, metavar="COMMAND")
    documents_cli.register(ro_commands)
    anaf_cli.register(ro_commands)

    pl = commands.add_parser("pl", help="Poland: KSeF 2.0")
    pl_commands = pl.add_subparsers(dest="pl_command", required=True, metavar="COMMAND")
    pl_documents_cli.register(pl_commands)
    ksef_cli.register(pl_commands)

    genkey = commands.add_parser("genkey", help="print a new key for encrypting secrets (einvoice_secret_key)")
    genkey.set_defaults(run=_genkey)

    demo = commands.add_parser("demo", help="run the whole flow against the embedded simulators")
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
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
