"""A TLS front for the simulators: real TLS on 127.0.0.1, and the stages at which a TLS connection breaks.

The simulators speak plain HTTP. A :class:`TlsFront` listens on 127.0.0.1 with a certificate of a certification
authority it makes when it is created; a client trusts it by passing :attr:`TlsFront.ca_bundle` as ``verify=``. It
relays each request to its simulator and the answer back, unless a fault injected with :meth:`TlsFront.inject`
breaks the connection. A connection carries one request (the answer says ``Connection: close``), so that a fault
of the handshake hits the next request, whichever it is.

Before anything of the request is sent (the next handshake):
  ``handshake_alert``  refuse the handshake with a fatal ``handshake_failure`` alert;
  ``handshake_reset``  reset the connection once the client's hello has arrived;
  ``untrusted``        present a certificate of another authority, which the client's verification refuses.

After the simulator has processed the request (``path`` is a regex searched in its path; empty matches every one):
  ``garbage``          send bytes that are not a TLS record instead of the answer;
  ``alert``            send a fatal TLS alert instead of the answer;
  ``close``            close the connection without an answer and without ``close_notify``;
  ``truncate``         send the answer's headers and half of its body, then close without ``close_notify``.

What really reached the platform is counted by the simulator itself (:attr:`SimServer.requests`).
"""

import contextlib
import http.client
import ipaddress
import re
import shutil
import socket
import socketserver
import ssl
import struct
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HANDSHAKE_FAULTS = frozenset({"handshake_alert", "handshake_reset", "untrusted"})
ANSWER_FAULTS = frozenset({"garbage", "alert", "close", "truncate"})

# a fatal handshake_failure alert record (RFC 8446 section 6): alerts before the end of a handshake go in clear
HANDSHAKE_FAILURE = bytes([21, 3, 3, 0, 2, 2, 40])
# what a broken middlebox writes where TLS records are expected: a plain HTTP answer
GARBAGE = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
# an application-data record whose authentication tag cannot match; the TLS layer that reads it answers with a
# fatal bad_record_mac alert, encrypted like every record after the handshake
FORGED_RECORD = bytes([23, 3, 3, 0, 32]) + bytes(32)
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


@dataclass
class TlsFault:
    """See the module's documentation for ``kind``; ``path`` only applies to the faults after processing."""

    kind: str
    path: str = ""
    times: int = 1


@dataclass
class _Request:
    method: str
    target: str
    headers: list
    body: bytes

    @property
    def path(self):
        return urlsplit(self.target).path


