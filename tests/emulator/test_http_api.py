"""emulator.sources.http_api: the unsubscribe HTTP API, routed and answered as API Gateway does.

Handlers here are small test doubles, not headsup's: the unsubscribe handler is not what is under test,
only what API Gateway would hand it and make of its answers.
"""

import base64
import copy
import json
import os
import re
from typing import Any

import pytest
from moto import mock_aws

from emulator import (
    Deployment,
    HttpApiSource,
    HttpResponse,
    LambdaHandler,
    http_response,
    provision,
)
from emulator.template import load_template

TEMPLATE = load_template()
STACK = "headsup-local"
UNSUBSCRIBE = "UnsubscribeFunction"
DELIVERY = "NoticeDeliveryFunction"
API = "UnsubscribeApi"


def recorder(events: list[dict[str, Any]], response: Any = None) -> LambdaHandler:
    """A handler that keeps each event it is given and answers with ``response``."""

    def handler(event: dict[str, Any], context: Any) -> Any:
        events.append(event)
        return response

    return handler


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An HTTP handler answering with the event it was given, as JSON."""
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(event)}


# ------------------------------------------------------------------------------------------- HTTP API


def test_the_routes_are_the_functions_http_api_events(deployment: Deployment) -> None:
    # When the unsubscribe function's HTTP API source is built
    source = HttpApiSource(deployment, UNSUBSCRIBE)

    # Then it has the template's two routes on the template's API
    assert sorted(route.route_key for route in source.routes) == [
        "GET /unsubscribe/{token}",
        "POST /unsubscribe/{token}",
    ]
    assert source.api_id == deployment.ref(API)


def test_a_get_reaches_the_function_as_a_payload_2_0_event(deployment: Deployment) -> None:
    # Given the unsubscribe API
    source = HttpApiSource(deployment, UNSUBSCRIBE)
    events: list[dict[str, Any]] = []

    # When a customer opens an unsubscribe link
    response = source.request(
        "GET",
        "/unsubscribe/tok-123",
        headers={"User-Agent": "Mail/1.0", "Accept": "text/html"},
        handler=recorder(events, {"statusCode": 200, "body": "ok"}),
    )

    # Then the function got exactly API Gateway's payload format 2.0 event
    assert response.status == 200
    (event,) = events
    api_id = deployment.ref(API)
    domain = f"{api_id}.execute-api.us-east-1.amazonaws.com"
    context = event["requestContext"]
    assert set(event) == {
        "version",
        "routeKey",
        "rawPath",
        "rawQueryString",
        "headers",
        "requestContext",
        "isBase64Encoded",
        "pathParameters",
    }
    assert event["version"] == "2.0"
    assert event["routeKey"] == context["routeKey"] == "GET /unsubscribe/{token}"
    assert event["rawPath"] == "/unsubscribe/tok-123"
    assert event["rawQueryString"] == ""
    assert event["pathParameters"] == {"token": "tok-123"}
    assert event["isBase64Encoded"] is False
    assert event["headers"]["user-agent"] == "Mail/1.0"
    assert event["headers"]["accept"] == "text/html"
    assert event["headers"]["host"] == domain
    assert all(name == name.lower() for name in event["headers"])
    assert context["accountId"] == deployment.account_id
    assert context["apiId"] == api_id
    assert context["domainName"] == domain
    assert context["stage"] == "$default"
    assert context["http"] == {
        "method": "GET",
        "path": "/unsubscribe/tok-123",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "Mail/1.0",
    }
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", context["time"])
    assert isinstance(context["timeEpoch"], int)
    assert context["requestId"]


def test_a_one_click_form_post_is_base64_encoded_as_api_gateway_does(deployment: Deployment) -> None:
    # Given a mail client's RFC 8058 one-click POST (a form body)
    source = HttpApiSource(deployment, UNSUBSCRIBE)

    # When it is sent
    event = source.request(
        "POST",
        "/unsubscribe/tok-123",
        body="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        handler=echo,
    ).json()

    # Then the function gets the body base64-encoded, flagged so, with its length
    assert event["routeKey"] == "POST /unsubscribe/{token}"
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"List-Unsubscribe=One-Click"
    assert event["headers"]["content-length"] == "26"
    assert event["headers"]["content-type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("content_type", "body", "as_text"),
    [
        ("application/json", '{"a": 1}', True),
        ("text/plain; charset=utf-8", "héllo", True),
        ("application/octet-stream", b"\x00\xff", False),
        (None, "no content type", False),
        ("text/plain", b"\xff\xfe not utf-8", False),
    ],
)
def test_text_bodies_arrive_as_text_and_all_others_base64_encoded(
    deployment: Deployment, content_type: str | None, body: str | bytes, as_text: bool
) -> None:
    # Given a request body of some content type
    headers = {} if content_type is None else {"Content-Type": content_type}

    # When it is posted
    event = (
        HttpApiSource(deployment, UNSUBSCRIBE)
        .request("POST", "/unsubscribe/t", body=body, headers=headers, handler=echo)
        .json()
    )

    # Then only text types reach the function as text
    data = body.encode() if isinstance(body, str) else body
    assert event["isBase64Encoded"] is not as_text
    assert (event["body"].encode() if as_text else base64.b64decode(event["body"])) == data


def test_query_strings_cookies_and_encoded_paths_are_shaped_as_api_gateway_does(
    deployment: Deployment,
) -> None:
    # Given a request with a query in the path and in ``query``, cookies, and a percent-encoded token
    source = HttpApiSource(deployment, UNSUBSCRIBE)

    # When it is sent
    event = source.request(
        "GET",
        "/unsubscribe/a%2Bb%20c?topic=bills&topic=visits",
        query={"lang": "fr"},
        headers={"Cookie": "a=1; b=2"},
        handler=echo,
    ).json()

    # Then repeated parameters are joined with commas, cookies have their own field, the path is decoded
    assert event["rawQueryString"] == "topic=bills&topic=visits&lang=fr"
    assert event["queryStringParameters"] == {"topic": "bills,visits", "lang": "fr"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]
    assert event["pathParameters"] == {"token": "a+b c"}
    assert event["rawPath"] == event["requestContext"]["http"]["path"] == "/unsubscribe/a+b c"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/unsubscribe"), ("GET", "/unsubscribe/t/extra"), ("PUT", "/unsubscribe/t"), ("GET", "/")],
)
def test_a_request_no_route_takes_is_a_404_without_invoking(
    deployment: Deployment, method: str, path: str
) -> None:
    # Given the unsubscribe API, whose routes are GET and POST /unsubscribe/{token}
    events: list[dict[str, Any]] = []

    # When a request matches neither
    response = HttpApiSource(deployment, UNSUBSCRIBE).request(method, path, handler=recorder(events))

    # Then API Gateway answers 404 itself
    assert response == HttpResponse(404, {"content-type": "application/json"}, '{"message": "Not Found"}')
    assert events == []


def test_the_function_runs_with_its_template_environment(deployment: Deployment) -> None:
    # Given a handler reading its settings from the environment
    seen: dict[str, str] = {}

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen["table"] = os.environ["PREFERENCES_TABLE_NAME"]
        seen["function"] = context.function_name
        return {"statusCode": 204}

    # When the API invokes it
    response = HttpApiSource(deployment, UNSUBSCRIBE).request("GET", "/unsubscribe/t", handler=handler)

    # Then it ran as the template's UnsubscribeFunction
    assert response.status == 204
    assert seen == {"table": f"{STACK}-PreferencesTable", "function": f"{STACK}-{UNSUBSCRIBE}"}


def test_a_structured_response_is_answered_as_given() -> None:
    # Given a function response with status, headers, cookies and a base64 body
    result = {
        "statusCode": 302,
        "headers": {"Location": "https://example.com/bye", "X-Count": 2},
        "cookies": ["seen=1; Secure"],
        "body": base64.b64encode(b"<p>bye</p>").decode(),
        "isBase64Encoded": True,
    }

    # When API Gateway interprets it
    response = http_response(result)

    # Then it is that HTTP response, headers lower-cased and the body decoded
    assert response == HttpResponse(
        302, {"location": "https://example.com/bye", "x-count": "2"}, "<p>bye</p>", ["seen=1; Secure"]
    )


@pytest.mark.parametrize(
    ("result", "body"),
    [({"ok": True}, '{"ok": true}'), ("done", '"done"'), (None, "null"), ([1, 2], "[1, 2]")],
)
def test_a_response_without_status_code_is_a_200_json_body(result: Any, body: str) -> None:
    # When a function returns something other than a response object
    response = http_response(result)

    # Then API Gateway answers 200 with it as the JSON body
    assert response == HttpResponse(200, {"content-type": "application/json"}, body)


@pytest.mark.parametrize("status", ["oops", None, True])
def test_a_malformed_status_code_is_a_500(status: Any) -> None:
    assert http_response({"statusCode": status}).status == 500


def test_a_handler_exception_is_a_500_and_its_traceback_kept(deployment: Deployment) -> None:
    # Given a handler that fails
    def handler(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("secret unavailable")

    source = HttpApiSource(deployment, UNSUBSCRIBE)

    # When it is requested
    response = source.request("GET", "/unsubscribe/t", handler=handler)

    # Then API Gateway answers 500 and the error is kept for the test
    assert response == HttpResponse(
        500, {"content-type": "application/json"}, '{"message": "Internal Server Error"}'
    )
    (error,) = source.function_errors
    assert "RuntimeError: secret unavailable" in error


def test_more_specific_routes_win_and_any_matches_every_method() -> None:
    # Given a function with a literal route, a parameter route and a greedy ANY route
    template = copy.deepcopy(TEMPLATE)
    events = template["Resources"][UNSUBSCRIBE]["Properties"]["Events"]
    api = {"Ref": API}
    events["Catch"] = {"Type": "HttpApi", "Properties": {"ApiId": api, "Method": "any", "Path": "/{proxy+}"}}
    events["Exact"] = {
        "Type": "HttpApi",
        "Properties": {"ApiId": api, "Method": "GET", "Path": "/unsubscribe/help"},
    }
    with mock_aws():
        source = HttpApiSource(provision(template), UNSUBSCRIBE)

        def route_of(method: str, path: str) -> Any:
            return source.request(method, path, handler=echo).json()

        # Then each request goes to the most specific route that takes it
        assert route_of("GET", "/unsubscribe/help")["routeKey"] == "GET /unsubscribe/help"
        assert route_of("GET", "/unsubscribe/t")["routeKey"] == "GET /unsubscribe/{token}"
        deep = route_of("DELETE", "/a/b/c")
        assert deep["routeKey"] == "ANY /{proxy+}"
        assert deep["pathParameters"] == {"proxy": "a/b/c"}


def test_payload_format_1_0_is_not_emulated() -> None:
    template = copy.deepcopy(TEMPLATE)
    template["Resources"][UNSUBSCRIBE]["Properties"]["Events"]["Confirm"]["Properties"][
        "PayloadFormatVersion"
    ] = "1.0"
    with mock_aws():
        deployment = provision(template)
        with pytest.raises(NotImplementedError, match=r"payload format 1\.0"):
            HttpApiSource(deployment, UNSUBSCRIBE)


def test_a_function_without_http_api_events_has_no_http_source(deployment: Deployment) -> None:
    with pytest.raises(ValueError, match="no HttpApi event"):
        HttpApiSource(deployment, DELIVERY)
