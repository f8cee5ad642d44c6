"""Rendering the schedule-driven notices: overdue callbacks, stale tickets, follow-ups (to the
customer) and callback / ticket escalations and SLA warnings (to the team on SNS).

Times are chosen so that the customer's clock, the team's clock and UTC all read differently:
a template that forgets a conversion shows the wrong hour or the wrong calendar day.
"""

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest, make_notice_id
from headsup.rendering.renderer import (
    InvalidPayload,
    NoticeRenderer,
    RenderedEscalation,
    RenderError,
    sms_segments,
)

from tests.unit.builders import customer

EN_DASH = "\u2013"
CURLY_APOSTROPHE = "\u2019"
GERMAN_SUBJECT = f"Adresse falsch {EN_DASH} Überweisung"

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
DETECTED_AT = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)

# Promised for 16:00 UTC, new deadline 18:15 UTC. On the customer's clock that is 8:00 / 10:15 in
# Los Angeles (UTC-8 in November), 17:00 / 19:15 in Berlin (UTC+1), and 11:00 / 13:15 in New York
# (UTC-5), which is also the team's clock.
CALLBACK_OVERDUE: dict[str, Any] = {
    "callback_id": "cb-42",
    "topic": "Router keeps dropping",
    "promised_at": "2026-11-24T16:00:00+00:00",
    "new_deadline": "2026-11-24T18:15:00+00:00",
    "agent_name": "Sam",
}
# Created 03:00 UTC on the 20th: still the evening of the 19th in New York and Los Angeles,
# already the 20th in Berlin.
TICKET_STALE: dict[str, Any] = {
    "ticket_id": "T-1001",
    "subject": "Invoice address is wrong",
    "created_at": "2026-11-20T03:00:00+00:00",
    "open_for_hours": 110,
}
# Solved 06:30 UTC on the 23rd: 22:30 on the 22nd in Los Angeles, the 23rd in New York and Berlin.
TICKET_FOLLOW_UP: dict[str, Any] = {
    "ticket_id": "T-1001",
    "subject": "Invoice address is wrong",
    "solved_at": "2026-11-23T06:30:00+00:00",
}
CALLBACK_ESCALATION: dict[str, Any] = {
    **CALLBACK_OVERDUE,
    "customer_id": "cust-1",
    "minutes_late": 62,
    "level": 1,
    "team": "Tier 1",
}
TICKET_ESCALATION: dict[str, Any] = {
    "ticket_id": "T-1001",
    "customer_id": "cust-1",
    "subject": GERMAN_SUBJECT,
    "priority": "high",
    "status": "open",
    "updated_at": "2026-11-23T14:00:00+00:00",  # 9:00 AM in New York
    "hours_without_update": 27,
    "sla_hours": 24,
    "window": 1,
}
# July, so New York is on daylight time (UTC-4): a fixed -5 offset would read an hour early.
TICKET_SLA_WARNING: dict[str, Any] = {
    "ticket_id": "T-1001",
    "customer_id": "cust-1",
    "subject": "Invoice address is wrong",
    "priority": "urgent",
    "updated_at": "2026-07-10T14:00:00+00:00",  # 10:00 AM EDT
    "breach_at": "2026-07-10T18:00:00+00:00",  # 2:00 PM EDT
    "minutes_left": 47,
    "sla_hours": 4,
    "window": 1,
}

CUSTOMER_PAYLOADS: dict[NoticeKind, dict[str, Any]] = {
    NoticeKind.CALLBACK_OVERDUE: CALLBACK_OVERDUE,
    NoticeKind.TICKET_STALE: TICKET_STALE,
    NoticeKind.TICKET_FOLLOW_UP: TICKET_FOLLOW_UP,
}
TEAM_PAYLOADS: dict[NoticeKind, dict[str, Any]] = {
    NoticeKind.CALLBACK_ESCALATION: CALLBACK_ESCALATION,
    NoticeKind.TICKET_ESCALATION: TICKET_ESCALATION,
    NoticeKind.TICKET_SLA_WARNING: TICKET_SLA_WARNING,
}
# The free text a customer (or an agent, in their words) typed: a callback's topic, a ticket's subject.
FREE_TEXT_FIELD = {
    NoticeKind.CALLBACK_OVERDUE: "topic",
    NoticeKind.TICKET_STALE: "subject",
    NoticeKind.TICKET_FOLLOW_UP: "subject",
}
CUSTOMER_KINDS = list(CUSTOMER_PAYLOADS)

