"""Randomized platform faults against the senders: every invoice accepted exactly once, whatever the network does.

Each run sends one invoice to ANAF or KSeF through the library, as the add-ons do, while the simulator injects the
run's fault (latency, hang, reset, 5xx, 429 with Retry-After, a firewall page, a truncated body, an answer lost
after the request was processed; at the TLS layer, a handshake that fails or an untrusted certificate, and after
the request was processed: bytes that are not TLS, a fatal alert, a close without close_notify, a cut answer). Both
simulators are served over TLS through :class:`einvoice.sim.TlsFront`. The
sender follows the library's contract: an error that says the request did not take effect is retried later; an
unknown outcome is resolved by asking the platform, never by sending blindly. The figures come from the
simulators' own records, not from what the sender believes:

- duplicate: the platform holds more than one accepted filing of the invoice;
- lost: the sender ended believing the invoice was filed (or gave up) and the platform holds none;
- uncaught: an exception other than the library's own typed errors reached the sender.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from einvoice.errors import EInvoiceError
from einvoice.http import OutcomeUnknownError, PlatformUnavailableError, RateLimitedError
from einvoice.pl import fa3
from einvoice.pl.ksef import Authenticator, KsefClient, KsefTokenLogin, OnlineSession
from einvoice.ro import ciusro
from einvoice.ro.anaf import AnafClient, Endpoints, UploadResolver
from einvoice.sim import ManualClock, TlsFront
from einvoice.sim.anaf import AnafSimulator
from einvoice.sim.ksef import KsefSimulator

ANAF_CIF = "18547290"
KSEF_NIP = "5260250274"
ATTEMPTS = 12  # sends and look-ups a run may take before it counts as given up
HTTP_FAULTS = ("latency", "hang", "reset", "status", "rate", "waf", "truncate", "lost")
TLS_FAULTS = ("handshake_alert", "handshake_reset", "untrusted", "garbage", "alert", "close", "truncate")
ANAF_PATHS = ("/upload", "/stareMesaj", "/listaMesaje", "/descarcare")
KSEF_PATHS = ("/sessions/online$", "/invoices$", "/sessions/online/.*/invoices", "/auth", "/close")


@dataclass
class Tally:
    runs: int = 0
    by_platform: dict = field(default_factory=dict)
    by_fault: dict = field(default_factory=dict)
    duplicates: list = field(default_factory=list)
    lost: list = field(default_factory=list)
    uncaught: list = field(default_factory=list)

    def count(self, platform, fault):
        self.runs += 1
        self.by_platform[platform] = self.by_platform.get(platform, 0) + 1
        self.by_fault[fault] = self.by_fault.get(fault, 0) + 1

    def line(self):
        faults = ", ".join(f"{name} {count}" for name, count in sorted(self.by_fault.items()))
        platforms = ", ".join(f"{name} {count}" for name, count in sorted(self.by_platform.items()))
        return (
            f"faults: {self.runs} runs ({platforms}; {faults}), {len(self.duplicates)} duplicates, "
            f"{len(self.lost)} lost, {len(self.uncaught)} uncaught"
        )


def _inject(sim, front, rng, paths):
    """One random fault, at the simulator or at its TLS front, on one random path, for the next 1 to 3 matching
    requests; returns its label."""
    path = rng.choice(paths)
    times = rng.randint(1, 3)
    if rng.random() < 0.4:
        kind = rng.choice(TLS_FAULTS)
        front.inject(kind, path=path, times=times)
        return f"tls {kind}"
    kind = rng.choice(HTTP_FAULTS)
    if kind == "status":
        status = rng.choice((500, 502, 503, 504))
        sim.inject("status", status=status, body=b"Service Unavailable", path=path, times=times)
        return f"{status}"
    if kind == "rate":
        sim.inject("status", status=429, headers={"Retry-After": "2"}, path=path, times=times)
        return "429"
    seconds = 1.0 if kind == "hang" else rng.uniform(0.0, 0.2)
    sim.inject(kind, seconds=seconds, path=path, times=times)
    return kind


# -- ANAF -------------------------------------------------------------------------------------------------------------
def _ro_invoice(number):
    from tests import ro_scenarios

    return ciusro.render(ro_scenarios.build(number=number))


def _anaf_send(client, clock, xml):
    """Send ``xml`` as the add-on does; True when the sender believes ANAF holds it."""
    for _attempt in range(ATTEMPTS):
        sent_at = datetime.fromtimestamp(clock(), timezone.utc)
        try:
            answer = client.upload(xml, ANAF_CIF)
        except (PlatformUnavailableError, RateLimitedError) as error:
            _wait(clock, error)
            continue
        except OutcomeUnknownError:
            if _anaf_resolve(client, clock, sent_at, xml):
                return True
            continue  # ANAF does not hold it: sending again is right
        return answer.accepted
    return False


def _anaf_resolve(client, clock, sent_at, xml):
    for _attempt in range(ATTEMPTS):
        clock.advance(120)
        try:
            resolution = UploadResolver(client).resolve(ANAF_CIF, sent_at=sent_at, xml=xml)
        except (PlatformUnavailableError, RateLimitedError, OutcomeUnknownError):
            continue
        if resolution.outcome == UploadResolver.FOUND:
            return True
        if resolution.outcome == UploadResolver.NOT_FOUND:
            return False
        clock.advance(600)  # too early: ANAF may not have listed it yet
    raise AssertionError("an upload's fate stayed unknown after every look-up")


def _anaf_run(sim, front, clock, rng, number, tally):
    client = AnafClient(
        sim.issue_tokens()["access_token"],
        endpoints=Endpoints.at(front.url),
        clock=clock,
        timeout=(2, 0.5),
        sleep=lambda seconds: None,
        verify=front.ca_bundle,
    )
    xml = _ro_invoice(number)
    fault = _inject(sim, front, rng, ANAF_PATHS)
    tally.count("ANAF", fault)
    _guarded(tally, number, lambda: _anaf_send(client, clock, xml))
    sim.clear_faults()
    front.clear_faults()
    held = sum(1 for upload in sim.uploads.values() if upload.xml == xml)
    if held > 1:
        tally.duplicates.append((number, fault, held))
    if held == 0:
        tally.lost.append((number, fault))


# -- KSeF -------------------------------------------------------------------------------------------------------------
def _pl_invoice(number):
    from tests import pl_scenarios

    return fa3.write(pl_scenarios.build(number=number, issue_date=date(2026, 11, 20)))


def _ksef_send(client, clock, auth, xml):
    for _attempt in range(ATTEMPTS):
        try:
            session = OnlineSession.open(client, auth)
            session.send(xml)
            return True
        except (PlatformUnavailableError, RateLimitedError) as error:
            _wait(clock, error)
        except OutcomeUnknownError:
            clock.advance(60)  # the library looked for it and could not tell: the next send is answered as duplicate
    return False


def _ksef_run(sim, front, clock, rng, number, tally):
    client = KsefClient(
        front.url, now=clock.datetime, sleep=clock.advance, clock=clock, timeout=(2, 0.5), verify=front.ca_bundle
    )
    auth = Authenticator(client, KSEF_NIP, KsefTokenLogin(sim.issue_ksef_token(KSEF_NIP)))
    xml = _pl_invoice(number)
    fault = _inject(sim, front, rng, KSEF_PATHS)
    tally.count("KSeF", fault)
    _guarded(tally, number, lambda: _ksef_send(client, clock, auth, xml))
    sim.clear_faults()
    front.clear_faults()
    held = sum(1 for invoice in sim.accepted() if invoice.number == number)
    if held > 1:
        tally.duplicates.append((number, fault, held))
    if held == 0:
        tally.lost.append((number, fault))


def _wait(clock, error):
    """Try again later, as the scheduler does: after the platform's Retry-After when it gave one."""
    clock.advance(max(getattr(error, "retry_after", None) or 0, 60))


