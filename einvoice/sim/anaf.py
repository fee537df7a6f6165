"""ANAF simulator: OAuth (logincert) and RO e-Factura, with ANAF's answer formats, texts and limits.

Time comes from ``clock`` so a test drives processing (``processing_seconds``), listing, expiry and daily limits
without sleeping. Whether an upload ends ``ok`` or ``nok`` is decided by ``validator(xml) -> [errors]``.
Downloads are ZIPs with the document and ``semnatura_<index>.xml``, an enveloped XML-DSig made with a test RSA key
(:attr:`AnafSimulator.certificate` holds its certificate).
"""

import base64
import functools
import hashlib
import hmac
import io
import json
import math
import re
import secrets
import threading
import time
import uuid
import zipfile
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import NameOID
from lxml import etree

from ..errors import EInvoiceError
from ..ro.ciusro import check_document
from ..xmlsafe import UnsafeInputError, parse_xml
from .server import WAF_PAGE, Response, SimServer, self_signed_certificate

CIUS_RO = "urn:cen.eu:en16931:2017#compliant#urn:efactura.mfinante.ro:CIUS-RO:1.0.1"
UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CII = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
DSIG = "http://www.w3.org/2000/09/xmldsig#"
NS_UPLOAD = "mfp:anaf:dgti:spv:respUploadFisier:v1"
NS_STATUS = "mfp:anaf:dgti:efactura:stareMesajFactura:v1"
NS_ERRORS = "mfp:anaf:dgti:efactura:mesajEroriFactuta:v1"
NS_BUYER_MESSAGE = "mfp:anaf:dgti:spv:reqMesaj:v1"
RO_TIME = ZoneInfo("Europe/Bucharest")
DAY = 86400
RETENTION_DAYS = 60
SIGNATURE_VALID = (
    "Fișierele încărcate au fost validate cu succes, din perspectiva autenticității semnăturii aplicate și a "
    "apartenenței acesteia la XML-ul ce reprezintă factura electronică. Documentul factură de tip XML cu semnătura de "
    "validare atașată, este considerat document original din perspectiva legislativă și este generat prin "
    "intermediul sistemului național RO e-Factura."
)
SIGNATURE_INVALID = (
    "Fișierele încărcate NU au putut fi validate cu succes, din perspectiva autenticității semnăturii aplicate și a "
    "apartenenței acesteia la XML-ul ce reprezintă factura electronică. Documentul factură de tip XML cu semnătura de "
    "validare atașată, NU poate fi considerat document original din perspectiva legislativă și NU este generat prin "
    "intermediul sistemului național RO e-Factura."
)
SIGNATURE_REQUEST_ERROR = (
    "Eroare tehnică: request incorect. Cauza: cel puțin unul din documente NU a fost încărcat sau NU este un fisier "
    "de tip XML specific facturii electronice."
)
DEFAULT_CIF = "8000000000"
DEFAULT_CLIENT_ID = "sim-client-id"
DEFAULT_CLIENT_SECRET = "sim-client-secret"  # noqa: S105 - the simulator's published test secret

_REST = r"/(?P<env>test|prod)/FCTEL/rest"
_UPLOAD_FLAG_NAMES = {"extern": "extern", "autofactura": "autofacturare", "executare": "executare"}
_TYPE_ROOTS = {"FACT1": UBL_INVOICE, "FCN": UBL_CREDIT_NOTE}


def default_validator(xml):
    """ANAF's checks: the document is read (UBL or CII) and held against the CIUS-RO and EN 16931 rules; each
    fatal finding becomes an error line in ANAF's wording."""
    try:
        findings = check_document(xml)
    except EInvoiceError as error:
        return [f"E: validari globale eroare: {error}"]
    return [
        f"E: validari globale SCHEMATRON eroare: [{finding.rule}]-{finding.message}"
        for finding in findings
        if finding.fatal
    ]


@dataclass
class Upload:
    index: str
    cif: str
    standard: str
    xml: bytes
    received_at: float
    b2c: bool = False
    flags: dict = field(default_factory=dict)
    state: str = "in prelucrare"
    download_id: str | None = None
    errors: list = field(default_factory=list)
    archive: bytes | None = None


@dataclass
class Message:
    id: str
    upload: Upload
    cif: str
    kind: str
    details: str
    listed_at: float

    def as_json(self):
        return {
            "data_creare": _ro(self.listed_at).strftime("%Y%m%d%H%M"),
            "cif": self.cif,
            "id_solicitare": self.upload.index,
            "detalii": self.details,
            "tip": self.kind,
            "id": self.id,
        }


