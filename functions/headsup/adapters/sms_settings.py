"""The account's SNS SMS settings that turn delivery-status logging on (SmsDeliveryStatus)."""

from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

_ROLE, _RATE = "DeliveryStatusIAMRole", "DeliveryStatusSuccessSamplingRate"


class SnsSmsDeliveryStatus:
    def __init__(self, client: "SNSClient | None" = None) -> None:
        self._client = client or boto3.client("sns")

    def turn_on(self, role_arn: str, success_sampling_percent: str) -> None:
        self._client.set_sms_attributes(attributes={_ROLE: role_arn, _RATE: success_sampling_percent})

    def turn_off_if_ours(self, role_arn: str) -> bool:
        """Unset the role only if it is still `role_arn`: another stack may have taken it over."""
        current = self._client.get_sms_attributes(attributes=[_ROLE]).get("attributes", {})
        if current.get(_ROLE) != role_arn:
            return False
        self._client.set_sms_attributes(attributes={_ROLE: "", _RATE: "0"})
        return True

    def role(self) -> str | None:
        return self._client.get_sms_attributes(attributes=[_ROLE]).get("attributes", {}).get(_ROLE) or None
