"""Each function's settings, named as template.yaml sets them; read and validated once at cold start.

Fields that several functions share come from the mixins in `headsup.platform.settings`, so a
variable is declared (and validated) the same way everywhere.
"""

from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, field_validator

from headsup.domain.answers import ANSWERS
from headsup.domain.assertions import SourceTable
from headsup.domain.kinds import NoticeKind, Topic
from headsup.platform.settings import (
    CustomersSettings,
    DueItemsSettings,
    LedgerSettings,
    NoticeQueueSettings,
    PreferencesSettings,
    UnsubscribeKeySettings,
)

# Every function reads this module, and each builds only its own policies: they are imported
# where they are built, so that a detector does not load the delivery's rules and rendering.
if TYPE_CHECKING:
    from headsup.domain.callbacks.rules import CallbackPolicy
    from headsup.domain.policy import DeliveryPolicy
    from headsup.domain.tickets.rules import TicketPolicy
    from headsup.domain.visits.rules import VisitPolicy
    from headsup.logic.delivery import RecheckPolicy


class DetectorSettings(NoticeQueueSettings):
    bills_table_name: Annotated[str, Field(alias="BILLS_TABLE_NAME", min_length=1)]
    increase_percent: Annotated[Decimal, Field(alias="BILL_INCREASE_PERCENT", ge=0)]
    increase_minimum: Annotated[Decimal, Field(alias="BILL_INCREASE_MINIMUM", ge=0)]


class VisitSettings(DueItemsSettings, NoticeQueueSettings):
    visit_slip_minutes: Annotated[int, Field(alias="VISIT_SLIP_MINUTES", ge=1)]

    @property
    def policy(self) -> "VisitPolicy":
        from headsup.domain.visits.rules import VisitPolicy

        return VisitPolicy(slip=timedelta(minutes=self.visit_slip_minutes))


class PolicySettings(DueItemsSettings):
    """The rule parameters both the indexer and the sweep apply (template Parameters)."""

    callback_grace_minutes: Annotated[int, Field(alias="CALLBACK_GRACE_MINUTES", ge=0)]
    callback_reschedule_minutes: Annotated[int, Field(alias="CALLBACK_RESCHEDULE_MINUTES", ge=1)]
    sla_hours_urgent: Annotated[int, Field(alias="SLA_HOURS_URGENT", ge=1)]
    sla_hours_high: Annotated[int, Field(alias="SLA_HOURS_HIGH", ge=1)]
    sla_hours_normal: Annotated[int, Field(alias="SLA_HOURS_NORMAL", ge=1)]
    sla_hours_low: Annotated[int, Field(alias="SLA_HOURS_LOW", ge=1)]
    sla_warn_percent: Annotated[Decimal, Field(alias="SLA_WARN_PERCENT", gt=0, lt=100)]
    follow_up_hours: Annotated[int, Field(alias="FOLLOW_UP_HOURS", ge=1)]

    @property
    def callback_policy(self) -> "CallbackPolicy":
        from headsup.domain.callbacks.rules import CallbackPolicy

        return CallbackPolicy(
            grace=timedelta(minutes=self.callback_grace_minutes),
            reschedule=timedelta(minutes=self.callback_reschedule_minutes),
        )

    @property
    def ticket_policy(self) -> "TicketPolicy":
        from headsup.domain.tickets.rules import TicketPolicy

        return TicketPolicy(
            sla={
                "urgent": timedelta(hours=self.sla_hours_urgent),
                "high": timedelta(hours=self.sla_hours_high),
                "normal": timedelta(hours=self.sla_hours_normal),
                "low": timedelta(hours=self.sla_hours_low),
            },
            warn_share=self.sla_warn_percent / 100,
            follow_up_after=timedelta(hours=self.follow_up_hours),
        )


class IndexerSettings(PolicySettings):
    """DueIndexerFunction: the policy fields only."""