class AnafSimulator(SimServer):
    """``python -m einvoice.sim anaf`` serves one; tests start it with a clock they move by hand.

    ``cifs`` are the companies the token holder has SPV rights for; an upload is decided ``processing_seconds``
    after it arrived and listed ``listing_seconds`` later; the ``*_per_*`` figures are the limits enforced with
    ANAF's answers (defaults: limiteApeluriAPI); ``revoke_reachable=False`` answers /revoke with the portal's
    login wall, as ANAF does for clients without a browser.
    """

    name = "ANAF"
    contract = "anaf"  # the tests hold its exchanges against ANAF's published swagger pages
    poll_interval = 0.05  # tests start one simulator each: stopping it must be quick

    def __init__(
        self,
        host="127.0.0.1",
        port=0,
        *,
        clock=time.time,
        validator=default_validator,
        processing_seconds=3.0,
        listing_seconds=0.0,
        cifs=(DEFAULT_CIF,),
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        redirect_uris=(),
        access_seconds=90 * DAY,
        refresh_seconds=365 * DAY,
        revoke_reachable=False,
        calls_per_minute=1000,
        status_per_message=100,
        downloads_per_message=10,
        lists_per_cif=1500,
        paged_lists_per_cif=100_000,
        rasp_per_cif=1000,
        list_cap=500,
        page_size=500,
        max_upload_bytes=10 * 1024 * 1024,
    ):
        super().__init__(host, port)
        self.clock = clock
        self.validator = validator
        self.processing_seconds = processing_seconds
        self.listing_seconds = listing_seconds
        self.cifs = {str(cif) for cif in cifs}
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = tuple(redirect_uris)  # the registered callbacks, matched exactly; empty: any https one
        # ANAF registers only https callbacks; a sandbox on one's own machine also takes http://localhost ones
        self.loopback_callbacks = False
        self.access_seconds = access_seconds
        self.refresh_seconds = refresh_seconds
        self.revoke_reachable = revoke_reachable  # ANAF's /revoke answers headless clients with its login wall
        self.limits = {
            "calls_per_minute": calls_per_minute,
            "status": status_per_message,
            "download": downloads_per_message,
            "list": lists_per_cif,
            "paged_list": paged_lists_per_cif,
            "rasp": rasp_per_cif,
        }
        self.list_cap = list_cap
        self.page_size = page_size
        self.max_upload_bytes = max_upload_bytes
        self.uploads = {}
        self.messages = []
        self.enforcement_cifs = set()
        self._state_lock = threading.RLock()
        self._codes = {}
        self._access = {}
        self._refresh = {}
        self._counts = {}
        self._recent_calls = deque()
        self._next_index = 5000000000
        self._next_download = 3000000000
        self._jwt_key = secrets.token_bytes(32)
        self._signing_key, self.certificate = _signer()
        self._routes_for_oauth()
        self._routes_for_efactura()

    @property
    def public_key(self):
        return self._signing_key.public_key()

    # -- test helpers ---------------------------------------------------------------------------------------
    def issue_tokens(self, jwt=True):
        """A token pair as the token endpoint would issue it, without the browser step."""
        with self._state_lock:
            return self._new_tokens(jwt)

    def add_received(self, cif, xml, *, seller_cif=None):
        """Seed an invoice a supplier filed for ``cif``: it lists as ``FACTURA PRIMITA``; returns its download id."""
        with self._state_lock:
            now = self.clock()
            seller = seller_cif or _party_cif(xml, "seller") or "0"
            upload = Upload(self._new_index(), seller, "UBL", xml, now, state="ok")
            upload.download_id = self._new_download_id()
            self.uploads[upload.index] = upload
            details = _invoice_details(upload.index, seller, cif)
            self.messages.append(Message(upload.download_id, upload, str(cif), "FACTURA PRIMITA", details, now))
            return upload.download_id

    def uploads_recorded(self):
        return self.requests_to(r"/FCTEL/rest/upload(b2c)?$", "POST")

    # -- OAuth ----------------------------------------------------------------------------------------------
    def _routes_for_oauth(self):
        self.route("GET", r"/anaf-oauth2/v1/authorize", self._authorize)
        self.route("POST", r"/anaf-oauth2/v1/token", self._token)
        self.route("POST", r"/anaf-oauth2/v1/revoke", self._revoke)
        self.route("GET", r"/TestOauth/jaxrs/hello", self._hello)
        self.route("GET", r"/my\.policy", lambda request: Response(200, b"<html>Login</html>", "text/html"))

    def _callback_allowed(self, redirect_uri):
        if redirect_uri.startswith("https://"):
            return True
        host = urlsplit(redirect_uri).hostname
        return self.loopback_callbacks and redirect_uri.startswith("http://") and host in ("localhost", "127.0.0.1")

    def _authorize(self, request):
        client_id, redirect_uri = request.arg("client_id"), request.arg("redirect_uri") or ""
        if request.arg("response_type") != "code" or client_id != self.client_id:
            return _html(400, "Invalid client or response type")
        if not self._callback_allowed(redirect_uri) or (self.redirect_uris and redirect_uri not in self.redirect_uris):
            return _html(400, "Invalid redirect URI")
        approve = request.arg("approve")
        if approve is None:
            params = {key: values[0] for key, values in request.query.items()}
            yes, no = urlencode({**params, "approve": "yes"}), urlencode({**params, "approve": "no"})
            return _html(
                200,
                "<h1>ANAF - autorizare aplicatie</h1><p>Alegeti certificatul si introduceti PIN-ul.</p>"
                f'<a id="approve" href="?{yes}">Autorizare</a> <a id="deny" href="?{no}">Renuntare</a>',
            )
        answer = {"state": request.arg("state")} if request.arg("state") else {}
        if approve != "yes":
            answer = {"error": "access_denied", **answer}
        else:
            code = secrets.token_urlsafe(24)
            jwt = request.arg("token_content_type") == "jwt"
            with self._state_lock:
                self._codes[code] = (redirect_uri, self.clock(), jwt)
            answer = {"code": code, **answer}
        return Response(302, b"", "text/html", {"Location": f"{redirect_uri}?{urlencode(answer)}"})

    def _token(self, request):
        form = {key: values[0] for key, values in parse_qs(request.body.decode()).items()}
        if not self._client_authenticated(request, form):
            return Response.json({"error": "invalid_client", "error_description": "Bad client credentials"}, 400)
        grant = form.get("grant_type")
        with self._state_lock:
            if grant == "authorization_code":
                issued = self._codes.pop(form.get("code"), None)
                if not issued or issued[0] != form.get("redirect_uri") or self.clock() - issued[1] > 60:
                    return Response.json({"error": "invalid_grant", "error_description": "Invalid code"}, 400)
                return Response.json(self._new_tokens(issued[2] or form.get("token_content_type") == "jwt"))
            if grant == "refresh_token":
                expires_at = self._refresh.pop(form.get("refresh_token"), None)
                if expires_at is None or expires_at < self.clock():
                    return Response.json({"error": "invalid_grant", "error_description": "Invalid refresh token"}, 400)
                return Response.json(self._new_tokens(_is_jwt(form["refresh_token"])))
        return Response.json({"error": "invalid_request", "error_description": "Unsupported grant type"}, 400)

    def _revoke(self, request):
        if not self.revoke_reachable:
            return Response(302, b"", "text/html", {"Location": "/my.policy"})
        form = {key: values[0] for key, values in parse_qs(request.body.decode()).items()}
        if not self._client_authenticated(request, form):
            return Response.json({"error": "invalid_client"}, 400)
        with self._state_lock:
            for token in {form.get("token"), form.get("access_token"), form.get("refresh_token")} - {None}:
                self._access.pop(token, None)
                self._refresh.pop(token, None)
        return Response.json({})

    def _hello(self, request):
        refused = self._refuse_token(request)
        if refused:
            return refused
        return Response(200, f"Hello {request.arg('name', '')}".encode(), "text/plain")

    def _client_authenticated(self, request, form):
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            client_id, _colon, secret = base64.b64decode(basic[6:]).decode().partition(":")
        else:
            client_id, secret = form.get("client_id"), form.get("client_secret") or ""
        return client_id == self.client_id and hmac.compare_digest(secret.encode(), self.client_secret.encode())

    def _new_tokens(self, jwt):
        now = self.clock()
        access_exp, refresh_exp = now + self.access_seconds, now + self.refresh_seconds
        if jwt:
            access, refresh = self._jwt(access_exp, "access"), self._jwt(refresh_exp, "refresh")
        else:
            access, refresh = secrets.token_hex(32), secrets.token_hex(32)
        self._access[access] = access_exp
        self._refresh[refresh] = refresh_exp
        answer = {"access_token": access, "refresh_token": refresh, "token_type": "Bearer"}
        if not jwt:  # opaque tokens carry no exp, so the answer says it
            answer["expires_in"] = int(self.access_seconds)
        return answer

    def _jwt(self, expires_at, use):
        now = int(self.clock())
        header = {"alg": "HS256", "typ": "JWT", "kid": "sim_anaf"}
        claims = {
            "iss": "https://logincert.anaf.ro",
            "iat": now,
            "nbf": now,
            "exp": int(expires_at),
            "scope": "clientappid info issuer role serial",
            "clientappid": self.client_id,
            "serial": "SIM0001",
            "services": ["E-Factura"],
            "use": use,
            "jti": secrets.token_hex(8),
        }
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = hmac.new(self._jwt_key, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"

    def _refuse_token(self, request):
        bearer = request.headers.get("Authorization", "")
        token = bearer[7:] if bearer.startswith("Bearer ") else None
        with self._state_lock:
            expires_at = self._access.get(token)
        if expires_at is None or expires_at < self.clock():
            return Response.json(
                {"timestamp": _ro_stamp(self.clock()), "status": 401, "error": "Unauthorized", "message": "Token"}, 401
            )
        return None

    # -- e-Factura ------------------------------------------------------------------------------------------
    def _routes_for_efactura(self):
        for method, path, handler in (
            ("POST", "/upload", self._upload),
            ("POST", "/uploadb2c", self._upload),
            ("GET", "/stareMesaj", self._status),
            ("GET", "/listaMesajeFactura", self._list),
            ("GET", "/listaMesajePaginatieFactura", self._paged_list),
            ("GET", "/descarcare", self._download),
        ):
            self.route(method, _REST + path, self._guarded(handler))
        # the public services exist on prod only
        self.route("POST", r"/prod/FCTEL/rest/validare/(?P<type>[^/]+)", self._limited(self._validate))
        self.route(
            "POST", r"/prod/FCTEL/rest/transformare/(?P<type>[^/]+?)(?P<novld>/DA)?", self._limited(self._to_pdf)
        )
        # at the host's root, without FCTEL/rest nor test/prod (swagger/validaresemnatura.json)
        self.route("POST", r"/api/validate/signature", self._limited(self._validate_signature))

    def _limited(self, handler):
        def serve(request):
            now = self.clock()
            with self._state_lock:
                while self._recent_calls and now - self._recent_calls[0] >= 60:
                    self._recent_calls.popleft()
                if len(self._recent_calls) >= self.limits["calls_per_minute"]:
                    return Response.json({"error": "Too Many Requests"}, 429, headers={"Retry-After": "60"})
                self._recent_calls.append(now)
            return handler(request)

        return serve

    def _guarded(self, handler):
        def serve(request):
            refused = self._refuse_token(request)
            if refused:
                return refused
            with self._state_lock:
                self._settle()
                return handler(request)

        return self._limited(serve)

    def _upload(self, request):
        standard, cif = request.arg("standard"), request.arg("cif")
        if not standard or not cif:
            return self._bad_request("Parametrii standard si cif sunt obligatorii")
        if not request.body:  # upload.json, 400 "nu ati atasat nimic in request body"
            return self._bad_request("Trebuie sa aveti atasat in request un fisier de tip xml")
        refusal = self._upload_refusal(request, standard, cif)
        if refusal:
            return _upload_answer(self.clock(), error=refusal)
        if standard == "RASP" and not self._count("rasp", cif):
            limit = self.limits["rasp"]
            return _upload_answer(
                self.clock(), error=f"S-au incarcat deja {limit} de mesaje de tip RASP pentru cui={cif} in cursul zilei"
            )
        upload = Upload(
            self._new_index(),
            cif,
            standard,
            request.body,
            self.clock(),
            b2c=request.path.endswith("b2c"),
            flags={name: "DA" for name in _UPLOAD_FLAG_NAMES if request.arg(name)},
        )
        self.uploads[upload.index] = upload
        return _upload_answer(self.clock(), index=upload.index)

    def _cif_refusal(self, cif):
        if not cif.isdigit():
            return f"CIF introdus= {cif} nu este un numar"
        if not self.cifs:
            return "Nu exista niciun CIF pentru care sa aveti drept in SPV"
        if cif not in self.cifs:
            return f"Nu aveti drept in SPV pentru CIF={cif}"
        return None

    def _upload_refusal(self, request, standard, cif):
        if standard not in ("UBL", "CN", "CII", "RASP"):
            return "Valorile acceptate pentru parametrul standard sunt UBL, CN, CII sau RASP"
        refusal = self._cif_refusal(cif)
        if refusal:
            return refusal
        for name, label in _UPLOAD_FLAG_NAMES.items():
            if request.arg(name) not in (None, "DA"):
                return f"Daca parametrul {label} trebuie completat, valoarea acceptata este DA"
        if request.arg("executare") and cif not in self.enforcement_cifs:
            return f"CIF introdus= {cif} nu este inregistrat in Registrul RO e-Factura executari silite"
        if len(request.body) > self.max_upload_bytes:
            return f"Marime fisier transmis mai mare de {self.max_upload_bytes // (1024 * 1024)} MB."
        return _schema_refusal(request.body, standard)

    def _status(self, request):
        index = request.arg("id_incarcare")
        if not index:
            return self._bad_request("Parametrul id_incarcare este obligatoriu")
        if not index.isdigit():
            return _status_error(f"Id_incarcare introdus= {index} nu este un numar intreg")
        upload = self.uploads.get(index)
        if upload is None:
            return _status_error(f"Nu exista factura cu id_incarcare= {index}")
        if upload.cif not in self.cifs:
            return _status_error(f"Nu aveti dreptul de inteorgare pentru id_incarcare= {index}")
        if not self._count("status", index):
            return _status_error(f"S-au facut deja {self.limits['status']} descarcari de mesaj in cursul zilei")
        attributes = {"stare": upload.state}
        if upload.download_id:
            attributes["id_descarcare"] = upload.download_id
        return Response.xml(_header(NS_STATUS, attributes))

    def _list(self, request):
        days, cif, kind = request.arg("zile"), request.arg("cif"), request.arg("filtru")
        if not days or not cif:
            return self._bad_request("Parametrii zile si cif sunt obligatorii")
        refusal = self._list_refusal(cif, kind)
        if not refusal and not days.isdigit():
            refusal = f"Numarul de zile introdus= {days} nu este un numar intreg"
        if not refusal and not 1 <= int(days) <= RETENTION_DAYS:
            refusal = "Numarul de zile trebuie sa fie intre 1 si 60"
        if not refusal and not self._count("list", cif):
            refusal = self._list_limit_text("list")
        if refusal:
            return _list_error(refusal)
        now = self.clock()
        found = self._visible(cif, kind, now - int(days) * DAY, now)
        if not found:
            return _list_error(f"Nu exista mesaje in ultimele {days} zile")
        if len(found) > self.list_cap:
            return _list_error(
                f"Lista de mesaje este mai mare decat numarul de {self.list_cap} elemente permise in pagina. "
                "Folositi endpoint-ul cu paginatie."
            )
        return Response.json(
            {
                "mesaje": [m.as_json() for m in found],
                "serial": "SIM0001",
                "cui": ",".join(sorted(self.cifs)),
                "titlu": f"Lista Mesaje disponibile din ultimele {days} zile",
            }
        )

    def _paged_list(self, request):
        cif, kind = request.arg("cif"), request.arg("filtru")
        values = {name: request.arg(name) for name in ("startTime", "endTime", "pagina")}
        if not all(values.values()) or not cif:
            return self._bad_request("Parametrii startTime, endTime, cif si pagina sunt obligatorii")
        for name, value in values.items():
            if not value.isdigit():  # listamesaje.json, the paginated list's examples
                return _list_error(f"{name} = {value} nu este un numar sau nu are o valoare acceptata de sistem")
        refusal = self._list_refusal(cif, kind)
        if not refusal and not self._count("paged_list", cif):
            refusal = self._list_limit_text("paged_list")
        if refusal:
            return _list_error(refusal)
        now = self.clock()
        start, end, page = int(values["startTime"]) / 1000, int(values["endTime"]) / 1000, int(values["pagina"])
        if start < now - RETENTION_DAYS * DAY:
            refusal = f"startTime = {_ro_stamp(start)} nu poate fi mai vechi de 60 de zile fata de momentul requestului"
        elif end <= start:
            refusal = f"endTime = {_ro_stamp(end)} nu poate fi <= startTime = {_ro_stamp(start)}"
        elif end > now:
            refusal = f"endTime = {_ro_stamp(end)} nu poate in viitor fata de momentul requestului = {_ro_stamp(now)}"
        if refusal:
            return _list_error(refusal)
        found = self._visible(cif, kind, start, end)
        pages = math.ceil(len(found) / self.page_size)
        if not found:
            return _list_error("Nu exista mesaje in intervalul selectat")
        if page > pages:
            return _list_error(f"Pagina solicitata {page} este mai mare decat numarul toatal de pagini {pages}")
        chunk = found[(page - 1) * self.page_size : page * self.page_size]
        return Response.json(
            {
                "mesaje": [m.as_json() for m in chunk],
                "numar_inregistrari_in_pagina": len(chunk),
                "numar_total_inregistrari_per_pagina": self.page_size,
                "numar_total_inregistrari": len(found),
                "numar_total_pagini": pages,
                "index_pagina_curenta": page,
                "serial": "SIM0001",
                "cui": ",".join(sorted(self.cifs)),
                "titlu": f"Lista Mesaje disponibile din intervalul {_ro_stamp(start)} - {_ro_stamp(end)}",
            }
        )

    def _list_limit_text(self, limit):
        return f"S-au facut deja {self.limits[limit]} interogari de lista mesaje de catre utilizator in cursul zilei"

    def _list_refusal(self, cif, kind):
        refusal = self._cif_refusal(cif)
        if refusal:
            return refusal
        if kind and kind not in ("E", "T", "P", "R"):
            return "Valorile acceptate pentru parametrul filtru sunt E, T, P sau R"
        return None

    def _visible(self, cif, kind, start, end):
        prefix = {"E": "ERORI FACTURA", "T": "FACTURA TRIMISA", "P": "FACTURA PRIMITA", "R": "MESAJ CUMPARATOR"}
        return [
            m
            for m in self.messages
            if m.cif == cif and start <= m.listed_at <= end and (not kind or m.kind.startswith(prefix[kind]))
        ]

    def _download(self, request):
        download_id = request.arg("id")
        if not download_id:
            return self._bad_request("Parametrul id este obligatoriu")
        if not download_id.isdigit():
            return _download_error(f"Id descarcare introdus= {download_id} nu este un numar intreg")
        message = next((m for m in self.messages if m.id == download_id and m.listed_at <= self.clock()), None)
        if message is None:
            return _download_error(f"Pentru id={download_id} nu exista inregistrata nici o factura")
        if message.cif not in self.cifs:
            return _download_error("Nu aveti dreptul sa descarcati acesta factura")
        if self.clock() - message.listed_at > RETENTION_DAYS * DAY:
            return _download_error(
                "Fisierul nu mai poate fi descarcat pentru ca a trecut perioada de 60 de zile in care este disponibil"
            )
        if not self._count("download", download_id):
            return _download_error(f"S-au facut deja {self.limits['download']} descarcari de mesaj in cursul zilei")
        return Response(200, self._archive(message.upload), "application/zip")

    def _validate(self, request):
        errors = self._standard_refusal(request) or self._document_errors(request)
        trace = {"trace_id": str(uuid.uuid4())}
        if errors:
            return Response.json({"stare": "nok", "Messages": [{"message": e} for e in errors], **trace})
        return Response.json({"stare": "ok", **trace})

    @staticmethod
    def _standard_refusal(request):
        """validare.json, "standard invalid": answered 200 nok, not 404."""
        if request.params["type"] not in ("FACT1", "FCN"):
            return ["Valorile acceptate pentru parametrul standard sunt FACT1 si FCN"]
        return []

    def _to_pdf(self, request):
        # ANAF's firewall rejects these before the service sees them
        if re.search(rb'schemaLocation\s*=\s*"[^"]*\.\./', request.body) or (
            request.params["novld"] and b";CP " in request.body
        ):
            return Response(200, WAF_PAGE, "text/html")
        errors = self._standard_refusal(request) or ([] if request.params["novld"] else self._document_errors(request))
        if errors:
            messages = [{"message": e} for e in errors]
            return Response.json({"stare": "nok", "Messages": messages, "trace_id": str(uuid.uuid4())})
        return Response(200, _pdf(request.body), "application/pdf")

    def _validate_signature(self, request):
        """Whether ``signature`` (a downloaded semnatura_*.xml: the document with ANAF's enveloped XML-DSig) signs
        ``file``, with the texts of swagger/validaresemnatura.json."""
        files = _form_files(request)
        try:
            document, signed = parse_xml(files["file"]), parse_xml(files["signature"])
        except (KeyError, UnsafeInputError):
            return Response.json({"msg": SIGNATURE_REQUEST_ERROR}, 400)
        return Response.json({"msg": SIGNATURE_VALID if self._signs(signed, document) else SIGNATURE_INVALID})

    def _signs(self, signed, document):
        signature = signed.find(f"{{{DSIG}}}Signature")
        signed_info = signature.find(f"{{{DSIG}}}SignedInfo") if signature is not None else None
        if signed_info is None:
            return False
        signed.remove(signature)
        content = etree.tostring(signed, method="c14n", exclusive=True)
        if content != etree.tostring(document, method="c14n", exclusive=True):
            return False
        digest = base64.b64encode(hashlib.sha256(content).digest()).decode()
        if digest != signed_info.findtext(f"{{{DSIG}}}Reference/{{{DSIG}}}DigestValue"):
            return False
        try:
            value = base64.b64decode(signature.findtext(f"{{{DSIG}}}SignatureValue") or "")
            signed_bytes = etree.tostring(signed_info, method="c14n", exclusive=True)
            self.public_key.verify(value, signed_bytes, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True

    def _document_errors(self, request):
        try:
            root = parse_xml(request.body)
        except UnsafeInputError as error:
            return [f"E: {error}"]
        if etree.QName(root).namespace != _TYPE_ROOTS[request.params["type"]]:
            return [f"E: documentul nu corespunde tipului {request.params['type']}"]
        return list(self.validator(request.body))

    # -- processing -----------------------------------------------------------------------------------------
    def _settle(self):
        """Decide every upload whose processing time has passed, as ANAF's back office would have meanwhile."""
        for upload in self.uploads.values():
            decided_at = upload.received_at + self.processing_seconds
            if upload.state != "in prelucrare" or self.clock() < decided_at:
                continue
            upload.errors = [] if upload.standard == "RASP" else list(self.validator(upload.xml))
            upload.state = "nok" if upload.errors else "ok"
            upload.download_id = self._new_download_id()
            listed_at = decided_at + self.listing_seconds
            if upload.errors:
                details = f"Erori de validare identificate la factura primita cu id_incarcare={upload.index}"
                kind = "ERORI FACTURA"
            elif upload.standard == "RASP":
                details, kind = (
                    f"Mesaj cumparator transmis pentru id_incarcare={upload.index}",
                    "MESAJ CUMPARATOR TRANSMIS",
                )
            else:
                seller = _party_cif(upload.xml, "seller") or upload.cif
                buyer = _party_cif(upload.xml, "buyer") or "0"
                details = _invoice_details(upload.index, seller, buyer)
                if upload.flags.get("autofactura"):
                    details = (
                        f"Factura cu id_incarcare={upload.index} transmisa de cif={upload.cif}  ca autofactura in "
                        f"numele cif={seller}"
                    )
                kind = "FACTURA TRIMISA"
            self.messages.append(Message(upload.download_id, upload, upload.cif, kind, details, listed_at))

    def _archive(self, upload):
        if upload.archive is None:
            document = upload.xml if upload.state == "ok" else _error_document(upload)
            buffer = io.BytesIO()
            stamp = _ro(upload.received_at + self.processing_seconds).timetuple()[:6]
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(zipfile.ZipInfo(f"{upload.index}.xml", stamp), document)
                signed = sign_enveloped(document, self._signing_key, self.certificate)
                archive.writestr(zipfile.ZipInfo(f"semnatura_{upload.index}.xml", stamp), signed)
            upload.archive = buffer.getvalue()
        return upload.archive

    def _bad_request(self, message):
        body = {"timestamp": _ro_stamp(self.clock()), "status": 400, "error": "Bad Request", "message": message}
        return Response.json(body, 400)

    def _count(self, limit, subject):
        """Count one call against a daily limit; False when the limit was already reached."""
        key = (_ro(self.clock()).date(), limit, subject)
        if self._counts.get(key, 0) >= self.limits[limit]:
            return False
        self._counts[key] = self._counts.get(key, 0) + 1
        return True

    def _new_index(self):
        self._next_index += 1
        return str(self._next_index)

    def _new_download_id(self):
        self._next_download += 1
        return str(self._next_download)


# -- documents --------------------------------------------------------------------------------------------------
def _upload_answer(now, *, index=None, error=None):
    attributes = {"dateResponse": _ro(now).strftime("%Y%m%d%H%M"), "ExecutionStatus": "1" if error else "0"}
    if index:
        attributes["index_incarcare"] = index
    return Response.xml(_header(NS_UPLOAD, attributes, error))


def _form_files(request):
    """The parts of a multipart/form-data body, ``{name: bytes}``."""
    content_type = next((v for k, v in request.headers.items() if k.lower() == "content-type"), "")
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + request.body)
    if not message.is_multipart():
        return {}
    return {
        part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
        for part in message.iter_parts()
    }


def _invoice_details(index, seller, buyer):
    return f"Factura cu id_incarcare={index} emisa de cif_emitent={seller} pentru cif_beneficiar={buyer}"


def _status_error(text):
    return Response.xml(_header(NS_STATUS, {}, text))


def _header(namespace, attributes, error=None):
    root = etree.Element(f"{{{namespace}}}header", nsmap={None: namespace})
    for name, value in attributes.items():
        root.set(name, value)
    if error:
        etree.SubElement(root, f"{{{namespace}}}Errors", errorMessage=error)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _error_document(upload):
    root = etree.Element(f"{{{NS_ERRORS}}}header", nsmap={None: NS_ERRORS})
    root.set("Index_incarcare", upload.index)
    root.set("Cif_emitent", _party_cif(upload.xml, "seller") or upload.cif)
    for error in upload.errors:
        etree.SubElement(root, f"{{{NS_ERRORS}}}Error", errorMessage=error)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _schema_refusal(xml, standard):
    """The XSD check ANAF runs at upload: the document must at least be XML with the root its standard names."""
    try:
        root = parse_xml(xml)
    except UnsafeInputError:
        return (
            "Fisierul transmis nu este valid. org.xml.sax.SAXParseException; lineNumber: 1; columnNumber: 1; "
            "Content is not allowed in prolog."
        )
    expected = {
        "UBL": f"{{{UBL_INVOICE}}}Invoice",
        "CN": f"{{{UBL_CREDIT_NOTE}}}CreditNote",
        "CII": f"{{{CII}}}CrossIndustryInvoice",
        "RASP": f"{{{NS_BUYER_MESSAGE}}}header",
    }[standard]
    if root.tag != expected:
        return (
            "Fisierul transmis nu este valid. org.xml.sax.SAXParseException; lineNumber: 1; columnNumber: 1; "
            f"cvc-elt.1.a: Cannot find the declaration of element '{etree.QName(root).localname}'."
        )
    return None


def _party_cif(xml, role):
    try:
        root = parse_xml(xml)
    except UnsafeInputError:
        return None
    ubl = "AccountingSupplierParty" if role == "seller" else "AccountingCustomerParty"
    cii = "SellerTradeParty" if role == "seller" else "BuyerTradeParty"
    for path in (
        f"{{*}}{ubl}/{{*}}Party/{{*}}PartyTaxScheme/{{*}}CompanyID",
        f"{{*}}{ubl}/{{*}}Party/{{*}}PartyLegalEntity/{{*}}CompanyID",
        f".//{{*}}{cii}/{{*}}SpecifiedTaxRegistration/{{*}}ID",
    ):
        digits = re.sub(r"\D", "", root.findtext(path) or "")
        if digits:
            return digits
    return None


def sign_enveloped(document, key, certificate):
    """``document`` with an enveloped XML-DSig (exc-c14n, rsa-sha256, sha256) appended, as ANAF signs downloads."""
    root = parse_xml(document)
    digest = hashlib.sha256(etree.tostring(root, method="c14n", exclusive=True)).digest()
    signature = etree.SubElement(root, f"{{{DSIG}}}Signature", nsmap={None: DSIG})
    signed_info = etree.SubElement(signature, f"{{{DSIG}}}SignedInfo")
    etree.SubElement(
        signed_info, f"{{{DSIG}}}CanonicalizationMethod", Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"
    )
    etree.SubElement(
        signed_info, f"{{{DSIG}}}SignatureMethod", Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    )
    reference = etree.SubElement(signed_info, f"{{{DSIG}}}Reference", URI="")
    transforms = etree.SubElement(reference, f"{{{DSIG}}}Transforms")
    etree.SubElement(
        transforms, f"{{{DSIG}}}Transform", Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    )
    etree.SubElement(reference, f"{{{DSIG}}}DigestMethod", Algorithm="http://www.w3.org/2001/04/xmlenc#sha256")
    etree.SubElement(reference, f"{{{DSIG}}}DigestValue").text = base64.b64encode(digest).decode()
    signed_bytes = etree.tostring(signed_info, method="c14n", exclusive=True)
    value = key.sign(signed_bytes, padding.PKCS1v15(), hashes.SHA256())
    etree.SubElement(signature, f"{{{DSIG}}}SignatureValue").text = base64.b64encode(value).decode()
    x509_data = etree.SubElement(etree.SubElement(signature, f"{{{DSIG}}}KeyInfo"), f"{{{DSIG}}}X509Data")
    etree.SubElement(x509_data, f"{{{DSIG}}}X509SubjectName").text = certificate.subject.rfc4514_string()
    der = certificate.public_bytes(serialization.Encoding.DER)
    etree.SubElement(x509_data, f"{{{DSIG}}}X509Certificate").text = base64.b64encode(der).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


@functools.cache
def _signer():
    """One test key and self-signed "ANAF TEST" certificate per process (RSA key generation is slow)."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "RO"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ANAF-TEST"),
            x509.NameAttribute(NameOID.COMMON_NAME, "ANAF TEST"),
        ]
    )
    return self_signed_certificate(name, not_before=datetime.now(timezone.utc) - timedelta(days=1), days=3651)


def _pdf(xml):
    """A small valid PDF naming the invoice, standing in for ANAF's rendering."""
    number = re.search(rb"<(?:cbc:)?ID>([^<]{1,60})</", xml)
    text = (number.group(1) if number else b"?").decode("latin-1").replace("(", "").replace(")", "")
    content = f"BT /F1 12 Tf 72 720 Td (Factura {text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for number_, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number_ + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _list_error(text):
    return Response.json({"eroare": text, "titlu": "Lista Mesaje"})


def _download_error(text):
    return Response.json({"eroare": text, "titlu": "Descarcare mesaj"})


def _html(status, body):
    return Response(status, f"<html><body>{body}</body></html>".encode(), "text/html")


def _ro(epoch):
    return datetime.fromtimestamp(epoch, RO_TIME)


def _ro_stamp(epoch):
    return _ro(epoch).strftime("%d-%m-%Y %H:%M:%S")


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _is_jwt(token):
    return token.count(".") == 2
