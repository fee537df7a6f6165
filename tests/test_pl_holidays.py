"""Polish public holidays and working days: the deadline of an invoice issued offline (Offline24) is the next
working day after its issue date."""

from datetime import date

import pytest

from einvoice.pl.holidays import easter, is_working_day, public_holidays, working_day_after


@pytest.mark.parametrize(
    "year, sunday",
    [
        (1818, date(1818, 3, 22)),  # the earliest date Easter can fall on
        (1943, date(1943, 4, 25)),  # the latest
        (2000, date(2000, 4, 23)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
    ],
)
def test_easter_sunday(year, sunday):
    assert easter(year) == sunday


def test_the_holidays_of_2026_as_the_calendar_prints_them():
    assert sorted(public_holidays(2026)) == [
        date(2026, 1, 1),
        date(2026, 1, 6),
        date(2026, 4, 5),  # Easter Sunday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),
        date(2026, 5, 3),
        date(2026, 5, 24),  # Pentecost Sunday
        date(2026, 6, 4),  # Corpus Christi
        date(2026, 8, 15),
        date(2026, 11, 1),
        date(2026, 11, 11),
        date(2026, 12, 24),
        date(2026, 12, 25),
        date(2026, 12, 26),
    ]


def test_christmas_eve_is_a_holiday_from_2025_only():
    assert date(2024, 12, 24) not in public_holidays(2024)
    assert date(2025, 12, 24) in public_holidays(2025)
    assert len(public_holidays(2024)) == 13


def test_weekends_and_holidays_are_not_working_days():
    assert is_working_day(date(2026, 11, 20))  # a Friday
    assert not is_working_day(date(2026, 11, 21))  # Saturday
    assert not is_working_day(date(2026, 11, 22))  # Sunday
    assert not is_working_day(date(2026, 11, 11))  # Independence Day, a Wednesday


@pytest.mark.parametrize(
    "issued, deadline",
    [
        (date(2026, 11, 18), date(2026, 11, 19)),  # Wednesday -> Thursday
        (date(2026, 11, 20), date(2026, 11, 23)),  # Friday -> Monday
        (date(2026, 11, 10), date(2026, 11, 12)),  # the day before Independence Day
        (date(2026, 4, 3), date(2026, 4, 7)),  # Good Friday -> over Easter Monday
        (date(2026, 6, 3), date(2026, 6, 5)),  # the day before Corpus Christi
        (date(2026, 12, 23), date(2026, 12, 28)),  # Christmas Eve, Christmas, the weekend
        (date(2026, 12, 31), date(2027, 1, 4)),  # New Year, then a weekend
        (date(2027, 1, 5), date(2027, 1, 7)),  # Epiphany
    ],
)
def test_the_next_working_day(issued, deadline):
    assert working_day_after(issued) == deadline


def test_several_working_days_after():
    # a failure of KSeF gives 7 working days after its end: Christmas and New Year do not count
    assert working_day_after(date(2026, 12, 22), 7) == date(2027, 1, 5)
