"""Every kind of notice, and ONE table of what each kind is: its topic (what a customer can opt out
of), its audience (the customer, or the team on EscalationTopic), whether it goes by SMS first, and
the payload model its templates render. Everything else that asks about a kind reads this table."""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from headsup.domain.payloads import (
    BillCorrectionPayload,
    BillIncreasePayload,
    CallbackAnswerPayload,
    CallbackEscalationPayload,
    CallbackOverduePayload,
    CustomerMessagePayload,
    Payload,
    TicketAnswerPayload,
    TicketEscalationPayload,
    TicketFollowUpPayload,
    TicketSlaWarningPayload,
    TicketStalePayload,
    VisitAnswerPayload,
    VisitDonePayload,
    VisitEtaEarlierPayload,
    VisitOnTheWayPayload,
    VisitRunningLatePayload,
)


class NoticeKind(StrEnum):
    BILL_INCREASE = "bill_increase"
    BILL_CORRECTION = "bill_correction"
    CALLBACK_OVERDUE = "callback_overdue"
    CALLBACK_ESCALATION = "callback_escalation"
    TICKET_STALE = "ticket_stale"
    TICKET_ESCALATION = "ticket_escalation"
    TICKET_SLA_WARNING = "ticket_sla_warning"
    TICKET_FOLLOW_UP = "ticket_follow_up"
    VISIT_ON_THE_WAY = "visit_on_the_way"
    VISIT_RUNNING_LATE = "visit_running_late"
    VISIT_ETA_EARLIER = "visit_eta_earlier"
    VISIT_DONE = "visit_done"
    # To the team: a customer's answer someone must act on (domain/answers.py).
    TICKET_ANSWER = "ticket_answer"
    CALLBACK_ANSWER = "callback_answer"
    VISIT_ANSWER = "visit_answer"
    # To the team: an SMS a customer sent that headsup cannot act on by itself (domain/inbound_sms.py).
    CUSTOMER_MESSAGE = "customer_message"


class Audience(StrEnum):
    CUSTOMER = "customer"  # by the customer's own channel (email or SMS)
    TEAM = "team"  # on EscalationTopic


class Topic(StrEnum):
    """What a notice is about; customers will be able to opt out per topic."""

    BILLING = "billing"
    CALLBACKS = "callbacks"
    TICKETS = "tickets"
    VISITS = "visits"


@dataclass(frozen=True)
class KindSpec:
    topic: Topic
    audience: Audience
    payload: type[Payload]
    # Time-critical kinds go by SMS when the customer allows it, whatever their usual order: a
    # text is read within minutes, an email maybe after the technician has come and gone.
    sms_first: bool = False
    # Kinds that tell the same story about an item (a bill's figure, a visit's lateness) share a
    # name: a newer one supersedes an older one still held, and corrections read what of it was
    # told. None: the kind is its own story.
    shared_story: str | None = None
    # Payload fields that are times promised to the customer: never already past when sent.
    promises: tuple[str, ...] = ()

    def story(self, kind: "NoticeKind") -> str:
        return self.shared_story or kind.value


_CUSTOMER, _TEAM = Audience.CUSTOMER, Audience.TEAM

KINDS: Mapping[NoticeKind, KindSpec] = MappingProxyType(
    {
        NoticeKind.BILL_INCREASE: KindSpec(
            Topic.BILLING, _CUSTOMER, BillIncreasePayload, shared_story="bill"
        ),
        NoticeKind.BILL_CORRECTION: KindSpec(
            Topic.BILLING, _CUSTOMER, BillCorrectionPayload, shared_story="bill"
        ),
        NoticeKind.CALLBACK_OVERDUE: KindSpec(
            Topic.CALLBACKS, _CUSTOMER, CallbackOverduePayload, promises=("new_deadline",)
        ),
        NoticeKind.CALLBACK_ESCALATION: KindSpec(Topic.CALLBACKS, _TEAM, CallbackEscalationPayload),
        NoticeKind.TICKET_STALE: KindSpec(Topic.TICKETS, _CUSTOMER, TicketStalePayload),
        NoticeKind.TICKET_ESCALATION: KindSpec(Topic.TICKETS, _TEAM, TicketEscalationPayload),
        NoticeKind.TICKET_SLA_WARNING: KindSpec(Topic.TICKETS, _TEAM, TicketSlaWarningPayload),
        NoticeKind.TICKET_FOLLOW_UP: KindSpec(Topic.TICKETS, _CUSTOMER, TicketFollowUpPayload),
        NoticeKind.VISIT_ON_THE_WAY: KindSpec(
            Topic.VISITS, _CUSTOMER, VisitOnTheWayPayload, sms_first=True, promises=("eta",)
        ),
        NoticeKind.VISIT_RUNNING_LATE: KindSpec(
            Topic.VISITS,
            _CUSTOMER,
            VisitRunningLatePayload,
            sms_first=True,
            shared_story="visit_late",
            promises=("new_eta",),
        ),
        NoticeKind.VISIT_ETA_EARLIER: KindSpec(
            Topic.VISITS,
            _CUSTOMER,
            VisitEtaEarlierPayload,
            sms_first=True,
            shared_story="visit_late",
            promises=("new_eta",),
        ),
        NoticeKind.VISIT_DONE: KindSpec(Topic.VISITS, _CUSTOMER, VisitDonePayload),
        NoticeKind.TICKET_ANSWER: KindSpec(Topic.TICKETS, _TEAM, TicketAnswerPayload),
        NoticeKind.CALLBACK_ANSWER: KindSpec(Topic.CALLBACKS, _TEAM, CallbackAnswerPayload),
        NoticeKind.VISIT_ANSWER: KindSpec(Topic.VISITS, _TEAM, VisitAnswerPayload),
        # A message from a customer is a request for support, whatever it is about.
        NoticeKind.CUSTOMER_MESSAGE: KindSpec(Topic.TICKETS, _TEAM, CustomerMessagePayload),
    }
)

# Views of the table, for the callers that ask one question of it.
# Raised by a customer's answer or message, never by a detector or the sweep.
FROM_CUSTOMERS = frozenset(
    {
        NoticeKind.TICKET_ANSWER,
        NoticeKind.CALLBACK_ANSWER,
        NoticeKind.VISIT_ANSWER,
        NoticeKind.CUSTOMER_MESSAGE,
    }
)
TEAM_KINDS = frozenset(kind for kind, spec in KINDS.items() if spec.audience is _TEAM)
SMS_FIRST_KINDS = frozenset(kind for kind, spec in KINDS.items() if spec.sms_first)
