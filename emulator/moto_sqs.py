"""moto's SQS without a scan of the whole queue for every message sent, nor a clock read per
message for every receive.

Before it accepts a message, moto checks the message against the queue's retention period by
computing *every* queue attribute, `ApproximateNumberOfMessages` and the others included, each a
pass over all the queue's messages. A queue holding thousands of messages (a burst waiting for the
sending rate, a billing run) then costs thousands of checks per SendMessage: quadratic, minutes for
a 2,000-notice load test. Here the check reads the retention period alone. And the queue's list of
receivable messages reads the clock once, not twice per message. What either decides is the same.
"""

from typing import Any

from moto.core.utils import unix_time, unix_time_millis
from moto.sqs.models import Queue, SQSBackend


def _within_retention(self: SQSBackend, queue_name: str, message: Any) -> bool:
    retention_period = int(self.get_queue(queue_name).message_retention_period)
    return bool(retention_period + message.sent_timestamp / 1000 > unix_time())


def _receivable(self: Queue) -> list[Any]:
    """moto's `Queue.messages`: visible and not delayed, at one reading of the clock."""
    now = unix_time_millis()
    return [
        message for message in self._messages if now > message.visible_at and now >= message.delayed_until
    ]


def install() -> None:
    """Idempotent: every local run uses it."""
    SQSBackend.is_message_valid_based_on_retention_period = _within_retention  # type: ignore[method-assign]
    Queue.messages = property(_receivable)  # type: ignore[assignment,method-assign]