HTML_TAG = re.compile(r"</?[a-zA-Z!][^>]*>")


def notice(kind: NoticeKind, payload: dict[str, Any], *, customer_id: str = "cust-1") -> NoticeRequest:
    return NoticeRequest(
        notice_id=make_notice_id(kind, customer_id, json.dumps(payload, sort_keys=True)),
        kind=kind,
        customer_id=customer_id,
        detected_at=DETECTED_AT,
        payload=payload,
    )


def with_free_text(kind: NoticeKind, text: str) -> dict[str, Any]:
    return {**CUSTOMER_PAYLOADS[kind], FREE_TEXT_FIELD[kind]: text}


def folded(text: str) -> str:
    """Babel puts narrow no-break spaces in "10:15 AM"; compare on ordinary spaces."""
    return re.sub(r"\s+", " ", text)


def make_renderer(templates: Path = TEMPLATES, business_name: str = "Example Co") -> NoticeRenderer:
    return NoticeRenderer(
        templates,
        business_name=business_name,
        support_reply_to="support@example.com",
        team_locale=Locale.parse("en_US"),
        team_zone=ZoneInfo("America/New_York"),
    )


@pytest.fixture
def renderer() -> NoticeRenderer:
    return make_renderer()


def escalate(renderer: NoticeRenderer, kind: NoticeKind, payload: dict[str, Any]) -> RenderedEscalation:
    return renderer.render_escalation(notice(kind, payload))


# --- callback_overdue -----------------------------------------------------------------------------


def test_callback_apology_names_the_topic_the_alert_and_the_new_time(renderer: NoticeRenderer) -> None:
    la = customer(first_name="Ana", timezone="America/Los_Angeles")
    email = renderer.render_email(notice(NoticeKind.CALLBACK_OVERDUE, CALLBACK_OVERDUE), la)

    assert email.subject == "Sorry we haven't called you back yet: we will by 10:15 AM"
    assert '"Router keeps dropping"' in email.text
    assert "<strong>Router keeps dropping</strong>" in email.html
    for part in (folded(email.text), folded(email.html)):
        assert "Hi Ana," in part
        assert "call you back about" in part
        assert "by 8:00 AM, and we haven't yet" in part  # the original promise, on their clock
        assert "Our team has been alerted" in part
        assert "(or Sam if they're free)" in part
        assert "Nov 24, 2026, 10:15 AM" in part


@pytest.mark.parametrize(
    ("timezone", "locale", "deadline_time", "deadline", "utc_time"),
    [
        ("America/Los_Angeles", "en-US", "10:15 AM", "Nov 24, 2026, 10:15 AM", "6:15 PM"),
        # English words (no German templates) in German conventions: 24-hour clock, day first.
        ("Europe/Berlin", "de-DE", "19:15", "24 Nov 2026, 19:15", "18:15"),
        # The locale decides the format, the timezone the hour: a German speaker in New York.
        ("America/New_York", "de-DE", "13:15", "24 Nov 2026, 13:15", "18:15"),
        # Half-hour offset: 18:15 UTC is 23:45 in Kolkata.
        ("Asia/Kolkata", "en-US", "11:45 PM", "Nov 24, 2026, 11:45 PM", "6:15 PM"),
    ],
)
def test_callback_new_deadline_is_on_the_customers_own_clock(
    renderer: NoticeRenderer, timezone: str, locale: str, deadline_time: str, deadline: str, utc_time: str
) -> None:
    person = customer(timezone=timezone, locale=locale)
    request = notice(NoticeKind.CALLBACK_OVERDUE, CALLBACK_OVERDUE)

    email = renderer.render_email(request, person)
    sms = renderer.render_sms(request, person)

    assert email.subject.endswith(f"we will by {deadline_time}")
    assert f"call you by {deadline}." in folded(email.text)
    assert f"call you by <strong>{deadline}</strong>" in folded(email.html)
    assert f"will call you by {deadline_time}." in sms.text
    for text in (email.subject, email.text, sms.text):
        assert utc_time not in folded(text)


