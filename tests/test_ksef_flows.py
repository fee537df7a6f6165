"""KSeF flows over real HTTP against the simulator: login, online and batch sessions, faults, incoming sync."""

import base64
import hashlib
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from einvoice.errors import EInvoiceError
from einvoice.http import OutcomeUnknownError, PlatformUnavailableError, RateLimitedError
from einvoice.pl.crypto import SessionKey
from einvoice.pl.ksef import (
    ACCEPTED,
    DUPLICATE,
    REJECTED,
    Authenticator,
    BatchSession,
    CertificateLogin,
    Context,
    HighWaterMarkSync,
    Incoming,
    KsefAuthenticationFailed,
    KsefClient,
    KsefRequestError,
    KsefTokenLogin,
    OnlineSession,
    Sessions,
    StillProcessingError,
    Token,
    choose_session,
    parse_datetime,
    problems_in,
)
from einvoice.pl.qr import Availability, Latarnia
from einvoice.sim import ManualClock
from einvoice.sim.ksef import KsefSimulator, crc8
from einvoice.xmlsafe import parse_xml

from .artefacts import PL_SAMPLES, pl_sample
from .test_ksef_crypto import ec_key, make_credentials, rsa_key

SELLER = "9999999999"  # Podmiot1 of the sample
BUYER = "1111111111"  # Podmiot2 of the sample
OAEP = asym_padding.OAEP(mgf=asym_padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def sample():
    """The Ministry's first FA(3) example (seller 9999999999, buyer 1111111111, P_1 2026-02-15)."""
    return pl_sample("mf-fa3-examples/FA_3_Przyklad_1.xml")


def invoice(number, *, seller=SELLER, buyer=BUYER):
    """The Ministry's sample FA(3) with another number and parties."""
    xml = sample().replace(b"<P_2>FV2026/02/150</P_2>", f"<P_2>{number}</P_2>".encode())
    xml = xml.replace(f"<NIP>{SELLER}</NIP>".encode(), b"<NIP>#seller#</NIP>", 1)
    xml = xml.replace(f"<NIP>{BUYER}</NIP>".encode(), f"<NIP>{buyer}</NIP>".encode(), 1)
    return xml.replace(b"#seller#", seller.encode())


def b64sha(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture
def clock():
    return ManualClock(datetime.now(timezone.utc).replace(microsecond=0))


@pytest.fixture
def sim(clock):
    with KsefSimulator(clock=clock.datetime) as server:
        yield server


def make_client(sim, clock, **kwargs):
    return KsefClient(sim.url, now=clock.datetime, sleep=clock.advance, clock=clock, timeout=(2, 1), **kwargs)


@pytest.fixture
def client(sim, clock):
    return make_client(sim, clock)


@pytest.fixture
def auth(sim, client):
    return Authenticator(client, SELLER, KsefTokenLogin(sim.issue_ksef_token(SELLER)))


def ministry_public_key(sim, usage):
    return ministry_private_key(sim, usage).public_key()


def ministry_private_key(sim, usage):
    return next(credentials.private_key for key_usage, credentials, *_rest in sim.ministry_keys if key_usage == usage)


# -- authentication ------------------------------------------------------------------------------------------------
def test_token_login_sends_the_token_encrypted_for_the_ministry(sim, auth):
    token = next(iter(sim.ksef_tokens))
    assert auth.access_token()
    challenge = sim.requests_to("/auth/challenge")
    assert len(challenge) == 1
    sent = sim.requests_to("/auth/ksef-token")[0].json()
    timestamp = next(iter(sim.challenges.values()))["timestampMs"]
    plain = ministry_private_key(sim, "KsefTokenEncryption").decrypt(base64.b64decode(sent["encryptedToken"]), OAEP)
    assert plain == f"{token}|{timestamp}".encode()
    assert sent["contextIdentifier"] == {"type": "Nip", "value": SELLER}
    assert sent["publicKeyId"] == sim.ministry_keys[0][2]
    assert token not in str(sim.requests_to("/auth/ksef-token")[0].body)


def test_login_polls_while_ksef_checks_then_redeems_once(sim, clock, client):
    sim.auth_delay = timedelta(seconds=5)
    auth = Authenticator(client, SELLER, KsefTokenLogin(sim.issue_ksef_token(SELLER)))
    auth.login()
    assert len(sim.requests_to(r"^/auth/\d{8}-AU-", "GET")) >= 3
    assert len(sim.requests_to("/auth/token/redeem")) == 1


def test_access_token_is_refreshed_then_a_fresh_login_follows_the_refresh_expiry(sim, clock, auth):
    first = auth.access_token()
    assert auth.access_token() == first  # still valid: no request
    clock.advance(sim.access_lifetime.total_seconds())
    second = auth.access_token()
    assert second != first
    assert len(sim.requests_to("/auth/token/refresh")) == 1
    assert len(sim.requests_to("/auth/challenge")) == 1
    clock.advance(sim.refresh_lifetime.total_seconds())
    auth.access_token()
    assert len(sim.requests_to("/auth/challenge")) == 2  # the refresh token ran out: full login again
    assert auth.refresh_token.valid_until == clock.datetime() + sim.refresh_lifetime


def test_expiry_falls_back_to_the_jwt_exp_claim():
    payload = base64.urlsafe_b64encode(b'{"exp": 1767225600}').rstrip(b"=").decode()
    token = Token.from_answer({"token": f"eyJhbGciOiJSUzI1NiJ9.{payload}.sig"})
    assert token.valid_until.isoformat() == "2026-01-01T00:00:00+00:00"


@pytest.mark.parametrize("problem_details", [True, False])
def test_a_withdrawn_ministry_key_is_refetched_and_the_login_retried(sim, auth, problem_details):
    sim.problem_details = problem_details
    auth.keys.refresh()
    sim.rotate_keys()  # emergency rotation: the cached key is gone
    assert auth.access_token()
    assert len(sim.requests_to("/security/public-key-certificates")) == 2
    assert len(sim.requests_to("/auth/ksef-token")) == 2
    assert len(sim.requests_to("/auth/challenge")) == 2  # a challenge is single use, even by a refused attempt


def test_wrong_token_and_missing_permissions_are_readable_failures(sim, client):
    sim.issue_ksef_token(SELLER)
    with pytest.raises(KsefAuthenticationFailed, match="token is wrong") as caught:
        Authenticator(client, SELLER, KsefTokenLogin("not-a-token")).login()
    assert caught.value.code == 450
    other = sim.issue_ksef_token("1234567890")
    with pytest.raises(KsefAuthenticationFailed, match="no permissions") as caught:
        Authenticator(client, SELLER, KsefTokenLogin(other)).login()
    assert caught.value.code == 415


@pytest.mark.parametrize("make_key", [rsa_key, ec_key])
@pytest.mark.parametrize("company", [False, True])
def test_certificate_login_with_rsa_and_ec_keys(sim, client, make_key, company):
    credentials = make_credentials(make_key(), nip=SELLER, company=company)
    auth = Authenticator(client, SELLER, CertificateLogin(credentials))
    assert auth.access_token()
    request = sim.requests_to("/auth/xades-signature")[0]
    assert request.headers["Content-Type"] == "application/xml"
    assert b"<ds:Signature" in request.body


def test_certificate_login_needs_the_context_nip_or_a_grant(sim, client):
    credentials = make_credentials(ec_key(), nip="1234567890")
    with pytest.raises(KsefAuthenticationFailed) as caught:
        Authenticator(client, SELLER, CertificateLogin(credentials)).login()
    assert caught.value.code == 415
    sim.grant("1234567890", SELLER)
    assert Authenticator(client, SELLER, CertificateLogin(credentials)).access_token()


def test_a_pesel_certificate_signs_in_where_the_person_was_granted_rights(sim, client):
    # uwierzytelnianie.md: a person's certificate with the PESEL in 2.5.4.5 acts for the company it has rights for
    credentials = make_credentials(ec_key(), serial_number="PNOPL-88102341294")
    with pytest.raises(KsefAuthenticationFailed) as caught:
        Authenticator(client, SELLER, CertificateLogin(credentials)).login()
    assert caught.value.code == 415
    sim.grant("88102341294", SELLER)
    assert Authenticator(client, SELLER, CertificateLogin(credentials)).access_token()


def test_a_certificate_naming_nobody_signs_in_by_its_fingerprint(sim, client):
    credentials = make_credentials(ec_key(), serial_number="")
    with pytest.raises(KsefRequestError) as caught:  # as its subject it names neither a NIP nor a PESEL
        Authenticator(client, SELLER, CertificateLogin(credentials)).login()
    assert caught.value.codes == {21117}
    fingerprint = credentials.certificate.fingerprint(hashes.SHA256()).hex().upper()
    sim.grant(fingerprint, SELLER)
    login = CertificateLogin(credentials, subject_type="certificateFingerprint")
    assert Authenticator(client, SELLER, login).access_token()


def test_an_expired_certificate_is_refused_by_ksef(sim, clock, client):
    credentials = make_credentials(rsa_key(), nip=SELLER)
    clock.advance(400 * 24 * 3600)
    with pytest.raises(KsefRequestError) as caught:
        Authenticator(client, SELLER, CertificateLogin(credentials)).login()
    assert caught.value.codes == {21115}


# -- online session ------------------------------------------------------------------------------------------------
def test_online_session_encrypts_hashes_and_gets_a_ksef_number(sim, clock, client, auth):
    session = OnlineSession.open(client, auth)
    sent = session.send(sample())
    opened = sim.requests_to("/sessions/online$")[0].json()
    assert opened["formCode"] == {"systemCode": "FA (3)", "schemaVersion": "1-0E", "value": "FA"}
    aes = ministry_private_key(sim, "SymmetricKeyEncryption").decrypt(
        base64.b64decode(opened["encryption"]["encryptedSymmetricKey"]), OAEP
    )
    iv = base64.b64decode(opened["encryption"]["initializationVector"])
    body = sim.requests_to("/invoices$", "POST")[0].json()
    encrypted = base64.b64decode(body["encryptedInvoiceContent"])
    decryptor = Cipher(algorithms.AES(aes), modes.CBC(iv)).decryptor()
    padded = decryptor.update(encrypted) + decryptor.finalize()
    assert padded[: -padded[-1]] == sample()
    assert (body["invoiceHash"], body["invoiceSize"]) == (b64sha(sample()), len(sample()))
    assert (body["encryptedInvoiceHash"], body["encryptedInvoiceSize"]) == (b64sha(encrypted), len(encrypted))
    assert body["offlineMode"] is False
    assert sent.invoice_hash == b64sha(sample())

    status = session.sessions.invoice_status(session.reference_number, sent.reference_number)
    assert (status.code, status.ksef_number) == (150, None)
    clock.advance(3)
    status = session.sessions.invoice_status(session.reference_number, sent.reference_number)
    assert status.state == ACCEPTED
    assert re.fullmatch(rf"{SELLER}-{clock.datetime():%Y%m%d}-[0-9A-F]{{12}}-[0-9A-F]{{2}}", status.ksef_number)
    assert int(status.ksef_number[-2:], 16) == crc8(status.ksef_number[:32])


def test_upo_per_invoice_and_per_session_are_kept_byte_exact(sim, clock, client, auth):
    session = OnlineSession.open(client, auth)
    sent = session.send(sample())
    clock.advance(3)
    upo = session.sessions.invoice_upo(session.reference_number, sent.reference_number)
    stored = next(iter(sim.invoices.values()))
    assert upo == stored.upo  # the signed bytes, unchanged (no pretty-printing, no re-encoding)
    same = session.sessions.invoice_upo(session.reference_number, ksef_number=stored.ksef_number)
    assert same == upo
    session.close()
    assert session.sessions.wait(session.reference_number).code == 200
    pages = session.sessions.session_upo(session.reference_number)
    reference = session.sessions.status(session.reference_number).upo_references[0]
    assert pages == [sim.sessions[session.reference_number]["upo"][1]]
    assert reference == sim.sessions[session.reference_number]["upo"][0]
    root = parse_xml(pages[0])
    assert root.findtext("{*}Dokument/{*}NumerKSeFDokumentu") == stored.ksef_number
    assert root.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is not None


def test_ksef_numbers_carry_the_crc8_of_the_real_samples():
    # numbers KSeF itself issued (in its UPOs); the FA(3) examples use made-up ones
    numbers = set()
    for path in PL_SAMPLES.require("upo-examples").rglob("*.xml"):
        numbers |= set(re.findall(rb"\d{10}-\d{8}-[0-9A-F]{12}-[0-9A-F]{2}", path.read_bytes()))
    assert len(numbers) >= 5
    for number in (n.decode() for n in numbers):
        assert f"{crc8(number[:32]):02X}" == number[-2:], number


def test_the_real_upo_samples_parse_and_name_their_documents():
    for path in sorted(PL_SAMPLES.require("upo-examples").rglob("*.xml")):
        root = parse_xml(path.read_bytes())
        assert root.tag == "{http://upo.schematy.mf.gov.pl/KSeF/v4-3}Potwierdzenie"
        assert root.findtext("{*}NumerReferencyjnySesji")


def test_a_duplicate_answers_with_the_original_ksef_number(clock, client, auth):
    first = OnlineSession.open(client, auth)
    original = first.send(invoice("FV/1"))
    clock.advance(3)
    number = first.sessions.invoice_status(first.reference_number, original.reference_number).ksef_number
    again = OnlineSession.open(client, auth)
    resent = again.send(invoice("FV/1"))
    clock.advance(3)
    status = again.sessions.invoice_status(again.reference_number, resent.reference_number)
    assert (status.code, status.state, status.ksef_number) == (440, DUPLICATE, number)
    assert status.original_session_reference_number == first.reference_number


def test_a_lost_send_answer_is_resolved_by_hash_with_exactly_one_invoice_recorded(sim, client, auth):
    session = OnlineSession.open(client, auth)
    sim.inject("lost", path=r"/sessions/online/.*/invoices$")
    sent = session.send(sample())
    assert sent.recovered
    assert len(sim.requests_to(r"/sessions/online/.*/invoices$", "POST")) == 1
    assert len(sim.invoices) == 1
    assert sent.reference_number == next(iter(sim.invoices))
    assert len(sim.requests_to(rf"/sessions/{session.reference_number}/invoices$", "GET")) == 1


def test_a_lost_answer_whose_lookup_fails_too_stays_unknown(sim, client, auth):
    session = OnlineSession.open(client, auth)
    sim.inject("lost", path=r"/sessions/online/.*/invoices$")
    sim.inject("status", status=503, path=rf"/sessions/{session.reference_number}/invoices$", times=10)
    with pytest.raises(OutcomeUnknownError):
        session.send(sample())
    assert len(sim.invoices) == 1  # it did arrive: going back to the queue as "never sent" would send it twice


def test_the_simulator_forgets_its_invoices_sessions_and_rate_limit_history(sim, client, auth):
    session = OnlineSession.open(client, auth)
    session.send(sample())
    sim.forget_invoices()
    assert (sim.invoices, sim.sessions, sim._calls) == ({}, {}, {})
    OnlineSession.open(client, auth).send(sample())  # the same invoice is new again
    assert len(sim.invoices) == 1


@pytest.mark.parametrize("fault", [{"kind": "reset"}, {"kind": "status", "status": 503}])
def test_a_send_that_never_reached_ksef_stays_unknown_and_is_not_repeated(sim, client, auth, fault):
    session = OnlineSession.open(client, auth)
    sim.inject(path=r"/sessions/online/.*/invoices$", **fault)
    with pytest.raises(OutcomeUnknownError):
        session.send(sample())
    assert len(sim.requests_to(r"/sessions/online/.*/invoices$", "POST")) == 1
    assert sim.invoices == {}


def test_rejections_come_back_as_values_with_readable_reasons(sim, clock, client, auth):
    sim.validator = lambda xml: ["cvc-complex-type.2.4.a: Invalid content was found starting with element 'P_2'."]
    session = OnlineSession.open(client, auth)
    bad = session.send(invoice("FV/2"))
    sim.validator = lambda xml: []
    foreign = session.send(invoice("FV/3", seller="1234567890"))
    clock.advance(3)
    rejected = session.sessions.invoice_status(session.reference_number, bad.reference_number)
    assert (rejected.code, rejected.state) == (450, REJECTED)
    assert "Invalid content" in rejected.details[0]
    assert "FA(3) schema" in rejected.description
    not_ours = session.sessions.invoice_status(session.reference_number, foreign.reference_number)
    assert (not_ours.code, not_ours.state) == (410, REJECTED)
    failed = list(session.sessions.invoices(session.reference_number, failed_only=True))
    assert {f.code for f in failed} == {450, 410}


def test_the_session_invoice_list_follows_continuation_tokens(sim, clock, client, auth):
    session = OnlineSession.open(client, auth)
    for n in range(12):
        session.send(invoice(f"FV/L/{n}"))
    listed = list(session.sessions.invoices(session.reference_number, page_size=10))
    assert len(listed) == 12
    assert len(sim.requests_to(rf"/sessions/{session.reference_number}/invoices$", "GET")) == 2


def test_the_online_budget_keeps_the_client_inside_the_published_limit(sim, clock, client, auth):
    session = OnlineSession.open(client, auth)
    start = clock.datetime()
    for n in range(31):  # 30 per minute is the limit
        session.send(invoice(f"FV/B/{n}"))
    assert len(sim.requests_to(r"/invoices$", "POST")) == 31  # no 429, nothing retried
    assert clock.datetime() - start >= timedelta(seconds=59)


def test_a_429_on_a_send_is_waited_out_and_retried(sim, clock, client, auth):
    session = OnlineSession.open(client, auth)
    sim.inject("status", status=429, headers={"Retry-After": "7"}, path=r"/invoices$")
    before = clock.datetime()
    session.send(sample())
    assert clock.datetime() - before >= timedelta(seconds=7)
    assert len(sim.invoices) == 1


def test_a_retry_after_beyond_the_cap_is_left_to_the_caller(sim, client, auth):
    session = OnlineSession.open(client, auth)
    sim.inject("status", status=429, headers={"Retry-After": "3600"}, path=r"/invoices$")
    with pytest.raises(RateLimitedError):
        session.send(sample())


def test_the_simulator_enforces_the_published_limits(sim, clock, auth):
    unlimited = make_client(sim, clock, limits={})
    reader = Incoming(unlimited, Authenticator(unlimited, SELLER, KsefTokenLogin(sim.issue_ksef_token(SELLER))))
    for _ in range(8):
        list(reader.metadata(clock.datetime() - timedelta(days=1)))
    before = clock.datetime()
    list(reader.metadata(clock.datetime() - timedelta(days=1)))  # the 9th in the same second: 429, then waited out
    assert clock.datetime() > before
    assert len(sim.requests_to("/invoices/query/metadata")) == 10


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 502},
        {"kind": "status", "status": 503},
        {"kind": "waf"},
        {"kind": "hang", "seconds": 2},
        {"kind": "reset"},
        {"kind": "truncate"},
    ],
)
def test_reads_are_retried_after_faults(sim, clock, client, auth, fault):
    session = OnlineSession.open(client, auth)
    sim.inject(path=rf"/sessions/{session.reference_number}$", **fault)
    assert session.sessions.status(session.reference_number).code == 100
    assert len(sim.requests_to(rf"/sessions/{session.reference_number}$")) == 2


