"""The emulator's own boto3 clients, one per service and region for the life of the process.

Creating a client costs about 10 ms (botocore loads and validates the service model), and a
provision() used to create some twenty: reusing them roughly halves its time. Reuse is safe under
moto, which intercepts every client's requests whenever a mock is active, whenever the client was
created, and keeps no state in the client.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

import boto3
from botocore.config import Config

_CONFIGS: Final = {
    # Recent botocore sends Streams calls to an account-specific endpoint that moto does not route.
    "dynamodbstreams": Config(account_id_endpoint_mode="disabled"),
}


@cache
def client(service: str, region: str) -> Any:
    """A boto3 client for ``service`` in ``region``, created on first use (annotate it at the call site)."""
    return boto3.client(service, region_name=region, config=_CONFIGS.get(service))  # type: ignore[call-overload]
