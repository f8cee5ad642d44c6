"""sim.mailboxes' simulated phones: the seeded fate of each SMS, and the delivery-status log line SNS
writes for it (read back here by headsup's own parser, so the simulation and the function agree)."""

import json
from collections import Counter
from datetime import UTC, datetime

import pytest
from headsup.domain.receipts import DeliveryState
from headsup.domain.sms_receipts import parse_sms_status

from sim.mailboxes import (
    SMS_DELIVERED,
    SMS_FAILED_PERMANENTLY,
    SMS_FAILED_TRANSIENTLY,
    sms_fate,
    sms_parts,
    sms_status_log,
)

PHONE = "+14155550100"
AT = datetime(2026, 11, 24, 16, 0, 34, 558_000, tzinfo=UTC)


def test_the_same_sms_in_the_same_run_meets_the_same_fate() -> None:
    fates = {sms_fate(7, PHONE, "Your bill went up", failed=0.3, failed_permanently=0.3) for _ in range(5)}
    assert len(fates) == 1


def test_fates_fall_in_the_shares_asked_for() -> None:
    # Given a thousand different texts to one phone, at the default shares
    fates = [sms_fate(7, PHONE, f"notice {n}", failed=0.05, failed_permanently=0.03) for n in range(4000)]

    # Then about 92 % are delivered, 5 % fail for now and 3 % for good, with every failure text used
    responses = Counter(fate.provider_response for fate in fates)
    assert responses[SMS_DELIVERED] == pytest.approx(0.92 * 4000, rel=0.03)
    assert sum(responses[r] for r in SMS_FAILED_TRANSIENTLY) == pytest.approx(0.05 * 4000, rel=0.2)
    assert sum(responses[r] for r in SMS_FAILED_PERMANENTLY) == pytest.approx(0.03 * 4000, rel=0.25)
    assert set(responses) == {SMS_DELIVERED, *SMS_FAILED_TRANSIENTLY, *SMS_FAILED_PERMANENTLY}
    assert all(fate.delivered == (fate.provider_response == SMS_DELIVERED) for fate in fates)


def test_the_seed_and_a_resend_draw_afresh() -> None:
    def fates(seed: int, occurrence: int) -> list[bool]:
        return [
            sms_fate(
                seed, PHONE, f"notice {n}", occurrence=occurrence, failed=0.5, failed_permanently=0
            ).delivered
            for n in range(50)
        ]

    assert fates(1, 0) != fates(2, 0)
    assert fates(1, 0) != fates(1, 1)


@pytest.mark.parametrize(
    ("failed", "failed_permanently", "responses"),
    [
        (0.0, 0.0, {SMS_DELIVERED}),
        (1.0, 0.0, set(SMS_FAILED_TRANSIENTLY)),
        (0.0, 1.0, set(SMS_FAILED_PERMANENTLY)),
    ],
)
def test_shares_of_none_or_all(failed: float, failed_permanently: float, responses: set[str]) -> None:
    drawn = {
        sms_fate(3, PHONE, f"n{n}", failed=failed, failed_permanently=failed_permanently).provider_response
        for n in range(200)
    }
    assert drawn == responses


def test_a_delivered_line_is_snss_success_line() -> None:
    line = sms_status_log("34d9b400-c6dd-5444-820d-fbeb0f1f54cf", PHONE, SMS_DELIVERED, AT, delivered=True)

    assert line == {
        "notification": {
            "messageId": "34d9b400-c6dd-5444-820d-fbeb0f1f54cf",
            "timestamp": "2026-11-24 16:00:34.558",
        },
        "delivery": {
            "phoneCarrier": "My Phone Carrier",
            "mnc": 270,
            "numberOfMessageParts": 1,
            "destination": PHONE,
            "priceInUSD": 0.00645,
            "smsType": "Transactional",
            "mcc": 310,
            "providerResponse": "Message has been accepted by phone carrier",
            "dwellTimeMs": 599,
            "dwellTimeMsUntilDeviceAck": 1344,
        },
        "status": "SUCCESS",
    }


def test_a_failed_line_has_no_carrier_and_says_failure() -> None:
    line = sms_status_log("m-1", PHONE, "Invalid phone number", AT, delivered=False, parts=2)

    assert line["status"] == "FAILURE"
    delivery = line["delivery"]
    assert "phoneCarrier" not in delivery
    assert (delivery["mnc"], delivery["mcc"]) == (0, 0)
    assert delivery["providerResponse"] == "Invalid phone number"
    assert (delivery["numberOfMessageParts"], delivery["priceInUSD"]) == (2, 0.0129)


@pytest.mark.parametrize(
    ("response", "delivered", "state"),
    [
        (SMS_DELIVERED, True, DeliveryState.DELIVERED),
        *((r, False, DeliveryState.FAILED_TRANSIENT) for r in SMS_FAILED_TRANSIENTLY),
        *((r, False, DeliveryState.FAILED_PERMANENT) for r in SMS_FAILED_PERMANENTLY),
    ],
)
def test_headsup_reads_each_line_as_the_fate_drawn(
    response: str, delivered: bool, state: DeliveryState
) -> None:
    receipt = parse_sms_status(json.dumps(sms_status_log("m-1", PHONE, response, AT, delivered=delivered)))

    assert receipt.state == state
    assert receipt.provider_message_id == "m-1"
    assert receipt.at == AT.replace(microsecond=558_000)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # an extension character takes two septets
        ("€" * 81, 2),
        ("Grüße aus Köln", 1),  # all in GSM 03.38
        ("ł" * 70, 1),  # not in it: UCS-2
        ("ł" * 71, 2),
        ("ł" * 134, 2),
        ("ł" * 135, 3),
    ],
)
def test_message_parts_are_counted_as_carriers_split_them(text: str, parts: int) -> None:
    assert sms_parts(text) == parts
