"""Turn one change on VisitsTable into the notices it calls for, and keep the visit's state."""

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from headsup.adapters.notice_queue import NoticeQueue
from headsup.domain.notices import NoticeRequest
from headsup.domain.visits import rules
from headsup.domain.visits.models import InvalidVisit, Visit
from headsup.platform.observability import logger, metrics


class VisitState(Protocol):
    def state_of(self, item_type: Any, item_id: str) -> dict[str, Any]: ...

    def track(
        self, item_type: Any, item_id: str, due_at: datetime | None, state: dict[str, Any]
    ) -> object: ...


# Stream records live 24 hours: a closed visit's last sequence number is kept a while longer, so
# a replay of its records finds it and changes nothing.
_CLOSED_VISIT_MEMORY = timedelta(days=2)


class VisitDetector:
    def __init__(self, state: VisitState, queue: NoticeQueue, policy: rules.VisitPolicy) -> None:
        self._state = state
        self._queue = queue
        self._policy = policy

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
        state = self._state.state_of("visit", visit.visit_id)
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
            state = {"late_eta": _iso(step.late_eta), "late_news": step.news or None, "stream_seq": sequence}
            self._state.track("visit", visit.visit_id, step.check_at, state)
        else:
            # Arrived, done or cancelled: nothing to watch; only where the stream was is kept.
            forget_at = int((datetime.now(UTC) + _CLOSED_VISIT_MEMORY).timestamp())
            closed = {"late_eta": None, "late_news": None, "stream_seq": sequence, "expires_at": forget_at}
            self._state.track("visit", visit.visit_id, None, closed)
        if step.notices:
            logger.info(
                "Visit notices queued",
                extra={
                    "visit_id": visit.visit_id,
                    "customer_id": visit.customer_id,
                    "notices": [{"kind": n.kind, "notice_id": n.notice_id} for n in step.notices],
                },
            )
            metrics.add_metric(name="NoticesDetected", unit="Count", value=len(step.notices))
        return step.notices


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
