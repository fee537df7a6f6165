"""KSeF's offline modes and the day by which an invoice issued in one must reach KSeF.

The Ministry's ``tryby-offline.md`` (10.07.2025) sets three modes besides online, each with its send deadline:

- offline24 (the taxpayer's choice, art. 106nda of the VAT act): the next working day after the issue date;
- offline (KSeF announced unavailable, planned maintenance, art. 106nh): the next working day after the
  unavailability ends;
- emergency, "tryb awaryjny" (a KSeF failure announced, art. 106nf): 7 working days after the failure ends.

A failure announced while an invoice waits to be sent moves its deadline to 7 working days after the end of the last
announced failure (in emergency mode a new announcement restarts the count). A total failure ("awaria całkowita")
announced meanwhile lifts the obligation to send at all. Days are counted in Poland's calendar
(:mod:`einvoice.pl.holidays`); Latarnia's times are turned into Polish dates first.
"""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from .holidays import working_day_after
from .ksef import parse_datetime
from .qr import latest_versions

POLAND = ZoneInfo("Europe/Warsaw")

# Latarnia's statuses, which are also the categories of its announcements
AVAILABLE, MAINTENANCE, FAILURE, TOTAL_FAILURE = "AVAILABLE", "MAINTENANCE", "FAILURE", "TOTAL_FAILURE"
# the modes an invoice is issued in when it cannot wait for its KSeF number
OFFLINE24, OFFLINE, EMERGENCY = "offline24", "offline", "emergency"
# the mode an announced outage puts the invoices issued during it in (a total failure puts them outside KSeF)
MODE_OF_OUTAGE = {MAINTENANCE: OFFLINE, FAILURE: EMERGENCY}
FAILURE_WORKING_DAYS = 7


def polish_date(moment):
    """The calendar day of ``moment`` in Poland (an aware datetime; a naive one is taken as UTC, as Odoo keeps it)."""
    if not isinstance(moment, datetime):
        return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(POLAND).date()


@dataclass(frozen=True)
class Outage:
    """One event Latarnia announced: planned maintenance, a failure or a total failure, from ``start`` to ``end``
    (None while it lasts, or while a planned end is not announced)."""

    category: str
    start: datetime = None
    end: datetime = None
    event_id: str = None
    title: str = ""
    text: str = ""

    @classmethod
    def from_message(cls, message):
        """An announcement of Latarnia's ``/messages`` (the highest version of its event)."""
        event = message.get("eventId", message.get("id"))
        return cls(
            category=message.get("category") or FAILURE,
            start=parse_datetime(message.get("start")),
            end=parse_datetime(message.get("end")),
            event_id=str(event) if event is not None else None,
            title=message.get("title") or "",
            text=message.get("text") or "",
        )

    def same_event(self, other):
        """Whether ``other`` is this event (by Latarnia's event id, else as a whole)."""
        if other is None:
            return False
        if self.event_id and other.event_id:
            return self.event_id == other.event_id
        return self == other

    def ended_by(self, moment):
        return self.end is not None and self.end <= moment

    def covers(self, moment):
        """Whether the event is going on at ``moment``."""
        return (self.start is None or self.start <= moment) and not self.ended_by(moment)


def outages(messages):
    """Latarnia's announcements as outages, one per event (its highest version), oldest first."""
    found = [Outage.from_message(message) for message in latest_versions(messages)]
    return sorted(found, key=lambda outage: (outage.start is None, outage.start or datetime.min))


def current_outage(status, announced, now):
    """The event that makes KSeF ``status`` (Latarnia's) at ``now``, among the ``announced`` outages: the one of
    that category going on, else the latest of that category; None when KSeF is available. A status without any
    announcement is still an outage, of unknown start and end."""
    if status == AVAILABLE:
        return None
    same = [outage for outage in announced if outage.category == status]
    going_on = [outage for outage in same if outage.covers(now)]
    return (going_on or same or [Outage(status)])[-1]


@dataclass(frozen=True)
class Deadline:
    """By when an offline invoice must reach KSeF. ``day`` is None while the outage it is counted from has not
    ended; ``required`` is False once a total failure lifted the obligation to send."""

    day: date = None
    required: bool = True


NO_OBLIGATION = Deadline(required=False)


def send_deadline(mode, issued_on, announced=(), *, cause=None):
    """The :class:`Deadline` of an invoice issued on ``issued_on`` in ``mode``. ``cause`` is the outage the invoice
    was issued in (offline and emergency modes); ``announced`` every outage Latarnia announced since, of which the
    failures and total failures during the invoice's send window move or lift its deadline."""
    if mode == OFFLINE24:
        day = working_day_after(issued_on)
    elif mode == OFFLINE:
        day = _counted_from(cause, 1)
    elif mode == EMERGENCY:
        day = _counted_from(cause, FAILURE_WORKING_DAYS)
    else:
        raise ValueError(f"unknown offline mode {mode!r}")
    for outage in announced:
        if outage.same_event(cause) or outage.category not in (FAILURE, TOTAL_FAILURE):
            continue
        started = polish_date(outage.start) if outage.start else issued_on
        ended = polish_date(outage.end) if outage.end else None
        if (day is not None and started > day) or (ended is not None and ended < issued_on):
            continue  # announced after the invoice's deadline, or over before it was issued
        if outage.category == TOTAL_FAILURE:
            return NO_OBLIGATION
        # the deadline moves to 7 working days after the end of the last failure announced; never earlier
        moved = _counted_from(outage, FAILURE_WORKING_DAYS)
        day = None if day is None or moved is None else max(day, moved)
    return Deadline(day)


def _counted_from(outage, working_days):
    """``working_days`` after the day ``outage`` ended; None while it lasts (or is not known)."""
    if outage is None or outage.end is None:
        return None
    return working_day_after(polish_date(outage.end), working_days)


# invoice statuses of a rejection KSeF allows a technical correction of (offline/korekta-techniczna.md: the schema,
# the size, a duplicate, any other technical check that kept it from a KSeF number; not a missing permission (410)
# nor attachments the seller may not send (415)): 405 cancelled with its session, 430 file verification, 435
# decryption, 440 duplicate, 450 semantic or schema error
TECHNICALLY_CORRECTABLE = frozenset({405, 430, 435, 440, 450})
