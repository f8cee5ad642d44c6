import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest, make_notice_id
from headsup.rendering.renderer import (
    SMS_NAME_LIMIT,
    InvalidPayload,
    NoticeRenderer,
    RenderError,
    sms_encoding,
    sms_segments,
)

from tests.unit.builders import BILL_INCREASE_PAYLOAD, customer, notice_request

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.fixture
def renderer() -> NoticeRenderer:
    return NoticeRenderer(TEMPLATES, business_name="Example Co")


def test_email_greets_by_first_name_and_explains_the_increase(renderer: NoticeRenderer) -> None:
    email = renderer.render_email(notice_request(), customer(first_name="Ana"))

    assert email.subject == "Your November 2026 bill is $22.40 higher: here is why"
    for part in (email.text, email.html):
        assert "Hi Ana," in part
        assert "$132.40" in part
        assert "$110.00" in part
        assert "20.4%" in part
        assert "Data add-on" in part
        assert "December 15, 2026" in part
    # largest change first, as the payload orders it
    assert email.text.index("Data add-on") < email.text.index("Plan")


def test_html_escapes_customer_data_and_never_evaluates_it(renderer: NoticeRenderer) -> None:
    email = renderer.render_email(notice_request(), customer(first_name="<script>{{7*7}}"))

    assert "Hi &lt;script&gt;{{7*7}}," in email.html
    assert "<script>" not in email.html
    assert "49" not in email.html
    assert "Hi <script>{{7*7}}," in email.text  # plain text is shown as written


def test_amounts_and_dates_follow_the_customers_regional_conventions_in_english(
    renderer: NoticeRenderer,
) -> None:
    # A de-DE customer reads English (no German templates): German number conventions, English words
    email = renderer.render_email(notice_request(), customer(locale="de-DE"))
    assert "132,40\xa0US$" in email.text
    assert "15 December 2026" in email.text
    assert "20,4\xa0%" in email.text
    assert "Dezember" not in email.text


def test_correction_is_worded_as_a_correction(renderer: NoticeRenderer) -> None:
    payload = {**BILL_INCREASE_PAYLOAD, "is_correction": True, "compared_period": "2026-11"}
    email = renderer.render_email(notice_request(payload), customer())
    assert email.subject == "We corrected your November 2026 bill: it is now $132.40"


def test_sms_fits_one_segment_and_says_how_to_stop(renderer: NoticeRenderer) -> None:
    sms = renderer.render_sms(notice_request(), customer(first_name="Ana"))
    assert sms.text.startswith("Example Co: Hi Ana, your Nov bill is $132.40, up $22.40 (20.4%)")
    assert sms.text.endswith("Due Dec 15. Reply STOP to opt out.")
    assert sms_segments(sms.text) == 1


def test_missing_value_is_an_error_not_a_blank(tmp_path: Path) -> None:
    folder = tmp_path / "bill_increase"
    folder.mkdir()
    (folder / "sms.txt.j2").write_text("Hi {{ customer.nickname }}, {{ notice.period }}")
    renderer = NoticeRenderer(tmp_path, business_name="Example Co")

    with pytest.raises(RenderError, match="nickname"):
        renderer.render_sms(notice_request(), customer())


def test_payload_that_does_not_match_its_kind_is_rejected(renderer: NoticeRenderer) -> None:
    broken = {key: value for key, value in BILL_INCREASE_PAYLOAD.items() if key != "new_amount"}
    with pytest.raises(InvalidPayload, match="new_amount"):
        renderer.render_email(notice_request(broken), customer())


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("€" * 80, 1),
        ("€" * 81, 2),
        ("é" * 160, 1),
        ("✓" * 70, 1),
        ("✓" * 71, 2),
    ],
)
def test_sms_segments_count_gsm7_and_ucs2(text: str, segments: int) -> None:
    assert sms_segments(text) == segments


def test_sms_greets_a_paragraph_long_name_by_its_start_and_stays_within_what_sns_accepts(
    renderer: NoticeRenderer,
) -> None:
    name = "Ana" + "x" * 9_997
    sms = renderer.render_sms(notice_request(), customer(first_name=name))
    assert f"Hi {name[:SMS_NAME_LIMIT]}," in sms.text
    assert len(sms.text.encode()) <= 1600
    # the email, which has room, keeps the name whole
    assert name in renderer.render_email(notice_request(), customer(first_name=name)).text


# --- a correction of a bill the customer was already told about ------------------------------------

# The customer was told $132.40 for November (the increase notice); the business corrected the bill.
BILL_CORRECTION_PAYLOAD: dict[str, Any] = {
    "period": "2026-11",
    "currency": "USD",
    "told_amount": "132.40",
    "corrected_amount": "117.40",
    "due_date": "2026-12-15",
    "due_date_changed": False,
}


