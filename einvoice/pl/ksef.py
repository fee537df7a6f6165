"""KSeF 2.0: a thin client and the workflows over it — login, online and batch sessions, status and UPO, incoming.

Business outcomes (an invoice rejected, a duplicate, a login refused by status) come back as values or as the
documented error types; transport problems are the typed errors of :mod:`einvoice.http`. Every request to KSeF
goes through :meth:`KsefClient.request`, which keeps each endpoint inside its published limit.
"""

import base64
import codecs
import io
import json
import re
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from cryptography import x509

from ..errors import EInvoiceError
from ..http import (
    IDEMPOTENT_METHODS,
    AuthenticationError,
    HttpClient,
    InvalidRequestError,
    OutcomeUnknownError,
    RateBudget,
    RateLimitedError,
    RetryPolicy,
    Secrets,
    TransportError,
    redact,
)
from ..i18n import _
from ..xmlsafe import read_zip
from .crypto import FileDigest, SessionKey, b64, encrypt_ksef_token, public_key_id, rsa_oaep_encrypt
from .xades import auth_token_request, sign_enveloped

PLATFORM = "KSeF"
ENVIRONMENTS = {
    "test": "https://api-test.ksef.mf.gov.pl/v2",
    "demo": "https://api-demo.ksef.mf.gov.pl/v2",
    "prod": "https://api.ksef.mf.gov.pl/v2",
}
ONLINE_INVOICES_PER_HOUR = 180
# query and export date ranges: 3 months in the 2.6 documentation, 100 days from API 2.7; 90 days fits both
MAX_QUERY_WINDOW = timedelta(days=90)
MAX_RETRY_AFTER = 300.0
DEFAULT_RETRY = RetryPolicy(max_retry_after=MAX_RETRY_AFTER)
WINDOWS = (1, 60, 3600)  # seconds of the per-second, per-minute and per-hour limits

# (per second, per minute, per hour); None = that window is not limited. Pre-signed addresses have no limit.
# Session closes use the stricter of the two published versions (10/30/120 online, 10/20/60 batch).
LIMITS = {
    "auth": (60, None, None),
    "public_keys": (60, None, None),
    "online_open": (10, 30, 120),
    "online_send": (10, 30, ONLINE_INVOICES_PER_HOUR),
    "online_close": (10, 30, 120),
    "batch_open": (10, 20, 60),
    "batch_close": (10, 20, 60),
    "session_invoice": (30, 120, 1200),
    "session_invoices": (10, 20, 200),
    "session_read": (10, 120, 1200),
    "query_metadata": (8, 16, 20),
    "export_start": (8, 16, 20),
    "export_status": (10, 60, 600),
    "download": (8, 16, 64),
    "other": (10, 30, 120),  # limity-api.md "Pozostałe POST/GET /*": tokens, certificates, permissions, limits
}

KEY_FOR_TOKEN = "KsefTokenEncryption"  # noqa: S105 - a key usage name, not a secret
KEY_FOR_SESSIONS = "SymmetricKeyEncryption"
UNKNOWN_KEY = 21470


def utcnow():
    return datetime.now(timezone.utc)


def parse_datetime(value):
    """An ISO-8601 answer as an aware datetime; KSeF may send 7 fraction digits, Python reads at most 6."""
    if not value:
        return None
    value = re.sub(r"(\.\d{6})\d+", r"\1", value.strip()).replace("Z", "+00:00")
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def format_datetime(value):
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- errors ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    code: int
    description: str
    details: tuple = ()


def problems_in(data):
    """The error entries of a KSeF error answer, in either format it uses (legacy ``exception`` or Problem
    Details ``errors``); a 429 answer carries ``status`` instead."""
    if not isinstance(data, dict):
        return []
    if isinstance(data.get("exception"), dict):
        entries = data["exception"].get("exceptionDetailList") or []
        keys = ("exceptionCode", "exceptionDescription")
    elif isinstance(data.get("errors"), list):
        entries, keys = data["errors"], ("code", "description")
    elif isinstance(data.get("status"), dict):
        entries, keys = [data["status"]], ("code", "description")
    else:
        return []
    return [
        Problem(int(entry.get(keys[0]) or 0), str(entry.get(keys[1]) or ""), tuple(entry.get("details") or ()))
        for entry in entries
        if isinstance(entry, dict)
    ]


class UnexpectedAnswerError(EInvoiceError):
    """KSeF answered without a field its description requires, or with a value it does not list."""


class Answer(dict):
    """A JSON object of a KSeF answer: reading a field it lacks is an :class:`UnexpectedAnswerError` that names the
    field and the request, never a bare ``KeyError`` deep inside (optional fields are read with ``get``)."""

    def __init__(self, data, what):
        super().__init__(data)
        self.what = what

    def __missing__(self, field):
        raise UnexpectedAnswerError(
            _(
                "%(what)s answered without the field %(field)s that KSeF's description requires.",
                what=self.what,
                field=field,
            )
        )


