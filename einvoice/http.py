"""The one HTTP layer every platform client uses.

What it promises:

- explicit connect and read timeouts, TLS verification on, no hidden retries in the connection pool;
- transport problems come back as the typed errors below, business answers are left to the platform client;
- a request that may have changed something on the platform (an upload) is never repeated here. When its answer
  is lost it raises :class:`OutcomeUnknownError`, so the caller asks the platform what happened instead of
  sending twice. Only a failure before the request left (name resolution, connection, TLS handshake and
  certificate check) means that it did not take effect; after that, a TLS error too leaves the outcome unknown;
- idempotent requests (reads) are retried with exponential backoff, honouring ``Retry-After``;
- a :class:`RateBudget` keeps a client inside the platform's published limits;
- secrets never reach logs or error texts (:func:`redact`).
"""

import email.utils
import http.client
import logging
import random
import re
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError

from . import __version__
from .errors import EInvoiceError
from .i18n import _

_logger = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_EXCERPT = 300


class TransportError(EInvoiceError):
    """The platform could not be talked to as expected. ``status`` is the HTTP status when there was one."""

    def __init__(self, message, *, status=None, detail=None):
        super().__init__(message)
        self.status = status
        self.detail = detail


class AuthenticationError(TransportError):
    """Credentials missing, expired, revoked or without rights (HTTP 401/403)."""


