"""The RO e-Factura REST client (``/FCTEL/rest``): upload, status, message lists, download, validation and PDF.

Business answers come back as values (:class:`UploadResult`, :class:`StatusResult`, :class:`Download`...);
transport problems and ANAF's refusals of a request as the typed errors of :mod:`einvoice.http`. Each answer
format is parsed in its own namespace. Uploads are never repeated: when an upload's answer is lost,
:class:`UploadResolver` looks for it in the message list before anyone may send again.
"""

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from ..errors import EInvoiceError
from ..http import (
    AuthenticationError,
    HttpClient,
    InvalidRequestError,
    PlatformUnavailableError,
    RateBudget,
    RateLimitedError,
    RetryPolicy,
    Secrets,
)
from ..i18n import _
from ..xmlsafe import parse_xml, read_zip
from .oauth import API_ROOT, OAUTH_URL, PLATFORM

PUBLIC_ROOT = "https://webservicesp.anaf.ro"
ENVIRONMENTS = ("test", "prod")

NS_UPLOAD = "mfp:anaf:dgti:spv:respUploadFisier:v1"
NS_STATUS = "mfp:anaf:dgti:efactura:stareMesajFactura:v1"
NS_ERRORS = "mfp:anaf:dgti:efactura:mesajEroriFactuta:v1"  # "Factuta" is ANAF's spelling

STANDARDS = ("UBL", "CN", "CII", "RASP")
FILTERS = {"E": "ERORI FACTURA", "T": "FACTURA TRIMISA", "P": "FACTURA PRIMITA", "R": "MESAJ CUMPARATOR"}
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_LIST_DAYS = 60
RO_TIME = ZoneInfo("Europe/Bucharest")

# ANAF refuses an endTime after its own clock, and a startTime older than 60 days: keep inside both
END_BEHIND_NOW = timedelta(seconds=60)
START_INSIDE_LIMIT = timedelta(minutes=5)
SKEW_STEP = timedelta(minutes=5)

_LIMIT_TEXT = re.compile(r"S-au (?:facut|incarcat) deja \d+")
_NO_RIGHTS_TEXT = re.compile(r"Nu exista niciun CIF|Nu aveti drept in SPV")
_NO_MESSAGES_TEXT = re.compile(r"Nu exista mesaje")
_TOO_MANY_MESSAGES_TEXT = re.compile(r"Folositi endpoint-ul cu paginatie")
_END_IN_FUTURE_TEXT = re.compile(r"nu poate in viitor")
_START_TOO_OLD_TEXT = re.compile(r"nu poate fi mai vechi de 60 de zile")
_PAGE_BEYOND_TEXT = re.compile(r"Pagina solicitata \d+ este mai mare")
_ANAF_CLOCK_TEXT = re.compile(r"momentul requestului = (\d\d-\d\d-\d{4} \d\d:\d\d:\d\d)")
_EXPIRED_TEXT = re.compile(r"a trecut perioada de 60 de zile")
_NOT_FOUND_TEXT = re.compile(r"nu exista inregistrata|Nu exista factura", re.IGNORECASE)
_FORBIDDEN_TEXT = re.compile(r"Nu aveti dreptul")


# -- where ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoints:
    """Base URLs: e-Factura (OAuth), the public prod-only services (validare, transformare), OAuth, smoke test."""

    efactura: str
    public: str
    oauth: str
    api_root: str

    @classmethod
    def for_env(cls, env="test"):
        _check_env(env)
        return cls(f"{API_ROOT}/{env}/FCTEL/rest", f"{PUBLIC_ROOT}/prod/FCTEL/rest", OAUTH_URL, API_ROOT)

    @classmethod
    def at(cls, base_url, env="test"):
        """Every service under one host, as the simulator serves them."""
        _check_env(env)
        root = base_url.rstrip("/")
        return cls(f"{root}/{env}/FCTEL/rest", f"{root}/prod/FCTEL/rest", f"{root}/anaf-oauth2/v1", root)


def _check_env(env):
    if env not in ENVIRONMENTS:
        raise ValueError(f"env must be one of {ENVIRONMENTS}, not {env!r}")


