"""``einvoice ro auth|send|status|download|messages|pdf``: RO e-Factura from the command line.

Each command talks to ANAF test (default), prod (``--env prod``) or any base URL (``--base-url``, e.g. the
simulator). Client credentials come from options or ``EINVOICE_ANAF_*`` environment variables; tokens live in a
file readable by its owner only. Secrets are never printed.
"""

import argparse
import json
import os
import secrets
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ..cli_support import command, lang_of, language_options, timestamp, written
from ..errors import EInvoiceError
from ..i18n import _, translate
from ..xmlsafe import parse_xml
from .anaf import FILTERS, AnafClient, DownloadState, Endpoints, State
from .oauth import CLIENT_AUTH_BASIC, CLIENT_AUTH_FORM, AnafOAuth, StateSigner, Tokens

ENV_PREFIX = "EINVOICE_ANAF_"
DEFAULT_TOKEN_FILE = Path.home() / ".config" / "einvoice" / "anaf-tokens.json"
_STANDARDS_BY_ROOT = {"Invoice": "UBL", "CreditNote": "CN", "CrossIndustryInvoice": "CII", "header": "RASP"}


def register(ro_subparsers):
    """Add the transport commands to the ``ro`` command group (``ro_subparsers`` from its add_subparsers())."""
    common = argparse.ArgumentParser(add_help=False, parents=[language_options()])
    common.add_argument(
        "--env",
        choices=("test", "prod"),
        default="test",
        help="ANAF environment (default: test); with --base-url, the environment's paths under that URL",
    )
    common.add_argument("--base-url", help="serve every ANAF service from this URL (the simulator)")
    common.add_argument("--token-file", type=Path, default=_env_path("TOKEN_FILE", DEFAULT_TOKEN_FILE))

    auth = ro_subparsers.add_parser("auth", help="ANAF OAuth: log in, refresh, show the token state")
    auth_commands = auth.add_subparsers(dest="auth_command", required=True, metavar="ACTION")
    oauth_options = argparse.ArgumentParser(add_help=False, parents=[common])
    oauth_options.add_argument("--client-id", default=os.environ.get(f"{ENV_PREFIX}CLIENT_ID"))
    oauth_options.add_argument(
        "--client-secret", default=os.environ.get(f"{ENV_PREFIX}CLIENT_SECRET"), help="better given as environment"
    )
    oauth_options.add_argument("--redirect-uri", default=os.environ.get(f"{ENV_PREFIX}REDIRECT_URI"))
    oauth_options.add_argument("--client-auth", choices=(CLIENT_AUTH_FORM, CLIENT_AUTH_BASIC), default=CLIENT_AUTH_FORM)
    login = auth_commands.add_parser(
        "login", parents=[oauth_options], help="authorise in a browser, then paste the callback address"
    )
    login.set_defaults(run=command()(_login))
    refresh = auth_commands.add_parser("refresh", parents=[oauth_options], help="renew both tokens")
    refresh.set_defaults(run=command()(_refresh))
    status = auth_commands.add_parser("status", parents=[oauth_options], help="token expiry and a test call")
    status.set_defaults(run=command()(_auth_status))

    send = ro_subparsers.add_parser("send", parents=[common], help="upload an invoice")
    send.add_argument("file", type=Path)
    send.add_argument("--cif", required=True, help="the company's CUI")
    send.add_argument("--standard", choices=("UBL", "CN", "CII", "RASP"), help="default: from the document root")
    send.add_argument("--b2c", action="store_true", help="the buyer is a person (uploadb2c)")
    send.add_argument("--extern", action="store_true", help="the buyer is not Romanian")
    send.add_argument("--self-billed", action="store_true", help="autofactura")
    send.add_argument("--enforcement", action="store_true", help="executare silita")
    send.set_defaults(run=command()(_send))

    status = ro_subparsers.add_parser("status", parents=[common], help="state of an upload")
    status.add_argument("index", help="the upload index (index_incarcare)")
    status.set_defaults(run=command()(_status))

    download = ro_subparsers.add_parser("download", parents=[common], help="save ANAF's signed ZIP of a message")
    download.add_argument("id", help="the download id")
    download.add_argument("-o", "--output", type=Path, help="default: ID.zip")
    download.set_defaults(run=command()(_download))

    messages = ro_subparsers.add_parser("messages", parents=[common], help="list the messages of the last days")
    messages.add_argument("--cif", required=True)
    messages.add_argument("--days", type=int, default=1, choices=range(1, 61), metavar="1..60")
    messages.add_argument("--filter", choices=sorted(FILTERS))
    messages.set_defaults(run=command()(_messages))

    pdf = ro_subparsers.add_parser("pdf", parents=[common], help="ANAF's PDF rendering of an invoice")
    pdf.add_argument("file", type=Path)
    pdf.add_argument("-o", "--output", type=Path, help="default: FILE with .pdf")
    pdf.add_argument("--no-validate", action="store_true", help="render without validating (ANAF's /DA)")
    pdf.set_defaults(run=command()(_pdf))


