"""Where detectors put notice requests: the NoticeQueue (SQS) behind small interfaces.

A function that reacts to one event (an answer, an inbound SMS, a receipt) puts its one request at
once (`SendMessage`). The detectors and the sweep put many per invocation: they put them in a
NoticeOutbox, which sends them together (`SendMessageBatch`, 10 a call) once their sources (stream
records, due items) are read, and says which sources had a request that could not be queued, so
that exactly those fail and are tried again.
"""

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from headsup.domain.notices import NoticeRequest
from headsup.domain.pacing import RateWaits
from headsup.platform.errors import describe_error
from headsup.platform.observability import logger, metrics

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

MAX_BATCH = 10  # SendMessageBatch's limit of entries per call
MAX_DELAY_S = 900  # SendMessage's DelaySeconds limit
# A message's waits for the sending rate (domain/pacing.py), as message attributes.
WAITS = "rate_waits"
WAITED_SECONDS = "rate_waited_seconds"
PACED_SLOT = "rate_slot"
_ATTEMPTS = 3  # per entry: the first send and two retries of what SQS failed
_BACKOFF_S = 0.05  # before the first retry; doubled before each next one


class NoticeQueue(Protocol):
    def put(self, request: NoticeRequest) -> None: ...


class NoticeBatchQueue(Protocol):
    def put_batch(self, requests: Sequence[NoticeRequest]) -> set[int]:
        """Queue `requests`; return the positions of those that could not be queued."""
        ...


class SqsNoticeQueue:
    def __init__(
        self,
        queue_url: str,
        client: "SQSClient | None" = None,
        *,
        attempts: int = _ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._queue_url = queue_url
        self._client = client or boto3.client("sqs")
        self._attempts = attempts
        self._sleep = sleep
        # What the detectors and the sweep put their requests in (see NoticeOutbox).
        self.outbox = NoticeOutbox(self)

    def put(self, request: NoticeRequest) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=request.model_dump_json(),
            MessageAttributes=_attributes(request),
        )

    def put_later(self, request: NoticeRequest, delay: timedelta, waits: RateWaits) -> None:
        """Queue `request` again, hidden for `delay` (at most 15 minutes, SQS's limit), with its
        waits: a new message, so its wait does not count as one of its receives."""
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=request.model_dump_json(),
            DelaySeconds=min(MAX_DELAY_S, max(0, math.ceil(delay.total_seconds()))),
            MessageAttributes={**_attributes(request), **wait_attributes(waits)},
        )

    def put_batch(self, requests: Sequence[NoticeRequest]) -> set[int]:
        """SendMessageBatch, 10 requests a call. An entry SQS fails, or a call that raises, is sent
        again (`attempts` in all, with a short backoff) unless SQS says the request itself is at
        fault. Returns the positions of the requests still not queued.

        A call whose answer is lost may have queued its entries: sending them again can queue a
        request twice, which is harmless (delivery sends a notice id once); losing one is not.
        """
        failed: set[int] = set()
        for start in range(0, len(requests), MAX_BATCH):
            failed |= self._send_chunk(requests, list(range(start, min(start + MAX_BATCH, len(requests)))))
        return failed

    def _send_chunk(self, requests: Sequence[NoticeRequest], positions: list[int]) -> set[int]:
        pending, refused = positions, set[int]()
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(_BACKOFF_S * 2 ** (attempt - 1))
            try:
                response = self._client.send_message_batch(
                    QueueUrl=self._queue_url, Entries=[_entry(p, requests[p]) for p in pending]
                )
            except (ClientError, BotoCoreError) as exc:
                logger.warning(
                    "SendMessageBatch failed; retrying",
                    extra={"entries": len(pending), "attempt": attempt + 1, "error": describe_error(exc)},
                )
                continue
            accepted = {int(entry["Id"]) for entry in response.get("Successful", [])}
            failures = response.get("Failed", [])
            refused |= {int(entry["Id"]) for entry in failures if entry.get("SenderFault")}
            # An entry in neither list (never seen from SQS) is sent again, not taken as queued.
            pending = [p for p in pending if p not in accepted and p not in refused]
            if failures:
                logger.warning(
                    "SendMessageBatch entries failed",
                    extra={
                        "failed": len(failures),
                        "attempt": attempt + 1,
                        "codes": sorted({str(entry.get("Code")) for entry in failures}),
                    },
                )
            if not pending:
                break
        return refused | set(pending)


