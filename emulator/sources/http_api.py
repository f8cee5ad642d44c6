"""API Gateway's part for a function's ``Type: HttpApi`` events: route a request to one of them, invoke
the function with the payload format 2.0 event, and answer as API Gateway does."""

from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, TypedDict, Unpack

from emulator.cfn import cfn_string
from emulator.deployment import Deployment, LambdaHandler
from emulator.sources.base import EventSource, function_error

# Request bodies of these content types reach the function as text; API Gateway base64-encodes every other
# body (form posts and a missing Content-Type included), per HTTP API payload format 2.0 as observed on AWS.
_TEXT_CONTENT_TYPES: Final = ("application/json", "application/xml", "application/javascript")
_JSON_CONTENT_TYPE: Final = "application/json"
# Headers API Gateway sets itself: a client's value replaces rather than joins them.
_ADDED_HEADERS: Final = frozenset(
    {"host", "user-agent", "x-amzn-trace-id", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"}
)


def _is_text_content_type(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type.startswith("text/") or media_type in _TEXT_CONTENT_TYPES


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: str  # a base64 response body decoded (UTF-8, undecodable bytes replaced)
    cookies: list[str] = field(default_factory=list)  # each a Set-Cookie header of the response

    def json(self) -> Any:
        return json.loads(self.body)


def _error_response(status: int, message: str) -> HttpResponse:
    """API Gateway's own error response (no route, a function error, a malformed function response)."""
    return HttpResponse(status, {"content-type": _JSON_CONTENT_TYPE}, json.dumps({"message": message}))


class RequestParts(TypedDict, total=False):
    """What a request may carry besides its method and path."""

    body: str | bytes
    headers: Mapping[str, str] | None
    query: Mapping[str, str] | None  # added to any query string the path carries


@dataclass(frozen=True)
class _Request:
    """A request as API Gateway passes it on: method in capitals, path decoded, headers as the function
    sees them."""

    method: str
    path: str
    raw_query: str
    headers: dict[str, str]
    data: bytes


class HttpRoute(EventSource):
    """One of the function's ``Type: HttpApi`` events: a route of the API, integrated with the function."""

    event_type = "HttpApi"

    def __init__(self, deployment: Deployment, function_logical_id: str, event_name: str) -> None:
        super().__init__(deployment, function_logical_id, event_name)
        if "ApiId" not in self.properties:
            raise NotImplementedError(
                f"{function_logical_id}.{event_name}: SAM's implicit HTTP API is not emulated; give ApiId"
            )
        version = cfn_string(self.properties.get("PayloadFormatVersion", "2.0"))
        if version != "2.0":
            raise NotImplementedError(f"{function_logical_id}.{event_name}: payload format {version}")
        self.api_id = str(self.properties["ApiId"])
        self.method = str(self.properties.get("Method", "ANY")).upper()  # ANY matches every method
        self.path = str(self.properties.get("Path", "$default"))  # "/unsubscribe/{token}", or "$default"

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters (raw, still percent-encoded) if the route takes this request, else None."""
        if self.method not in ("ANY", method.upper()):
            return None
        if self.path == "$default":
            return {}
        return _path_parameters(self.path.strip("/").split("/"), path.strip("/").split("/"))

    def precedence(self) -> tuple[int, int, int]:
        """Sort key: the most specific route first (fewer greedy, then more literal segments)."""
        segments = self.path.strip("/").split("/")
        greedy = sum(segment.endswith("+}") for segment in segments)
        literal = sum(not segment.startswith("{") for segment in segments)
        return (int(self.path == "$default"), greedy, -literal)


def _path_parameters(expected: list[str], actual: list[str]) -> dict[str, str] | None:
    """The parameters of a route's path segments in a request's, or None if they do not match."""
    parameters: dict[str, str] = {}
    for index, segment in enumerate(expected):
        if segment.startswith("{") and segment.endswith("+}"):  # greedy: the rest of the path
            rest = "/".join(actual[index:])
            return {**parameters, segment[1:-2]: rest} if rest else None
        value = actual[index] if index < len(actual) else None
        if not _takes(segment, value):
            return None
        if _is_parameter(segment):
            parameters[segment[1:-1]] = str(value)
    return parameters if len(actual) == len(expected) else None


def _is_parameter(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def _takes(segment: str, value: str | None) -> bool:
    """Whether a route's path segment takes a request's: a literal only its equal, a parameter any but ""."""
    if value is None:
        return False
    return bool(value) if _is_parameter(segment) else segment == value


class HttpApiSource:
    """API Gateway's part for a function's ``Type: HttpApi`` events: route a request, invoke, answer.

    Each event is a route (an `HttpRoute`, the event source); this is the API they make up. Events use
    payload format 2.0 (SAM's default for HTTP APIs). The template's routes are the only ones the API
    has: a request no route takes is answered 404 without invoking anything, as API Gateway does.
    """

    def __init__(self, deployment: Deployment, function_logical_id: str) -> None:
        self.deployment = deployment
        self.function_logical_id = function_logical_id
        events: dict[str, Any] = deployment.function_properties(function_logical_id).get("Events", {})
        routes = [
            HttpRoute(deployment, function_logical_id, event_name)
            for event_name, event in events.items()
            if event.get("Type") == "HttpApi"
        ]
        if not routes:
            raise ValueError(f"{function_logical_id} has no HttpApi event")
        api_ids = {route.api_id for route in routes}
        if len(api_ids) > 1:
            raise NotImplementedError(
                f"{function_logical_id}: HttpApi events on several APIs {sorted(api_ids)}"
            )
        self.api_id = api_ids.pop()
        self.routes: list[HttpRoute] = sorted(routes, key=HttpRoute.precedence)
        # Tracebacks of handler exceptions, which API Gateway answers with a 500.
        self.function_errors: list[str] = []

    @property
    def domain_name(self) -> str:
        return f"{self.api_id}.execute-api.{self.deployment.region}.amazonaws.com"

    @property
    def base_url(self) -> str:
        return f"https://{self.domain_name}"

    def route(self, method: str, path: str) -> tuple[HttpRoute, dict[str, str]] | None:
        for route in self.routes:
            parameters = route.match(method, path)
            if parameters is not None:
                return route, parameters
        return None

    def request(
        self, method: str, path: str, *, handler: LambdaHandler | None = None, **parts: Unpack[RequestParts]
    ) -> HttpResponse:
        """Send a request to the API: route it, invoke the function, and answer as API Gateway would."""
        routed = self._routed_event(method, path, parts)
        if routed is None:
            return _error_response(404, "Not Found")
        route, event = routed
        try:
            result = route.invoke(event, handler)
        except Exception:  # noqa: BLE001 - API Gateway answers a function error with a 500
            self.function_errors.append(function_error())
            return _error_response(500, "Internal Server Error")
        return http_response(result)

    def event(self, method: str, path: str, **parts: Unpack[RequestParts]) -> dict[str, Any] | None:
        """The payload format 2.0 event API Gateway would invoke with, or None if no route takes the request.

        ``path`` may carry a query string (``/a?b=c``); ``query`` is added to it.
        """
        routed = self._routed_event(method, path, parts)
        return None if routed is None else routed[1]

    def _routed_event(
        self, method: str, path: str, parts: RequestParts
    ) -> tuple[HttpRoute, dict[str, Any]] | None:
        path, _, raw_query = path.partition("?")
        query = parts.get("query")
        if query:
            raw_query = "&".join(part for part in (raw_query, urllib.parse.urlencode(query)) if part)
        routed = self.route(method, path)
        if routed is None:
            return None
        route, raw_parameters = routed
        body = parts.get("body", "")
        data = body.encode() if isinstance(body, str) else body
        headers = self._headers(parts.get("headers") or {}, data)
        # HTTP APIs hand the function the path percent-decoded.
        request = _Request(method.upper(), urllib.parse.unquote(path), raw_query, headers, data)
        return route, self._event(route, request, raw_parameters)

    def _event(self, route: HttpRoute, request: _Request, raw_parameters: dict[str, str]) -> dict[str, Any]:
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": request.path,
            "rawQueryString": request.raw_query,
        }
        headers = dict(request.headers)
        cookie_header = headers.pop("cookie", None)
        if cookie_header:
            event["cookies"] = [cookie.strip() for cookie in cookie_header.split(";") if cookie.strip()]
        event["headers"] = headers
        parameters = self._query_parameters(request.raw_query)
        if parameters:
            event["queryStringParameters"] = parameters
        event["requestContext"] = self._request_context(route, request)
        event |= _body(request.data, headers.get("content-type"))
        if raw_parameters:
            event["pathParameters"] = {
                name: urllib.parse.unquote(value) for name, value in raw_parameters.items()
            }
        return event

    def _request_context(self, route: HttpRoute, request: _Request) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {
            "accountId": self.deployment.account_id,
            "apiId": self.api_id,
            "domainName": self.domain_name,
            "domainPrefix": self.api_id,
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.headers["x-forwarded-for"].split(",")[0].strip(),
                "userAgent": request.headers.get("user-agent", ""),
            },
            "requestId": base64.b64encode(secrets.token_bytes(10)).decode(),
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        }

    def _headers(self, given: Mapping[str, str], data: bytes) -> dict[str, str]:
        """The request's headers as the function sees them: lower-cased, with those API Gateway adds."""
        headers = {
            "host": self.domain_name,
            "user-agent": "headsup-local",
            "x-amzn-trace-id": f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}",
            "x-forwarded-for": "127.0.0.1",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        }
        for name, value in given.items():
            key = name.lower()
            # Repeated headers reach a 2.0 function joined with commas.
            headers[key] = (
                f"{headers[key]},{value}" if key in headers and key not in _ADDED_HEADERS else value
            )
        if data:
            headers["content-length"] = str(len(data))
        return headers

    @staticmethod
    def _query_parameters(raw_query: str) -> dict[str, str]:
        values: dict[str, list[str]] = {}
        for name, value in urllib.parse.parse_qsl(raw_query, keep_blank_values=True):
            values.setdefault(name, []).append(value)
        # Repeated parameters reach a 2.0 function joined with commas.
        return {name: ",".join(items) for name, items in values.items()}


def _body(data: bytes, content_type: str | None) -> dict[str, Any]:
    """The event's body fields: text for a text content type that decodes, base64 for anything else."""
    if not data:
        return {"isBase64Encoded": False}
    if _is_text_content_type(content_type):
        try:
            return {"body": data.decode(), "isBase64Encoded": False}
        except UnicodeDecodeError:
            pass
    return {"body": base64.b64encode(data).decode(), "isBase64Encoded": True}


def http_response(result: Any) -> HttpResponse:
    """What API Gateway makes of a function's return value under payload format 2.0.

    A JSON object with a ``statusCode`` is a response; anything else is the body of a 200 JSON response.
    """
    if not (isinstance(result, dict) and "statusCode" in result):
        return HttpResponse(200, {"content-type": _JSON_CONTENT_TYPE}, json.dumps(result))
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int | str) or not str(status).isdigit():
        return _error_response(500, "Internal Server Error")
    headers = {str(name).lower(): cfn_string(value) for name, value in (result.get("headers") or {}).items()}
    raw_body = result.get("body")
    body = "" if raw_body is None else raw_body if isinstance(raw_body, str) else json.dumps(raw_body)
    if result.get("isBase64Encoded") and body:
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    cookies = [str(cookie) for cookie in result.get("cookies") or []]
    return HttpResponse(int(status), headers, body, cookies)