# -- auth -------------------------------------------------------------------------------------------------------
def _login(args):
    oauth = _oauth(args)
    signer = StateSigner(secrets.token_bytes(32), ttl=600)
    used = set()
    print("Open this address in the browser that holds the qualified certificate:")
    print(oauth.authorize_url(signer.issue({"purpose": "cli"})))
    callback = input("Paste the address the browser was sent to: ").strip()
    answer = {key: values[0] for key, values in parse_qs(urlsplit(callback).query).items()}
    if "error" in answer:
        return _fail(f"ANAF did not authorise the application: {answer['error']}")
    signer.verify(answer.get("state"), consume=lambda nonce: nonce not in used and not used.add(nonce))
    tokens = oauth.exchange_code(answer.get("code", ""))
    _save_tokens(args.token_file, tokens)
    written(args.token_file, args)
    _print_expiry(tokens)
    return 0


def _refresh(args):
    tokens = _oauth(args).refresh(_load_tokens(args.token_file).refresh_token)
    _save_tokens(args.token_file, tokens)
    written(args.token_file, args)
    _print_expiry(tokens)
    return 0


def _auth_status(args):
    tokens = _load_tokens(args.token_file)
    _print_expiry(tokens)
    accepted = _oauth(args).smoke_test(tokens.access_token)
    print(f"ANAF test call: {'accepted' if accepted else 'unexpected answer'}")
    return 0 if accepted else 1


# -- e-Factura --------------------------------------------------------------------------------------------------
def _send(args):
    xml = args.file.read_bytes()
    standard = args.standard or _standard_of(xml)
    result = _client(args).upload(
        xml,
        args.cif,
        standard=standard,
        b2c=args.b2c,
        extern=args.extern,
        self_billed=args.self_billed,
        enforcement=args.enforcement,
    )
    if not result.accepted:
        return _fail("ANAF refused the upload: " + "; ".join(result.errors))
    print(f"uploaded: index {result.index}")
    return 0


def _status(args):
    client = _client(args)
    result = client.status(args.index)
    print(f"state: {result.state}" + (f", download id {result.download_id}" if result.download_id else ""))
    for error in result.errors:
        print(f"  {error}")
    if result.state == State.NOK and result.download_id:
        _print_reasons(client, result.download_id, args)
    return 0 if result.state in (State.OK, State.PROCESSING) else 1


def _print_reasons(client, download_id, args):
    """ANAF gives the reasons of a rejection in the answer archive: fetch it and show them, or say how to."""
    try:
        download = client.download(download_id)
    except EInvoiceError as error:
        reason = error.message
    else:
        if download.error_report:
            for error in download.error_report.errors:
                print(f"  {error}")
            return
        reason = download.message or download.state
    hint = _(
        "ANAF's reasons are in the answer archive, which could not be read (%(reason)s): "
        "get it with 'einvoice ro download %(id)s'.",
        reason=reason,
        id=download_id,
    )
    print(f"  {translate(hint, lang_of(args))}")