# -- limits -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    """ANAF's published limits. Where sources disagree on a daily cap the lower figure is the default, so neither
    is tripped; pass other figures when ANAF changes them.
    """

    calls_per_minute: int = 1000  # the current limiteApeluriAPI; the older OAuth guide said 100
    status_per_message: int = 20  # limiteApeluriAPI says 100 a day; ANAF's own refusal text says 20
    downloads_per_message: int = 10
    lists_per_cif: int = 1000  # 1500 per CUI in limiteApeluriAPI; 1000 per user in the swagger example
    paged_lists_per_cif: int = 100_000
    rasp_uploads_per_cif: int = 1000


class MemoryUsage:
    """Daily counters kept in memory; a store backed by a database offers the same method."""

    def __init__(self):
        self._counts = {}
        self._lock = threading.Lock()

    def take(self, key, limit):
        """Count one call under ``key`` unless ``limit`` calls are counted already; whether it was counted."""
        with self._lock:
            used = self._counts.get(key, 0)
            if used >= limit:
                return False
            self._counts[key] = used + 1
            return True


class QuotaExceededError(RateLimitedError):
    """Going on would break one of ANAF's daily limits; ``retry_after`` counts to midnight in Romania."""


class DailyQuota:
    """Counts calls per ANAF day (Romanian time) and refuses the one that would go over a :class:`Limits` figure.

    ``usage`` stores the counters under keys ``(day, limit_name, subject)`` and counts a call only while under the
    limit, in one step (:meth:`MemoryUsage.take`); keep it in the database so the count survives restarts and is
    shared by every worker.
    """

    def __init__(self, limits=None, *, usage=None, clock=time.time):
        self.limits = limits or Limits()
        self.usage = usage if usage is not None else MemoryUsage()
        self._clock = clock

    def spend(self, limit_name, subject):
        now = datetime.fromtimestamp(self._clock(), RO_TIME)
        limit = getattr(self.limits, limit_name)
        key = (now.date().isoformat(), limit_name, str(subject))
        if not self.usage.take(key, limit):
            midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), RO_TIME)
            raise QuotaExceededError(
                _(
                    "ANAF allows %(limit)s calls of this kind a day for %(subject)s; the next one can go tomorrow.",
                    limit=limit,
                    subject=subject,
                ),
                retry_after=(midnight - now).total_seconds(),
            )


# -- answers ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UploadResult:
    """``accepted`` with the upload ``index`` (keep it: every later question is asked by it), or ``errors``."""

    accepted: bool
    index: str | None
    errors: tuple
    response_date: str | None
    raw: bytes = field(repr=False)


class State:
    OK = "ok"
    NOK = "nok"
    PROCESSING = "processing"
    XML_ERRORS = "xml_errors"  # refused at upload; the errors came with the upload answer
    NOT_FOUND = "not_found"
    REFUSED = "refused"  # the question itself was refused (an index of another company, not a number...)

    FINAL = frozenset({OK, NOK, XML_ERRORS})


_STARE = {"ok": State.OK, "nok": State.NOK, "in prelucrare": State.PROCESSING}


@dataclass(frozen=True)
class StatusResult:
    state: str
    download_id: str | None
    errors: tuple
    raw: bytes = field(repr=False)

    @property
    def final(self):
        return self.state in State.FINAL


@dataclass(frozen=True)
class ErrorReport:
    """ANAF's error document (``mesajEroriFactuta``), found in the download of a ``nok`` upload."""

    index: str | None
    seller_cif: str | None
    errors: tuple
    message: str | None = None


