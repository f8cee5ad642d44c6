"""What a change to a visit, or its window passing, tells the customer. Pure functions.

`late_eta` is the state carried between changes: the ETA the customer was last told about in a
running-late notice (None: no ETA told yet, so the next one past the window is). A further slip is only
worth another message when the ETA moves at least `slip` past it; an ETA that moves earlier,
or back inside the window, never produces a late notice.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from headsup.domain.assertions import Fact, Told
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest
from headsup.domain.payloads import (
    VisitDonePayload,
    VisitEtaEarlierPayload,
    VisitOnTheWayPayload,
    VisitRunningLatePayload,
)
from headsup.domain.visits.models import Visit

# "On the way" and "running late" are worth nothing once the visit is long past: held (quiet
# hours, the daily cap) beyond this, they are skipped as expired instead of sent late.
RELEVANT_FOR = timedelta(hours=3)


@dataclass(frozen=True)
class VisitPolicy:
    slip: timedelta


@dataclass(frozen=True)
class VisitStep:
    notices: list[NoticeRequest] = field(default_factory=list)
    late_eta: datetime | None = None
    check_at: datetime | None = None  # when the sweep should check the technician has arrived
    # How many lateness notices (running late, sooner) the visit has had: part of their ids, so
    # an ETA that swings back and forth is news each time, and a replay is not.
    news: int = 0


def on_change(  # noqa: PLR0913 - the visit before and after, what was told (ETA and count), policy, time
    previous: Visit | None,
    visit: Visit,
    late_eta: datetime | None,
    policy: VisitPolicy,
    now: datetime,
    *,
    news: int = 0,
) -> VisitStep:
    notices: list[NoticeRequest] = []
    became = previous is None or previous.status != visit.status
    if visit.status == "en_route" and became:
        notices.append(_on_the_way(visit, now))
    if visit.status == "done" and became:
        notices.append(_thank_you(visit, now))
    if visit.is_open and _worth_a_late_notice(visit, late_eta, policy):
        notices.append(_running_late(visit, now, new_eta=visit.eta, news=news))
        late_eta, news = visit.eta, news + 1
    elif visit.is_open and late_eta is not None and late_eta - visit.eta >= policy.slip:
        notices += _sooner(visit, late_eta, now, news)
        late_eta, news = visit.eta, news + 1
    return VisitStep(notices, late_eta, visit.window_end if visit.is_open else None, news)


def _sooner(visit: Visit, told_eta: datetime, now: datetime, news: int) -> list[NoticeRequest]:
    """The ETA moved earlier than the late one last told: the better news, once. If that
    "running late" never reached the customer (still held), only a running-late notice with the
    new ETA can go (or nothing, back inside the window): the customer hears one thing, right."""
    payload = VisitEtaEarlierPayload(
        visit_id=visit.visit_id,
        technician_first_name=visit.technician_first_name,
        told_eta=told_eta,
        new_eta=visit.eta,
        window_end=visit.window_end,
    )
    sooner = NoticeRequest.about(
        visit,
        NoticeKind.VISIT_ETA_EARLIER,
        told_eta,
        visit.eta,
        str(news),
        detected_at=now,
        payload=payload,
        expires_at=max(visit.eta, now) + RUNNING_LATE_SHELF_LIFE,
        asserts=_late_facts(visit.eta),
        told=Told.AFTER,
    )
    if visit.eta <= visit.window_end:
        return [sooner]
    return [sooner, _running_late(visit, now, new_eta=visit.eta, news=news, told=Told.FIRST)]


def _late_facts(eta: datetime | None) -> dict[str, Fact]:
    """What a late notice states: the visit still to come, at the ETA it gives (if it gives one)."""
    return {"open": "yes"} if eta is None else {"open": "yes", "eta": eta}


def settled_later(step: VisitStep, late_eta: datetime | None, news: int = 0) -> VisitStep:
    """`step` for a change after which, later in the same batch, the visit is arrived, done or
    cancelled: "on the way" and "running late" would already be wrong when they arrived, so only
    the thank-you stands, and the ETA the customer was told stays `late_eta`."""
    kept = [notice for notice in step.notices if notice.kind is NoticeKind.VISIT_DONE]
    return VisitStep(kept, late_eta, step.check_at, news)


def on_window_end(visit: Visit, late_eta: datetime | None, now: datetime, *, news: int = 0) -> VisitStep:
    """The sweep's check: the window has passed; has the technician arrived?"""
    if not visit.is_open:
        return VisitStep(late_eta=late_eta, news=news)
    if now < visit.window_end:
        return VisitStep(late_eta=late_eta, check_at=visit.window_end, news=news)
    if late_eta is not None:
        return VisitStep(late_eta=late_eta, news=news)  # already told, with the ETA the app gave
    new_eta = visit.eta if visit.eta > now else None  # an ETA already in the past says nothing
    # With no new time to give, the customer was promised one: the first ETA the app reports is
    # then told however small the slip (late_eta stays None). The window-end notice is keyed by
    # the window, so a second look by the sweep cannot repeat it.
    return VisitStep([_running_late(visit, now, new_eta=new_eta, news=news)], late_eta=new_eta, news=news + 1)


