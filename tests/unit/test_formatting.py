from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from headsup.rendering.formatting import LocaleFormatter


def formatter(locale: str, zone: str) -> LocaleFormatter:
    return LocaleFormatter(Locale.parse(locale, sep="-"), ZoneInfo(zone))


def test_instants_are_shown_in_the_customers_own_timezone() -> None:
    instant = datetime(2026, 11, 24, 17, 30, tzinfo=UTC)
    assert formatter("en-US", "America/Los_Angeles").time(instant) == "9:30\u202fAM"
    assert formatter("de-DE", "Europe/Berlin").time(instant) == "18:30"
    assert formatter("en-GB", "Asia/Tokyo").datetime(instant) == "25 Nov 2026, 02:30"


def test_daylight_saving_is_applied_for_the_date_in_question() -> None:
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    winter = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    berlin = formatter("de-DE", "Europe/Berlin")
    assert (berlin.time(summer), berlin.time(winter)) == ("14:00", "13:00")


def test_money_and_changes_follow_the_locale_and_show_a_sign() -> None:
    assert formatter("en-US", "UTC").money_change(Decimal("5"), "USD") == "+$5.00"
    assert formatter("de-DE", "UTC").money(Decimal("1234.5"), "EUR") == "1.234,50\xa0€"
    assert formatter("ja-JP", "UTC").money(Decimal("1200"), "JPY") == "￥1,200"


def test_periods_and_dates_are_spelled_for_the_locale() -> None:
    assert formatter("en-US", "UTC").month("2026-11") == "November 2026"
    assert formatter("fr-FR", "UTC").date(date(2026, 12, 1)) == "1 décembre 2026"
    assert formatter("en-US", "UTC").short_date(date(2026, 12, 15)) == "Dec 15"


def test_a_time_on_another_day_carries_its_day() -> None:
    la = formatter("en-US", "America/Los_Angeles")
    promised = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)  # Nov 24, 10:00 PM in Los Angeles
    same_evening = datetime(2026, 11, 25, 7, 15, tzinfo=UTC)
    after_midnight = datetime(2026, 11, 25, 8, 15, tzinfo=UTC)
    assert la.time_near(same_evening, promised) == "11:15\u202fPM"
    assert la.time_near(after_midnight, promised) == "Nov 25, 12:15\u202fAM"
