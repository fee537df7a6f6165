"""Every exchange with a simulator, held against the platform's official API description.

KSeF: the Ministry's ``open-api.json``. ANAF: its swagger page of each e-Factura service (``anaf-api/swagger``).
The simulators tell :data:`einvoice.sim.server.OBSERVERS` about each request they answer; :class:`Contract` checks
both sides with ``openapi-core`` (a maintained OpenAPI 3 validator): the path and method exist, the parameters,
headers and JSON body of the request match, the status code is one the operation declares, and the answer's
content type and body match its schema (required fields, types, enums, formats). A deviation is recorded against
the test during which it happened, and that test fails (``conftest.py``).

Paths a description does not cover are counted apart, not judged: KSeF's pre-signed upload and download addresses
(on the real platform another host, Azure storage), Latarnia (a separate service) and the simulator's aliases
without ``/v2``; ANAF's OAuth server (described by no swagger page). ANAF's XML answers are described only by
examples in its pages (the schema there is a placeholder object), so their bodies are held against the real
answers in ``samples/ro`` by the ANAF simulator's tests instead; their status and content type are checked here.
"""

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .artefacts import ANAF_API, KSEF_API

METHODS = ("get", "post", "put", "patch", "delete")
CONFORMANCE_RECORD = Path(__file__).resolve().parent.parent / "build" / "client-operations.json"
CLIENT_AGENT = "einvoice/"  # the User-Agent of our own client (einvoice.http)
# bodies the descriptions give as strings (XML documents, archives, PDF); read as text, not parsed
TEXT_BODIES = (
    "application/xml",
    "text/plain",
    "text/html",
    "application/octet-stream",
    "application/zip",
    "application/pdf",
    "*/*",
)


@dataclass(frozen=True)
class Platform:
    name: str  # the simulators' ``contract``
    prefix: re.Pattern  # where the described API is served; the rest of the path is the description's
    outside: re.Pattern  # paths under the prefix that no description covers
    check_xml_bodies: bool
    # statuses the platform documents elsewhere than in its description: the answer is not held against it
    documented_elsewhere: frozenset = frozenset()
    # schema findings where the description contradicts itself (its own examples): not deviations
    contradictions: tuple = ()


KSEF = Platform("ksef", re.compile(r"/v2(?=/)"), re.compile(r"/(upload|download|latarnia)/"), True)
# 429: ANAF's e-Factura guide (PDF) documents "429 - too many requests" for the limits of limiteApeluriAPI.txt,
# which its swagger pages do not list (research/anaf-protocol.md, "rate-limit HTTP code")
# 401: ANAF's OAuth guide, "401 - invalid or expired token" (research/anaf-protocol.md, HTTP codes for authorisation).
# timestamp: CustomErrorMessage says format date-time, while every example of the same page gives
# "05-08-2021 12:04:01" (upload.json), as ANAF really answers.
# descarcare: its 200 is described as a string (the archive), while the page's own examples of the same 200 are the
# JSON objects {"eroare": ..., "titlu": "Descarcare mesaj"} (descarcare.json)
ANAF = Platform(
    "anaf",
    re.compile(r"/(test|prod)/FCTEL/rest(?=/)"),
    re.compile(r"$^"),
    False,
    frozenset({401, 429}),
    (
        re.compile(r"^timestamp: .* is not a 'date-time'$"),
        re.compile(r"^\(body\): \{'eroare': .*\} is not of type 'string'$"),
    ),
)


@dataclass
class Deviation:
    side: str  # "request" or "answer"
    exchange: str  # "POST /v2/auth/challenge -> 200"
    errors: list

    def __str__(self):
        return f"{self.side} of {self.exchange}: " + "; ".join(self.errors)


@dataclass
class Description:
    """One OpenAPI document: the validator and ``(METHOD, template, regex)`` of each of its operations."""

    api: object
    operations: list
    host_url: str  # where the description's first server is: the host stands for the simulator's
    base_path: str

    @classmethod
    def of(cls, spec):
        from openapi_core import Config, OpenAPI

        operations = [
            (method.upper(), path, re.compile(re.sub(r"\{[^}]+\}", "[^/]+", path)))
            for path, item in spec["paths"].items()
            for method in item
            if method in METHODS
        ]
        # XML bodies (invoices, UPO, XAdES requests) are strings to the descriptions; openapi-core would parse them
        # into elements and then find an element is not a string
        deserializers = dict.fromkeys(TEXT_BODIES, _text) | {"application/problem+json": _json, "*/*": _any}
        server = urlsplit((spec.get("servers") or [{"url": "http://localhost"}])[0]["url"])
        return cls(
            OpenAPI.from_dict(spec, config=Config(extra_media_type_deserializers=deserializers)),
            operations,
            f"{server.scheme}://{server.netloc}",
            server.path.rstrip("/"),
        )

    def operation(self, method, path):
        """``METHOD /template`` of the operation called; literal paths win over templated ones."""
        matches = [
            (template.count("{"), f"{method} {template}")
            for operation_method, template, regex in self.operations
            if operation_method == method and regex.fullmatch(path)
        ]
        return min(matches)[1] if matches else None


