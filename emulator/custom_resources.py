"""CloudFormation's part for custom resources (``Custom::*``, ``AWS::CloudFormation::CustomResource``): the
template's own function is invoked with the Create request, and its answer is read from a real
ResponseURL, a one-shot HTTP server on 127.0.0.1 standing in for CloudFormation's pre-signed S3 URL.

Only Create is played: a local deployment is provisioned afresh, never updated or deleted.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Final
from urllib.parse import quote

from emulator.cfn import cfn_string
from emulator.deployment import Deployment

# CloudFormation waits an hour; locally the handler answers within its invocation or not at all.
RESPONSE_TIMEOUT_SECONDS: Final = 5.0
# CloudFormation refuses a larger response ("Response object is too long").
MAX_RESPONSE_BYTES: Final = 4096
CUSTOM_RESOURCE_TYPE: Final = "AWS::CloudFormation::CustomResource"


class CustomResourceFailed(RuntimeError):
    """The custom resource's function failed it, answered wrongly, or did not answer."""


def is_custom_resource(resource_type: str) -> bool:
    return resource_type == CUSTOM_RESOURCE_TYPE or resource_type.startswith("Custom::")


def service_function(deployment: Deployment, service_token: str) -> str:
    """The logical id of the template's function whose ARN (perhaps qualified) is ``service_token``."""
    unqualified = ":".join(service_token.split(":")[:7])
    for function_id in deployment.function_ids():
        if deployment.function_arn(function_id) in (service_token, unqualified):
            return function_id
    raise CustomResourceFailed(
        f"ServiceToken {service_token!r} is not the ARN of a function of this template: only custom "
        "resources backed by one of the template's own functions are emulated"
    )


def _as_properties(value: Any) -> Any:
    # CloudFormation hands a custom resource every scalar property as a string (true -> "true", 5 -> "5").
    if isinstance(value, dict):
        return {key: _as_properties(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_properties(item) for item in value]
    return cfn_string(value)


class _ResponseServer:
    """Takes the function's response (one PUT) on 127.0.0.1 at a free port, serving from a thread."""

    def __init__(self) -> None:
        self.body: bytes | None = None
        self._received = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not owner._received.is_set():
                    owner.body = body
                    owner._received.set()
                # As S3 answers a pre-signed PUT.
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # stderr is not the functions' log, and the URL says nothing worth a line

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/{path}"

    def wait(self, timeout: float) -> bytes | None:
        """The response body, once it arrives within ``timeout`` seconds (else None); the server stops."""
        received = self._received.wait(timeout)
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        return self.body if received else None


def create_request(
    deployment: Deployment, logical_id: str, properties: dict[str, Any], response_url: str
) -> dict[str, Any]:
    """The Create request CloudFormation sends the custom resource's function."""
    service_token = str(properties["ServiceToken"])
    return {
        "RequestType": "Create",
        "ServiceToken": service_token,
        "ResponseURL": response_url,
        "StackId": deployment.pseudo_parameters()["AWS::StackId"],
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": logical_id,
        "ResourceType": str(deployment.resources[logical_id]["Type"]),
        "ResourceProperties": _as_properties(properties),
    }


def _checked_response(request: dict[str, Any], body: bytes | None) -> dict[str, Any]:
    """The function's response, checked as CloudFormation checks it."""
    resource = request["LogicalResourceId"]
    if body is None:
        raise CustomResourceFailed(
            f"{resource}: no response at the ResponseURL within {RESPONSE_TIMEOUT_SECONDS} s "
            "(CloudFormation would wait an hour, then fail the stack)"
        )
    if len(body) > MAX_RESPONSE_BYTES:
        raise CustomResourceFailed(f"{resource}: Response object is too long ({len(body)} bytes)")
    try:
        response = json.loads(body)
    except ValueError:
        raise CustomResourceFailed(f"{resource}: the response is not JSON") from None
    if not isinstance(response, dict):
        raise CustomResourceFailed(f"{resource}: the response is not a JSON object")
    for key in ("StackId", "RequestId", "LogicalResourceId"):
        if response.get(key) != request[key]:
            raise CustomResourceFailed(f"{resource}: the response's {key} is not the request's")
    if response.get("Status") != "SUCCESS":
        raise CustomResourceFailed(
            f"{resource}: Received response status [{response.get('Status')}] from custom resource. "
            f"Message returned: {response.get('Reason')}"
        )
    if not response.get("PhysicalResourceId"):
        raise CustomResourceFailed(f"{resource}: the response has no PhysicalResourceId")
    return response


def create_custom_resource(
    deployment: Deployment, logical_id: str, properties: dict[str, Any]
) -> dict[str, str]:
    """Invoke the ServiceToken's function with the Create request and read its response: Ref is the
    PhysicalResourceId, and each key of Data an attribute for Fn::GetAtt."""
    function_id = service_function(deployment, str(properties["ServiceToken"]))
    server = _ResponseServer()
    request = create_request(deployment, logical_id, properties, response_url="")
    stack_id, request_id = request["StackId"], request["RequestId"]
    # Shaped like CloudFormation's pre-signed URL: the object key names the stack, resource and request.
    request["ResponseURL"] = server.url(quote(f"{stack_id}|{logical_id}|{request_id}", safe=""))
    try:
        deployment.invoke(function_id, request)
    except Exception as exc:
        server.wait(0)
        raise CustomResourceFailed(
            f"{logical_id}: {function_id} raised on the Create request (Lambda would retry it twice, "
            "then CloudFormation would wait an hour for a response)"
        ) from exc
    response = _checked_response(request, server.wait(RESPONSE_TIMEOUT_SECONDS))
    data = response.get("Data") or {}
    return {"Ref": str(response["PhysicalResourceId"])} | {
        str(key): cfn_string(value) for key, value in data.items()
    }
