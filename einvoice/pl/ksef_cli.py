"""``einvoice pl auth|send|status|upo|sync|download``: KSeF from the command line.

Credentials come from options naming files and from environment variables, never from arguments that other users
of the machine could read, and are never printed. The variables: ``EINVOICE_KSEF_NIP``, and ``EINVOICE_KSEF_TOKEN``
(or ``--token-file``), or ``--cert``/``--key`` (``EINVOICE_KSEF_CERT``/``EINVOICE_KSEF_KEY``) with
``EINVOICE_KSEF_KEY_PASSWORD``, or ``--p12`` (``EINVOICE_KSEF_P12``). A password-protected key without
``EINVOICE_KSEF_KEY_PASSWORD`` is unlocked with a password asked at the terminal, when there is one.
"""

import functools
import getpass
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..cli_support import command, lang_of, language_options, say, timestamp, written
from ..errors import EInvoiceError
from ..i18n import _, ngettext, translate
from .crypto import FileDigest, PasswordRequiredError, load_credentials, load_pkcs12
from .ksef import (
    ENVIRONMENTS,
    Authenticator,
    BatchSession,
    CertificateLogin,
    HighWaterMarkSync,
    Incoming,
    KsefClient,
    KsefTokenLogin,
    OnlineSession,
    Sessions,
    choose_session,
    format_datetime,
    parse_datetime,
)

ENV_PREFIX = "EINVOICE_KSEF_"


def register(pl_subparsers):
    """Add the KSeF commands to the ``pl`` command group."""
    commands = [
        ("auth", "sign in to KSeF and show how long the tokens last", _auth),
        ("send", "send FA(3) files (a batch session when they exceed the online quota)", _send),
        ("status", "show a session and its invoices", _status),
        ("upo", "write a UPO exactly as KSeF signed it", _upo),
        ("sync", "fetch invoices received since the last high-water mark", _sync),
        ("download", "write one invoice by its KSeF number", _download),
    ]
    parsers = {}
    for name, help_text, run in commands:
        parser = pl_subparsers.add_parser(name, parents=[language_options()], help=help_text)
        _connection_options(parser)
        parser.set_defaults(run=command()(run))
        parsers[name] = parser
    parsers["send"].add_argument("files", nargs="+", type=Path, metavar="FILE")
    parsers["send"].add_argument("--offline", action="store_true", help="send invoices issued in offline mode")
    parsers["status"].add_argument("reference", metavar="REF", help="session reference number")
    parsers["upo"].add_argument("reference", metavar="REF", help="session reference number")
    which = parsers["upo"].add_mutually_exclusive_group()
    which.add_argument("--invoice", help="invoice reference number (default: the session UPO)")
    which.add_argument("--ksef-number", help="KSeF number of the invoice")
    parsers["upo"].add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    parsers["sync"].add_argument("--state-file", type=Path, help="keeps the high-water mark between runs")
    parsers["sync"].add_argument("--since", help="start date (ISO 8601) when there is no state yet; default 1 day")
    parsers["sync"].add_argument("--output-dir", type=Path, default=Path("."), help="where the XML files go")
    parsers["download"].add_argument("ksef_number", metavar="KSEF_NUMBER")
    parsers["download"].add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")


def _connection_options(parser):
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--env", choices=sorted(ENVIRONMENTS), default="test", help="KSeF environment (default test)")
    where.add_argument("--base-url", help="another KSeF address, e.g. the simulator")
    parser.add_argument("--nip", default=os.environ.get(f"{ENV_PREFIX}NIP"), help=f"context NIP (or {ENV_PREFIX}NIP)")
    parser.add_argument("--token-file", type=Path, help=f"file holding the KSeF token (or {ENV_PREFIX}TOKEN)")
    parser.add_argument("--cert", type=Path, default=_env_path("CERT"), help=f"certificate .crt (or {ENV_PREFIX}CERT)")
    parser.add_argument("--key", type=Path, default=_env_path("KEY"), help=f"private key .key (or {ENV_PREFIX}KEY)")
    parser.add_argument("--p12", type=Path, default=_env_path("P12"), help=f"PKCS#12 file (or {ENV_PREFIX}P12)")


def _env_path(name):
    value = os.environ.get(f"{ENV_PREFIX}{name}")
    return Path(value) if value else None


def _login_method(args):
    password = os.environ.get(f"{ENV_PREFIX}KEY_PASSWORD")
    if args.p12:
        load = functools.partial(load_pkcs12, args.p12.read_bytes())
        return CertificateLogin(_unlocked(load, password, args.p12, args))
    if args.cert and args.key:
        load = functools.partial(load_credentials, args.cert.read_bytes(), args.key.read_bytes())
        return CertificateLogin(_unlocked(load, password, args.key, args))
    if args.token_file:
        token = args.token_file.read_text(encoding="utf-8").strip()
    else:
        token = os.environ.get(f"{ENV_PREFIX}TOKEN")
    if token:
        return KsefTokenLogin(token)
    raise EInvoiceError(
        _("No KSeF credentials: give --cert and --key, --p12, --token-file, or set EINVOICE_KSEF_TOKEN.")
    )