def _guarded(tally, number, send):
    try:
        return send()
    except EInvoiceError:
        return False
    except Exception as error:
        tally.uncaught.append((number, f"{type(error).__name__}: {error}"[:300]))
        return None


def run(seed=1, runs=1000):
    """``runs`` seeded runs, alternating ANAF and KSeF; returns the :class:`Tally`."""
    rng = random.Random(seed)  # noqa: S311 - reproducible faults, not secrets
    tally = Tally()
    start = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
    anaf_clock, ksef_clock = ManualClock(start), ManualClock(start)
    with (
        AnafSimulator(clock=anaf_clock, processing_seconds=60, cifs=(ANAF_CIF,)) as anaf,
        KsefSimulator(clock=ksef_clock.datetime) as ksef,
        TlsFront(anaf) as anaf_front,
        TlsFront(ksef) as ksef_front,
    ):
        anaf.limits = dict.fromkeys(anaf.limits, 10**9)  # the campaign is about faults, not ANAF's daily counts
        for number in range(runs):
            if number % 2:
                _ksef_run(ksef, ksef_front, ksef_clock, rng, f"FC/{seed}/{number}", tally)
            else:
                _anaf_run(anaf, anaf_front, anaf_clock, rng, f"FC/{seed}/{number}", tally)
    return tally