def test_a_slow_answer_within_the_timeout_is_simply_awaited(sim, client, auth):
    session = OnlineSession.open(client, auth)
    sim.inject("latency", seconds=0.2, path=r"/invoices$")
    assert session.send(sample()).recovered is False
    assert len(sim.requests_to(r"/invoices$", "POST")) == 1


def test_session_reads_give_up_when_ksef_stays_down(sim, client, auth):
    session = OnlineSession.open(client, auth)
    sim.inject("status", status=504, path=rf"/sessions/{session.reference_number}$", times=10)
    with pytest.raises(PlatformUnavailableError):
        session.sessions.status(session.reference_number)


def test_problems_are_read_in_both_error_formats():
    legacy = {"exception": {"exceptionDetailList": [{"exceptionCode": 21470, "exceptionDescription": "key"}]}}
    modern = {"title": "Bad Request", "errors": [{"code": 21165, "description": "later", "details": ["x"]}]}
    assert [p.code for p in problems_in(legacy)] == [21470]
    assert [(p.code, p.details) for p in problems_in(modern)] == [(21165, ("x",))]


def test_a_refusal_quoting_a_token_keeps_it_out_of_the_message_and_the_problems(sim, client):
    ksef_token = sim.issue_ksef_token(SELLER)
    auth = Authenticator(client, SELLER, KsefTokenLogin(ksef_token))
    access = auth.access_token()
    problem = {"code": 21301, "description": f"Token {ksef_token} jest nieaktywny.", "details": [f"Token {access}"]}
    sim.inject("status", status=400, body=json.dumps({"errors": [problem]}).encode(), path=r"/sessions/online$")
    with pytest.raises(KsefRequestError) as caught:
        OnlineSession.open(client, auth)
    kept = [caught.value.problems[0].description, *caught.value.problems[0].details, str(caught.value)]
    assert caught.value.codes == {21301}
    assert not [text for text in kept if ksef_token in text or access in text]
    assert "jest nieaktywny" in caught.value.problems[0].description


