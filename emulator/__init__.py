"""A local AWS for headsup, shaped like moto: template.yaml provisioned into moto, and Lambda's event
sources (DynamoDB streams, SQS, EventBridge schedules, SNS, CloudWatch Logs subscriptions, the HTTP
API) played in the shapes AWS delivers, in one process, with no Docker and no account.

The layout follows moto's: shared machinery (template.py, cfn.py, intrinsics.py, clients.py, and calls.py,
the one hook on the functions' AWS calls), the deployment and its provisioning (deployment.py,
provisioning.py, custom_resources.py), one module per event source on one base class (sources/), the
readers of what providers accepted (providers.py), the tools built on the hook (faults.py, iam.py), and
in-memory adapter fakes for tests that need no AWS at all (fakes.py).

The public names are re-exported here, so callers write `from emulator import provision`.
"""

from emulator import moto_ses_account, moto_sqs, moto_threads, moto_transactions
from emulator.calls import invoking
from emulator.deployment import (
    Deployment,
    FunctionTimedOut,
    InvocationKilled,
    LambdaContext,
    LambdaHandler,
)
from emulator.providers import (
    PublishedMessage,
    SentEmail,
    SentSms,
    queue_messages,
    sent_emails,
    sent_sms,
    topic_messages,
)
from emulator.provisioning import provision
from emulator.sources import (
    CloudWatchLogsSource,
    DrainReport,
    DynamoDBStreamSource,
    HttpApiSource,
    HttpResponse,
    ScheduleSource,
    SnsSource,
    SqsSource,
    StreamDeliveryReport,
    decode_subscription_event,
    http_response,
    lambda_sqs_record,
    lambda_stream_record,
)

__all__ = [
    "CloudWatchLogsSource",
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
    "decode_subscription_event",
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

moto_transactions.install()
moto_ses_account.install()
moto_sqs.install()
moto_threads.install()