def answer_of(response):
    """The JSON of a KSeF answer, every object an :class:`Answer`; ``{}`` for an empty body."""
    if not response.content:
        return Answer({}, "KSeF")
    request = response.request
    what = f"KSeF ({request.method} {urlsplit(request.url).path})" if request is not None else "KSeF"
    try:
        return json.loads(response.content, object_hook=lambda data: Answer(data, what))
    except ValueError:
        raise UnexpectedAnswerError(_("%(what)s answered with something that is not JSON.", what=what)) from None


class KsefRequestError(InvalidRequestError):
    """KSeF refused a request; ``problems`` holds its error codes (21470, 21165, ...)."""

    def __init__(self, message, *, problems=(), **kwargs):
        super().__init__(message, **kwargs)
        self.problems = tuple(problems)

    @property
    def codes(self):
        return {problem.code for problem in self.problems}


class KsefAuthenticationFailed(AuthenticationError):
    """KSeF ended a login with a status other than success (415 no permissions, 450 bad token, 460 certificate...)."""

    def __init__(self, message, *, code, **kwargs):
        super().__init__(message, **kwargs)
        self.code = code


class StillProcessingError(EInvoiceError):
    """KSeF has not finished yet; ask again later."""


# -- the thin client ------------------------------------------------------------------------------------------------
def windows(limit):
    """``(calls, period)`` of each limited window of a :data:`LIMITS` entry."""
    return tuple((calls, period) for calls, period in zip(limit, WINDOWS, strict=True) if calls is not None)


class WindowBudget:
    """Several sliding windows at once (per second, minute and hour), as KSeF counts them, in this process."""

    def __init__(self, windows, *, clock, sleep):
        self._budgets = [RateBudget(calls, period, clock=clock, sleep=sleep) for calls, period in windows]

    def acquire(self):
        answered = [budget.acquire() for budget in self._budgets]

        def every_window_answered():
            for done in answered:
                done()

        return every_window_answered


class KsefClient:
    """Base URL (an environment or any address), timeouts, and one rate budget per endpoint family.

    ``verify`` is True or the path of a CA bundle to trust. ``budget(family, windows)`` makes the budget of one
    family (``windows`` as :func:`windows` gives them); by default each client counts for itself
    (:class:`WindowBudget`), so clients that share a KSeF context and an IP address should share their budgets.
    """

    def __init__(
        self,
        base_url=None,
        *,
        environment="test",
        timeout=(10, 60),
        retry=DEFAULT_RETRY,
        limits=LIMITS,
        clock=time.monotonic,
        sleep=time.sleep,
        now=utcnow,
        verify=True,
        budget=None,
    ):
        self.base_url = (base_url or ENVIRONMENTS[environment]).rstrip("/")
        self.sleep = sleep
        self.now = now
        self.retry = retry
        self.secrets = Secrets()  # the tokens used, masked wherever KSeF echoes them
        common = {"platform": PLATFORM, "timeout": timeout, "retry": retry, "sleep": sleep, "verify": verify}
        budget = budget or (lambda family, limited: WindowBudget(limited, clock=clock, sleep=sleep))
        self._unlimited = HttpClient(self.base_url, secrets=self.secrets, **common)
        self._families = {
            family: HttpClient(
                self.base_url,
                **common,
                secrets=self.secrets,
                session=self._unlimited.session,
                budget=budget(family, windows(limit)),
            )
            for family, limit in limits.items()
            if limit
        }

    def request(self, family, method, path, *, token=None, idempotent=None, headers=None, **kwargs):
        """The answer to one KSeF request. ``family`` names its rate limit (see LIMITS); ``token`` is a bearer.

        A 429 is retried after its ``Retry-After`` (capped) even for requests that change something: KSeF did
        not process them.
        """
        http = self._families.get(family, self._unlimited)
        headers = {"Accept": "application/json", "X-Error-Format": "problem-details", **(headers or {})}
        if token:
            self.secrets.add(token)
            headers["Authorization"] = f"Bearer {token}"
        if idempotent is None:
            idempotent = method.upper() in IDEMPOTENT_METHODS
        captured = []
        kwargs["hooks"] = {"response": lambda response, *args, **kw: captured.append(response)}
        # the HttpClient already waits out a 429 on idempotent requests; here only the others are left
        attempts = 1 if idempotent else self.retry.attempts
        for attempt in range(1, attempts + 1):
            try:
                return http.request(method, path, idempotent=idempotent, headers=headers, **kwargs)
            except RateLimitedError as error:
                wait = error.retry_after if error.retry_after is not None else self.retry.backoff * 2**attempt
                if attempt == attempts or wait > self.retry.max_retry_after:
                    raise
                self.sleep(wait)
            except InvalidRequestError as error:
                raise _refusal(error, captured[-1] if captured else None, self.secrets) from None
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def json(self, family, method, path, **kwargs):
        return answer_of(self.request(family, method, path, **kwargs))


