"""A KSeF 2.0 simulator: real HTTP, real cryptography, statuses driven by a clock the caller controls.

It really decrypts what it receives, checks hashes and sizes, verifies XAdES signatures and encrypted KSeF tokens,
detects duplicates on seller NIP + invoice kind + number (status 440 with the original KSeF number), numbers
invoices in the official format, signs UPOs with its own test key, answers metadata queries and exports with a
high-water mark, and enforces the published limits with 429 + ``Retry-After``. Faults come from
:meth:`SimServer.inject`.
"""

import base64
import collections
import io
import json
import math
import secrets
import tarfile
import threading
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from lxml import etree

from ..pl.crypto import (
    ORGANIZATION_IDENTIFIER,
    Credentials,
    FileDigest,
    SessionKey,
    b64,
    certificate_validity,
    public_key_id,
    rsa_oaep_decrypt,
    sha256_b64,
)
from ..pl.ksef import KEY_FOR_SESSIONS, KEY_FOR_TOKEN, LIMITS, WINDOWS, format_datetime, parse_datetime
from ..pl.xades import AUTH_NAMESPACES, SignatureError, sign_enveloped, verify_signed
from ..validation import ValidationUnavailableError, fa3_schema, xsd_findings
from ..xmlsafe import MAX_MEMBER_BYTES, UnsafeInputError, parse_xml, read_zip
from .ksef_credentials import KsefCredentials, enrollment_data, subject_identifier
from .server import Response, SimServer, self_signed_certificate
from .server import bearer as _bearer
from .server import header as _header

FA3_NAMESPACE = "http://crd.gov.pl/wzor/2025/06/25/13775/"
UPO_NAMESPACE = "http://upo.schematy.mf.gov.pl/KSeF/v4-3"
CHALLENGE_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=12)
API_PREFIX = "/v2"
# authenticationMethod (deprecated) -> authenticationMethodInfo's category, code and displayName. open-api.json gives
# one example ("XadesSignature", "xades.qualified-seal", "Pieczęć kwalifikowana"); the other codes are not published,
# so clients must not depend on them
AUTH_METHODS = {
    "Token": ("Token", "token.ksef", "Token KSeF"),
    "QualifiedSeal": ("XadesSignature", "xades.qualified-seal", "Pieczęć kwalifikowana"),
    "QualifiedSignature": ("XadesSignature", "xades.qualified-signature", "Podpis kwalifikowany"),
    "InternalCertificate": ("XadesSignature", "xades.internal-certificate", "Certyfikat KSeF"),
}
SIGNATURE_ERRORS = {  # open-api.json, POST /auth/xades-signature, 400
    9102: "Brak podpisu.",
    9103: "Przekroczona liczba dozwolonych podpisów.",
    9105: "Nieprawidłowy podpis.",
}
AUTH_DESCRIPTIONS = {  # open-api.json, AuthenticationOperationStatusResponse.status
    100: "Uwierzytelnianie w toku",
    200: "Uwierzytelnianie zakończone sukcesem",
    415: "Uwierzytelnianie zakończone niepowodzeniem",
    425: "Uwierzytelnienie unieważnione",
    450: "Uwierzytelnianie zakończone niepowodzeniem z powodu błędnego tokenu",
    460: "Uwierzytelnianie zakończone niepowodzeniem z powodu błędu certyfikatu",
    480: "Uwierzytelnienie zablokowane",
}
# who the invoice's parties are for each subjectType of a metadata query or export
SUBJECT_TYPES = {
    "Subject1": lambda i: (i.seller_nip,),
    "Subject2": lambda i: (i.buyer_nip,),
    "Subject3": lambda i: tuple(nip for nip, _role in i.third_parties),
    "SubjectAuthorized": lambda i: i.authorized[:1] if i.authorized else (),
}
PRESIGNED_LIFETIME = timedelta(hours=1)  # the storage addresses of export parts and UPO pages
MAX_DATE_RANGE = timedelta(days=92)  # three months, the stricter of the published ranges


def crc8(text):
    """CRC-8, polynomial 0x07, initial value 0: the check digits of a KSeF number."""
    crc = 0
    for byte in text.encode("ascii"):
        crc ^= byte
        for _bit in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def ksef_number(nip, day):
    base = f"{nip}-{day:%Y%m%d}-{secrets.token_hex(6).upper()}"
    return f"{base}-{crc8(base):02X}"


def default_validator(xml):
    """What KSeF checks of an invoice: its structure, by the official FA(3) schema when it is configured
    (``EINVOICE_FA3_XSD_DIR``), else a well-formed FA(3) ``Faktura``. Like KSeF, no arithmetic."""
    try:
        root = parse_xml(xml, what="invoice")
    except UnsafeInputError as error:
        return [str(error)]
    if root.tag != f"{{{FA3_NAMESPACE}}}Faktura":
        return [f"The root element is {root.tag}, not Faktura of FA(3)."]
    try:
        schema = fa3_schema()
    except ValidationUnavailableError:
        return []
    return [str(finding.message) for finding in xsd_findings(schema, root)]


def _steps(path, relative=False):
    return ("" if relative else "/*/") + "/".join(f"*[local-name()='{step}']" for step in path.split("/"))


def _text(root, path, relative=False):
    found = root.xpath(_steps(path, relative))
    return found[0].text.strip() if found and found[0].text else None


NET_FIELDS = [f"P_13_{n}" for n in ("1", "2", "3", "4", "5", "6_1", "6_2", "6_3", "7", "8", "9", "10", "11")]
VAT_FIELDS = [f"P_14_{n}" for n in range(1, 6)]
# FA(3) RodzajFaktury -> the metadata's invoiceType (open-api.json InvoiceType)
INVOICE_TYPES = {
    "VAT": "Vat",
    "ZAL": "Zal",
    "KOR": "Kor",
    "ROZ": "Roz",
    "UPR": "Upr",
    "KOR_ZAL": "KorZal",
    "KOR_ROZ": "KorRoz",
}


def _summary(root):
    """The metadata's amounts and flags of an FA(3) invoice: nets and VAT summed over the rate groups (P_13_x,
    P_14_x), the gross total P_15, the currency, self-billing (P_17) and whether it has an attachment."""

    def total(names):
        return float(sum(Decimal(_text(root, f"Fa/{name}") or "0") for name in names))

    return {
        "netAmount": total(NET_FIELDS),
        "grossAmount": total(["P_15"]),
        "vatAmount": total(VAT_FIELDS),
        "currency": _text(root, "Fa/KodWaluty") or "PLN",
        "isSelfInvoicing": _text(root, "Fa/Adnotacje/P_17") == "1",
        "hasAttachment": bool(root.xpath(_steps("Zalacznik"))),
    }


