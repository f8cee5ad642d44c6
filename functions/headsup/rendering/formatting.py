"""Amounts, percentages and dates as the customer reads them: their locale, their timezone."""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache, update_wrapper
from typing import Any, Concatenate
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.numbers import format_currency, format_percent

from headsup.rendering.locale_data import isolate_locales

# Before any notice is formatted: one customer's locale must never leak into the next one's.
isolate_locales()

# Figures a formatter remembers before it starts again: a notice repeats its figures in its
# subject, HTML and text, and notices of one batch share dates and periods; Babel takes 5-40 µs
# a figure, most of it looking up locale data.
_MEMO_LIMIT = 256


def _memo_key(args: tuple[object, ...]) -> tuple[object, ...]:
    # Equal is not enough: Decimal("20.5") == Decimal("20.50") but they format differently, and
    # so do two equal instants given in different offsets (a date is taken from the wall clock).
    return tuple([arg if arg.__class__ is str else (arg.__class__, str(arg)) for arg in args])


def _memoized[**P](
    method: Callable[Concatenate["LocaleFormatter", P], str],
) -> Callable[Concatenate["LocaleFormatter", P], str]:
    name = method.__name__

    def remembered(self: "LocaleFormatter", /, *args: P.args, **kwargs: P.kwargs) -> str:
        key = (name, _memo_key(args), _memo_key(tuple(kwargs.items())) if kwargs else None)
        try:
            return self._memo[key]
        except KeyError:
            pass
        text = method(self, *args, **kwargs)
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[key] = text
        return text

    update_wrapper(remembered, method)
    return remembered


class LocaleFormatter:
    """Exposed to templates as `fmt`; every figure in a notice goes through it. Its figures
    depend on nothing but the locale, the zone and the arguments, so they are remembered."""

    def __init__(self, locale: Locale, zone: ZoneInfo) -> None:
        self.locale = locale
        self.zone = zone
        self._memo: dict[tuple[Any, ...], str] = {}
        self._joins: dict[str, str] = {}

    @_memoized
    def money(self, amount: Decimal, currency: str) -> str:
        return format_currency(amount, currency, locale=self.locale)

    @_memoized
    def money_change(self, amount: Decimal, currency: str) -> str:
        """A change with its sign, so "+$5.00" cannot be misread as a new total."""
        sign = "+" if amount > 0 else ""
        return sign + format_currency(amount, currency, locale=self.locale)

    @_memoized
    def percent(self, value: Decimal) -> str:
        """20.5 -> "20.5%" (or "20,5 %" in de-DE): the locale's pattern, without rounding away the
        one decimal the notice carries."""
        return format_percent(value / 100, locale=self.locale, decimal_quantization=False)

    @_memoized
    def date(self, value: dt.date) -> str:
        return format_date(value, format="long", locale=self.locale)

    @_memoized
    def short_date(self, value: dt.date) -> str:
        return format_skeleton("MMMd", value, locale=self.locale)

    @_memoized
    def month(self, period: str) -> str:
        """ "2026-11" -> "November 2026"."""
        year, month = (int(part) for part in period.split("-"))
        return format_skeleton("yMMMM", dt.date(year, month, 1), locale=self.locale)

    @_memoized
    def short_month(self, period: str) -> str:
        year, month = (int(part) for part in period.split("-"))
        return format_skeleton("MMM", dt.date(year, month, 1), locale=self.locale)

    @_memoized
    def datetime(self, value: dt.datetime) -> str:
        """An instant on the reader's own clock, to the minute: "Nov 24, 2026, 9:15 AM"."""
        local = value.astimezone(self.zone)
        date_part = format_date(local.date(), format="medium", locale=self.locale)
        time_part = format_time(local, format="short", locale=self.locale)
        # The locale's own way of joining a date and a time ("{1}, {0}", "{1} um {0}", ...).
        return self._join("medium").replace("{1}", date_part).replace("{0}", time_part)

    @_memoized
    def time(self, value: dt.datetime) -> str:
        return format_time(value.astimezone(self.zone), format="short", locale=self.locale)

    @_memoized
    def time_near(self, value: dt.datetime, reference: dt.datetime) -> str:
        """Just the time when `value` falls on the same local day as `reference`, else the day
        too: "9:15 AM", but "Nov 25, 12:15 AM" for a deadline that crosses midnight."""
        local, near = value.astimezone(self.zone), reference.astimezone(self.zone)
        if local.date() == near.date():
            return self.time(value)
        return (
            self._join("short").replace("{1}", self.short_date(local.date())).replace("{0}", self.time(value))
        )

    def _join(self, width: str) -> str:
        """The locale's pattern joining a date and a time, read from its data once."""
        pattern = self._joins.get(width)
        if pattern is None:
            pattern = self._joins[width] = str(self.locale.datetime_formats[width])
        return pattern


@lru_cache(maxsize=64)  # with their figures, a few MB at most
def formatter_for(locale: Locale, zone: ZoneInfo) -> LocaleFormatter:
    """The one formatter of a locale on a clock (a few dozen in practice), so that what it
    remembers serves every notice written that way."""
    return LocaleFormatter(locale, zone)
