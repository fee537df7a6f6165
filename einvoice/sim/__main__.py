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
    """How to sign in, step by step, with the simulator's own address and the NIPs given: the KSeF token and the
    certificate logins with the command line and over HTTP (uwierzytelnianie.md), a KSeF token of one's own, and
    Latarnia."""
    url, nip = simulator.url, nips[0]
    bearer = "Authorization: Bearer"
    lines = [
        f"  base URL (like https://api-test.ksef.mf.gov.pl/v2 of KSeF TEST): {url}",
        f"  contexts: any NIP, and its internal identifiers <NIP>-<5 digits>; whoever a KSeF token or a certificate"
        f" names signs in as the NIP's owner; another subject needs a grant: POST {url}/testdata/permissions",
        "  1. with a KSeF token (--nip for other NIPs):",
    ]
    for each in nips:
        token = simulator.issue_ksef_token(each)
        lines.append(f"    export EINVOICE_KSEF_NIP={each} EINVOICE_KSEF_TOKEN={shlex.quote(token)}")
    lines += [
        f"    einvoice pl auth --base-url {url}",
        f"    einvoice pl send INVOICE.xml --base-url {url}",
        f"    over HTTP: POST {url}/auth/challenge -> challenge, timestampMs",
        f"      GET {url}/security/public-key-certificates -> the certificate of usage KsefTokenEncryption and its"
        " publicKeyId",
        '      encrypt "<token>|<timestampMs>" for that certificate\'s key with RSA-OAEP (SHA-256, MGF1 SHA-256),'
        " in base64",
        f"      POST {url}/auth/ksef-token"
        f' {{"challenge": "<challenge>", "contextIdentifier": {{"type": "Nip", "value": "{nip}"}},'
        ' "encryptedToken": "<base64>", "publicKeyId": "<publicKeyId>"} -> referenceNumber, authenticationToken.token',
        "  2. with a certificate: self-signed ones are accepted, as on KSeF TEST; its subject names the NIP, as"
        " serialNumber TINPL-<NIP> (a person, with givenName, surname, commonName, countryName) or as"
        " organizationIdentifier VATPL-<NIP> (a company seal, with organizationName, commonName, countryName);"
        " a person's certificate naming a PESEL (serialNumber PNOPL-<PESEL>), or any certificate by its SHA-256"
        " fingerprint (SubjectIdentifierType certificateFingerprint), acts where it was granted rights",
        "    openssl req -x509 -newkey rsa:2048 -nodes -days 365 -keyout ksef.key -out ksef.crt"
        f" -subj '/C=PL/GN=Jan/SN=Kowalski/CN=Jan Kowalski/serialNumber=TINPL-{nip}'",
        f"    einvoice pl auth --base-url {url} --nip {nip} --cert ksef.crt --key ksef.key",
        "    (or --p12 FILE.p12; the key's password from EINVOICE_KSEF_KEY_PASSWORD, or asked at the terminal)",
        f"    over HTTP: POST {url}/auth/xades-signature (Content-Type: application/xml) the AuthTokenRequest"
        " (namespace http://ksef.mf.gov.pl/auth/token/2.0: Challenge, ContextIdentifier/Nip,"
        " SubjectIdentifierType certificateSubject) with a XAdES signature, enveloped or enveloping, in a form"
        " podpis-xades.md allows -> referenceNumber, authenticationToken.token",
        f"  3. then, either way: GET {url}/auth/<referenceNumber> with '{bearer} <authenticationToken>'"
        " until status.code is 200,",
        f"    and POST {url}/auth/token/redeem with the same header -> accessToken.token, refreshToken.token",
        f"  4. a KSeF token of one's own: POST {url}/tokens"
        ' {"permissions": ["InvoiceRead", "InvoiceWrite"], "description": "my own token"}'
        f" with '{bearer} <accessToken>' -> token",
        f"  Latarnia (on KSeF its own host, https://api-latarnia-test.ksef.mf.gov.pl): GET {url}/latarnia/status,"
        f" GET {url}/latarnia/messages",
        "  stop with Ctrl+C",
    ]
    return lines


if __name__ == "__main__":
    main()