def _refusal(error, response, secrets=()):
    try:
        problems = problems_in(response.json()) if response is not None else []
    except ValueError:
        problems = []
    if not problems:
        return error
    # KSeF's texts may quote what it was sent (a token): what is kept for the caller is masked too
    problems = [
        Problem(p.code, redact(p.description, secrets), tuple(redact(d, secrets) for d in p.details)) for p in problems
    ]
    detail = "; ".join(f"{p.code}: {p.description} {' '.join(p.details)}".strip() for p in problems)
    return KsefRequestError(
        _(
            "%(platform)s refused the request (HTTP %(status)s): %(detail)s",
            platform=PLATFORM,
            status=error.status,
            detail=detail,
        ),
        problems=problems,
        status=error.status,
        detail=detail,
    )


def _poll(read, done, *, sleep, attempts=12, first=1.0, longest=30.0):
    """Call ``read`` until ``done(answer)``, sleeping with exponential backoff; the last answer either way."""
    delay = first
    answer = read()
    for _attempt in range(attempts):
        if done(answer):
            break
        sleep(delay)
        delay = min(longest, delay * 2)
        answer = read()
    return answer


# -- the Ministry's encryption keys ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class MinistryKey:
    certificate: x509.Certificate
    public_key_id: str
    usage: frozenset
    valid_from: datetime
    valid_to: datetime

    @property
    def public_key(self):
        return self.certificate.public_key()


class MinistryKeys:
    """The Ministry's current public keys, cached for a day and fetched again when KSeF says 21470."""

    def __init__(self, client, *, max_age=timedelta(days=1)):
        self.client = client
        self.max_age = max_age
        self._keys = []
        self._fetched = None

    def refresh(self):
        answer = self.client.json("public_keys", "GET", "/security/public-key-certificates")
        keys = []
        for entry in answer:
            certificate = x509.load_der_x509_certificate(base64.b64decode(entry["certificate"]))
            keys.append(
                MinistryKey(
                    certificate,
                    entry.get("publicKeyId") or public_key_id(certificate),
                    frozenset(entry.get("usage") or ()),
                    parse_datetime(entry["validFrom"]),
                    parse_datetime(entry["validTo"]),
                )
            )
        self._keys, self._fetched = keys, self.client.now()

    def current(self, usage):
        """The key for ``usage`` valid now; when several are, the one published last (latest ``validFrom``)."""
        if self._fetched is None or self.client.now() - self._fetched > self.max_age:
            self.refresh()
        now = self.client.now()
        candidates = [k for k in self._keys if usage in k.usage and k.valid_from <= now <= k.valid_to]
        if not candidates:
            raise EInvoiceError(_("KSeF publishes no valid public key for %(usage)s.", usage=usage))
        return max(candidates, key=lambda key: key.valid_from)

    def using(self, usage, action):
        """``action(key)``, once more with fresh keys when KSeF no longer knows the key (21470)."""
        try:
            return action(self.current(usage))
        except KsefRequestError as error:
            if UNKNOWN_KEY not in error.codes:
                raise
            self.refresh()
            return action(self.current(usage))


def _encryption(key, session_key):
    return {
        "encryptedSymmetricKey": b64(rsa_oaep_encrypt(key.public_key, session_key.key)),
        "initializationVector": b64(session_key.iv),
        "publicKeyId": key.public_key_id,
    }


# -- authentication -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    valid_until: datetime

    @classmethod
    def from_answer(cls, data):
        """A token and its expiry from ``validUntil``, or from the JWT ``exp`` claim when KSeF gives no date."""
        valid_until = parse_datetime(data.get("validUntil")) or _jwt_expiry(data["token"])
        return cls(data["token"], valid_until)

    def usable(self, now, margin=timedelta(seconds=60)):
        return now + margin < self.valid_until


def _jwt_expiry(token):
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), timezone.utc)
    except (IndexError, KeyError, TypeError, ValueError):
        raise EInvoiceError(_("KSeF returned a token without an expiry date.")) from None


AUTH_STATUS = {
    100: _("Authentication in progress."),
    200: _("Authentication succeeded."),
    415: _("The subject has no permissions in this context."),
    425: _("The authentication was revoked by the user."),
    450: _("The KSeF token is wrong, inactive or revoked, or the challenge is invalid."),
    460: _("The certificate is invalid, revoked, suspended or not trusted."),
    470: _("The authenticating person is recorded as deceased."),
    480: _("Authentication is blocked after a security incident."),
    500: _("KSeF could not finish the authentication (unknown error)."),
    550: _("KSeF cancelled the authentication."),
}


def describe(table, code, fallback, details=()):
    """Our words for status ``code`` with KSeF's own ``details`` after them (which token or certificate problem,
    e.g. "Token unieważniony"), else KSeF's description."""
    known = table.get(code)
    if not known:
        return _("KSeF status %(code)s: %(description)s", code=code, description=fallback or "")
    return f"{known} ({'; '.join(map(str, details))})" if details else known


@dataclass(frozen=True)
class Context:
    """Whose data a login opens: ``Nip``, ``InternalId`` (NIP-5 digits), ``NipVatUe`` or ``PeppolId``."""

    type: str
    value: str


