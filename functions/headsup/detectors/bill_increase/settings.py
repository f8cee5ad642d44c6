from decimal import Decimal
from typing import Annotated

from pydantic import Field

from headsup.shared.settings import EnvSettings


class DetectorSettings(EnvSettings):
    bills_table_name: Annotated[str, Field(alias="BILLS_TABLE_NAME", min_length=1)]
    notice_queue_url: Annotated[str, Field(alias="NOTICE_QUEUE_URL", min_length=1)]
    increase_percent: Annotated[Decimal, Field(alias="BILL_INCREASE_PERCENT", ge=0)]
    increase_minimum: Annotated[Decimal, Field(alias="BILL_INCREASE_MINIMUM", ge=0)]
