"""The one delivery policy: send, hold (until when) or skip (why). Pure, no AWS."""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from headsup.domain.channels import Channel
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest, make_notice_id
from headsup.domain.policy import DeliveryPolicy, Hold, QuietHours, Recipient, Send, Skip, decide
from headsup.domain.preferences import Preferences

from tests.unit.builders import BILL_INCREASE_PAYLOAD, customer

NEW_YORK = ZoneInfo("America/New_York")
POLICY = DeliveryPolicy(
    quiet_hours=QuietHours(
        start=time(8), end=time(21), bypass_kinds=frozenset({NoticeKind.VISIT_RUNNING_LATE.value})
    ),
    max_per_day=3,
)
NO_PREFERENCES = Preferences("cust-1")
SMS_CUSTOMER = customer(channels=["sms", "email"], phone="+14155550123", timezone="America/New_York")


def never(_: str) -> bool:
    return False


def request(kind: NoticeKind = NoticeKind.BILL_INCREASE) -> NoticeRequest:
    payload = BILL_INCREASE_PAYLOAD if kind is NoticeKind.BILL_INCREASE else {}
    return NoticeRequest(
        notice_id=make_notice_id(kind, "x"),
        kind=kind,
        customer_id="cust-1",
        detected_at=datetime(2026, 11, 24, tzinfo=UTC),
        payload=payload,
    )


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def test_sms_at_2105_local_is_held_until_0800_the_next_morning() -> None:
    decision = decide(
        request(), Recipient(SMS_CUSTOMER, NO_PREFERENCES, [], never), local(2026, 11, 24, 21, 5), POLICY
    )

    assert isinstance(decision, Hold)
    assert decision.until == local(2026, 11, 25, 8, 0)
    assert decision.reason == "quiet_hours"
    assert decision.route.channel is Channel.SMS


def test_the_opening_is_0800_local_across_a_daylight_saving_change() -> None:
    # New York falls back on 2026-11-01 at 02:00: 21:30 on Oct 31 is UTC-4, 08:00 on Nov 1 is UTC-5
    decision = decide(
        request(), Recipient(SMS_CUSTOMER, NO_PREFERENCES, [], never), local(2026, 10, 31, 21, 30), POLICY
    )

    assert isinstance(decision, Hold)
    assert decision.until == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)  # 08:00 EST
    assert decision.until.astimezone(NEW_YORK).hour == 8


def test_before_the_window_opens_the_notice_waits_until_0800_the_same_day() -> None:
    decision = decide(
        request(), Recipient(SMS_CUSTOMER, NO_PREFERENCES, [], never), local(2026, 11, 24, 6, 59), POLICY
    )
    assert isinstance(decision, Hold)
    assert decision.until == local(2026, 11, 24, 8, 0)


@pytest.mark.parametrize(("hour", "minute"), [(8, 0), (12, 0), (20, 59)])
def test_inside_the_window_the_notice_goes_now(hour: int, minute: int) -> None:
    decision = decide(
        request(),
        Recipient(SMS_CUSTOMER, NO_PREFERENCES, [], never),
        local(2026, 11, 24, hour, minute),
        POLICY,
    )
    assert isinstance(decision, Send)


def test_email_is_not_held_at_night_unless_configured() -> None:
    night = local(2026, 11, 24, 23, 0)
    emailer = customer(timezone="America/New_York")
    assert isinstance(decide(request(), Recipient(emailer, NO_PREFERENCES, [], never), night, POLICY), Send)

    strict = DeliveryPolicy(
        quiet_hours=QuietHours(start=time(8), end=time(21), applies_to_email=True), max_per_day=3
    )
    assert isinstance(decide(request(), Recipient(emailer, NO_PREFERENCES, [], never), night, strict), Hold)


def test_urgent_kinds_configured_to_bypass_go_at_night() -> None:
    late = request(NoticeKind.VISIT_RUNNING_LATE)
    decision = decide(
        late, Recipient(SMS_CUSTOMER, NO_PREFERENCES, [], never), local(2026, 11, 24, 22, 0), POLICY
    )
    assert isinstance(decision, Send)


def test_the_fourth_notice_in_24_hours_is_held_until_a_place_frees_up() -> None:
    now = local(2026, 11, 24, 12, 0)
    sent = [now - timedelta(hours=20), now - timedelta(hours=5), now - timedelta(hours=1)]

    decision = decide(
        request(), Recipient(customer(timezone="America/New_York"), NO_PREFERENCES, sent, never), now, POLICY
    )

    assert isinstance(decision, Hold)
    assert decision.until == sent[0] + timedelta(hours=24)  # 16:00 the same day
    assert decision.reason == "frequency_cap"


