"""Customer data cannot inject headers, smuggle markup, or add links of its own."""

import re
from datetime import UTC, datetime

import pytest
from headsup.adapters.senders import EmailIdentity, SesEmailSender
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest, make_notice_id
from headsup.rendering.renderer import NoticeRenderer

from tests.unit.builders import customer
from tests.unit.test_rendering_schedules import CUSTOMER_PAYLOADS as SCHEDULE_PAYLOADS
from tests.unit.test_rendering_schedules import TEMPLATES

UNSUBSCRIBE = "https://notices.example.com/unsubscribe/abc.def"
HOSTILE = 'Invoice\r\nBcc: all@evil.example <a href="https://evil.example">x</a> https://evil.example/p'


def hostile_request(kind: NoticeKind, field: str) -> NoticeRequest:
    payload = {**SCHEDULE_PAYLOADS[kind], field: HOSTILE}
    return NoticeRequest(
        notice_id=make_notice_id(kind, "safety"),
        kind=kind,
        customer_id="cust-1",
        detected_at=datetime(2026, 11, 24, tzinfo=UTC),
        payload=payload,
    )


@pytest.fixture
def renderer() -> NoticeRenderer:
    return NoticeRenderer(TEMPLATES, business_name="Example Co", support_reply_to="support@example.com")


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        (NoticeKind.TICKET_STALE, "subject"),
        (NoticeKind.CALLBACK_OVERDUE, "topic"),
        (NoticeKind.TICKET_FOLLOW_UP, "subject"),
    ],
)
@pytest.mark.parametrize("locale", ["en-US", "es-ES"])
def test_links_only_go_to_the_business_and_no_header_can_be_injected(
    renderer: NoticeRenderer, kind: NoticeKind, field: str, locale: str
) -> None:
    # Given a ticket subject or callback topic carrying CR/LF, a header and links
    request = hostile_request(kind, field)
    person = customer(first_name="Ana\r\nX-Evil: 1", locale=locale)

    # When the email is rendered and built into the MIME message SES receives
    email = renderer.render_email(request, person, unsubscribe_url=UNSUBSCRIBE)
    mime = SesEmailSender(EmailIdentity("notices@example.com", name="Example Co")).build_mime(
        "ana@example.com", email, notice_id=request.notice_id, unsubscribe_url=UNSUBSCRIBE
    )

    # Then the subject is one line and no header came from the data
    assert "\r" not in email.subject
    assert "\n" not in email.subject
    assert mime["Bcc"] is None
    assert mime["X-Evil"] is None
    # ... every link in the HTML is the business's unsubscribe link or its support mailbox
    hrefs = set(re.findall(r'href="([^"]*)"', email.html))
    assert hrefs <= {UNSUBSCRIBE, "mailto:support@example.com"}
    assert UNSUBSCRIBE in hrefs
    # ... and the hostile markup is shown as text, not as a link
    assert '<a href="https://evil.example">' not in email.html
