"""Rendering the visit notices a customer gets: on the way, running late, sooner after all, thank you.

The window is 17:00-19:00 UTC on Nov 24: 12:00 PM to 2:00 PM in New York (UTC-5), 9:00 AM to
11:00 AM in Los Angeles (UTC-8) and 18:00 to 20:00 in Berlin (UTC+1). A template that forgets the
customer's clock shows the wrong hour, and a new arrival time past local midnight must carry its day.
"""

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from headsup.domain.channels import Channel, Route, choose_route
from headsup.domain.kinds import SMS_FIRST_KINDS, NoticeKind
from headsup.domain.notices import NoticeRequest, make_notice_id
from headsup.rendering.renderer import InvalidPayload, NoticeRenderer, sms_segments

from tests.unit.builders import customer

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
DETECTED_AT = datetime(2026, 11, 24, 17, 20, tzinfo=UTC)
CURLY_APOSTROPHE = "\u2019"
EN_DASH = "\u2013"

ON_THE_WAY: dict[str, Any] = {
    "visit_id": "v-3001",
    "technician_first_name": "Carlos",
    "eta": "2026-11-24T17:50:00+00:00",  # 12:50 PM New York, 9:50 AM Los Angeles, 18:50 Berlin
    "address_hint": "side gate, the bell is broken",
}
# 19:45 UTC: 2:45 PM in New York, the same day as the end of the window.
RUNNING_LATE: dict[str, Any] = {
    "visit_id": "v-3001",
    "technician_first_name": "Carlos",
    "window_start": "2026-11-24T17:00:00+00:00",
    "window_end": "2026-11-24T19:00:00+00:00",
    "new_eta": "2026-11-24T19:45:00+00:00",
    "delay_reason": "previous job ran over",
}
# 05:15 UTC on the 25th: 12:15 AM on Nov 25 in New York, but still 9:15 PM on Nov 24 in Los Angeles.
PAST_MIDNIGHT = "2026-11-25T05:15:00+00:00"
DONE: dict[str, Any] = {"visit_id": "v-3001", "technician_first_name": "Carlos"}
# After the "running late" above (2:45 PM in New York): 18:40 UTC, 1:40 PM, back within the window.
ETA_EARLIER: dict[str, Any] = {
    "visit_id": "v-3001",
    "technician_first_name": "Carlos",
    "told_eta": RUNNING_LATE["new_eta"],
    "new_eta": "2026-11-24T18:40:00+00:00",
    "window_end": RUNNING_LATE["window_end"],
}

PAYLOADS: dict[NoticeKind, dict[str, Any]] = {
    NoticeKind.VISIT_ON_THE_WAY: ON_THE_WAY,
    NoticeKind.VISIT_RUNNING_LATE: RUNNING_LATE,
    NoticeKind.VISIT_ETA_EARLIER: ETA_EARLIER,
    NoticeKind.VISIT_DONE: DONE,
}
KINDS = list(PAYLOADS)

HTML_TAG = re.compile(r"</?[a-zA-Z!][^>]*>")
FOOTER = "You are receiving this notice because you are a customer of Example Co.\n"


def notice(kind: NoticeKind, payload: dict[str, Any], *, customer_id: str = "cust-1") -> NoticeRequest:
    return NoticeRequest(
        notice_id=make_notice_id(kind, customer_id, json.dumps(payload, sort_keys=True)),
        kind=kind,
        customer_id=customer_id,
        detected_at=DETECTED_AT,
        payload=payload,
    )


def late(**changes: Any) -> NoticeRequest:
    return notice(NoticeKind.VISIT_RUNNING_LATE, {**RUNNING_LATE, **changes})


def earlier(**changes: Any) -> NoticeRequest:
    return notice(NoticeKind.VISIT_ETA_EARLIER, {**ETA_EARLIER, **changes})


def folded(text: str) -> str:
    """Babel puts narrow no-break spaces in "12:50 PM"; compare on ordinary spaces."""
    return re.sub(r"\s+", " ", text)


def folded_lines(text: str) -> str:
    """Fold spaces within lines (Babel's narrow no-break spaces) but keep line breaks."""
    return re.sub(r"[^\S\n]+", " ", text)


def make_renderer(business_name: str = "Example Co") -> NoticeRenderer:
    return NoticeRenderer(TEMPLATES, business_name=business_name, support_reply_to="support@example.com")