@dataclass(frozen=True)
class Message:
    """One entry of the message lists; ``id`` is the download id, ``upload_index`` the upload's index."""

    id: str
    upload_index: str | None
    cif: str | None
    kind: str
    details: str
    created: str  # yyyyMMddHHmm, Romanian time
    seller_cif: str | None
    buyer_cif: str | None
    raw: dict = field(repr=False, compare=False)

    @property
    def created_at(self):
        return datetime.strptime(self.created, "%Y%m%d%H%M").replace(tzinfo=RO_TIME)

    @classmethod
    def from_json(cls, entry):
        details = entry.get("detalii") or ""
        seller, buyer = _parties_from_details(details)
        return cls(
            id=str(entry.get("id")),
            upload_index=_text_or_none(entry.get("id_solicitare")),
            cif=_text_or_none(entry.get("cif")),
            kind=entry.get("tip") or "",
            details=details,
            created=str(entry.get("data_creare") or ""),
            # the PDF lists cif_emitent/cif_beneficiar fields; production only writes them inside detalii
            seller_cif=_text_or_none(entry.get("cif_emitent")) or seller,
            buyer_cif=_text_or_none(entry.get("cif_beneficiar")) or buyer,
            raw=entry,
        )


@dataclass(frozen=True)
class MessagePage:
    messages: tuple
    page: int
    total_pages: int
    total: int | None
    serial: str | None
    cui: str | None
    title: str | None


class DownloadState:
    OK = "ok"
    EXPIRED = "expired"  # SPV keeps files 60 days; this answer is final
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"


@dataclass(frozen=True)
class Download:
    """A ``/descarcare`` answer. ``archive`` is ANAF's ZIP byte for byte: it is the legal original, keep it."""

    state: str
    download_id: str
    archive: bytes | None = field(default=None, repr=False)
    document_name: str | None = None
    document: bytes | None = field(default=None, repr=False)
    signature_name: str | None = None
    signature: bytes | None = field(default=None, repr=False)
    error_report: ErrorReport | None = None
    message: str | None = None


@dataclass(frozen=True)
class ValidationResult:
    valid: bool
    messages: tuple
    trace_id: str | None


@dataclass(frozen=True)
class PdfResult:
    """The PDF, or the validation messages that stopped ANAF from rendering it."""

    pdf: bytes | None = field(repr=False)
    messages: tuple = ()


# -- parsing (each answer in its own namespace) ----------------------------------------------------------------
def parse_upload_answer(data):
    root = parse_xml(data, what=_("ANAF upload answer"))
    _expect(root, NS_UPLOAD, "header")
    errors = tuple(e.get("errorMessage", "") for e in root.iterfind(f"{{{NS_UPLOAD}}}Errors"))
    _raise_for_refusal(errors)
    accepted = root.get("ExecutionStatus") == "0" and not errors
    return UploadResult(accepted, root.get("index_incarcare"), errors, root.get("dateResponse"), data)


def parse_status_answer(data):
    root = parse_xml(data, what=_("ANAF status answer"))
    if root.tag == f"{{{NS_ERRORS}}}header":
        report = _error_report(root)
        return StatusResult(State.NOK, None, report.errors, data)
    _expect(root, NS_STATUS, "header")
    errors = tuple(e.get("errorMessage", "") for e in root.iterfind(f"{{{NS_STATUS}}}Errors"))
    stare = root.get("stare")
    if stare is None:
        _raise_for_refusal(errors)
        state = State.NOT_FOUND if any(_NOT_FOUND_TEXT.search(e) for e in errors) else State.REFUSED
        return StatusResult(state, None, errors, data)
    state = _STARE.get(stare.strip(), State.XML_ERRORS if stare.startswith("XML cu erori") else None)
    if state is None:
        raise PlatformUnavailableError(_("ANAF answered with an unknown state: %(state)s", state=stare))
    return StatusResult(state, root.get("id_descarcare"), errors, data)


def parse_error_report(data):
    root = parse_xml(data, what=_("ANAF error document"))
    _expect(root, NS_ERRORS, "header")
    return _error_report(root)


def _error_report(root):
    errors = tuple(e.get("errorMessage", "") for e in root.iterfind(f"{{{NS_ERRORS}}}Error"))
    return ErrorReport(root.get("Index_incarcare"), root.get("Cif_emitent"), errors, root.get("message"))