def _download(args):
    result = _client(args).download(args.id)
    if result.state != DownloadState.OK:
        return _fail(f"{result.state}: {result.message}")
    output = args.output or Path(f"{args.id}.zip")
    output.write_bytes(result.archive)
    written(output, args)
    print(f"  {result.document_name}, {result.signature_name}")
    for error in result.error_report.errors if result.error_report else ():
        print(f"  {error}")
    return 0


def _messages(args):
    for message in _client(args).messages(args.cif, days=args.days, kind=args.filter):
        index = message.upload_index or "-"
        print(f"{_created(message)}  {message.id:>12}  {index:>12}  {message.kind}  {message.details}")
    return 0


def _pdf(args):
    result = _client(args).to_pdf(args.file.read_bytes(), validate=not args.no_validate)
    if result.pdf is None:
        return _fail("ANAF did not render the invoice: " + "; ".join(result.messages))
    output = args.output or args.file.with_suffix(".pdf")
    output.write_bytes(result.pdf)
    written(output, args)
    return 0


# -- pieces -----------------------------------------------------------------------------------------------------
def _endpoints(args):
    return Endpoints.at(args.base_url, args.env) if args.base_url else Endpoints.for_env(args.env)


def _oauth(args):
    missing = [name for name in ("client_id", "client_secret", "redirect_uri") if not getattr(args, name)]
    if missing:
        raise SystemExit(
            "missing: " + ", ".join(f"--{n.replace('_', '-')} (or {ENV_PREFIX}{n.upper()})" for n in missing)
        )
    endpoints = _endpoints(args)
    return AnafOAuth(
        args.client_id,
        args.client_secret,
        args.redirect_uri,
        oauth_url=endpoints.oauth,
        api_root=endpoints.api_root,
        client_auth=args.client_auth,
    )


def _client(args):
    token = os.environ.get(f"{ENV_PREFIX}ACCESS_TOKEN") or _load_tokens(args.token_file).access_token
    return AnafClient(token, endpoints=_endpoints(args))


def _standard_of(xml):
    local = parse_xml(xml).tag.rpartition("}")[2]
    return _STANDARDS_BY_ROOT.get(local, "UBL")


def _save_tokens(path, tokens):
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "access_expires_at": _iso(tokens.access_expires_at),
        "refresh_expires_at": _iso(tokens.refresh_expires_at),
    }
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        json.dump(data, stream)


def _load_tokens(path):
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SystemExit(f"no tokens in {path}: run 'einvoice ro auth login' first") from None
    return Tokens(
        data["access_token"],
        data["refresh_token"],
        _from_iso(data.get("access_expires_at")),
        _from_iso(data.get("refresh_expires_at")),
    )


def _print_expiry(tokens):
    now = datetime.now(timezone.utc)
    for label, moment in (("access token", tokens.access_expires_at), ("refresh token", tokens.refresh_expires_at)):
        if moment is None:
            print(f"{label}: expiry not stated by ANAF")
        else:
            left = max(moment - now, timedelta(0))
            print(f"{label}: expires {timestamp(moment)} ({left.days} days left)")


def _created(message):
    """When ANAF filed a message, with Romania's offset; as ANAF wrote it when it cannot be read."""
    try:
        return timestamp(message.created_at)
    except ValueError:
        return message.created


def _iso(moment):
    return moment.isoformat() if moment else None


def _from_iso(text):
    return datetime.fromisoformat(text) if text else None


def _env_path(name, default):
    value = os.environ.get(f"{ENV_PREFIX}{name}")
    return Path(value) if value else default


def _fail(message):
    print(message, file=sys.stderr)
    return 1
