"""The one HTTP layer every platform client uses.

What it promises:

- explicit connect and read timeouts, TLS verification on, no hidden retries in the connection pool;
- transport problems come back as the typed errors below, business answers are left to the platform client;
- a request that may have changed something on the platform (an upload) is never repeated here. When its answer
  is lost it raises :class:`OutcomeUnknownError`, so the caller asks the platform what happened instead of
  sending twice;
- idempotent requests (reads) are retried with exponential backoff, honouring ``Retry-After``;
- a :class:`RateBudget` keeps a client inside the platform's published limits;
- secrets never reach logs or error texts (:func:`redact`).
"""

import email.utils
import logging
import random
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone

import requests
from requests.adapters import HTTPAdapter

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


class RateBudget:
    """At most ``calls`` requests in any ``period`` seconds; :meth:`acquire` waits for a free slot."""

    def __init__(self, calls, period, *, clock=time.monotonic, sleep=time.sleep):
        self.calls = calls
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._sent = deque()
        self._lock = threading.Lock()

    def acquire(self):
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self.period:
                    self._sent.popleft()
                if len(self._sent) < self.calls:
                    self._sent.append(now)
                    return
                wait = self.period - (now - self._sent[0])
            self._sleep(wait)


class HttpClient:
    """A base URL, a session and the rules above. Platform clients own one each."""

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
        self.session = session or self._new_session()

    @staticmethod
    def _new_session():
        session = requests.Session()
        adapter = HTTPAdapter(max_retries=0)
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
                return self._send_once(method, path, idempotent, allow_html, timeout, kwargs)
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

    def _send_once(self, method, path, idempotent, allow_html, timeout, kwargs):
        if self.budget:
            self.budget.acquire()
        where = f"{method} {self._log_path(path)}"
        try:
            response = self.session.request(
                method, self.url(path), timeout=timeout or self.timeout, verify=self.verify, **kwargs
            )
        except requests.exceptions.SSLError as error:
            raise PlatformUnavailableError(
                _(
                    "The secure connection to %(platform)s failed: %(detail)s",
                    platform=self.platform,
                    detail=redact(error),
                )
            ) from None
        except requests.exceptions.RequestException as error:
            raise self._lost_answer(error, where, idempotent) from None
        _logger.debug("%s -> %s", where, response.status_code)
        return self._check(response, where, idempotent, allow_html)

    def _lost_answer(self, error, where, idempotent):
        detail = redact(error)
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
        excerpt = _excerpt(response) or response.reason or ""
        params = {"platform": self.platform, "status": status, "detail": excerpt}
        if status in (401, 403):
            raise AuthenticationError(
                _("%(platform)s refused the credentials (HTTP %(status)s): %(detail)s", **params),
                status=status,
                detail=excerpt,
            )
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
    """True when the connection was never established, so the platform cannot have seen the request."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(error, requests.exceptions.ConnectionError):
        reason = getattr(error.args[0], "reason", None) if error.args else None
        return type(reason).__name__ in ("NewConnectionError", "ConnectTimeoutError", "NameResolutionError")
    return False


def _is_html(response):
    content_type = response.headers.get("Content-Type", "").lower()
    if "html" in content_type:
        return True
    head = response.content[:200].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _excerpt(response):
    if not response.content:
        return ""
    text = response.content[: _EXCERPT * 2].decode("utf-8", "replace")
    text = re.sub(r"<[^>]{0,200}>", " ", text) if _is_html(response) else text
    return redact(" ".join(text.split()))[:_EXCERPT]


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
]


def redact(text):
    """``text`` (anything printable) with bearer tokens, JWTs and ``secret=value`` pairs masked."""
    text = str(text)
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text
