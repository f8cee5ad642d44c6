"""What every event source shares: the function and event it plays, the event's settings from the
template, and invoking the function as Lambda's side of the source would."""

from __future__ import annotations

import logging
import traceback
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from emulator.deployment import Deployment, LambdaHandler

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

LOGGER = logging.getLogger(__name__)


class EventSource:
    """Lambda's part for one of a function's ``Events`` in the template: an event source mapping
    (DynamoDB, SQS), a subscription (SNS), a rule's target (Schedule) or a route's integration (HttpApi).

    A subclass names the SAM event ``Type`` it plays; building it for an event of another type fails.
    """

    event_type: ClassVar[str]

    def __init__(self, deployment: Deployment, function_logical_id: str, event_name: str) -> None:
        self.deployment = deployment
        self.function_logical_id = function_logical_id
        self.event_name = event_name
        # The event's Properties with every intrinsic resolved.
        self.properties: dict[str, Any] = deployment.event_properties(
            function_logical_id, event_name, self.event_type
        )

    @property
    def reports_item_failures(self) -> bool:
        """Whether the function answers with the batch items that failed (a partial batch response)."""
        return "ReportBatchItemFailures" in self.properties.get("FunctionResponseTypes", [])

    def reported_failures(self, response: Any) -> list[str]:
        """The ``itemIdentifier`` of each failed item in a partial batch response, in order.

        Lambda reads them only if the event reports item failures; any other response is a success.
        """
        if not self.reports_item_failures or not isinstance(response, dict):
            return []
        return [str(item.get("itemIdentifier")) for item in response.get("batchItemFailures") or []]

    def invoke(self, event: Any, handler: LambdaHandler | None = None) -> Any:
        """Invoke the function with ``event``; ``handler`` stands in for the template's."""
        return self.deployment.invoke(self.function_logical_id, event, handler=handler)


def function_error() -> str:
    """The traceback of the handler exception being handled, as the Lambda runtime would log it."""
    LOGGER.warning("Handler raised: Lambda would count the whole batch as failed", exc_info=True)
    return traceback.format_exc()


def queue_url(sqs: SQSClient, queue_arn: str) -> str:
    *_, account_id, queue_name = queue_arn.split(":")
    return sqs.get_queue_url(QueueName=queue_name, QueueOwnerAWSAccountId=account_id)["QueueUrl"]


def epoch_to_iso(epoch: Any) -> str:
    return datetime.fromtimestamp(float(epoch), UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