def _unlocked(load, password, path, args):
    """``load(password)``; a key that needs a password nobody gave is unlocked with one asked at the terminal.
    Without a terminal (a script, a service) the error stays: nobody could answer."""
    try:
        return load(password)
    except PasswordRequiredError:
        if password or not sys.stdin.isatty():
            raise
    prompt = translate(_("Password of %(path)s: ", path=str(path)), lang_of(args))
    return load(getpass.getpass(prompt))


def _connect(args):
    if not args.nip:
        raise EInvoiceError(_("The context NIP is missing: give --nip or set EINVOICE_KSEF_NIP."))
    client = KsefClient(args.base_url, environment=args.env)
    return client, Authenticator(client, args.nip, _login_method(args))


def _auth(args):
    _client, auth = _connect(args)
    auth.login()
    say(
        args,
        _(
            "Signed in to KSeF for NIP %(nip)s. Access valid until %(access)s; refresh until %(refresh)s.",
            nip=args.nip,
            access=timestamp(auth.access.valid_until),
            refresh=timestamp(auth.refresh_token.valid_until),
        ),
    )
    return 0


def _send(args):
    client, auth = _connect(args)
    documents = [path.read_bytes() for path in args.files]
    names = {FileDigest.of(xml).hash: str(path) for path, xml in zip(args.files, documents, strict=True)}
    if choose_session(len(documents)) == "batch":
        reference = BatchSession.send(client, auth, documents, offline_mode=args.offline).reference_number
    else:
        session = OnlineSession.open(client, auth)
        reference = session.reference_number
        for xml in documents:
            session.send(xml, offline_mode=args.offline)
        session.close()
    say(args, _("Session %(reference)s", reference=reference))
    sessions = Sessions(client, auth)
    sessions.wait(reference)
    for invoice in sessions.invoices(reference):
        _print_invoice(invoice, args, names.get(invoice.invoice_hash))
    return 0


def _print_invoice(invoice, args, label=None):
    print("\t".join(filter(None, [label, invoice.reference_number, invoice.state, invoice.ksef_number or "-"])))
    print(f"\t{translate(invoice.description, lang_of(args))}")
    for detail in invoice.details:
        print(f"\t{detail}")


def _status(args):
    client, auth = _connect(args)
    sessions = Sessions(client, auth)
    status = sessions.status(args.reference)
    print(f"{status.reference_number}\t{status.code}\t{translate(status.description, lang_of(args))}")
    for invoice in sessions.invoices(args.reference):
        _print_invoice(invoice, args)
    return 0


def _write(data, output, args):
    if output:
        output.write_bytes(data)
        written(output, args)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


def _upo(args):
    client, auth = _connect(args)
    sessions = Sessions(client, auth)
    if args.invoice or args.ksef_number:
        _write(sessions.invoice_upo(args.reference, args.invoice, ksef_number=args.ksef_number), args.output, args)
        return 0
    pages = sessions.session_upo(args.reference)
    if not pages:
        raise EInvoiceError(_("The session UPO is not ready yet: KSeF is still processing the session."))
    for number, page in enumerate(pages, 1):
        output = args.output
        if output and len(pages) > 1:
            output = output.with_name(f"{output.stem}-{number}{output.suffix}")
        _write(page, output, args)
    return 0


def _sync(args):
    client, auth = _connect(args)
    since = None
    if args.state_file and args.state_file.exists():
        since = parse_datetime(args.state_file.read_text(encoding="utf-8").strip())
    since = since or (parse_datetime(args.since) if args.since else datetime.now(timezone.utc) - timedelta(days=1))
    result = HighWaterMarkSync(Incoming(client, auth)).run(since)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for ksef_number, xml in result.invoices.items():
        path = args.output_dir / f"{ksef_number}.xml"
        path.write_bytes(xml)
        written(path, args)
    if args.state_file:
        args.state_file.write_text(format_datetime(result.next_from), encoding="utf-8")
        written(args.state_file, args)
    count = len(result.invoices)
    say(
        args,
        ngettext(
            "%(count)s invoice received; next sync from %(since)s.",
            "%(count)s invoices received; next sync from %(since)s.",
            count,
            count=count,
            since=timestamp(result.next_from),
        ),
    )
    return 0


def _download(args):
    client, auth = _connect(args)
    _write(Incoming(client, auth).download(args.ksef_number), args.output, args)
    return 0
