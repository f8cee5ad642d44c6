"""A customer's preferences and what they mean for a notice: the three widths of opt-out, the pause,
the preferred language, and how the page's choices are stored. Pure, no AWS."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from headsup.domain.channels import Channel
from headsup.domain.kinds import NoticeKind, Topic
from headsup.domain.notices import NoticeRequest, make_notice_id
from headsup.domain.policy import DeliveryPolicy, QuietHours, Recipient, Send, Skip, decide
from headsup.domain.preferences import (
    CHANNELS,
    TOPICS,
    Choices,
    Pause,
    Preferences,
    changes_between,
    effective_locale,
)
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.builders import BILL_INCREASE_PAYLOAD, customer

NOW = datetime(2026, 11, 24, 17, 20, tzinfo=UTC)  # 12:20 in New York: inside the sending window
POLICY = DeliveryPolicy(
    quiet_hours=QuietHours(start=datetime.min.time(), end=datetime.min.time()), max_per_day=3
)
BOTH = customer(channels=["sms", "email"], phone="+14155550123", timezone="America/New_York")
EVERY_BOX = frozenset((t, c) for t in TOPICS for c in CHANNELS)


def never(_: str) -> bool:
    return False


def request(kind: NoticeKind = NoticeKind.BILL_INCREASE) -> NoticeRequest:
    return NoticeRequest(
        notice_id=make_notice_id(kind, "x"),
        kind=kind,
        customer_id="cust-1",
        detected_at=NOW,
        payload=BILL_INCREASE_PAYLOAD if kind is NoticeKind.BILL_INCREASE else {},
    )


def choices(*off: tuple[Topic, Channel], language: str | None = None, pause: Pause = Pause.KEEP) -> Choices:
    return Choices(receive=EVERY_BOX - set(off), language=language, pause=pause)


# ----------------------------------------------------------------------------------- the policy


def test_a_topic_turned_off_on_sms_alone_still_goes_by_email() -> None:
    # Given a customer who reads SMS first and turned billing off by SMS only
    preferences = Preferences("cust-1", opted_out_topic_channels=frozenset({"billing:sms"}))

    # When a bill and a visit notice are decided
    bill = decide(request(), Recipient(BOTH, preferences, [], never), NOW, POLICY)
    visit = decide(request(NoticeKind.VISIT_ON_THE_WAY), Recipient(BOTH, preferences, [], never), NOW, POLICY)

    # Then the bill goes by email, and the visit (another topic) still by SMS
    assert isinstance(bill, Send)
    assert bill.route.channel is Channel.EMAIL
    assert isinstance(visit, Send)
    assert visit.route.channel is Channel.SMS


def test_a_topic_turned_off_on_every_channel_one_by_one_has_no_channel_and_says_why() -> None:
    preferences = Preferences("cust-1", opted_out_topic_channels=frozenset({"billing:sms", "billing:email"}))

    decision = decide(request(), Recipient(BOTH, preferences, [], never), NOW, POLICY)

    assert decision == Skip(
        "no_channel",
        "sms: customer opted out of billing by sms; email: customer opted out of billing by email",
    )


def test_a_paused_customer_is_skipped_until_the_pause_ends_and_the_detail_is_the_time_only() -> None:
    until = datetime(2026, 12, 1, 13, tzinfo=UTC)
    preferences = Preferences("cust-1", paused_until=until)

    during = decide(request(), Recipient(BOTH, preferences, [], never), NOW, POLICY)
    after = decide(request(), Recipient(BOTH, preferences, [], never), until, POLICY)

    assert during == Skip("paused", "customer paused notices until 2026-12-01T13:00:00+00:00")
    assert isinstance(after, Send)


def test_a_pause_written_in_another_zone_is_told_in_utc() -> None:
    until = datetime(2026, 12, 1, 8, tzinfo=ZoneInfo("America/New_York"))

    decision = decide(
        request(), Recipient(BOTH, Preferences("cust-1", paused_until=until), [], never), NOW, POLICY
    )

    assert decision == Skip("paused", "customer paused notices until 2026-12-01T13:00:00+00:00")


def test_do_not_contact_and_a_topic_opt_out_come_before_the_pause() -> None:
    paused_and_out = Preferences(
        "cust-1", opted_out_topics=frozenset({"billing"}), paused_until=NOW + timedelta(days=1)
    )

    decision = decide(request(), Recipient(BOTH, paused_and_out, [], never), NOW, POLICY)

    assert decision == Skip("opted_out_topic", "customer opted out of billing notices")


@pytest.mark.parametrize(
    "preferences",
    [
        Preferences("cust-1"),
        Preferences("cust-1", opted_out_topics=frozenset({"visits"})),
        Preferences("cust-1", opted_out_channels=frozenset({"sms"})),
        Preferences("cust-1", suppressed_email="ana@example.com"),
    ],
)
def test_preferences_without_the_new_attributes_decide_as_before(preferences: Preferences) -> None:
    # An item written before the preference page: none of the new checks applies
    assert preferences.opted_out_topic_channels == frozenset()
    assert preferences.paused_at(NOW) is None
    assert effective_locale("es-MX", preferences) == "es-MX"
    assert preferences.channels_off_for("billing") == frozenset()


# -------------------------------------------------------------------------- what the boxes mean


def test_a_box_is_ticked_unless_its_topic_its_channel_or_the_pair_is_opted_out() -> None:
    preferences = Preferences(
        "cust-1",
        opted_out_topics=frozenset({"visits"}),
        opted_out_channels=frozenset({"email"}),
        opted_out_topic_channels=frozenset({"billing:sms"}),
    )

    on = {(t.value, c.value) for t in TOPICS for c in CHANNELS if preferences.receives(t, c)}

    assert on == {("callbacks", "sms"), ("tickets", "sms")}


def test_choices_are_stored_the_one_way_they_can_be() -> None:
    # Given billing off everywhere, SMS off everywhere, and tickets off by email
    chosen = choices(
        (Topic.BILLING, Channel.EMAIL),
        *((t, Channel.SMS) for t in TOPICS),
        (Topic.TICKETS, Channel.EMAIL),
    )

    # When they are saved
    saved = Preferences("cust-1").choosing(chosen, NOW)

    # Then a whole row is a topic, a whole column a channel, and only the rest a pair
    assert saved.opted_out_topics == {"billing", "tickets"}
    assert saved.opted_out_channels == {"sms"}
    assert saved.opted_out_topic_channels == frozenset()


def test_ticking_one_box_of_a_topic_opted_out_whole_keeps_the_rest_off() -> None:
    billing_out = Preferences("cust-1", opted_out_topics=frozenset({"billing"}))

    saved = billing_out.choosing(choices((Topic.BILLING, Channel.SMS)), NOW)

    assert saved.opted_out_topics == frozenset()
    assert saved.opted_out_topic_channels == {"billing:sms"}
    assert saved.receives("billing", "email")
    assert not saved.receives("billing", "sms")


def test_entries_headsup_does_not_know_are_kept_as_the_business_wrote_them() -> None:
    written = Preferences(
        "cust-1",
        opted_out_topics=frozenset({"marketing", "billing"}),
        opted_out_channels=frozenset({"push"}),
        opted_out_topic_channels=frozenset({"marketing:sms"}),
    )

    saved = written.choosing(choices(), NOW)

    assert saved.opted_out_topics == {"marketing"}
    assert saved.opted_out_channels == {"push"}
    assert saved.opted_out_topic_channels == {"marketing:sms"}


box = st.tuples(st.sampled_from(TOPICS), st.sampled_from(CHANNELS))
any_choices = st.builds(
    Choices,
    receive=st.frozensets(box),
    language=st.sampled_from([None, "en", "es"]),
    pause=st.sampled_from(list(Pause)),
)
any_preferences = st.builds(
    Preferences,
    customer_id=st.just("cust-1"),
    opted_out_topics=st.frozensets(st.sampled_from([*TOPICS, "marketing"])),
    opted_out_channels=st.frozensets(st.sampled_from(CHANNELS)),
    opted_out_topic_channels=st.frozensets(st.sampled_from([f"{t}:{c}" for t in TOPICS for c in CHANNELS])),
    paused_until=st.one_of(st.none(), st.just(NOW + timedelta(hours=3)), st.just(NOW - timedelta(hours=3))),
    language=st.sampled_from([None, "en", "es"]),
)


@given(before=any_preferences, chosen=any_choices)
def test_saving_gives_exactly_the_boxes_ticked_and_saving_again_changes_nothing(
    before: Preferences, chosen: Choices
) -> None:
    saved = before.choosing(chosen, NOW)

    assert {(t, c) for t in TOPICS for c in CHANNELS if saved.receives(t, c)} == chosen.receive
    assert saved.choosing(chosen, NOW) == saved
    assert changes_between(saved, saved.choosing(chosen, NOW), NOW) == ()


@given(before=any_preferences, chosen=any_choices)
def test_the_same_choices_give_the_same_opt_outs_whatever_was_stored_before(
    before: Preferences, chosen: Choices
) -> None:
    # Only what headsup does not know of ("marketing") survives from before
    fresh = Preferences("cust-1", opted_out_topics=before.opted_out_topics - set(TOPICS))

    def stored(preferences: Preferences) -> tuple[frozenset[str], ...]:
        saved = preferences.choosing(chosen, NOW)
        return saved.opted_out_topics, saved.opted_out_channels, saved.opted_out_topic_channels

    assert stored(before) == stored(fresh)


# ------------------------------------------------------------------------------------- the pause


@pytest.mark.parametrize(
    ("pause", "until"),
    [
        (Pause.DAY, datetime(2026, 11, 25, 18, tzinfo=UTC)),
        (Pause.WEEK, datetime(2026, 12, 1, 18, tzinfo=UTC)),
        (Pause.MONTH, datetime(2026, 12, 24, 18, tzinfo=UTC)),
    ],
)
def test_a_pause_ends_its_length_from_now_rounded_up_to_the_hour(pause: Pause, until: datetime) -> None:
    saved = Preferences("cust-1").choosing(choices(pause=pause), NOW)

    assert saved.paused_until == until
    # A second click a minute later gives the same time: nothing to write
    again = saved.choosing(choices(pause=pause), NOW + timedelta(minutes=1))
    assert changes_between(saved, again, NOW + timedelta(minutes=1)) == ()


def test_keep_leaves_the_pause_and_none_ends_it() -> None:
    paused = Preferences("cust-1", paused_until=NOW + timedelta(days=2))

    assert paused.choosing(choices(pause=Pause.KEEP), NOW).paused_until == NOW + timedelta(days=2)
    assert paused.choosing(choices(pause=Pause.NONE), NOW).paused_until is None


# --------------------------------------------------------------------------- the history's words


def test_changes_name_each_box_the_pause_and_the_language_and_nothing_personal() -> None:
    before = Preferences("cust-1", suppressed_email="ana@example.com")
    after = before.choosing(choices((Topic.BILLING, Channel.SMS), language="es", pause=Pause.DAY), NOW)

    assert changes_between(before, after, NOW) == (
        "billing by sms: off",
        "paused until 2026-11-25T18:00:00+00:00",
        "language: es",
    )
    assert changes_between(after, before, NOW) == (
        "billing by sms: on",
        "pause ended",
        "language: account default",
    )


def test_the_same_choices_written_another_way_are_no_change() -> None:
    # Billing off as two pairs, then saved: stored as a topic, which the customer cannot tell apart
    pairs = Preferences("cust-1", opted_out_topic_channels=frozenset({"billing:sms", "billing:email"}))
    saved = pairs.choosing(choices((Topic.BILLING, Channel.SMS), (Topic.BILLING, Channel.EMAIL)), NOW)

    assert saved.opted_out_topics == {"billing"}
    assert changes_between(pairs, saved, NOW) == ()


def test_a_pause_already_over_ending_is_no_change() -> None:
    over = Preferences("cust-1", paused_until=NOW - timedelta(hours=1))

    assert changes_between(over, over.choosing(choices(pause=Pause.NONE), NOW), NOW) == ()


# ------------------------------------------------------------------------------ the language


@pytest.mark.parametrize(
    ("customer_locale", "language", "expected"),
    [
        ("es-MX", None, "es-MX"),  # no choice: the account's locale
        ("es-MX", "es", "es-MX"),  # the same language: their region's conventions kept
        ("en-US", "es", "es-US"),  # Spanish words, US dates and amounts
        ("es-MX", "en", "en"),  # CLDR has no en_MX: English as such
        ("de-DE", "en", "en-DE"),
        ("ja-JP", "es", "es"),  # no es_JP either
        ("en-US", "ES ", "es-US"),  # written by hand
        ("en-US", "klingon", "en-US"),  # not a locale: ignored
        ("not a locale", "es", "not a locale"),
    ],
)
def test_effective_locale(customer_locale: str, language: str | None, expected: str) -> None:
    assert effective_locale(customer_locale, Preferences("cust-1", language=language)) == expected
