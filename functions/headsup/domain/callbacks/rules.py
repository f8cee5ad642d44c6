"""When a callback is overdue, what to say, and when to look at it again. Pure functions.

A promise moves through three levels: 0 (on time so far), 1 (overdue: the customer got an
apology with a new deadline and the team an escalation), 2 (still pending after that deadline:
the team is escalated again). The level and deadline belong to one `promised_at`: a new promise
starts again at level 0.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from headsup.domain.assertions import Fact
from headsup.domain.callbacks.models import Callback
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest
from headsup.domain.payloads import CallbackEscalationPayload, CallbackOverduePayload

CLEAN_MINUTES = 15


@dataclass(frozen=True)
class CallbackPolicy:
    grace: timedelta
    reschedule: timedelta


@dataclass(frozen=True)
class PromiseState:
    """What has been done about one promise, kept in DueItemsTable between sweeps."""

    promised_at: datetime | None = None
    level: int = 0
    deadline: datetime | None = None


@dataclass(frozen=True)
class CallbackStep:
    notices: list[NoticeRequest] = field(default_factory=list)
    state: PromiseState = PromiseState()
    next_due: datetime | None = None  # None: nothing more to do for this promise


def first_due(callback: Callback, policy: CallbackPolicy) -> datetime | None:
    return callback.promised_at + policy.grace if callback.status == "pending" else None


def on_due(
    callback: Callback,
    state: PromiseState,
    now: datetime,
    policy: CallbackPolicy,
    zone: Callable[[], ZoneInfo],
) -> CallbackStep:
    """`zone` gives the customer's timezone; it is only asked for when a new deadline is set."""
    if callback.status != "pending":
        return CallbackStep(state=state)
    if state.promised_at != callback.promised_at:
        state = PromiseState(promised_at=callback.promised_at)  # a new promise: start again
    overdue_at = callback.promised_at + policy.grace
    if state.level == 0:
        if now < overdue_at:
            return CallbackStep(state=state, next_due=overdue_at)
        deadline = round_up_to_clean_time(now + policy.reschedule, zone())
        return CallbackStep(
            notices=[_apology(callback, deadline, now), _escalation(callback, deadline, now, level=1)],
            state=PromiseState(callback.promised_at, level=1, deadline=deadline),
            next_due=deadline,
        )
    if state.level == 1 and state.deadline is not None:
        if now < state.deadline:
            return CallbackStep(state=state, next_due=state.deadline)
        return CallbackStep(
            notices=[_escalation(callback, state.deadline, now, level=2)],
            state=PromiseState(callback.promised_at, level=2, deadline=state.deadline),
        )
    return CallbackStep(state=state)  # level 2: the team has been told twice; people take it from here


def round_up_to_clean_time(moment: datetime, zone: ZoneInfo) -> datetime:
    """The next quarter hour at or after `moment` on the customer's clock (10:07 -> 10:15).

    Rounded on the local wall clock, then converted back, so it is a clean time for the
    customer whatever their zone's offset.
    """
    local = moment.astimezone(zone)
    floored = local.replace(minute=local.minute - local.minute % CLEAN_MINUTES, second=0, microsecond=0)
    result = floored.astimezone(UTC)
    if result < moment:
        result += timedelta(minutes=CLEAN_MINUTES)  # in UTC, so a DST change cannot skew it
    return result


def _apology(callback: Callback, deadline: datetime, now: datetime) -> NoticeRequest:
    payload = CallbackOverduePayload(
        callback_id=callback.callback_id,
        topic=callback.topic,
        promised_at=callback.promised_at,
        new_deadline=deadline,
        agent_name=callback.agent_name,
    )
    # One apology per promise, whatever the deadline computed by whichever sweep.
    return NoticeRequest.about(
        callback,
        NoticeKind.CALLBACK_OVERDUE,
        callback.promised_at,
        detected_at=now,
        payload=payload,
        asserts=_still_waiting(callback),
    )


def _still_waiting(callback: Callback) -> dict[str, Fact]:
    """What an apology or escalation states: this promise, still not kept."""
    return {"status": "pending", "promised_at": callback.promised_at}


def _escalation(callback: Callback, deadline: datetime, now: datetime, *, level: int) -> NoticeRequest:
    payload = CallbackEscalationPayload(
        callback_id=callback.callback_id,
        customer_id=callback.customer_id,
        topic=callback.topic,
        promised_at=callback.promised_at,
        minutes_late=max(0, int((now - callback.promised_at).total_seconds() // 60)),
        new_deadline=deadline,
        level=level,
        agent_name=callback.agent_name,
        team=callback.team,
    )
    return NoticeRequest.about(
        callback,
        NoticeKind.CALLBACK_ESCALATION,
        callback.promised_at,
        str(level),
        detected_at=now,
        payload=payload,
        asserts=_still_waiting(callback),
    )
