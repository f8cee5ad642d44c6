"""CloudWatch Logs' part for a function's ``Type: CloudWatchLogs`` events: write the log events into the
group through moto, then invoke the function with the subscription's Lambda event for them."""

from __future__ import annotations

import base64
import gzip
import json
import time
import uuid
from collections.abc import Sequence
from typing import Any, Final

from emulator.clients import client
from emulator.deployment import Deployment, LambdaHandler
from emulator.sources.base import EventSource

# PutLogEvents' limit on events per call (AWS enforces it; moto does not).
MAX_EVENTS_PER_PUT: Final = 10_000
# CloudWatch Logs' event ids are 56-digit decimal strings; a consumer may key on them.
_EVENT_ID_DIGITS: Final = 56


def subscription_event(data: dict[str, Any]) -> dict[str, Any]:
    """The Lambda event for a subscription's ``data``: gzipped JSON, base64-encoded, under awslogs."""
    payload = gzip.compress(json.dumps(data).encode())
    return {"awslogs": {"data": base64.b64encode(payload).decode()}}


def decode_subscription_event(event: dict[str, Any]) -> dict[str, Any]:
    """The data a CloudWatch Logs subscription event carries, as a consumer decodes it."""
    data: dict[str, Any] = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    return data


class CloudWatchLogsSource(EventSource):
    """CloudWatch Logs' part for one of a function's ``Type: CloudWatchLogs`` events.

    The messages are written to the log group through moto (so they can be read back from it), then the
    function is invoked with the subscription filter's event for the batch. moto is not given the
    subscription filter: it would invoke moto's own Lambda service, where the function does not exist.
    """

    event_type = "CloudWatchLogs"

    def __init__(self, deployment: Deployment, function_logical_id: str, event_name: str) -> None:
        super().__init__(deployment, function_logical_id, event_name)
        self.log_group: str = str(self.properties["LogGroupName"])
        self.filter_pattern = str(self.properties.get("FilterPattern", "")).strip()
        if self.filter_pattern:
            raise NotImplementedError(
                f"{function_logical_id}.{event_name}: FilterPattern {self.filter_pattern!r} is not "
                'emulated; only "" (every event) is'
            )
        # SAM's AWS::Logs::SubscriptionFilter is <function><event>, named by CloudFormation after the stack.
        self.filter_name = f"{deployment.stack_name}-{function_logical_id}{event_name}"
        # Untyped: there are no boto3 stubs for CloudWatch Logs among the dev dependencies.
        self._logs: Any = client("logs", deployment.region)

    def write(
        self, messages: Sequence[str], *, timestamp_ms: int | None = None
    ) -> tuple[str, list[dict[str, Any]]]:
        """Write ``messages`` to a new stream of the group through moto; return it and the events as
        the subscription hands them on (``id``, ``timestamp``, ``message``)."""
        if not 0 < len(messages) <= MAX_EVENTS_PER_PUT:
            raise ValueError(f"PutLogEvents takes 1 to {MAX_EVENTS_PER_PUT} events, not {len(messages)}")
        stamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        # A stream per batch, named as SNS and other writers name theirs (a uuid).
        stream = str(uuid.uuid4())
        self._logs.create_log_stream(logGroupName=self.log_group, logStreamName=stream)
        response = self._logs.put_log_events(
            logGroupName=self.log_group,
            logStreamName=stream,
            logEvents=[{"timestamp": stamp, "message": message} for message in messages],
        )
        if response.get("rejectedLogEventsInfo"):
            raise ValueError(
                f"{self.log_group} rejected events stamped {stamp} ms: {response['rejectedLogEventsInfo']}"
            )
        written = self._logs.filter_log_events(logGroupName=self.log_group, logStreamNames=[stream])
        events = [
            {
                "id": event["eventId"].zfill(_EVENT_ID_DIGITS),
                "timestamp": event["timestamp"],
                "message": event["message"],
            }
            for event in written["events"]
        ]
        return stream, events

    def event(self, log_stream: str, log_events: list[dict[str, Any]]) -> dict[str, Any]:
        """The Lambda event of the subscription for ``log_events`` of one stream."""
        return subscription_event(
            {
                "messageType": "DATA_MESSAGE",
                "owner": self.deployment.account_id,
                "logGroup": self.log_group,
                "logStream": log_stream,
                "subscriptionFilters": [self.filter_name],
                "logEvents": log_events,
            }
        )

    def deliver(
        self,
        messages: Sequence[str],
        *,
        timestamp_ms: int | None = None,
        handler: LambdaHandler | None = None,
    ) -> Any:
        """Write ``messages`` to the log group and invoke the function with them; return its response.

        Every message is stamped ``timestamp_ms`` (now by default); moto, like CloudWatch Logs, rejects
        events over 14 days old or 2 hours ahead, and that fails here. A handler exception propagates
        (CloudWatch Logs' asynchronous invoke would retry it twice, then hand it to the OnFailure
        destination).
        """
        stream, events = self.write(messages, timestamp_ms=timestamp_ms)
        return self.invoke(self.event(stream, events), handler)