# -- batch ---------------------------------------------------------------------------------------------------------
def test_more_than_the_hourly_online_quota_goes_through_one_batch_session(sim, clock, client, auth):
    documents = [invoice(f"FV/BATCH/{n:03d}") for n in range(200)]
    assert choose_session(len(documents)) == "batch"
    assert choose_session(150) == "online"
    assert choose_session(150, sent_this_hour=40) == "batch"
    batch = BatchSession.send(client, auth, documents, part_size=8_000)
    uploads = sim.requests_to("/upload/", "PUT")
    assert len(uploads) > 1
    assert all("Authorization" not in request.headers for request in uploads)
    opened = sim.requests_to("/sessions/batch$")[0].json()
    assert len(opened["batchFile"]["fileParts"]) == len(uploads)
    result = batch.results()
    assert result.session.code == 200
    assert result.missing == ()
    assert len(result.by_hash) == 200
    assert all(status.state == ACCEPTED for status in result.by_hash.values())
    assert {status.invoice_hash for status in result.by_hash.values()} == {b64sha(d) for d in documents}
    assert len(sim.accepted()) == 200
    assert sim.requests_to("/sessions/online") == []


def test_a_batch_part_upload_is_retried_after_a_lost_answer(sim, client, auth):
    sim.inject("lost", path="/upload/")
    batch = BatchSession.send(client, auth, [invoice("FV/P/1")])
    assert len(sim.requests_to("/upload/", "PUT")) == 2
    assert batch.results().by_hash[b64sha(invoice("FV/P/1"))].state == ACCEPTED


