"""The KSeF simulator driven by a third-party SDK: ``ksef-client`` from PyPI (installed with its dependencies in the
current-releases environment only; the pinned one lacks httpx and a new enough cryptography).

Each step of a working day is its own test, in order, on one simulator: public keys, KSeF-token and XAdES logins, an
online session with an FA(3) invoice, its statuses and UPOs, batch sessions (Zip and TarGz), a metadata query, exports
in several parts checked against their hashes (Zip and TarGz), a download by KSeF number, and a 429 with Retry-After.
Every exchange is also held against open-api.json (``conftest.py``). Where the peer leaves the official description,
the test says so with the evidence and works around it here, never in the simulator.
"""

import base64
import hashlib
from datetime import datetime, timedelta, timezone

import pytest

ksef_client = pytest.importorskip(
    "ksef_client", reason="the third-party KSeF SDK ksef-client is not installed with its dependencies (httpx)"
)
pytest.importorskip("xmlsec", reason="ksef-client signs XAdES with xmlsec (its [xml] extra), not installed")

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from ksef_client import KsefClient, KsefClientOptions  # noqa: E402
from ksef_client import http as peer_http  # noqa: E402
from ksef_client import models as m  # noqa: E402
from ksef_client.exceptions import KsefRateLimitError  # noqa: E402
from ksef_client.services import AuthCoordinator  # noqa: E402
from ksef_client.services.crypto import build_encryption_data  # noqa: E402
from ksef_client.services.workflows import (  # noqa: E402
    BatchSessionWorkflow,
    ExportWorkflow,
    OnlineSessionWorkflow,
)
from ksef_client.utils.zip_utils import build_tar_gz, build_zip  # noqa: E402

from einvoice.pl.ksef import KEY_FOR_SESSIONS, KEY_FOR_TOKEN, LIMITS  # noqa: E402
from einvoice.sim import ManualClock  # noqa: E402
from einvoice.sim.ksef import KsefSimulator  # noqa: E402
from einvoice.xmlsafe import parse_xml  # noqa: E402

from .test_ksef_crypto import make_certificate, rsa_key  # noqa: E402
from .test_ksef_flows import SELLER, invoice, sample  # noqa: E402

FA3 = m.FormCode(system_code="FA (3)", schema_version="1-0E", value="FA")
UPO = "{http://upo.schematy.mf.gov.pl/KSeF/v4-3}"


@pytest.fixture(scope="module")
def clock():
    return ManualClock(datetime.now(timezone.utc).replace(microsecond=0))


@pytest.fixture(scope="module")
def sim(clock):
    with KsefSimulator(clock=clock.datetime, export_part_bytes=2048) as server:
        yield server


@pytest.fixture(scope="module")
def peer(sim):
    # open-api.json gives the pre-signed upload and download addresses (UpoPageResponse.downloadUrl,
    # PartUploadRequest.url, InvoicePackagePart.url) as plain URIs on the storage host; ksef-client also refuses any
    # loopback or plain-http one, a guard of its own against server-side request forgery. Our storage lives on
    # 127.0.0.1 beside the API, so the guard is lifted for exactly the simulator's origin and for nothing else.
    guard = peer_http._validate_presigned_url_security
    origin = sim.origin + "/"

    def storage_of_the_simulator(options, url):
        if not url.startswith(origin):
            guard(options, url)

    patch = pytest.MonkeyPatch()
    patch.setattr(peer_http, "_validate_presigned_url_security", storage_of_the_simulator)
    with KsefClient(KsefClientOptions(base_url=sim.url, timeout_seconds=10)) as client:
        yield client
    patch.undo()


@pytest.fixture(scope="module")
def day():
    """What the steps hand on to the next: tokens, the session, the invoices' KSeF numbers. Every step skips when
    the Ministry's sample invoice is missing, rather than failing for lack of what an earlier step skipped."""
    sample()
    return {}


