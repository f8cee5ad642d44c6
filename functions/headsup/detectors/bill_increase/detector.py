"""Turn one change on BillsTable into at most one bill-increase notice request."""

from datetime import UTC, datetime
from typing import Any, Literal

from headsup.detectors.bill_increase.bills_repository import BillsRepository
from headsup.detectors.bill_increase.models import Bill
from headsup.detectors.bill_increase.rules import Thresholds, detect_increase
from headsup.notices import NoticeKind, NoticeRequest, make_notice_id
from headsup.notices.queue import NoticeQueue
from headsup.shared.observability import logger, metrics

ChangeKind = Literal["INSERT", "MODIFY", "REMOVE"]


class BillIncreaseDetector:
    def __init__(self, bills: BillsRepository, queue: NoticeQueue, thresholds: Thresholds) -> None:
        self._bills = bills
        self._queue = queue
        self._thresholds = thresholds

    def on_bill_change(
        self, change: ChangeKind, new_image: dict[str, Any], old_image: dict[str, Any] | None
    ) -> NoticeRequest | None:
        """Queue a notice if this change made the bill go up enough; return what was queued.

        A new bill is compared with the customer's latest earlier bill; a corrected bill with
        its own previous version. Raises InvalidBill for a record that breaks the contract.
        """
        if change == "REMOVE":
            return None
        current = Bill.from_item(new_image)
        if change == "MODIFY":
            previous = Bill.from_item(old_image) if old_image else None
            if previous is not None and previous.amount == current.amount:
                return None  # a change to other fields (due date, items) is not an increase
        else:
            previous = self._bills.previous_bill(current.customer_id, current.period)

        payload = detect_increase(previous, current, self._thresholds)
        if payload is None or previous is None:
            return None
        request = NoticeRequest(
            notice_id=make_notice_id(
                NoticeKind.BILL_INCREASE,
                current.customer_id,
                current.period,
                previous.period,
                previous.amount,
                current.amount,
                current.currency,
            ),
            kind=NoticeKind.BILL_INCREASE,
            customer_id=current.customer_id,
            detected_at=datetime.now(UTC),
            payload=payload.model_dump(mode="json"),
        )
        self._queue.put(request)
        logger.info(
            "Bill increase queued",
            extra={
                "notice_id": request.notice_id,
                "customer_id": current.customer_id,
                "period": current.period,
                "is_correction": payload.is_correction,
            },
        )
        metrics.add_metric(name="NoticesDetected", unit="Count", value=1)
        return request