# -- incoming ------------------------------------------------------------------------------------------------------
def seed_bills(sim, clock, count, *, prefix="IN", seller="5555555555"):
    bills = []
    for n in range(count):
        bills.append(sim.seed_invoice(invoice(f"{prefix}/{n}", seller=seller, buyer=SELLER)))
        clock.advance(1)
    return bills


def test_metadata_query_pages_and_restarts_truncated_windows_without_duplicates(sim, clock, client, auth):
    sim.max_query_records = 25
    since = clock.datetime() - timedelta(days=1)
    bills = seed_bills(sim, clock, 60)
    sim.seed_invoice(invoice("OWN/1", buyer="4444444444"))  # our own sale: not in the buyer view
    found = list(Incoming(client, auth).metadata(since, page_size=10))
    assert [m.ksef_number for m in found] == [b.ksef_number for b in bills]
    requests = sim.requests_to("/invoices/query/metadata")
    assert any(r.arg("pageOffset") == "2" for r in requests)
    assert len({r.json()["dateRange"]["from"] for r in requests}) > 1  # the window moved on isTruncated


def test_download_by_ksef_number_returns_the_stored_bytes(sim, clock, client, auth):
    bill = seed_bills(sim, clock, 1)[0]
    incoming = Incoming(client, auth)
    assert incoming.download(bill.ksef_number) == bill.xml
    with pytest.raises(KsefRequestError) as caught:
        incoming.download(f"{SELLER}-20260302-000000000000-00")
    assert caught.value.codes == {21164}