def _challenge(client):
    return client.json("auth", "POST", "/auth/challenge", idempotent=True)


class KsefTokenLogin:
    """Login with a KSeF token, encrypted for the Ministry with the challenge's timestamp."""

    def __init__(self, token):
        self._token = token

    @property
    def reference_number(self):
        """The token's reference number in KSeF: the part before its first ``|``."""
        return self._token.split("|", 1)[0]

    def start(self, client, keys, context):
        client.secrets.add(self._token)

        def send(key):
            # a fresh challenge per attempt: a refused one may already be spent
            challenge = _challenge(client)
            body = {
                "challenge": challenge["challenge"],
                "contextIdentifier": {"type": context.type, "value": context.value},
                "encryptedToken": encrypt_ksef_token(key.public_key, self._token, challenge["timestampMs"]),
                "publicKeyId": key.public_key_id,
            }
            return client.json("auth", "POST", "/auth/ksef-token", json=body)

        return keys.using(KEY_FOR_TOKEN, send)


class CertificateLogin:
    """Login with a XAdES-signed ``AuthTokenRequest`` (KSeF certificate or qualified certificate, RSA or EC)."""

    def __init__(self, credentials, *, subject_type="certificateSubject"):
        self.credentials = credentials
        self.subject_type = subject_type

    def start(self, client, keys, context):
        unsigned = auth_token_request(
            _challenge(client)["challenge"], context.value, context_type=context.type, subject_type=self.subject_type
        )
        signed = sign_enveloped(unsigned, self.credentials, signing_time=client.now())
        return client.json(
            "auth",
            "POST",
            "/auth/xades-signature",
            data=signed,
            headers={"Content-Type": "application/xml"},
        )


class Authenticator:
    """Keeps a valid access token for one context (a :class:`Context`, or a NIP): login, refresh, and a fresh
    login once the refresh token (at most 7 days) runs out. Expiries come from KSeF's answers, never constants."""

    def __init__(self, client, context, login, *, keys=None, poll_attempts=12):
        self.client = client
        self.context = context if isinstance(context, Context) else Context("Nip", context)
        self.login_method = login
        self.keys = keys or MinistryKeys(client)
        self.poll_attempts = poll_attempts
        self.access = None
        self.refresh_token = None
        self.reference_number = None

    def access_token(self):
        now = self.client.now()
        if self.access and self.access.usable(now):
            return self.access.value
        if self.refresh_token and self.refresh_token.usable(now):
            try:
                answer = self.client.json("auth", "POST", "/auth/token/refresh", token=self.refresh_token.value)
                self.access = Token.from_answer(answer["accessToken"])
                return self.access.value
            except (AuthenticationError, KsefRequestError):
                # revoked before its time (session ended, permissions lost): sign in again
                self.refresh_token = None
        self.login()
        return self.access.value

    def login(self):
        started = self.login_method.start(self.client, self.keys, self.context)
        self.reference_number = started["referenceNumber"]
        operation_token = started["authenticationToken"]["token"]

        def read():
            return self.client.json("auth", "GET", f"/auth/{self.reference_number}", token=operation_token)

        status = _poll(
            read, lambda s: s["status"]["code"] != 100, sleep=self.client.sleep, attempts=self.poll_attempts
        )["status"]
        code = int(status["code"])
        if code == 100:
            raise StillProcessingError(
                _("KSeF is still checking the login (%(reference)s); try again later.", reference=self.reference_number)
            )
        if code != 200:
            raise KsefAuthenticationFailed(
                _(
                    "KSeF refused the login: %(reason)s",
                    reason=describe(
                        AUTH_STATUS,
                        code,
                        " ".join([status.get("description", ""), *map(str, status.get("details") or ())]),
                        details=status.get("details"),
                    ),
                ),
                code=code,
                status=code,
            )
        # redeeming changes state (one redeem per login); a lost answer means starting a new login
        tokens = self.client.json("auth", "POST", "/auth/token/redeem", token=operation_token)
        self.access = Token.from_answer(tokens["accessToken"])
        self.refresh_token = Token.from_answer(tokens["refreshToken"])
        return self.access


# -- sessions, statuses, UPO ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FormCode:
    system_code: str
    schema_version: str
    value: str

    def as_json(self):
        return {"systemCode": self.system_code, "schemaVersion": self.schema_version, "value": self.value}


FA3 = FormCode("FA (3)", "1-0E", "FA")

PENDING, ACCEPTED, DUPLICATE, REJECTED, RETRY = "pending", "accepted", "duplicate", "rejected", "retry"