@pytest.fixture
def renderer() -> NoticeRenderer:
    return make_renderer()


def all_parts(renderer: NoticeRenderer, request: NoticeRequest, **person: Any) -> dict[str, str]:
    who = customer(**person)
    email = renderer.render_email(request, who)
    return {
        "subject": email.subject,
        "text": email.text,
        "html": email.html,
        "sms": renderer.render_sms(request, who).text,
    }


# --- on the way ------------------------------------------------------------------------------------


def test_on_the_way_greets_by_first_name_and_gives_the_local_eta(renderer: NoticeRenderer) -> None:
    # Given a customer in New York and a technician due at 17:50 UTC
    parts = all_parts(renderer, notice(NoticeKind.VISIT_ON_THE_WAY, ON_THE_WAY), first_name="Ana")

    # Then every part names the technician and the ETA on the customer's clock
    assert folded(parts["subject"]) == "Carlos is on the way, arriving around 12:50 PM"
    assert "Hi Ana," in parts["text"]
    assert "Hi Ana," in parts["html"]
    assert "Carlos is on the way and should arrive around 12:50 PM." in folded(parts["text"])
    assert "<strong>Carlos</strong> is on the way and should arrive around <strong>12:50 PM</strong>." in (
        folded(parts["html"])
    )
    assert folded(parts["sms"]) == (
        "Example Co: Hi Ana, Carlos is on the way, arriving around 12:50 PM. Reply STOP to opt out."
    )
    for part in parts.values():
        assert "5:50" not in part  # never the UTC hour


def test_on_the_way_email_repeats_the_address_hint_but_the_sms_does_not(renderer: NoticeRenderer) -> None:
    parts = all_parts(renderer, notice(NoticeKind.VISIT_ON_THE_WAY, ON_THE_WAY))

    assert 'We\'ve passed on your note: "side gate, the bell is broken".' in parts["text"]
    assert (
        '<p style="margin:0 0 16px;">We\'ve passed on your note: "side gate, the bell is broken".</p>'
        in (parts["html"])
    )
    assert "side gate" not in parts["sms"]


@pytest.mark.parametrize("hint", [None, "", "   "])
def test_on_the_way_without_an_address_hint_leaves_no_trace(
    renderer: NoticeRenderer, hint: str | None
) -> None:
    parts = all_parts(renderer, notice(NoticeKind.VISIT_ON_THE_WAY, {**ON_THE_WAY, "address_hint": hint}))

    for name in ("text", "html"):
        assert "your note" not in parts[name]
        assert "None" not in parts[name]
    assert "\n\n\n" not in parts["text"]


@pytest.mark.parametrize(
    ("timezone", "locale", "eta"),
    [
        ("America/New_York", "en-US", "12:50 PM"),
        ("America/Los_Angeles", "en-US", "9:50 AM"),
        ("Europe/Berlin", "de-DE", "18:50"),
    ],
)
def test_on_the_way_eta_is_on_each_customers_own_clock(
    renderer: NoticeRenderer, timezone: str, locale: str, eta: str
) -> None:
    parts = all_parts(
        renderer, notice(NoticeKind.VISIT_ON_THE_WAY, ON_THE_WAY), timezone=timezone, locale=locale
    )

    assert folded(parts["subject"]).endswith(f"arriving around {eta}")
    assert f"arriving around {eta}." in folded(parts["sms"])
    assert f"should arrive around {eta}." in folded(parts["text"])


def test_two_customers_in_different_zones_read_different_times_for_the_same_eta(
    renderer: NoticeRenderer,
) -> None:
    request = notice(NoticeKind.VISIT_ON_THE_WAY, ON_THE_WAY)

    new_york = renderer.render_sms(request, customer(timezone="America/New_York")).text
    los_angeles = renderer.render_sms(request, customer(timezone="America/Los_Angeles")).text

    assert new_york != los_angeles
    assert "12:50 PM" in folded(new_york)
    assert "9:50 AM" in folded(los_angeles)


# --- running late ----------------------------------------------------------------------------------


