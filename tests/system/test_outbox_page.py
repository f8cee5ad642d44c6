"""The outbox page of a real local run, looked at in headless Chromium (Debian's package).

A seeded simulation runs the whole stack on moto; `headsup outbox` writes the page from the
saved run; the browser then checks what a person would see: a row per notice in the ledger,
rows that open onto the email, SMS or team message the emulator accepted, and a chart whose
columns add up to what was sent. Expected values come from the run record (the ledger and the
providers' stores), never from the page generator.
"""

import struct
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from cli.browser import SENT_EMAIL, SENT_SMS, chromium, open_notice
from cli.main import main, run_simulation
from cli.outbox import RunRecord, save_run

# Its tests share one module-scoped run: they stay on one xdist worker, so it is built once.
pytestmark = pytest.mark.xdist_group("outbox_page")
STOPPED_BY_THE_CHECK = ("no_longer_true", "superseded", "already_told", "nothing_to_correct")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunRecord, Path, Path]:
    folder = tmp_path_factory.mktemp("outbox")
    record = run_simulation(days=2, customers=10, seed=3)
    saved = save_run(record, folder / "last-run.json")
    page, shot = folder / "outbox.html", folder / "outbox.png"
    assert main(["outbox", "--record", str(saved), "--out", str(page), "--screenshot", str(shot)]) == 0
    return record, page, shot


@pytest.fixture(scope="module")
def browser(run: tuple[RunRecord, Path, Path]) -> Iterator[Browser]:
    # After `run`: its screenshot starts Playwright too, and the sync API does not nest.
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser, run: tuple[RunRecord, Path, Path]) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(run[1].resolve().as_uri())
    yield page
    # A static page: it fetches nothing (the emails' own images and links included) and has no errors.
    assert [url for url in requests if not url.startswith(("file://", "about:"))] == []
    assert errors == []
    page.close()


def test_there_is_one_row_per_notice_in_the_order_they_were_settled(
    page: Page, run: tuple[RunRecord, Path, Path]
) -> None:
    record = run[0]
    rows = page.locator("details.notice > summary").evaluate_all(
        "rows => rows.map(row => [row.querySelector('time').getAttribute('datetime'),"
        " row.querySelector('.customer').textContent, row.parentElement.dataset.kind,"
        " row.parentElement.dataset.status])"
    )
    expected = [[n.settled_at.isoformat(), n.customer_id, n.kind, n.status] for n in record.notices]
    assert rows == expected
    assert {n.kind for n in record.notices} >= {"bill_increase", "callback_overdue", "visit_on_the_way"}
    assert any(n.notice_id for n in record.notices if n.status == "held")  # the run has each outcome to show
    for outcome, count in Counter(
        f"sent ({n.message.channel})" if n.message else n.status for n in record.notices
    ).items():
        assert page.locator(f'li[data-outcome="{outcome}"] b').inner_text() == str(count)
    # ... and what the check as they went out did: the notices it stopped, by the reason's first
    # word, and the better news it let go
    stopped = Counter((n.reason or "").split(":")[0] for n in record.notices if n.status == "skipped")
    sent = Counter(n.kind for n in record.notices if n.status == "sent")
    assert stopped["no_longer_true"]
    assert sent["bill_correction"]
    assert sent["visit_eta_earlier"]  # the run has each to show
    for reason in STOPPED_BY_THE_CHECK:
        assert page.locator(f'li[data-recheck="{reason}"] b').inner_text() == str(stopped[reason])
    for kind in ("bill_correction", "visit_eta_earlier"):
        assert page.locator(f'li[data-recheck="{kind}"] b').inner_text() == str(sent[kind])


def test_an_email_row_opens_onto_the_email_the_customer_got(
    page: Page, run: tuple[RunRecord, Path, Path]
) -> None:
    emails = [n for n in run[0].notices if n.status == "sent" and n.channel == "email"]
    first = page.locator(SENT_EMAIL).first
    frame = first.locator("iframe.email")
    assert not frame.is_visible()  # rows start closed

    open_notice(page, SENT_EMAIL)

    assert frame.is_visible()
    box = frame.bounding_box()
    assert box is not None
    assert box["height"] > 300
    message = emails[0].message
    assert message is not None
    assert message.subject
    assert message.text
    assert first.locator(".subject").inner_text() == message.subject
    shown = first.frame_locator("iframe.email").locator("body").inner_text()
    greeting = message.text.splitlines()[0]  # "Hi Ana," from the plain-text part SES accepted
    assert greeting in shown
    # The unsubscribe link is a working link in the email, the same one the plain-text part gives.
    links = first.frame_locator("iframe.email").locator("a[href]").evaluate_all("a => a.map(x => x.href)")
    assert any(link in message.text for link in links)
    # Above it, what happened to it, in order: detected, then sent, then what the mail server said
    timeline = first.get_by_role("list", name="What happened to it (UTC)")
    steps = timeline.get_by_role("listitem").all_inner_texts()
    assert steps[0].startswith("detected ")
    assert any(step.startswith("sent ") for step in steps)
    assert steps[-1].split()[0] in ("delivered", "delayed", "bounced", "refused", "failed", "no")