# -- authentication ------------------------------------------------------------------------------------------------
def test_public_keys(sim, peer, day):
    published = peer.security.get_public_key_certificates()
    assert len(published) == len(sim.ministry_keys)
    for usage, credentials, key_id in sim.ministry_keys:
        chosen = peer.security.get_public_key_certificate(usage)
        der = credentials.certificate.public_bytes(serialization.Encoding.DER)
        assert base64.b64decode(chosen.certificate) == der
        assert chosen.public_key_id == key_id
        day[usage] = chosen
    assert {KEY_FOR_TOKEN, KEY_FOR_SESSIONS} <= set(day)


def test_ksef_token_login(sim, peer, day):
    key = day[KEY_FOR_TOKEN]
    result = AuthCoordinator(peer.auth).authenticate_with_ksef_token(
        token=sim.issue_ksef_token(SELLER),
        public_certificate=key.certificate,
        public_key_id=key.public_key_id,
        context_identifier_type="nip",
        context_identifier_value=SELLER,
        poll_interval_seconds=0,
    )
    assert sim.access_tokens[result.access_token]["nip"] == SELLER
    assert sim.refresh_tokens[result.refresh_token]["nip"] == SELLER
    status = peer.auth.get_auth_status(result.reference_number, result.authentication_token)
    assert (status.status.code, status.authentication_method_info.category) == (200, "Token")
    assert status.is_token_redeemed is True
    day["token"] = result.access_token


def test_xades_login(sim, peer, day):
    key = rsa_key()
    certificate = make_certificate(key, nip=SELLER, company=True)
    result = AuthCoordinator(peer.auth).authenticate_with_xades(
        context_identifier_type="nip",
        context_identifier_value=SELLER,
        subject_identifier_type="certificateSubject",
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        poll_interval_seconds=0,
    )
    assert sim.access_tokens[result.access_token]["nip"] == SELLER
    status = peer.auth.get_auth_status(result.reference_number, result.authentication_token)
    assert status.authentication_method_info.code == "xades.qualified-seal"
    # the signed request carried the peer's own XAdES signature, checked by the simulator with that certificate
    signed = parse_xml(sim.requests_to("/auth/xades-signature")[-1].body)
    embedded = signed.xpath("//*[local-name()='X509Certificate']")[0].text
    assert x509.load_der_x509_certificate(base64.b64decode(embedded)) == certificate


# -- online session ------------------------------------------------------------------------------------------------
def test_online_session_with_an_fa3_invoice(sim, peer, day):
    key = day[KEY_FOR_SESSIONS]
    session = OnlineSessionWorkflow(peer.sessions).open_session(
        form_code=FA3,
        public_certificate=key.certificate,
        public_key_id=key.public_key_id,
        access_token=day["token"],
    )
    xml = invoice("PEER/ONLINE/1")
    sent = session.send_invoice(xml)
    session.close()
    stored = sim.invoices[sent.reference_number]
    assert stored.xml == xml and stored.session == session.reference_number
    day.update(online=session, online_invoice=sent.reference_number, online_xml=xml)


def test_statuses(sim, clock, peer, day):
    session = day["online"]
    assert session.get_invoice_status(day["online_invoice"]).status.code == 150
    clock.advance(sim.processing_delay.total_seconds())
    status = session.get_status()
    assert (status.status.code, status.invoice_count, status.successful_invoice_count) == (200, 1, 1)
    invoice_status = session.get_invoice_status(day["online_invoice"])
    assert invoice_status.status.code == 200
    assert invoice_status.invoice_hash == base64.b64encode(hashlib.sha256(day["online_xml"]).digest()).decode()
    listed = session.list_invoices()
    assert [i.ksef_number for i in listed.invoices] == [invoice_status.ksef_number]
    assert session.list_failed_invoices().invoices == []
    day["online_ksef"] = invoice_status.ksef_number


def test_upo(sim, peer, day):
    session = day["online"]
    by_reference = session.get_invoice_upo_by_ref(day["online_invoice"])
    by_number = session.get_invoice_upo_by_ksef(day["online_ksef"])
    for upo in (by_reference, by_number):
        assert parse_xml(upo).findtext(f"{UPO}Dokument/{UPO}NumerKSeFDokumentu") == day["online_ksef"]
    page = session.get_status().upo.pages[0]
    session_upo = session.get_upo(page.reference_number)
    assert parse_xml(session_upo).findtext(f"{UPO}NumerReferencyjnySesji") == session.reference_number
    # the pre-signed page, fetched without a token the way the peer fetches storage addresses
    stored = peer.http_client.request("GET", page.download_url, skip_auth=True)
    assert stored.content == session_upo
    assert stored.headers["x-ms-meta-hash"] == base64.b64encode(hashlib.sha256(session_upo).digest()).decode()


