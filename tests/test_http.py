"""The HTTP layer against a real server on 127.0.0.1 with injected faults."""

import socket
from datetime import datetime, timedelta, timezone

import pytest

from einvoice.http import (
    AuthenticationError,
    HttpClient,
    InvalidRequestError,
    OutcomeUnknownError,
    PlatformUnavailableError,
    RateBudget,
    RateLimitedError,
    RetryPolicy,
    Secrets,
    counted_period,
    parse_retry_after,
    redact,
)
from einvoice.sim import Response, SimServer


@pytest.fixture
def server():
    sim = SimServer()
    uploads = []

    def upload(request):
        uploads.append(request.body)
        return Response.xml(f'<header index_incarcare="{len(uploads)}"/>')

    sim.route("GET", r"/status", lambda request: Response.json({"state": "ok", "id": request.arg("id")}))
    sim.route("POST", r"/upload", upload)
    sim.route("POST", r"/token", lambda request: Response.json({"error": "bad client_secret=hunter2"}, status=400))
    sim.uploads = uploads
    with sim:
        yield sim


class Sleeps(list):
    """Stands in for time.sleep: records the delays instead of waiting."""

    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def client(server, sleeps):
    return HttpClient(server.url, platform="TestPlatform", timeout=(2, 1), sleep=sleeps)


def test_plain_request_and_answer(client, server):
    assert client.get("/status", params={"id": "7"}).json() == {"state": "ok", "id": "7"}
    assert [r.path for r in server.requests] == ["/status"]


def test_idempotent_read_is_retried_after_server_errors(client, server, sleeps):
    server.inject("status", status=503, times=2)
    assert client.get("/status").json()["state"] == "ok"
    assert len(server.requests_to("/status")) == 3
    assert len(sleeps) == 2
    assert sleeps[1] > 0


def test_idempotent_read_gives_up_after_the_policy_attempts(server, sleeps):
    client = HttpClient(server.url, platform="TestPlatform", retry=RetryPolicy(attempts=2), sleep=sleeps)
    server.inject("status", status=502, times=5)
    with pytest.raises(PlatformUnavailableError) as caught:
        client.get("/status")
    assert caught.value.status == 502
    assert len(server.requests_to("/status")) == 2


def test_retry_after_is_honoured(client, server, sleeps):
    server.inject("status", status=429, headers={"Retry-After": "7"})
    assert client.get("/status").status_code == 200
    assert sleeps == [7.0]


def test_retry_after_beyond_the_cap_is_left_to_the_caller(client, server, sleeps):
    server.inject("status", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitedError) as caught:
        client.get("/status")
    assert caught.value.retry_after == 3600
    assert sleeps == []


def test_a_read_timeout_is_retried_for_reads(client, server):
    server.inject("hang", seconds=3)
    assert client.get("/status").status_code == 200
    assert len(server.requests_to("/status")) == 2


def test_a_connection_reset_is_retried_for_reads(client, server):
    server.inject("reset")
    assert client.get("/status").status_code == 200
    assert len(server.requests_to("/status")) == 2


def test_an_upload_is_never_retried_and_a_server_error_leaves_its_outcome_unknown(client, server):
    server.inject("status", status=503, path="/upload", times=3)
    with pytest.raises(OutcomeUnknownError) as caught:
        client.post("/upload", data=b"<Invoice/>")
    assert caught.value.status == 503
    assert len(server.requests_to("/upload")) == 1


@pytest.mark.parametrize("fault", ["hang", "reset", "lost", "truncate"])
def test_an_upload_whose_answer_is_lost_is_outcome_unknown(client, server, fault):
    server.inject(fault, seconds=3, path="/upload")
    with pytest.raises(OutcomeUnknownError, match="checked with TestPlatform before anything is sent again"):
        client.post("/upload", data=b"<Invoice/>")
    assert len(server.requests_to("/upload")) == 1


def test_an_upload_answer_lost_after_acceptance_really_was_accepted(client, server):
    server.inject("lost", path="/upload")
    with pytest.raises(OutcomeUnknownError):
        client.post("/upload", data=b"<Invoice/>")
    assert server.uploads == [b"<Invoice/>"]  # the platform has it: a blind re-send would duplicate it


def test_an_unreachable_platform_is_unavailable_not_unknown(sleeps):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = HttpClient(f"http://127.0.0.1:{port}", platform="TestPlatform", sleep=sleeps)
    with pytest.raises(PlatformUnavailableError, match="cannot be reached"):
        client.post("/upload", data=b"<Invoice/>")


@pytest.mark.parametrize("status", [401, 403])
def test_credentials_refused(client, server, status):
    server.inject("status", status=status, body=b"Bearer abc.def.ghi expired")
    with pytest.raises(AuthenticationError) as caught:
        client.get("/status")
    assert caught.value.status == status
    assert "abc.def" not in str(caught.value)


def test_rate_limit_on_an_upload_is_reported_not_retried(client, server):
    server.inject("status", status=429, headers={"Retry-After": "2"}, path="/upload")
    with pytest.raises(RateLimitedError) as caught:
        client.post("/upload", data=b"<Invoice/>")
    assert caught.value.retry_after == 2
    assert len(server.requests_to("/upload")) == 1


def test_invalid_request_carries_a_redacted_excerpt(client):
    with pytest.raises(InvalidRequestError) as caught:
        client.post("/token", data={"client_secret": "hunter2"})
    assert caught.value.status == 400
    assert "hunter2" not in str(caught.value)
    assert "client_secret=***" in str(caught.value)