def test_a_technician_on_the_way_or_running_late_is_not_held_by_the_daily_cap() -> None:
    # Given a customer who has had 3 notices today, and the template's default cap bypass
    policy = replace(
        POLICY,
        cap_bypass_kinds=frozenset({NoticeKind.VISIT_ON_THE_WAY.value, NoticeKind.VISIT_RUNNING_LATE.value}),
    )
    now = local(2026, 11, 24, 15, 0)
    sent = [now - timedelta(hours=h) for h in (5, 2, 1)]

    for kind in (NoticeKind.VISIT_ON_THE_WAY, NoticeKind.VISIT_RUNNING_LATE):
        urgent = request(kind).model_copy(update={"expires_at": now + timedelta(hours=1)})
        # Then what is true only for the next hour goes now, instead of expiring in the hold
        assert isinstance(
            decide(urgent, Recipient(SMS_CUSTOMER, NO_PREFERENCES, sent, never), now, policy), Send
        )
    # And every other kind still waits for a place
    held = decide(request(), Recipient(SMS_CUSTOMER, NO_PREFERENCES, sent, never), now, policy)
    assert isinstance(held, Hold)
    assert held.reason == "frequency_cap"


def test_sends_older_than_24_hours_do_not_count() -> None:
    now = local(2026, 11, 24, 12, 0)
    sent = [now - timedelta(hours=30), now - timedelta(hours=5), now - timedelta(hours=1)]
    assert isinstance(
        decide(request(), Recipient(customer(), NO_PREFERENCES, sent, never), now, POLICY), Send
    )


def test_a_capped_sms_that_would_free_up_at_night_waits_for_the_morning() -> None:
    now = local(2026, 11, 24, 20, 0)
    sent = [local(2026, 11, 23, 22, 30), now - timedelta(hours=2), now - timedelta(hours=1)]

    decision = decide(request(), Recipient(SMS_CUSTOMER, NO_PREFERENCES, sent, never), now, POLICY)

    assert isinstance(decision, Hold)
    assert decision.until == local(2026, 11, 25, 8, 0)
    assert decision.reason == "frequency_cap+quiet_hours"


def test_opting_out_of_a_topic_skips_only_that_topic() -> None:
    billing_out = Preferences("cust-1", opted_out_topics=frozenset({"billing"}))
    now = local(2026, 11, 24, 12, 0)

    skipped = decide(request(), Recipient(customer(), billing_out, [], never), now, POLICY)
    visit = decide(request(NoticeKind.VISIT_DONE), Recipient(customer(), billing_out, [], never), now, POLICY)

    assert skipped == Skip("opted_out_topic", "customer opted out of billing notices")
    assert isinstance(visit, Send)


def test_suppressed_email_falls_back_to_sms_when_allowed_and_the_reverse() -> None:
    both = customer(channels=["email", "sms"], phone="+14155550123", timezone="America/New_York")
    bounced = Preferences("cust-1", suppressed_email="ANA@example.com ")
    sms_out = Preferences("cust-1", opted_out_channels=frozenset({"sms"}))
    now = local(2026, 11, 24, 12, 0)

    via_sms = decide(request(), Recipient(both, bounced, [], never), now, POLICY)
    via_email = decide(
        request(NoticeKind.VISIT_RUNNING_LATE), Recipient(both, sms_out, [], never), now, POLICY
    )

    assert isinstance(via_sms, Send)
    assert via_sms.route.channel is Channel.SMS
    assert isinstance(via_email, Send)
    assert via_email.route.channel is Channel.EMAIL


def test_no_usable_channel_is_skipped_with_no_channel() -> None:
    only_email = customer(timezone="America/New_York")
    bounced = Preferences("cust-1", suppressed_email="ana@example.com")
    decision = decide(request(), Recipient(only_email, bounced, [], never), local(2026, 11, 24, 12), POLICY)
    assert decision == Skip("no_channel", "email: address suppressed after a bounce or complaint")


def test_do_not_contact_comes_first() -> None:
    decision = decide(
        request(),
        Recipient(customer(do_not_contact=True), NO_PREFERENCES, [], never),
        local(2026, 11, 24, 12),
        POLICY,
    )
    assert isinstance(decision, Skip)
    assert decision.reason == "do_not_contact"


@pytest.mark.parametrize(
    "address", ["ana@example.com\r\nBcc: all@example.com", "Ana <ana@example.com>", "a@b@c"]
)
def test_an_address_that_could_inject_headers_is_not_used(address: str) -> None:
    decision = decide(
        request(),
        Recipient(customer(email=address), NO_PREFERENCES, [], never),
        local(2026, 11, 24, 12),
        POLICY,
    )
    assert decision == Skip("no_channel", "email: no valid address")


def test_a_notice_that_could_only_go_after_it_expires_is_skipped_as_expired() -> None:
    # Given an "on the way" SMS that is useless after 10:00, and a customer at their cap until 16:00
    now = local(2026, 11, 24, 9, 0)
    on_the_way = request(NoticeKind.VISIT_ON_THE_WAY).model_copy(
        update={"expires_at": local(2026, 11, 24, 10)}
    )
    sent = [now - timedelta(hours=h) for h in (17, 2, 1)]

    decision = decide(on_the_way, Recipient(SMS_CUSTOMER, NO_PREFERENCES, sent, never), now, POLICY)

    # Then it is skipped with the reason, not held to be sent late
    assert decision == Skip("expired", "held for frequency_cap it would no longer be useful")
    late = decide(
        on_the_way, Recipient(SMS_CUSTOMER, NO_PREFERENCES, [], never), local(2026, 11, 24, 10, 1), POLICY
    )
    assert late == Skip("expired", "no longer useful to the customer")
