"""``python -m einvoice.sim NAME [--port N]``: serve one simulator in the foreground.

At start-up it prints its address and what to use it with: the credentials and identifiers it accepts, ready-made
tokens, and the ``einvoice`` environment variables that point the command line at it.
"""

import argparse
import shlex

from .anaf import DEFAULT_CIF, AnafSimulator
from .ksef import KsefSimulator

DEFAULT_NIP = "5260250274"
EXAMPLE_REDIRECT_URI = "https://localhost/callback"
EXAMPLE_TOKEN_FILE = "anaf-sim-tokens.json"  # noqa: S105 - a file name; not the default, which serves the real ANAF


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m einvoice.sim", description="Serve a platform simulator.")
    parser.add_argument("name", choices=["anaf", "ksef"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--cif", action="append", help=f"anaf: a company (CUI) the token holder may act for (default {DEFAULT_CIF})"
    )
    parser.add_argument("--nip", action="append", help=f"ksef: a NIP to issue a KSeF token for (default {DEFAULT_NIP})")
    args = parser.parse_args(argv)
    if args.name == "anaf":
        simulator = AnafSimulator(host=args.host, port=args.port, cifs=args.cif or (DEFAULT_CIF,))
        guide = _anaf_guide(simulator)
    else:
        simulator = KsefSimulator(host=args.host, port=args.port)
        guide = _ksef_guide(simulator, args.nip or [DEFAULT_NIP])
    print(f"{simulator.name} simulator listening on {simulator.url}")
    print("\n".join(guide), flush=True)
    simulator.serve_forever()


def _anaf_guide(simulator):
    cifs = sorted(simulator.cifs)
    access_token = simulator.issue_tokens()["access_token"]
    return [
        f"  OAuth client: id {simulator.client_id}, secret {simulator.client_secret}; any https:// redirect URI",
        f"  companies (CUI) with SPV rights: {', '.join(cifs)} (--cif for others)",
        "  an access token, without the browser login, and the command line pointed at it:",
        f"    export EINVOICE_ANAF_ACCESS_TOKEN={access_token}",
        f"    einvoice ro send INVOICE.xml --cif {cifs[0]} --base-url {simulator.url}",
        f"    einvoice ro messages --cif {cifs[0]} --base-url {simulator.url}",
        "  or the OAuth login (approve on the simulator's page in a browser, then paste the address it was sent to):",
        f"    export EINVOICE_ANAF_CLIENT_ID={simulator.client_id}",
        f"    export EINVOICE_ANAF_CLIENT_SECRET={simulator.client_secret}",
        f"    export EINVOICE_ANAF_REDIRECT_URI={EXAMPLE_REDIRECT_URI} EINVOICE_ANAF_TOKEN_FILE={EXAMPLE_TOKEN_FILE}",
        f"    einvoice ro auth login --base-url {simulator.url}",
    ]


def _ksef_guide(simulator, nips):
    lines = ["  any NIP may sign in, with a KSeF token the simulator issued for it or with a certificate naming it"]
    for nip in nips:
        token = simulator.issue_ksef_token(nip)
        lines += [
            f"  a KSeF token for NIP {nip} (--nip for others):",
            f"    export EINVOICE_KSEF_NIP={nip} EINVOICE_KSEF_TOKEN={shlex.quote(token)}",
        ]
    lines += [
        f"    einvoice pl auth --base-url {simulator.url}",
        f"    einvoice pl send INVOICE.xml --base-url {simulator.url}",
        "  or a certificate of any issuer whose subject names the NIP"
        " (serialNumber TINPL-<NIP> or organizationIdentifier VATPL-<NIP>):",
        f"    einvoice pl auth --base-url {simulator.url} --nip NIP --cert FILE.crt --key FILE.key",
        "    (or --p12 FILE.p12; the key's password from EINVOICE_KSEF_KEY_PASSWORD, or asked at the terminal)",
    ]
    return lines


if __name__ == "__main__":
    main()
