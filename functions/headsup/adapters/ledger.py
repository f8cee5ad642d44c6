"""NoticeLedgerTable: the idempotency claim on a notice and then its one recorded outcome.

A notice moves `in_progress` -> `sent` | `skipped` | `failed` | `unconfirmed` | `dead_lettered`
| `held`. The first four are settled and never overwritten. `dead_lettered` is final for the queue but not for
the notice: when an operator redrives it from the dead-letter queue (after fixing what was wrong),
it may be claimed again, since it was never delivered. `held` (quiet hours, frequency cap) is
claimed again when the sweep releases it at `hold_until`.

The claim is a conditional write, so of two copies of the same SQS message (or a replayed
stream record) only one can be sending at a time, and once an outcome is settled every later
copy is acknowledged without sending.

A decision that sends nothing (skipped, held, failed before any send, dead-lettered) is recorded
in one conditional write on the claim's condition (`decide`): a claim would guard no send.

The claim is taken only once the notice is ready to go, and says what its holder is about
to do (`intent`). It has a lease that outlives the invocation holding it. If that invocation
dies without recording an outcome (a timeout, out of memory), a redelivery after the lease
looks at the intent: a holder that was only recording a decision is taken over and the work
redone; a holder that was *sending* may have been answered by SES/SNS just before it died, so
the notice is settled as `unconfirmed` instead of being sent again. See docs/decisions.md.
"""

import secrets
import zlib
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from headsup.adapters.dynamodb import ConditionFailed, DynamoTable, Update, to_item, to_python
from headsup.adapters.sent_log import DynamoSentLogs
from headsup.domain.kinds import KINDS, Audience, NoticeKind
from headsup.domain.notices import NoticeRequest
from headsup.domain.recheck import SUPERSEDED, ToldNotice
from headsup.domain.sent_log import SentLog, SentLogChanged

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
    # How often and how long (s) the notice waited for the sending rate before this outcome.
    rate_waits: int = 0
    rate_waited_seconds: int = 0


@dataclass(frozen=True)
class Claim:
    notice_id: str
    token: str
    # The notice's story key (NoticeRequest.story_key) if it is for a customer: once sent, the
    # notice is found by it (ToldIndex) when a later one of the same story asks what was told.
    told_key: str | None = None
    # For a second attempt (NoticeRequest.fallback_of): the first, whose item its outcome is
    # recorded on too.
    fallback_of: str | None = None
    # The customer whose sent log admitted this notice with the claim (domain/sent_log.py): the
    # place is given back if the notice does not reach them.
    admitted_for: str | None = None


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

    def __init__(
        self, notice_id: str, channel: str | None, told_key: str | None = None, fallback_of: str | None = None
    ) -> None:
        self.notice_id = notice_id
        self.channel = channel
        self.told_key = told_key
        self.fallback_of = fallback_of
        super().__init__(f"notice {notice_id}: an earlier attempt died while sending")


UNFINISHED_SEND_REASON = "the attempt that was sending it ended before the provider's answer was recorded"


class Ledger(Protocol):
    def claim(  # noqa: PLR0913 - the notice, when, for how long, and what its holder is about to do
        self,
        request: NoticeRequest,
        *,
        now: datetime,
        lease_until: datetime,
        intent: Intent,
        channel: str | None = None,
        admit: SentLog | None = None,
    ) -> Claim: ...

    def record(self, claim: Claim, outcome: Outcome, *, now: datetime) -> None: ...

    def decide(self, request: NoticeRequest, outcome: Outcome, *, now: datetime) -> None: ...

    def settle_unfinished(self, unfinished: UnfinishedSend, *, now: datetime) -> None: ...

    def release(self, claim: Claim, *, error: str, now: datetime) -> None: ...

    def sent_log(self, customer_id: str) -> SentLog: ...

    def told(self, told_key: str) -> list[ToldNotice]: ...

    def supersede(self, notice_id: str, *, by: str, now: datetime) -> bool: ...