class RateLimitedError(TransportError):
    """The platform asked us to slow down; ``retry_after`` is in seconds when it said so."""

    def __init__(self, message, *, retry_after=None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InvalidRequestError(TransportError):
    """The platform refused the request as malformed or not allowed (4xx other than the above)."""


class PlatformUnavailableError(TransportError):
    """The platform could not be reached or did not work; the request did not take effect."""


class OutcomeUnknownError(TransportError):
    """A request that changes state was sent, but its answer was lost: ask the platform before acting again."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    backoff: float = 1.0
    max_backoff: float = 30.0
    max_retry_after: float = 120.0


def counted_period(period):
    """The window a client counts a platform's ``period`` in: a little longer, for the two clocks' difference."""
    return period * 1.02 + 0.1


# a call this close to the end of its window has left it: after a budget's wait, rounding of the clock's seconds
# (a float that far from the epoch moves in steps of 0.2 µs) must not leave the call a hair inside, waited for again
LEFT_WINDOW = 1e-3
# how long a budget whose window is full of calls still in flight waits before it looks again
IN_FLIGHT_POLL = 0.05


def next_room(finished, in_flight, calls, period, now):
    """How long to wait until a window holding calls ``finished`` at these moments (oldest first) and ``in_flight``
    calls without an answer yet has room for one more of ``calls``, or None when it has room now."""
    leaving = len(finished) + in_flight - calls + 1  # the calls that must leave the window first
    if leaving <= 0:
        return None
    if leaving > len(finished):
        return IN_FLIGHT_POLL  # calls in flight fill it: they leave only once answered
    return max(finished[leaving - 1] + period - now, LEFT_WINDOW)


class RateBudget:
    """At most ``calls`` requests in any ``period`` seconds (counted as :func:`counted_period`) in this process;
    the Odoo add-ons share theirs through the database.

    :meth:`acquire` waits for room and returns the function to call once the answer is in. A call counts from
    then: the platform counted it when it arrived, some time between our sending it and its answer, so counting
    from the answer never lets a call fall in a window the platform still counts full, however slow the way there
    (a call counted from its sending may reach the platform late, in the next window by our count but not by
    theirs). Until it is answered, it counts as made now.
    """

    def __init__(self, calls, period, *, clock=time.monotonic, sleep=time.sleep):
        self.calls = calls
        self.period = counted_period(period)
        self._clock = clock
        self._sleep = sleep
        self._answered = deque()  # when the calls in the window were answered, oldest first
        self._in_flight = 0
        self._lock = threading.Lock()

    def acquire(self):
        while True:
            with self._lock:
                now = self._clock()
                while self._answered and self._answered[0] <= now + LEFT_WINDOW - self.period:
                    self._answered.popleft()
                wait = next_room(self._answered, self._in_flight, self.calls, self.period, now)
                if wait is None:
                    self._in_flight += 1
                    return self._answer_in
            self._sleep(wait)

    def _answer_in(self):
        with self._lock:
            self._in_flight -= 1
            now = self._clock()
            # answers come back in almost the order they were sent: the few out of order are put in their place
            position = len(self._answered)
            while position and self._answered[position - 1] > now:
                position -= 1
            self._answered.insert(position, now)


class Secrets:
    """Secret values a client holds (tokens, client secrets), masked by :func:`redact` wherever a platform echoes
    them. Tokens are renewed all the time, so only the latest ``keep`` are remembered."""

    def __init__(self, keep=32):
        self.keep = keep
        self._values = {}
        self._lock = threading.Lock()

    def add(self, value):
        if not isinstance(value, str) or len(value) < _MIN_SECRET:
            return
        with self._lock:
            self._values.pop(value, None)
            self._values[value] = None
            while len(self._values) > self.keep:
                del self._values[next(iter(self._values))]

    def __iter__(self):
        with self._lock:
            return iter(list(self._values))


class _Progress(threading.local):
    """How far the request being made in this thread got: ``reached`` once one of our connections took it,
    ``sent`` once its first byte was handed to the socket."""

    reached = False
    sent = False


_progress = _Progress()


class _RecordingConnection:
    """Mixed into urllib3's connections to record in :data:`_progress` when the request itself starts to leave.

    No exception type tells a failure before sending from one after: a reset during the TLS handshake and a reset
    after the request are both ``ConnectionError``, and a broken handshake and bytes that are not TLS arriving
    in place of the answer are both ``SSLError``. Only the first may be taken as "the platform never saw it".
    """

    _connecting = False

    def connect(self):
        _progress.reached = True
        self._connecting = True
        try:
            return super().connect()
        finally:
            self._connecting = False

    def send(self, data):
        _progress.reached = True
        if self.sock is None:  # http.client connects on the first send; failing to connect sends nothing
            self.connect()
        if not self._connecting:  # a proxy's CONNECT goes out while connecting: it is not the request
            _progress.sent = True
        return super().send(data)


class _RecordingHTTPConnection(_RecordingConnection, HTTPConnection):
    pass


class _RecordingHTTPSConnection(_RecordingConnection, HTTPSConnection):
    pass


class _RecordingHTTPPool(HTTPConnectionPool):
    ConnectionCls = _RecordingHTTPConnection


class _RecordingHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _RecordingHTTPSConnection


class _RecordingAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _RecordingHTTPPool, "https": _RecordingHTTPSPool}


class HttpClient:
    """A base URL, a session and the rules above. Platform clients own one each.

    ``verify`` is True or the path of a CA bundle; ``secrets`` (a :class:`Secrets`) holds the values masked in
    error texts, shared by the clients of one platform client.
    """

    def __init__(
        self,
        base_url,
        *,
        platform,
        timeout=(10, 60),
        verify=True,
        retry=RetryPolicy(),
        budget=None,
        session=None,
        sleep=time.sleep,
        secrets=None,
    ):
        if verify is False:
            raise ValueError("TLS verification cannot be switched off; pass a CA bundle path instead")
        self.base_url = base_url.rstrip("/")
        self.platform = platform
        self.timeout = timeout
        self.verify = verify
        self.retry = retry
        self.budget = budget
        self._sleep = sleep
        self.secrets = secrets if secrets is not None else Secrets()
        self.session = session or self._new_session()

    @staticmethod
    def _new_session():
        session = requests.Session()
        adapter = _RecordingAdapter(max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["User-Agent"] = f"einvoice/{__version__}"
        return session

    def url(self, path):
        return path if "://" in path else f"{self.base_url}/{path.lstrip('/')}"

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def request(self, method, path, *, idempotent=None, allow_html=False, timeout=None, **kwargs):
        """Send one request and return the :class:`requests.Response` of a 2xx answer.

        ``idempotent`` defaults to true for GET/HEAD/OPTIONS; say ``True`` for a POST that only reads.
        ``allow_html`` accepts an HTML answer (OAuth pages); otherwise HTML means a firewall or maintenance page.
        Other keyword arguments go to :meth:`requests.Session.request`.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        kwargs.setdefault("allow_redirects", idempotent)
        attempts = self.retry.attempts if idempotent else 1
        for attempt in range(1, attempts + 1):
            try:
                return self._budgeted(method, path, idempotent, allow_html, timeout, kwargs)
            except (PlatformUnavailableError, RateLimitedError) as error:
                delay = self._retry_delay(error, attempt, attempts)
                if delay is None:
                    raise
                _logger.info("%s %s: %s; retry %s in %.1fs", method, self._log_path(path), error, attempt, delay)
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _retry_delay(self, error, attempt, attempts):
        if attempt >= attempts:
            return None
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.retry.max_retry_after else None
        backoff = min(self.retry.max_backoff, self.retry.backoff * 2 ** (attempt - 1))
        return backoff * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography

    def _budgeted(self, *request):
        """One request, counted by the budget from when it may go until its answer is in (see :class:`RateBudget`)."""
        answered = self.budget.acquire() if self.budget else None
        try:
            return self._send_once(*request)
        finally:
            if answered:
                answered()

    def _send_once(self, method, path, idempotent, allow_html, timeout, kwargs):
        where = f"{method} {self._log_path(path)}"
        _progress.reached = _progress.sent = False
        try:
            response = self.session.request(
                method, self.url(path), timeout=timeout or self.timeout, verify=self.verify, **kwargs
            )
            missing = None if kwargs.get("stream") else _cut_short(response)
            if missing:
                # urllib3 1.26 hands over a body shorter than its Content-Length as if it were whole (a TLS
                # connection closed without close_notify ends like a complete one); urllib3 2 raises this
                raise requests.exceptions.ChunkedEncodingError(missing)
        except requests.exceptions.SSLError as error:
            detail = _describe_failure(error, self.url(path), self.secrets)
            if not idempotent and not _never_sent(error):  # TLS broke after the request left: it may have worked
                raise self._outcome_unknown(where, detail) from None
            raise PlatformUnavailableError(
                _("The secure connection to %(platform)s failed: %(detail)s", platform=self.platform, detail=detail)
            ) from None
        except requests.exceptions.RequestException as error:
            raise self._lost_answer(error, where, idempotent, self.url(path)) from None
        _logger.debug("%s -> %s", where, response.status_code)
        return self._check(response, where, idempotent, allow_html)

    def _lost_answer(self, error, where, idempotent, url):
        detail = _describe_failure(error, url, self.secrets)
        if _never_sent(error):
            return PlatformUnavailableError(
                _(
                    "%(platform)s cannot be reached (%(where)s): %(detail)s",
                    platform=self.platform,
                    where=where,
                    detail=detail,
                )
            )
        if idempotent:
            return PlatformUnavailableError(
                _(
                    "%(platform)s did not answer in time (%(where)s): %(detail)s",
                    platform=self.platform,
                    where=where,
                    detail=detail,
                )
            )
        return self._outcome_unknown(where, detail)

    def _outcome_unknown(self, where, detail, status=None):
        return OutcomeUnknownError(
            _(
                "The request was sent to %(platform)s but its answer was lost (%(where)s). "
                "It will be checked with %(platform)s before anything is sent again.",
                platform=self.platform,
                where=where,
            ),
            status=status,
            detail=detail,
        )

    def _check(self, response, where, idempotent, allow_html):
        status = response.status_code
        excerpt = _excerpt(response, self.secrets) or response.reason or ""
        params = {"platform": self.platform, "status": status, "detail": excerpt}
        if status in (401, 403):
            params["detail"] = _json_reason(response) or excerpt
            if status == 401:
                refusal = _(
                    "%(platform)s refused the credentials (HTTP %(status)s: %(detail)s): they are missing, wrong "
                    "or expired; sign in again.",
                    **params,
                )
            else:
                refusal = _(
                    "%(platform)s refused the request (HTTP %(status)s: %(detail)s): the credentials do not allow it.",
                    **params,
                )
            raise AuthenticationError(refusal, status=status, detail=excerpt)
        if status == 429:
            raise RateLimitedError(
                _("%(platform)s asks to slow down (HTTP 429).", platform=self.platform),
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                status=status,
                detail=excerpt,
            )
        if status >= 500 or 300 <= status < 400 or (not allow_html and _is_html(response)):
            if not idempotent:
                raise self._outcome_unknown(where, excerpt, status)
            if status < 300:
                message = _(
                    "%(platform)s answered with a web page instead of data (maintenance or firewall).", **params
                )
            elif status < 400:
                message = _("%(platform)s redirected the request (HTTP %(status)s) instead of answering it.", **params)
            else:
                message = _("%(platform)s is not working right now (HTTP %(status)s): %(detail)s", **params)
            raise PlatformUnavailableError(message, status=status, detail=excerpt)
        if status >= 400:
            raise InvalidRequestError(
                _("%(platform)s refused the request (HTTP %(status)s): %(detail)s", **params),
                status=status,
                detail=excerpt,
            )
        return response

    @staticmethod
    def _log_path(path):
        return path.split("?", 1)[0]


def _never_sent(error):
    """True when the platform cannot have seen the request: connecting (DNS, TCP, the TLS handshake with its
    certificate check) failed before the first byte of the request left. Our connections record that; with
    another session's connections only the errors that can come from connecting alone count."""
    if _progress.reached:
        return not _progress.sent
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(error, requests.exceptions.ConnectionError):
        reason = getattr(error.args[0], "reason", None) if error.args else None
        return type(reason).__name__ in ("NewConnectionError", "ConnectTimeoutError", "NameResolutionError")
    return False


def _describe_failure(error, url, secrets=()):
    """What went wrong with a request to ``url`` in words, without the HTTP libraries' internals (connection
    pools, object addresses): "http://127.0.0.1:8080 refused the connection"."""
    parts = urlsplit(url)
    address = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    causes = _causes(error)

    def found(*types):
        return next((cause for cause in causes if isinstance(cause, types)), None)

    certificate = found(ssl.SSLCertVerificationError)
    if certificate:
        reason = certificate.verify_message or _ssl_reason(certificate)
        return _("%(address)s: its certificate cannot be verified (%(reason)s)", address=address, reason=reason)
    broken_tls = found(ssl.SSLError)
    if broken_tls:
        reason = _ssl_reason(broken_tls)
        return _("%(address)s: the secure connection broke (%(reason)s)", address=address, reason=reason)
    if found(socket.gaierror):
        return _("%(address)s cannot be found: its host name does not resolve", address=address)
    if found(ConnectionRefusedError):
        return _("%(address)s refused the connection", address=address)
    if found(requests.exceptions.ConnectTimeout, ConnectTimeoutError):
        return _("%(address)s did not accept the connection in time", address=address)
    if found(requests.exceptions.ReadTimeout, TimeoutError):
        return _("%(address)s did not answer in time", address=address)
    if found(http.client.RemoteDisconnected):
        return _("%(address)s closed the connection without answering", address=address)
    if found(requests.exceptions.ChunkedEncodingError, http.client.IncompleteRead):
        return _("%(address)s sent an incomplete answer", address=address)
    if found(ConnectionResetError, ConnectionAbortedError):
        return _("%(address)s broke off the connection", address=address)
    system = next((cause for cause in reversed(causes) if isinstance(cause, OSError) and cause.strerror), None)
    reason = system.strerror if system else _INTERNALS.sub("", str(error))
    return _("%(address)s: %(reason)s", address=address, reason=redact(reason, secrets))


# what urllib3 writes into its texts: "<urllib3.connection.HTTPSConnection object at 0x7f...>: " and
# "HTTPSConnectionPool(host='h', port=443): "
_INTERNALS = re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>:?\s*|\w*Pool\(host=[^)]*\):\s*")


