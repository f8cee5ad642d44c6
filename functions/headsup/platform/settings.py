"""Settings read from the environment that template.yaml gives each function."""

import os
from collections.abc import Mapping
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from headsup.platform.errors import contract_problems


class SettingsError(RuntimeError):
    """The function's environment is missing or has an invalid setting (a deployment error)."""


class EnvSettings(BaseModel):
    """Base for a function's settings: fields are aliased to their environment variable names."""

    # defer_build: a settings class is compiled when it is first read, not when it is defined;
    # handlers/settings.py defines every function's, and each function reads one.
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        try:
            return cls.model_validate(dict(os.environ if env is None else env))
        except ValidationError as exc:
            problems = "; ".join(contract_problems(exc))
            raise SettingsError(f"{cls.__name__} is invalid: {problems}") from exc


# Fields more than one function reads, declared once. A function's settings class lists the mixins
# whose variables template.yaml gives it; pydantic merges their fields.
_ARN = r"^arn:"


class NoticeQueueSettings(EnvSettings):
    notice_queue_url: Annotated[str, Field(alias="NOTICE_QUEUE_URL", min_length=1)]


class DueItemsSettings(EnvSettings):
    due_items_table_name: Annotated[str, Field(alias="DUE_ITEMS_TABLE_NAME", min_length=1)]
    due_index_shards: Annotated[int, Field(alias="DUE_INDEX_SHARDS", ge=1, le=100)]


class CustomersSettings(EnvSettings):
    """Where customers are, and what to assume when one names no (or an unknown) locale or zone."""

    customers_table_name: Annotated[str, Field(alias="CUSTOMERS_TABLE_NAME", min_length=1)]
    default_locale: Annotated[str, Field(alias="DEFAULT_LOCALE", min_length=2)]
    default_timezone: Annotated[str, Field(alias="DEFAULT_TIMEZONE", min_length=1)]


class PreferencesSettings(EnvSettings):
    preferences_table_name: Annotated[str, Field(alias="PREFERENCES_TABLE_NAME", min_length=1)]


class LedgerSettings(EnvSettings):
    ledger_table_name: Annotated[str, Field(alias="NOTICE_LEDGER_TABLE_NAME", min_length=1)]


class UnsubscribeKeySettings(EnvSettings):
    # The ARN only; the key itself is read from Secrets Manager at cold start and never logged.
    unsubscribe_key_secret_arn: Annotated[str, Field(alias="UNSUBSCRIBE_KEY_SECRET_ARN", pattern=_ARN)]
    business_name: Annotated[str, Field(alias="BUSINESS_NAME", min_length=1)]