class SweepSettings(PolicySettings, CustomersSettings, NoticeQueueSettings, LedgerSettings):
    due_index_name: Annotated[str, Field(alias="DUE_INDEX_NAME", min_length=1)]
    callbacks_table_name: Annotated[str, Field(alias="CALLBACKS_TABLE_NAME", min_length=1)]
    tickets_table_name: Annotated[str, Field(alias="TICKETS_TABLE_NAME", min_length=1)]
    visits_table_name: Annotated[str, Field(alias="VISITS_TABLE_NAME", min_length=1)]


class DeliverySettings(
    CustomersSettings,
    LedgerSettings,
    PreferencesSettings,
    UnsubscribeKeySettings,
    DueItemsSettings,
    NoticeQueueSettings,
):
    # The pace every delivery shares (adapters/pace.py); a notice waiting for it goes back to
    # NoticeQueue with a delay.
    sending_pace_table_name: Annotated[str, Field(alias="SENDING_PACE_TABLE_NAME", min_length=1)]
    sender_email: Annotated[str, Field(alias="SENDER_EMAIL", pattern=r"^[^@\s]+@[^@\s]+$")]
    support_reply_to: Annotated[str, Field(alias="SUPPORT_REPLY_TO", pattern=r"^[^@\s]+@[^@\s]+$")]
    escalation_topic_arn: Annotated[str, Field(alias="ESCALATION_TOPIC_ARN", pattern=r"^arn:")]
    templates_dir: Annotated[Path, Field(alias="TEMPLATES_DIR")]
    max_receive_count: Annotated[int, Field(alias="NOTICE_MAX_RECEIVE_COUNT", ge=1)]
    ledger_retention_days: Annotated[int, Field(alias="LEDGER_RETENTION_DAYS", ge=1)]

    # Links in emails may only point at the business's own configured https address.
    unsubscribe_base_url: Annotated[
        str, Field(alias="UNSUBSCRIBE_BASE_URL", pattern=r"^https://[^\s/?#]+(/[^\s?#]*)?$")
    ]
    ses_configuration_set: Annotated[str, Field(alias="SES_CONFIGURATION_SET", min_length=1)]
    quiet_hours_start: Annotated[time, Field(alias="QUIET_HOURS_START")]
    quiet_hours_end: Annotated[time, Field(alias="QUIET_HOURS_END")]
    quiet_hours_for_email: Annotated[bool, Field(alias="QUIET_HOURS_FOR_EMAIL")]
    quiet_hours_bypass_kinds: Annotated[str, Field(alias="QUIET_HOURS_BYPASS_KINDS")]
    max_notices_per_day: Annotated[int, Field(alias="MAX_NOTICES_PER_DAY", ge=1)]
    cap_bypass_kinds: Annotated[str, Field(alias="CAP_BYPASS_KINDS")]
    # The business's tables, whose items a notice that waited is checked against before it goes.
    bills_table_name: Annotated[str, Field(alias="BILLS_TABLE_NAME", min_length=1)]
    callbacks_table_name: Annotated[str, Field(alias="CALLBACKS_TABLE_NAME", min_length=1)]
    tickets_table_name: Annotated[str, Field(alias="TICKETS_TABLE_NAME", min_length=1)]
    visits_table_name: Annotated[str, Field(alias="VISITS_TABLE_NAME", min_length=1)]
    recheck_after_seconds: Annotated[int, Field(alias="RECHECK_AFTER_SECONDS", ge=0)]
    callback_reschedule_minutes: Annotated[int, Field(alias="CALLBACK_RESCHEDULE_MINUTES", ge=1)]
    email_receipt_window_minutes: Annotated[int, Field(alias="EMAIL_RECEIPT_WINDOW_MINUTES", ge=1)]
    sms_receipt_window_hours: Annotated[int, Field(alias="SMS_RECEIPT_WINDOW_HOURS", ge=1, le=72)]
    # Empty unless the business turned engagement tracking on for some topics.
    ses_tracked_configuration_set: Annotated[str, Field(alias="SES_TRACKED_CONFIGURATION_SET")] = ""
    engagement_tracking_topics: Annotated[str, Field(alias="ENGAGEMENT_TRACKING_TOPICS")] = ""
    answer_kinds: Annotated[str, Field(alias="ANSWER_KINDS")] = ""
    answer_link_days: Annotated[int, Field(alias="ANSWER_LINK_DAYS", ge=1, le=90)] = 14
    # Two-way SMS (the stack's own number, TwoWaySmsNumberCountry): SMS of the answerable kinds
    # offer "reply 1 or 2", and every SMS goes from that number, which receives the answers.
    two_way_sms: Annotated[bool, Field(alias="TWO_WAY_SMS")] = False
    sms_origination_number: Annotated[
        str, Field(alias="SMS_ORIGINATION_NUMBER", pattern=r"^(\+[1-9]\d{1,14})?$")
    ] = ""

    @field_validator("quiet_hours_bypass_kinds", "cap_bypass_kinds")
    @classmethod
    def _known_kinds(cls, value: str) -> str:
        return _only(value, {kind.value for kind in NoticeKind}, "unknown notice kinds")

    @property
    def delivery_policy(self) -> "DeliveryPolicy":
        from headsup.domain.policy import DeliveryPolicy, QuietHours

        return DeliveryPolicy(
            quiet_hours=QuietHours(
                start=self.quiet_hours_start,
                end=self.quiet_hours_end,
                applies_to_email=self.quiet_hours_for_email,
                bypass_kinds=_kinds(self.quiet_hours_bypass_kinds),
            ),
            max_per_day=self.max_notices_per_day,
            cap_bypass_kinds=_kinds(self.cap_bypass_kinds),
        )

    @property
    def source_tables(self) -> dict[SourceTable, str]:
        return {
            SourceTable.BILLS: self.bills_table_name,
            SourceTable.CALLBACKS: self.callbacks_table_name,
            SourceTable.TICKETS: self.tickets_table_name,
            SourceTable.VISITS: self.visits_table_name,
        }

    @property
    def recheck_policy(self) -> "RecheckPolicy":
        from headsup.logic.delivery import RecheckPolicy

        return RecheckPolicy(
            after=timedelta(seconds=self.recheck_after_seconds),
            callback_reschedule=timedelta(minutes=self.callback_reschedule_minutes),
        )

    @property
    def ledger_retention(self) -> timedelta:
        return timedelta(days=self.ledger_retention_days)

    @property
    def receipt_windows(self) -> dict[str, timedelta]:
        return {
            "email": timedelta(minutes=self.email_receipt_window_minutes),
            "sms": timedelta(hours=self.sms_receipt_window_hours),
        }

    @property
    def answer_kinds_enabled(self) -> frozenset[str]:
        return _kinds(self.answer_kinds)

    @property
    def sms_answer_kinds(self) -> frozenset[str]:
        """The kinds whose SMS offer answers: none unless two-way SMS is on."""
        if not self.two_way_sms:
            return frozenset()
        return self.answer_kinds_enabled & {kind.value for kind in ANSWERS}

    @property
    def tracked_topics(self) -> frozenset[str]:
        return _kinds(self.engagement_tracking_topics)

    @field_validator("engagement_tracking_topics")
    @classmethod
    def _known_topics(cls, value: str) -> str:
        return _only(value, {topic.value for topic in Topic}, "unknown topics")


