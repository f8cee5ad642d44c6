from datetime import timedelta
from pathlib import Path
from typing import Annotated

from pydantic import Field

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

    @property
    def ledger_retention(self) -> timedelta:
        return timedelta(days=self.ledger_retention_days)