def test_high_water_mark_sync_is_incremental_across_runs(sim, clock, client, auth):
    sim.max_export_invoices = 4
    since = clock.datetime() - timedelta(days=1)
    first_bills = seed_bills(sim, clock, 6)
    # accepted now, written to permanent storage only later: above the high-water mark
    pending = sim.seed_invoice(invoice("LATE/1", seller="5555555555", buyer=SELLER), received_at=clock.datetime())
    sync = HighWaterMarkSync(Incoming(client, auth))
    first = sync.run(since)
    assert set(first.invoices) == {b.ksef_number for b in first_bills}
    assert first.invoices[first_bills[0].ksef_number] == first_bills[0].xml
    assert {m.ksef_number for m in first.metadata} == set(first.invoices)
    assert first.next_from < pending.stored_at
    assert len(sim.requests_to("/invoices/exports$", "POST")) == 2  # the first package was truncated at 4

    clock.advance(60)
    later_bills = seed_bills(sim, clock, 2, prefix="NEW")
    second = sync.run(first.next_from)
    assert set(second.invoices) == {pending.ksef_number} | {b.ksef_number for b in later_bills}
    export = sim.requests_to("/invoices/exports$", "POST")[-1].json()
    assert export["filters"]["dateRange"]["dateType"] == "PermanentStorage"
    assert export["filters"]["subjectType"] == "Subject2"