RUNNING_LATE_SHELF_LIFE = timedelta(hours=1)


def _worth_a_late_notice(visit: Visit, late_eta: datetime | None, policy: VisitPolicy) -> bool:
    if visit.eta <= visit.window_end:
        return False
    return late_eta is None or visit.eta - late_eta >= policy.slip


def _on_the_way(visit: Visit, now: datetime) -> NoticeRequest:
    payload = VisitOnTheWayPayload(
        visit_id=visit.visit_id,
        technician_first_name=visit.technician_first_name,
        eta=visit.eta,
        address_hint=visit.address_hint,
    )
    # One per visit: a technician who turns back and sets off again does not re-announce.
    # Once the technician is due at the door, "on the way" is no news: held past that, it is skipped.
    return NoticeRequest.about(
        visit,
        NoticeKind.VISIT_ON_THE_WAY,
        detected_at=now,
        payload=payload,
        expires_at=visit.eta,
        asserts={"status": "en_route"},
    )


def _running_late(
    visit: Visit,
    now: datetime,
    *,
    new_eta: datetime | None,
    news: int,
    told: Told = Told.ANY,
) -> NoticeRequest:
    payload = VisitRunningLatePayload(
        visit_id=visit.visit_id,
        technician_first_name=visit.technician_first_name,
        window_start=visit.window_start,
        window_end=visit.window_end,
        new_eta=new_eta,
        delay_reason=(visit.delay_reason or "").strip() or None,
    )
    # Keyed by the ETA announced (or the window, when none is known) and, after the first, how
    # many lateness notices came before: the same slip seen twice (a replayed record, the sweep
    # and the stream) is one notice, and slipping back to an ETA told before is news again.
    facts: tuple[datetime | str, ...] = (new_eta if new_eta is not None else visit.window_end,)
    if news:
        facts += (str(news),)
    # News about today's visit: worth sending until shortly after the new ETA, not a day later
    # (the frequency cap or quiet hours could otherwise hold it that long).
    expires_at = max(new_eta or now, now) + RUNNING_LATE_SHELF_LIFE
    return NoticeRequest.about(
        visit,
        NoticeKind.VISIT_RUNNING_LATE,
        *facts,
        detected_at=now,
        payload=payload,
        expires_at=expires_at,
        asserts=_late_facts(new_eta),
        told=told,
    )


def _thank_you(visit: Visit, now: datetime) -> NoticeRequest:
    payload = VisitDonePayload(visit_id=visit.visit_id, technician_first_name=visit.technician_first_name)
    return NoticeRequest.about(
        visit, NoticeKind.VISIT_DONE, detected_at=now, payload=payload, asserts={"status": "done"}
    )