# -- batch session -------------------------------------------------------------------------------------------------
def batch(sim, clock, peer, day, compression, pack):
    """A batch session of two invoices packed by the peer; their KSeF numbers once the simulator accepted them."""
    key = day[KEY_FOR_SESSIONS]
    xmls = {f"peer-{compression}-{n}.xml": invoice(f"PEER/BATCH/{compression}/{n}") for n in (1, 2)}
    reference = BatchSessionWorkflow(peer.sessions, peer.http_client).open_upload_and_close(
        form_code=FA3,
        archive_bytes=pack(xmls),
        compression_type=compression,
        public_certificate=key.certificate,
        public_key_id=key.public_key_id,
        access_token=day["token"],
    )
    assert sim.sessions[reference]["batch_file"]["compressionType"] == compression
    clock.advance(sim.processing_delay.total_seconds())
    status = peer.sessions.get_session_status(reference, access_token=day["token"])
    assert (status.status.code, status.successful_invoice_count, status.failed_invoice_count) == (200, 2, 0)
    listed = peer.sessions.get_session_invoices(reference, access_token=day["token"]).invoices
    assert sorted(i.invoice_file_name for i in listed) == sorted(xmls)
    assert {sim.invoices[i.reference_number].xml for i in listed} == set(xmls.values())
    day.setdefault("batch_ksef", []).extend(i.ksef_number for i in listed)


def test_batch_session(sim, clock, peer, day):
    batch(sim, clock, peer, day, "Zip", build_zip)


def test_batch_session_as_targz(sim, clock, peer, day):
    """BatchFileInfo.compressionType: "Obsługiwane typy: Zip oraz TarGz" (open-api.json, API 2.6.0)."""
    batch(sim, clock, peer, day, "TarGz", build_tar_gz)


# -- incoming ------------------------------------------------------------------------------------------------------
def date_range(sim, clock):
    return {"from": (clock.datetime() - timedelta(days=1)).isoformat(), "to": clock.datetime().isoformat()}


def test_metadata_query(sim, clock, peer, day):
    clock.advance(sim.storage_delay.total_seconds())
    span = date_range(sim, clock)
    query = {
        "subject_type": m.InvoiceQuerySubjectType.SUBJECT1,
        "date_type": m.InvoiceQueryDateType.INVOICING,
        "date_from": span["from"],
        "date_to": span["to"],
        "access_token": day["token"],
        "page_size": 10,
    }
    found = peer.invoices.query_invoice_metadata_by_date_range(**query)
    expected = sorted([day["online_ksef"], *day["batch_ksef"]])
    assert len(expected) == 5
    assert sorted(i.ksef_number for i in found.invoices) == expected
    assert found.has_more is False
    numbers = {i.ksef_number: i.invoice_number for i in found.invoices}
    assert numbers[day["online_ksef"]] == "PEER/ONLINE/1"
    assert sorted(i.ksef_number for i in peer.invoices.iter_invoice_metadata_by_date_range(**query)) == expected


def export(sim, clock, peer, day, compression):
    """The peer's export of everything stored today, the answer read as JSON, and the peer's model of its package:
    ksef-client 0.20.0 (written for API 2.9.0) reads InvoicePackage.compressionType as required and cannot read a
    finished export without it; open-api.json (API 2.6.0) has no such property (InvoicePackage required:
    invoiceCount, size, parts, isTruncated): the package is compressed as the request asked, Zip by default
    (InvoiceExportRequest.compressionType). So the test gives the peer's model the compression it asked for."""
    key = day[KEY_FOR_SESSIONS]
    encryption = build_encryption_data(key.certificate, public_key_id=key.public_key_id)
    span = date_range(sim, clock)
    filters = m.InvoiceQueryFilters(
        subject_type=m.InvoiceQuerySubjectType.SUBJECT1,
        date_range=m.InvoiceQueryDateRange(
            date_type=m.InvoiceQueryDateType.PERMANENTSTORAGE, from_=span["from"], to=span["to"]
        ),
    )
    request = m.InvoiceExportRequest(
        encryption=encryption.encryption_info, filters=filters, compression_type=m.CompressionType(compression)
    )
    started = peer.invoices.export_invoices(request, access_token=day["token"])
    assert peer.invoices.get_export_status(started.reference_number, access_token=day["token"]).status.code == 100
    clock.advance(sim.export_delay.total_seconds())
    answer = peer.http_client.request(
        "GET", f"/invoices/exports/{started.reference_number}", access_token=day["token"]
    ).json()
    assert answer["status"]["code"] == 200 and "compressionType" not in answer["package"]
    package = m.InvoicePackage.from_dict({**answer["package"], "compressionType": compression})
    assert len(package.parts) > 1  # the simulator cuts parts of 2 KiB
    return package, encryption