def parse_message_page(answer):
    """A page of ``listaMesajeFactura`` or ``listaMesajePaginatieFactura`` (the decoded JSON)."""
    refusal = answer.get("eroare")
    if refusal:
        if _NO_MESSAGES_TEXT.search(refusal) or _PAGE_BEYOND_TEXT.search(refusal):
            return MessagePage((), 0, 0, 0, None, None, answer.get("titlu"))
        _raise_for_refusal((refusal,))
        raise AnafRefusedError(refusal)
    messages = tuple(Message.from_json(entry) for entry in answer.get("mesaje") or ())
    return MessagePage(
        messages,
        page=int(answer.get("index_pagina_curenta") or 1),
        total_pages=int(answer.get("numar_total_pagini") or 1),
        total=_int_or_none(answer.get("numar_total_inregistrari")),
        serial=answer.get("serial"),
        cui=_text_or_none(answer.get("cui")),
        title=answer.get("titlu"),
    )


def parse_download(data, download_id):
    """A ``/descarcare`` body: ANAF's ZIP, or a JSON refusal (ANAF sends both with HTTP 200)."""
    if data[:1] == b"{":
        return _download_refusal(_json_object(data), download_id)
    files = read_zip(data, what=_("ANAF archive %(id)s", id=download_id))
    signature_name = next((name for name in files if name.startswith("semnatura_")), None)
    document_name = next((name for name in files if name != signature_name and name.endswith(".xml")), None)
    if not signature_name or not document_name:
        raise PlatformUnavailableError(
            _("ANAF archive %(id)s lacks the document or its signature: %(names)s", id=download_id, names=list(files))
        )
    document = files[document_name]
    root = parse_xml(document, what=_("ANAF archive %(id)s", id=download_id))
    error_report = _error_report(root) if root.tag == f"{{{NS_ERRORS}}}header" else None
    return Download(
        DownloadState.OK,
        download_id,
        archive=data,
        document_name=document_name,
        document=document,
        signature_name=signature_name,
        signature=files[signature_name],
        error_report=error_report,
    )


def _download_refusal(answer, download_id):
    refusal = answer.get("eroare") or ""
    _raise_for_refusal((refusal,))
    for pattern, state in (
        (_EXPIRED_TEXT, DownloadState.EXPIRED),
        (_NOT_FOUND_TEXT, DownloadState.NOT_FOUND),
        (_FORBIDDEN_TEXT, DownloadState.FORBIDDEN),
    ):
        if pattern.search(refusal):
            return Download(state, download_id, message=refusal)
    raise AnafRefusedError(refusal)


def parse_validation(answer):
    stare = answer.get("stare")
    if stare not in ("ok", "nok"):
        raise AnafRefusedError(answer.get("eroare") or answer.get("message") or str(answer))
    messages = tuple(m.get("message", "") for m in answer.get("Messages") or ())
    return ValidationResult(stare == "ok", messages, answer.get("trace_id"))


class AnafRefusedError(InvalidRequestError):
    """ANAF refused the request with a message of its own (an ``eroare`` or ``Errors`` answer served with 200)."""

    def __init__(self, text):
        super().__init__(_("ANAF refused the request: %(text)s", text=text), detail=text)
        self.text = text


def _raise_for_refusal(texts):
    for text in texts:
        if _LIMIT_TEXT.search(text):
            raise RateLimitedError(_("ANAF's daily limit is reached: %(text)s", text=text), detail=text)
        if _NO_RIGHTS_TEXT.search(text):
            raise AuthenticationError(
                _("The ANAF token has no SPV rights for this company: %(text)s", text=text), detail=text
            )


def _parties_from_details(details):
    self_billed = re.search(r"transmisa de cif=(\d+)\s+ca autofactura in numele cif=(\d+)", details)
    if self_billed:
        return self_billed.group(2), self_billed.group(1)
    seller = re.search(r"cif_emitent=(\d+)", details)
    buyer = re.search(r"cif_beneficiar=(\d+)", details)
    return (seller.group(1) if seller else None), (buyer.group(1) if buyer else None)


def _expect(root, namespace, name):
    if root.tag != f"{{{namespace}}}{name}":
        raise PlatformUnavailableError(
            _(
                "ANAF answered with an unexpected document: %(tag)s instead of %(expected)s.",
                tag=root.tag,
                expected=f"{{{namespace}}}{name}",
            )
        )


def _json_object(data):
    try:
        answer = json.loads(data)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise PlatformUnavailableError(_("ANAF answered with data that is not the expected JSON."))
    return answer