def test_a_firewall_page_served_with_200_is_not_data(client, server):
    server.inject("waf")
    server.inject("waf")
    server.inject("waf", path="/upload")
    assert client.get("/status").status_code == 200  # retried past two firewall pages
    with pytest.raises(OutcomeUnknownError) as caught:
        client.post("/upload", data=b"<Invoice/>")
    assert "Request Rejected" in caught.value.detail


def test_latency_below_the_timeout_is_fine(client, server):
    server.inject("latency", seconds=0.2)
    assert client.get("/status").status_code == 200
    assert len(server.requests) == 1


def test_unknown_path_is_an_invalid_request(client):
    with pytest.raises(InvalidRequestError) as caught:
        client.get("/nothing-here")
    assert caught.value.status == 404


def test_tls_verification_cannot_be_switched_off():
    with pytest.raises(ValueError, match="cannot be switched off"):
        HttpClient("https://example.invalid", platform="x", verify=False)


def test_errors_translate(client, server):
    server.inject("status", status=503, path="/upload")
    with pytest.raises(OutcomeUnknownError) as caught:
        client.post("/upload", data=b"<Invoice/>")
    assert "TestPlatform" in caught.value.translated("ro")
    assert caught.value.translated("ro") != str(caught.value)


# -- pieces ------------------------------------------------------------------------------------------------------
def test_parse_retry_after():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    http_date = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after("120") == 120
    assert parse_retry_after(http_date, now=now) == 30
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now=now) == 0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None


class WaitingClock:
    """Seconds that move when a budget waits (each wait recorded) or when the test says."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_budget_waits_when_the_window_is_full():
    clock = WaitingClock()
    budget = RateBudget(3, 60, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        budget.acquire()()  # each call answered at once
    assert clock.sleeps == []
    clock.now = 10
    budget.acquire()()
    window = counted_period(60)  # a little over the platform's minute, for the two clocks' difference
    assert 60 < window < 62
    assert clock.sleeps == [pytest.approx(window - 10)]
    assert clock.now == pytest.approx(window)


def test_budget_counts_a_call_from_its_answer():
    """The platform counted a call when it arrived, between its sending and its answer: a slow call keeps its
    place in the window until answered, so the call after it cannot land in a window the platform sees full."""
    clock = WaitingClock()
    budget = RateBudget(1, 1, clock=clock, sleep=clock.sleep)
    answered = budget.acquire()
    clock.now = 5  # five seconds on the way: by its sending, the window would be free again
    answered()
    budget.acquire()()
    assert sum(clock.sleeps) == pytest.approx(counted_period(1))  # counted from the answer at 5 s


def test_budget_waits_for_calls_in_flight_to_be_answered():
    import threading

    budget = RateBudget(1, 60, clock=lambda: 0.0, sleep=lambda seconds: None)
    answered = budget.acquire()
    second = threading.Thread(target=lambda: budget.acquire())
    second.start()
    second.join(timeout=0.2)
    assert second.is_alive()  # the window is full of a call without an answer: the next one waits
    answered()  # answered at 0 s on a clock that does not move: the window stays full
    second.join(timeout=0.2)
    assert second.is_alive()
    budget._clock = lambda: 120.0  # the call answered at 0 s has left the window
    second.join(timeout=5)
    assert not second.is_alive()


def test_budget_applies_to_every_request(server, sleeps):
    clock = [0.0]
    budget = RateBudget(2, 60, clock=lambda: clock[0], sleep=lambda s: clock.__setitem__(0, clock[0] + s))
    client = HttpClient(server.url, platform="TestPlatform", budget=budget, sleep=sleeps)
    for _ in range(5):
        client.get("/status")
    assert clock[0] == pytest.approx(2 * counted_period(60))  # five calls at two per minute need two more windows


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer eyJhbGciOi.eyJzdWIiOi.sig", "eyJhbGciOi"),
        ('{"access_token": "s3cr3t", "x": 1}', "s3cr3t"),
        ("refresh_token=r3fr3sh&grant_type=refresh_token", "r3fr3sh"),
        ('{"authenticationToken":{"token":"tok-123"}}', "tok-123"),
        ("password: hunter2", "hunter2"),
    ],
)
def test_redact_masks_secrets(text, secret):
    assert secret not in redact(text)


def test_redact_masks_the_secrets_a_client_holds_and_long_opaque_tokens():
    assert redact("Token Sh0rt-opaque-tok is not valid", ["Sh0rt-opaque-tok"]) == "Token *** is not valid"
    hex_token = "0f1e2d3c" * 8
    assert redact(f"Token {hex_token} is not valid") == "Token *** is not valid"
    readable = "session 20250626-EE-319D7EE000-B67F415CDC-2C, KSeF 5265877635-20250826-0100001AF629-AF, id 5000000001"
    assert redact(readable, ["short"]) == readable  # reference numbers stay, and so do words like a short secret


def test_a_secret_echoed_bare_by_the_platform_is_masked(client, server):
    client.secrets.add("Sh0rt-opaque-tok")
    server.inject("status", status=401, body=b"Token Sh0rt-opaque-tok is not valid")
    with pytest.raises(AuthenticationError) as caught:
        client.get("/status")
    assert "Sh0rt-opaque-tok" not in str(caught.value)
    assert "Sh0rt-opaque-tok" not in caught.value.detail
    assert "is not valid" in str(caught.value)


def test_only_the_latest_secrets_are_kept():
    secrets = Secrets(keep=2)
    for value in ("first-token", "second-token", "third-token", "second-token"):
        secrets.add(value)
    assert list(secrets) == ["third-token", "second-token"]
