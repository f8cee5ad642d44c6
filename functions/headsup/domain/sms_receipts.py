"""SNS's SMS delivery-status log lines, read into receipts.

SNS writes one JSON line per SMS to `sns/<region>/<account>/DirectPublishToPhoneNumber` (or
`.../Failure`) once the account's delivery-status logging is on (SmsDeliveryStatus in
template.yaml). The line names the message by the id SNS's Publish returned, which delivery
recorded on the notice (`sms_message_id`); it carries nothing of ours.

The line holds the destination phone number: personal data. Nothing here keeps or reports it;
a malformed line's problems name fields, never values.
"""

from datetime import UTC, datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from headsup.domain.receipts import DeliveryState, Receipt
from headsup.platform.errors import contract_problems


class MalformedSmsStatus(ValueError):
    """A log line that is not SNS's SMS delivery status; `problems` name fields, never values."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class _Notification(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    message_id: str = Field(alias="messageId", min_length=1, max_length=100)
    timestamp: datetime

    @field_validator("timestamp", mode="before")
    @classmethod
    def _sns_time(cls, value: object) -> object:
        # SNS writes "2016-06-28 00:40:34.558", in UTC without saying so.
        if isinstance(value, str) and "T" not in value and "+" not in value:
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value


class _Delivery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    provider_response: str = Field(alias="providerResponse", max_length=1000)


class _StatusLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    notification: _Notification
    delivery: _Delivery
    status: Literal["SUCCESS", "FAILURE"]


# The carriers' answers SNS passes on, by what they mean for the notice. A failure not listed
# here is taken as transient: the number is not given up on for an answer we cannot read.
_PERMANENT: Final = {
    "phone carrier has blocked this message": "blocked",
    "phone has blocked sms": "blocked",
    "phone is on a blocked list": "blocked",
    "phone number is opted out": "opted_out",
    "invalid phone number": "invalid_number",
    "destination phone number invalid": "invalid_number",
    "this delivery would exceed max price": "over_max_price",
    "message is too long": "too_long",
}
_TRANSIENT: Final = {
    "phone is currently unreachable/unavailable": "unreachable",
    "phone carrier is currently unreachable/unavailable": "carrier_unreachable",
    "unknown error attempting to reach phone": "unknown_error",
}


def parse_sms_status(line: str) -> Receipt:
    """The receipt one delivery-status line reports. Its `notice_id` is None: the line names the
    SNS message, and the ledger finds the notice that message carried.

    Raises MalformedSmsStatus when the line is not SNS's delivery status.
    """
    try:
        status = _StatusLine.model_validate_json(line)
    except ValidationError as exc:
        raise MalformedSmsStatus(contract_problems(exc)) from exc
    response = status.delivery.provider_response.strip().rstrip(".").lower()
    if status.status == "SUCCESS":
        state, detail = DeliveryState.DELIVERED, None
    elif response in _PERMANENT:
        state, detail = DeliveryState.FAILED_PERMANENT, _PERMANENT[response]
    else:
        state, detail = DeliveryState.FAILED_TRANSIENT, _TRANSIENT.get(response, "unknown_error")
    return Receipt(
        notice_id=None,
        state=state,
        at=status.notification.timestamp,
        provider_message_id=status.notification.message_id,
        detail=detail,
    )
