"""Turn one change on VisitsTable into the notices it calls for, and keep the visit's state.

A batch's notices are sent together at its end (NoticeOutbox), so the state each record leaves
(what the customer was told, the record's sequence number) is written then too, and only once
that record's notices, and those of the visit's earlier records, were queued: state that says
"told" for a notice still unqueued would make Lambda's retry of the record a replay, ignored,
and the notice lost. Each visit's state is written once per batch, as its last record left it.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from headsup.adapters.notice_queue import NoticeOutbox
from headsup.domain.notices import NoticeRequest
from headsup.domain.visits import rules
from headsup.domain.visits.models import InvalidVisit, Visit
from headsup.platform.batch import StreamChange
from headsup.platform.errors import describe_error
from headsup.platform.observability import logger, metrics


class VisitState(Protocol):
    def state_of(self, item_type: Any, item_id: str) -> dict[str, Any]: ...

    def prefetch_states(self, item_type: Any, item_ids: Iterable[str]) -> None: ...

    def track(
        self, item_type: Any, item_id: str, due_at: datetime | None, state: dict[str, Any]
    ) -> object: ...


# Stream records live 24 hours: a closed visit's last sequence number is kept a while longer, so
# a replay of its records finds it and changes nothing.
_CLOSED_VISIT_MEMORY = timedelta(days=2)


@dataclass(frozen=True)
class _Step:
    """What one record left for its visit: written once its notices are queued."""

    source: str | None  # the record it came from (its sequence number)
    visit_id: str
    check_at: datetime | None
    state: dict[str, Any]  # None removes the attribute


class VisitDetector:
    def __init__(self, state: VisitState, queue: NoticeOutbox, policy: rules.VisitPolicy) -> None:
        self._state = state
        self._queue = queue
        self._policy = policy
        self._source: str | None = None
        self._steps: list[_Step] = []  # this batch's, in stream order

    @contextmanager
    def on_behalf_of(self, source: str) -> Iterator[None]:
        """Handle a record: what it puts and leaves answers to `source` (its sequence number)."""
        previous, self._source = self._source, source
        try:
            with self._queue.on_behalf_of(source):
                yield
        finally:
            self._source = previous

    def discard(self) -> None:
        self._queue.discard()
        self._steps = []

    def flush(self) -> set[str]:
        """Queue the batch's notices, then write each visit's state as its records left it, up to
        its first record whose notices were not queued. Returns the records not done: those and
        the visit's later ones (their state follows from it), and those whose write failed."""
        not_queued = self._queue.flush()
        steps, self._steps = self._steps, []
        by_visit: dict[str, list[_Step]] = {}
        for step in steps:
            by_visit.setdefault(step.visit_id, []).append(step)
        not_done = set(not_queued)
        for visit_id, visit_steps in by_visit.items():
            done = _until_failed(visit_steps, not_queued)
            not_done |= {step.source for step in visit_steps[len(done) :] if step.source is not None}
            if done and not self._write(visit_id, done[-1]):
                not_done |= {step.source for step in done if step.source is not None}
        return not_done

    def prefetch(self, changes: Iterable[StreamChange]) -> None:
        """Read the states of the batch's visits in one call, not one per record."""
        ids = {c.new_image["visit_id"] for c in changes if isinstance(c.new_image.get("visit_id"), str)}
        self._state.prefetch_states("visit", ids)

    def on_visit_change(
        self,
        new_image: dict[str, Any],
        old_image: dict[str, Any] | None,
        *,
        settled_later: bool = False,
        sequence: str | None = None,
    ) -> list[NoticeRequest]:
        """Raises InvalidVisit for a record that breaks the contract.

        `sequence` is the stream record's SequenceNumber: a record no newer than the last one
        acted on for the visit is a replay (Lambda retries a batch; an operator redrives one), and
        acting on it again would rewind what the customer was last told."""
        visit = Visit.from_item(new_image)
        previous = _previous(old_image)
        state = self._state_of(visit.visit_id)
        if _is_replay(sequence, state.get("stream_seq")):
            logger.info(
                "Replayed visit record ignored", extra={"visit_id": visit.visit_id, "sequence": sequence}
            )
            metrics.add_metric(name="VisitRecordsReplayed", unit="Count", value=1)
            return []
        late_eta, news = _late_eta(state), int(state.get("late_news", 0))
        step = rules.on_change(previous, visit, late_eta, self._policy, datetime.now(UTC), news=news)
        if settled_later:
            step = rules.settled_later(step, late_eta, news)
        for notice in step.notices:
            self._queue.put(notice)
        if visit.is_open:
            left = {"late_eta": _iso(step.late_eta), "late_news": step.news or None, "stream_seq": sequence}
            self._steps.append(_Step(self._source, visit.visit_id, step.check_at, left))
        else:
            # Arrived, done or cancelled: nothing to watch; only where the stream was is kept.
            forget_at = int((datetime.now(UTC) + _CLOSED_VISIT_MEMORY).timestamp())
            closed = {"late_eta": None, "late_news": None, "stream_seq": sequence, "expires_at": forget_at}
            self._steps.append(_Step(self._source, visit.visit_id, None, closed))
        if step.notices:
            logger.debug(
                "Visit notices put",
                extra={
                    "visit_id": visit.visit_id,
                    "customer_id": visit.customer_id,
                    "notices": [{"kind": n.kind, "notice_id": n.notice_id} for n in step.notices],
                },
            )
            metrics.add_metric(name="NoticesDetected", unit="Count", value=len(step.notices))
        return step.notices

    def _state_of(self, visit_id: str) -> dict[str, Any]:
        """The visit's state as this batch's last record of it left it, else as written."""
        for step in reversed(self._steps):
            if step.visit_id == visit_id:
                return {k: v for k, v in step.state.items() if v is not None and k != "expires_at"}
        return self._state.state_of("visit", visit_id)

    def _write(self, visit_id: str, step: _Step) -> bool:
        try:
            self._state.track("visit", visit_id, step.check_at, step.state)
        # Any error: the records fail and are retried (their notices queued again, harmlessly).
        except Exception as exc:  # noqa: BLE001
            logger.error(
                "Visit state not written; its records will be retried",
                extra={"visit_id": visit_id, "error": describe_error(exc)},
            )
            return False
        return True


def _until_failed(steps: list[_Step], failed: set[str]) -> list[_Step]:
    done = []
    for step in steps:
        if step.source in failed:
            break
        done.append(step)
    return done


def _is_replay(sequence: str | None, last: object) -> bool:
    """Sequence numbers grow with each record of an item (as numbers: their lengths differ)."""
    if sequence is None or not isinstance(last, str):
        return False
    return sequence.isdigit() and last.isdigit() and int(sequence) <= int(last)


def _previous(old_image: dict[str, Any] | None) -> Visit | None:
    if not old_image:
        return None
    try:
        return Visit.from_item(old_image)
    except InvalidVisit:
        return None  # the business is fixing a broken record: judge the fixed one on its own


def _late_eta(state: dict[str, Any]) -> datetime | None:
    value = state.get("late_eta")
    return datetime.fromisoformat(value) if value else None


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None
