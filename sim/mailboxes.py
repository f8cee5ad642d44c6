"""The customers' mail servers and phones: what became of each email SES accepted and each SMS SNS
accepted, reported back as SES and SNS would.

moto accepts emails but never publishes SES's events, so the simulated day does: each email SES
accepted is delivered a moment later, a seeded few only after a delay (a full mailbox), and a
seeded few bounce for good (the address no longer exists). Each report goes, in the JSON shape
SES's event publishing writes, through SesFeedbackTopic to SesFeedbackFunction, as in AWS.

moto accepts SMS but never logs their delivery status either: each SMS is reported delivered, or
for a seeded few failed for now (the phone is off) or for good (the carrier blocks it, the number
does not exist), in the delivery-status log line SNS writes, through the log group SNS writes it to
(DirectPublishToPhoneNumber, or .../Failure) and its subscription to SmsReceiptsFunction.

Each draw is made from the run's seed and something the run itself decides (the notice's id for an
email, the phone and text for an SMS), never the provider's message id, which moto makes random: so
the same run reports the same things.
"""

import json
import math
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from emulator.providers import SentEmail, SentSms
    from sim.pipeline import LocalPipeline

NOTICE_HEADER = "X-Headsup-Notice-Id"

# SNS's providerResponse texts, as headsup.domain.sms_receipts tells permanent failures from the rest.
SMS_DELIVERED: Final = "Message has been accepted by phone carrier"
SMS_FAILED_TRANSIENTLY: Final = ("Phone is currently unreachable/unavailable",)
SMS_FAILED_PERMANENTLY: Final = ("Phone carrier has blocked this message", "Invalid phone number")

# GSM 03.38: an SMS wholly in it is sent 7-bit (160 characters, 153 a part when split; an extension
# character takes two), anything else UCS-2 (70, 67 a part).
_GSM7: Final = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION: Final = "\f^{}\\[~]|€"


class Mailboxes:
    """The recipients' side of every send: mail servers for email, phones for SMS."""

    def __init__(  # noqa: PLR0913 - one share per fate, each with its default
        self,
        pipeline: "LocalPipeline",
        *,
        seed: int,
        delayed: float = 0.08,
        bounced: float = 0.02,
        sms_failed: float = 0.05,
        sms_failed_permanently: float = 0.03,
    ) -> None:
        self._pipeline = pipeline
        self._seed = seed
        self._delayed = delayed
        self._bounced = bounced
        self._sms_failed = sms_failed
        self._sms_failed_permanently = sms_failed_permanently
        self._reported: set[str] = set()
        self._reported_sms: set[str] = set()
        # How often each (phone, text) was reported on: the same text sent again draws afresh.
        self._sms_seen: Counter[tuple[str, str]] = Counter()

    def report(self) -> int:
        """Report what became of every email and SMS accepted since the last call; returns how many."""
        return self._report_emails() + self._report_sms()

    def _report_emails(self) -> int:
        # Imported here: the fate draws and log builders are pure, and the unit tier uses them without moto.
        from emulator import sent_emails

        fresh = [
            e for e in sent_emails(self._pipeline.deployment.region) if e.message_id not in self._reported
        ]
        for email in fresh:
            self._reported.add(email.message_id)
            for event in self._fate(email):
                self._pipeline.ses_feedback.deliver(json.dumps(event))
        return len(fresh)

    def _report_sms(self) -> int:
        from emulator import sent_sms

        fresh = [
            s for s in sent_sms(self._pipeline.deployment.region) if s.message_id not in self._reported_sms
        ]
        now = datetime.now(UTC)
        delivered: list[str] = []
        failed: list[str] = []
        for sms in fresh:
            self._reported_sms.add(sms.message_id)
            line = self._sms_line(sms, now)
            (delivered if line["status"] == "SUCCESS" else failed).append(json.dumps(line))
        # One batch per group, as a subscription hands on what was written since its last delivery.
        if delivered:
            self._pipeline.sms_delivered.deliver(delivered)
        if failed:
            self._pipeline.sms_failed.deliver(failed)
        return len(fresh)

    def _sms_line(self, sms: "SentSms", now: datetime) -> dict[str, Any]:
        key = (sms.phone_number, sms.message)
        fate = sms_fate(
            self._seed,
            *key,
            occurrence=self._sms_seen[key],
            failed=self._sms_failed,
            failed_permanently=self._sms_failed_permanently,
        )
        self._sms_seen[key] += 1
        return sms_status_log(
            sms.message_id,
            sms.phone_number,
            fate.provider_response,
            now,
            delivered=fate.delivered,
            parts=sms_parts(sms.message),
        )

    def _fate(self, email: "SentEmail") -> list[dict[str, Any]]:
        # By the notice, not SES's message id (random in moto): the same run draws the same fates.
        notice_id = email.message[NOTICE_HEADER] if email.message is not None else email.message_id
        roll = random.Random(f"{self._seed}/{notice_id}").random()  # noqa: S311 - simulation
        now = datetime.now(UTC)
        if roll < self._bounced:
            return [ses_event("Bounce", email, now)]
        if roll < self._bounced + self._delayed:
            return [
                ses_event("DeliveryDelay", email, now),
                ses_event("Delivery", email, now + timedelta(minutes=20)),
            ]
        return [ses_event("Delivery", email, now + timedelta(seconds=2))]


