"""Polish public holidays and working days, for KSeF's offline deadlines.

The holidays are those of the act on days free from work (ustawa z dnia 18 stycznia 1951 r. o dniach wolnych od
pracy): fixed dates, Easter Sunday and Monday, Pentecost Sunday and Corpus Christi, and Christmas Eve from 2025.
A working day is any day but Saturday, Sunday and a public holiday (Ordynacja podatkowa, art. 12 § 5), which is
what "the next working day" of art. 106nda of the VAT act counts.
"""

from datetime import date, timedelta
from functools import lru_cache

FIXED = (
    (1, 1),  # Nowy Rok
    (1, 6),  # Święto Trzech Króli
    (5, 1),  # Święto Państwowe
    (5, 3),  # Święto Narodowe Trzeciego Maja
    (8, 15),  # Wniebowzięcie Najświętszej Maryi Panny
    (11, 1),  # Wszystkich Świętych
    (11, 11),  # Narodowe Święto Niepodległości
    (12, 25),  # pierwszy dzień Bożego Narodzenia
    (12, 26),  # drugi dzień Bożego Narodzenia
)
CHRISTMAS_EVE_FROM = 2025  # Wigilia Bożego Narodzenia, a public holiday by the act of 6 December 2024
# days after Easter Sunday: Easter Monday, Pentecost Sunday (Zielone Świątki), Corpus Christi (Boże Ciało)
AFTER_EASTER = (0, 1, 49, 60)


def easter(year):
    """Easter Sunday of the Gregorian calendar (the anonymous algorithm of Meeus, Jones and Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday) // 451
    month, day = divmod(h + weekday - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=64)
def public_holidays(year):
    """Every public holiday of ``year`` in Poland, as a frozenset of dates."""
    days = {date(year, month, day) for month, day in FIXED}
    if year >= CHRISTMAS_EVE_FROM:
        days.add(date(year, 12, 24))
    sunday = easter(year)
    days.update(sunday + timedelta(days=offset) for offset in AFTER_EASTER)
    return frozenset(days)


def is_working_day(day):
    return day.weekday() < 5 and day not in public_holidays(day.year)


def working_day_after(day, count=1):
    """The ``count``-th working day after ``day`` (the deadline of an offline invoice is the first)."""
    while count:
        day += timedelta(days=1)
        count -= is_working_day(day)
    return day
