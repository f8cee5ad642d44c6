from datetime import timedelta
from typing import Annotated

from pydantic import Field

from headsup.detectors.visits.rules import VisitPolicy
from headsup.shared.settings import EnvSettings


class VisitSettings(EnvSettings):
    due_items_table_name: Annotated[str, Field(alias="DUE_ITEMS_TABLE_NAME", min_length=1)]
    due_index_shards: Annotated[int, Field(alias="DUE_INDEX_SHARDS", ge=1, le=100)]
    notice_queue_url: Annotated[str, Field(alias="NOTICE_QUEUE_URL", min_length=1)]
    visit_slip_minutes: Annotated[int, Field(alias="VISIT_SLIP_MINUTES", ge=1)]

    @property
    def policy(self) -> VisitPolicy:
        return VisitPolicy(slip=timedelta(minutes=self.visit_slip_minutes))
