"""The whole headsup pipeline on the local emulator: business data in, notices out.

Used by `headsup simulate` (`make demo`), the integration tests and the benchmarks, so all three drive
the real handlers the same way, through the event sources template.yaml declares.
"""

import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import boto3
import time_machine
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from emulator import (
    CloudWatchLogsSource,
    Deployment,
    DrainReport,
    DynamoDBStreamSource,
    HttpApiSource,
    PublishedMessage,
    ScheduleSource,
    SnsSource,
    SqsSource,
    StreamDeliveryReport,
    provision,
    queue_messages,
    topic_messages,
)

SAMPLE_DATA = Path(__file__).with_name("sample_data.json")

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def load_sample_data(path: Path = SAMPLE_DATA) -> dict[str, list[dict[str, Any]]]:
    # Decimal, because DynamoDB numbers are exact and so are bills.
    data: dict[str, list[dict[str, Any]]] = json.loads(path.read_text(), parse_float=Decimal)
    return data


def to_dynamodb(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in item.items()}


@contextmanager
def lambda_output_to(stream: IO[str], deployment: Deployment) -> Iterator[IO[str]]:
    """Send what the functions write (JSON logs, EMF metrics) to `stream`, as CloudWatch would get it.

    Powertools' log handler keeps the stream it was created with, so it is re-pointed rather than
    relying on redirect_stdout alone (which only catches print(), i.e. the metrics). Lambda sets a
    function's environment before its code is imported, and Powertools reads its settings
    (service, metrics namespace) at import, so the template's environment is applied first.
    """
    for function_id in deployment.function_ids():
        os.environ.update(deployment.function_env(function_id))
    from headsup.platform.observability import logger

    handler = logger.registered_handler
    if not isinstance(handler, logging.StreamHandler):
        raise TypeError(f"unexpected Powertools log handler {handler!r}")
    # Swapped directly: setStream() would flush the old stream first, and that may be a capture
    # file an earlier caller (pytest's capsys) has closed since the logger was created.
    previous, handler.stream = handler.stream, stream
    try:
        with redirect_stdout(stream):
            yield stream
    finally:
        handler.stream = previous


