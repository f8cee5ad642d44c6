"""Turn one change on BillsTable into at most one bill-increase notice request."""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from headsup.adapters.bills import BillsRepository
from headsup.adapters.notice_queue import NoticeQueue
from headsup.domain.bills.models import Bill, InvalidBill
from headsup.domain.bills.rules import Thresholds, detect_increase
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest
from headsup.platform.batch import ChangeKind, StreamChange
from headsup.platform.observability import logger, metrics


class BillIncreaseDetector:
    def __init__(self, bills: BillsRepository, queue: NoticeQueue, thresholds: Thresholds) -> None:
        self._bills = bills
        self._queue = queue
        self._thresholds = thresholds

    def prefetch_baselines(self, changes: Iterable[StreamChange]) -> None:
        """Read at once the earlier bills a batch compares with (see _baseline): those of its new
        bills, and of its changed bills that come without their old version."""
        images = [c.new_image for c in changes if c.change != "REMOVE" and not c.old_image]
        self._bills.prefetch(
            (image["customer_id"], image["period"])
            for image in images
            if isinstance(image.get("customer_id"), str) and isinstance(image.get("period"), str)
        )

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
        # A MODIFY that keeps the amount (a new due date, reworded items) compares equal and
        # raises nothing.
        previous = self._baseline(change, current, old_image)
        payload = detect_increase(previous, current, self._thresholds)
        if payload is None or previous is None:
            return None
        request = NoticeRequest.about(
            current,
            NoticeKind.BILL_INCREASE,
            previous.period,
            previous.amount,
            current.amount,
            current.currency,
            detected_at=datetime.now(UTC),
            payload=payload,
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

    def _baseline(self, change: ChangeKind, current: Bill, old_image: dict[str, Any] | None) -> Bill | None:
        """What `current` is compared with: its own old version for a correction, else the
        customer's latest earlier bill."""
        key = {"customer_id": current.customer_id, "period": current.period}
        if change == "MODIFY" and old_image:
            try:
                return Bill.from_item(old_image)
            except InvalidBill:
                # The business is fixing a record that broke the contract. Its old version was
                # never compared with anything, so compare the fixed bill as if it were new.
                logger.info("Bill fixed; comparing with the earlier period", extra={"key": key})
        try:
            return self._bills.previous_bill(current.customer_id, current.period)
        except InvalidBill as exc:
            # That record already failed on its own when it was written; holding this (valid)
            # bill hostage to it would block the shard for nothing.
            logger.warning(
                "Earlier bill breaks the contract; not compared",
                extra={"key": key, "earlier_key": exc.key, "problems": exc.problems},
            )
            return None