# -- availability --------------------------------------------------------------------------------------------------
def test_latarnia_test_stub_and_a_real_answer(sim, clock):
    closed = "http://127.0.0.1:9"  # nothing listens there
    assert Latarnia("demo", base_url=closed, sleep=clock.advance).status() == Availability("AVAILABLE", (), True)
    with pytest.raises(PlatformUnavailableError):
        Latarnia("prod", base_url=closed, sleep=clock.advance).status()  # production: no guessing
    sim.availability = "FAILURE"
    sim.availability_messages = [
        {"id": 1, "eventId": 7, "category": "FAILURE", "type": "FAILURE_START", "version": 1},
        {"id": 2, "eventId": 7, "category": "FAILURE", "type": "FAILURE_START", "version": 2},
    ]
    latarnia = Latarnia(base_url=f"{sim.url}/latarnia")
    status = latarnia.status()
    assert (status.status, status.available, status.static) == ("FAILURE", False, False)
    assert [m["id"] for m in latarnia.messages()] == [2]


def test_sessions_reader_works_from_references_alone(sim, clock, client, auth):
    session = OnlineSession.open(client, auth)
    sent = session.send(sample())
    clock.advance(3)
    reader = Sessions(client, auth)
    assert reader.find(session.reference_number, sent.invoice_hash).reference_number == sent.reference_number
    assert reader.find(session.reference_number, b64sha(b"other")) is None


