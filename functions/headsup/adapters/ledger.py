"""NoticeLedgerTable: the idempotency claim on a notice and then its one recorded outcome.

A notice moves `in_progress` -> `sent` | `skipped` | `failed` | `unconfirmed` | `dead_lettered`
| `held`. The first four are settled and never overwritten. `dead_lettered` is final for the queue but not for
the notice: when an operator redrives it from the dead-letter queue (after fixing what was wrong),
it may be claimed again, since it was never delivered. `held` (quiet hours, frequency cap) is
claimed again when the sweep releases it at `hold_until`.

The claim is a conditional write, so of two copies of the same SQS message (or a replayed
stream record) only one can be sending at a time, and once an outcome is settled every later
copy is acknowledged without sending.

The claim is taken only once the notice is ready to go, and says what its holder is about
to do (`intent`). It has a lease that outlives the invocation holding it. If that invocation
dies without recording an outcome (a timeout, out of memory), a redelivery after the lease
looks at the intent: a holder that was only recording a decision is taken over and the work
redone; a holder that was *sending* may have been answered by SES/SNS just before it died, so
the notice is settled as `unconfirmed` instead of being sent again. See docs/decisions.md.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, cast

import boto3
from botocore.exceptions import ClientError

from headsup.domain.notices import NoticeRequest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class Status(StrEnum):
    IN_PROGRESS = "in_progress"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"
    DEAD_LETTERED = "dead_lettered"
    HELD = "held"  # by the delivery policy, until `hold_until`; then delivered again
    # The send was under way when its invocation died or lost its connection: the provider
    # may or may not have accepted it. Never sent again (that could be a duplicate).
    UNCONFIRMED = "unconfirmed"


# Outcomes after which a copy of the notice is acknowledged without sending.
SETTLED_STATUSES = frozenset({Status.SENT, Status.SKIPPED, Status.FAILED, Status.UNCONFIRMED})


class Intent(StrEnum):
    """What the holder of a claim is about to do, so a successor knows what a crash may have left."""

    SEND = "send"  # call SES/SNS
    RECORD = "record"  # only record a decision (skip, hold, failure): safe to redo


@dataclass(frozen=True)
class Outcome:
    status: Status
    reason: str | None = None
    channel: str | None = None
    provider_message_id: str | None = None
    hold_until: datetime | None = None
    counts_towards_cap: bool = False  # a notice that reached a customer (not the team)


@dataclass(frozen=True)
class Claim:
    notice_id: str
    token: str
    attempt: int


class AlreadyRecorded(Exception):
    def __init__(self, notice_id: str, status: Status) -> None:
        self.notice_id = notice_id
        self.status = status
        super().__init__(f"notice {notice_id} already has outcome {status}")


class ClaimHeld(RuntimeError):
    """Another invocation is delivering this notice right now; try again later."""


class ClaimLost(RuntimeError):
    """Our lease expired and another invocation took the notice over before we recorded."""


class UnfinishedSend(RuntimeError):
    """An earlier invocation began sending this notice and died before recording the answer."""

    def __init__(self, notice_id: str, channel: str | None) -> None:
        self.notice_id = notice_id
        self.channel = channel
        super().__init__(f"notice {notice_id}: an earlier attempt died while sending")


UNFINISHED_SEND_REASON = "the attempt that was sending it ended before the provider's answer was recorded"


class Ledger(Protocol):
    def claim(
        self,
        request: NoticeRequest,
        *,
        now: datetime,
        lease_until: datetime,
        intent: Intent,
        channel: str | None = None,
    ) -> Claim: ...

    def record(self, claim: Claim, outcome: Outcome, *, now: datetime) -> None: ...

    def settle_unfinished(self, unfinished: UnfinishedSend, *, now: datetime) -> None: ...

    def release(self, claim: Claim, *, error: str, now: datetime) -> None: ...

    def recent_sends(self, customer_id: str, since: datetime) -> list[datetime]: ...


class DynamoLedger:
    def __init__(self, table_name: str, retention: timedelta, client: "DynamoDBClient | None" = None) -> None:
        self.table_name = table_name
        self.retention = retention
        self.client = client or boto3.client("dynamodb")

    def claim(
        self,
        request: NoticeRequest,
        *,
        now: datetime,
        lease_until: datetime,
        intent: Intent,
        channel: str | None = None,
    ) -> Claim:
        token = secrets.token_hex(8)
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key={"notice_id": {"S": request.notice_id}},
                UpdateExpression=(
                    "SET #status = :in_progress, claim_token = :token, lease_until = :lease,"
                    " kind = :kind, customer_id = :customer, topic = :topic,"
                    " detected_at = :detected, created_at = if_not_exists(created_at, :now),"
                    " updated_at = :now, expires_at = :expires, intent = :intent, channel = :channel"
                    " ADD attempts :one"
                ),
                # Free, released after a definite failure (lease 0), or left by a holder that
                # died while only recording a decision. Never from a holder that was sending.
                ConditionExpression=(
                    "attribute_not_exists(notice_id)"
                    " OR #status = :dead_lettered OR #status = :held"
                    " OR (#status = :in_progress AND (lease_until = :released"
                    " OR (lease_until < :now_epoch AND intent = :record)))"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":in_progress": {"S": Status.IN_PROGRESS},
                    ":dead_lettered": {"S": Status.DEAD_LETTERED},
                    ":held": {"S": Status.HELD},
                    ":released": {"N": "0"},
                    ":record": {"S": Intent.RECORD},
                    ":intent": {"S": intent},
                    ":channel": {"S": channel} if channel else {"NULL": True},
                    ":token": {"S": token},
                    ":lease": {"N": str(int(lease_until.timestamp()))},
                    ":now_epoch": {"N": str(int(now.timestamp()))},
                    ":kind": {"S": request.kind},
                    ":customer": {"S": request.customer_id},
                    ":topic": {"S": request.topic},
                    ":detected": {"S": request.detected_at.isoformat()},
                    ":now": {"S": now.isoformat()},
                    ":expires": {"N": str(int((now + self.retention).timestamp()))},
                    ":one": {"N": "1"},
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            existing = self._existing(exc, request.notice_id) or {}
            status = Status(existing["status"]["S"]) if "status" in existing else Status.IN_PROGRESS
            if status in SETTLED_STATUSES:
                raise AlreadyRecorded(request.notice_id, status) from exc
            if status is Status.IN_PROGRESS and _lease_expired(existing, now):
                raise UnfinishedSend(request.notice_id, existing.get("channel", {}).get("S")) from exc
            raise ClaimHeld(f"notice {request.notice_id} is being delivered by another invocation") from exc
        return Claim(request.notice_id, token, int(response["Attributes"]["attempts"]["N"]))

    def settle_unfinished(self, unfinished: UnfinishedSend, *, now: datetime) -> None:
        """Record `unconfirmed` for a send whose holder died; it counts towards the cap, as it
        probably reached the customer."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"notice_id": {"S": unfinished.notice_id}},
                UpdateExpression=(
                    "SET #status = :unconfirmed, reason = :reason, updated_at = :now, completed_at = :now,"
                    " sent_at = :now REMOVE lease_until"
                ),
                ConditionExpression=(
                    "#status = :in_progress AND lease_until < :now_epoch AND lease_until > :released"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":unconfirmed": {"S": Status.UNCONFIRMED},
                    ":reason": {"S": UNFINISHED_SEND_REASON},
                    ":now": {"S": now.isoformat()},
                    ":in_progress": {"S": Status.IN_PROGRESS},
                    ":now_epoch": {"N": str(int(now.timestamp()))},
                    ":released": {"N": "0"},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            raise ClaimHeld(f"notice {unfinished.notice_id} changed while being settled") from exc

    def record(self, claim: Claim, outcome: Outcome, *, now: datetime) -> None:
        names = {"#status": "status"}
        values: dict[str, Any] = {
            ":status": {"S": outcome.status},
            ":token": {"S": claim.token},
            ":in_progress": {"S": Status.IN_PROGRESS},
            ":now": {"S": now.isoformat()},
        }
        sets = ["#status = :status", "updated_at = :now", "completed_at = :now"]
        if outcome.counts_towards_cap:
            sets.append("sent_at = :now")  # puts the notice in CustomerSentIndex, for the cap
        if outcome.hold_until is not None:
            sets.append("hold_until = :hold_until")
            values[":hold_until"] = {"S": outcome.hold_until.isoformat()}
        for attribute, value in (
            ("reason", outcome.reason),
            ("channel", outcome.channel),
            ("provider_message_id", outcome.provider_message_id),
        ):
            if value is not None:
                sets.append(f"{attribute} = :{attribute}")
                values[f":{attribute}"] = {"S": value}
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"notice_id": {"S": claim.notice_id}},
                UpdateExpression="SET " + ", ".join(sets) + " REMOVE lease_until",
                ConditionExpression="#status = :in_progress AND claim_token = :token",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ClaimLost(
                    f"notice {claim.notice_id} was taken over before its outcome was recorded"
                ) from exc
            raise

    def release(self, claim: Claim, *, error: str, now: datetime) -> None:
        """Give the claim up after a transient failure, so the queue's retry can take it at once."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"notice_id": {"S": claim.notice_id}},
                UpdateExpression="SET lease_until = :expired, last_error = :error, updated_at = :now",
                ConditionExpression="#status = :in_progress AND claim_token = :token",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":expired": {"N": "0"},
                    ":error": {"S": error},
                    ":now": {"S": now.isoformat()},
                    ":in_progress": {"S": Status.IN_PROGRESS},
                    ":token": {"S": claim.token},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            # Someone else holds it now; nothing of ours to release.

    def recent_sends(self, customer_id: str, since: datetime) -> list[datetime]:
        """When the customer's notices of the last while reached them (CustomerSentIndex)."""
        paginator = self.client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table_name,
            IndexName="CustomerSentIndex",
            KeyConditionExpression="customer_id = :customer AND sent_at > :since",
            ExpressionAttributeValues={":customer": {"S": customer_id}, ":since": {"S": since.isoformat()}},
        )
        return [
            datetime.fromisoformat(item["sent_at"]["S"]) for page in pages for item in page.get("Items", [])
        ]

    def get(self, notice_id: str) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.table_name, Key={"notice_id": {"S": notice_id}}, ConsistentRead=True
        )
        return response.get("Item")

    def _existing(self, exc: ClientError, notice_id: str) -> dict[str, Any] | None:
        # moto and older SDKs may not return the old item with the condition failure.
        item = cast("dict[str, Any] | None", exc.response.get("Item"))
        return item if item is not None else self.get(notice_id)


