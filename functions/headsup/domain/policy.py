"""The one delivery policy in front of every send: send now, hold until later, or skip. Pure.

The same rules for every notice kind, in this order (the first that applies decides):
1. `do_not_contact` on the customer: skip.
2. The customer opted out of the notice's topic (billing, callbacks, tickets, visits): skip.
   The customer paused every notice until a time that has not come: skip as `paused`.
3. No usable channel (missing address, channel opted out, the topic opted out on that channel
   alone, email suppressed after a bounce or complaint, SMS number opted out with the carrier, or,
   for a notice's second attempt, the channel its first attempt failed on): skip with
   `no_channel`. A suppressed or missing email falls back to SMS when the customer allows it, and
   the reverse.
4. The customer already had `max_per_day` notices in the last 24 hours (their sent log,
   domain/sent_log.py, which the claim of a notice sent keeps strict): hold until the oldest of
   them is 24 hours old, unless the kind may bypass the cap (a technician on the way or running
   late: true for an hour, so held it would only ever be skipped as expired). It still counts
   towards the cap for the notices after it.
5. Outside the quiet-hours window on the customer's own clock (SMS always, email if configured),
   unless the kind may bypass it: hold until the window next opens.
Holds are combined: a notice capped until 22:30 is then held for quiet hours until 08:00. A
notice with an `expires_at` (a technician's "on the way") that could only go after it is skipped
as `expired` instead: sent late it would be wrong.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from headsup.domain.channels import Channel, NoRoute, Route, choose_route, contact_barred
from headsup.domain.customer import Customer
from headsup.domain.kinds import SMS_FIRST_KINDS
from headsup.domain.notices import NoticeRequest
from headsup.domain.preferences import Preferences
from headsup.domain.sent_log import DAY


@dataclass(frozen=True)
class QuietHours:
    start: time  # the window in which notices may go, on the customer's clock
    end: time
    applies_to_email: bool = False
    bypass_kinds: frozenset[str] = frozenset()

    def open_at(self, moment: datetime, zone: ZoneInfo) -> bool:
        if self.start == self.end:
            return True  # no quiet hours at all
        local = moment.astimezone(zone).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # a window across midnight

    def next_opening(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The first moment at or after `moment` inside the window, on the customer's clock.

        Built from the local date and the start time, so a daylight-saving change in between
        still gives 08:00 local, not 07:00 or 09:00.
        """
        if self.open_at(moment, zone):
            return moment
        local = moment.astimezone(zone)
        for days_ahead in range(2):
            day = local.date() + timedelta(days=days_ahead)
            opening = datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC)
            if opening >= moment:
                return opening
        raise AssertionError("a daily window always opens within two days")


@dataclass(frozen=True)
class DeliveryPolicy:
    quiet_hours: QuietHours
    max_per_day: int
    cap_bypass_kinds: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Send:
    route: Route


@dataclass(frozen=True)
class Hold:
    until: datetime
    reason: str  # "frequency_cap", "quiet_hours" or both, joined with "+"
    route: Route


@dataclass(frozen=True)
class Skip:
    reason: str  # "do_not_contact" | "expired" | "opted_out_topic" | "paused" | "no_channel"
    detail: str  # no personal data


Decision = Send | Hold | Skip


@dataclass(frozen=True)
class Recipient:
    """The customer a notice is for, as delivery reads them just before deciding."""

    customer: Customer
    preferences: Preferences
    recent_sends: Sequence[datetime]  # when their notices of the last day reached them (their sent log)
    sms_opted_out: Callable[[str], bool]  # asks the carrier; only for a number about to be used


def decide(request: NoticeRequest, recipient: Recipient, now: datetime, policy: DeliveryPolicy) -> Decision:
    customer, preferences = recipient.customer, recipient.preferences
    unwanted = _unwanted(request, recipient, now)
    if unwanted is not None:
        return unwanted
    route = choose_route(
        customer,
        recipient.sms_opted_out,
        sms_first=request.kind in SMS_FIRST_KINDS,
        blocked_channels=_blocked_channels(request, preferences),
        email_suppressed=preferences.email_suppressed(customer.email),
    )
    if isinstance(route, NoRoute):
        return Skip(route.reason, route.detail)
    return _when(request, recipient, route, now, policy)


def _blocked_channels(request: NoticeRequest, preferences: Preferences) -> dict[str, str]:
    blocked = {channel: f"customer opted out of {channel}" for channel in preferences.opted_out_channels}
    for channel in preferences.channels_off_for(request.topic):
        blocked.setdefault(channel, f"customer opted out of {request.topic} by {channel}")
    if request.fallback_of is not None:
        blocked[request.fallback_of.failed_channel] = "this notice failed there for good"
    return blocked


def _unwanted(request: NoticeRequest, recipient: Recipient, now: datetime) -> Skip | None:
    """Rules 1 and 2, and a notice already past its use: skipped before any channel is tried."""
    preferences = recipient.preferences
    barred = contact_barred(recipient.customer)
    if barred is not None:
        return Skip(barred.reason, barred.detail)
    if request.expires_at is not None and now >= request.expires_at:
        return Skip("expired", "no longer useful to the customer")
    if request.topic in preferences.opted_out_topics:
        return Skip("opted_out_topic", f"customer opted out of {request.topic} notices")
    paused_until = preferences.paused_at(now)
    if paused_until is not None:
        # When it ends, in UTC: what the support desk is asked, and nothing about the customer.
        return Skip("paused", f"customer paused notices until {paused_until.astimezone(UTC).isoformat()}")
    return None


def _when(
    request: NoticeRequest, recipient: Recipient, route: Route, now: datetime, policy: DeliveryPolicy
) -> Decision:
    """Rules 4 and 5: send now, or hold until the cap and quiet hours allow."""
    reasons: list[str] = []
    until = now
    within_day = sorted(sent for sent in recipient.recent_sends if now - sent < DAY)
    if request.kind not in policy.cap_bypass_kinds and len(within_day) >= policy.max_per_day:
        # The cap frees a place when the oldest of the last `max_per_day` sends turns 24 h old.
        until = within_day[-policy.max_per_day] + DAY
        reasons.append("frequency_cap")
    quiet = policy.quiet_hours
    if _quiet_hours_apply(quiet, request, route):
        opening = quiet.next_opening(until, recipient.customer.zone)
        if opening > until:
            until = opening
            reasons.append("quiet_hours")
    if reasons and request.expires_at is not None and until >= request.expires_at:
        return Skip("expired", f"held for {'+'.join(reasons)} it would no longer be useful")
    if reasons:
        return Hold(until=until, reason="+".join(reasons), route=route)
    return Send(route)


def _quiet_hours_apply(quiet: QuietHours, request: NoticeRequest, route: Route) -> bool:
    if request.kind in quiet.bypass_kinds:
        return False
    return route.channel is Channel.SMS or quiet.applies_to_email