def test_callback_apology_without_an_agent_does_not_name_one(renderer: NoticeRenderer) -> None:
    payload = {key: value for key, value in CALLBACK_OVERDUE.items() if key != "agent_name"}
    email = renderer.render_email(notice(NoticeKind.CALLBACK_OVERDUE, payload), customer())

    for part in (email.text, email.html):
        assert "someone will call you by" in folded(part)
        assert "(or " not in part
        assert "None" not in part


def test_callback_sms_quotes_the_topic_so_its_own_punctuation_reads_cleanly(
    renderer: NoticeRenderer,
) -> None:
    payload = {**CALLBACK_OVERDUE, "topic": "Why is my bill higher?"}
    sms = renderer.render_sms(notice(NoticeKind.CALLBACK_OVERDUE, payload), customer(first_name="Ana"))

    assert sms.text.startswith("Example Co: Hi Ana, sorry we haven't called you back yet")
    assert 'about "Why is my bill higher?". Our team has been alerted' in sms.text


# --- ticket_stale -----------------------------------------------------------------------------------


def test_stale_ticket_update_says_what_how_long_and_whom_to_write_to(renderer: NoticeRenderer) -> None:
    email = renderer.render_email(notice(NoticeKind.TICKET_STALE, TICKET_STALE), customer(first_name="Ana"))

    assert email.subject == "We're still working on your request: Invoice address is wrong"
    for part in (email.text, email.html):
        assert "Hi Ana," in part
        assert "Invoice address is wrong" in part
        assert "(ref. T-1001)" in part
        # 110 hours is 4 whole days; created on the 19th on the customer's (New York) calendar
        assert "open since November 19, 2026, 4 days ago." in part
        assert "it is still being worked on" in part
        assert "reply to this email or write to" in part
    assert "write to support@example.com." in email.text
    assert '<a href="mailto:support@example.com">support@example.com</a>' in email.html


@pytest.mark.parametrize(
    ("timezone", "locale", "opened", "not_opened"),
    [
        ("America/Los_Angeles", "en-US", "November 19, 2026", "November 20, 2026"),
        ("Europe/Berlin", "de-DE", "20 November 2026", "19 November 2026"),
    ],
)
def test_stale_ticket_open_date_is_the_customers_calendar_day(
    renderer: NoticeRenderer, timezone: str, locale: str, opened: str, not_opened: str
) -> None:
    email = renderer.render_email(
        notice(NoticeKind.TICKET_STALE, TICKET_STALE), customer(timezone=timezone, locale=locale)
    )

    for part in (email.text, email.html):
        assert f"open since {opened}," in part
        assert not_opened not in part


@pytest.mark.parametrize(
    ("open_for_hours", "how_long"),
    [(1, "1 hour ago"), (5, "5 hours ago"), (47, "47 hours ago"), (48, "2 days ago"), (71, "2 days ago")],
)
def test_stale_ticket_says_how_long_it_has_been_open(
    renderer: NoticeRenderer, open_for_hours: int, how_long: str
) -> None:
    payload = {**TICKET_STALE, "open_for_hours": open_for_hours}
    email = renderer.render_email(notice(NoticeKind.TICKET_STALE, payload), customer())

    assert f", {how_long}." in email.text
    assert f", {how_long}." in email.html


def test_stale_ticket_sms_has_the_ref_and_the_address(renderer: NoticeRenderer) -> None:
    sms = renderer.render_sms(notice(NoticeKind.TICKET_STALE, TICKET_STALE), customer(first_name="Ana"))

    assert sms.text.startswith('Example Co: Hi Ana, your request "Invoice address is wrong" (ref. T-1001)')
    assert "is still being worked on" in sms.text
    assert "Write to support@example.com." in sms.text


# --- ticket_follow_up -------------------------------------------------------------------------------


def test_follow_up_asks_whether_everything_works_and_invites_a_reply(renderer: NoticeRenderer) -> None:
    email = renderer.render_email(
        notice(NoticeKind.TICKET_FOLLOW_UP, TICKET_FOLLOW_UP), customer(first_name="Ana")
    )

    assert email.subject == "Is everything working now? (Invoice address is wrong)"
    for part in (email.text, email.html):
        assert "Hi Ana," in part
        assert "Invoice address is wrong" in part
        assert "(ref. T-1001) as solved on November 23, 2026." in part
        assert "is everything working now?" in part
        assert "just reply to this email" in part