def _only(listed: str, known: set[str], problem: str) -> str:
    """A CommaDelimitedList parameter, refused if it names anything not in `known`."""
    unknown = _kinds(listed) - known
    if unknown:
        raise ValueError(f"{problem} {sorted(unknown)}")
    return listed


def _kinds(listed: str) -> frozenset[str]:
    """A CommaDelimitedList parameter as the template joins it: `a,b` (or empty)."""
    return frozenset(kind.strip() for kind in listed.split(",") if kind.strip())


class UnsubscribeSettings(PreferencesSettings, UnsubscribeKeySettings):
    """UnsubscribeFunction: where preferences go, which secret signs the links, whose name to show;
    the notice templates (which languages the page offers) and CustomersTable (the customer's
    locale and timezone, the page's language and clock).

    Those two are optional: without the templates the page offers English only, and without
    CustomersTable it speaks the browser's language and shows times in UTC. template.yaml gives
    both (tests/template checks that it sets every variable read here)."""

    templates_dir: Annotated[Path | None, Field(alias="TEMPLATES_DIR")] = None
    customers_table_name: Annotated[str, Field(alias="CUSTOMERS_TABLE_NAME")] = ""

    @field_validator("templates_dir")
    @classmethod
    def _templates_exist(cls, value: Path | None) -> Path | None:
        # A layer left off the function (an empty /opt) must fail at cold start, not offer English
        # only unnoticed.
        if value is not None and not any((value / kind.value).is_dir() for kind in NoticeKind):
            raise ValueError(f"{value} holds no notice templates")
        return value


