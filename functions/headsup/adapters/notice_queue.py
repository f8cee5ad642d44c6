"""Where detectors put notice requests: the NoticeQueue (SQS) behind a small interface."""

from typing import TYPE_CHECKING, Protocol

import boto3

from headsup.domain.notices import NoticeRequest

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class NoticeQueue(Protocol):
    def put(self, request: NoticeRequest) -> None: ...


class SqsNoticeQueue:
    def __init__(self, queue_url: str, client: "SQSClient | None" = None) -> None:
        self._queue_url = queue_url
        self._client = client or boto3.client("sqs")

    def put(self, request: NoticeRequest) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=request.model_dump_json(),
            MessageAttributes={
                "kind": {"DataType": "String", "StringValue": request.kind.value},
                "notice_id": {"DataType": "String", "StringValue": request.notice_id},
            },
        )