@pytest.mark.parametrize(
    ("timezone", "locale", "solved", "sms_solved"),
    [
        ("America/Los_Angeles", "en-US", "November 22, 2026", "on Nov 22 we solved"),
        ("Europe/Berlin", "de-DE", "23 November 2026", "on 23 Nov we solved"),
    ],
)
def test_follow_up_solved_date_is_the_customers_calendar_day(
    renderer: NoticeRenderer, timezone: str, locale: str, solved: str, sms_solved: str
) -> None:
    person = customer(timezone=timezone, locale=locale)
    request = notice(NoticeKind.TICKET_FOLLOW_UP, TICKET_FOLLOW_UP)

    email = renderer.render_email(request, person)
    sms = renderer.render_sms(request, person)

    assert f"as solved on {solved}." in email.text
    assert f"as solved on {solved}." in email.html
    assert sms_solved in sms.text
    assert "Is everything working now? If not, reply to support@example.com" in sms.text
    assert ".." not in sms.text  # a short date that ends in a period ("23. Nov.") is not followed by one


# --- every customer kind ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
def test_html_escapes_customer_data_and_never_evaluates_it(
    renderer: NoticeRenderer, kind: NoticeKind
) -> None:
    hostile_text = "<img src=x onerror=alert(1)> & {{ 7*7 }}"
    request = notice(kind, with_free_text(kind, hostile_text))
    person = customer(first_name="<script>{{7*7}}</script>")

    email = renderer.render_email(request, person)
    sms = renderer.render_sms(request, person)

    assert "Hi &lt;script&gt;{{7*7}}&lt;/script&gt;," in email.html
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; {{ 7*7 }}" in email.html
    assert "<script>" not in email.html
    assert "<img" not in email.html
    # Plain text parts are shown as written, and nothing is evaluated anywhere.
    assert "Hi <script>{{7*7}}</script>," in email.text
    assert hostile_text in email.text
    assert "{{7*7}}" in sms.text
    for part in (email.subject, email.html, email.text, sms.text):
        assert "49" not in part


@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
def test_plain_text_part_has_no_html(renderer: NoticeRenderer, kind: NoticeKind) -> None:
    request = notice(kind, with_free_text(kind, "Billing & invoices"))
    email = renderer.render_email(request, customer(first_name="Ana"))

    assert HTML_TAG.search(email.text) is None
    assert "Billing & invoices" in email.text
    assert "&amp;" not in email.text
    assert "&amp;" in email.html  # the same fact, escaped where it is HTML
    assert email.text.endswith("You are receiving this notice because you are a customer of Example Co.\n")


LONG_BUSINESS_NAME = "Northern Lights Broadband & Telephone Company"  # 45 characters
LONG_FREE_TEXT = "My fibre router keeps dropping the connection every evening around nine o'clock"
SMS_FACT = {
    NoticeKind.CALLBACK_OVERDUE: "Our team has been alerted and will call you by ",
    NoticeKind.TICKET_STALE: "(ref. TCK-2026-000123) is still being worked on",
    NoticeKind.TICKET_FOLLOW_UP: "Is everything working now?",
}


@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
@pytest.mark.parametrize(
    ("locale", "timezone"), [("en-US", "America/Los_Angeles"), ("de-DE", "Europe/Berlin")]
)
def test_sms_fits_two_segments_with_a_long_topic_and_a_long_business_name(
    kind: NoticeKind, locale: str, timezone: str
) -> None:
    renderer = make_renderer(business_name=LONG_BUSINESS_NAME)
    payload = with_free_text(kind, LONG_FREE_TEXT)
    if "ticket_id" in payload:
        payload["ticket_id"] = "TCK-2026-000123"
    person = customer(first_name="Maximilian-Alexander", locale=locale, timezone=timezone)

    sms = renderer.render_sms(notice(kind, payload), person)

    assert sms_segments(sms.text) <= 2, (len(sms.text), sms.text)
    assert sms.text.startswith(f"{LONG_BUSINESS_NAME}: Hi Maximilian-Alexander, ")
    assert sms.text.endswith("Reply STOP to opt out.")
    assert SMS_FACT[kind] in sms.text
    assert LONG_FREE_TEXT not in sms.text  # cut short...
    assert LONG_FREE_TEXT[:37] + "..." in sms.text  # ...visibly
    assert "\n" not in sms.text
    assert "  " not in sms.text


