"""SLA warnings, stale-ticket updates and follow-ups: what is due when. Pure functions.

An active ticket's clock starts at `updated_at`. With SLA `s` and warning share `w`, window
`k` (1, 2, ...) has a team warning at `(k - 1 + w) * s` and a breach at `k * s`: the breach
tells the customer their ticket is still being worked on and escalates to the team. A sweep
acts only on the latest boundary it has reached (a sweep that was down for a day does not
replay a day of warnings), and every notice's id names its ticket, `updated_at` and window,
so a re-run can never send one twice. Any update to the ticket restarts the clock.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest
from headsup.domain.payloads import (
    TicketEscalationPayload,
    TicketFollowUpPayload,
    TicketSlaWarningPayload,
    TicketStalePayload,
)
from headsup.domain.tickets.models import Priority, Ticket


@dataclass(frozen=True)
class TicketPolicy:
    sla: dict[Priority, timedelta]
    warn_share: Decimal  # 0.8 for 80 %
    follow_up_after: timedelta

    def sla_for(self, ticket: Ticket) -> timedelta:
        return self.sla[ticket.priority]


class Boundary(StrEnum):
    WARN = "warn"
    BREACH = "breach"


@dataclass(frozen=True)
class TicketStep:
    notices: list[NoticeRequest] = field(default_factory=list)
    next_due: datetime | None = None


def first_due(ticket: Ticket, policy: TicketPolicy) -> datetime | None:
    if ticket.is_active:
        return _boundary_time(ticket, policy, 1, Boundary.WARN)
    if ticket.status == "solved" and ticket.solved_at is not None:
        return ticket.solved_at + policy.follow_up_after
    return None


def on_due(ticket: Ticket, now: datetime, policy: TicketPolicy) -> TicketStep:
    if ticket.status == "solved" and ticket.solved_at is not None:
        follow_up_at = ticket.solved_at + policy.follow_up_after
        if now < follow_up_at:
            return TicketStep(next_due=follow_up_at)
        return TicketStep(notices=[_follow_up(ticket, now)])
    if not ticket.is_active:
        return TicketStep()

    window, boundary = _latest_boundary(ticket, now, policy)
    next_window, next_boundary = (
        (window, Boundary.BREACH) if boundary is Boundary.WARN else (window + 1, Boundary.WARN)
    )
    next_due = _boundary_time(ticket, policy, next_window, next_boundary)
    if window == 0:
        return TicketStep(next_due=next_due)
    if boundary is Boundary.WARN:
        return TicketStep(notices=[_warning(ticket, now, policy, window)], next_due=next_due)
    return TicketStep(
        notices=[_status_update(ticket, now, window), _escalation(ticket, now, policy, window)],
        next_due=next_due,
    )


def _latest_boundary(ticket: Ticket, now: datetime, policy: TicketPolicy) -> tuple[int, Boundary]:
    """The last boundary at or before `now`, as (window, kind); window 0 means none yet."""
    elapsed = now - ticket.updated_at
    sla = policy.sla_for(ticket)
    full_windows = int(elapsed / sla)  # breaches passed
    into_window = elapsed - full_windows * sla
    if into_window >= sla * float(policy.warn_share):
        return full_windows + 1, Boundary.WARN
    if full_windows >= 1:
        return full_windows, Boundary.BREACH
    return 0, Boundary.BREACH


def _boundary_time(ticket: Ticket, policy: TicketPolicy, window: int, boundary: Boundary) -> datetime:
    sla = policy.sla_for(ticket)
    if boundary is Boundary.BREACH:
        return ticket.updated_at + sla * window
    return ticket.updated_at + sla * (window - 1) + sla * float(policy.warn_share)


def _hours(delta: timedelta) -> int:
    return int(delta.total_seconds() // 3600)


def _window_notice(
    kind: NoticeKind, ticket: Ticket, now: datetime, window: int, payload: BaseModel
) -> NoticeRequest:
    """A notice about one SLA window: identified by the ticket's `updated_at` and the window."""
    # It states the ticket is still where it was: not updated (nor solved) since.
    return NoticeRequest.about(
        ticket,
        kind,
        ticket.updated_at,
        str(window),
        detected_at=now,
        payload=payload,
        asserts={"status": ticket.status, "updated_at": ticket.updated_at},
    )


def _for_the_team(ticket: Ticket, policy: TicketPolicy, window: int) -> dict[str, Any]:
    """What the team is told about a ticket in any SLA notice."""
    return {
        "ticket_id": ticket.ticket_id,
        "customer_id": ticket.customer_id,
        "subject": ticket.subject,
        "priority": ticket.priority,
        "updated_at": ticket.updated_at,
        "sla_hours": _hours(policy.sla_for(ticket)),
        "window": window,
    }


def _status_update(ticket: Ticket, now: datetime, window: int) -> NoticeRequest:
    payload = TicketStalePayload(
        ticket_id=ticket.ticket_id,
        subject=ticket.subject,
        created_at=ticket.created_at,
        open_for_hours=_hours(now - ticket.created_at),
    )
    return _window_notice(NoticeKind.TICKET_STALE, ticket, now, window, payload)


def _escalation(ticket: Ticket, now: datetime, policy: TicketPolicy, window: int) -> NoticeRequest:
    payload = TicketEscalationPayload(
        **_for_the_team(ticket, policy, window),
        status=ticket.status,
        hours_without_update=_hours(now - ticket.updated_at),
    )
    return _window_notice(NoticeKind.TICKET_ESCALATION, ticket, now, window, payload)


def _warning(ticket: Ticket, now: datetime, policy: TicketPolicy, window: int) -> NoticeRequest:
    breach_at = _boundary_time(ticket, policy, window, Boundary.BREACH)
    payload = TicketSlaWarningPayload(
        **_for_the_team(ticket, policy, window),
        breach_at=breach_at,
        minutes_left=max(0, int((breach_at - now).total_seconds() // 60)),
    )
    return _window_notice(NoticeKind.TICKET_SLA_WARNING, ticket, now, window, payload)


def _follow_up(ticket: Ticket, now: datetime) -> NoticeRequest:
    assert ticket.solved_at is not None  # checked by the caller; the model requires it when solved
    payload = TicketFollowUpPayload(
        ticket_id=ticket.ticket_id, subject=ticket.subject, solved_at=ticket.solved_at
    )
    # Once per solution: a ticket reopened and solved again gets asked again.
    return NoticeRequest.about(
        ticket,
        NoticeKind.TICKET_FOLLOW_UP,
        ticket.solved_at,
        detected_at=now,
        payload=payload,
        asserts={"status": "solved", "solved_at": ticket.solved_at},
    )