class FeedbackSettings(PreferencesSettings, LedgerSettings, NoticeQueueSettings):
    """SesFeedbackFunction: where addresses are suppressed, where the notice's outcome lives, and
    where a notice that never arrived goes for its second attempt."""


class SmsReceiptsSettings(LedgerSettings, NoticeQueueSettings):
    """SmsReceiptsFunction: where the notice's outcome lives and where its second attempt goes."""


class AnsweringSettings(LedgerSettings, NoticeQueueSettings):
    """What every function that records customers' answers reads: the ledger (answers recorded
    once), the business's tables the answers act on, the queue for the team's notices, business
    hours for callback slots, and the kinds whose answers are on."""

    callbacks_table_name: Annotated[str, Field(alias="CALLBACKS_TABLE_NAME", min_length=1)]
    tickets_table_name: Annotated[str, Field(alias="TICKETS_TABLE_NAME", min_length=1)]
    visits_table_name: Annotated[str, Field(alias="VISITS_TABLE_NAME", min_length=1)]
    quiet_hours_start: Annotated[time, Field(alias="QUIET_HOURS_START")]
    quiet_hours_end: Annotated[time, Field(alias="QUIET_HOURS_END")]
    answer_kinds: Annotated[str, Field(alias="ANSWER_KINDS")]

    @field_validator("answer_kinds")
    @classmethod
    def _answerable(cls, value: str) -> str:
        return _only(value, {kind.value for kind in ANSWERS}, "kinds that take no answer")

    @property
    def enabled_answer_kinds(self) -> frozenset[str]:
        return _kinds(self.answer_kinds)

    @property
    def answer_tables(self) -> dict[SourceTable, str]:
        return {
            SourceTable.CALLBACKS: self.callbacks_table_name,
            SourceTable.TICKETS: self.tickets_table_name,
            SourceTable.VISITS: self.visits_table_name,
        }


class AnswerSettings(AnsweringSettings, UnsubscribeKeySettings):
    """AnswerFunction: answering, and the key that signs the links it verifies."""


class InboundSmsSettings(AnsweringSettings, CustomersSettings, PreferencesSettings):
    """InboundSmsFunction: answering, who has a number on file, SMS opt-outs, which messages were
    handled (DueItemsTable), the business's name for replies, and how old a notice an SMS may answer."""

    due_items_table_name: Annotated[str, Field(alias="DUE_ITEMS_TABLE_NAME", min_length=1)]
    business_name: Annotated[str, Field(alias="BUSINESS_NAME", min_length=1)]
    sms_answer_window_hours: Annotated[int, Field(alias="SMS_ANSWER_WINDOW_HOURS", ge=1, le=720)]

    @property
    def answer_window(self) -> timedelta:
        return timedelta(hours=self.sms_answer_window_hours)
