"""The HTTP server under every simulator: routing, a request log, and fault injection.

A simulator subclasses :class:`SimServer` and registers routes with :meth:`SimServer.route`. Tests and the demo
start it on 127.0.0.1 (port 0 picks a free one), inject faults for the next requests, and read
:attr:`SimServer.requests` to count what really reached the platform.
"""

import json
import re
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

WAF_PAGE = (
    b"<html><head><title>Request Rejected</title></head><body>The requested URL was rejected. "
    b"Please consult with your administrator.<br><br>Your support ID is: 1234567890123456789</body></html>"
)


class ManualClock:
    """Time that moves only when told to: the clock of a simulator and its clients in a test or the demo.

    Called, it gives epoch seconds like ``time.time()``; :meth:`datetime` gives the same moment as an aware datetime.
    """

    def __init__(self, start):
        self.now = start.timestamp() if isinstance(start, datetime) else float(start)

    def __call__(self):
        return self.now

    def datetime(self):
        return datetime.fromtimestamp(self.now, timezone.utc)

    def advance(self, seconds):
        self.now += seconds


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    params: dict = field(default_factory=dict)

    def arg(self, name, default=None):
        values = self.query.get(name)
        return values[0] if values else default

    def json(self):
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)

    @classmethod
    def json(cls, data, status=200, **kwargs):
        return cls(status, json.dumps(data).encode("utf-8"), "application/json", **kwargs)

    @classmethod
    def xml(cls, data, status=200, **kwargs):
        return cls(status, data if isinstance(data, bytes) else data.encode("utf-8"), "application/xml", **kwargs)


@dataclass
class Fault:
    """What goes wrong with a matching request.

    kind:
      ``latency``   answer normally after ``seconds``;
      ``status``    answer ``status`` with ``body`` and ``headers`` instead of the real answer;
      ``waf``       answer 200 with a firewall HTML page;
      ``hang``      say nothing for ``seconds`` (the client times out), then close;
      ``reset``     close the connection with a TCP reset before answering;
      ``truncate``  send the headers and half the real body, then close;
      ``lost``      process the request for real, then reset the connection: the answer is lost.

    Faults of TLS itself (a broken handshake, garbage or an alert in place of the answer) are injected in the
    :class:`~einvoice.sim.tls.TlsFront` put before a simulator.
    """

    kind: str
    status: int = 500
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    seconds: float = 0.0
    path: str = ""  # a regex searched in the path; empty matches every request
    times: int = 1


def header(request, name):
    """The value of the request header ``name`` (lower case), whatever case the client wrote it in."""
    return next((value for key, value in request.headers.items() if key.lower() == name), None)


def bearer(request):
    """The token of an ``Authorization: Bearer`` header, or None."""
    value = header(request, "authorization") or ""
    return value[7:] if value.lower().startswith("bearer ") else None


class Observers:
    """Callables ``(server, request, response)`` told of every answer a simulator gives (not of injected faults),
    after it was sent, so watching never delays an answer. The tests hold each exchange against the platform's
    official API description; :meth:`wait_idle` waits until every answer sent so far has been observed."""

    def __init__(self):
        self._callables = []
        self._pending = 0
        self._idle = threading.Condition()

    def add(self, observer):
        self._callables.append(observer)

    def remove(self, observer):
        self._callables.remove(observer)

    def answering(self):
        with self._idle:
            self._pending += 1

    def answered(self, server, request, response):
        try:
            for observer in list(self._callables):
                observer(server, request, response)
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout=30):
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)


OBSERVERS = Observers()


