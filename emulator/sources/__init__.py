"""Lambda's event sources, one module each, on one base class (`base.EventSource`)."""

from emulator.sources.base import EventSource
from emulator.sources.cloudwatch_logs import CloudWatchLogsSource, decode_subscription_event
from emulator.sources.dynamodb_streams import (
    DynamoDBStreamSource,
    StreamBatch,
    StreamDeliveryReport,
    lambda_stream_record,
)
from emulator.sources.http_api import HttpApiSource, HttpResponse, HttpRoute, http_response
from emulator.sources.schedules import ScheduleSource, parse_rate
from emulator.sources.sns import SnsSource
from emulator.sources.sqs import DrainReport, SqsSource, lambda_sqs_record

__all__ = [
    "CloudWatchLogsSource",
    "DrainReport",
    "DynamoDBStreamSource",
    "EventSource",
    "HttpApiSource",
    "HttpResponse",
    "HttpRoute",
    "ScheduleSource",
    "SnsSource",
    "SqsSource",
    "StreamBatch",
    "StreamDeliveryReport",
    "decode_subscription_event",
    "http_response",
    "lambda_sqs_record",
    "lambda_stream_record",
    "parse_rate",
]