INVOICE_STATUS = {
    100: (PENDING, _("Accepted for processing.")),
    150: (PENDING, _("Being processed.")),
    200: (ACCEPTED, _("Accepted: KSeF number assigned.")),
    405: (REJECTED, _("Cancelled because of an error in the session.")),
    410: (REJECTED, _("The sender has no permission to issue invoices for this seller.")),
    415: (REJECTED, _("Attachments are not allowed for this seller.")),
    430: (REJECTED, _("The file failed verification.")),
    435: (REJECTED, _("The file could not be decrypted.")),
    440: (DUPLICATE, _("Duplicate: an invoice with this seller, kind and number is already in KSeF.")),
    450: (REJECTED, _("The invoice does not match the FA(3) schema or its rules.")),
    500: (RETRY, _("KSeF failed with an unknown error; the invoice can be sent again.")),
    550: (RETRY, _("Cancelled by KSeF; the invoice can be sent again.")),
}

SESSION_STATUS = {
    100: _("Session open."),
    150: _("Batch being processed."),
    170: _("Session closed; invoices being processed."),
    200: _("Session processed."),
    405: _("An element of the batch package is wrong."),
    415: _("The session key could not be decrypted."),
    420: _("The batch exceeds the invoice limit."),
    430: _("The batch package could not be decompressed."),
    435: _("A batch part could not be decrypted."),
    440: _("Session cancelled: no invoices, or the upload time ran out."),
    445: _("No valid invoices in the session."),
    500: _("KSeF failed with an unknown error."),
}


@dataclass(frozen=True)
class InvoiceStatus:
    """Where one invoice stands. For a duplicate, ``ksef_number`` is the number the original received."""

    reference_number: str
    invoice_hash: str
    code: int
    state: str
    description: str
    details: tuple = ()
    ksef_number: str = None
    invoice_number: str = None
    invoice_file_name: str = None
    ordinal_number: int = None
    acquisition_date: datetime = None
    permanent_storage_date: datetime = None
    invoicing_mode: str = None
    original_session_reference_number: str = None

    @classmethod
    def from_answer(cls, data):
        status = data.get("status") or {}
        code = int(status.get("code") or 0)
        state, description = INVOICE_STATUS.get(code, (REJECTED, None))
        extensions = status.get("extensions") or {}
        ksef_number = data.get("ksefNumber") or extensions.get("originalKsefNumber")
        return cls(
            reference_number=data.get("referenceNumber"),
            invoice_hash=data.get("invoiceHash"),
            code=code,
            state=state,
            description=description or describe({}, code, status.get("description")),
            details=tuple(status.get("details") or ()),
            ksef_number=ksef_number,
            invoice_number=data.get("invoiceNumber"),
            invoice_file_name=data.get("invoiceFileName"),
            ordinal_number=data.get("ordinalNumber"),
            acquisition_date=parse_datetime(data.get("acquisitionDate")),
            permanent_storage_date=parse_datetime(data.get("permanentStorageDate")),
            invoicing_mode=data.get("invoicingMode"),
            original_session_reference_number=extensions.get("originalSessionReferenceNumber"),
        )


@dataclass(frozen=True)
class SessionStatus:
    reference_number: str
    code: int
    description: str
    invoice_count: int
    successful_invoice_count: int
    failed_invoice_count: int
    upo_references: tuple
    valid_until: datetime = None

    @classmethod
    def from_answer(cls, reference_number, data):
        status = data.get("status") or {}
        code = int(status.get("code") or 0)
        pages = ((data.get("upo") or {}).get("pages")) or []
        return cls(
            reference_number,
            code,
            describe(SESSION_STATUS, code, status.get("description")),
            int(data.get("invoiceCount") or 0),
            int(data.get("successfulInvoiceCount") or 0),
            int(data.get("failedInvoiceCount") or 0),
            tuple(page["referenceNumber"] for page in pages),
            parse_datetime(data.get("validUntil")),
        )

    @property
    def is_processed(self):
        return self.code not in (100, 150, 170)


class Sessions:
    """Reads about sessions an authenticated context opened: statuses, invoice lists, UPO (bytes as received)."""

    def __init__(self, client, auth):
        self.client = client
        self.auth = auth

    def _get(self, family, path, **kwargs):
        return self.client.request(family, "GET", path, token=self.auth.access_token(), **kwargs)

    def status(self, session_reference):
        data = answer_of(self._get("session_read", f"/sessions/{session_reference}"))
        return SessionStatus.from_answer(session_reference, data)

    def invoice_status(self, session_reference, invoice_reference):
        data = answer_of(self._get("session_invoice", f"/sessions/{session_reference}/invoices/{invoice_reference}"))
        return InvoiceStatus.from_answer(data)

    def invoices(self, session_reference, *, failed_only=False, page_size=1000):
        """Every invoice of the session, page after page (``x-continuation-token``)."""
        path = f"/sessions/{session_reference}/invoices" + ("/failed" if failed_only else "")
        continuation = None
        while True:
            headers = {"x-continuation-token": continuation} if continuation else {}
            data = answer_of(self._get("session_invoices", path, params={"pageSize": page_size}, headers=headers))
            for entry in data.get("invoices") or []:
                yield InvoiceStatus.from_answer(entry)
            continuation = data.get("continuationToken")
            if not continuation:
                return

    def find(self, session_reference, invoice_hash):
        """The session's latest invoice with this ``invoiceHash``, or None: how a send whose answer was lost is
        found (latest, because a rejected file may have been sent again in the same session)."""
        found = None
        for invoice in self.invoices(session_reference):
            if invoice.invoice_hash == invoice_hash:
                found = invoice
        return found

    def invoice_upo(self, session_reference, invoice_reference=None, *, ksef_number=None):
        """The invoice's UPO, byte for byte as KSeF signed it."""
        which = f"ksef/{ksef_number}" if ksef_number else invoice_reference
        return self._get("session_read", f"/sessions/{session_reference}/invoices/{which}/upo").content

    def session_upo(self, session_reference):
        """The session's UPO pages (bytes as received); empty until the session is processed."""
        status = self.status(session_reference)
        return [
            self._get("session_read", f"/sessions/{session_reference}/upo/{reference}").content
            for reference in status.upo_references
        ]

    def wait(self, session_reference, *, attempts=12):
        return _poll(
            lambda: self.status(session_reference), lambda s: s.is_processed, sleep=self.client.sleep, attempts=attempts
        )