def test_an_sms_row_opens_onto_the_text_with_its_length(
    page: Page, run: tuple[RunRecord, Path, Path]
) -> None:
    texts = [n for n in run[0].notices if n.status == "sent" and n.channel == "sms"]
    first = page.locator(SENT_SMS).first
    assert not first.locator(".sms").is_visible()

    open_notice(page, SENT_SMS)

    message = texts[0].message
    assert message is not None
    assert first.locator(".sms").inner_text() == message.text
    assert f"{len(message.text)} characters" in first.locator(".to").inner_text()


def test_team_and_unsent_rows_say_what_happened(page: Page, run: tuple[RunRecord, Path, Path]) -> None:
    team = next(n for n in run[0].notices if n.message and n.message.channel == "team")
    row = page.locator(f"#notice-{team.notice_id}")
    row.locator("summary").click()
    assert team.message is not None
    assert row.locator(".subject").inner_text() == team.message.subject
    assert '"summary"' in row.locator("pre").inner_text()

    held = next(n for n in run[0].notices if n.status == "held")
    row = page.locator(f"#notice-{held.notice_id}")
    row.locator("summary").click()
    assert f"({held.reason})" in row.locator(".why").inner_text()


def test_the_customers_answers_are_counted_and_their_rows_say_what_they_answered(
    page: Page, run: tuple[RunRecord, Path, Path]
) -> None:
    answered = [n for n in run[0].notices if n.answer]
    assert answered  # the run has answers to show
    assert page.locator("#answers-title b").inner_text() == str(len(answered))
    row = page.locator(f"#notice-{answered[0].notice_id}")
    row.locator(":scope > summary").click()
    steps = (
        row.get_by_role("list", name="What happened to it (UTC)").get_by_role("listitem").all_inner_texts()
    )
    assert any(step.startswith("answered: ") for step in steps)
    # The filter shows the answered notices, the team's notices their answers made, and what
    # customers texted the team in their own words
    page.get_by_label("answered by the customer, and what it made").check()
    shown = page.locator("details.notice").evaluate_all(
        "rows => rows.filter(r => r.offsetParent !== null).map(r => r.id)"
    )
    made = [
        n
        for n in run[0].notices
        if n.kind in ("ticket_answer", "callback_answer", "visit_answer", "customer_message")
    ]
    assert shown == [f"notice-{n.notice_id}" for n in run[0].notices if n in answered or n in made]


def test_the_chart_adds_up_to_what_was_sent_per_hour_and_kind(
    page: Page, run: tuple[RunRecord, Path, Path]
) -> None:
    sent = [n for n in run[0].notices if n.status == "sent"]
    expected = Counter(
        (n.settled_at.replace(minute=0, second=0, microsecond=0).isoformat(), n.kind) for n in sent
    )
    bars = page.locator("#chart rect.bar").evaluate_all(
        "bars => bars.map(bar => [bar.dataset.hour, bar.dataset.kind, Number(bar.dataset.count),"
        " bar.getBoundingClientRect().height])"
    )
    assert Counter({(hour, kind): count for hour, kind, count, _ in bars}) == expected
    assert all(height > 0 for *_, height in bars)  # every column drawn, none hidden
    chart = page.locator("#chart").bounding_box()
    assert chart is not None
    assert chart["width"] > 200
    for kind, count in Counter(n.kind for n in sent).items():
        assert f"({count} sent)" in page.locator(f'.legend li[data-kind="{kind}"]').inner_text()


def test_the_rows_can_be_filtered_by_outcome_and_kind(page: Page, run: tuple[RunRecord, Path, Path]) -> None:
    notices = run[0].notices
    rows = page.locator("details.notice")

    def shown() -> list[str]:
        ids: list[str] = rows.evaluate_all("rows => rows.filter(r => r.offsetParent !== null).map(r => r.id)")
        return ids

    assert len(shown()) == len(notices)
    page.get_by_label("not sent (skipped, held, failed)").check()
    assert shown() == [f"notice-{n.notice_id}" for n in notices if n.status != "sent"]
    page.get_by_label("to the team").check()
    assert shown() == [f"notice-{n.notice_id}" for n in notices if n.message and n.message.channel == "team"]
    page.get_by_label("stopped by the check as they went out").check()
    stopped = [
        n for n in notices if n.status == "skipped" and (n.reason or "").split(":")[0] in STOPPED_BY_THE_CHECK
    ]
    assert stopped
    assert shown() == [f"notice-{n.notice_id}" for n in stopped]
    page.get_by_label("sent to customers").check()
    customer_sent = [n for n in notices if n.status == "sent" and n.channel in ("email", "sms")]
    assert shown() == [f"notice-{n.notice_id}" for n in customer_sent]

    # Unticking a kind in the legend hides its rows and fades its bars
    page.locator("#kind-bill_increase").uncheck()
    assert shown() == [f"notice-{n.notice_id}" for n in customer_sent if n.kind != "bill_increase"]
    faded = page.locator('rect.bar[data-kind="bill_increase"]').first.evaluate(
        "bar => getComputedStyle(bar).opacity"
    )
    assert float(faded) < 0.5
    page.get_by_label("every notice").check()
    assert len(shown()) == sum(n.kind != "bill_increase" for n in notices)


def test_the_screenshot_is_a_picture_of_the_page(run: tuple[RunRecord, Path, Path]) -> None:
    png = run[2].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert (width, height) == (1280, 1500)
