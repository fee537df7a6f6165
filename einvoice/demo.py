"""``einvoice demo``: the main job against the embedded simulators, with progress shown."""

import io
import zipfile

from .http import HttpClient, OutcomeUnknownError
from .secrets import SecretBox, SecretKeyError, generate_key
from .sim import Response, SimServer
from .xmlsafe import UnsafeInputError, parse_xml, read_zip


def step(title):
    print(f"\n== {title}")


def run():
    step("Secrets at rest")
    box = SecretBox(generate_key())
    token = box.encrypt("client-secret-from-the-platform")
    print(f"  encrypted: {token[:24]}...")
    print(f"  decrypted with the right key: {box.decrypt_text(token)!r}")
    try:
        SecretBox(generate_key()).decrypt(token)
    except SecretKeyError as error:
        print(f"  with a wrong key: {error}")

    step("Untrusted input")
    xxe = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    for label, action in (
        ("XXE", lambda: parse_xml(xxe)),
        ("zip bomb", lambda: read_zip(_zip_bomb())),
        ("path traversal", lambda: read_zip(_zip({"../../etc/cron.d/x": b"x"}))),
    ):
        try:
            action()
            print(f"  {label}: ACCEPTED (this is a bug)")
        except UnsafeInputError as error:
            print(f"  {label}: refused -- {error}")

    step("Transport: an upload whose answer is lost is never sent twice")
    with SimServer() as platform:
        platform.route(
            "POST", "/upload", lambda request: Response.xml('<header ExecutionStatus="0" index_incarcare="1"/>')
        )
        client = HttpClient(platform.url, platform="simulator", timeout=(2, 2))
        platform.inject("lost", path="/upload")
        try:
            client.post("/upload", data=b"<Invoice/>")
        except OutcomeUnknownError as error:
            print(f"  upload: {error}")
        print(f"  uploads the simulator received: {len(platform.requests_to('/upload'))}")
    print("\nDemo finished.")
    return 0


def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _zip_bomb():
    return _zip({"invoice.xml": b"\0" * (50 * 1024 * 1024)})