@dataclass(frozen=True)
class SentInvoice:
    """An invoice KSeF took: keep all of it with the attempt. ``recovered`` says the answer was lost and the
    invoice was found in the session by its hash."""

    session_reference: str
    reference_number: str
    invoice_hash: str
    recovered: bool = False


class OnlineSession:
    """One interactive session: a fresh AES key wrapped for the Ministry, invoices sent one by one, then close."""

    def __init__(self, client, auth, reference_number, session_key, valid_until):
        self.client = client
        self.auth = auth
        self.reference_number = reference_number
        self.valid_until = valid_until
        self._key = session_key
        self.sessions = Sessions(client, auth)

    @classmethod
    def open(cls, client, auth, *, form=FA3):
        session_key = SessionKey.generate()

        def open_with(encryption):
            body = {"formCode": form.as_json(), "encryption": encryption}
            return client.json("online_open", "POST", "/sessions/online", token=auth.access_token(), json=body)

        answer = auth.keys.using(KEY_FOR_SESSIONS, lambda key: open_with(_encryption(key, session_key)))
        return cls(client, auth, answer["referenceNumber"], session_key, parse_datetime(answer.get("validUntil")))

    def send(self, xml, *, offline_mode=False, hash_of_corrected_invoice=None):
        """Send the exact bytes ``xml``. A lost answer is resolved through the session's invoice list by hash; the
        invoice is never sent twice. When it cannot be found there, :class:`OutcomeUnknownError` stays raised."""
        _check_sendable(xml)
        encrypted = self._key.encrypt(xml)
        plain, sealed = FileDigest.of(xml), FileDigest.of(encrypted)
        body = {
            "invoiceHash": plain.hash,
            "invoiceSize": plain.size,
            "encryptedInvoiceHash": sealed.hash,
            "encryptedInvoiceSize": sealed.size,
            "encryptedInvoiceContent": b64(encrypted),
            "offlineMode": offline_mode,
        }
        if hash_of_corrected_invoice:
            body["hashOfCorrectedInvoice"] = hash_of_corrected_invoice
        try:
            answer = self.client.json(
                "online_send",
                "POST",
                f"/sessions/online/{self.reference_number}/invoices",
                token=self.auth.access_token(),
                json=body,
            )
        except OutcomeUnknownError as lost:
            try:
                found = self.sessions.find(self.reference_number, plain.hash)
            except TransportError:  # KSeF cannot say yet: the invoice may be there, so the outcome stays unknown
                raise lost from None
            if found is None:
                raise
            return SentInvoice(self.reference_number, found.reference_number, plain.hash, recovered=True)
        return SentInvoice(self.reference_number, answer["referenceNumber"], plain.hash)

    def close(self):
        self.client.request(
            "online_close", "POST", f"/sessions/online/{self.reference_number}/close", token=self.auth.access_token()
        )


MAX_ONLINE_INVOICE_BYTES = 1_000_000


def _check_sendable(xml):
    """Refuse before sending what KSeF refuses anyway: a byte-order mark, or more than 1 MB online."""
    if xml.startswith(codecs.BOM_UTF8):
        raise EInvoiceError(_("The invoice starts with a byte-order mark, which KSeF does not accept."))
    if len(xml) > MAX_ONLINE_INVOICE_BYTES:
        raise EInvoiceError(
            _(
                "The invoice is %(size)s bytes; KSeF accepts at most %(limit)s bytes in an online session.",
                size=len(xml),
                limit=MAX_ONLINE_INVOICE_BYTES,
            )
        )


def choose_session(queue_size, *, sent_this_hour=0, online_quota=ONLINE_INVOICES_PER_HOUR):
    """``"online"`` while the hour's online quota can carry the queue, else ``"batch"``."""
    return "online" if queue_size <= online_quota - sent_this_hour else "batch"


MAX_PART_BYTES = 100_000_000