@dataclass
class Contract:
    """The checker of one test session for one platform; ``deviations`` is emptied by the test that reads it."""

    platform: Platform
    descriptions: list
    checked: int = 0
    outside: int = 0
    deviations: list = field(default_factory=list)
    operations: set = field(default_factory=set)
    used_by_client: set = field(default_factory=set)  # the operations our own client called
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, platform):
        """The contract from the official description, or None when it or ``openapi-core`` is not there."""
        try:
            import openapi_core  # noqa: F401
        except ImportError:
            return None
        artefact, files = {"ksef": (KSEF_API, "open-api.json"), "anaf": (ANAF_API, "swagger/*.json")}[platform.name]
        location = artefact.location()
        if location is None:
            return None
        specs = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(location.glob(files))]
        return cls(platform, [Description.of(spec) for spec in specs])

    @property
    def total(self):
        return sum(len(description.operations) for description in self.descriptions)

    def observe(self, server, request, response):
        if getattr(server, "contract", None) != self.platform.name or response is None:
            return
        prefix = self.platform.prefix.match(request.path)
        path = request.path[prefix.end() :] if prefix else None
        found = (
            next(((d, op) for d in self.descriptions if (op := d.operation(request.method, path))), None)
            if path and not self.platform.outside.match(path)
            else None
        )
        if found is None:
            with self._lock:
                self.outside += 1
            return
        description, operation = found
        exchange = f"{request.method} {request.path} -> {response.status}"
        deviations = []
        wrapped_request = _Request(request, description.host_url, description.base_path + path)
        errors = _messages(description.api.unmarshal_request(wrapped_request).errors, self.platform.contradictions)
        if errors:
            deviations.append(Deviation("request", exchange, errors))
        answer = description.api.unmarshal_response(wrapped_request, _Response(response)).errors
        if not self.platform.check_xml_bodies and "xml" in response.content_type:
            answer = [error for error in answer if type(error).__name__ != "InvalidData"]
        if response.status in self.platform.documented_elsewhere:
            answer = [error for error in answer if type(error).__name__ != "ResponseNotFound"]
        errors = _messages(answer, self.platform.contradictions)
        if errors:
            deviations.append(Deviation("answer", exchange, errors))
        ours = any(k.lower() == "user-agent" and v.startswith(CLIENT_AGENT) for k, v in request.headers.items())
        with self._lock:
            self.checked += 1
            self.operations.add(operation)
            if ours:
                self.used_by_client.add(operation)
            self.deviations.extend(deviations)

    def take(self):
        with self._lock:
            found, self.deviations = self.deviations, []
        return found


def _text(body, **_parameters):
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else body


def _json(body, **_parameters):
    return json.loads(body)


def _any(body, **_parameters):
    """A body described as ``*/*``: JSON when it is JSON (ANAF's error objects), else text (archives, XML)."""
    try:
        return json.loads(body)
    except ValueError:
        return _text(body)


def _messages(errors, contradictions=()):
    messages = []
    for error in errors:
        # the schema errors say which field and why; the error itself only that the body is invalid
        details = getattr(error, "schema_errors", None) or getattr(error.__cause__, "schema_errors", None)
        if details:
            fields = {f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}" for e in details}
            fields = {text for text in fields if not any(pattern.match(text) for pattern in contradictions)}
            if fields:
                messages.append(f"{type(error).__name__}: " + ", ".join(sorted(fields)))
        else:
            messages.append(f"{type(error).__name__}: {error}" + (f" ({error.__cause__})" if error.__cause__ else ""))
    return messages


class _Request:
    """A simulator request as ``openapi-core`` reads it."""

    def __init__(self, request, host_url, path):
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        # the description's server stands for the simulator: its host, its base path, then the operation's path
        self.host_url = host_url
        self.path = path
        self.method = request.method.lower()
        self.body = request.body or None
        headers = Headers(request.headers)
        # without a Content-Type the recipient may assume application/octet-stream (RFC 9110, 8.3)
        self.content_type = (headers.get("Content-Type") or "application/octet-stream").lower()
        query = [(name, value) for name, values in request.query.items() for value in values]
        self.parameters = RequestParameters(query=ImmutableMultiDict(query), header=headers)


class _Response:
    def __init__(self, response):
        from werkzeug.datastructures import Headers

        self.status_code = response.status
        self.data = response.body
        self.content_type = response.content_type.lower()
        self.headers = Headers({"Content-Type": response.content_type, **response.headers})
