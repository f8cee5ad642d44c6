"""Kind-specific facts carried by a notice request; the templates render exactly these."""

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

Period = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class Payload(BaseModel):
    """Facts as a detector states them: immutable, and nothing the template does not expect."""

    # Compiled when a kind's payload is first built or read: a function handles a few kinds.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class LineItemChange(Payload):
    description: str
    previous_amount: Decimal | None  # None: the item is new on this bill
    new_amount: Decimal

    @property
    def change(self) -> Decimal:
        return self.new_amount - (self.previous_amount or Decimal(0))

    @property
    def is_new(self) -> bool:
        return self.previous_amount is None


class BillIncreasePayload(Payload):
    period: Period
    # The period compared against; equal to `period` when a bill was corrected upwards.
    compared_period: Period
    is_correction: bool
    currency: CurrencyCode
    previous_amount: Decimal
    new_amount: Decimal
    difference: Decimal
    percent: Decimal  # e.g. 20.5 for +20.5 %
    due_date: date | None
    changed_items: list[LineItemChange]  # new or grown items, largest change first


class BillCorrectionPayload(Payload):
    """To the customer: a bill we told them about was corrected; the figure they had, and the right one.

    `told_amount` is what the detector saw before the correction; delivery replaces it with the
    figure the customer was actually given (the last notice about the bill that reached them).
    """

    period: Period
    currency: CurrencyCode
    told_amount: Decimal
    corrected_amount: Decimal
    due_date: date | None
    due_date_changed: bool

    @property
    def went_down(self) -> bool:
        return self.corrected_amount < self.told_amount

    @property
    def difference(self) -> Decimal:
        """How far the right figure is from the one told, always positive."""
        return abs(self.corrected_amount - self.told_amount)


class CallbackOverduePayload(Payload):
    """To the customer: sorry, the team knows, and here is the new time."""

    callback_id: str
    topic: str  # what they called about, in their or the agent's words
    promised_at: AwareDatetime
    new_deadline: AwareDatetime
    agent_name: str | None = None


class CallbackEscalationPayload(Payload):
    """To the team: a promised callback is late (level 1) or still late after the new deadline (2)."""

    callback_id: str
    customer_id: str
    topic: str
    promised_at: AwareDatetime
    minutes_late: int
    new_deadline: AwareDatetime
    level: Annotated[int, Field(ge=1, le=2)]
    agent_name: str | None = None
    team: str | None = None


class TicketStalePayload(Payload):
    """To the customer: your ticket is still being worked on."""

    ticket_id: str
    subject: str
    created_at: AwareDatetime
    open_for_hours: int


class TicketEscalationPayload(Payload):
    """To the team: a ticket went a whole SLA window (or more) without an update."""

    ticket_id: str
    customer_id: str
    subject: str
    priority: str
    status: str
    updated_at: AwareDatetime
    hours_without_update: int
    sla_hours: int
    window: int  # 1 for the first breach, 2 for one more window, ...


class TicketSlaWarningPayload(Payload):
    """To the team: a ticket will breach its SLA soon unless someone updates it."""

    ticket_id: str
    customer_id: str
    subject: str
    priority: str
    updated_at: AwareDatetime
    breach_at: AwareDatetime
    minutes_left: int
    sla_hours: int
    window: int


class TicketFollowUpPayload(Payload):
    """To the customer: solved a while ago; is everything working now?"""

    ticket_id: str
    subject: str
    solved_at: AwareDatetime


class VisitOnTheWayPayload(Payload):
    visit_id: str
    technician_first_name: str
    eta: AwareDatetime
    address_hint: str | None = None


class VisitRunningLatePayload(Payload):
    visit_id: str
    technician_first_name: str
    window_start: AwareDatetime
    window_end: AwareDatetime
    new_eta: AwareDatetime | None  # None: not yet known (the window passed without an update)
    delay_reason: str | None = None


class VisitEtaEarlierPayload(Payload):
    """To the customer: better news after a "running late": the technician will be there sooner.

    `told_eta` is the late ETA the customer was given; delivery sets it from the notice that
    actually reached them.
    """

    visit_id: str
    technician_first_name: str
    told_eta: AwareDatetime
    new_eta: AwareDatetime
    window_end: AwareDatetime

    @property
    def back_on_time(self) -> bool:
        return self.new_eta <= self.window_end


class VisitDonePayload(Payload):
    visit_id: str
    technician_first_name: str


class CustomerAnswerPayload(Payload):
    """To the team: a customer answered a notice in a way someone must act on (still broken, call
    me, please reschedule, something is not right). `reference` is the ticket, callback or visit."""

    customer_id: str
    reference: str
    answered_kind: str  # the kind of the notice answered
    answer: str
    answered_at: AwareDatetime
    source: str  # `link` (a tap in an email) or `sms` (a reply)
    slot: AwareDatetime | None = None  # for "call me later": the time the customer chose


# One model per kind (a kind's payload names it), the same facts for each source.
class TicketAnswerPayload(CustomerAnswerPayload):
    pass


class CallbackAnswerPayload(CustomerAnswerPayload):
    pass


class VisitAnswerPayload(CustomerAnswerPayload):
    pass


class CustomerMessagePayload(Payload):
    """To the team: an SMS a customer (or a number not on file) sent that headsup cannot act on by
    itself: free text, or an answer with nothing to answer. The team reads it and replies.

    `text` is what they wrote (control characters removed, at most 1,600 characters); it goes to
    EscalationTopic only, never to a log. `sender` is the number it came from, only when no single
    customer has that number on file: the team has no other way to reach them.
    """

    customer_id: str | None  # None: no customer, or several, have the number on file
    matched_customers: list[str] = Field(default_factory=list)  # when several share the number
    sender: str | None = None
    inbound_message_id: str
    received_at: AwareDatetime
    text: Annotated[str, StringConstraints(max_length=1600)]
    text_truncated: bool = False
    why: str  # `free_text`, `nothing_to_answer`, `not_on_file`, `shared_number`
    # The latest notice the customer was sent within SmsAnswerWindowHours: what they may be answering.
    replied_to_notice_id: str | None = None
    replied_to_kind: str | None = None
    reference: str | None = None  # that notice's ticket, callback, visit or bill
    acknowledged: bool = False  # they were texted that a person will reply