def test_running_late_says_sorry_why_and_the_new_time(renderer: NoticeRenderer) -> None:
    parts = all_parts(renderer, late(), first_name="Ana")

    assert folded(parts["subject"]) == "Sorry, Carlos is running late: new arrival time 2:45 PM"
    text, html = folded(parts["text"]), folded(parts["html"])
    assert "Hi Ana," in text
    assert "Hi Ana," in html
    # The window they were given, on their clock, and the reason
    assert (
        "We're sorry: Carlos won't make it within the window we gave you (12:00 PM to 2:00 PM). "
        "The reason: previous job ran over." in text
    )
    assert "(12:00 PM to 2:00 PM). The reason: <strong>previous job ran over</strong>." in html
    assert "The new arrival time is 2:45 PM." in text
    assert "The new arrival time is <strong>2:45 PM</strong>." in html
    assert "reply to this email or write to support@example.com and we'll find a better time." in text
    assert folded(parts["sms"]) == (
        "Example Co: Sorry Ana, Carlos is running late (previous job ran over). "
        "New arrival time: 2:45 PM. Reply STOP to opt out."
    )


@pytest.mark.parametrize(
    ("timezone", "locale", "new_time", "window"),
    [
        # 05:15 UTC is 12:15 AM on the 25th in New York: the day must be said
        ("America/New_York", "en-US", "Nov 25, 12:15 AM", "(12:00 PM to 2:00 PM)"),
        # ... but 9:15 PM on the 24th in Los Angeles, the day of the window: just the time
        ("America/Los_Angeles", "en-US", "9:15 PM", "(9:00 AM to 11:00 AM)"),
        ("Europe/Berlin", "de-DE", "25 Nov, 06:15", "(18:00 to 20:00)"),
    ],
)
def test_a_new_arrival_time_past_local_midnight_carries_its_day(
    renderer: NoticeRenderer, timezone: str, locale: str, new_time: str, window: str
) -> None:
    parts = all_parts(renderer, late(new_eta=PAST_MIDNIGHT), timezone=timezone, locale=locale)

    assert folded(parts["subject"]).endswith(f"new arrival time {new_time}")
    assert f"The new arrival time is {new_time}." in folded(parts["text"])
    assert f"The new arrival time is <strong>{new_time}</strong>." in folded(parts["html"])
    assert f"New arrival time: {new_time}." in folded(parts["sms"])
    assert window in folded(parts["text"])


def test_running_late_without_a_reason_reads_cleanly(renderer: NoticeRenderer) -> None:
    parts = all_parts(renderer, late(delay_reason=None))

    assert "(12:00 PM to 2:00 PM).\n\nThe new arrival time is 2:45 PM." in folded_lines(parts["text"])
    assert "(12:00 PM to 2:00 PM).</p>" in folded(parts["html"])
    assert folded(parts["sms"]) == (
        "Example Co: Sorry Ana, Carlos is running late. New arrival time: 2:45 PM. Reply STOP to opt out."
    )
    for part in parts.values():
        assert "reason" not in part.lower()
        assert "None" not in part
        assert "()" not in part
        assert ".." not in part


@pytest.mark.parametrize("reason", ["Traffic on I-95.", "Van broke down!", "Stuck behind a wreck?"])
def test_a_reason_with_its_own_full_stop_is_not_given_another(renderer: NoticeRenderer, reason: str) -> None:
    parts = all_parts(renderer, late(delay_reason=reason))

    assert f"The reason: {reason}\n\nThe new arrival time" in folded_lines(parts["text"])
    assert f"The reason: <strong>{reason}</strong></p>" in parts["html"]
    for part in (parts["text"], parts["html"]):
        assert f"{reason}." not in part


def test_running_late_without_a_new_time_says_so_and_promises_one(renderer: NoticeRenderer) -> None:
    parts = all_parts(renderer, late(new_eta=None))

    assert parts["subject"] == "Sorry, Carlos is running late"
    for name in ("text", "html"):
        assert "We don't have a new arrival time yet; we'll let you know as soon as we do." in parts[name]
        assert "new arrival time is" not in parts[name]
    assert folded(parts["sms"]).endswith(
        "(previous job ran over). We'll text you the new time soon. Reply STOP to opt out."
    )
    for part in parts.values():
        assert "None" not in part


