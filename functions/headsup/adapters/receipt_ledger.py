"""NoticeLedgerTable as the receipts functions and the sweep use it: what the providers said
became of each notice, its second attempt, and the `unconfirmed` notices no receipt settled.

These functions may only UpdateItem the ledger (and Query its indexes), so every write here is
one conditional UpdateItem that also returns what the caller needs.
"""

from contextlib import suppress
from datetime import datetime
from enum import StrEnum

from headsup.adapters.dynamodb import ConditionFailed, DynamoTable, Update, to_item, to_python
from headsup.adapters.ledger import UNRESOLVED, Status, unpack_request
from headsup.domain.notices import NoticeRequest, fallback_notice_id
from headsup.domain.receipts import Receipt

_STATUS = {"#status": "status"}


class ReceiptRecorded(StrEnum):
    MOVED = "moved"  # the notice's delivery state is now the receipt's
    RESOLVED = "resolved"  # ... and the notice was `unconfirmed`: the receipt says what became of it
    KEPT = "kept"  # the notice already had this state or a later one
    UNKNOWN = "unknown"  # no notice of ours: nothing written


class DynamoFeedbackLedger(DynamoTable):
    """The one write this function makes to NoticeLedgerTable.

    One conditional UpdateItem both records the feedback and returns the item's customer id:
    the function may only UpdateItem the ledger (template.yaml), and the condition keeps it from
    creating an item for a notice the ledger does not hold (expired, or never ours).
    """

    def record_receipt(self, receipt: Receipt) -> ReceiptRecorded:
        """Record the receipt's delivery state beside the notice's outcome, if it ranks above the
        state already recorded: a late or replayed receipt never moves the state back. Every state
        seen is kept too (`delivery_seen`)."""
        if receipt.notice_id is None:
            return ReceiptRecorded.UNKNOWN
        update = Update(
            sets=["delivery_state = :state", "delivery_rank = :rank", "delivery_at = :at"],
            adds=["delivery_seen :seen"],
            values={
                ":state": receipt.state,
                ":rank": receipt.rank,
                ":at": receipt.at.isoformat(),
                ":seen": {receipt.state.value},
            },
        )
        if receipt.detail is not None:
            update.sets.append("delivery_detail = :detail")
            update.values[":detail"] = receipt.detail
        if receipt.never_arrived:
            # Out of ToldIndex: the customer was never told this, so a later correction or a
            # second attempt must not assume they were.
            update.removes.append("told_key")
        condition = (
            "attribute_exists(notice_id) AND (attribute_not_exists(delivery_rank) OR delivery_rank < :rank)"
        )
        try:
            item = self._update(
                {"notice_id": receipt.notice_id},
                update,
                ConditionExpression=condition,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as failed:
            # The item as it was comes back with the failure: none means no such notice. (This
            # function may only UpdateItem the ledger, so it cannot read it otherwise.)
            return ReceiptRecorded.UNKNOWN if failed.item is None else ReceiptRecorded.KEPT
        if item.get("status") == Status.UNCONFIRMED and receipt.settles:
            return self._resolve_unconfirmed(receipt)
        return ReceiptRecorded.MOVED

    def _resolve_unconfirmed(self, receipt: Receipt) -> ReceiptRecorded:
        """The provider's word on a notice whose send headsup could not confirm: it did go out, and
        this is what became of it. The outcome stays `unconfirmed` (what delivery knew); the
        receipt is its evidence."""
        update = Update(
            sets=["resolved_by_receipt = :state", "resolved_at = :at"],
            removes=["unresolved"],  # out of UnresolvedIndex: the alarm no longer counts it
            values={
                ":state": receipt.state,
                ":at": receipt.at.isoformat(),
                ":unconfirmed": Status.UNCONFIRMED,
            },
            names=dict(_STATUS),
        )
        with suppress(ConditionFailed):
            self._update(
                {"notice_id": receipt.notice_id or ""},
                update,
                ConditionExpression="#status = :unconfirmed AND attribute_not_exists(resolved_by_receipt)",
            )
            return ReceiptRecorded.RESOLVED
        return ReceiptRecorded.MOVED

    def notice_for_sms(self, sms_message_id: str) -> str | None:
        """The notice whose SMS SNS accepted as `sms_message_id` (SmsMessageIndex)."""
        response = self._client.query(
            TableName=self._table,
            IndexName="SmsMessageIndex",
            KeyConditionExpression="sms_message_id = :id",
            ExpressionAttributeValues=to_item({":id": sms_message_id}),
            Limit=1,
        )
        items = [to_python(item) for item in response.get("Items", [])]
        return str(items[0]["notice_id"]) if items else None

    def start_fallback(self, receipt: Receipt, *, now: datetime) -> NoticeRequest | None:
        """Mark the notice's second attempt and return it, or None if it may not have one: a
        team notice or one sent before notices kept their request (no `notice_request`), a second
        attempt itself, or one whose second attempt already has its outcome.

        Until then a repeated report returns the same request again (same id): if the first
        report's invocation died before queueing it, the retry still does, and delivery's claim
        keeps a duplicate from going twice.
        """
        first = receipt.notice_id or ""
        update = Update(
            sets=[
                "fallback_notice_id = :second",
                "fallback_reason = if_not_exists(fallback_reason, :reason)",
                "fallback_at = if_not_exists(fallback_at, :now)",
            ],
            values={
                ":second": fallback_notice_id(first),
                ":reason": receipt.state.value,
                ":now": now.isoformat(),
                ":email": "email",
                ":sms": "sms",
            },
        )
        condition = (
            "attribute_exists(notice_request) AND attribute_not_exists(fallback_of)"
            " AND attribute_not_exists(fallback_status) AND (channel = :email OR channel = :sms)"
        )
        try:
            item = self._update(
                {"notice_id": first}, update, ConditionExpression=condition, ReturnValues="ALL_NEW"
            )
        except ConditionFailed:
            return None
        return unpack_request(item["notice_request"]).fallback(item["channel"], item["fallback_reason"])

    def record_feedback(self, notice_id: str, *, feedback: str, at: datetime) -> str | None:
        # `status` is not touched: the notice was sent; the feedback sits beside that outcome.
        # Every kind seen is kept too, so a late transient bounce does not hide an earlier
        # complaint. The same event twice (SNS at-least-once, a retried invocation) writes the
        # same values.
        update = Update(
            sets=["feedback = :feedback", "feedback_at = :at"],
            adds=["feedback_seen :seen"],
            values={":feedback": feedback, ":at": at.isoformat(), ":seen": {feedback}},
        )
        try:
            item = self._update(
                {"notice_id": notice_id},
                update,
                ConditionExpression="attribute_exists(notice_id)",
                ReturnValues="ALL_NEW",
            )
        except ConditionFailed:
            return None
        return item.get("customer_id") or None


class DynamoUnresolvedNotices(DynamoTable):
    """UnresolvedIndex: notices recorded `unconfirmed` that no receipt has settled."""

    def past_window(self, now: datetime, limit: int = 100) -> list[str]:
        """Those whose receipt window ended by `now`, oldest first."""
        response = self._client.query(
            TableName=self._table,
            IndexName="UnresolvedIndex",
            KeyConditionExpression="unresolved = :unresolved AND receipt_due_at <= :now",
            ExpressionAttributeValues=to_item({":unresolved": UNRESOLVED, ":now": now.isoformat()}),
            Limit=limit,
        )
        return [str(to_python(item)["notice_id"]) for item in response.get("Items", [])]

    def count_once(self, notice_id: str, now: datetime) -> bool:
        """Take it out of the index, marked as counted; False if a receipt settled it meanwhile
        (or another sweep counted it)."""
        update = Update(
            sets=["unresolved_counted_at = :now"],
            removes=["unresolved"],
            values={":now": now.isoformat(), ":unresolved": UNRESOLVED},
        )
        try:
            self._update({"notice_id": notice_id}, update, ConditionExpression="unresolved = :unresolved")
        except ConditionFailed:
            return False
        return True
