"""KSeF's offline modes: the day an invoice issued offline must reach KSeF (tryby-offline.md), counted in working
days of the Polish calendar, moved by failures and lifted by a total failure that Latarnia announces."""

from datetime import date, datetime, timedelta, timezone

import pytest

from einvoice.pl.ksef import Authenticator, Incoming, KsefRequestError, KsefTokenLogin, OnlineSession
from einvoice.pl.offline import (
    AVAILABLE,
    EMERGENCY,
    FAILURE,
    MAINTENANCE,
    NO_OBLIGATION,
    OFFLINE,
    OFFLINE24,
    TOTAL_FAILURE,
    Deadline,
    Outage,
    current_outage,
    outages,
    send_deadline,
)
from einvoice.pl.qr import Latarnia
from einvoice.sim import ManualClock
from einvoice.sim.ksef import KsefSimulator

from .test_ksef_flows import SELLER, b64sha, invoice, make_client


def at(text):
    """A moment in UTC, as Latarnia writes it."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def failure(start, end=None, category=FAILURE, event_id=None):
    return Outage(category, at(start), at(end) if end else None, event_id=event_id)


def test_the_ministrys_example_an_offline24_invoice_whose_window_a_failure_moves():
    # tryby-offline.md: issued Wednesday 2025-07-08, due Thursday; a failure announced that Thursday ends on Saturday
    # 2025-07-12, and the invoice is due 7 working days later, Tuesday 2025-07-22
    assert send_deadline(OFFLINE24, date(2025, 7, 8)) == Deadline(date(2025, 7, 9))
    announced = [failure("2025-07-09T08:00:00", "2025-07-12T10:00:00")]
    assert send_deadline(OFFLINE24, date(2025, 7, 8), announced) == Deadline(date(2025, 7, 22))


def test_unavailability_is_due_the_next_working_day_after_it_ends_in_polish_time():
    before_christmas = Outage(MAINTENANCE, at("2026-12-23T06:00:00"), at("2026-12-23T20:00:00"))
    assert send_deadline(OFFLINE, date(2026, 12, 23), cause=before_christmas) == Deadline(date(2026, 12, 28))
    # 23:30 UTC on 31 March is already 1 April in Warsaw (summer time): due on 2 April, not 1 April
    over_midnight = Outage(MAINTENANCE, at("2026-03-31T20:00:00"), at("2026-03-31T23:30:00"))
    assert send_deadline(OFFLINE, date(2026, 3, 31), cause=over_midnight) == Deadline(date(2026, 4, 2))


def test_a_failure_gives_seven_working_days_after_it_ends_skipping_easter():
    good_friday = failure("2026-04-02T09:00:00", "2026-04-03T12:00:00")
    # 6 April is Easter Monday: 7, 8, 9, 10, 13, 14, 15 April
    assert send_deadline(EMERGENCY, date(2026, 4, 2), cause=good_friday) == Deadline(date(2026, 4, 15))


def test_a_new_failure_in_the_window_restarts_the_count():
    first = failure("2026-11-02T08:00:00", "2026-11-02T15:00:00", event_id="1")
    # 7 working days after Monday 2 November, 11 November being a holiday: the 12th
    assert send_deadline(EMERGENCY, date(2026, 11, 2), [first], cause=first) == Deadline(date(2026, 11, 12))
    second = failure("2026-11-10T08:00:00", "2026-11-12T15:00:00", event_id="2")
    assert send_deadline(EMERGENCY, date(2026, 11, 2), [first, second], cause=first) == Deadline(date(2026, 11, 23))


def test_failures_outside_the_window_change_nothing():
    friday = date(2026, 11, 20)  # offline24: due Monday the 23rd
    after = failure("2026-11-25T08:00:00", "2026-11-26T08:00:00")
    before = failure("2026-11-16T08:00:00", "2026-11-17T08:00:00")
    maintenance = Outage(MAINTENANCE, at("2026-11-23T08:00:00"), at("2026-11-24T08:00:00"))
    assert send_deadline(OFFLINE24, friday, [before, maintenance, after]) == Deadline(date(2026, 11, 23))
    late_total = failure("2026-11-25T08:00:00", category=TOTAL_FAILURE)
    assert send_deadline(OFFLINE24, friday, [late_total]) == Deadline(date(2026, 11, 23))


def test_while_the_outage_lasts_the_deadline_is_not_known():
    lasting = failure("2026-11-20T08:00:00")
    assert send_deadline(EMERGENCY, date(2026, 11, 20), [lasting], cause=lasting) == Deadline(None)
    assert send_deadline(OFFLINE24, date(2026, 11, 20), [lasting]) == Deadline(None)
    maintenance = Outage(MAINTENANCE, at("2026-11-20T08:00:00"))
    assert send_deadline(OFFLINE, date(2026, 11, 20), cause=maintenance) == Deadline(None)


def test_a_total_failure_in_the_window_lifts_the_obligation():
    maintenance = Outage(MAINTENANCE, at("2026-11-20T08:00:00"), at("2026-11-20T12:00:00"))
    total = failure("2026-11-23T07:00:00", category=TOTAL_FAILURE)
    assert send_deadline(OFFLINE, date(2026, 11, 20), [maintenance, total], cause=maintenance) == NO_OBLIGATION
    assert not NO_OBLIGATION.required


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="online"):
        send_deadline("online", date(2026, 11, 20))


def test_the_current_outage_is_the_event_going_on_of_latarnias_status():
    now = at("2026-11-20T10:00:00")
    past = Outage(MAINTENANCE, at("2026-11-01T08:00:00"), at("2026-11-01T10:00:00"), event_id="1")
    now_on = Outage(MAINTENANCE, at("2026-11-20T08:00:00"), at("2026-11-20T12:00:00"), event_id="2")
    planned = Outage(MAINTENANCE, at("2026-12-01T08:00:00"), at("2026-12-01T12:00:00"), event_id="3")
    assert current_outage(MAINTENANCE, [past, now_on, planned], now) == now_on
    assert current_outage(AVAILABLE, [past, now_on, planned], now) is None
    assert current_outage(FAILURE, [past, now_on], now) == Outage(FAILURE)  # a status without an announcement


def test_announcements_read_from_latarnia_over_http():
    with KsefSimulator() as sim:
        sim.availability = FAILURE
        sim.availability_messages = [
            {
                "id": "m1",
                "eventId": "e1",
                "category": "FAILURE",
                "type": "FAILURE_START",
                "title": "Awaria KSeF",
                "text": "Trwa awaria.",
                "start": "2026-11-20T08:00:00Z",
                "version": 1,
                "published": "2026-11-20T08:05:00Z",
            },
            {
                "id": "m2",
                "eventId": "e1",
                "category": "FAILURE",
                "type": "FAILURE_END",
                "title": "Koniec awarii KSeF",
                "text": "Awaria usunięta.",
                "start": "2026-11-20T08:00:00Z",
                "end": "2026-11-20T14:00:00.1234567Z",
                "version": 2,
                "published": "2026-11-20T14:05:00Z",
            },
            {
                "id": "m3",
                "eventId": "e0",
                "category": "MAINTENANCE",
                "type": "MAINTENANCE_ANNOUNCEMENT",
                "title": "Prace serwisowe",
                "start": "2026-11-10T20:00:00Z",
                "end": "2026-11-10T23:00:00Z",
                "version": 1,
            },
        ]
        announced = outages(Latarnia(base_url=f"{sim.url}/latarnia").messages())
    assert [(o.event_id, o.category, o.title) for o in announced] == [
        ("e0", MAINTENANCE, "Prace serwisowe"),
        ("e1", FAILURE, "Koniec awarii KSeF"),
    ]
    assert announced[1].end == datetime(2026, 11, 20, 14, 0, 0, 123456, tzinfo=timezone.utc)
    # an emergency invoice of that Friday is due 7 working days after it: Tuesday 1 December
    assert send_deadline(EMERGENCY, date(2026, 11, 20), announced, cause=announced[1]) == Deadline(date(2026, 12, 1))


# -- technical correction (offline/korekta-techniczna.md) over HTTP ------------------------------------------------
def test_a_rejected_offline_invoice_is_corrected_once_and_only_it():
    clock = ManualClock(datetime.now(timezone.utc).replace(microsecond=0))
    good = invoice("FV/TECH/1")
    broken = good.replace(b"<P_2>", b"<!--v1--><P_2>")  # the same content as another file: another hash
    with KsefSimulator(clock=clock.datetime) as sim:
        sim.validator = lambda xml: ["cvc-complex-type.2.4.a: Invalid content."] if b"<!--v1-->" in xml else []
        client = make_client(sim, clock)
        auth = Authenticator(client, SELLER, KsefTokenLogin(sim.issue_ksef_token(SELLER)))
        session = OnlineSession.open(client, auth)
        first = session.send(broken, offline_mode=True)
        clock.advance(3)
        assert session.sessions.invoice_status(session.reference_number, first.reference_number).code == 450

        with pytest.raises(KsefRequestError) as online:  # a technical correction is sent as offline
            session.send(good, hash_of_corrected_invoice=first.invoice_hash)
        assert online.value.codes == {21405}
        corrected = session.send(good, offline_mode=True, hash_of_corrected_invoice=first.invoice_hash)
        clock.advance(3)
        status = session.sessions.invoice_status(session.reference_number, corrected.reference_number)
        assert (status.code, status.invoicing_mode) == (200, "Offline")
        assert sim.requests_to(r"/sessions/online/[^/]+/invoices$", "POST")[-1].json()["hashOfCorrectedInvoice"] == (
            b64sha(broken)
        )
        (original,) = [i for i in sim.invoices.values() if i.hash == b64sha(broken)]
        assert original.corrected_by == status.ksef_number  # KOD I of the old file leads to the correction

        again = good.replace(b"<P_2>", b"<!--v2--><P_2>")
        with pytest.raises(KsefRequestError) as twice:
            session.send(again, offline_mode=True, hash_of_corrected_invoice=first.invoice_hash)
        assert twice.value.codes == {21166}
        with pytest.raises(KsefRequestError) as of_accepted:  # an invoice KSeF took needs no technical correction
            session.send(again, offline_mode=True, hash_of_corrected_invoice=corrected.invoice_hash)
        assert of_accepted.value.codes == {21167}
        online_sent = session.send(invoice("FV/TECH/2").replace(b"<P_2>", b"<!--v1--><P_2>"))
        clock.advance(3)
        with pytest.raises(KsefRequestError) as of_online:  # only an offline invoice
            session.send(invoice("FV/TECH/2"), offline_mode=True, hash_of_corrected_invoice=online_sent.invoice_hash)
        assert of_online.value.codes == {21167}
        clock.advance(60)
        issued = Incoming(client, auth, subject_type="Subject1").metadata(clock.datetime() - timedelta(days=1))
        (listed,) = [metadata for metadata in issued if metadata.invoice_number == "FV/TECH/1"]
        assert listed.raw["hashOfCorrectedInvoice"] == b64sha(broken)
