"""Measuring helpers shared by the benchmarks."""

import time


class Skipped(Exception):
    """A benchmark cannot run on this machine; the text says why."""


def best_of(function, *, repeat=5, number=1):
    """The fastest of ``repeat`` runs of ``number`` calls, in seconds per call."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            function()
        best = min(best, (time.perf_counter() - started) / number)
    return best