def _text_or_none(value):
    return None if value in (None, "") else str(value)


def _int_or_none(value):
    return None if value in (None, "") else int(value)


# -- the client -------------------------------------------------------------------------------------------------
class AnafClient:
    """RO e-Factura for one access token; every call names the company's CUI (``cif``, digits only).

    ``access_token`` is the token or a callable returning the current one (so a caller can refresh it).
    ``quota`` keeps the daily per-message and per-CUI limits, ``rate`` the per-minute one; share both between the
    clients of one token. ``verify`` is True or the path of a CA bundle to trust.
    """

    def __init__(
        self,
        access_token,
        *,
        env="test",
        endpoints=None,
        quota=None,
        rate=None,
        clock=time.time,
        sleep=time.sleep,
        timeout=(10, 60),
        verify=True,
    ):
        self.endpoints = endpoints or Endpoints.for_env(env)
        self._access_token = access_token
        self.quota = quota or DailyQuota(clock=clock)
        rate = rate or RateBudget(self.quota.limits.calls_per_minute, 60, sleep=sleep)
        self.secrets = Secrets()  # the tokens used, masked wherever ANAF echoes them
        common = {"platform": PLATFORM, "timeout": timeout, "budget": rate, "sleep": sleep, "verify": verify}
        self.http = HttpClient(self.endpoints.efactura, secrets=self.secrets, **common)
        # a firewall page on the public services answers the content, not a passing fault: one retry is enough
        self.public_http = HttpClient(self.endpoints.public, retry=RetryPolicy(2), secrets=self.secrets, **common)
        self._clock = clock

    # -- sending ---------------------------------------------------------------------------------------------
    def upload(self, xml, cif, *, standard="UBL", b2c=False, extern=False, self_billed=False, enforcement=False):
        """File ``xml`` for ``cif``. Never repeated: a lost answer raises OutcomeUnknownError (see UploadResolver)."""
        if standard not in STANDARDS:
            raise ValueError(f"standard must be one of {STANDARDS}, not {standard!r}")
        if len(xml) > MAX_UPLOAD_BYTES:
            raise InvalidRequestError(
                _("The file is %(size)s bytes; ANAF accepts at most %(limit)s.", size=len(xml), limit=MAX_UPLOAD_BYTES)
            )
        cif = _cif(cif)
        if standard == "RASP":
            self.quota.spend("rasp_uploads_per_cif", cif)
        params = {"standard": standard, "cif": cif}
        for name, wanted in (("extern", extern), ("autofactura", self_billed), ("executare", enforcement)):
            if wanted:
                params[name] = "DA"
        response = self._call(
            "POST", "/uploadb2c" if b2c else "/upload", params=params, data=xml, content_type="application/xml"
        )
        return parse_upload_answer(response.content)

    def status(self, index):
        self.quota.spend("status_per_message", index)
        response = self._call("GET", "/stareMesaj", params={"id_incarcare": index})
        return parse_status_answer(response.content)

    # -- lists -----------------------------------------------------------------------------------------------
    def messages(self, cif, *, days=MAX_LIST_DAYS, kind=None):
        """Messages of the last ``days`` (1..60); ``kind`` is one of FILTERS. Switches to pages past 500 messages."""
        if not 1 <= days <= MAX_LIST_DAYS:
            raise ValueError(f"days must be between 1 and {MAX_LIST_DAYS}")
        cif = _cif(cif)
        self.quota.spend("lists_per_cif", cif)
        params = {"zile": days, "cif": cif}
        if kind:
            params["filtru"] = _filter(kind)
        try:
            page = parse_message_page(self._json("GET", "/listaMesajeFactura", params=params))
        except AnafRefusedError as refusal:
            if not _TOO_MANY_MESSAGES_TEXT.search(refusal.text):
                raise
            return list(self.iter_messages(cif, since=self.now() - timedelta(days=days), kind=kind))
        return [m for m in page.messages if _same_cif(m, cif)]

    def iter_messages(self, cif, *, since, until=None, kind=None):
        """Every message between ``since`` and ``until`` (aware datetimes), page after page.

        The window is kept inside ANAF's rules (end behind its clock, start inside 60 days); when ANAF still finds
        the end in its future (clocks drift), the end moves back once by what ANAF's own clock says.
        """
        cif, now = _cif(cif), self.now()
        start = max(since, now - timedelta(days=MAX_LIST_DAYS) + START_INSIDE_LIMIT)
        end = min(until or now, now - END_BEHIND_NOW)
        page_number, total_pages, adjusted = 1, 1, False
        while page_number <= total_pages and start < end:
            try:
                page = self._page(cif, start, end, page_number, kind)
            except AnafRefusedError as refusal:
                if adjusted or not (shifted := _shift_window(refusal.text, start, end)):
                    raise
                start, end, adjusted = *shifted, True
                continue
            if not page.messages:
                return
            yield from (m for m in page.messages if _same_cif(m, cif))
            total_pages, page_number = page.total_pages, page_number + 1

    def _page(self, cif, start, end, page_number, kind):
        self.quota.spend("paged_lists_per_cif", cif)
        params = {"startTime": _ms(start), "endTime": _ms(end), "cif": cif, "pagina": page_number}
        if kind:
            params["filtru"] = _filter(kind)
        return parse_message_page(self._json("GET", "/listaMesajePaginatieFactura", params=params))

    # -- documents -------------------------------------------------------------------------------------------
    def download(self, download_id):
        """The ZIP of a message (download each message once and keep it: ANAF counts and expires downloads)."""
        self.quota.spend("downloads_per_message", download_id)
        response = self._call("GET", "/descarcare", params={"id": download_id})
        return parse_download(response.content, str(download_id))

    def validate(self, xml):
        """ANAF's own validation (prod-only public service); nothing is filed."""
        response = self._call("POST", f"/validare/{_document_type(xml)}", data=xml, public=True)
        return parse_validation(_json_object(response.content))

    def to_pdf(self, xml, *, validate=True):
        """ANAF's PDF of ``xml``. A relative ``xsi:schemaLocation`` trips ANAF's firewall, so it is removed first;
        when the firewall still rejects the unvalidated rendering, the validating one (which passes) is used.
        """
        xml = strip_schema_location(xml)
        path = f"/transformare/{_document_type(xml)}"
        try:
            response = self._call("POST", path if validate else f"{path}/DA", data=xml, public=True)
        except PlatformUnavailableError as error:
            if validate or error.status != 200:
                raise
            response = self._call("POST", path, data=xml, public=True)
        if response.content.startswith(b"%PDF"):
            return PdfResult(response.content)
        result = parse_validation(_json_object(response.content))
        return PdfResult(None, result.messages)

    # -- transport -------------------------------------------------------------------------------------------
    def _call(self, method, path, *, public=False, content_type="text/plain", **kwargs):
        headers = {"Content-Type": content_type} if "data" in kwargs else {}
        # the public services need no token, and a token is not sent where it is not needed
        token = None if public else self._access_token() if callable(self._access_token) else self._access_token
        if token:
            self.secrets.add(token)
            headers["Authorization"] = f"Bearer {token}"
        # validare and transformare only read, so they may be repeated
        idempotent = True if public else None
        http = self.public_http if public else self.http
        response = http.request(method, path, headers=headers, idempotent=idempotent, **kwargs)
        if response.status_code == 204:  # Odoo met ANAF's limit answered this way
            raise RateLimitedError(_("ANAF answered without content (HTTP 204): its call limit is reached."))
        return response

    def _json(self, method, path, **kwargs):
        return _json_object(self._call(method, path, **kwargs).content)

    def now(self):
        return datetime.fromtimestamp(self._clock(), timezone.utc)