def _causes(error):
    """``error`` and every exception it wraps (in ``args``, ``reason``, ``__cause__``, ``__context__``), outermost
    first."""
    found, pending = [], [error]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or any(current is seen for seen in found):
            continue
        found.append(current)
        pending.extend([*current.args, getattr(current, "reason", None), current.__cause__, current.__context__])
    return found


def _ssl_reason(error):
    """OpenSSL's words without its codes: "wrong version number" of "[SSL: WRONG_VERSION_NUMBER] wrong version
    number (_ssl.c:2580)"."""
    text = re.sub(r"^\[SSL: \w+\]\s*|\s*\(_ssl\.c:\d+\)$", "", error.args[1] if len(error.args) > 1 else str(error))
    return text or (error.reason or "").replace("_", " ").lower()


def _cut_short(response):
    """What is missing when the body ended before its Content-Length, else an empty text."""
    missing = getattr(response.raw, "length_remaining", None)
    if isinstance(missing, int) and missing > 0:
        return f"the answer ended {missing} bytes before its Content-Length"
    return ""


def _is_html(response):
    content_type = response.headers.get("Content-Type", "").lower()
    if "html" in content_type:
        return True
    head = response.content[:200].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _json_reason(response):
    """The words of a JSON error answer (``{"error": "Unauthorized", "message": "Token"}`` -> ``Unauthorized:
    Token``; problem details' ``title`` and ``detail`` alike), or "" when the answer is no such object."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    words = [data.get(key) for key in ("error", "title", "message", "detail", "reasonCode")]
    # KSeF's 403 names the permissions the operation needs (open-api.json: security.requiredAnyOfPermissions)
    security = data.get("security")
    needed = security.get("requiredAnyOfPermissions") if isinstance(security, dict) else None
    words.append(" | ".join(map(str, needed)) if isinstance(needed, list) else None)
    return ": ".join(dict.fromkeys(str(word) for word in words if isinstance(word, str | int) and word))[:_EXCERPT]


def _excerpt(response, secrets=()):
    if not response.content:
        return ""
    text = response.content[: _EXCERPT * 2].decode("utf-8", "replace")
    text = re.sub(r"<[^>]{0,200}>", " ", text) if _is_html(response) else text
    return redact(" ".join(text.split()), secrets)[:_EXCERPT]


def parse_retry_after(value, *, now=None):
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


_SECRET_PATTERNS = [
    (re.compile(r"(?i)(bearer\s+)[^\s\"',;]+"), r"\1***"),
    (re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*"), "***"),
    (
        re.compile(
            r"(?i)((?:access_?token|refresh_?token|authenticationToken|client_secret|password|token)"
            r"[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;}]+"
        ),
        r"\1***",
    ),
    # a long run of token characters with letters and digits is a token, a key or a hash; the platforms'
    # reference numbers (KSeF's have 36 characters, ANAF's indexes are digits) stay readable
    (re.compile(r"(?<![\w+=~-])(?=[\w+=~-]*\d)(?=[\w+=~-]*[A-Za-z])[\w+=~-]{40,}", re.ASCII), "***"),
]
_MIN_SECRET = 8  # a shorter value would mask ordinary words


def redact(text, secrets=()):
    """``text`` (anything printable) with bearer tokens, JWTs, ``secret=value`` pairs, long opaque tokens and
    every value of ``secrets`` (those the caller holds, echoed bare: "Token X is not valid") masked."""
    text = str(text)
    for secret in sorted((s for s in secrets if isinstance(s, str) and len(s) >= _MIN_SECRET), key=len, reverse=True):
        text = text.replace(secret, "***")
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text