def test_a_login_still_checked_after_the_polls_is_reported_as_such(sim, client):
    sim.auth_delay = timedelta(hours=2)  # DEMO/PRD may keep status 100 while the CA is asked (OCSP/CRL)
    auth = Authenticator(client, SELLER, KsefTokenLogin(sim.issue_ksef_token(SELLER)), poll_attempts=3)
    with pytest.raises(StillProcessingError, match="still checking the login"):
        auth.login()
    assert sim.requests_to("/auth/token/redeem") == []


def test_an_export_still_running_is_reported_and_an_invoice_not_yet_stored_cannot_be_downloaded(
    sim, clock, client, auth
):
    sim.export_delay = timedelta(hours=2)
    with pytest.raises(StillProcessingError, match="still preparing export"):
        Incoming(client, auth).export(clock.datetime() - timedelta(days=1), attempts=2)
    fresh = sim.seed_invoice(invoice("FRESH/1", seller="5555555555", buyer=SELLER), received_at=clock.datetime())
    with pytest.raises(KsefRequestError) as caught:
        Incoming(client, auth).download(fresh.ksef_number)
    assert caught.value.codes == {21165}


def test_a_session_whose_key_cannot_be_decrypted_refuses_invoices(sim, client, auth):
    key_id = sim.ministry_keys[1][2]
    encryption = {
        "encryptedSymmetricKey": base64.b64encode(b"x" * 256).decode(),
        "initializationVector": "",
        "publicKeyId": key_id,
    }
    body = {"formCode": {"systemCode": "FA (3)", "schemaVersion": "1-0E", "value": "FA"}, "encryption": encryption}
    reference = client.json("online_open", "POST", "/sessions/online", token=auth.access_token(), json=body)[
        "referenceNumber"
    ]
    session = OnlineSession(client, auth, reference, SessionKey.generate(), None)
    assert session.sessions.status(reference).code == 415
    with pytest.raises(KsefRequestError) as caught:
        session.send(sample())
    assert caught.value.codes == {21180}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-09-16T11:29:41.5243021+02:00", datetime(2025, 9, 16, 9, 29, 41, 524302, tzinfo=timezone.utc)),
        ("2026-03-02T09:00:00Z", datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)),
        ("2026-03-02T09:00:00.123Z", datetime(2026, 3, 2, 9, 0, 0, 123000, tzinfo=timezone.utc)),
    ],
)
def test_platform_dates_are_read_in_every_form_ksef_writes(text, expected):
    assert parse_datetime(text) == expected


def test_a_batch_part_that_does_not_match_its_declared_hash_fails_the_session(sim, client, auth):
    documents = [invoice("FV/X/1"), invoice("FV/X/2")]
    archive, hashes = BatchSession.package(documents)
    key = SessionKey.generate()
    part = key.encrypt(archive)
    body = {
        "formCode": {"systemCode": "FA (3)", "schemaVersion": "1-0E", "value": "FA"},
        "batchFile": {
            "fileSize": len(archive),
            "fileHash": b64sha(archive),
            "fileParts": [{"ordinalNumber": 1, "fileSize": len(part), "fileHash": b64sha(part)}],
        },
        "encryption": {
            "encryptedSymmetricKey": base64.b64encode(
                ministry_public_key(sim, "SymmetricKeyEncryption").encrypt(key.key, OAEP)
            ).decode(),
            "initializationVector": base64.b64encode(key.iv).decode(),
        },
    }
    opened = client.json("batch_open", "POST", "/sessions/batch", token=auth.access_token(), json=body)
    upload = opened["partUploadRequests"][0]
    client.request("presigned", "PUT", upload["url"], data=part[:-16], idempotent=True)  # a damaged upload
    reference = opened["referenceNumber"]
    client.request("batch_close", "POST", f"/sessions/batch/{reference}/close", token=auth.access_token())
    result = BatchSession(client, auth, reference, hashes).results()
    assert (result.session.code, result.by_hash) == (405, {})
    assert set(result.missing) == {b64sha(d) for d in documents}
    assert "batch package is wrong" in result.session.description
    assert sim.invoices == {}


def test_an_invoice_issued_before_the_day_it_is_sent_is_recorded_as_offline(sim, clock, client, auth):
    session = OnlineSession.open(client, auth)
    sent = session.send(sample())  # P_1 is 2026-02-15
    clock.advance(3)
    assert session.sessions.invoice_status(session.reference_number, sent.reference_number).invoicing_mode == "Offline"