@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
def test_sms_with_typographic_punctuation_still_fits_two_segments(
    renderer: NoticeRenderer, kind: NoticeKind
) -> None:
    request = notice(kind, with_free_text(kind, f"Can{CURLY_APOSTROPHE}t log in {EN_DASH} again"))
    sms = renderer.render_sms(request, customer(first_name="Ana"))
    assert sms_segments(sms.text) <= 2


MISSING_FIELD = [
    (NoticeKind.CALLBACK_OVERDUE, "new_deadline"),
    (NoticeKind.CALLBACK_OVERDUE, "topic"),
    (NoticeKind.TICKET_STALE, "open_for_hours"),
    (NoticeKind.TICKET_STALE, "created_at"),
    (NoticeKind.TICKET_FOLLOW_UP, "solved_at"),
    (NoticeKind.TICKET_FOLLOW_UP, "subject"),
]


@pytest.mark.parametrize(("kind", "field"), MISSING_FIELD)
def test_customer_payload_missing_a_field_is_rejected(
    renderer: NoticeRenderer, kind: NoticeKind, field: str
) -> None:
    payload = {key: value for key, value in CUSTOMER_PAYLOADS[kind].items() if key != field}
    request = notice(kind, payload)

    with pytest.raises(InvalidPayload, match=field):
        renderer.render_email(request, customer())
    with pytest.raises(InvalidPayload, match=field):
        renderer.render_sms(request, customer())


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        (NoticeKind.CALLBACK_OVERDUE, "new_deadline", "2026-11-24T18:15:00"),  # no offset: whose 18:15?
        (NoticeKind.TICKET_STALE, "open_for_hours", "a while"),
        (NoticeKind.TICKET_FOLLOW_UP, "solved_by", "Sam"),  # not a field of this kind
    ],
)
def test_customer_payload_with_a_wrong_field_is_rejected(
    renderer: NoticeRenderer, kind: NoticeKind, field: str, value: str
) -> None:
    request = notice(kind, {**CUSTOMER_PAYLOADS[kind], field: value})
    with pytest.raises(InvalidPayload, match=field):
        renderer.render_email(request, customer())


@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
@pytest.mark.parametrize("template", ["email_subject.txt.j2", "email.html.j2", "email.txt.j2", "sms.txt.j2"])
def test_customer_template_with_an_undefined_value_is_an_error_not_a_blank(
    tmp_path: Path, kind: NoticeKind, template: str
) -> None:
    folder = tmp_path / kind.value
    folder.mkdir()
    for name in ("email_subject.txt.j2", "email.html.j2", "email.txt.j2", "sms.txt.j2"):
        (folder / name).write_text("Hi {{ customer.first_name }}")
    (folder / template).write_text("Hi {{ customer.first_name }}, about {{ notice.ticket_ref }}")
    renderer = make_renderer(tmp_path)
    request = notice(kind, CUSTOMER_PAYLOADS[kind])

    render = renderer.render_sms if template == "sms.txt.j2" else renderer.render_email
    with pytest.raises(RenderError, match="ticket_ref") as raised:
        render(request, customer())
    assert f"{kind.value}/{template}" in str(raised.value)
    assert request.notice_id in str(raised.value)


# --- team escalations -------------------------------------------------------------------------------


def test_callback_escalation_level_1_tells_the_team_what_was_promised(renderer: NoticeRenderer) -> None:
    request = notice(NoticeKind.CALLBACK_ESCALATION, CALLBACK_ESCALATION)
    rendered = renderer.render_escalation(request)
    body = json.loads(rendered.body)

    # 18:15 UTC is 1:15 PM in New York, the team's clock (not the customer's, not UTC).
    assert rendered.subject == "Overdue callback cb-42: 62 min late, new deadline 1:15 PM"
    assert body["kind"] == "callback_escalation"
    assert body["notice_id"] == request.notice_id
    assert body["customer_id"] == "cust-1"
    assert body["callback_id"] == "cb-42"
    assert body["minutes_late"] == 62
    assert body["level"] == 1
    assert datetime.fromisoformat(body["new_deadline"]) == datetime(2026, 11, 24, 18, 15, tzinfo=UTC)
    assert datetime.fromisoformat(body["promised_at"]) == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    summary = body["summary"]
    assert summary.startswith('Callback cb-42 for customer cust-1 ("Router keeps dropping")')
    assert "was promised for Nov 24, 2026, 11:00 AM and is 62 minutes late." in summary
    assert "told someone will call by Nov 24, 2026, 1:15 PM." in summary
    assert summary.endswith("Team: Tier 1. Agent: Sam.")


