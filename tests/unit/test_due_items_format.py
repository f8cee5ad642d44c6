"""Due times as DueIndex stores them: UTC text that sorts in time order and never makes anything early."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from headsup.adapters.due_items import ItemType, format_due, item_key, parse_due
from hypothesis import given
from hypothesis import strategies as st

ZONES = [UTC, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kathmandu"), ZoneInfo("Pacific/Chatham")]
# Any moment a due time could realistically be, written in any zone a record could carry
moments = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2200, 12, 31),
    timezones=st.sampled_from(ZONES),
    allow_imaginary=False,
)


def test_a_due_time_is_written_in_utc_with_a_z() -> None:
    # 20:45 in Kathmandu (UTC+05:45) is 15:00 UTC
    assert (
        format_due(datetime(2026, 3, 10, 20, 45, tzinfo=ZoneInfo("Asia/Kathmandu"))) == "2026-03-10T15:00:00Z"
    )
    assert (
        format_due(datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("America/New_York")))
        == "2026-03-10T14:00:00Z"
    )
    assert format_due(datetime(2026, 3, 10, 15, 0, tzinfo=UTC)) == "2026-03-10T15:00:00Z"


@pytest.mark.parametrize(
    ("moment", "written"),
    [
        (datetime(2026, 3, 10, 15, 0, 0, tzinfo=UTC), "2026-03-10T15:00:00Z"),  # whole seconds stay
        (datetime(2026, 3, 10, 15, 0, 0, 1, tzinfo=UTC), "2026-03-10T15:00:01Z"),
        (datetime(2026, 3, 10, 15, 0, 0, 500_000, tzinfo=UTC), "2026-03-10T15:00:01Z"),
        (datetime(2026, 3, 10, 15, 0, 0, 999_999, tzinfo=UTC), "2026-03-10T15:00:01Z"),
        (datetime(2026, 12, 31, 23, 59, 59, 1, tzinfo=UTC), "2027-01-01T00:00:00Z"),  # across a year
    ],
)
def test_a_due_time_is_rounded_up_to_a_whole_second(moment: datetime, written: str) -> None:
    # Rounding down would make the item due before its time, and the rule would find nothing to do
    assert format_due(moment) == written


def test_the_same_instant_in_two_zones_is_written_the_same() -> None:
    in_new_york = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York"))  # 01:30 EST
    assert format_due(in_new_york) == format_due(in_new_york.astimezone(UTC)) == "2026-11-01T06:30:00Z"


def test_the_hour_new_york_repeats_in_autumn_is_written_in_time_order() -> None:
    # 01:50 EDT comes before 01:10 EST, although its wall clock reads later
    first = datetime(2026, 11, 1, 1, 50, fold=0, tzinfo=ZoneInfo("America/New_York"))
    second = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=ZoneInfo("America/New_York"))
    assert (format_due(first), format_due(second)) == ("2026-11-01T05:50:00Z", "2026-11-01T06:10:00Z")


# Instants are compared in UTC: arithmetic and comparison of two times in the same zone work on
# the wall clock and ignore `fold`, so they are wrong around the hour a zone repeats in autumn.


@given(moment=moments)
def test_a_due_time_is_never_early_and_never_a_second_late(moment: datetime) -> None:
    instant = moment.astimezone(UTC)
    due = parse_due(format_due(moment))
    assert instant <= due < instant + timedelta(seconds=1)


@given(first=moments, second=moments)
def test_due_times_sort_as_text_in_time_order(first: datetime, second: datetime) -> None:
    # DueIndex compares due_at as a string: text order must be time order, whatever the zones
    if first.astimezone(UTC) <= second.astimezone(UTC):
        assert format_due(first) <= format_due(second)
    else:
        assert format_due(first) >= format_due(second)


@given(moment=moments.map(lambda moment: moment.replace(microsecond=0)))
def test_parse_due_reads_back_what_format_due_wrote(moment: datetime) -> None:
    parsed = parse_due(format_due(moment))
    assert parsed == moment.astimezone(UTC)
    assert parsed.utcoffset() == timedelta(0)


def test_parse_due_gives_an_aware_utc_time() -> None:
    assert parse_due("2026-03-10T15:00:00Z") == datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    assert parse_due("2026-03-10T15:00:00Z").tzinfo is UTC


@pytest.mark.parametrize(
    "text", ["2026-03-10T15:00:00+00:00", "2026-03-10 15:00:00Z", "2026-03-10T15:00:00.5Z"]
)
def test_parse_due_accepts_only_what_format_due_writes(text: str) -> None:
    with pytest.raises(ValueError, match="does not match format"):
        parse_due(text)


@pytest.mark.parametrize(
    ("item_type", "item_id", "key"),
    [("callback", "cb-1", "callback#cb-1"), ("ticket", "T-100", "ticket#T-100")],
)
def test_item_key_names_the_type_and_the_id(item_type: ItemType, item_id: str, key: str) -> None:
    assert item_key(item_type, item_id) == key


def test_a_callback_and_a_ticket_with_the_same_id_have_different_keys() -> None:
    assert item_key("callback", "42") != item_key("ticket", "42")