def correction(**changes: Any) -> NoticeRequest:
    payload = {**BILL_CORRECTION_PAYLOAD, **changes}
    return NoticeRequest(
        notice_id=make_notice_id(NoticeKind.BILL_CORRECTION, "cust-1", json.dumps(payload, sort_keys=True)),
        kind=NoticeKind.BILL_CORRECTION,
        customer_id="cust-1",
        detected_at=datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
        payload=payload,
    )


def test_bill_correction_names_the_figure_we_gave_and_the_right_one_and_says_sorry(
    renderer: NoticeRenderer,
) -> None:
    # Given a bill corrected down from the $132.40 the customer was told to $117.40
    request = correction()

    # When the correction is rendered
    email = renderer.render_email(request, customer(first_name="Ana"))
    sms = renderer.render_sms(request, customer(first_name="Ana"))

    # Then every part names both figures, owns the mistake and says what it means for the customer
    assert email.subject == "Sorry, we got your November 2026 bill wrong: it is $117.40, not $132.40"
    for part in (email.text, email.html):
        assert "Hi Ana," in part
        assert "We told you your November 2026 bill was $132.40." in part
        assert "That was our mistake, and we're sorry: the right amount is" in part
        assert "$15.00 less than we said." in part
        assert "more than we said" not in part
        assert "The due date is unchanged: December 15, 2026." in part
    assert "the right amount is $117.40, $15.00 less" in email.text
    assert "the right amount is <strong>$117.40</strong>, $15.00 less" in email.html
    assert "What this means for you: the new total is $117.40." in email.text
    assert "What this means for you: the new total is <strong>$117.40</strong>." in email.html
    assert sms.text == (
        "Example Co: Hi Ana, sorry, we got your Nov bill wrong: it is $117.40, not $132.40. "
        "Still due Dec 15. Reply STOP to opt out."
    )
    assert sms_segments(sms.text) == 1


def test_bill_correction_upwards_says_how_much_more_it_is(renderer: NoticeRenderer) -> None:
    # Given a bill corrected up from the $132.40 the customer was told
    request = correction(corrected_amount="140.00")

    email = renderer.render_email(request, customer())
    sms = renderer.render_sms(request, customer())

    # Then it is worded as more, never as less
    assert email.subject == "Sorry, we got your November 2026 bill wrong: it is $140.00, not $132.40"
    for part in (email.text, email.html):
        assert "$7.60 more than we said." in part
        assert "less than we said" not in part
    assert "the new total is $140.00." in email.text
    assert "it is $140.00, not $132.40." in sms.text


def test_bill_correction_with_a_new_due_date_gives_the_new_date(renderer: NoticeRenderer) -> None:
    request = correction(due_date="2027-01-05", due_date_changed=True)

    email = renderer.render_email(request, customer())
    sms = renderer.render_sms(request, customer())

    assert "The due date has changed too: the bill is now due on January 5, 2027." in email.text
    assert "the bill is now due on <strong>January 5, 2027</strong>." in email.html
    assert sms.text.endswith("Now due Jan 5. Reply STOP to opt out.")
    for part in (email.text, email.html, sms.text):
        assert "unchanged" not in part
        assert "Still due" not in part


@pytest.mark.parametrize("due_date_changed", [False, True])
def test_bill_correction_without_a_due_date_says_nothing_about_one(
    renderer: NoticeRenderer, due_date_changed: bool
) -> None:
    request = correction(due_date=None, due_date_changed=due_date_changed)

    email = renderer.render_email(request, customer())
    sms = renderer.render_sms(request, customer())

    assert "What this means for you: the new total is $117.40.\n\nIf you have any questions" in email.text
    assert "the new total is <strong>$117.40</strong>.</p>" in email.html
    assert sms.text == (
        "Example Co: Hi Ana, sorry, we got your Nov bill wrong: it is $117.40, not $132.40. "
        "Reply STOP to opt out."
    )
    for part in (email.subject, email.text, email.html, sms.text):
        assert "due" not in part.lower()
        assert "None" not in part


def test_bill_correction_figures_follow_the_customers_regional_conventions(renderer: NoticeRenderer) -> None:
    email = renderer.render_email(correction(), customer(locale="de-DE"))

    assert "was 132,40\xa0US$" in email.text
    assert "the right amount is 117,40\xa0US$, 15,00\xa0US$ less than we said." in email.text
    assert "The due date is unchanged: 15 December 2026." in email.text


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"corrected_amount": "140.00", "due_date": "2027-01-05", "due_date_changed": True},
        {"due_date": None},
        {"told_amount": "123456.78", "corrected_amount": "100000.00"},
    ],
)
def test_bill_correction_sms_is_gsm7_and_one_segment(
    renderer: NoticeRenderer, changes: dict[str, Any]
) -> None:
    sms = renderer.render_sms(correction(**changes), customer(first_name="Alexandria")).text

    assert sms_encoding(sms) == "GSM-7", sms
    assert sms_segments(sms) == 1, (len(sms), sms)
    assert sms.endswith("Reply STOP to opt out.")
    assert "\n" not in sms
    assert "  " not in sms