# --- sooner after all -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new_eta", "new_time"),
    [
        ("2026-11-24T18:40:00+00:00", "1:40 PM"),
        ("2026-11-24T19:00:00+00:00", "2:00 PM"),  # at the very end of the window: still within it
    ],
)
def test_earlier_arrival_gives_the_new_time_the_old_one_and_says_it_is_back_within_the_window(
    renderer: NoticeRenderer, new_eta: str, new_time: str
) -> None:
    # Given a customer told 2:45 PM, and a technician now due back within the 12:00-2:00 PM window
    parts = all_parts(renderer, earlier(new_eta=new_eta), first_name="Ana")

    # Then it is good news, with the new time, the time it replaces, and that it is on time again
    assert folded(parts["subject"]) == f"Good news: Carlos will be there sooner, by {new_time}"
    text, html = folded(parts["text"]), folded(parts["html"])
    assert "Hi Ana," in text
    assert "Hi Ana," in html
    assert (
        "Good news: Carlos will be with you sooner than we said. "
        f"The new arrival time is {new_time}, instead of 2:45 PM." in text
    )
    assert f"The new arrival time is <strong>{new_time}</strong>, instead of 2:45 PM." in html
    for part in (text, html):
        assert "That's back within the window we first gave you, which ends at 2:00 PM." in part
    assert "reply to this email or write to support@example.com and we'll find a better time." in text
    assert folded(parts["sms"]) == (
        f"Example Co: Good news, Ana: Carlos will be there sooner, by {new_time}, "
        "back within your original window. Reply STOP to opt out."
    )


def test_earlier_arrival_still_after_the_window_does_not_claim_to_be_on_time(
    renderer: NoticeRenderer,
) -> None:
    # Given a new time (2:20 PM) sooner than the 2:45 PM told, but still after the window's 2:00 PM
    parts = all_parts(renderer, earlier(new_eta="2026-11-24T19:20:00+00:00"))

    assert "The new arrival time is 2:20 PM, instead of 2:45 PM.\n\nIf the earlier time" in folded_lines(
        parts["text"]
    )
    assert folded(parts["sms"]) == (
        "Example Co: Good news, Ana: Carlos will be there sooner, by 2:20 PM. Reply STOP to opt out."
    )
    for part in parts.values():
        assert "window" not in part
        assert "None" not in part


@pytest.mark.parametrize(
    ("timezone", "new_time", "told_time"),
    [
        # 05:15 and 05:45 UTC are past midnight in New York: the day is said
        ("America/New_York", "Nov 25, 12:15 AM", "Nov 25, 12:45 AM"),
        # ... but still the evening of the window's day in Los Angeles: just the time
        ("America/Los_Angeles", "9:15 PM", "9:45 PM"),
    ],
)
def test_earlier_arrival_past_local_midnight_carries_its_day(
    renderer: NoticeRenderer, timezone: str, new_time: str, told_time: str
) -> None:
    request = earlier(new_eta=PAST_MIDNIGHT, told_eta="2026-11-25T05:45:00+00:00")
    parts = all_parts(renderer, request, timezone=timezone)

    assert folded(parts["subject"]).endswith(f"sooner, by {new_time}")
    assert f"The new arrival time is {new_time}, instead of {told_time}." in folded(parts["text"])
    assert f"sooner, by {new_time}. Reply STOP" in folded(parts["sms"])


# --- thank you -------------------------------------------------------------------------------------


def test_thank_you_names_the_technician_and_invites_reporting_a_problem(renderer: NoticeRenderer) -> None:
    parts = all_parts(renderer, notice(NoticeKind.VISIT_DONE, DONE), first_name="Ana")

    assert parts["subject"] == "Thanks for having Carlos over today"
    for name in ("text", "html"):
        assert "Hi Ana," in parts[name]
        assert "Thanks for having Carlos over." in parts[name]
        assert "If anything isn't right, reply to this email or write to" in parts[name]
    assert "write to support@example.com and we'll sort it out." in parts["text"]
    assert '<a href="mailto:support@example.com">support@example.com</a>' in parts["html"]
    assert parts["sms"] == (
        "Example Co: Thanks for having Carlos over, Ana. Anything not right? "
        "Write to support@example.com. Reply STOP to opt out."
    )


# --- every visit kind ------------------------------------------------------------------------------