def test_export_with_parts_and_hash_check(sim, clock, peer, day):
    package, encryption = export(sim, clock, peer, day, "Zip")
    workflow = ExportWorkflow(peer.invoices, peer.http_client)
    result = workflow.download_and_process_package(package, encryption)
    expected = {day["online_ksef"], *day["batch_ksef"]}
    assert {name.removesuffix(".xml") for name in result.invoice_xml_files} == expected
    assert result.invoice_xml_files[day["online_ksef"] + ".xml"].encode() == day["online_xml"]
    assert {summary["ksefNumber"] for summary in result.metadata_summaries} == expected
    # the peer's hash check: a part whose bytes differ from the x-ms-meta-hash sent with them is refused
    part = package.parts[0]
    genuine = peer.invoices.download_export_part_with_hash(part.url)
    assert genuine.sha256_base64 == part.encrypted_part_hash
    damaged = bytes([genuine.content[0] ^ 1]) + genuine.content[1:]
    headers = {"x-ms-meta-hash": part.encrypted_part_hash}
    sim.inject("status", status=200, body=damaged, headers=headers, path=part.url.rsplit("/", 1)[1])
    with pytest.raises(ValueError, match="hash mismatch"):
        workflow.download_and_process_package(package, encryption)


def test_export_as_targz(sim, clock, peer, day):
    """InvoiceExportRequest.compressionType: "Obsługiwane typy: Zip oraz TarGz" (open-api.json, API 2.6.0)."""
    package, encryption = export(sim, clock, peer, day, "TarGz")
    assert all(part.part_name.endswith(".tar.gz.aes") for part in package.parts)
    result = ExportWorkflow(peer.invoices, peer.http_client).download_and_process_package(package, encryption)
    assert {name.removesuffix(".xml") for name in result.invoice_xml_files} == {day["online_ksef"], *day["batch_ksef"]}


def test_download_by_ksef_number(sim, peer, day):
    downloaded = peer.invoices.get_invoice_bytes(day["online_ksef"], access_token=day["token"])
    assert downloaded.content == day["online_xml"]
    assert downloaded.sha256_base64 == base64.b64encode(hashlib.sha256(day["online_xml"]).digest()).decode()


def test_429_with_retry_after(sim, clock, peer, day):
    """Both answers KSeF gives past a limit: the legacy TooManyRequestsResponse, and problem details for a client
    that asks for them with X-Error-Format, as the peer's own command line does."""
    allowed = LIMITS["download"][0]
    problem_peer = KsefClient(
        KsefClientOptions(base_url=sim.url, timeout_seconds=10, custom_headers={"X-Error-Format": "problem-details"})
    )
    for client, problem in ((peer, m.TooManyRequestsResponse), (problem_peer, m.TooManyRequestsProblemDetails)):
        clock.advance(60)  # a new minute: the per-second and per-minute windows are empty again
        with pytest.raises(KsefRateLimitError) as limited:
            for _attempt in range(allowed + 1):
                client.invoices.get_invoice_bytes(day["online_ksef"], access_token=day["token"])
        assert limited.value.status_code == 429
        assert limited.value.retry_after == 1
        assert isinstance(limited.value.problem, problem)
        assert sim.throttled[-1].endswith(f"/invoices/ksef/{day['online_ksef']}")
    problem_peer.close()
