"""Every exchange with the KSeF simulator, held against the Ministry's official API description (``open-api.json``).

The simulators tell :data:`einvoice.sim.server.OBSERVERS` about each request they answer; :class:`Contract` checks
both sides with ``openapi-core`` (a maintained OpenAPI 3 validator): the path and method exist, the parameters,
headers and JSON body of the request match, the status code is one the operation declares, and the answer's
content type and body match its schema (required fields, types, enums, formats). A deviation is recorded against
the test during which it happened, and that test fails (``conftest.py``).

Paths the description does not cover are counted apart, not judged: the pre-signed upload and download addresses
(on the real platform another host, Azure storage), Latarnia (a separate service) and the simulator's aliases
without ``/v2``.
"""

import json
import re
import threading
from dataclasses import dataclass, field

from .artefacts import KSEF_API

API_PREFIX = "/v2"
# the real platform's storage host and its availability service (Latarnia, another API), not in the description
OUTSIDE_THE_API = re.compile(r"^/(upload|download|latarnia)/")


@dataclass
class Deviation:
    side: str  # "request" or "answer"
    exchange: str  # "POST /v2/auth/challenge -> 200"
    errors: list

    def __str__(self):
        return f"{self.side} of {self.exchange}: " + "; ".join(self.errors)


@dataclass
class Contract:
    """The checker of one test session; ``deviations`` is emptied by the test that reads it."""

    api: object
    templates: list  # (method, path template, regex) of every operation of the description
    checked: int = 0
    outside: int = 0
    deviations: list = field(default_factory=list)
    operations: set = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls):
        """The contract from the official description, or None when it or ``openapi-core`` is not there."""
        location = KSEF_API.location()
        try:
            from openapi_core import Config, OpenAPI
        except ImportError:
            return None
        if location is None:
            return None
        spec = json.loads((location / "open-api.json").read_text(encoding="utf-8"))
        templates = [
            (method.upper(), path, re.compile(API_PREFIX + re.sub(r"\{[^}]+\}", "[^/]+", path)))
            for path, item in spec["paths"].items()
            for method in item
            if method in ("get", "post", "put", "patch", "delete")
        ]
        # the description gives XML bodies (invoices, UPO, XAdES requests) as strings; openapi-core would parse them
        # into elements and then find an element is not a string
        deserializers = {"application/xml": _text, "application/octet-stream": _text, "application/problem+json": _json}
        return cls(OpenAPI.from_dict(spec, config=Config(extra_media_type_deserializers=deserializers)), templates)

    def operation(self, request):
        """``METHOD /template`` of the operation ``request`` calls; literal paths win over templated ones."""
        matches = [
            (path.count("{"), f"{method} {path}")
            for method, path, regex in self.templates
            if method == request.method and regex.fullmatch(request.path)
        ]
        return min(matches)[1] if matches else None

    def observe(self, server, request, response):
        if getattr(server, "contract", None) != "ksef" or response is None:
            return
        if not request.path.startswith(API_PREFIX + "/") or OUTSIDE_THE_API.match(request.path[len(API_PREFIX) :]):
            with self._lock:
                self.outside += 1
            return
        exchange = f"{request.method} {request.path} -> {response.status}"
        found = []
        wrapped_request = _Request(request)
        errors = _messages(self.api.unmarshal_request(wrapped_request).errors)
        if errors:
            found.append(Deviation("request", exchange, errors))
        errors = _messages(self.api.unmarshal_response(wrapped_request, _Response(response)).errors)
        if errors:
            found.append(Deviation("answer", exchange, errors))
        operation = self.operation(request)
        with self._lock:
            self.checked += 1
            self.operations.add(operation)
            self.deviations.extend(found)

    def take(self):
        with self._lock:
            found, self.deviations = self.deviations, []
        return found


def _text(body, **_parameters):
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else body


def _json(body, **_parameters):
    return json.loads(body)


def _messages(errors):
    messages = []
    for error in errors:
        # the schema errors say which field and why; the error itself only that the body is invalid
        details = getattr(error, "schema_errors", None) or getattr(error.__cause__, "schema_errors", None)
        if details:
            fields = {f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}" for e in details}
            messages.append(f"{type(error).__name__}: " + ", ".join(sorted(fields)))
        else:
            messages.append(f"{type(error).__name__}: {error}" + (f" ({error.__cause__})" if error.__cause__ else ""))
    return messages


class _Request:
    """A simulator request as ``openapi-core`` reads it."""

    def __init__(self, request):
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        # the description's server is https://api-test.ksef.mf.gov.pl/v2: its host stands for ours
        self.host_url = "https://api-test.ksef.mf.gov.pl"
        self.path = request.path
        self.method = request.method.lower()
        self.body = request.body or None
        headers = Headers(request.headers)
        self.content_type = (headers.get("Content-Type") or "").lower()
        query = [(name, value) for name, values in request.query.items() for value in values]
        self.parameters = RequestParameters(query=ImmutableMultiDict(query), header=headers)


class _Response:
    def __init__(self, response):
        from werkzeug.datastructures import Headers

        self.status_code = response.status
        self.data = response.body
        self.content_type = response.content_type.lower()
        self.headers = Headers({"Content-Type": response.content_type, **response.headers})