HOSTILE = "<script>alert(1)</script>{{7*7}}"
HOSTILE_FIELDS = {
    NoticeKind.VISIT_ON_THE_WAY: ["technician_first_name", "address_hint"],
    NoticeKind.VISIT_RUNNING_LATE: ["technician_first_name", "delay_reason"],
    NoticeKind.VISIT_ETA_EARLIER: ["technician_first_name"],
    NoticeKind.VISIT_DONE: ["technician_first_name"],
}


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_data_is_escaped_in_html_and_never_evaluated(
    renderer: NoticeRenderer, kind: NoticeKind
) -> None:
    # Given a technician name, a reason and an address hint that look like markup and template code
    payload = {**PAYLOADS[kind], **dict.fromkeys(HOSTILE_FIELDS[kind], HOSTILE)}
    parts = all_parts(renderer, notice(kind, payload), first_name="<b>Ana</b>{{ 6*7 }}")

    # Then the HTML shows them escaped...
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}" in parts["html"]
    assert "Hi &lt;b&gt;Ana&lt;/b&gt;{{ 6*7 }}," in parts["html"]
    assert "<script>" not in parts["html"]
    assert "<b>" not in parts["html"]
    # ...the plain text and SMS show them as written...
    assert HOSTILE in parts["text"]
    assert "Hi <b>Ana</b>{{ 6*7 }}," in parts["text"]
    # ...and nothing anywhere was evaluated
    for part in parts.values():
        assert "49" not in part
        assert "42" not in part


def test_hostile_data_in_the_sms_is_shown_as_written(renderer: NoticeRenderer) -> None:
    sms = renderer.render_sms(late(technician_first_name=HOSTILE, delay_reason="{{7*7}}"), customer()).text
    assert HOSTILE in sms
    assert "({{7*7}})" in sms


@pytest.mark.parametrize("kind", KINDS)
def test_plain_text_part_has_no_html(renderer: NoticeRenderer, kind: NoticeKind) -> None:
    payload = {**PAYLOADS[kind]}
    if kind is NoticeKind.VISIT_RUNNING_LATE:
        payload["delay_reason"] = "Parts & tools run"
    email = renderer.render_email(notice(kind, payload), customer())

    assert HTML_TAG.search(email.text) is None
    assert "&amp;" not in email.text
    assert "&#39;" not in email.text
    assert email.text.endswith(FOOTER)
    assert "\n\n\n" not in email.text
    assert HTML_TAG.search(email.subject) is None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("locale", "timezone"), [("en-US", "America/New_York"), ("de-DE", "Europe/Berlin")])
def test_sms_fits_one_segment_with_typical_data(kind: NoticeKind, locale: str, timezone: str) -> None:
    # Given a short business name, 10-letter first names, a 30-character reason and a new time
    # that carries its day (the longest form a time takes)
    payload = {**PAYLOADS[kind], "technician_first_name": "Maximilian"}
    if kind is NoticeKind.VISIT_RUNNING_LATE:
        payload.update(delay_reason="Previous job took much longer.", new_eta=PAST_MIDNIGHT)
    person = customer(first_name="Alexandria", locale=locale, timezone=timezone)

    sms = make_renderer().render_sms(notice(kind, payload), person).text

    # Then it is one GSM-7 segment, ending with the opt-out
    assert sms_segments(sms) == 1, (len(sms), sms)
    assert sms.endswith("Reply STOP to opt out.")
    assert sms.startswith("Example Co: ")
    assert "Alexandria" in sms
    assert "Maximilian" in sms
    assert "\n" not in sms
    assert "  " not in sms


LONG_BUSINESS_NAME = "Northern Lights Broadband & Telephone Company"  # 45 characters
REASON_50 = "The van broke down on the highway, waiting for tow"
assert len(REASON_50) == 50


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("locale", "timezone"), [("en-US", "America/New_York"), ("de-DE", "Europe/Berlin")])
@pytest.mark.parametrize("reason", [REASON_50, REASON_50 * 4])
def test_sms_never_needs_more_than_two_segments(
    kind: NoticeKind, locale: str, timezone: str, reason: str
) -> None:
    # Given a long business name, 20-character first names and a long reason
    payload = {**PAYLOADS[kind], "technician_first_name": "Maximilian-Alexander"}
    if kind is NoticeKind.VISIT_RUNNING_LATE:
        payload.update(delay_reason=reason, new_eta=PAST_MIDNIGHT)
    person = customer(first_name="Alexandria-Josefine", locale=locale, timezone=timezone)

    sms = make_renderer(LONG_BUSINESS_NAME).render_sms(notice(kind, payload), person).text

    assert sms_segments(sms) <= 2, (len(sms), sms)
    assert sms.startswith(f"{LONG_BUSINESS_NAME}: ")
    assert sms.endswith("Reply STOP to opt out.")
    if kind is NoticeKind.VISIT_RUNNING_LATE:
        assert "New arrival time: " in sms


