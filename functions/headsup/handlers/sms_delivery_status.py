"""Custom resource SmsDeliveryStatus: turn on SNS's SMS delivery-status logging for the account.

SNS logs what became of each SMS (to the log groups SmsReceiptsFunction reads) only once the
account's SMS attributes name a role to write with; CloudFormation has no resource for those
attributes, so this function sets them when the stack is created or updated.

They are account-wide. On delete the role is unset only if it is still this stack's, so a
stack deleted after another one took the setting over leaves that one's logging alone; a
failure on delete is logged and reported as success, because a custom resource that fails to
delete blocks the whole stack's deletion.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from headsup.adapters.sms_settings import SnsSmsDeliveryStatus
from headsup.platform.errors import describe_error
from headsup.platform.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

PHYSICAL_ID = "sms-delivery-status"


def apply(request: dict[str, Any], settings: SnsSmsDeliveryStatus) -> None:
    """Set (Create, Update) or unset (Delete) the account's delivery-status attributes."""
    properties = request.get("ResourceProperties", {})
    role = str(properties["DeliveryStatusIAMRole"])
    if request["RequestType"] in ("Create", "Update"):
        settings.turn_on(role, str(properties.get("DeliveryStatusSuccessSamplingRate", "100")))
    else:
        settings.turn_off_if_ours(role)


def respond(request: dict[str, Any], status: str, reason: str) -> None:
    """PUT the result to the pre-signed URL CloudFormation waits on."""
    import urllib.request  # once per stack operation: not worth loading with the module

    body = json.dumps(
        {
            "Status": status,
            "Reason": reason,
            "PhysicalResourceId": request.get("PhysicalResourceId", PHYSICAL_ID),
            "StackId": request["StackId"],
            "RequestId": request["RequestId"],
            "LogicalResourceId": request["LogicalResourceId"],
            "Data": {},
        }
    ).encode()
    put = urllib.request.Request(  # noqa: S310 - CloudFormation's own https URL
        request["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(put, timeout=10):  # noqa: S310
        pass


@logger.inject_lambda_context(log_event=False)  # the event holds a pre-signed URL
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, settings: SnsSmsDeliveryStatus | None = None
) -> None:
    ids = {"request_type": event.get("RequestType"), "logical_resource_id": event.get("LogicalResourceId")}
    try:
        apply(event, settings or SnsSmsDeliveryStatus())
    except Exception as exc:  # noqa: BLE001 - whatever failed, CloudFormation must hear of it
        reason = describe_error(exc)
        logger.error("SMS delivery-status logging not set", extra={**ids, "error": reason})
        respond(event, "SUCCESS" if event.get("RequestType") == "Delete" else "FAILED", reason)
        return
    logger.info("SMS delivery-status logging set", extra=ids)
    respond(event, "SUCCESS", "")
