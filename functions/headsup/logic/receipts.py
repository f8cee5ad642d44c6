"""Receipts: what the provider says became of a notice, recorded beside its one outcome.

SES reports each email (SesFeedbackFunction), SNS each SMS (SmsReceiptsFunction). Either way:

* the receipt is recorded as the notice's delivery state if it moves the state forward
  (DynamoFeedbackLedger.record_receipt); a receipt for a notice recorded `unconfirmed` settles
  what happened to it;
* a receipt saying the notice never arrived and never will by that channel (a permanent bounce,
  a blocked or invalid number) queues the notice's one second attempt, by the customer's other
  channel: the same request, re-checked and judged by the delivery policy like any other, so
  it is held in quiet hours and skipped when the customer has no other usable channel. Never
  for a team notice, never for a second attempt, never twice (see start_fallback).
"""

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from headsup.adapters.notice_queue import NoticeQueue
from headsup.adapters.receipt_ledger import ReceiptRecorded
from headsup.domain.notices import NoticeRequest
from headsup.domain.receipts import Receipt
from headsup.platform.observability import logger, metrics


class ReceiptLedger(Protocol):
    def record_receipt(self, receipt: Receipt) -> ReceiptRecorded: ...

    def notice_for_sms(self, sms_message_id: str) -> str | None: ...

    def start_fallback(self, receipt: Receipt, *, now: datetime) -> NoticeRequest | None: ...


class ReceiptRecorder:
    def __init__(
        self,
        *,
        ledger: ReceiptLedger,
        queue: NoticeQueue,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ledger = ledger
        self._queue = queue
        self._clock = clock

    def record_email(self, receipt: Receipt) -> ReceiptRecorded:
        """An SES event, matched to its notice by the notice id the email carried."""
        return self._record(receipt, channel="email")

    def record_sms(self, receipt: Receipt) -> ReceiptRecorded:
        """An SNS delivery status, matched to its notice by the SNS message id delivery recorded."""
        notice_id = self._ledger.notice_for_sms(receipt.provider_message_id)
        return self._record(dataclasses.replace(receipt, notice_id=notice_id), channel="sms")

    def _record(self, receipt: Receipt, *, channel: str) -> ReceiptRecorded:
        result = self._ledger.record_receipt(receipt)
        ids = {
            "provider_message_id": receipt.provider_message_id,
            "notice_id": receipt.notice_id,
            "channel": channel,
            "delivery_state": receipt.state,
            "delivery_detail": receipt.detail,
            "result": result,
        }
        # ReceiptsDelivered, SmsReceiptsFailedPermanent...: what the delivery-rate alarms read.
        prefix = "Receipts" if channel == "email" else "SmsReceipts"
        if result is ReceiptRecorded.UNKNOWN:
            logger.warning("Receipt for no notice in the ledger; dropped", extra=ids)
            metrics.add_metric(name=f"{prefix}Unattributed", unit="Count", value=1)
            return result
        logger.info("Receipt recorded", extra=ids)
        if result is not ReceiptRecorded.KEPT:
            metrics.add_metric(name=prefix + receipt.metric_suffix, unit="Count", value=1)
            if receipt.never_arrived or receipt.state.startswith("failed:"):
                metrics.add_metric(name=f"{prefix}Failed", unit="Count", value=1)
        if result is ReceiptRecorded.RESOLVED:
            # An `unconfirmed` notice settled: UnconfirmedNoticesAlarm will not count it.
            metrics.add_metric(name="UnconfirmedResolved", unit="Count", value=1)
        if receipt.never_arrived:
            # Also when KEPT: a retry after this invocation died between the two writes.
            self._fall_back(receipt)
        return result

    def _fall_back(self, receipt: Receipt) -> None:
        second = self._ledger.start_fallback(receipt, now=self._clock())
        if second is None:
            return
        self._queue.put(second)
        logger.info(
            "Second attempt queued by the other channel",
            extra={"notice_id": receipt.notice_id, "fallback_notice_id": second.notice_id},
        )
        metrics.add_metric(name="NoticeFallbacks", unit="Count", value=1)


# What UnconfirmedNoticesAlarm watches.
UNRESOLVED_METRIC = "UnconfirmedUnresolved"


class UnresolvedNotices(Protocol):
    def past_window(self, now: datetime, limit: int = 100) -> list[str]: ...

    def count_once(self, notice_id: str, now: datetime) -> bool: ...


def count_unresolved(notices: UnresolvedNotices, now: datetime) -> int:
    """Count, once each, the `unconfirmed` notices no receipt settled within their window: what
    UnconfirmedNoticesAlarm fires on. Their ids are logged for the operator to look into."""
    counted = 0
    for notice_id in notices.past_window(now):
        if notices.count_once(notice_id, now):
            logger.warning(
                "Unconfirmed notice unresolved after its receipt window", extra={"notice_id": notice_id}
            )
            counted += 1
    if counted:
        metrics.add_metric(name=UNRESOLVED_METRIC, unit="Count", value=counted)
    return counted