class SimServer:
    """Run with ``start()`` / ``stop()`` or as a context manager; ``url`` is its base address."""

    name = "simulator"
    poll_interval = 0.05  # how often serve_forever looks for a stop request: stop() waits up to this long

    def __init__(self, host="127.0.0.1", port=0):
        self._routes = []
        self._faults = []
        self._lock = threading.Lock()
        self.requests = []
        self.statuses = Counter()  # how many answers of each HTTP status were sent (faults included)
        self.throttled = []  # the requests answered 429, as "METHOD /path"
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = None
        self._release = threading.Event()

    # -- set-up -----------------------------------------------------------------------------------------------
    def route(self, method, pattern, handler):
        """``handler(request) -> Response`` for ``method`` and a path matching the regex ``pattern`` fully."""
        self._routes.append((method.upper(), re.compile(pattern), handler))

    def inject(self, kind, **kwargs):
        """Make the next ``times`` matching requests fail as :class:`Fault` ``kind`` describes (``path`` is
        searched in the path without ``api_prefix``, as :meth:`requests_to` matches)."""
        fault = Fault(kind, **kwargs)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    @property
    def url(self):
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(self.poll_interval,), name=self.name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        self._release.set()
        if self._thread:  # shutdown() waits for a serving loop: a simulator never started has none
            self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def serve_forever(self):
        """Serve in the foreground until interrupted (``python -m einvoice.sim``)."""
        try:
            self._httpd.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self._httpd.server_close()

    # -- inspection -------------------------------------------------------------------------------------------
    api_prefix = ""  # the path the API is served under, left out of what ``requests_to`` matches

    def requests_to(self, pattern, method=None):
        """The requests received whose path (without ``api_prefix``) matches the regex ``pattern``."""
        regex = re.compile(pattern)
        return [
            r
            for r in self.requests
            if regex.search(r.path.removeprefix(self.api_prefix)) and (method is None or r.method == method)
        ]

    # -- request handling -------------------------------------------------------------------------------------
    def _take_fault(self, path):
        with self._lock:
            for fault in self._faults:
                if not fault.path or re.search(fault.path, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def dispatch(self, request):
        allowed = False
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match:
                allowed = True
                if method == request.method:
                    request.params = match.groupdict()
                    return handler(request)
        if allowed:
            return Response.json({"error": "Method Not Allowed"}, status=405)
        return Response.json({"error": "Not Found", "path": request.path}, status=404)

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms delayed-ACK stall

            def log_message(self, format, *args):  # the request log is SimServer.requests
                pass

            def _serve(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    self.command, parts.path, parse_qs(parts.query, keep_blank_values=True), dict(self.headers), body
                )
                with server._lock:
                    server.requests.append(request)
                fault = server._take_fault(request.path.removeprefix(server.api_prefix))
                if fault and fault.kind == "latency":
                    time.sleep(fault.seconds)
                    fault = None
                if fault and fault.kind in ("hang", "reset"):
                    if fault.kind == "hang":
                        server._release.wait(fault.seconds)
                    return self._abort()
                if fault and fault.kind == "status":
                    return self._send(Response(fault.status, fault.body, "text/plain", dict(fault.headers)))
                if fault and fault.kind == "waf":
                    return self._send(Response(200, WAF_PAGE, "text/html"))
                OBSERVERS.answering()
                response = None
                try:
                    response = server.dispatch(request)
                    if fault and fault.kind == "lost":
                        return self._abort()
                    if fault and fault.kind == "truncate":
                        return self._send(response, truncate=True)
                    return self._send(response)
                finally:
                    OBSERVERS.answered(server, request, response)

            def _send(self, response, truncate=False):
                with server._lock:
                    server.statuses[response.status] += 1
                    if response.status == 429:
                        server.throttled.append(f"{self.command} {urlsplit(self.path).path}")
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(response.body)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if truncate:
                    self.wfile.write(response.body[: len(response.body) // 2])
                    self.wfile.flush()
                    return self._abort()
                self.wfile.write(response.body)

            def _abort(self):
                # SO_LINGER 0 makes close() send a TCP reset: the client sees the connection die mid-request
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

        return Handler


def self_signed_certificate(subject, *, not_before, days):
    """An RSA-2048 key and a certificate for ``subject`` (:class:`x509.Name`) signed by itself: the simulators'
    stand-ins for the platforms' real seals."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048, backend=default_backend())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days))
        .sign(key, hashes.SHA256(), default_backend())
    )
    return key, certificate
