from datetime import time, timedelta
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator

from headsup.delivery.policy import DeliveryPolicy, QuietHours
from headsup.notices import NoticeKind
from headsup.shared.settings import EnvSettings


class DeliverySettings(EnvSettings):
    customers_table_name: Annotated[str, Field(alias="CUSTOMERS_TABLE_NAME", min_length=1)]
    ledger_table_name: Annotated[str, Field(alias="NOTICE_LEDGER_TABLE_NAME", min_length=1)]
    sender_email: Annotated[str, Field(alias="SENDER_EMAIL", pattern=r"^[^@\s]+@[^@\s]+$")]
    business_name: Annotated[str, Field(alias="BUSINESS_NAME", min_length=1)]
    support_reply_to: Annotated[str, Field(alias="SUPPORT_REPLY_TO", pattern=r"^[^@\s]+@[^@\s]+$")]
    escalation_topic_arn: Annotated[str, Field(alias="ESCALATION_TOPIC_ARN", pattern=r"^arn:")]
    templates_dir: Annotated[Path, Field(alias="TEMPLATES_DIR")]
    default_locale: Annotated[str, Field(alias="DEFAULT_LOCALE", min_length=2)]
    default_timezone: Annotated[str, Field(alias="DEFAULT_TIMEZONE", min_length=1)]
    max_receive_count: Annotated[int, Field(alias="NOTICE_MAX_RECEIVE_COUNT", ge=1)]
    ledger_retention_days: Annotated[int, Field(alias="LEDGER_RETENTION_DAYS", ge=1)]

    preferences_table_name: Annotated[str, Field(alias="PREFERENCES_TABLE_NAME", min_length=1)]
    unsubscribe_key_secret_arn: Annotated[str, Field(alias="UNSUBSCRIBE_KEY_SECRET_ARN", pattern=r"^arn:")]
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
    due_items_table_name: Annotated[str, Field(alias="DUE_ITEMS_TABLE_NAME", min_length=1)]
    due_index_shards: Annotated[int, Field(alias="DUE_INDEX_SHARDS", ge=1, le=100)]

    @field_validator("quiet_hours_bypass_kinds", "cap_bypass_kinds")
    @classmethod
    def _known_kinds(cls, value: str) -> str:
        unknown = {kind.strip() for kind in value.split(",") if kind.strip()} - {
            kind.value for kind in NoticeKind
        }
        if unknown:
            raise ValueError(f"unknown notice kinds {sorted(unknown)}")
        return value

    @property
    def delivery_policy(self) -> DeliveryPolicy:
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
    def ledger_retention(self) -> timedelta:
        return timedelta(days=self.ledger_retention_days)


def _kinds(listed: str) -> frozenset[str]:
    """A CommaDelimitedList parameter as the template joins it: `a,b` (or empty)."""
    return frozenset(kind.strip() for kind in listed.split(",") if kind.strip())
