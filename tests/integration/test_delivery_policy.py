"""The delivery policy end to end, on moto from template.yaml: quiet hours and their release by the
sweep, the daily cap, one-click unsubscribe through the HTTP API, SES bounces through SNS, and a
replayed mixed day in which every notice ends in exactly one recorded outcome."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlparse

import time_machine

from emulator import sent_emails, sent_sms
from sim.pipeline import LocalPipeline
from tests.stack import ANA, bill


def bill_increase(
    pipeline: LocalPipeline, customer_id: str, period: str = "2026-11", currency: str = "USD"
) -> None:
    year, month = (int(part) for part in period.split("-"))
    previous = f"{year}-{month - 1:02d}" if month > 1 else f"{year - 1}-12"
    pipeline.put_bills(
        [
            bill(customer_id, previous, rising_amount(previous), currency=currency),
            bill(customer_id, period, rising_amount(period), currency=currency),
        ]
    )
    pipeline.run_detectors()
    pipeline.deliver_notices()


def rising_amount(period: str) -> str:
    """Each month 50 % up on the one before: a bill written again by a later call keeps its
    amount (it is not a correction), and every month is an increase worth telling."""
    year, month = (int(part) for part in period.split("-"))
    return str((Decimal(100) * Decimal("1.5") ** (year * 12 + month - 2026 * 12)).quantize(Decimal("0.01")))


def statuses(pipeline: LocalPipeline) -> list[tuple[str, str]]:
    return sorted((entry["kind"], entry["status"]) for entry in pipeline.ledger())


def test_sms_at_2105_local_is_held_and_goes_out_at_0800_the_next_day(pipeline: LocalPipeline) -> None:
    # Given Jonas (SMS, Berlin) whose bill goes up at 21:05 Berlin time
    with time_machine.travel(datetime(2026, 11, 24, 20, 5, tzinfo=UTC), tick=True):
        bill_increase(pipeline, "cust-jonas", currency="EUR")

    # Then nothing is sent yet, and the ledger says when it will go
    assert sent_sms() == []
    [entry] = pipeline.ledger()
    assert (entry["status"], entry["reason"]) == ("held", "quiet_hours")
    assert datetime.fromisoformat(entry["hold_until"]) == datetime(
        2026, 11, 25, 7, 0, tzinfo=UTC
    )  # 08:00 CET

    # When the sweep runs just before and at the opening
    assert pipeline.sweep_at(datetime(2026, 11, 25, 6, 55, tzinfo=UTC))["notices"] == 0
    pipeline.sweep_at(datetime(2026, 11, 25, 7, 0, tzinfo=UTC))

    # Then the SMS goes out once, and the notice's one record now says sent
    assert len(sent_sms()) == 1
    assert statuses(pipeline) == [("bill_increase", "sent")]


def test_the_morning_release_is_0800_local_across_the_daylight_saving_change(pipeline: LocalPipeline) -> None:
    # Berlin leaves summer time on 2026-10-25: 21:05 CEST is 19:05 UTC, 08:00 CET is 07:00 UTC
    with time_machine.travel(datetime(2026, 10, 24, 19, 5, tzinfo=UTC), tick=True):
        bill_increase(pipeline, "cust-jonas", period="2026-10", currency="EUR")

    [entry] = pipeline.ledger()
    assert datetime.fromisoformat(entry["hold_until"]) == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    pipeline.sweep_at(datetime(2026, 10, 25, 7, 0, tzinfo=UTC))
    assert len(sent_sms()) == 1


def test_the_fourth_notice_in_a_day_is_held_until_a_place_frees_up(pipeline: LocalPipeline) -> None:
    # Given three notices already sent to Ana today (each a different month's bill going up)
    for month in ("2026-08", "2026-09", "2026-10"):
        bill_increase(pipeline, "cust-ana", period=month)
    pipeline.put_bills([bill("cust-ana", "2026-11", rising_amount("2026-11"))])  # and a fourth
    pipeline.run_detectors()
    pipeline.deliver_notices()

    # Then three went out and the fourth is held, with its time
    assert len(sent_emails()) == 3
    held = [entry for entry in pipeline.ledger() if entry["status"] == "held"]
    assert len(held) == 1
    assert held[0]["reason"] == "frequency_cap"
    release = datetime.fromisoformat(held[0]["hold_until"])

    # When the sweep runs once the first of the three is 24 hours old
    pipeline.sweep_at(release + timedelta(minutes=1))
    assert len(sent_emails()) == 4
    assert [entry["status"] for entry in pipeline.ledger()] == ["sent"] * 4


def test_the_technician_on_the_way_is_not_held_by_the_daily_cap(pipeline: LocalPipeline) -> None:
    # Given Ana, who has had three notices today, waiting at home for a technician
    noon = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)  # 12:00 in Los Angeles
    with time_machine.travel(noon, tick=True):
        for month in ("2026-08", "2026-09", "2026-10"):
            bill_increase(pipeline, "cust-ana", period=month)
        visit = {
            "visit_id": "v-ana",
            "customer_id": "cust-ana",
            "window_start": (noon + timedelta(hours=1)).isoformat(),
            "window_end": (noon + timedelta(hours=3)).isoformat(),
            "eta": (noon + timedelta(hours=1)).isoformat(),
            "status": "scheduled",
            "technician_name": "Carlos Mendes",
        }
        pipeline.put_visits([visit])
        pipeline.index_changes()

        # When the technician sets off, and then a fourth bill goes up
        pipeline.put_visits(
            [{**visit, "status": "en_route", "eta": (noon + timedelta(minutes=40)).isoformat()}]
        )
        pipeline.index_changes()
        pipeline.deliver_notices()
        pipeline.put_bills([bill("cust-ana", "2026-11", rising_amount("2026-11"))])
        pipeline.run_detectors()
        pipeline.deliver_notices()

    # Then "on the way" went out at once, and it counts: the bill waits for a place
    outcomes = {entry["kind"]: (entry["status"], entry.get("reason")) for entry in pipeline.ledger()}
    assert outcomes["visit_on_the_way"] == ("sent", None)
    assert sum(entry["status"] == "sent" for entry in pipeline.ledger()) == 4
    assert [entry["reason"] for entry in pipeline.ledger() if entry["status"] == "held"] == ["frequency_cap"]
    assert len(sent_emails()) == 4


def test_one_click_unsubscribe_stops_that_topic_and_only_that_topic(pipeline: LocalPipeline) -> None:
    # Given a billing email carrying a one-click unsubscribe link
    bill_increase(pipeline, "cust-ana", period="2026-10")
    [email] = sent_emails()
    link = email.message["List-Unsubscribe"].strip("<>")
    assert email.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in (email.text or "")  # the visible link in the body too
    assert urlparse(link).netloc == urlparse(pipeline.unsubscribe_api.base_url).netloc

    # When the mail client POSTs the one-click form
    response = pipeline.unsubscribe_api.request(
        "POST",
        urlparse(link).path,
        body="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    # Then it answers 200 without a redirect; the next billing notice is skipped, a tickets one is not
    assert response.status == 200
    assert "location" not in response.headers
    pipeline.put_bills([bill("cust-ana", "2026-11", rising_amount("2026-11"))])
    pipeline.run_detectors()
    pipeline.deliver_notices()
    skipped = [entry for entry in pipeline.ledger() if entry["status"] == "skipped"]
    assert [entry["reason"] for entry in skipped] == [
        "opted_out_topic: customer opted out of billing notices"
    ]
    now = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    pipeline.put_tickets(
        [
            {
                "ticket_id": "t-1",
                "customer_id": "cust-ana",
                "subject": "Router",
                "status": "open",
                "priority": "urgent",
                "created_at": (now - timedelta(days=1)).isoformat(),
                "updated_at": (now - timedelta(hours=5)).isoformat(),
            }
        ]
    )
    pipeline.sweep_at(now + timedelta(minutes=5))
    assert len(sent_emails()) == 2


def test_a_get_shows_a_page_and_changes_nothing_and_tampered_tokens_are_refused(
    pipeline: LocalPipeline,
) -> None:
    bill_increase(pipeline, "cust-ana", period="2026-10")
    path = urlparse(sent_emails()[0].message["List-Unsubscribe"].strip("<>")).path

    page = pipeline.unsubscribe_api.request("GET", path)
    token = path.rsplit("/", 1)[1]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    refused = [
        pipeline.unsubscribe_api.request(
            "POST",
            f"/unsubscribe/{bad}",
            body="List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        for bad in (tampered, "not-a-token", token[: len(token) // 2])
    ]

    assert page.status == 200
    assert "<form" in page.body
    assert {r.status for r in refused} == {404}
    assert len({r.body for r in refused}) == 1  # the same generic answer whatever was wrong
    bill_increase(pipeline, "cust-ana", period="2026-11")  # still subscribed: the GET changed nothing
    assert len(sent_emails()) == 2


def test_a_bounce_switches_the_customer_to_sms(pipeline: LocalPipeline) -> None:
    # Given Ana, who allows email then SMS, and a billing email that bounced
    pipeline.put_customers([{**ANA, "channels": ["email", "sms"], "phone": "+14155550123"}])
    bill_increase(pipeline, "cust-ana", period="2026-10")
    [email] = sent_emails()
    [entry] = pipeline.ledger()
    bounce = {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": "ana.souza@example.com"}],
            "timestamp": "2026-11-24T16:01:00.000Z",
            "feedbackId": "fb-1",
        },
        "mail": {
            "timestamp": "2026-11-24T16:00:00.000Z",
            "messageId": email.message_id,
            "source": "notices@example.com",
            "destination": ["ana.souza@example.com"],
            "headers": [{"name": "X-Headsup-Notice-Id", "value": entry["notice_id"]}],
            "tags": {"notice_id": [entry["notice_id"]], "kind": ["bill_increase"]},
        },
    }

    # When SES reports it through the feedback topic
    pipeline.ses_feedback.deliver(json.dumps(bounce))

    # Then the notice that caused it says so, and the next notice goes by SMS (as does the bounced
    # one's second attempt: tests/integration/test_fallback.py)
    first = next(e for e in pipeline.ledger() if e["notice_id"] == entry["notice_id"])
    assert first["status"] == "sent"
    assert "bounce" in first["feedback"].lower()
    bill_increase(pipeline, "cust-ana", period="2026-11")
    assert len(sent_emails()) == 1
    assert [sms.phone_number for sms in sent_sms()] == ["+14155550123"] * 2
    by_channel = {(e.get("fallback_of"), e["channel"]) for e in pipeline.ledger()}
    assert by_channel == {(None, "email"), (entry["notice_id"], "sms"), (None, "sms")}