def _shift_window(text, start, end):
    if _END_IN_FUTURE_TEXT.search(text):
        anaf_clock = _ANAF_CLOCK_TEXT.search(text)
        if anaf_clock:
            anaf_now = datetime.strptime(anaf_clock.group(1), "%d-%m-%Y %H:%M:%S").replace(tzinfo=RO_TIME)
            return start, min(end - SKEW_STEP, anaf_now - END_BEHIND_NOW)
        return start, end - SKEW_STEP
    if _START_TOO_OLD_TEXT.search(text):
        return start + SKEW_STEP, end
    return None


def _same_cif(message, cif):
    return message.cif is None or message.cif == cif


def _cif(cif):
    """ANAF wants the CUI as digits, without the RO prefix."""
    text = str(cif).strip().upper()
    return text[2:].strip() if text.startswith("RO") else text


def _filter(kind):
    if kind not in FILTERS:
        raise ValueError(f"kind must be one of {sorted(FILTERS)}")
    return kind


def _ms(moment):
    return int(moment.timestamp() * 1000)


def _document_type(xml):
    root = parse_xml(xml, what=_("invoice"))
    return "FCN" if root.tag.endswith("}CreditNote") else "FACT1"


def upload_standard(xml):
    """The ``standard`` an upload of ``xml`` declares: ``CN`` for a UBL credit note, else ``UBL``."""
    return "CN" if _document_type(xml) == "FCN" else "UBL"


