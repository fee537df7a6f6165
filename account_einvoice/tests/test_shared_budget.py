from odoo.tests import TransactionCase, tagged

from odoo.addons.account_einvoice.tools.shared_budget import ABANDONED, SharedRateBudget

from einvoice.http import IN_FLIGHT_POLL, counted_period


class FakeTime:
    """A clock that only moves when a budget waits (``sleep``), so each wait is exactly what the budget asked."""

    def __init__(self, now=1_800_000_000.0):
        self.now = now
        self.waits = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.waits.append(seconds)
        self.now += seconds


@tagged("post_install", "-at_install")
class TestSharedRateBudget(TransactionCase):
    """Each budget object stands for one worker: they share nothing in memory, only the database."""

    def setUp(self):
        super().setUp()
        self.time = FakeTime()

    def budget(self, bucket, windows):
        return SharedRateBudget(self.registry, bucket, windows, clock=self.time, sleep=self.time.sleep)

    def counted(self, bucket):
        return self.env["account.einvoice.platform.call"].search_count([("bucket", "=", bucket)])

    def call(self, budget):
        """One call through ``budget``, answered at once."""
        answered = budget.acquire()
        answered()

    def test_workers_spend_one_budget(self):
        first, second = self.budget("anaf:1", [(3, 60)]), self.budget("anaf:1", [(3, 60)])
        self.call(first)
        self.call(first)
        self.time.now += 10
        self.call(second)
        self.assertEqual(self.time.waits, [], "three calls fit in the minute, whoever makes them")
        self.assertEqual(self.counted("anaf:1"), 3)
        self.call(second)  # the fourth waits until the first call has left the window
        self.assertAlmostEqual(sum(self.time.waits), counted_period(60) - 10, delta=1e-6)
        self.call(first)  # the fifth: the first two calls were answered at the same moment, so it is free now too
        self.assertAlmostEqual(sum(self.time.waits), counted_period(60) - 10, delta=1e-6)
        self.assertEqual(self.counted("anaf:1"), 3, "calls that left every window are deleted as the budget goes")

    def test_a_call_counts_from_its_answer(self):
        """A slow call keeps its place until answered: the platform counted it when it arrived, maybe late."""
        first, second = self.budget("anaf:3", [(1, 1)]), self.budget("anaf:3", [(1, 1)])
        answered = first.acquire()
        calls = self.env["account.einvoice.platform.call"].search([("bucket", "=", "anaf:3")])
        self.assertFalse(calls.answered_at, "in flight: no answer yet")
        self.time.now += 5
        answered()
        calls.invalidate_recordset()
        self.assertAlmostEqual(calls.answered_at, self.time.now, delta=1e-6)
        self.call(second)
        self.assertAlmostEqual(sum(self.time.waits), counted_period(1), delta=1e-6)

    def test_calls_in_flight_fill_the_window(self):
        """Another worker's call without an answer yet counts as made now: the next one looks again shortly."""
        first, second = self.budget("anaf:4", [(1, 60)]), self.budget("anaf:4", [(1, 60)])
        first.acquire()  # its answer never comes in this test
        calls = self.env["account.einvoice.platform.call"]
        call_id, wait = second._take()
        self.assertIsNone(call_id)
        self.assertEqual(wait, IN_FLIGHT_POLL)
        self.assertEqual(calls.search_count([("bucket", "=", "anaf:4")]), 1)

    def test_a_call_of_a_dead_worker_stops_counting(self):
        first, second = self.budget("anaf:5", [(1, 60)]), self.budget("anaf:5", [(1, 60)])
        first.acquire()  # the worker died before the answer
        self.time.now += ABANDONED + 1
        self.call(second)
        self.assertEqual(self.time.waits, [])

    def test_buckets_are_counted_apart(self):
        self.call(self.budget("ksef:test:1:online_send", [(1, 60)]))
        self.call(self.budget("ksef:test:2:online_send", [(1, 60)]))
        self.call(self.budget("ksef:test:1:download", [(1, 60)]))
        self.assertEqual(self.time.waits, [])

    def test_every_window_holds_at_once(self):
        windows = [(2, 1), (3, 60)]  # two a second, three a minute, as KSeF counts
        workers = [self.budget("ksef:test:1:query_metadata", windows) for _worker in range(3)]
        for worker in workers[:2]:
            self.call(worker)
        self.call(workers[2])  # the third in the same second waits for the second to end
        self.assertAlmostEqual(self.time.waits[0], counted_period(1), delta=1e-6)
        self.call(workers[0])  # the fourth in the minute waits for the minute to end, counted from the first call
        self.assertAlmostEqual(sum(self.time.waits), counted_period(60), delta=1e-6)
        self.assertEqual(self.counted("ksef:test:1:query_metadata"), 2)

    def test_an_unlimited_family_is_not_counted(self):
        self.assertIsNone(self.budget("ksef:test:1:auth", []).acquire())
        self.assertEqual(self.counted("ksef:test:1:auth"), 0)