def test_callback_escalation_level_2_says_the_new_deadline_was_missed(renderer: NoticeRenderer) -> None:
    level_1 = escalate(renderer, NoticeKind.CALLBACK_ESCALATION, CALLBACK_ESCALATION)
    level_2 = escalate(
        renderer, NoticeKind.CALLBACK_ESCALATION, {**CALLBACK_ESCALATION, "level": 2, "minutes_late": 137}
    )
    body = json.loads(level_2.body)

    assert level_2.subject != level_1.subject
    assert level_2.subject == "STILL overdue callback cb-42: missed the new deadline 1:15 PM"
    assert body["level"] == 2
    assert body["minutes_late"] == 137
    assert "still pending after the new deadline of Nov 24, 2026, 1:15 PM" in body["summary"]
    assert "(137 minutes after the original promise)" in body["summary"]


def test_callback_escalation_without_team_or_agent_names_neither(renderer: NoticeRenderer) -> None:
    payload = {k: v for k, v in CALLBACK_ESCALATION.items() if k not in {"team", "agent_name"}}
    summary = json.loads(escalate(renderer, NoticeKind.CALLBACK_ESCALATION, payload).body)["summary"]

    assert summary.endswith("someone will call by Nov 24, 2026, 1:15 PM.")
    assert "None" not in summary
    assert "Team:" not in summary
    assert "Agent:" not in summary


@pytest.mark.parametrize(
    ("window", "suffix"), [(1, "no update for 27 h"), (2, "no update for 27 h (window 2)")]
)
def test_ticket_escalation_tells_the_team_how_long_without_an_update(
    renderer: NoticeRenderer, window: int, suffix: str
) -> None:
    rendered = escalate(renderer, NoticeKind.TICKET_ESCALATION, {**TICKET_ESCALATION, "window": window})
    body = json.loads(rendered.body)

    assert rendered.subject == f"SLA breached: ticket T-1001 (high) has had {suffix}"
    assert body["customer_id"] == "cust-1"
    assert body["ticket_id"] == "T-1001"
    assert body["hours_without_update"] == 27
    assert body["sla_hours"] == 24
    assert body["window"] == window
    assert body["subject"] == GERMAN_SUBJECT  # as written, in the UTF-8 body
    summary = body["summary"]
    assert f'Ticket T-1001 for customer cust-1 ("{GERMAN_SUBJECT}", high, open)' in summary
    assert "was last updated Nov 23, 2026, 9:00 AM, 27 hours ago; its SLA is 24 hours." in summary
    assert "The customer has been told it is still being worked on." in summary


@pytest.mark.parametrize(
    ("minutes_left", "breaches_in"), [(47, "47 min"), (150, "2 h 30 min"), (240, "4 h 0 min"), (0, "0 min")]
)
def test_sla_warning_subject_says_how_long_until_the_breach(
    renderer: NoticeRenderer, minutes_left: int, breaches_in: str
) -> None:
    rendered = escalate(
        renderer, NoticeKind.TICKET_SLA_WARNING, {**TICKET_SLA_WARNING, "minutes_left": minutes_left}
    )
    assert rendered.subject == f"SLA warning: ticket T-1001 (urgent) breaches in {breaches_in}"