class DynamoLedger(DynamoTable):
    def __init__(
        self,
        table_name: str,
        retention: timedelta,
        client: "DynamoDBClient | None" = None,
        receipt_windows: Mapping[str, timedelta] | None = None,
        sent_logs: DynamoSentLogs | None = None,
    ) -> None:
        super().__init__(table_name, client)
        self._retention = retention
        # The customers' sent logs, for the daily cap; without them no claim admits (tests of
        # the ledger alone), and every customer's log reads empty.
        self._sent_logs = sent_logs
        # By channel: how long a receipt may take to settle an `unconfirmed` send.
        self._receipt_windows = dict(receipt_windows or {})

    def claim(  # noqa: PLR0913 - the notice, when, for how long, and what its holder is about to do
        self,
        request: NoticeRequest,
        *,
        now: datetime,
        lease_until: datetime,
        intent: Intent,
        channel: str | None = None,
        admit: SentLog | None = None,
    ) -> Claim:
        """Claim the notice; with `admit` (the customer's sent log as the decision read it), in the
        same transaction record it in that log, on condition the log has not changed since:
        raises SentLogChanged if it has (nothing is written; decide again)."""
        token = secrets.token_hex(8)
        update = Update(
            sets=list(_CLAIM_SETS),
            adds=["attempts :one"],
            values={
                **self._notice_values(request, now),
                ":intent": intent,
                ":channel": channel or None,
                ":token": token,
                ":lease": int(lease_until.timestamp()),
            },
            names=dict(_STATUS),
        )
        told_key = _told_key(request)
        _describe(update, request, intent, told_key)
        admitted_for = None
        if admit is None or self._sent_logs is None:
            self._write_if_claimable(request.notice_id, update, now)
        else:
            self._claim_admitting(request, update, self._sent_logs, admit, now)
            admitted_for = request.customer_id
        fallback_of = request.fallback_of.notice_id if request.fallback_of is not None else None
        return Claim(request.notice_id, token, told_key, fallback_of, admitted_for)

    def _write_if_claimable(self, notice_id: str, update: Update, now: datetime) -> None:
        """`update`, on the claim's condition; raises what `claim` raises when it does not hold."""
        try:
            self._update(
                {"notice_id": notice_id},
                update,
                ConditionExpression=_CLAIMABLE_CONDITION,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as failed:
            raise self._why_not_claimed(notice_id, failed, now) from failed

    def _notice_values(self, request: NoticeRequest, now: datetime) -> dict[str, Any]:
        """The values of _NOTICE_SETS and of the claimable condition."""
        return {
            **_CLAIMABLE,
            ":now_epoch": int(now.timestamp()),
            ":kind": request.kind,
            ":customer": request.customer_id,
            ":topic": request.topic,
            ":detected": request.detected_at.isoformat(),
            ":now": now.isoformat(),
            ":expires": int((now + self._retention).timestamp()),
            ":one": 1,
        }

    def decide(self, request: NoticeRequest, outcome: Outcome, *, now: datetime) -> None:
        """Record a decision that sends nothing (skipped, held, failed before any send,
        dead-lettered) as the notice's outcome, in one conditional write on the same condition as
        a claim: a claim first would guard no send, and cost a second write. Raises as `claim`
        does when the notice is settled, being sent, or left by a sender that died."""
        update = Update(
            sets=["#status = :status", "completed_at = :now", *_NOTICE_SETS],
            removes=list(_CLAIM_ONLY),
            adds=["attempts :one"],
            values={**self._notice_values(request, now), ":status": outcome.status},
            names=dict(_STATUS),
        )
        _describe(update, request, Intent.RECORD, _told_key(request))
        _set_outcome(update, outcome)
        self._write_if_claimable(request.notice_id, update, now)
        if request.fallback_of is not None:
            self._on_first_attempt(request.fallback_of.notice_id, request.notice_id, outcome, now)

    def _claim_admitting(
        self, request: NoticeRequest, update: Update, sent_logs: DynamoSentLogs, log: SentLog, now: datetime
    ) -> None:
        """The claim and the sent log's new entry, in one TransactWriteItems: both or neither.
        Raises what `claim` raises, and SentLogChanged if the log is no longer `log`."""
        claim = {
            "Update": {
                "TableName": self._table,
                "Key": to_item({"notice_id": request.notice_id}),
                "ConditionExpression": _CLAIMABLE_CONDITION,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                **update.request(),
            }
        }
        admission = sent_logs.admit(request.customer_id, log, request.notice_id, now)
        try:
            self._client.transact_write_items(TransactItems=[claim, admission])  # type: ignore[list-item]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            cancelled: list[Mapping[str, Any]] = list(exc.response.get("CancellationReasons", []))
            reasons = [reason.get("Code") for reason in cancelled]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                old = cancelled[0].get("Item")
                failed = ConditionFailed(None if old is None else to_python(old))
                raise self._why_not_claimed(request.notice_id, failed, now) from exc
            if reasons[:1] == ["TransactionConflict"]:
                raise ClaimHeld(f"notice {request.notice_id} is being claimed at the same moment") from exc
            if len(reasons) > 1 and reasons[1] in ("ConditionalCheckFailed", "TransactionConflict"):
                sent_logs.changed(request.customer_id)
                raise SentLogChanged(request.customer_id) from exc
            raise

    def _why_not_claimed(self, notice_id: str, failed: ConditionFailed, now: datetime) -> Exception:
        # moto and older SDKs may not return the old item with the condition failure.
        existing = failed.item if failed.item is not None else self._get({"notice_id": notice_id})
        existing = existing or {}
        status = Status(existing.get("status", Status.IN_PROGRESS))
        if status in SETTLED_STATUSES:
            return AlreadyRecorded(notice_id, status)
        if status is Status.IN_PROGRESS and _lease_expired(existing, now):
            return UnfinishedSend(
                notice_id, existing.get("channel"), existing.get("story_key"), existing.get("fallback_of")
            )
        return ClaimHeld(f"notice {notice_id} is being delivered by another invocation")

    def settle_unfinished(self, unfinished: UnfinishedSend, *, now: datetime) -> None:
        """Record `unconfirmed` for a send whose holder died; it counts towards the cap, as it
        probably reached the customer."""
        update = Update(
            sets=[
                "#status = :unconfirmed",
                "reason = :reason",
                "updated_at = :now",
                "completed_at = :now",
                "sent_at = :now",
            ],
            removes=["lease_until"],
            values={
                ":unconfirmed": Status.UNCONFIRMED,
                ":reason": UNFINISHED_SEND_REASON,
                ":now": now.isoformat(),
                ":in_progress": Status.IN_PROGRESS,
                ":now_epoch": int(now.timestamp()),
                ":released": 0,
            },
            names=dict(_STATUS),
        )
        if unfinished.told_key is not None:
            # It probably reached the customer: a later correction must know what it said.
            update.sets.append("told_key = :told_key")
            update.values[":told_key"] = unfinished.told_key
        self._await_receipt(update, unfinished.channel, now)
        condition = "#status = :in_progress AND lease_until < :now_epoch AND lease_until > :released"
        try:
            self._update({"notice_id": unfinished.notice_id}, update, ConditionExpression=condition)
        except ConditionFailed as failed:
            raise ClaimHeld(f"notice {unfinished.notice_id} changed while being settled") from failed
        if unfinished.fallback_of is not None:
            self._on_first_attempt(
                unfinished.fallback_of,
                unfinished.notice_id,
                Outcome(Status.UNCONFIRMED, channel=unfinished.channel),
                now,
            )

    def _await_receipt(self, update: Update, channel: str | None, now: datetime) -> None:
        """Put an `unconfirmed` notice in UnresolvedIndex until its receipt window ends (a
        receipt settling it takes it out; the sweep counts those still there after it)."""
        window = self._receipt_windows.get(channel or "", timedelta(0))
        update.sets += ["unresolved = :unresolved", "receipt_due_at = :receipt_due"]
        update.values[":unresolved"] = UNRESOLVED
        update.values[":receipt_due"] = (now + window).isoformat()

    def record(self, claim: Claim, outcome: Outcome, *, now: datetime) -> None:
        # The claim's own bookkeeping goes with it (`completed_at` says when): an item kept under
        # 1 KB costs one write unit for each receipt and answer written on it later, not two.
        update = Update(
            sets=["#status = :status", "completed_at = :now"],
            removes=list(_CLAIM_ONLY),
            values={":status": outcome.status, ":now": now.isoformat()},
        )
        _mark_reached(update, claim, outcome)
        _set_outcome(update, outcome)
        if outcome.status is Status.UNCONFIRMED:
            self._await_receipt(update, outcome.channel, now)
        try:
            self._update_held(claim, update)
        except ConditionFailed as failed:
            raise ClaimLost(
                f"notice {claim.notice_id} was taken over before its outcome was recorded"
            ) from failed
        if claim.fallback_of is not None:
            self._on_first_attempt(claim.fallback_of, claim.notice_id, outcome, now)
        if outcome.status not in (Status.SENT, Status.UNCONFIRMED):
            self._give_back(claim)

    def _give_back(self, claim: Claim) -> None:
        """An admitted notice that did not reach the customer leaves their sent log."""
        if claim.admitted_for is not None and self._sent_logs is not None:
            self._sent_logs.give_back(claim.admitted_for, claim.notice_id)

    def sent_log(self, customer_id: str) -> SentLog:
        """The customer's sent log as the batch read it (empty without sent logs)."""
        return SentLog() if self._sent_logs is None else self._sent_logs.read(customer_id)

    def _on_first_attempt(self, first: str, second: str, outcome: Outcome, now: datetime) -> None:
        """A second attempt's outcome, recorded on the first attempt's item too: one item tells
        the notice's whole story (docs/decisions.md)."""
        update = Update(
            sets=["fallback_status = :status", "fallback_completed_at = :now"],
            values={":status": outcome.status, ":now": now.isoformat(), ":second": second},
        )
        for attribute, value in (("fallback_channel", outcome.channel), ("fallback_detail", outcome.reason)):
            if value is not None:
                update.sets.append(f"{attribute} = :{attribute}")
                update.values[f":{attribute}"] = value
        with suppress(ConditionFailed):  # the first attempt's item expired: nothing to tell
            self._update({"notice_id": first}, update, ConditionExpression="fallback_notice_id = :second")

    def release(self, claim: Claim, *, error: str, now: datetime) -> None:
        """Give the claim up after a transient failure, so the queue's retry can take it at once."""
        update = Update(
            sets=["lease_until = :expired", "last_error = :error", "updated_at = :now"],
            values={":expired": 0, ":error": error, ":now": now.isoformat()},
        )
        with suppress(ConditionFailed):  # someone else holds it now; nothing of ours to release
            self._update_held(claim, update)
            # Its retry decides afresh (and admits it again if it then sends).
            self._give_back(claim)

    def told(self, told_key: str) -> list[ToldNotice]:
        """The notices of one story about one item that reached the customer, newest first."""
        response = self._client.query(
            TableName=self._table,
            IndexName="ToldIndex",
            KeyConditionExpression="told_key = :told",
            ExpressionAttributeValues=to_item({":told": told_key}),
            ScanIndexForward=False,
            Limit=_TOLD_LIMIT,
        )
        return [
            ToldNotice(
                notice_id=item["notice_id"],
                kind=NoticeKind(item["kind"]),
                facts=dict(item.get("asserted", {})),
                sent_at=datetime.fromisoformat(item["sent_at"]),
            )
            for item in map(to_python, response.get("Items", []))
        ]

    def supersede(self, notice_id: str, *, by: str, now: datetime) -> bool:
        """Settle a held notice as skipped: a newer one of the same story took its place. False
        if it is no longer held (released and being delivered: its re-check decides then)."""
        update = Update(
            sets=["#status = :skipped", "reason = :reason", "updated_at = :now", "completed_at = :now"],
            values={
                ":skipped": Status.SKIPPED,
                ":reason": f"{SUPERSEDED}: by notice {by}",
                ":now": now.isoformat(),
                ":held": Status.HELD,
            },
            names=dict(_STATUS),
        )
        try:
            self._update({"notice_id": notice_id}, update, ConditionExpression="#status = :held")
        except ConditionFailed:
            return False
        return True

    def get(self, notice_id: str) -> dict[str, Any] | None:
        """The notice's ledger item as stored (attribute values), for tests and operators."""
        response = self._client.get_item(
            TableName=self._table, Key=to_item({"notice_id": notice_id}), ConsistentRead=True
        )
        return response.get("Item")

    def _update_held(self, claim: Claim, update: Update) -> None:
        """Apply `update` only while `claim` still holds the notice."""
        update.names.update(_STATUS)
        update.values.update({":in_progress": Status.IN_PROGRESS, ":token": claim.token})
        condition = "#status = :in_progress AND claim_token = :token"
        self._update({"notice_id": claim.notice_id}, update, ConditionExpression=condition)


_STATUS = {"#status": "status"}
# What any first write of a notice's item says of it, a claim's or a decision's.
_NOTICE_SETS = (
    "kind = :kind",
    "customer_id = :customer",
    "topic = :topic",
    "detected_at = :detected",
    "created_at = if_not_exists(created_at, :now)",
    "expires_at = :expires",
)
_CLAIM_SETS = (
    "#status = :in_progress",
    "claim_token = :token",
    "lease_until = :lease",
    "updated_at = :now",
    "intent = :intent",
    "channel = :channel",
    *_NOTICE_SETS,
)
# A claim's bookkeeping, which the outcome removes (its time is `completed_at`).
_CLAIM_ONLY = ["lease_until", "claim_token", "intent", "updated_at"]
# A claim may be taken when the notice is free, released after a definite failure (lease 0), or
# left by a holder that died while only recording a decision. Never from a holder that was sending.
_CLAIMABLE_CONDITION = (
    "attribute_not_exists(notice_id)"
    " OR #status = :dead_lettered OR #status = :held"
    " OR (#status = :in_progress AND (lease_until = :released"
    " OR (lease_until < :now_epoch AND intent = :record)))"
)
_CLAIMABLE: dict[str, Any] = {
    ":in_progress": Status.IN_PROGRESS,
    ":dead_lettered": Status.DEAD_LETTERED,
    ":held": Status.HELD,
    ":released": 0,
    ":record": Intent.RECORD,
}


# The one value of UnresolvedIndex's partition key: the index holds only unsettled notices, few
# at any time, so one partition is never hot.
UNRESOLVED = "unconfirmed"
_TOLD_LIMIT = 5  # a story about one item is a handful of notices; the newest is what counts


def _describe(update: Update, request: NoticeRequest, intent: Intent, told_key: str | None) -> None:
    """What a claim records of the notice besides its status: what it states and promises, its
    story, the request itself (for a second attempt), and which notice it is a second attempt of."""
    if request.asserts is not None:
        # The facts as this attempt is about to state them (after the re-check brought its
        # times up to date), and what the notice promises: what the customer is told.
        update.sets += ["asserted = :asserted", "subject = :subject"]
        update.values[":asserted"] = dict(request.asserts.facts)
        update.values[":subject"] = request.asserts.subject
        promised = _promised(request)
        if promised:
            update.sets.append("promised = :promised")
            update.values[":promised"] = promised
    if told_key is not None:
        update.sets.append("story_key = :story_key")
        update.values[":story_key"] = told_key
    if intent is Intent.SEND and request.audience is Audience.CUSTOMER:
        # The request as it goes: what a second attempt by another channel is made from, if
        # this one never arrives (logic/receipts.py).
        update.sets.append("notice_request = :request")
        update.values[":request"] = pack_request(request)
    if request.fallback_of is not None:
        update.sets.append("fallback_of = :fallback_of")
        update.values[":fallback_of"] = request.fallback_of.notice_id


def pack_request(request: NoticeRequest) -> bytes:
    """The request as the ledger keeps it: compressed JSON. Kept as text it would take a bill
    notice's item over 1 KB, and every later write of the item (outcome, receipts) would cost
    two write units instead of one."""
    return zlib.compress(request.model_dump_json(exclude_none=True).encode(), 9)


def unpack_request(value: Any) -> NoticeRequest:
    """What pack_request stored (boto3 reads a binary attribute as a Binary, or as bytes)."""
    raw = getattr(value, "value", value)
    return NoticeRequest.model_validate_json(zlib.decompress(bytes(raw)))


def _set_outcome(update: Update, outcome: Outcome) -> None:
    """The outcome's own attributes: why, by which channel, the provider's id, until when held."""
    if outcome.hold_until is not None:
        update.sets.append("hold_until = :hold_until")
        update.values[":hold_until"] = outcome.hold_until.isoformat()
    for attribute, value in (
        ("reason", outcome.reason),
        ("channel", outcome.channel),
        ("provider_message_id", outcome.provider_message_id),
    ):
        if value is not None:
            update.sets.append(f"{attribute} = :{attribute}")
            update.values[f":{attribute}"] = value
    if outcome.rate_waits:
        update.sets.append("rate_waits = :rate_waits, rate_waited_seconds = :rate_waited_seconds")
        update.values[":rate_waits"] = outcome.rate_waits
        update.values[":rate_waited_seconds"] = outcome.rate_waited_seconds
    if outcome.channel == "sms" and outcome.provider_message_id is not None:
        # In SmsMessageIndex: SNS's delivery logs name the message by this id only.
        update.sets.append("sms_message_id = :provider_message_id")


def _mark_reached(update: Update, claim: Claim, outcome: Outcome) -> None:
    """A notice that reached the customer gets `sent_at`, and, if it tells a story, its place in
    ToldIndex, for corrections. An unconfirmed send probably reached them: a correction must know
    what it said."""
    unconfirmed_story = outcome.status is Status.UNCONFIRMED and claim.told_key is not None
    if outcome.counts_towards_cap or unconfirmed_story:
        update.sets.append("sent_at = :now")
        if claim.told_key is not None:
            update.sets.append("told_key = :told_key")
            update.values[":told_key"] = claim.told_key


def _told_key(request: NoticeRequest) -> str | None:
    return request.story_key if KINDS[request.kind].audience is Audience.CUSTOMER else None


def _promised(request: NoticeRequest) -> dict[str, str]:
    """The times the notice promises the customer, as it will state them."""
    return {
        field: str(request.payload[field])
        for field in KINDS[request.kind].promises
        if request.payload.get(field) is not None
    }


def _lease_expired(item: dict[str, Any], now: datetime) -> bool:
    """A lease that ran out without being released: its holder died."""
    lease = int(item.get("lease_until", 0))
    return 0 < lease < now.timestamp()