def _lease_expired(item: dict[str, Any], now: datetime) -> bool:
    """A lease that ran out without being released: its holder died."""
    lease = int(item.get("lease_until", {}).get("N", "0"))
    return 0 < lease < now.timestamp()


class DynamoFeedbackLedger:
    """The one write this function makes to NoticeLedgerTable.

    One conditional UpdateItem both records the feedback and returns the item's customer id:
    the function may only UpdateItem the ledger (template.yaml), and the condition keeps it from
    creating an item for a notice the ledger does not hold (expired, or never ours).
    """

    def __init__(self, table_name: str, client: "DynamoDBClient | None" = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def record_feedback(self, notice_id: str, *, feedback: str, at: datetime) -> str | None:
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key={"notice_id": {"S": notice_id}},
                # `status` is not touched: the notice was sent; the feedback sits beside that
                # outcome. Every kind seen is kept too, so a late transient bounce does not hide
                # an earlier complaint. The same event twice (SNS at-least-once, a retried
                # invocation) writes the same values.
                UpdateExpression="SET feedback = :feedback, feedback_at = :at ADD feedback_seen :seen",
                ConditionExpression="attribute_exists(notice_id)",
                ExpressionAttributeValues={
                    ":feedback": {"S": feedback},
                    ":at": {"S": at.isoformat()},
                    ":seen": {"SS": [feedback]},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        customer_id = response.get("Attributes", {}).get("customer_id", {}).get("S")
        return customer_id or None
