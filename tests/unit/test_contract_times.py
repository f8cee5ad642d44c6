"""Times the business writes are ISO 8601 strings; a number is rejected, never read as an epoch."""

from decimal import Decimal
from typing import Any

import pytest
from headsup.domain.callbacks.models import Callback
from headsup.domain.contract import ContractRecord
from headsup.domain.tickets.models import Ticket
from headsup.domain.visits.models import Visit
from headsup.platform.errors import InvalidRecord

CALLBACK = {
    "callback_id": "cb-1",
    "customer_id": "cust-1",
    "promised_at": "2026-11-24T16:00:00Z",
    "status": "pending",
    "topic": "internet drops",
}
TICKET = {
    "ticket_id": "t-1",
    "customer_id": "cust-1",
    "subject": "Router",
    "status": "solved",
    "created_at": "2026-11-23T18:00:00Z",
    "updated_at": "2026-11-24T06:00:00Z",
    "solved_at": "2026-11-24T07:00:00Z",
}
VISIT = {
    "visit_id": "v-1",
    "customer_id": "cust-1",
    "window_start": "2026-11-24T17:00:00Z",
    "window_end": "2026-11-24T19:00:00Z",
    "eta": "2026-11-24T17:50:00Z",
    "status": "en_route",
    "technician_name": "Carlos",
}
TIME_FIELDS: list[tuple[type[ContractRecord], dict[str, Any], str]] = [
    (Callback, CALLBACK, "promised_at"),
    (Ticket, TICKET, "created_at"),
    (Ticket, TICKET, "updated_at"),
    (Ticket, TICKET, "solved_at"),
    (Visit, VISIT, "window_start"),
    (Visit, VISIT, "window_end"),
    (Visit, VISIT, "eta"),
]


@pytest.mark.parametrize(("model", "item", "field"), TIME_FIELDS)
@pytest.mark.parametrize(
    ("value", "arrived_as"),
    [
        (Decimal(1764000000), "N"),
        (Decimal(1764000000000), "N"),
        (Decimal("1764000000.5"), "N"),
        (True, "BOOL"),
    ],
)
def test_a_time_written_as_a_number_is_rejected_naming_the_field_and_its_type(
    model: type[ContractRecord], item: dict[str, Any], field: str, value: object, arrived_as: str
) -> None:
    # pydantic alone would read 1764000000 as seconds and 1764000000000 as milliseconds since 1970
    with pytest.raises(InvalidRecord) as caught:
        model.from_item({**item, field: value})
    assert caught.value.problems == [f"{field}: must be an ISO 8601 string (S), got {arrived_as}"]


@pytest.mark.parametrize(("model", "item", "field"), TIME_FIELDS)
def test_iso_strings_are_still_read(model: type[ContractRecord], item: dict[str, Any], field: str) -> None:
    record = model.from_item({**item, field: "2026-11-24T18:30:00+01:00"})
    assert getattr(record, field).isoformat() == "2026-11-24T18:30:00+01:00"