class TlsFront:
    """Run with ``start()`` / ``stop()`` or as a context manager, in front of a started simulator ``backend``."""

    def __init__(self, backend, host="127.0.0.1", port=0):
        self.backend = backend
        self._faults = []
        self._lock = threading.Lock()
        self._open = set()
        self._folder = Path(tempfile.mkdtemp(prefix="einvoice-tls-"))
        self.ca_bundle, self._context = _authority(self._folder, "trusted", host)
        _other_bundle, self._untrusted = _authority(self._folder, "untrusted", host)
        self._server = _Server((host, port), self._handler_class())
        self._thread = None

    @property
    def url(self):
        """The backend's API address (its ``api_prefix`` included), over TLS."""
        host, port = self._server.server_address[:2]
        return f"https://{host}:{port}{self.backend.api_prefix}"

    def inject(self, kind, *, path="", times=1):
        """Make the next ``times`` handshakes, or answers to requests matching ``path``, fail as ``kind`` says."""
        if kind not in HANDSHAKE_FAULTS | ANSWER_FAULTS:
            raise ValueError(f"unknown TLS fault {kind!r}")
        fault = TlsFault(kind, path, times)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    def start(self):
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=f"{self.backend.name} TLS", daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for sock in self._open:  # connections a client keeps alive end now, and their threads with them
                _shutdown(sock)
        if self._thread:
            self._thread.join(timeout=5)
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # -- relaying ---------------------------------------------------------------------------------------------
    def _take_fault(self, kinds, path=None):
        """The next fault of ``kinds``; ``path`` is None for a handshake, which knows no path yet."""
        with self._lock:
            for fault in self._faults:
                if fault.kind in kinds and (path is None or not fault.path or re.search(fault.path, path)):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _serve(self, sock):
        fault = self._take_fault(HANDSHAKE_FAULTS)
        if fault and fault.kind != "untrusted":
            sock.recv(65536)  # the client's hello: the handshake has begun, nothing of the request has left
            if fault.kind == "handshake_alert":
                sock.sendall(HANDSHAKE_FAILURE)
            else:
                _reset(sock)
            return
        stream = _TlsStream(sock, self._untrusted if fault else self._context)
        try:
            stream.handshake()
            request = stream.read_request()
            if request is None:
                return
            answer = self._forward(request)
            fault = self._take_fault(ANSWER_FAULTS, request.path)
            if answer is None:  # the simulator broke the connection itself (a reset, a lost answer...)
                _reset(sock)
                return
            head, body = answer
            if fault is None:
                stream.send(head + body)
                stream.close_notify()
            elif fault.kind == "garbage":
                sock.sendall(GARBAGE)
            elif fault.kind == "alert":
                stream.fatal_alert()
            elif fault.kind == "truncate":
                stream.send(head + body[: len(body) // 2])
            # "close" sends nothing more: the server closes the TCP connection, without close_notify
        except (ssl.SSLError, OSError):
            pass  # the client gave up: it refused the certificate, or went away

    def _forward(self, request):
        """The simulator's answer as ``(head, body)`` bytes to relay, or None when it broke the connection."""
        backend = urlsplit(self.backend.url)
        connection = http.client.HTTPConnection(backend.hostname, backend.port)
        headers = {name: value for name, value in request.headers if name.lower() not in _HOP_BY_HOP}
        try:
            connection.request(request.method, request.target, body=request.body or None, headers=headers)
            answer = connection.getresponse()
            body = answer.read()
        except (OSError, http.client.HTTPException):
            return None
        finally:
            connection.close()
        lines = [f"HTTP/1.1 {answer.status} {answer.reason}"]
        lines += [f"{name}: {value}" for name, value in answer.getheaders() if name.lower() not in _HOP_BY_HOP]
        lines += [f"Content-Length: {len(body)}", "Connection: close"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), body

    def _handler_class(self):
        front = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                with front._lock:
                    front._open.add(self.request)
                try:
                    front._serve(self.request)
                finally:
                    with front._lock:
                        front._open.discard(self.request)

        return Handler


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _TlsStream:
    """TLS over a plain socket through memory buffers, so that the front decides what reaches the wire."""

    def __init__(self, sock, context):
        self.sock = sock
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self._buffer = b""

    def _run(self, operation, *args):
        try:
            while True:
                try:
                    return operation(*args)
                except ssl.SSLWantReadError:
                    self._flush()
                    data = self.sock.recv(65536)
                    if data:
                        self._incoming.write(data)
                    else:
                        self._incoming.write_eof()
        finally:
            self._flush()  # also the alert the TLS layer wrote before raising

    def _flush(self):
        data = self._outgoing.read()
        if data:
            self.sock.sendall(data)

    def handshake(self):
        self._run(self.tls.do_handshake)

    def send(self, data):
        self._run(self.tls.write, data)

    def close_notify(self):
        with contextlib.suppress(ssl.SSLWantReadError):  # the client's close_notify is not waited for
            self.tls.unwrap()
        self._flush()

    def fatal_alert(self):
        self._incoming.write(FORGED_RECORD)
        with contextlib.suppress(ssl.SSLError):  # the record is refused, and the alert goes out as it is
            self._run(self.tls.read, 65536)

    def _receive(self):
        try:
            data = self._run(self.tls.read, 65536)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return False
        self._buffer += data
        return bool(data)

    def read_request(self):
        """The next request of the connection, or None when the client has finished."""
        while b"\r\n\r\n" not in self._buffer:
            if not self._receive():
                return None
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _version = request_line.split(" ", 2)
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in header_lines if ":" in line]
        length = int(next((value for name, value in headers if name.lower() == "content-length"), 0))
        while len(self._buffer) < length:
            if not self._receive():
                return None
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return _Request(method, target, headers, body)


def _reset(sock):
    # SO_LINGER 0 makes close() send a TCP reset
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _shutdown(sock):
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def _authority(folder, name, host):
    """A certification authority and a server certificate for ``host`` signed by it, written to ``folder``: the
    path of the authority's certificate (the CA bundle a client trusts) and a server context presenting the other."""
    now = datetime.now(timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1(), default_backend())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"einvoice simulators {name} CA")])
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .sign(ca_key, hashes.SHA256(), default_backend())
    )
    key = ec.generate_private_key(ec.SECP256R1(), default_backend())
    try:
        alt_name = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alt_name = x509.DNSName(host)
    server = (
        _builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]), ca_name, key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([alt_name]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256(), default_backend())
    )
    ca_path, cert_path, key_path = (folder / f"{name}-{part}.pem" for part in ("ca", "server", "key"))
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert_path), str(key_path))
    return str(ca_path), context


def _builder(subject, issuer, public_key, now):
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(*, digital_signature=False, key_cert_sign=False, crl_sign=False):
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )
