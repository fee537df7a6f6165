"""Real TLS on 127.0.0.1, broken at each stage by the simulators' TLS front.

A failure before the request left (the handshake, the certificate) means the platform never saw it: "not taken",
send again. A failure after it left means the platform may have processed it: the outcome of an upload is unknown
and is resolved by asking the platform, never by sending again; a read is simply repeated.
"""

from datetime import datetime, timezone

import pytest
import requests

from einvoice.http import HttpClient, OutcomeUnknownError, PlatformUnavailableError, RetryPolicy
from einvoice.pl.ksef import Authenticator, KsefClient, KsefTokenLogin, OnlineSession
from einvoice.ro.anaf import AnafClient, Endpoints, UploadResolver
from einvoice.sim import ManualClock, Response, SimServer, TlsFront
from einvoice.sim.anaf import AnafSimulator
from einvoice.sim.ksef import KsefSimulator

from .ro_samples import ok_invoice
from .test_ksef_flows import SELLER, invoice

HANDSHAKE_FAULTS = ["handshake_alert", "handshake_reset", "untrusted"]
ANSWER_FAULTS = ["garbage", "alert", "close", "truncate"]
EXPECTED = {
    **dict.fromkeys(HANDSHAKE_FAULTS, PlatformUnavailableError),
    **dict.fromkeys(ANSWER_FAULTS, OutcomeUnknownError),
}
CIF = "1111111111118"  # the seller of the ANAF sample invoice


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


# -- the HTTP layer ----------------------------------------------------------------------------------------------
@pytest.fixture
def front():
    sim = SimServer()
    sim.route("GET", r"/status", lambda request: Response.json({"state": "ok"}))
    sim.route("POST", r"/upload", lambda request: Response.xml(b'<header index_incarcare="1"/>' + b" " * 4000))
    with sim, TlsFront(sim) as tls:
        yield tls


def tls_client(front, **kwargs):
    return HttpClient(front.url, platform="TestPlatform", verify=front.ca_bundle, timeout=(2, 2), **kwargs)


def test_requests_and_answers_go_through_the_tls_front(front):
    client = tls_client(front, sleep=Sleeps())
    assert client.get("/status").json() == {"state": "ok"}
    assert client.post("/upload", data=b"<Invoice/>").content.startswith(b"<header")
    assert [r.path for r in front.backend.requests] == ["/status", "/upload"]


@pytest.mark.parametrize("fault", HANDSHAKE_FAULTS)
def test_a_handshake_that_fails_means_the_upload_was_not_taken(front, fault):
    front.inject(fault)
    with pytest.raises(PlatformUnavailableError):
        tls_client(front).post("/upload", data=b"<Invoice/>")
    assert front.backend.requests == []


@pytest.mark.parametrize("fault", ANSWER_FAULTS)
def test_tls_broken_after_the_request_left_leaves_an_upload_unknown(front, fault):
    front.inject(fault, path="/upload")
    with pytest.raises(OutcomeUnknownError, match="checked with TestPlatform before anything is sent again"):
        tls_client(front).post("/upload", data=b"<Invoice/>")
    assert len(front.backend.requests_to("/upload")) == 1


@pytest.mark.parametrize("fault", HANDSHAKE_FAULTS + ANSWER_FAULTS)
def test_a_read_is_repeated_after_any_tls_fault(front, fault):
    sleeps = Sleeps()
    front.inject(fault, path="/status")
    assert tls_client(front, sleep=sleeps).get("/status").json() == {"state": "ok"}
    assert len(sleeps) == 1
    assert len(front.backend.requests_to("/status")) == (2 if fault in ANSWER_FAULTS else 1)


def test_a_read_gives_up_as_unavailable_when_tls_keeps_breaking(front):
    front.inject("garbage", path="/status", times=5)
    with pytest.raises(PlatformUnavailableError):
        tls_client(front, retry=RetryPolicy(attempts=2), sleep=Sleeps()).get("/status")
    assert len(front.backend.requests_to("/status")) == 2


@pytest.mark.parametrize("fault", ["handshake_alert", "handshake_reset", "garbage"])
def test_with_a_session_that_does_not_record_progress_a_tls_failure_leaves_an_upload_unknown(front, fault):
    """When in doubt the outcome is unknown: nothing tells where such a session's request broke."""
    client = tls_client(front, session=requests.Session())
    front.inject(fault, path="/upload")
    with pytest.raises(OutcomeUnknownError):
        client.post("/upload", data=b"<Invoice/>")


def test_an_untrusted_certificate_is_refused():
    sim = SimServer()
    with sim, TlsFront(sim) as front, TlsFront(sim) as other:
        client = HttpClient(front.url, platform="TestPlatform", verify=other.ca_bundle, sleep=Sleeps())
        with pytest.raises(PlatformUnavailableError, match="secure connection"):
            client.post("/upload", data=b"<Invoice/>")
    assert sim.requests == []


# -- ANAF: an upload is filed once, whatever breaks --------------------------------------------------------------
def file_as_the_contract_says(client, clock, xml):
    """Upload ``xml`` as a caller of the library must: again after "not taken"; after "outcome unknown", only when
    the resolver, asked once ANAF had time to list the upload, does not find it. The index and the errors met."""
    met = []
    for _attempt in range(3):
        sent_at = datetime.fromtimestamp(clock(), timezone.utc)
        try:
            return client.upload(xml, CIF).index, met
        except PlatformUnavailableError as error:
            met.append(type(error))
        except OutcomeUnknownError as error:
            met.append(type(error))
            clock.advance(UploadResolver(client).grace.total_seconds() + 1)
            found = UploadResolver(client).resolve(CIF, sent_at=sent_at, xml=xml)
            if found.outcome == UploadResolver.FOUND:
                return found.index, met
    raise AssertionError(f"not filed after {met}")


@pytest.mark.parametrize("fault", HANDSHAKE_FAULTS + ANSWER_FAULTS)
def test_an_anaf_upload_through_broken_tls_is_filed_exactly_once(clock, fault):
    with AnafSimulator(clock=clock, processing_seconds=120, cifs=(CIF,)) as sim, TlsFront(sim) as front:
        client = AnafClient(
            sim.issue_tokens()["access_token"],
            endpoints=Endpoints.at(front.url),
            clock=clock,
            sleep=lambda seconds: None,
            timeout=(2, 2),
            verify=front.ca_bundle,
        )
        front.inject(fault, path="/upload")
        index, met = file_as_the_contract_says(client, clock, ok_invoice())
        assert list(sim.uploads) == [index]  # one filing: ANAF has no idempotency key, a second one would stay
        assert met == [EXPECTED[fault]]


# -- KSeF: an invoice sent in an online session is recorded once -------------------------------------------------
def send_as_the_contract_says(session, xml):
    """Send ``xml`` as a caller of the library must: again after "not taken". A lost answer is resolved by the
    session itself (``recovered``); when it cannot be, OutcomeUnknownError is raised and nothing is sent again."""
    met = []
    for _attempt in range(3):
        try:
            return session.send(xml), met
        except PlatformUnavailableError as error:
            met.append(type(error))
    raise AssertionError(f"not sent after {met}")


@pytest.mark.parametrize("fault", HANDSHAKE_FAULTS + ANSWER_FAULTS)
def test_a_ksef_online_send_through_broken_tls_is_recorded_exactly_once(fault):
    clock = ManualClock(datetime.now(timezone.utc).replace(microsecond=0))
    with KsefSimulator(clock=clock.datetime) as sim, TlsFront(sim) as front:
        client = KsefClient(
            front.url, now=clock.datetime, sleep=clock.advance, clock=clock, timeout=(2, 2), verify=front.ca_bundle
        )
        auth = Authenticator(client, SELLER, KsefTokenLogin(sim.issue_ksef_token(SELLER)))
        session = OnlineSession.open(client, auth)
        xml = invoice("FV/TLS/1")
        front.inject(fault, path=r"/sessions/online/.*/invoices$")
        sent, met = send_as_the_contract_says(session, xml)
        assert list(sim.invoices) == [sent.reference_number]  # a second one would be a 440 duplicate at best
        if EXPECTED[fault] is PlatformUnavailableError:
            assert (met, sent.recovered) == ([PlatformUnavailableError], False)
        else:  # the session found the invoice by its hash after OutcomeUnknownError
            assert (met, sent.recovered) == ([], True)
        clock.advance(3)
        assert session.sessions.invoice_status(session.reference_number, sent.reference_number).code == 200


def test_the_tls_front_refuses_an_unknown_fault(front):
    with pytest.raises(ValueError, match="unknown TLS fault"):
        front.inject("smoke")