def test_in_a_planned_rotation_the_key_published_last_is_used(sim, clock, auth):
    auth.keys.refresh()
    old = auth.keys.current("SymmetricKeyEncryption").public_key_id
    clock.advance(60)
    sim.rotate_keys(withdraw_old=False)
    auth.keys.refresh()
    newest = [key_id for usage, _credentials, key_id in sim.ministry_keys if usage == "SymmetricKeyEncryption"][-1]
    assert auth.keys.current("SymmetricKeyEncryption").public_key_id == newest != old


def test_a_revoked_refresh_token_leads_to_a_fresh_login(sim, clock, auth):
    auth.access_token()
    sim.refresh_tokens.clear()  # the user ended the session in Aplikacja Podatnika
    clock.advance(sim.access_lifetime.total_seconds())
    assert auth.access_token()
    assert len(sim.requests_to("/auth/token/refresh")) == 1
    assert len(sim.requests_to("/auth/challenge")) == 2


@pytest.mark.parametrize(
    ("before", "after", "reason"), [(b"\xef\xbb\xbf", b"", "byte-order mark"), (b"", b" " * 1_000_000, "at most")]
)
def test_what_ksef_refuses_anyway_is_not_sent(sim, client, auth, before, after, reason):
    session = OnlineSession.open(client, auth)
    with pytest.raises(EInvoiceError, match=reason):
        session.send(before + sample() + after)
    assert sim.requests_to("/invoices$", "POST") == []


def test_an_internal_identifier_context_signs_in_and_sends(sim, clock, client):
    credentials = make_credentials(ec_key(), nip=SELLER)
    auth = Authenticator(client, Context("InternalId", f"{SELLER}-00001"), CertificateLogin(credentials))
    session = OnlineSession.open(client, auth)
    sent = session.send(sample())
    clock.advance(3)
    assert session.sessions.invoice_status(session.reference_number, sent.reference_number).state == ACCEPTED
    signed = sim.requests_to("/auth/xades-signature")[0].body
    assert f"<InternalId>{SELLER}-00001</InternalId>".encode() in signed


def test_sync_from_long_ago_asks_in_windows_ksef_accepts(sim, clock, client, auth):
    old = sim.seed_invoice(
        invoice("OLD/1", seller="5555555555", buyer=SELLER), received_at=clock.datetime() - timedelta(days=150)
    )
    recent = seed_bills(sim, clock, 1)[0]
    since = clock.datetime() - timedelta(days=200)
    result = HighWaterMarkSync(Incoming(client, auth)).run(since)
    assert set(result.invoices) == {old.ksef_number, recent.ksef_number}
    exports = [r.json()["filters"]["dateRange"] for r in sim.requests_to("/invoices/exports$", "POST")]
    assert len(exports) == 3
    for window in exports[:-1]:
        assert parse_datetime(window["to"]) - parse_datetime(window["from"]) <= timedelta(days=90)
    found = list(Incoming(client, auth).metadata(since))
    assert [m.ksef_number for m in found] == [old.ksef_number, recent.ksef_number]
    assert len(sim.requests_to("/invoices/query/metadata")) == 3


def test_a_date_range_beyond_three_months_is_refused(sim, clock, client, auth):
    filters = {
        "subjectType": "Subject2",
        "dateRange": {"dateType": "PermanentStorage", "from": "2026-01-01T00:00:00Z", "to": "2026-05-01T00:00:00Z"},
    }
    with pytest.raises(KsefRequestError) as caught:
        client.json("query_metadata", "POST", "/invoices/query/metadata", token=auth.access_token(), json=filters)
    assert caught.value.codes == {21405}


def test_export_parts_with_the_iv_in_front_are_read_too(sim, clock, client, auth):
    sim.iv_prefixed_exports = True  # the older documentation's variant
    bills = seed_bills(sim, clock, 2)
    result = HighWaterMarkSync(Incoming(client, auth)).run(clock.datetime() - timedelta(days=1))
    assert result.invoices == {b.ksef_number: b.xml for b in bills}


def test_the_simulator_also_takes_an_invoice_with_the_iv_in_front(sim, clock, client, auth):
    session = OnlineSession.open(client, auth)
    key = session._key
    encrypted = key.iv + key.encrypt(sample())
    body = {
        "invoiceHash": b64sha(sample()),
        "invoiceSize": len(sample()),
        "encryptedInvoiceHash": b64sha(encrypted),
        "encryptedInvoiceSize": len(encrypted),
        "encryptedInvoiceContent": base64.b64encode(encrypted).decode(),
        "offlineMode": False,
    }
    path = f"/sessions/online/{session.reference_number}/invoices"
    reference = client.json("online_send", "POST", path, token=auth.access_token(), json=body)["referenceNumber"]
    clock.advance(3)
    assert session.sessions.invoice_status(session.reference_number, reference).state == ACCEPTED
