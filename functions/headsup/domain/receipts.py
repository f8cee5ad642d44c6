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
    DELIVERED = "delivered"  # the receiving server accepted it
    REJECTED = "rejected"  # SES refused to send it (a virus)
    RENDERING_FAILED = "rendering_failed"
    BOUNCED_PERMANENT = "bounced:permanent"  # the address does not exist
    COMPLAINED = "complained"  # delivered, and marked as spam


RANK: dict[DeliveryState, int] = {
    DeliveryState.DELAYED: 1,
    DeliveryState.BOUNCED_TRANSIENT: 2,
    DeliveryState.DELIVERED: 3,
    DeliveryState.REJECTED: 4,
    DeliveryState.RENDERING_FAILED: 4,
    DeliveryState.BOUNCED_PERMANENT: 4,
    DeliveryState.COMPLAINED: 5,
}


@dataclass(frozen=True)
class Receipt:
    """One provider report about one message, matched to its notice by the notice id it carried."""

    notice_id: str | None  # None: the message carried no notice id of ours
    state: DeliveryState
    at: datetime  # the provider's own time of the event, so a replay writes the same values
    provider_message_id: str

    @property
    def rank(self) -> int:
        return RANK[self.state]

    @property
    def settles(self) -> bool:
        """Whether it says for certain what became of the message: everything but a delay (SES
        is still trying). Such a receipt resolves a notice recorded `unconfirmed`."""
        return self.state is not DeliveryState.DELAYED