class NoticeOutbox:
    """Notice requests put for one batch of records (or part of a sweep), sent together on flush.

    Each request is put on behalf of a source (a stream record's sequence number, a due item's
    key), so that what SQS did not take fails its own source and no other.
    """

    def __init__(self, queue: NoticeBatchQueue) -> None:
        self._queue = queue
        self._source: str | None = None
        self._waiting: list[tuple[str, NoticeRequest]] = []

    @property
    def waiting(self) -> int:
        """Requests put since the last flush."""
        return len(self._waiting)

    @contextmanager
    def on_behalf_of(self, source: str) -> Iterator[None]:
        previous, self._source = self._source, source
        try:
            yield
        finally:
            self._source = previous

    def put(self, request: NoticeRequest) -> None:
        if self._source is None:
            # A request nobody answers for could fail without failing anything: never lost silently.
            raise RuntimeError("a notice request put in the outbox on behalf of no source")
        self._waiting.append((self._source, request))

    def discard(self) -> None:
        if self._waiting:
            logger.warning("Notice requests of an unfinished batch discarded", extra={"count": self.waiting})
        self._waiting = []

    def flush(self) -> set[str]:
        """Queue every request waiting; return the sources of those that could not be queued."""
        waiting, self._waiting = self._waiting, []
        if not waiting:
            return set()
        failed = self._queue.put_batch([request for _, request in waiting])
        sources = {source for position, (source, _) in enumerate(waiting) if position in failed}
        logger.info(
            "Notice requests queued",
            extra={
                "queued": len(waiting) - len(failed),
                "not_queued": len(failed),
                "sources_failed": len(sources),
            },
        )
        logger.debug(
            "Notice requests queued: ids",
            extra={
                "notice_ids": [r.notice_id for p, (_, r) in enumerate(waiting) if p not in failed],
                "not_queued_ids": [r.notice_id for p, (_, r) in enumerate(waiting) if p in failed],
            },
        )
        if failed:
            metrics.add_metric(name="NoticesNotQueued", unit="Count", value=len(failed))
        return sources


def _attributes(request: NoticeRequest) -> dict[str, Any]:
    return {
        "kind": {"DataType": "String", "StringValue": request.kind.value},
        "notice_id": {"DataType": "String", "StringValue": request.notice_id},
    }


def _entry(position: int, request: NoticeRequest) -> "SendMessageBatchRequestEntryTypeDef":
    # The position in put_batch's list: unique within a call, and matches ^[A-Za-z0-9_-]{1,80}$.
    return {
        "Id": str(position),
        "MessageBody": request.model_dump_json(),
        "MessageAttributes": _attributes(request),
    }


def wait_attributes(waits: RateWaits) -> dict[str, Any]:
    """A message's waits for the sending rate, as SendMessage's MessageAttributes."""
    attributes: dict[str, Any] = {
        WAITS: {"DataType": "Number", "StringValue": str(waits.count)},
        WAITED_SECONDS: {"DataType": "Number", "StringValue": str(waits.seconds)},
    }
    if waits.slot is not None:
        attributes[PACED_SLOT] = {"DataType": "String", "StringValue": waits.slot.isoformat()}
    return attributes


def waits_of(message_attributes: Mapping[str, Any]) -> RateWaits:
    """What wait_attributes wrote, from a message as Lambda hands it over (`stringValue`); none
    for a message that never waited, or attributes that are not ours to trust as numbers."""

    def value(name: str) -> str | None:
        attribute = message_attributes.get(name) or {}
        return attribute.get("stringValue") if isinstance(attribute, Mapping) else None

    try:
        count, seconds = int(value(WAITS) or 0), int(value(WAITED_SECONDS) or 0)
        slot_text = value(PACED_SLOT)
        slot = datetime.fromisoformat(slot_text) if slot_text else None
    except ValueError:
        return RateWaits()
    if count < 0 or seconds < 0 or (slot is not None and slot.tzinfo is None):
        return RateWaits()
    return RateWaits(count, seconds, slot)
