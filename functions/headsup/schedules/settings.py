from datetime import timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from headsup.detectors.callbacks.rules import CallbackPolicy
from headsup.detectors.tickets.rules import TicketPolicy
from headsup.shared.settings import EnvSettings


class PolicySettings(EnvSettings):
    """The rule parameters both the indexer and the sweep apply (template Parameters)."""

    due_items_table_name: Annotated[str, Field(alias="DUE_ITEMS_TABLE_NAME", min_length=1)]
    due_index_shards: Annotated[int, Field(alias="DUE_INDEX_SHARDS", ge=1, le=100)]
    callback_grace_minutes: Annotated[int, Field(alias="CALLBACK_GRACE_MINUTES", ge=0)]
    callback_reschedule_minutes: Annotated[int, Field(alias="CALLBACK_RESCHEDULE_MINUTES", ge=1)]
    sla_hours_urgent: Annotated[int, Field(alias="SLA_HOURS_URGENT", ge=1)]
    sla_hours_high: Annotated[int, Field(alias="SLA_HOURS_HIGH", ge=1)]
    sla_hours_normal: Annotated[int, Field(alias="SLA_HOURS_NORMAL", ge=1)]
    sla_hours_low: Annotated[int, Field(alias="SLA_HOURS_LOW", ge=1)]
    sla_warn_percent: Annotated[Decimal, Field(alias="SLA_WARN_PERCENT", gt=0, lt=100)]
    follow_up_hours: Annotated[int, Field(alias="FOLLOW_UP_HOURS", ge=1)]

    @property
    def callback_policy(self) -> CallbackPolicy:
        return CallbackPolicy(
            grace=timedelta(minutes=self.callback_grace_minutes),
            reschedule=timedelta(minutes=self.callback_reschedule_minutes),
        )

    @property
    def ticket_policy(self) -> TicketPolicy:
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
    pass


class SweepSettings(PolicySettings):
    due_index_name: Annotated[str, Field(alias="DUE_INDEX_NAME", min_length=1)]
    callbacks_table_name: Annotated[str, Field(alias="CALLBACKS_TABLE_NAME", min_length=1)]
    tickets_table_name: Annotated[str, Field(alias="TICKETS_TABLE_NAME", min_length=1)]
    visits_table_name: Annotated[str, Field(alias="VISITS_TABLE_NAME", min_length=1)]
    customers_table_name: Annotated[str, Field(alias="CUSTOMERS_TABLE_NAME", min_length=1)]
    notice_queue_url: Annotated[str, Field(alias="NOTICE_QUEUE_URL", min_length=1)]
    default_locale: Annotated[str, Field(alias="DEFAULT_LOCALE", min_length=2)]
    default_timezone: Annotated[str, Field(alias="DEFAULT_TIMEZONE", min_length=1)]
