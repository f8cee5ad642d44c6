"""The customer's sent log, as the daily cap reads it and a claim extends it."""

from datetime import UTC, datetime, timedelta

from headsup.domain.sent_log import DAY, SentLog

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_only_the_sends_of_the_last_24_hours_count_oldest_first() -> None:
    log = SentLog({"a": NOW - timedelta(hours=3), "b": NOW - DAY, "c": NOW - timedelta(hours=23, minutes=59)})

    assert log.sent_within_day(NOW) == [NOW - timedelta(hours=23, minutes=59), NOW - timedelta(hours=3)]


def test_admitting_keeps_the_newest_sends_of_the_day_and_the_new_one() -> None:
    log = SentLog(
        {
            "two-days-ago": NOW - 2 * DAY,
            "morning": NOW - timedelta(hours=5),
            "noon": NOW - timedelta(hours=1),
            "dawn": NOW - timedelta(hours=8),
        },
        version=4,
    )

    assert log.admitting("now", NOW, keep=3) == {
        "now": NOW,
        "noon": NOW - timedelta(hours=1),
        "morning": NOW - timedelta(hours=5),
    }


def test_admitting_the_same_notice_again_takes_no_second_place() -> None:
    once = SentLog(SentLog().admitting("n-1", NOW, keep=3), version=1)

    again = once.admitting("n-1", NOW + timedelta(seconds=30), keep=3)

    assert list(again) == ["n-1"]


def test_the_new_send_is_kept_even_when_it_is_not_the_newest() -> None:
    # A claim's clock may lag another environment's by a moment
    log = SentLog({"x": NOW + timedelta(seconds=2), "y": NOW + timedelta(seconds=1)})

    assert "late" in log.admitting("late", NOW, keep=2)
