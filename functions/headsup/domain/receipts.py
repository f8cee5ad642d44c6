"""What a provider says happened to a notice after it accepted it: its delivery state.

States only move forward (NOTICE-LIFECYCLE principle 2): receipts arrive late, twice and out of
order, so each state has a rank and a receipt is recorded only when it ranks above the state the
notice already has. A delay reported after the delivery changes nothing; a complaint after the
delivery is a later fact, and is recorded.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class DeliveryState(StrEnum):
    DELAYED = "delayed"  # the receiving server deferred it; SES keeps trying
    BOUNCED_TRANSIENT = "bounced:transient"  # SES gave up after a temporary failure
    FAILED_TRANSIENT = "failed:transient"  # the carrier could not reach the phone (off, out of range)
    DELIVERED = "delivered"  # the receiving server (or the carrier) accepted it
    OPENED = "opened"  # only with engagement tracking on for its topic
    CLICKED = "clicked"
    REJECTED = "rejected"  # SES refused to send it (a virus)
    RENDERING_FAILED = "rendering_failed"
    BOUNCED_PERMANENT = "bounced:permanent"  # the address does not exist
    FAILED_PERMANENT = "failed:permanent"  # blocked, opted out or not a mobile number
    COMPLAINED = "complained"  # delivered, and marked as spam


RANK: dict[DeliveryState, int] = {
    DeliveryState.DELAYED: 1,
    DeliveryState.BOUNCED_TRANSIENT: 2,
    DeliveryState.FAILED_TRANSIENT: 2,
    DeliveryState.DELIVERED: 3,
    DeliveryState.OPENED: 4,
    DeliveryState.CLICKED: 5,
    # A permanent failure never follows a delivery; it ranks above them all but a complaint so
    # that a replayed delivery cannot hide it.
    DeliveryState.REJECTED: 6,
    DeliveryState.RENDERING_FAILED: 6,
    DeliveryState.BOUNCED_PERMANENT: 6,
    DeliveryState.FAILED_PERMANENT: 6,
    DeliveryState.COMPLAINED: 7,
}

# The message never reached the customer and never will by this channel: what a fallback by
# the other channel is for.
NEVER_ARRIVED = frozenset(
    {
        DeliveryState.REJECTED,
        DeliveryState.RENDERING_FAILED,
        DeliveryState.BOUNCED_PERMANENT,
        DeliveryState.FAILED_PERMANENT,
    }
)


@dataclass(frozen=True)
class Receipt:
    """One provider report about one message, matched to its notice by the notice id it carried."""

    notice_id: str | None  # None: the message carried no notice id of ours
    state: DeliveryState
    at: datetime  # the provider's own time of the event, so a replay writes the same values
    provider_message_id: str
    # The provider's reason in a few words (`unreachable`, `blocked`, `no_such_address`...);
    # never the provider's own text, which can quote the address.
    detail: str | None = None

    @property
    def rank(self) -> int:
        return RANK[self.state]

    @property
    def settles(self) -> bool:
        """Whether it says for certain what became of the message: everything but a delay (SES
        is still trying). Such a receipt resolves a notice recorded `unconfirmed`."""
        return self.state is not DeliveryState.DELAYED

    @property
    def never_arrived(self) -> bool:
        return self.state in NEVER_ARRIVED

    @property
    def metric_suffix(self) -> str:
        """`Delivered`, `BouncedPermanent`...: the state as a metric name's end."""
        return "".join(part.title() for part in self.state.replace(":", "_").split("_"))
