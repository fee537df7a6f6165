"""What every Odoo process counts together: the platforms' rate limits (ANAF's calls a minute, KSeF's per second,
minute and hour) hold for a company's context however many workers and servers call them, so the calls are counted
in the database all of them share."""

from contextlib import contextmanager

from odoo import modules

from einvoice.http import LEFT_WINDOW, counted_period, next_room

# a call without an answer for this long was made by a worker that died: it no longer counts
ABANDONED = 900


@contextmanager
def own_transaction(registry):
    """A cursor on ``registry``'s database whose work is committed when the block ends, apart from the caller's
    transaction, so every other worker sees it at once (and it stays counted if the caller's work is rolled back).

    Its transaction reads committed data: each statement sees what the other workers committed before it, also
    after waiting for a lock they held (Odoo's own transactions are repeatable-read, where a row changed by another
    worker meanwhile cannot be updated). Inside a test, whose changes are all rolled back, it is the test's own
    cursor under a savepoint."""
    test = modules.module.current_test
    if test:
        with test.env.cr.savepoint(flush=False):
            yield test.env.cr
        return
    with registry.cursor() as cr:
        cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        yield cr


class SharedRateBudget:
    """At most ``calls`` calls in any ``period`` seconds, for each ``(calls, period)`` of ``windows`` at once, over
    every process using the database: a budget of the :mod:`einvoice` clients, counting as
    :class:`einvoice.http.RateBudget` does (from each call's answer; a call without one yet counts as made now).

    The calls of ``bucket`` are rows of ``account_einvoice_platform_call``, counted and added under a lock of the
    bucket in a transaction of their own, committed before the call goes. ``clock`` gives seconds since the epoch
    (the servers of one database keep the same time); ``sleep`` waits while the windows are full.
    """

    def __init__(self, registry, bucket, windows, *, clock, sleep):
        self._registry = registry
        self.bucket = bucket
        self.windows = tuple((calls, counted_period(period)) for calls, period in windows)
        self._clock = clock
        self._sleep = sleep

    def acquire(self):
        if not self.windows:  # every window of the family is unlimited
            return None
        while True:
            call_id, wait = self._take()
            if call_id:
                return lambda: self._answered(call_id)
            self._sleep(wait)

    def _take(self):
        """``(id, None)`` of the call counted now, or ``(None, seconds)`` to wait until every window has room."""
        now = self._clock()
        edge = now + LEFT_WINDOW  # a call answered ``period`` before this has left the window
        with own_transaction(self._registry) as cr:
            cr.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [self.bucket])
            longest = max(period for _calls, period in self.windows)
            cr.execute(
                "DELETE FROM account_einvoice_platform_call WHERE bucket = %s"
                " AND (answered_at <= %s OR (answered_at IS NULL AND called_at <= %s))",
                [self.bucket, edge - longest, now - ABANDONED],
            )
            cr.execute(
                "SELECT answered_at FROM account_einvoice_platform_call WHERE bucket = %s ORDER BY answered_at",
                [self.bucket],
            )
            stamps = [row[0] for row in cr.fetchall()]
            finished = [stamp for stamp in stamps if stamp is not None]
            in_flight = len(stamps) - len(finished)
            waits = [
                next_room([stamp for stamp in finished if stamp > edge - period], in_flight, calls, period, now)
                for calls, period in self.windows
            ]
            waits = [wait for wait in waits if wait is not None]
            if waits:
                return None, max(waits)
            cr.execute(
                "INSERT INTO account_einvoice_platform_call (bucket, called_at) VALUES (%s, %s) RETURNING id",
                [self.bucket, now],
            )
            return cr.fetchone()[0], None

    def _answered(self, call_id):
        with own_transaction(self._registry) as cr:
            cr.execute(
                "UPDATE account_einvoice_platform_call SET answered_at = %s WHERE id = %s", [self._clock(), call_id]
            )