@dataclass(frozen=True)
class BatchResult:
    """The invoices of a processed batch, by ``invoiceHash``; ``missing`` lists hashes KSeF did not report."""

    session: SessionStatus
    by_hash: dict
    missing: tuple


class BatchSession:
    """A ZIP of invoices, split into parts, each part encrypted and uploaded to its pre-signed address."""

    def __init__(self, client, auth, reference_number, hashes):
        self.client = client
        self.auth = auth
        self.reference_number = reference_number
        self.hashes = hashes
        self.sessions = Sessions(client, auth)

    @staticmethod
    def package(documents):
        """``(zip bytes, {invoiceHash: file name})`` for the XML ``documents`` (bytes each, sent unchanged)."""
        buffer = io.BytesIO()
        hashes = {}
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for ordinal, xml in enumerate(documents, 1):
                name = f"invoice-{ordinal:05d}.xml"
                archive.writestr(name, xml)
                hashes[FileDigest.of(xml).hash] = name
        return buffer.getvalue(), hashes

    @classmethod
    def send(cls, client, auth, documents, *, form=FA3, offline_mode=False, part_size=MAX_PART_BYTES):
        """Open, upload every part, close; the returned session is then processed by KSeF."""
        archive, hashes = cls.package(documents)
        session_key = SessionKey.generate()
        parts = [session_key.encrypt(archive[i : i + part_size]) for i in range(0, len(archive), part_size)]
        whole = FileDigest.of(archive)
        batch_file = {
            "fileSize": whole.size,
            "fileHash": whole.hash,
            "fileParts": [
                {"ordinalNumber": n, "fileSize": len(part), "fileHash": FileDigest.of(part).hash}
                for n, part in enumerate(parts, 1)
            ],
        }

        def open_with(key):
            body = {
                "formCode": form.as_json(),
                "batchFile": batch_file,
                "encryption": _encryption(key, session_key),
                "offlineMode": offline_mode,
            }
            return client.json("batch_open", "POST", "/sessions/batch", token=auth.access_token(), json=body)

        answer = auth.keys.using(KEY_FOR_SESSIONS, open_with)
        session = cls(client, auth, answer["referenceNumber"], hashes)
        for upload in answer["partUploadRequests"]:
            # pre-signed address: no bearer token; the same bytes again are harmless, so it may be retried
            client.request(
                "presigned",
                upload.get("method", "PUT"),
                upload["url"],
                data=parts[int(upload["ordinalNumber"]) - 1],
                headers=dict(upload.get("headers") or {}),
                idempotent=True,
            )
        client.request(
            "batch_close", "POST", f"/sessions/batch/{session.reference_number}/close", token=auth.access_token()
        )
        return session

    def results(self, *, attempts=12):
        """Wait for processing and map every invoice back by hash."""
        status = self.sessions.wait(self.reference_number, attempts=attempts)
        if not status.is_processed:
            raise StillProcessingError(
                _("KSeF is still processing batch %(reference)s.", reference=self.reference_number)
            )
        by_hash = {i.invoice_hash: i for i in self.sessions.invoices(self.reference_number) if i.invoice_hash}
        missing = tuple(h for h in self.hashes if h not in by_hash)
        return BatchResult(status, {h: by_hash[h] for h in self.hashes if h in by_hash}, missing)


# -- incoming -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InvoiceMetadata:
    ksef_number: str
    invoice_number: str
    seller_nip: str
    permanent_storage_date: datetime
    invoice_hash: str
    raw: dict = field(repr=False, compare=False)

    @classmethod
    def from_answer(cls, data):
        return cls(
            data["ksefNumber"],
            data.get("invoiceNumber"),
            (data.get("seller") or {}).get("nip"),
            parse_datetime(data.get("permanentStorageDate")),
            data.get("invoiceHash"),
            data,
        )


@dataclass(frozen=True)
class SyncResult:
    """Invoices found in one run: ``{ksefNumber: xml bytes}``, their metadata, and where the next run starts."""

    invoices: dict
    metadata: tuple
    next_from: datetime