def test_sla_warning_body_has_the_breach_time_on_the_teams_summer_clock(renderer: NoticeRenderer) -> None:
    body = json.loads(escalate(renderer, NoticeKind.TICKET_SLA_WARNING, TICKET_SLA_WARNING).body)

    assert body["customer_id"] == "cust-1"
    assert body["ticket_id"] == "T-1001"
    assert body["minutes_left"] == 47
    assert datetime.fromisoformat(body["breach_at"]) == datetime(2026, 7, 10, 18, 0, tzinfo=UTC)
    summary = body["summary"]
    # EDT (UTC-4) in July: 14:00 UTC is 10:00 AM and 18:00 UTC is 2:00 PM.
    assert "has had no update since Jul 10, 2026, 10:00 AM." in summary
    assert "breaches its 4-hour SLA at Jul 10, 2026, 2:00 PM" in summary
    assert "The customer has not been contacted." in summary


@pytest.mark.parametrize("kind", list(TEAM_PAYLOADS))
def test_team_times_follow_the_team_zone_not_utc(kind: NoticeKind) -> None:
    """The same notice read by a team in Berlin shows Berlin times: the zone is the renderer's."""
    berlin = NoticeRenderer(
        TEMPLATES,
        business_name="Example Co",
        team_locale=Locale.parse("en_GB"),
        team_zone=ZoneInfo("Europe/Berlin"),
    )
    new_york = make_renderer()

    berlin_summary = json.loads(escalate(berlin, kind, TEAM_PAYLOADS[kind]).body)["summary"]
    new_york_summary = json.loads(escalate(new_york, kind, TEAM_PAYLOADS[kind]).body)["summary"]

    assert berlin_summary != new_york_summary
    expected_berlin_hour = {
        NoticeKind.CALLBACK_ESCALATION: "24 Nov 2026, 19:15",  # new deadline, CET
        NoticeKind.TICKET_ESCALATION: "23 Nov 2026, 15:00",  # last update, CET
        NoticeKind.TICKET_SLA_WARNING: "10 Jul 2026, 20:00",  # breach, CEST
    }[kind]
    assert expected_berlin_hour in berlin_summary


LONG_ID = "callback-" + "0123456789" * 15
TEAM_SUBJECT_CASES = [
    (
        NoticeKind.CALLBACK_ESCALATION,
        {**CALLBACK_ESCALATION, "callback_id": LONG_ID},
        "Overdue callback callback-0123",
        True,
    ),
    (
        NoticeKind.CALLBACK_ESCALATION,
        {**CALLBACK_ESCALATION, "callback_id": LONG_ID, "level": 2},
        "STILL overdue callback callback-0123",
        True,
    ),
    (
        NoticeKind.CALLBACK_ESCALATION,
        {**CALLBACK_ESCALATION, "callback_id": "rückruf-Ω-42"},
        "Overdue",
        False,
    ),
    (
        NoticeKind.CALLBACK_ESCALATION,
        {**CALLBACK_ESCALATION, "callback_id": "cb-42\r\nBcc: x"},
        "Overdue callback cb-42 Bcc: x: 62 min late",
        False,
    ),
    (
        NoticeKind.TICKET_ESCALATION,
        {**TICKET_ESCALATION, "ticket_id": "Überweisung-" + "9" * 120, "priority": "hoch"},
        "SLA breached: ticket ?berweisung-999",
        True,
    ),
    (
        NoticeKind.TICKET_SLA_WARNING,
        {**TICKET_SLA_WARNING, "ticket_id": f"T{EN_DASH}1001 \u2713"},
        "SLA warning: ticket T-1001 ? (urgent)",
        False,
    ),
]


@pytest.mark.parametrize(("kind", "payload", "starts", "cut"), TEAM_SUBJECT_CASES)
def test_sns_subject_is_one_ascii_line_under_100_characters(
    renderer: NoticeRenderer, kind: NoticeKind, payload: dict[str, Any], starts: str, cut: bool
) -> None:
    rendered = escalate(renderer, kind, payload)

    assert rendered.subject.isascii()
    assert rendered.subject.isprintable()  # no line breaks or control characters
    assert len(rendered.subject) < 100  # SNS: "less than 100 characters"
    assert rendered.subject.startswith(starts)
    assert rendered.subject.endswith("...") is cut  # cut visibly, never silently
    # The body keeps the ids exactly as written.
    body = json.loads(rendered.body)
    id_field = "callback_id" if kind is NoticeKind.CALLBACK_ESCALATION else "ticket_id"
    assert body[id_field] == payload[id_field]


