from pathlib import Path

import pytest
from headsup.rendering.renderer import (
    SMS_NAME_LIMIT,
    InvalidPayload,
    NoticeRenderer,
    RenderError,
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