def test_a_very_long_reason_is_cut_visibly_in_the_sms(renderer: NoticeRenderer) -> None:
    sms = renderer.render_sms(late(delay_reason=REASON_50 * 4), customer()).text
    assert REASON_50 * 2 not in sms
    assert "...)." in sms
    assert sms_segments(sms) <= 2


def test_sms_with_typographic_punctuation_in_the_reason_stays_gsm(renderer: NoticeRenderer) -> None:
    reason = f"Customer{CURLY_APOSTROPHE}s neighbour {EN_DASH} blocked drive"
    sms = renderer.render_sms(late(delay_reason=reason), customer()).text
    assert "Customer's neighbour - blocked drive" in sms
    assert sms_segments(sms) == 1


MISSING_FIELD = [
    (NoticeKind.VISIT_ON_THE_WAY, "eta"),
    (NoticeKind.VISIT_ON_THE_WAY, "technician_first_name"),
    (NoticeKind.VISIT_RUNNING_LATE, "window_end"),
    (NoticeKind.VISIT_RUNNING_LATE, "new_eta"),  # None is a value; leaving it out is a bug
    (NoticeKind.VISIT_RUNNING_LATE, "technician_first_name"),
    (NoticeKind.VISIT_ETA_EARLIER, "told_eta"),
    (NoticeKind.VISIT_ETA_EARLIER, "new_eta"),
    (NoticeKind.VISIT_ETA_EARLIER, "window_end"),
    (NoticeKind.VISIT_DONE, "technician_first_name"),
    (NoticeKind.VISIT_DONE, "visit_id"),
]


@pytest.mark.parametrize(("kind", "field"), MISSING_FIELD)
def test_visit_payload_missing_a_field_is_rejected(
    renderer: NoticeRenderer, kind: NoticeKind, field: str
) -> None:
    payload = {key: value for key, value in PAYLOADS[kind].items() if key != field}
    request = notice(kind, payload)

    with pytest.raises(InvalidPayload, match=field):
        renderer.render_email(request, customer())
    with pytest.raises(InvalidPayload, match=field):
        renderer.render_sms(request, customer())


def test_visit_payload_with_a_naive_time_is_rejected(renderer: NoticeRenderer) -> None:
    request = notice(NoticeKind.VISIT_ON_THE_WAY, {**ON_THE_WAY, "eta": "2026-11-24T17:50:00"})
    with pytest.raises(InvalidPayload, match="eta"):
        renderer.render_sms(request, customer())


# --- SMS first for the time-critical visit notices -----------------------------------------------


def never_opted_out(phone: str) -> bool:
    return False


def test_on_the_way_and_running_late_go_sms_first_but_the_thank_you_does_not() -> None:
    assert NoticeKind.VISIT_ON_THE_WAY in SMS_FIRST_KINDS
    assert NoticeKind.VISIT_RUNNING_LATE in SMS_FIRST_KINDS
    assert NoticeKind.VISIT_DONE not in SMS_FIRST_KINDS


def test_sms_first_texts_a_customer_who_allows_sms_even_if_email_comes_first() -> None:
    person = customer(channels=["email", "sms"], phone="+14155550123")

    assert choose_route(person, never_opted_out, sms_first=True) == Route(Channel.SMS, "+14155550123")
    # Their usual order is kept for everything else
    assert choose_route(person, never_opted_out) == Route(Channel.EMAIL, "ana@example.com")


def test_sms_first_emails_a_customer_who_does_not_allow_sms() -> None:
    person = customer(channels=["email"], phone="+14155550123")
    assert choose_route(person, never_opted_out, sms_first=True) == Route(Channel.EMAIL, "ana@example.com")


def test_sms_first_falls_back_to_email_for_an_opted_out_number() -> None:
    person = customer(channels=["email", "sms"], phone="+14155550199")
    route = choose_route(person, lambda phone: phone == "+14155550199", sms_first=True)
    assert route == Route(Channel.EMAIL, "ana@example.com")


def test_sms_first_falls_back_to_email_for_an_unusable_number() -> None:
    person = customer(channels=["sms", "email"], phone="4155550123")  # no country code
    assert choose_route(person, never_opted_out, sms_first=True) == Route(Channel.EMAIL, "ana@example.com")