def test_sns_subject_replaces_non_ascii_rather_than_dropping_the_notice(renderer: NoticeRenderer) -> None:
    payload = {**CALLBACK_ESCALATION, "callback_id": "rückruf-Ω-42"}
    rendered = escalate(renderer, NoticeKind.CALLBACK_ESCALATION, payload)
    assert rendered.subject == "Overdue callback r?ckruf-?-42: 62 min late, new deadline 1:15 PM"


def test_sns_subject_has_no_control_characters(renderer: NoticeRenderer) -> None:
    payload = {**CALLBACK_ESCALATION, "callback_id": "cb\x00\x07-42"}
    rendered = escalate(renderer, NoticeKind.CALLBACK_ESCALATION, payload)
    assert rendered.subject.isprintable()


@pytest.mark.parametrize("kind", list(TEAM_PAYLOADS))
def test_summary_is_one_readable_paragraph_even_from_awkward_text(
    renderer: NoticeRenderer, kind: NoticeKind
) -> None:
    field = "topic" if kind is NoticeKind.CALLBACK_ESCALATION else "subject"
    awkward = 'Line one\nline "two"\\\tend'
    rendered = escalate(renderer, kind, {**TEAM_PAYLOADS[kind], field: awkward})

    body = json.loads(rendered.body)  # valid JSON whatever the text
    assert body[field] == awkward  # the field itself is kept as written
    summary = body["summary"]
    assert 'Line one line "two"\\ end' in summary  # folded onto one line in the summary
    assert "\n" not in summary
    assert "\t" not in summary
    assert "  " not in summary
    assert "{{" not in summary
    assert "None" not in summary
    assert summary.startswith("Callback cb-42" if kind is NoticeKind.CALLBACK_ESCALATION else "Ticket T-1001")
    assert summary.endswith(".")


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        (NoticeKind.CALLBACK_ESCALATION, "minutes_late"),
        (NoticeKind.CALLBACK_ESCALATION, "new_deadline"),
        (NoticeKind.CALLBACK_ESCALATION, "level"),
        (NoticeKind.TICKET_ESCALATION, "hours_without_update"),
        (NoticeKind.TICKET_SLA_WARNING, "breach_at"),
        (NoticeKind.TICKET_SLA_WARNING, "minutes_left"),
    ],
)
def test_team_payload_missing_a_field_is_rejected(
    renderer: NoticeRenderer, kind: NoticeKind, field: str
) -> None:
    payload = {key: value for key, value in TEAM_PAYLOADS[kind].items() if key != field}
    with pytest.raises(InvalidPayload, match=field):
        escalate(renderer, kind, payload)


@pytest.mark.parametrize("level", [0, 3])
def test_callback_escalation_level_is_one_or_two(renderer: NoticeRenderer, level: int) -> None:
    with pytest.raises(InvalidPayload, match="level"):
        escalate(renderer, NoticeKind.CALLBACK_ESCALATION, {**CALLBACK_ESCALATION, "level": level})


@pytest.mark.parametrize("kind", list(TEAM_PAYLOADS))
@pytest.mark.parametrize("template", ["subject.txt.j2", "summary.txt.j2"])
def test_team_template_with_an_undefined_value_is_an_error_not_a_blank(
    tmp_path: Path, kind: NoticeKind, template: str
) -> None:
    folder = tmp_path / kind.value
    folder.mkdir()
    (folder / "subject.txt.j2").write_text("Heads up for {{ notice.customer_id }}")
    (folder / "summary.txt.j2").write_text("Heads up for {{ notice.customer_id }}")
    (folder / template).write_text("Heads up for {{ notice.customer_id }}, owner {{ notice.owner }}")
    request = notice(kind, TEAM_PAYLOADS[kind])

    with pytest.raises(RenderError, match="owner") as raised:
        make_renderer(tmp_path).render_escalation(request)
    assert f"{kind.value}/{template}" in str(raised.value)


def test_a_kind_without_its_template_is_a_render_error(tmp_path: Path) -> None:
    (tmp_path / "ticket_follow_up").mkdir()
    request = notice(NoticeKind.TICKET_FOLLOW_UP, TICKET_FOLLOW_UP)
    with pytest.raises(RenderError, match=re.escape("ticket_follow_up/sms.txt.j2")):
        make_renderer(tmp_path).render_sms(request, customer())