def self_signed(common_name, *, not_before, days=365):
    """RSA-2048 credentials with a self-signed certificate, as the simulator's Ministry keys and UPO seal."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    key, certificate = self_signed_certificate(name, not_before=not_before, days=days)
    return Credentials(certificate, key)


@dataclass
class _Invoice:
    reference: str
    session: str
    ordinal: int
    xml: bytes
    hash: str
    file_name: str
    received_at: datetime
    code: int
    seller_nip: str = None
    buyer_nip: str = None
    kind: str = None
    number: str = None
    issue_date: str = None
    ksef_number: str = None
    details: list = field(default_factory=list)
    extensions: dict = field(default_factory=dict)
    offline: bool = False
    stored_at: datetime = None
    upo: bytes = None
    third_parties: tuple = ()  # Podmiot3: (NIP, role) pairs
    authorized: tuple = None  # PodmiotUpowazniony: (NIP, role)
    summary: dict = field(default_factory=dict)  # the metadata's amounts and flags, read from the invoice
    corrects: str = None  # a technical correction: the hash of the rejected offline invoice it replaces
    corrected_by: str = None  # a rejected offline invoice technically corrected: the KSeF number of its correction


class KsefSimulator(KsefCredentials, SimServer):
    """Served under ``/v2`` like the real API (https://api-test.ksef.mf.gov.pl/v2); the same paths without the
    prefix stay as aliases. ``url`` includes the prefix; ``origin`` is the host, where the pre-signed upload and
    download addresses live (on the real platform another host)."""

    name = "KSeF"
    contract = "ksef"  # the tests hold its exchanges against the official open-api.json
    api_prefix = API_PREFIX

    def __init__(
        self,
        host="127.0.0.1",
        port=0,
        *,
        clock=None,
        validator=default_validator,
        limits=LIMITS,
        auth_delay=0.0,
        processing_delay=2.0,
        storage_delay=5.0,
        export_delay=2.0,
        access_lifetime=900,
        refresh_lifetime=7 * 24 * 3600,
        max_query_records=10_000,
        max_export_invoices=10_000,
        export_part_bytes=50_000_000,
    ):
        super().__init__(host, port)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.validator = validator
        self.limits = limits
        self.auth_delay = timedelta(seconds=auth_delay)
        self.processing_delay = timedelta(seconds=processing_delay)
        self.storage_delay = timedelta(seconds=storage_delay)
        self.export_delay = timedelta(seconds=export_delay)
        self.access_lifetime = timedelta(seconds=access_lifetime)
        self.refresh_lifetime = timedelta(seconds=refresh_lifetime)
        self.max_query_records = max_query_records
        self.max_export_invoices = max_export_invoices
        self.export_part_bytes = export_part_bytes
        # False: ignore X-Error-Format and answer 400 and 429 in the legacy formats, as before API 2.6
        self.problem_details = True
        self._answering = None  # the request being answered (handlers run one at a time under state_lock)
        self.iv_prefixed_exports = False  # True: export parts carry the IV in front, as older documentation said
        self.availability = "AVAILABLE"
        self.availability_messages = []
        self.state_lock = threading.RLock()
        started = self.clock() - timedelta(days=1)
        self.started = started
        self.ministry_keys = self._ministry_keys(started)
        self.upo_signer = self_signed("Ministerstwo Finansów - UPO (simulator)", not_before=started)
        self._init_credentials()
        self.challenges = {}
        self.auth_operations = {}
        self.access_tokens = {}
        self.refresh_tokens = {}
        self.sessions = {}
        self.invoices = {}
        self.exports = {}
        self.presigned = {}
        self._calls = collections.defaultdict(collections.deque)
        self._routes_table()

    # -- set-up helpers for tests and the demo ---------------------------------------------------------------
    def rotate_keys(self, *, withdraw_old=True):
        """Publish new Ministry keys. ``withdraw_old`` is an emergency rotation (the old ``publicKeyId`` gets
        21470); otherwise a planned one, where old and new overlap and the new is valid from a later date."""
        fresh = self._ministry_keys(self.clock() - timedelta(minutes=1))
        self.ministry_keys = fresh if withdraw_old else self.ministry_keys + fresh

    @staticmethod
    def _ministry_keys(valid_from):
        """``[(usage, credentials, publicKeyId)]``, one RSA key per usage."""
        keys = []
        for usage in (KEY_FOR_TOKEN, KEY_FOR_SESSIONS):
            credentials = self_signed("Ministerstwo Finansów", not_before=valid_from)
            keys.append((usage, credentials, public_key_id(credentials.certificate)))
        return keys

    def seed_invoice(self, xml, *, received_at=None):
        """Store ``xml`` as an invoice accepted earlier (e.g. one a supplier sent to a buyer NIP)."""
        received_at = received_at or self.clock() - self.processing_delay - self.storage_delay
        with self.state_lock:
            invoice = self._new_invoice(None, xml, received_at, f"seed-{len(self.invoices) + 1}.xml")
            self._judge(invoice)
        return invoice

    def accepted(self):
        return [i for i in self.invoices.values() if i.code == 200]

    def forget_invoices(self):
        """Forget every invoice, session and call counted for the rate limits, as when a test that rolls its
        database back starts again at the same moment (the same invoice numbers would be taken for duplicates)."""
        with self.state_lock:
            self.invoices.clear()
            self.sessions.clear()
            self._calls.clear()

    # -- plumbing ---------------------------------------------------------------------------------------------
    def _routes_table(self):
        ref = r"(?P<ref>[0-9A-Za-z-]+)"
        # the credentials' routes first: /auth/sessions before /auth/{ref}
        table = [
            *self._credential_routes(ref),
            ("POST", r"/auth/challenge", "auth", self._challenge),
            ("POST", r"/auth/ksef-token", "auth", self._auth_ksef_token),
            ("POST", r"/auth/xades-signature", "auth", self._auth_xades),
            ("POST", r"/auth/token/redeem", "auth", self._redeem),
            ("POST", r"/auth/token/refresh", "auth", self._refresh),
            ("GET", rf"/auth/{ref}", "auth", self._auth_status),
            ("GET", r"/security/public-key-certificates", "public_keys", self._public_keys),
            ("POST", r"/sessions/online", "online_open", self._open_online),
            ("POST", rf"/sessions/online/{ref}/invoices", "online_send", self._send_online),
            ("POST", rf"/sessions/online/{ref}/close", "online_close", self._close_session),
            ("POST", r"/sessions/batch", "batch_open", self._open_batch),
            ("POST", rf"/sessions/batch/{ref}/close", "batch_close", self._close_batch),
            ("PUT", r"/upload/(?P<token>\w+)", None, self._upload_part),
            ("GET", r"/download/(?P<token>\w+)", None, self._download_presigned),
            ("GET", rf"/sessions/{ref}/invoices/failed", "session_invoices", self._session_invoices),
            ("GET", rf"/sessions/{ref}/invoices", "session_invoices", self._session_invoices),
            ("GET", rf"/sessions/{ref}/invoices/ksef/(?P<ksef>[0-9A-F-]+)/upo", "session_read", self._invoice_upo),
            ("GET", rf"/sessions/{ref}/invoices/(?P<inv>[0-9A-Za-z-]+)/upo", "session_read", self._invoice_upo),
            ("GET", rf"/sessions/{ref}/invoices/(?P<inv>[0-9A-Za-z-]+)", "session_invoice", self._invoice_status),
            ("GET", rf"/sessions/{ref}/upo/(?P<upo>[0-9A-Za-z-]+)", "session_read", self._session_upo),
            ("GET", rf"/sessions/{ref}", "session_read", self._session_status),
            ("POST", r"/invoices/query/metadata", "query_metadata", self._query_metadata),
            ("POST", r"/invoices/exports", "export_start", self._start_export),
            ("GET", rf"/invoices/exports/{ref}", "export_status", self._export_status),
            ("GET", r"/invoices/ksef/(?P<ksef>[0-9A-F-]+)", "download", self._download_invoice),
            ("GET", r"/latarnia/status", None, self._latarnia_status),
            ("GET", r"/latarnia/messages", None, lambda request: Response.json(self.availability_messages)),
        ]
        for method, pattern, family, handler in table:
            self.route(method, f"(?:{API_PREFIX})?{pattern}", self._guarded(family, handler))

    @property
    def origin(self):
        return super().url

    @property
    def url(self):
        return f"{self.origin}{API_PREFIX}"

    def _guarded(self, family, handler):
        def serve(request):
            with self.state_lock:
                self._answering = request
                try:
                    if family:
                        limited = self._rate_limited(family, request)
                        if limited:
                            return limited
                    return handler(request)
                finally:
                    self._answering = None

        return serve

    def _rate_limited(self, family, request):
        limit = self.limits.get(family)
        if not limit:
            return None
        holder = self.access_tokens.get(_bearer(request), {}).get("nip", "ip")
        now = self.clock()
        calls = self._calls[(family, holder)]
        while calls and (now - calls[0]).total_seconds() >= 3600:
            calls.popleft()
        for allowed, period in zip(limit, WINDOWS, strict=True):
            if allowed is None:
                continue
            recent = [t for t in calls if (now - t).total_seconds() < period]
            if len(recent) >= allowed:
                wait = max(1, math.ceil(period - (now - recent[-allowed]).total_seconds()))
                detail = f"{family}: {allowed}/{period}s"
                if self._asks_problem_details():
                    limited = self._problem(429, "Too Many Requests", detail)
                else:
                    body = {"status": {"code": 429, "description": "Too Many Requests", "details": [detail]}}
                    limited = Response.json(body, status=429)
                limited.headers["Retry-After"] = str(wait)
                return limited
        calls.append(now)
        return None

    def _asks_problem_details(self):
        """The request being answered sent ``X-Error-Format: problem-details`` (and the simulator honours it)."""
        request = self._answering
        return (
            self.problem_details
            and request is not None
            and (_header(request, "x-error-format") or "").lower() == "problem-details"
        )

    def _problem(self, status, title, detail, **fields):
        """RFC 7807 problem details, as KSeF answers 401 and 403 always, 400 and 429 when asked."""
        body = {
            "title": title,
            "status": status,
            "detail": detail,
            "instance": self._answering.path if self._answering is not None else "",
            "timestamp": format_datetime(self.clock()),
            "traceId": secrets.token_hex(16),
            **fields,
        }
        response = Response.json(body, status=status)
        response.content_type = "application/problem+json"
        return response

    def _unauthorized(self, detail="Brak lub nieprawidłowy token dostępowy."):
        return self._problem(401, "Unauthorized", detail)

    def _error(self, code, description, *details):
        """A 400 with KSeF error ``code``: problem details when the request asks for them (api-changelog: "Format
        można włączyć przez nagłówek X-Error-Format: problem-details"), else the legacy ``ExceptionResponse``."""
        if self._asks_problem_details():
            errors = [{"code": code, "description": description, "details": list(details)}]
            return self._problem(400, "Bad Request", description, errors=errors)
        body = {
            "exception": {
                "exceptionDetailList": [
                    {"exceptionCode": code, "exceptionDescription": description, "details": list(details)}
                ],
                "serviceCode": secrets.token_hex(8),
                "timestamp": format_datetime(self.clock()),
            }
        }
        return Response.json(body, status=400)

    def _reference(self, code):
        random = secrets.token_hex(11).upper()
        return f"{self.clock():%Y%m%d}-{code}-{random[:10]}-{random[10:20]}-{random[20:]}"

    def _jwt(self, kind, nip, lifetime):
        now = self.clock()
        claims = {"iat": int(now.timestamp()), "exp": int((now + lifetime).timestamp()), "typ": kind, "ctx": nip}
        parts = [{"alg": "RS256", "typ": "JWT"}, claims]
        encoded = [base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=").decode() for p in parts]
        return ".".join([*encoded, secrets.token_urlsafe(32)]), now + lifetime

    def _context(self, request, needs=None):
        """The context NIP of a valid access token, or the 401 answer (403 when it lacks permission ``needs``)."""
        record = self.access_tokens.get(_bearer(request))
        if not record or record["expires"] <= self.clock():
            return None, self._unauthorized()
        if needs and needs not in record["permissions"]:
            return None, self._forbidden(needs)
        return record["nip"], None

    def _key(self, usage, public_key_id_sent):
        for key_usage, credentials, key_id in self.ministry_keys:
            if key_usage == usage and (public_key_id_sent in (None, key_id)):
                return credentials
        return None

    # -- authentication ---------------------------------------------------------------------------------------
    def _challenge(self, request):
        now = self.clock()
        challenge = self._reference("CR")
        timestamp_ms = int(now.timestamp() * 1000)
        self.challenges[challenge] = {"timestampMs": timestamp_ms, "created": now, "used": False}
        return Response.json(
            {
                "challenge": challenge,
                "timestamp": format_datetime(now),
                "timestampMs": timestamp_ms,
                "clientIp": "127.0.0.1",
            }
        )

    def _take_challenge(self, challenge):
        record = self.challenges.get(challenge)
        if not record or record["used"] or self.clock() - record["created"] > CHALLENGE_LIFETIME:
            return None
        record["used"] = True
        return record

    def _public_keys(self, request):
        entries = []
        for usage, credentials, key_id in self.ministry_keys:
            not_before, not_after = certificate_validity(credentials.certificate)
            der = credentials.certificate.public_bytes(serialization.Encoding.DER)
            entries.append(
                {
                    "certificate": b64(der),
                    "certificateId": sha256_b64(der),
                    "publicKeyId": key_id,
                    "validFrom": format_datetime(not_before),
                    "validTo": format_datetime(not_after),
                    "usage": [usage],
                }
            )
        return Response.json(entries)

    def _auth_ksef_token(self, request):
        body = request.json() or {}
        challenge = self._take_challenge(body.get("challenge"))
        if challenge is None:
            return self._error(21111, "Nieprawidłowe wyzwanie autoryzacyjne.")
        key = self._key(KEY_FOR_TOKEN, body.get("publicKeyId"))
        if key is None:
            return self._error(21470, "Nieznany lub wycofany klucz publiczny.", body.get("publicKeyId") or "")
        nip = (body.get("contextIdentifier") or {}).get("value")
        try:
            plain = rsa_oaep_decrypt(key.private_key, base64.b64decode(body.get("encryptedToken") or "")).decode()
        except ValueError:
            plain = ""
        token, _bar, timestamp = plain.rpartition("|")
        record = self.ksef_tokens.get(token)
        if not record or timestamp != str(challenge["timestampMs"]):
            return self._start_auth(nip, 450, "Token", details=["Nieprawidłowy token"])
        status = self.token_status(record)
        if status != "Active":
            details = "Token unieważniony" if status == "Revoked" else "Token nieaktywny"
            return self._start_auth(nip, 450, "Token", details=[details])
        if record["nip"] != nip:
            return self._start_auth(nip, 415, "Token", details=["Brak przypisanych uprawnień"])
        record["last_use"] = self.clock()
        return self._start_auth(
            nip,
            200,
            "Token",
            subject=record["author"],
            permissions=frozenset(record["permissions"]),
            token=record["reference"],
        )

    def _auth_xades(self, request):
        try:
            verified = verify_signed(request.body)
        except SignatureError as error:
            return self._error(error.code, SIGNATURE_ERRORS[error.code], str(error))
        except UnsafeInputError as error:
            return self._error(21001, "Nieczytelna treść.", str(error))
        root = verified.root
        if etree.QName(root).localname != "AuthTokenRequest" or etree.QName(root).namespace not in AUTH_NAMESPACES:
            return self._error(21401, "Dokument nie jest zgodny ze schemą (xsd).")
        if self._take_challenge(_text(root, "Challenge", relative=True)) is None:  # root: maybe in a ds:Object
            return self._error(21111, "Nieprawidłowe wyzwanie autoryzacyjne.")
        not_before, not_after = certificate_validity(verified.certificate)
        if not not_before <= self.clock() <= not_after:
            return self._error(21115, "Nieprawidłowy certyfikat.", "The certificate is not valid at this time.")
        certificate = verified.certificate
        # who signs: the NIP or PESEL the certificate names (certificateSubject), or the certificate's own SHA-256
        # fingerprint when the request says certificateFingerprint (uwierzytelnianie.md, the table of
        # ContextIdentifier x SubjectIdentifierType; the fingerprints of open-api.json are 64 hex digits)
        fingerprint_chosen = _text(root, "SubjectIdentifierType") == "certificateFingerprint"
        subject = subject_identifier(certificate)
        if fingerprint_chosen:
            subject = ("Fingerprint", certificate.fingerprint(hashes.SHA256()).hex().upper())
        elif subject[0] == "Fingerprint":  # the certificate names neither a NIP nor a PESEL
            return self._error(21117, "Nieprawidłowy identyfikator podmiotu dla wskazanego typu kontekstu.")
        identifiers = root.xpath("*[local-name()='ContextIdentifier']/*")
        context = identifiers[0].text if identifiers else None
        if certificate.issuer == self.ca_certificate.subject:
            method = "InternalCertificate"
        elif certificate.subject.get_attributes_for_oid(ORGANIZATION_IDENTIFIER):
            method = "QualifiedSeal"
        else:
            method = "QualifiedSignature"
        refusal = self.internal_certificate_refusal(certificate)
        if refusal:
            return self._start_auth(context, 460, method, details=[refusal])
        if context in self.blocked_contexts:
            return self._start_auth(context, 480, method, details=["Podejrzenie incydentu bezpieczeństwa."])
        # the owner acts in its NIP and in its internal identifiers (NIP-5 digits)
        permissions = self.permissions_of(subject, context) if context else frozenset()
        if not permissions:
            return self._start_auth(context, 415, method, details=["Brak przypisanych uprawnień"])
        return self._start_auth(
            context,
            200,
            method,
            subject=subject,
            permissions=permissions,
            enrollment=enrollment_data(certificate.subject),
        )

    def _start_auth(
        self, nip, code, method, *, subject=None, permissions=frozenset(), token=None, enrollment=None, details=()
    ):
        """Start an authentication that ends with status ``code``; on success the session it opens acts for
        ``subject`` (type, value) in context ``nip`` with ``permissions``, signed in with KSeF token ``token`` (its
        reference) or a certificate (``enrollment``: the data a certificate request must carry)."""
        reference = self._reference("AU")
        operation_token, valid_until = self._jwt("operation", nip, timedelta(minutes=45))
        self.auth_operations[reference] = {
            "reference": reference,
            "token": operation_token,
            "nip": nip,
            "code": code,
            "details": list(details),
            "ready_at": self.clock() + self.auth_delay,
            "method": method,
            "redeemed": False,
            "started": self.clock(),
            "session": {
                "nip": nip,
                "subject": subject,
                "permissions": frozenset(permissions),
                "token": token,
                "enrollment_data": enrollment,
                "auth": reference,
            },
        }
        answer = {
            "referenceNumber": reference,
            "authenticationToken": {"token": operation_token, "validUntil": format_datetime(valid_until)},
        }
        return Response.json(answer, status=202)

    def _operation(self, request):
        token = _bearer(request)
        return next((op for op in self.auth_operations.values() if op["token"] == token), None)

    def _auth_status(self, request):
        operation = self.auth_operations.get(request.params["ref"])
        if operation is None:  # open-api.json, GET /auth/{referenceNumber}: 21304
            return self._error(
                21304,
                "Brak uwierzytelnienia.",
                f"Operacja uwierzytelniania o numerze referencyjnym {request.params['ref']} nie została znaleziona.",
            )
        if operation is not self._operation(request):
            return self._unauthorized()
        return Response.json(self._auth_item(operation))

    def _auth_item(self, operation):
        """What KSeF says of an authentication: its method, status and tokens."""
        code = operation["code"] if self.clock() >= operation["ready_at"] else 100
        if operation.get("ended"):
            code = 425
        status = {"code": code, "description": AUTH_DESCRIPTIONS.get(code, "")}
        if code != 100 and operation["details"]:
            status["details"] = operation["details"]
        return {
            "startDate": format_datetime(operation["started"]),
            "authenticationMethod": operation["method"],
            "authenticationMethodInfo": dict(
                zip(("category", "code", "displayName"), AUTH_METHODS[operation["method"]], strict=True)
            ),
            "status": status,
            "isTokenRedeemed": operation["redeemed"],
        }

    def _redeem(self, request):
        # open-api.json, POST /auth/token/redeem: 21301 with the reason, an unknown operation token 401
        operation = self._operation(request)
        if operation is None:
            return self._unauthorized()
        code = operation["code"] if self.clock() >= operation["ready_at"] else 100
        if code != 200:
            detail = f"Status uwierzytelniania ({code}) nie pozwala na pobranie tokenów."
            return self._error(21301, "Brak autoryzacji.", detail)
        if operation["redeemed"]:
            detail = f"Tokeny dla operacji uwierzytelniania {operation['reference']} zostały już pobrane."
            return self._error(21301, "Brak autoryzacji.", detail)
        operation["redeemed"] = True
        access, access_until = self._jwt("access", operation["nip"], self.access_lifetime)
        refresh, refresh_until = self._jwt("refresh", operation["nip"], self.refresh_lifetime)
        self.access_tokens[access] = {**operation["session"], "expires": access_until}
        self.refresh_tokens[refresh] = {**operation["session"], "expires": refresh_until}
        return Response.json(
            {
                "accessToken": {"token": access, "validUntil": format_datetime(access_until)},
                "refreshToken": {"token": refresh, "validUntil": format_datetime(refresh_until)},
            }
        )

    def _refresh(self, request):
        record = self.refresh_tokens.get(_bearer(request))
        if not record or record["expires"] <= self.clock():
            return self._unauthorized()
        access, access_until = self._jwt("access", record["nip"], self.access_lifetime)
        self.access_tokens[access] = {**record, "expires": access_until}
        return Response.json({"accessToken": {"token": access, "validUntil": format_datetime(access_until)}})

    # -- sessions ---------------------------------------------------------------------------------------------
    def _session_key(self, encryption):
        """``(SessionKey or None, error answer or None)``: None key means it could not be decrypted (status 415)."""
        encryption = encryption or {}
        key = self._key(KEY_FOR_SESSIONS, encryption.get("publicKeyId"))
        if key is None:
            return None, self._error(
                21470, "Nieznany lub wycofany klucz publiczny.", encryption.get("publicKeyId") or ""
            )
        try:
            aes = rsa_oaep_decrypt(key.private_key, base64.b64decode(encryption.get("encryptedSymmetricKey") or ""))
            iv = base64.b64decode(encryption.get("initializationVector") or "")
        except ValueError:
            return None, None
        if len(aes) != 32 or len(iv) != 16:
            return None, None
        return SessionKey(aes, iv), None

    def _keyed_request(self, request, needs):
        """The caller's NIP, the JSON body and the session key it carries, or the answer refusing the request
        (also when the session lacks the permission ``needs``)."""
        nip, denied = self._context(request, needs)
        if denied:
            return None, None, None, denied
        body = request.json() or {}
        key, error = self._session_key(body.get("encryption"))
        return nip, body, key, error

    def _open_online(self, request):
        nip, body, key, refusal = self._keyed_request(request, "InvoiceWrite")
        if refusal:
            return refusal
        session = self._new_session("SO", "Online", nip, key, body)
        return Response.json(
            {"referenceNumber": session["ref"], "validUntil": format_datetime(session["valid_until"])}, status=201
        )

    def _new_session(self, code, kind, nip, key, body):
        now = self.clock()
        session = {
            "ref": self._reference(code),
            "type": kind,
            "nip": nip,
            "key": key,
            "form": body.get("formCode"),
            "offline": bool(body.get("offlineMode")),
            "created": now,
            "valid_until": now + SESSION_LIFETIME,
            "closed_at": None,
            "invoices": [],
            "code": 100 if key else 415,
            "upo": None,
        }
        self.sessions[session["ref"]] = session
        return session

    def _own_session(self, request):
        nip, denied = self._context(request)
        if denied:
            return None, denied
        session = self.sessions.get(request.params["ref"])
        if session is None or session["nip"] != nip:
            return None, self._error(21173, "Brak sesji o wskazanym numerze referencyjnym.", request.params["ref"])
        return session, None

    def _send_online(self, request):
        session, denied = self._own_session(request)
        if denied:
            return denied
        if session["code"] != 100 or session["closed_at"] or self.clock() > session["valid_until"]:
            return self._error(21180, "Status sesji nie pozwala na wykonanie operacji.", str(session["code"]))
        body = request.json() or {}
        try:
            encrypted = base64.b64decode(body.get("encryptedInvoiceContent") or "", validate=True)
        except ValueError:
            return self._error(21405, "Błąd walidacji danych wejściowych.", "encryptedInvoiceContent")
        sealed = FileDigest.of(encrypted)
        if sealed.size != body.get("encryptedInvoiceSize"):
            return self._error(21402, "Nieprawidłowy rozmiar pliku.", "encryptedInvoiceSize")
        if sealed.hash != body.get("encryptedInvoiceHash"):
            return self._error(21403, "Nieprawidłowy skrót pliku.", "encryptedInvoiceHash")
        now = self.clock()
        try:
            xml = session["key"].decrypt_matching(encrypted, body.get("invoiceHash"))
        except ValueError:
            invoice = self._new_invoice(session, b"", now, None, body.get("invoiceHash"))
            invoice.code, invoice.details = 435, ["The invoice could not be decrypted with the session key."]
            return Response.json({"referenceNumber": invoice.reference}, status=202)
        plain = FileDigest.of(xml)
        if plain.size != body.get("invoiceSize"):
            return self._error(21402, "Nieprawidłowy rozmiar pliku.", "invoiceSize")
        if plain.hash != body.get("invoiceHash"):
            return self._error(21403, "Nieprawidłowy skrót pliku.", "invoiceHash")
        corrected = body.get("hashOfCorrectedInvoice")
        refusal = corrected and self._technical_correction_refusal(session, corrected, body)
        if refusal:
            return refusal
        invoice = self._new_invoice(session, xml, now, None)
        invoice.offline = bool(body.get("offlineMode"))
        invoice.corrects = corrected or None
        self._judge(invoice, context_nip=session["nip"])
        if corrected and invoice.code == 200:
            for original in self._sent_in_context(session["nip"], corrected):
                original.corrected_by = invoice.ksef_number
        return Response.json({"referenceNumber": invoice.reference}, status=202)

    def _sent_in_context(self, nip, invoice_hash):
        """The invoices sent in the context ``nip`` with this hash."""
        return [
            invoice
            for invoice in self.invoices.values()
            if invoice.hash == invoice_hash and invoice.session and self.sessions[invoice.session]["nip"] == nip
        ]

    def _technical_correction_refusal(self, session, corrected, body):
        """offline/korekta-techniczna.md: a technical correction is sent with offlineMode true, of an offline invoice
        KSeF rejected, once (open-api.json, POST /sessions/online/{referenceNumber}/invoices: 21166 the invoice has
        a correction processed already, 21167 its status does not allow one). A hash KSeF never received, or of an
        invoice not sent offline, is answered 21167 as well: the status of no such invoice allows a correction
        (the documents name no other code)."""
        if not body.get("offlineMode"):
            return self._error(
                21405, "Błąd walidacji danych wejściowych.", "Korekta techniczna wymaga offlineMode: true."
            )
        originals = self._sent_in_context(session["nip"], corrected)
        if not originals or any(o.code == 200 or not o.offline for o in originals):
            return self._error(
                21167,
                "Status faktury nie pozwala na korektę techniczną.",
                "Nie można wysłać korekty technicznej do prawidłowo przetworzonej faktury.",
            )
        if any(invoice.corrects == corrected and invoice.code == 200 for invoice in self.invoices.values()):
            return self._error(
                21166,
                "Korekta techniczna niedostępna.",
                "Faktura posiada już przetworzoną prawidłowo korektę techniczną.",
            )
        return None

    def _new_invoice(self, session, xml, received_at, file_name, invoice_hash=None):
        ordinal = len(session["invoices"]) + 1 if session else 1
        invoice = _Invoice(
            reference=self._reference("EE"),
            session=session["ref"] if session else None,
            ordinal=ordinal,
            xml=xml,
            hash=invoice_hash or sha256_b64(xml),
            file_name=file_name,
            received_at=received_at,
            code=150,
        )
        self.invoices[invoice.reference] = invoice
        if session:
            session["invoices"].append(invoice.reference)
        return invoice

    def _judge(self, invoice, *, context_nip=None):
        """Decide the invoice's final status now; readers see it once the processing delay has passed.
        Without ``context_nip`` the seller sent it in its own context."""
        errors = self.validator(invoice.xml)
        if errors:
            invoice.code, invoice.details = 450, list(errors)
            return
        root = parse_xml(invoice.xml, what="invoice")
        invoice.seller_nip = _text(root, "Podmiot1/DaneIdentyfikacyjne/NIP")
        invoice.buyer_nip = _text(root, "Podmiot2/DaneIdentyfikacyjne/NIP")
        invoice.kind = _text(root, "Fa/RodzajFaktury")
        invoice.number = _text(root, "Fa/P_2")
        invoice.issue_date = _text(root, "Fa/P_1")
        invoice.third_parties = tuple(
            (_text(third, "DaneIdentyfikacyjne/NIP", relative=True), int(_text(third, "Rola", relative=True) or 0))
            for third in root.xpath(_steps("Podmiot3"))
        )
        authorized = _text(root, "PodmiotUpowazniony/DaneIdentyfikacyjne/NIP")
        invoice.authorized = (authorized, int(_text(root, "PodmiotUpowazniony/RolaPU") or 1)) if authorized else None
        invoice.summary = _summary(root)
        if context_nip and invoice.seller_nip != _nip_of(context_nip):
            invoice.code = 410
            invoice.details = [
                f"The session context {context_nip} may not issue invoices of seller {invoice.seller_nip}."
            ]
            return
        original = next(
            (
                other
                for other in self.accepted()
                if (other.seller_nip, other.kind, other.number) == (invoice.seller_nip, invoice.kind, invoice.number)
            ),
            None,
        )
        if original:
            invoice.code = 440
            invoice.details = ["Duplikat faktury."]
            invoice.extensions = {
                "originalKsefNumber": original.ksef_number,
                "originalSessionReferenceNumber": original.session,
            }
            return
        invoice.code = 200
        # an invoice issued on an earlier day than it reached KSeF is recorded as offline, whatever the flag said
        invoice.offline = invoice.offline or (invoice.issue_date or "9999") < f"{invoice.received_at:%Y-%m-%d}"
        invoice.ksef_number = ksef_number(invoice.seller_nip, invoice.received_at)
        invoice.stored_at = invoice.received_at + self.processing_delay + self.storage_delay

    def _visible_code(self, invoice):
        return invoice.code if self.clock() >= invoice.received_at + self.processing_delay else 150

    def _invoice_json(self, invoice):
        code = self._visible_code(invoice)
        done = code == 200
        status = {
            "code": code,
            "description": _INVOICE_DESCRIPTIONS.get(code, ""),
            "details": invoice.details if code != 150 else [],
        }
        if code == 440:
            status["extensions"] = invoice.extensions
        acquired = invoice.received_at + self.processing_delay
        stored = invoice.stored_at if invoice.stored_at and invoice.stored_at <= self.clock() else None
        answer = {
            "ordinalNumber": invoice.ordinal,
            "referenceNumber": invoice.reference,
            "invoiceHash": invoice.hash,
            "invoiceFileName": invoice.file_name,
            "invoiceNumber": invoice.number,
            "ksefNumber": invoice.ksef_number if done else None,
            "acquisitionDate": format_datetime(acquired) if done else None,
            "invoicingDate": format_datetime(invoice.received_at),
            "permanentStorageDate": format_datetime(stored) if done and stored else None,
            "invoicingMode": "Offline" if invoice.offline else "Online",
            "status": status,
        }
        # what is not known yet is left out: open-api.json marks these nullable beside an allOf, which OpenAPI
        # 3.0.3 does not let a validator read as nullable; absent is valid under either reading
        return {name: value for name, value in answer.items() if value is not None}

    def _close_session(self, request):
        session, denied = self._own_session(request)
        if denied:
            return denied
        if session["closed_at"] is None:
            session["closed_at"] = self.clock()
        return Response(204)

    def _session_code(self, session):
        if session["code"] != 100:
            return session["code"]
        if session["closed_at"] is None:
            return 100
        invoices = [self.invoices[ref] for ref in session["invoices"]]
        if any(self._visible_code(i) == 150 for i in invoices):
            return 170 if session["type"] == "Online" else 150
        if not invoices:
            return 440
        return 200 if any(i.code == 200 for i in invoices) else 445

    def _session_status(self, request):
        session, denied = self._own_session(request)
        if denied:
            return denied
        code = self._session_code(session)
        invoices = [self.invoices[ref] for ref in session["invoices"]]
        answer = {
            "status": {"code": code, "description": _SESSION_DESCRIPTIONS.get(code, "")},
            "dateCreated": format_datetime(session["created"]),
            "dateUpdated": format_datetime(self.clock()),
            "validUntil": format_datetime(session["valid_until"]),
            "invoiceCount": len(invoices),
            "successfulInvoiceCount": sum(self._visible_code(i) == 200 for i in invoices),
            "failedInvoiceCount": sum(self._visible_code(i) not in (150, 200) for i in invoices),
        }
        if code == 200:
            if session["upo"] is None:
                session["upo"] = (self._reference("EU"), self._upo(session, [i for i in invoices if i.code == 200]))
            url, expires = self._presign(session["upo"][1], "application/xml")
            page = {"referenceNumber": session["upo"][0], "downloadUrl": url}
            answer["upo"] = {"pages": [{**page, "downloadUrlExpirationDate": format_datetime(expires)}]}
        return Response.json(answer)

    def _session_invoices(self, request):
        session, denied = self._own_session(request)
        if denied:
            return denied
        failed_only = request.path.endswith("/failed")
        invoices = [self.invoices[ref] for ref in session["invoices"]]
        if failed_only:
            invoices = [i for i in invoices if self._visible_code(i) not in (150, 200)]
        size = min(1000, max(10, int(request.arg("pageSize", 10))))
        start = int(_header(request, "x-continuation-token") or 0)
        page = invoices[start : start + size]
        answer = {"invoices": [self._invoice_json(i) for i in page]}
        if start + size < len(invoices):
            answer["continuationToken"] = str(start + size)
        return Response.json(answer)

    def _find_session_invoice(self, request):
        session, denied = self._own_session(request)
        if denied:
            return None, denied
        if "ksef" in request.params:
            invoice = next(
                (
                    self.invoices[r]
                    for r in session["invoices"]
                    if self.invoices[r].ksef_number == request.params["ksef"]
                ),
                None,
            )
        else:
            invoice = self.invoices.get(request.params["inv"])
        if invoice is None or invoice.session != session["ref"]:
            return None, self._error(21164, "Faktura o podanym identyfikatorze nie istnieje.", request.path)
        return invoice, None

    def _invoice_status(self, request):
        invoice, denied = self._find_session_invoice(request)
        return denied or Response.json(self._invoice_json(invoice))

    def _invoice_upo(self, request):
        invoice, denied = self._find_session_invoice(request)
        if denied:
            return denied
        if self._visible_code(invoice) != 200:
            return self._error(21178, "Nie znaleziono UPO dla podanych kryteriów.", invoice.reference)
        if invoice.upo is None:
            invoice.upo = self._upo(self.sessions[invoice.session], [invoice])
        return Response.xml(invoice.upo, headers={"x-ms-meta-hash": sha256_b64(invoice.upo)})

    def _session_upo(self, request):
        session, denied = self._own_session(request)
        if denied:
            return denied
        if not session["upo"] or session["upo"][0] != request.params["upo"]:
            return self._error(21178, "Nie znaleziono UPO dla podanych kryteriów.", request.params["upo"])
        return Response.xml(session["upo"][1], headers={"x-ms-meta-hash": sha256_b64(session["upo"][1])})

    def _upo(self, session, invoices):
        root = etree.Element(f"{{{UPO_NAMESPACE}}}Potwierdzenie", nsmap={None: UPO_NAMESPACE})

        def add(parent, name, text=None):
            child = etree.SubElement(parent, f"{{{UPO_NAMESPACE}}}{name}")
            child.text = text
            return child

        add(root, "NazwaPodmiotuPrzyjmujacego", "Ministerstwo Finansów - symulator KSeF")
        add(root, "NumerReferencyjnySesji", session["ref"])
        authentication = add(root, "Uwierzytelnienie")
        add(add(authentication, "IdKontekstu"), "Nip", session["nip"])
        add(authentication, "SkrotDokumentuUwierzytelniajacego", sha256_b64(session["ref"].encode()))
        description = add(root, "OpisPotwierdzenia")
        for name, value in (
            ("Strona", 1),
            ("LiczbaStron", 1),
            ("ZakresDokumentowOd", 1),
            ("ZakresDokumentowDo", len(invoices)),
            ("CalkowitaLiczbaDokumentow", len(invoices)),
        ):
            add(description, name, str(value))
        add(root, "NazwaStrukturyLogicznej", "Schemat_FA(3)_v1-0E.xsd")
        add(root, "KodFormularza", "FA (3)")
        for invoice in invoices:
            document = add(root, "Dokument")
            add(document, "NipSprzedawcy", invoice.seller_nip)
            add(document, "NumerKSeFDokumentu", invoice.ksef_number)
            add(document, "NumerFaktury", invoice.number)
            add(document, "DataWystawieniaFaktury", invoice.issue_date)
            add(document, "DataPrzeslaniaDokumentu", format_datetime(invoice.received_at))
            add(document, "DataNadaniaNumeruKSeF", format_datetime(invoice.received_at + self.processing_delay))
            add(document, "SkrotDokumentu", invoice.hash)
            add(document, "TrybWysylki", "Offline" if invoice.offline else "Online")
        unsigned = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        return sign_enveloped(unsigned, self.upo_signer, signing_time=self.clock())

    # -- batch ------------------------------------------------------------------------------------------------
    def _open_batch(self, request):
        nip, body, key, refusal = self._keyed_request(request, "InvoiceWrite")
        if refusal:
            return refusal
        batch_file = body.get("batchFile") or {}
        parts = batch_file.get("fileParts") or []
        if not parts or len(parts) > 50:
            return self._error(21405, "Błąd walidacji danych wejściowych.", "batchFile.fileParts")
        session = self._new_session("SB", "Batch", nip, key, body)
        session["batch_file"] = batch_file
        session["uploads"] = {}
        requests_ = []
        for part in parts:
            token = secrets.token_hex(16)
            self.presigned[token] = ("upload", session["ref"], int(part["ordinalNumber"]))
            requests_.append(
                {
                    "ordinalNumber": part["ordinalNumber"],
                    "method": "PUT",
                    "url": f"{self.origin}/upload/{token}",
                    "headers": {"x-ms-blob-type": "BlockBlob"},
                }
            )
        return Response.json({"referenceNumber": session["ref"], "partUploadRequests": requests_}, status=201)

    def _upload_part(self, request):
        target = self.presigned.get(request.params["token"])
        if not target or target[0] != "upload":
            return Response(403, b"AuthenticationFailed", "text/plain")
        _kind, reference, ordinal = target
        self.sessions[reference]["uploads"][ordinal] = request.body
        return Response(201)

    def _close_batch(self, request):
        session, denied = self._own_session(request)
        if denied:
            return denied
        if session["closed_at"] is not None:
            return Response(204)
        session["closed_at"] = self.clock()
        if session["code"] == 100:
            session["code"] = self._unpack_batch(session)
        return Response(204)

    def _unpack_batch(self, session):
        """Check, decrypt, join and unpack the parts; judge every invoice. The session code (100 = fine)."""
        declared = session["batch_file"]
        pieces = []
        for part in sorted(declared["fileParts"], key=lambda p: p["ordinalNumber"]):
            data = session["uploads"].get(int(part["ordinalNumber"]))
            if data is None:
                return 440
            if FileDigest.of(data) != FileDigest(part.get("fileHash"), part.get("fileSize")):
                return 405
            try:
                pieces.append(session["key"].decrypt(data))
            except ValueError:
                return 435
        archive = b"".join(pieces)
        if FileDigest.of(archive) != FileDigest(declared.get("fileHash"), declared.get("fileSize")):
            return 405
        try:
            files = _unpack(archive, declared.get("compressionType"))
        except UnsafeInputError:
            return 430
        for name, xml in files.items():
            invoice = self._new_invoice(session, xml, session["closed_at"], name)
            invoice.offline = session["offline"]
            self._judge(invoice, context_nip=session["nip"])
        return 100

    # -- incoming ---------------------------------------------------------------------------------------------
    def _hwm(self):
        """Every invoice stored at or before this moment is final; later ones may still be written."""
        now = self.clock()
        pending = [i.stored_at for i in self.accepted() if i.stored_at > now]
        return min([*pending, now + timedelta(milliseconds=1)]) - timedelta(milliseconds=1)

    def _matching(self, nip, filters, descending=False):
        """The accepted invoices ``filters`` select for context ``nip``, in the order of the chosen date (then KSeF
        number); None when the filters are invalid."""
        subject = filters.get("subjectType")
        date_range = filters.get("dateRange") or {}
        dates = {
            "Issue": lambda i: datetime.fromisoformat(i.issue_date).replace(tzinfo=timezone.utc),
            "Invoicing": lambda i: i.received_at,
            "PermanentStorage": lambda i: i.stored_at,
        }
        date_of = dates.get(date_range.get("dateType"))
        if subject not in SUBJECT_TYPES or date_of is None:
            return None
        start = parse_datetime(date_range.get("from"))
        end = parse_datetime(date_range.get("to")) or self.clock()
        if start is None or end - start > MAX_DATE_RANGE:
            return None
        if date_range.get("restrictToPermanentStorageHwmDate") and date_range["dateType"] == "PermanentStorage":
            end = min(end, self._hwm())
        nip = _nip_of(nip)
        found = [
            i
            for i in self.accepted()
            if nip in SUBJECT_TYPES[subject](i) and i.stored_at <= self.clock() and start <= date_of(i) <= end
        ]
        return sorted(found, key=lambda i: (date_of(i), i.ksef_number), reverse=descending)

    def _metadata(self, invoice):
        metadata = {
            "ksefNumber": invoice.ksef_number,
            "invoiceNumber": invoice.number,
            "issueDate": invoice.issue_date,
            "invoicingDate": format_datetime(invoice.received_at),
            "acquisitionDate": format_datetime(invoice.received_at + self.processing_delay),
            "permanentStorageDate": format_datetime(invoice.stored_at),
            "seller": {"nip": invoice.seller_nip},
            "buyer": {"identifier": {"type": "Nip", "value": invoice.buyer_nip}},
            "invoiceType": INVOICE_TYPES.get(invoice.kind, "Vat"),
            "formCode": {"systemCode": "FA (3)", "schemaVersion": "1-0E", "value": "FA"},
            "invoiceHash": invoice.hash,
            "invoicingMode": "Offline" if invoice.offline else "Online",
            **invoice.summary,
        }
        if invoice.corrects:
            metadata["hashOfCorrectedInvoice"] = invoice.corrects
        if invoice.third_parties:
            metadata["thirdSubjects"] = [
                {"identifier": {"type": "Nip", "value": nip} if nip else {"type": "None"}, "role": role}
                for nip, role in invoice.third_parties
            ]
        if invoice.authorized:
            metadata["authorizedSubject"] = {"nip": invoice.authorized[0], "role": invoice.authorized[1]}
        return metadata

    def _query_metadata(self, request):
        nip, denied = self._context(request, "InvoiceRead")
        if denied:
            return denied
        descending = request.arg("sortOrder", "Asc") == "Desc"
        found = self._matching(nip, request.json() or {}, descending)
        if found is None:
            return self._error(21405, "Błąd walidacji danych wejściowych.", "filters")
        size, offset = int(request.arg("pageSize", 10)), int(request.arg("pageOffset", 0))
        if not 10 <= size <= 250:
            return self._error(21405, "Błąd walidacji danych wejściowych.", "pageSize")
        window = found[: self.max_query_records]
        page = window[offset * size : (offset + 1) * size]
        beyond = len(found) > len(window)
        last_of_window = (offset + 1) * size >= len(window)
        answer = {
            "hasMore": (offset + 1) * size < len(window) or beyond,
            "isTruncated": beyond and last_of_window,
            "permanentStorageHwmDate": format_datetime(self._hwm()),
            "invoices": [self._metadata(i) for i in page],
        }
        return Response.json(answer)

    def _start_export(self, request):
        nip, body, key, refusal = self._keyed_request(request, "InvoiceRead")
        if refusal:
            return refusal
        filters = body.get("filters") or {}
        found = self._matching(nip, filters)
        if found is None:
            return self._error(21405, "Błąd walidacji danych wejściowych.", "filters")
        reference = self._reference("EH")
        export = {"ready_at": self.clock() + self.export_delay, "code": 415 if key is None else 200, "nip": nip}
        if key is not None:
            export["package"] = self._package(found, key, filters, body.get("compressionType"))
        self.exports[reference] = export
        return Response.json({"referenceNumber": reference}, status=201)

    def _package(self, found, key, filters, compression):
        chosen = found[: self.max_export_invoices]
        files = {f"{invoice.ksef_number}.xml": invoice.xml for invoice in chosen}
        files["_metadata.json"] = json.dumps({"invoices": [self._metadata(i) for i in chosen]}).encode()
        data = _pack(files, compression)
        extension = "tar.gz" if compression == "TarGz" else "zip"
        parts = []
        for ordinal, start in enumerate(range(0, len(data), self.export_part_bytes), 1):
            plain = data[start : start + self.export_part_bytes]
            encrypted = key.encrypt(plain)
            if self.iv_prefixed_exports:
                encrypted = key.iv + encrypted
            url, expires = self._presign(encrypted, "application/octet-stream")
            parts.append(
                {
                    "ordinalNumber": ordinal,
                    "partName": f"part-{ordinal}.{extension}.aes",
                    "method": "GET",
                    "url": url,
                    "expirationDate": format_datetime(expires),
                    "partSize": len(plain),
                    "partHash": sha256_b64(plain),
                    "encryptedPartSize": len(encrypted),
                    "encryptedPartHash": sha256_b64(encrypted),
                }
            )
        truncated = len(found) > len(chosen)
        package = {"invoiceCount": len(chosen), "size": len(data), "parts": parts, "isTruncated": truncated}
        if chosen:
            package["lastPermanentStorageDate"] = format_datetime(chosen[-1].stored_at)
        if (filters.get("dateRange") or {}).get("restrictToPermanentStorageHwmDate"):
            package["permanentStorageHwmDate"] = format_datetime(self._hwm())
        return package

    def _export_status(self, request):
        nip, denied = self._context(request)
        if denied:
            return denied
        export = self.exports.get(request.params["ref"])
        if export is None or export["nip"] != nip:  # open-api.json, GET /invoices/exports/{referenceNumber}
            return self._error(21175, "Wynik zapytania o podanym identyfikatorze nie istnieje.", request.params["ref"])
        if self.clock() < export["ready_at"]:
            return Response.json({"status": {"code": 100, "description": "Eksport w toku"}})
        answer = {
            "status": {
                "code": export["code"],
                "description": "Eksport zakończony" if export["code"] == 200 else "Błąd klucza",
            }
        }
        if export["code"] == 200:
            answer["completedDate"] = format_datetime(export["ready_at"])
            answer["package"] = export["package"]
        return Response.json(answer)

    def _presign(self, content, content_type):
        """A pre-signed address for downloading ``content`` without a token, and when it expires."""
        token = secrets.token_hex(16)
        expires = self.clock() + PRESIGNED_LIFETIME
        self.presigned[token] = ("download", content, content_type, expires)
        return f"{self.origin}/download/{token}", expires

    def _download_presigned(self, request):
        # Azure storage's answers: 403 AuthenticationFailed for an unknown or expired signature; the content's
        # SHA-256 in x-ms-meta-hash (open-api.json, InvoicePackagePart.url and UpoPageResponse.downloadUrl)
        target = self.presigned.get(request.params["token"])
        if not target or target[0] != "download" or target[3] <= self.clock():
            return Response(403, b"AuthenticationFailed", "text/plain")
        _kind, content, content_type, _expires = target
        return Response(200, content, content_type, headers={"x-ms-meta-hash": sha256_b64(content)})

    def _download_invoice(self, request):
        nip, denied = self._context(request, "InvoiceRead")
        if denied:
            return denied
        invoice = next((i for i in self.accepted() if i.ksef_number == request.params["ksef"]), None)
        if invoice is None or _nip_of(nip) not in (invoice.seller_nip, invoice.buyer_nip):
            return self._error(21164, "Faktura o podanym identyfikatorze nie istnieje.", request.params["ksef"])
        if self._visible_code(invoice) != 200:
            return self._error(21165, "Faktura została przetworzona, ale nie jest jeszcze dostępna.")
        return Response.xml(invoice.xml, headers={"x-ms-meta-hash": invoice.hash})

    def _latarnia_status(self, request):
        return Response.json({"status": self.availability, "messages": self.availability_messages})


def _pack(files, compression):
    """The package of ``files`` as the request's compressionType asks: TarGz, or Zip by default (open-api.json,
    InvoiceExportRequest.compressionType: "Obsługiwane typy: Zip oraz TarGz. Domyślna kompresja to Zip")."""
    buffer = io.BytesIO()
    if compression == "TarGz":
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for name, content in files.items():
                member = tarfile.TarInfo(name)
                member.size = len(content)
                archive.addfile(member, io.BytesIO(content))
    else:
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in files.items():
                archive.writestr(name, content)
    return buffer.getvalue()


def _unpack(data, compression, max_members=10_000):
    """The files of a batch package, by its declared compressionType (BatchFileInfo: Zip or TarGz, Zip by default);
    a package that cannot be read safely raises UnsafeInputError (session status 430)."""
    if compression != "TarGz":
        return read_zip(data, max_members=max_members, what="batch package")
    files = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive:
                if member.isdir():
                    continue
                if not member.isfile() or len(files) >= max_members or member.size > MAX_MEMBER_BYTES:
                    raise UnsafeInputError(f"The batch package holds a link, too many or too big files: {member.name}")
                files[member.name] = archive.extractfile(member).read()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise UnsafeInputError(f"The batch package is not a readable tar.gz file: {error}") from None
    return files


def _nip_of(context):
    """The NIP of a context identifier: itself, or the part before the dash of InternalId / NipVatUe."""
    return context.split("-")[0]


_INVOICE_DESCRIPTIONS = {
    150: "Trwa przetwarzanie",
    200: "Sukces",
    410: "Nieprawidłowy zakres uprawnień",
    435: "Błąd odszyfrowania pliku",
    440: "Duplikat faktury",
    450: "Błąd weryfikacji semantyki dokumentu faktury",
}
_SESSION_DESCRIPTIONS = {
    100: "Sesja otwarta",
    150: "Trwa przetwarzanie",
    170: "Sesja zamknięta",
    200: "Sesja przetworzona pomyślnie",
    405: "Błąd weryfikacji poprawności elementu paczki",
    415: "Błąd odszyfrowania klucza",
    430: "Błąd dekompresji pliku",
    435: "Błąd odszyfrowania pliku",
    440: "Sesja anulowana",
    445: "Brak poprawnych faktur",
}
