"""A local AWS for headsup, shaped like moto: template.yaml provisioned into moto, and Lambda's event
sources (DynamoDB streams, SQS, EventBridge schedules, SNS, the HTTP API) played in the shapes AWS
delivers, in one process, with no Docker and no account.

The public names are re-exported here, so callers write `from emulator import provision`.
"""

from emulator.local_aws import (
    Deployment,
    DrainReport,
    DynamoDBStreamSource,
    FunctionTimedOut,
    HttpApiSource,
    HttpResponse,
    InvocationKilled,
    LambdaContext,
    LambdaHandler,
    PublishedMessage,
    ScheduleSource,
    SentEmail,
    SentSms,
    SnsSource,
    SqsSource,
    StreamDeliveryReport,
    http_response,
    invoking,
    lambda_sqs_record,
    lambda_stream_record,
    provision,
    queue_messages,
    sent_emails,
    sent_sms,
    topic_messages,
)

__all__ = [
    "Deployment",
    "DrainReport",
    "DynamoDBStreamSource",
    "FunctionTimedOut",
    "HttpApiSource",
    "HttpResponse",
    "InvocationKilled",
    "LambdaContext",
    "LambdaHandler",
    "PublishedMessage",
    "ScheduleSource",
    "SentEmail",
    "SentSms",
    "SnsSource",
    "SqsSource",
    "StreamDeliveryReport",
    "http_response",
    "invoking",
    "lambda_sqs_record",
    "lambda_stream_record",
    "provision",
    "queue_messages",
    "sent_emails",
    "sent_sms",
    "topic_messages",
]