@dataclass(frozen=True)
class SmsFate:
    delivered: bool
    provider_response: str


def sms_fate(  # noqa: PLR0913 - the draw's key, then its shares
    seed: int, phone: str, text: str, *, occurrence: int = 0, failed: float, failed_permanently: float
) -> SmsFate:
    """What becomes of an SMS: failed for good with share `failed_permanently`, failed for now with
    share `failed`, else delivered; drawn from the run's seed, the phone and text, and how many times
    that text went to that phone before."""
    draw = random.Random(f"{seed}/{phone}/{text}/{occurrence}")  # noqa: S311 - simulation
    roll = draw.random()
    if roll < failed_permanently:
        return SmsFate(delivered=False, provider_response=draw.choice(SMS_FAILED_PERMANENTLY))
    if roll < failed_permanently + failed:
        return SmsFate(delivered=False, provider_response=draw.choice(SMS_FAILED_TRANSIENTLY))
    return SmsFate(delivered=True, provider_response=SMS_DELIVERED)


def sms_parts(text: str) -> int:
    """How many message parts the carrier sends `text` in (SNS reports, and charges, each)."""
    if all(c in _GSM7 or c in _GSM7_EXTENSION for c in text):
        units, single, part = len(text) + sum(c in _GSM7_EXTENSION for c in text), 160, 153
    else:
        units, single, part = len(text.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else math.ceil(units / part)


def sms_status_log(  # noqa: PLR0913 - the line's fields
    message_id: str,
    phone: str,
    provider_response: str,
    at: datetime,
    *,
    delivered: bool,
    parts: int = 1,
) -> dict[str, Any]:
    """SNS's SMS delivery-status log line for the SMS SNS accepted as `message_id` at `at`.

    The carrier, network codes, price and dwell times are those of SNS's documented example lines.
    """
    utc = at.astimezone(UTC)
    stamp = f"{utc:%Y-%m-%d %H:%M:%S}.{utc.microsecond // 1000:03d}"
    carrier: dict[str, Any] = {"phoneCarrier": "My Phone Carrier", "mnc": 270} if delivered else {"mnc": 0}
    delivery = carrier | {
        "numberOfMessageParts": parts,
        "destination": phone,
        "priceInUSD": round(0.00645 * parts, 5),
        "smsType": "Transactional",
        "mcc": 310 if delivered else 0,
        "providerResponse": provider_response,
        "dwellTimeMs": 599 if delivered else 1420,
        "dwellTimeMsUntilDeviceAck": 1344 if delivered else 1692,
    }
    return {
        "notification": {"messageId": message_id, "timestamp": stamp},
        "delivery": delivery,
        "status": "SUCCESS" if delivered else "FAILURE",
    }


def ses_event(event_type: str, email: "SentEmail", at: datetime) -> dict[str, Any]:
    """SES's event-publishing record for `email` (the fields SesFeedbackFunction reads, and more)."""
    notice_id = email.message[NOTICE_HEADER] if email.message is not None else None
    stamp = at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    mail: dict[str, Any] = {
        "timestamp": stamp,
        "source": email.source,
        "messageId": email.message_id,
        "destination": email.destinations,
        "headersTruncated": False,
        "headers": [{"name": NOTICE_HEADER, "value": notice_id}] if notice_id else [],
        "tags": {"notice_id": [notice_id]} if notice_id else {},
    }
    recipients = [{"emailAddress": address} for address in email.destinations]
    details: dict[str, dict[str, Any]] = {
        "Delivery": {
            "delivery": {"timestamp": stamp, "recipients": email.destinations, "smtpResponse": "250 OK"}
        },
        "DeliveryDelay": {
            "deliveryDelay": {
                "timestamp": stamp,
                "delayType": "MailboxFull",
                "delayedRecipients": [{**r, "status": "4.2.2"} for r in recipients],
            }
        },
        "Bounce": {
            "bounce": {
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [{**r, "action": "failed", "status": "5.1.1"} for r in recipients],
                "timestamp": stamp,
            }
        },
    }
    return {"eventType": event_type, "mail": mail, **details[event_type]}
