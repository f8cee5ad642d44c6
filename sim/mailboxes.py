"""The customers' mail servers: what became of each email SES accepted, reported back as SES would.

moto accepts emails but never publishes SES's events, so the simulated day does: each email SES
accepted is delivered a moment later, a seeded few only after a delay (a full mailbox), and a
seeded few bounce for good (the address no longer exists). Each report goes, in the JSON shape
SES's event publishing writes, through SesFeedbackTopic to SesFeedbackFunction, as in AWS. The
draw is made per message from the run's seed and the notice's id, so the same run reports the
same things.
"""

import json
import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from emulator import sent_emails

if TYPE_CHECKING:
    from emulator.providers import SentEmail
    from sim.pipeline import LocalPipeline

NOTICE_HEADER = "X-Headsup-Notice-Id"


class Mailboxes:
    def __init__(
        self, pipeline: "LocalPipeline", *, seed: int, delayed: float = 0.08, bounced: float = 0.02
    ) -> None:
        self._pipeline = pipeline
        self._seed = seed
        self._delayed = delayed
        self._bounced = bounced
        self._reported: set[str] = set()

    def report(self) -> int:
        """Report what became of every email accepted since the last call; returns how many."""
        fresh = [
            e for e in sent_emails(self._pipeline.deployment.region) if e.message_id not in self._reported
        ]
        for email in fresh:
            self._reported.add(email.message_id)
            for event in self._fate(email):
                self._pipeline.ses_feedback.deliver(json.dumps(event))
        return len(fresh)

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