class LocalPipeline:
    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.bills_stream = DynamoDBStreamSource(deployment, "BillIncreaseDetectorFunction", "BillsStream")
        self.notice_queue = SqsSource(deployment, "NoticeDeliveryFunction", "Notices")
        self.callbacks_stream = DynamoDBStreamSource(deployment, "DueIndexerFunction", "CallbacksStream")
        self.tickets_stream = DynamoDBStreamSource(deployment, "DueIndexerFunction", "TicketsStream")
        self.visits_stream = DynamoDBStreamSource(deployment, "VisitDetectorFunction", "VisitsStream")
        self.sweep = ScheduleSource(deployment, "DueSweepFunction", "Sweep")
        # Customers' unsubscribe clicks and one-click POSTs, and SES's bounce and complaint notifications.
        self.unsubscribe_api = HttpApiSource(deployment, "UnsubscribeFunction")
        self.ses_feedback = SnsSource(deployment, "SesFeedbackFunction", "Feedback")
        # SNS's SMS delivery-status log lines, through the groups' subscriptions.
        self.sms_delivered = CloudWatchLogsSource(deployment, "SmsReceiptsFunction", "Delivered")
        self.sms_failed = CloudWatchLogsSource(deployment, "SmsReceiptsFunction", "Failed")
        # Customers' taps on the answer buttons in emails: the page (GET), then their answer (POST).
        self.answers = HttpApiSource(deployment, "AnswerFunction")
        # What customers text to the business's number, as End User Messaging publishes it.
        self.inbound_sms = SnsSource(deployment, "InboundSmsFunction", "Inbound")
        self._dynamodb = boto3.client("dynamodb", region_name=deployment.region)

    @classmethod
    def provision(cls, parameter_overrides: Mapping[str, str] | None = None) -> "LocalPipeline":
        """Provision template.yaml into the active moto mock."""
        return cls(provision(parameter_overrides=parameter_overrides))

    def put_items(self, table_logical_id: str, items: Iterable[Mapping[str, Any]]) -> None:
        table = self.deployment.ref(table_logical_id)
        for item in items:
            self._dynamodb.put_item(TableName=table, Item=to_dynamodb(item))

    def put_customers(self, customers: Iterable[Mapping[str, Any]]) -> None:
        self.put_items("CustomersTable", customers)

    def put_bills(self, bills: Iterable[Mapping[str, Any]]) -> None:
        self.put_items("BillsTable", bills)

    def put_callbacks(self, callbacks: Iterable[Mapping[str, Any]]) -> None:
        self.put_items("CallbacksTable", callbacks)

    def put_tickets(self, tickets: Iterable[Mapping[str, Any]]) -> None:
        self.put_items("TicketsTable", tickets)

    def put_visits(self, visits: Iterable[Mapping[str, Any]]) -> None:
        self.put_items("VisitsTable", visits)

    def index_changes(self) -> list[StreamDeliveryReport]:
        """Feed new Callbacks and Tickets stream records to the due-time indexer, and Visits
        records to the visit detector."""
        return [
            self.callbacks_stream.deliver(retry_failures=True),
            self.tickets_stream.deliver(retry_failures=True),
            self.visits_stream.deliver(retry_failures=True),
        ]

    def sweep_at(self, at: datetime) -> dict[str, Any]:
        """Index what changed, run the scheduled sweep as if EventBridge fired at `at`, deliver.

        The clock moves to `at` too, so delivery's policy (quiet hours, the cap) sees the same
        time as the sweep. Only ever move it forward: moto's queues keep their own timestamps.
        """
        with time_machine.travel(at, tick=True):
            self.index_changes()
            response: dict[str, Any] = self.sweep.fire(at)
            self.deliver_notices()
        return response

    def run_schedule(
        self, start: datetime, end: datetime, on_tick: Callable[[datetime], None] | None = None
    ) -> list[datetime]:
        """Every sweep the template's schedule would run between `start` and `end`.

        After each sweep: `on_tick(tick)` (the business changing its data), then the notice
        queue is drained and the changes indexed, as the event sources would between sweeps.
        """
        self.index_changes()
        ticks = []
        tick = start
        while tick <= end:
            # Each sweep, and the deliveries and changes after it, happen at the tick's time.
            with time_machine.travel(tick, tick=True):
                self.sweep.fire(tick)
                if on_tick is not None:
                    on_tick(tick)
                self.deliver_notices()
                self.index_changes()
            ticks.append(tick)
            tick += self.sweep.interval()
        return ticks

    def escalations(self) -> list[PublishedMessage]:
        return topic_messages(self.deployment, "EscalationTopic")

    def run_detectors(self, *, retry_failures: bool = True) -> StreamDeliveryReport:
        """Feed new stream records to the detector, as Lambda's event source mapping would."""
        return self.bills_stream.deliver(retry_failures=retry_failures)

    def deliver_notices(self) -> DrainReport:
        """Drain NoticeQueue through the delivery function (failed messages retried, then redriven)."""
        return self.notice_queue.drain()

    def run(self) -> tuple[StreamDeliveryReport, DrainReport]:
        return self.run_detectors(), self.deliver_notices()

    def ledger(self) -> list[dict[str, Any]]:
        return sorted(
            self._scan("NoticeLedgerTable"), key=lambda item: (item["customer_id"], item["notice_id"])
        )

    def customers(self) -> list[dict[str, Any]]:
        return sorted(self._scan("CustomersTable"), key=lambda item: str(item["customer_id"]))

    def preferences(self) -> list[dict[str, Any]]:
        """PreferencesTable's items: each customer's opt-outs and the history of how they came to be."""
        return sorted(self._scan("PreferencesTable"), key=lambda item: str(item["customer_id"]))

    def _scan(self, table_logical_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        paginator = self._dynamodb.get_paginator("scan")
        for page in paginator.paginate(TableName=self.deployment.ref(table_logical_id)):
            items.extend({k: _deserializer.deserialize(v) for k, v in item.items()} for item in page["Items"])
        return items

    def dead_letters(self) -> list[dict[str, Any]]:
        return [json.loads(m["Body"]) for m in queue_messages(self.deployment, "NoticeDeadLetterQueue")]

    def detector_failures(self) -> list[dict[str, Any]]:
        return [json.loads(m["Body"]) for m in queue_messages(self.deployment, "DetectorFailureQueue")]
