"""Turn one change on BillsTable into the bill notices it calls for: an increase worth telling, and,
when a bill is corrected, a correction of what the customer may already have been told."""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from headsup.adapters.bills import BillsRepository
from headsup.adapters.notice_queue import NoticeQueue
from headsup.domain.assertions import Told
from headsup.domain.bills.models import Bill, InvalidBill
from headsup.domain.bills.rules import Thresholds, correction_notice, increase_notice
from headsup.domain.notices import NoticeRequest
from headsup.platform.batch import ChangeKind, StreamChange
from headsup.platform.observability import logger, metrics


class BillIncreaseDetector:
    def __init__(self, bills: BillsRepository, queue: NoticeQueue, thresholds: Thresholds) -> None:
        self._bills = bills
        self._queue = queue
        self._thresholds = thresholds

    def prefetch_baselines(self, changes: Iterable[StreamChange]) -> None:
        """Read at once the earlier bills a batch compares with: every new or changed bill is
        judged against the customer's latest earlier bill (see on_bill_change)."""
        images = [c.new_image for c in changes if c.change != "REMOVE"]
        self._bills.prefetch(
            (image["customer_id"], image["period"])
            for image in images
            if isinstance(image.get("customer_id"), str) and isinstance(image.get("period"), str)
        )

    def on_bill_change(
        self, change: ChangeKind, new_image: dict[str, Any], old_image: dict[str, Any] | None
    ) -> list[NoticeRequest]:
        """Put the notices this change calls for in the queue; return them.

        A new bill is compared with the customer's latest earlier bill. A bill whose amount was
        corrected gets two candidates, of which delivery lets at most one go, by what reached the
        customer before (domain/assertions.py): a correction naming the figure they were given,
        if they were given one; otherwise the bill judged afresh, with the right figures. Raises
        InvalidBill for a record that breaks the contract.
        """
        if change == "REMOVE":
            return []
        current = Bill.from_item(new_image)
        before = self._old_version(change, current, old_image)
        if before is None:
            notices = [self._increase(current, None, Told.ANY)]
        elif (before.amount, before.currency) == (current.amount, current.currency):
            # A new due date or reworded items: nothing a bill notice states has changed.
            return []
        else:
            notices = [self._increase(current, before, Told.FIRST), self._correction(before, current)]
        queued = [notice for notice in notices if notice is not None]
        for request in queued:
            self._queue.put(request)
            # DEBUG: the queue logs one line per batch; delivery one outcome line per notice.
            logger.debug(
                "Bill notice put",
                extra={
                    "notice_id": request.notice_id,
                    "kind": request.kind,
                    "customer_id": current.customer_id,
                    "period": current.period,
                },
            )
        if queued:
            metrics.add_metric(name="NoticesDetected", unit="Count", value=len(queued))
        return queued

    def _increase(self, current: Bill, before: Bill | None, told: Told) -> NoticeRequest | None:
        """The bill against the customer's latest earlier one; a corrected bill that is no rise
        on that, against its own old version (it went up since the customer saw it)."""
        now = datetime.now(UTC)
        fresh = increase_notice(
            self._previous(current), current, self._thresholds, detected_at=now, told=told
        )
        if fresh is None and before is not None:
            return increase_notice(before, current, self._thresholds, detected_at=now, told=told)
        return fresh

    @staticmethod
    def _correction(before: Bill, current: Bill) -> NoticeRequest | None:
        return correction_notice(before, current, detected_at=datetime.now(UTC))

    @staticmethod
    def _old_version(change: ChangeKind, current: Bill, old_image: dict[str, Any] | None) -> Bill | None:
        if change != "MODIFY" or not old_image:
            return None
        try:
            return Bill.from_item(old_image)
        except InvalidBill:
            # The business is fixing a record that broke the contract. Its old version was never
            # told to anyone, so judge the fixed bill as if it were new.
            key = {"customer_id": current.customer_id, "period": current.period}
            logger.info("Bill fixed; judged as a new bill", extra={"key": key})
            return None

    def _previous(self, current: Bill) -> Bill | None:
        try:
            return self._bills.previous_bill(current.customer_id, current.period)
        except InvalidBill as exc:
            # That record already failed on its own when it was written; holding this (valid)
            # bill hostage to it would block the shard for nothing.
            key = {"customer_id": current.customer_id, "period": current.period}
            logger.warning(
                "Earlier bill breaks the contract; not compared",
                extra={"key": key, "earlier_key": exc.key, "problems": exc.problems},
            )
            return None
