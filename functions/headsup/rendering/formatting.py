"""Amounts, percentages and dates as the customer reads them: their locale, their timezone."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.numbers import format_currency, format_percent

from headsup.rendering.locale_data import isolate_locales

# Before any notice is formatted: one customer's locale must never leak into the next one's.
isolate_locales()


class LocaleFormatter:
    """Exposed to templates as `fmt`; every figure in a notice goes through it."""

    def __init__(self, locale: Locale, zone: ZoneInfo) -> None:
        self.locale = locale
        self.zone = zone

    def money(self, amount: Decimal, currency: str) -> str:
        return format_currency(amount, currency, locale=self.locale)

    def money_change(self, amount: Decimal, currency: str) -> str:
        """A change with its sign, so "+$5.00" cannot be misread as a new total."""
        sign = "+" if amount > 0 else ""
        return sign + format_currency(amount, currency, locale=self.locale)

    def percent(self, value: Decimal) -> str:
        """20.5 -> "20.5%" (or "20,5 %" in de-DE): the locale's pattern, without rounding away the
        one decimal the notice carries."""
        return format_percent(value / 100, locale=self.locale, decimal_quantization=False)

    def date(self, value: dt.date) -> str:
        return format_date(value, format="long", locale=self.locale)

    def short_date(self, value: dt.date) -> str:
        return format_skeleton("MMMd", value, locale=self.locale)

    def month(self, period: str) -> str:
        """ "2026-11" -> "November 2026"."""
        year, month = (int(part) for part in period.split("-"))
        return format_skeleton("yMMMM", dt.date(year, month, 1), locale=self.locale)

    def short_month(self, period: str) -> str:
        year, month = (int(part) for part in period.split("-"))
        return format_skeleton("MMM", dt.date(year, month, 1), locale=self.locale)

    def datetime(self, value: dt.datetime) -> str:
        """An instant on the reader's own clock, to the minute: "Nov 24, 2026, 9:15 AM"."""
        local = value.astimezone(self.zone)
        date_part = format_date(local.date(), format="medium", locale=self.locale)
        time_part = format_time(local, format="short", locale=self.locale)
        # The locale's own way of joining a date and a time ("{1}, {0}", "{1} um {0}", ...).
        return str(self.locale.datetime_formats["medium"]).replace("{1}", date_part).replace("{0}", time_part)

    def time(self, value: dt.datetime) -> str:
        return format_time(value.astimezone(self.zone), format="short", locale=self.locale)

    def time_near(self, value: dt.datetime, reference: dt.datetime) -> str:
        """Just the time when `value` falls on the same local day as `reference`, else the day
        too: "9:15 AM", but "Nov 25, 12:15 AM" for a deadline that crosses midnight."""
        local, near = value.astimezone(self.zone), reference.astimezone(self.zone)
        if local.date() == near.date():
            return self.time(value)
        pattern = str(self.locale.datetime_formats["short"])
        return pattern.replace("{1}", self.short_date(local.date())).replace("{0}", self.time(value))
