"""Settings of the two preference functions, named as template.yaml sets them."""

from typing import Annotated

from pydantic import Field

from headsup.shared.settings import EnvSettings


class UnsubscribeSettings(EnvSettings):
    """UnsubscribeFunction: where opt-outs go, which secret signs the links, whose name to show."""

    preferences_table_name: Annotated[str, Field(alias="PREFERENCES_TABLE_NAME", min_length=1)]
    # The ARN only; the key itself is read from Secrets Manager at cold start and never logged.
    unsubscribe_key_secret_arn: Annotated[str, Field(alias="UNSUBSCRIBE_KEY_SECRET_ARN", pattern=r"^arn:")]
    business_name: Annotated[str, Field(alias="BUSINESS_NAME", min_length=1)]


class FeedbackSettings(EnvSettings):
    """SesFeedbackFunction: where addresses are suppressed and where the notice's outcome lives."""

    preferences_table_name: Annotated[str, Field(alias="PREFERENCES_TABLE_NAME", min_length=1)]
    ledger_table_name: Annotated[str, Field(alias="NOTICE_LEDGER_TABLE_NAME", min_length=1)]
