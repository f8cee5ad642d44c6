"""What every HTTP API (payload 2.0) function shares: the request's raw body, the response's shape."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Powertools' event classes are loaded by the handler that reads the event
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2


def request_body(event: APIGatewayProxyEventV2) -> bytes:
    """The raw request body. HTTP APIs hand form posts over base64-encoded (isBase64Encoded)."""
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        return b""  # read as an empty form: nothing is changed


def http_response(status: int, body: str, headers: Mapping[str, str]) -> dict[str, Any]:
    return {"statusCode": status, "headers": dict(headers), "body": body, "isBase64Encoded": False}