class Incoming:
    """Invoices of the context (as buyer by default) on the permanent-storage date, within the 20/h and 64/h limits."""

    def __init__(self, client, auth, *, subject_type="Subject2"):
        self.client = client
        self.auth = auth
        self.subject_type = subject_type

    def _filters(self, date_from, date_to, restrict_to_hwm):
        date_range = {"dateType": "PermanentStorage", "from": format_datetime(date_from)}
        if date_to:
            date_range["to"] = format_datetime(date_to)
        if restrict_to_hwm:
            date_range["restrictToPermanentStorageHwmDate"] = True
        return {"subjectType": self.subject_type, "dateRange": date_range}

    def metadata(self, date_from, date_to=None, *, page_size=250, restrict_to_hwm=False):
        """Invoice metadata ascending by storage date, each KSeF number once, asked in windows KSeF accepts."""
        end = date_to or self.client.now()
        seen = set()
        while True:
            window_end = min(end, date_from + MAX_QUERY_WINDOW)
            yield from self._metadata_window(date_from, window_end, page_size, restrict_to_hwm, seen)
            if window_end >= end:
                return
            date_from = window_end

    def _metadata_window(self, date_from, date_to, page_size, restrict_to_hwm, seen):
        """Pages on ``pageOffset``; when KSeF truncates a filter set (10 000 records) the window restarts at the
        last record's date, and the overlap is dropped through ``seen``."""
        offset = 0
        while True:
            data = self.client.json(
                "query_metadata",
                "POST",
                "/invoices/query/metadata",
                token=self.auth.access_token(),
                params={"pageOffset": offset, "pageSize": page_size, "sortOrder": "Asc"},
                json=self._filters(date_from, date_to, restrict_to_hwm),
                idempotent=True,
            )
            page = [InvoiceMetadata.from_answer(entry) for entry in data.get("invoices") or []]
            for entry in page:
                if entry.ksef_number not in seen:
                    seen.add(entry.ksef_number)
                    yield entry
            if not data.get("hasMore"):
                return
            if data.get("isTruncated") and page:
                date_from, offset = page[-1].permanent_storage_date, 0
            else:
                offset += 1

    def download(self, ksef_number):
        """The invoice XML exactly as stored in KSeF."""
        return self.client.request(
            "download",
            "GET",
            f"/invoices/ksef/{ksef_number}",
            token=self.auth.access_token(),
            headers={"Accept": "application/xml"},
        ).content

    def export(self, date_from, date_to=None, *, attempts=12):
        """One export package from ``date_from`` up to the high-water mark (or ``date_to`` when earlier):
        ``(SyncResult, is_truncated)``."""
        session_key = SessionKey.generate()
        filters = self._filters(date_from, date_to, True)

        def start(key):
            body = {"encryption": _encryption(key, session_key), "filters": filters, "onlyMetadata": False}
            return self.client.json(
                "export_start", "POST", "/invoices/exports", token=self.auth.access_token(), json=body
            )

        reference = self.auth.keys.using(KEY_FOR_SESSIONS, start)["referenceNumber"]

        def read():
            return self.client.json(
                "export_status", "GET", f"/invoices/exports/{reference}", token=self.auth.access_token()
            )

        answer = _poll(read, lambda a: a["status"]["code"] != 100, sleep=self.client.sleep, attempts=attempts)
        code = int(answer["status"]["code"])
        if code == 100:
            raise StillProcessingError(_("KSeF is still preparing export %(reference)s.", reference=reference))
        if code != 200:
            raise EInvoiceError(
                _(
                    "KSeF could not prepare export %(reference)s: %(reason)s",
                    reference=reference,
                    reason=describe({}, code, answer["status"].get("description")),
                )
            )
        package = answer["package"]
        archive = b"".join(
            self._part(session_key, part) for part in sorted(package["parts"], key=lambda p: p["ordinalNumber"])
        )
        files = read_zip(archive, what=_("KSeF export package")) if archive else {}
        listed = json.loads(files.pop("_metadata.json", b'{"invoices": []}'))["invoices"]
        metadata = tuple(InvoiceMetadata.from_answer(entry) for entry in listed)
        invoices = {name[: -len(".xml")]: content for name, content in files.items() if name.endswith(".xml")}
        truncated = bool(package.get("isTruncated"))
        if truncated:
            next_from = parse_datetime(package.get("lastPermanentStorageDate"))
        else:
            ends = [parse_datetime(package.get("permanentStorageHwmDate")), date_to]
            next_from = min((end for end in ends if end), default=None)
        return SyncResult(invoices, metadata, next_from or date_from), truncated

    def _part(self, session_key, part):
        encrypted = self.client.request("presigned", part.get("method", "GET"), part["url"]).content
        if FileDigest.of(encrypted).hash != part["encryptedPartHash"]:
            raise EInvoiceError(_("A part of the KSeF export package is damaged (hash mismatch)."))
        plain = session_key.decrypt_matching(encrypted, part["partHash"])
        if FileDigest.of(plain).hash != part["partHash"]:
            raise EInvoiceError(_("A part of the KSeF export package is damaged (hash mismatch)."))
        return plain


class HighWaterMarkSync:
    """Incremental sync: exports from the last high-water mark, following truncated packages, until the mark.
    Store ``SyncResult.next_from`` and pass it to the next run; nothing at or below it can still appear."""

    def __init__(self, incoming, *, max_packages=20):
        self.incoming = incoming
        self.max_packages = max_packages

    def run(self, since):
        invoices, metadata = {}, {}
        date_from = since
        for _package in range(self.max_packages):
            window_end = date_from + MAX_QUERY_WINDOW
            date_to = window_end if window_end < self.incoming.client.now() else None
            result, truncated = self.incoming.export(date_from, date_to)
            invoices.update(result.invoices)
            metadata.update((m.ksef_number, m) for m in result.metadata)
            date_from = result.next_from
            if not truncated and date_to is None:
                break
        return SyncResult(invoices, tuple(metadata.values()), date_from)