def strip_schema_location(xml):
    """``xml`` without ``xsi:schemaLocation`` attributes (ANAF's firewall rejects relative ones)."""
    return re.sub(rb'\s+xsi:schemaLocation\s*=\s*("[^"]*"|\'[^\']*\')', b"", xml)


# -- identity of an invoice -------------------------------------------------------------------------------------
def invoice_identity(xml):
    """``(number, issue date as YYYY-MM-DD)`` of a UBL or CII invoice; None for another document."""
    from .ciusro import read  # documents and transport meet only here

    try:
        invoice = read(xml).invoice
    except EInvoiceError:
        return None
    issued = invoice.issue_date.isoformat() if invoice.issue_date else ""
    return (invoice.number or "").strip(), issued


# -- outcome unknown --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Resolution:
    """``found`` (with the upload's index, state and download), ``not_found`` (safe to send again) or
    ``too_early`` (ANAF lists a filing only after processing it: ask again later, do not send).
    """

    outcome: str
    index: str | None = None
    state: str | None = None
    download: Download | None = None


class UploadResolver:
    """Finds an upload whose answer was lost, in the list of sent invoices, by the invoice itself.

    The list says nothing about invoice numbers, so each candidate sent after the upload is downloaded and its
    invoice compared: byte for byte with the uploaded XML when given, else by number and issue date. Candidates
    already known to the caller are skipped. Only an ``ok`` filing counts: a ``nok`` one has no legal effect and
    sending again is right. ``grace`` is how long ANAF may take to process and list an upload.
    """

    FOUND, NOT_FOUND, TOO_EARLY = "found", "not_found", "too_early"

    def __init__(self, client, *, grace=timedelta(hours=1), skew=timedelta(minutes=5)):
        self.client = client
        self.grace = grace
        self.skew = skew

    def resolve(self, cif, *, sent_at, number=None, issue_date=None, xml=None, index=None, known_indexes=()):
        """Look for the upload sent at ``sent_at``: by its ``index`` when known (e.g. from ANAF's
        "transmisa anterior cu index=" text), else by the uploaded ``xml`` or its ``number`` and ``issue_date``.
        """
        if xml is not None:
            number, issue_date = invoice_identity(xml) or (number, issue_date)
        if index is None and (not number or not issue_date):
            raise ValueError("the upload index, the uploaded XML, or the invoice number and issue date are needed")
        if isinstance(issue_date, (date, datetime)):
            issue_date = issue_date.isoformat()[:10]
        known = {str(known_index) for known_index in known_indexes}
        for message in self.client.iter_messages(cif, since=sent_at - self.skew, kind="T"):
            if message.upload_index in known or (index is not None and message.upload_index != str(index)):
                continue
            download = self.client.download(message.id)
            if download.state != DownloadState.OK or download.error_report:
                continue
            if (
                index is not None
                or (xml is not None and download.document == xml)
                or invoice_identity(download.document) == (number, issue_date)
            ):
                return Resolution(self.FOUND, message.upload_index, State.OK, download)
        if self.client.now() - sent_at < self.grace:
            return Resolution(self.TOO_EARLY)
        return Resolution(self.NOT_FOUND)
