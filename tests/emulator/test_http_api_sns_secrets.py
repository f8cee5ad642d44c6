"""emulator: secrets, the unsubscribe HTTP API, SES configuration sets and the SES feedback topic.

Handlers here are small test doubles, not headsup's: the unsubscribe and feedback handlers are not what is
under test, only what API Gateway and SNS would hand them and make of their answers.
"""

import base64
import copy
import json
import os
import re
import string
from typing import Any

import boto3
import pytest
from moto import mock_aws

from emulator import (
    Deployment,
    HttpApiSource,
    HttpResponse,
    LambdaHandler,
    SnsSource,
    http_response,
    provision,
    sent_emails,
    topic_messages,
)
from emulator.template import load_template
from sim.pipeline import LocalPipeline

TEMPLATE = load_template()
STACK = "headsup-local"
UNSUBSCRIBE, FEEDBACK_FUNCTION, FEEDBACK = "UnsubscribeFunction", "SesFeedbackFunction", "Feedback"
DELIVERY = "NoticeDeliveryFunction"
SIGNING_KEY, API, CONFIGURATION_SET = "UnsubscribeSigningKey", "UnsubscribeApi", "SesConfigurationSet"
FEEDBACK_TOPIC = "SesFeedbackTopic"
API_ID = re.compile(r"[a-z0-9]{10}")


def recorder(events: list[dict[str, Any]], response: Any = None) -> LambdaHandler:
    """A handler that keeps each event it is given and answers with ``response``."""

    def handler(event: dict[str, Any], context: Any) -> Any:
        events.append(event)
        return response

    return handler


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An HTTP handler answering with the event it was given, as JSON."""
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(event)}


def with_secret(**properties: Any) -> dict[str, Any]:
    template = copy.deepcopy(TEMPLATE)
    template["Resources"][SIGNING_KEY]["Properties"] = properties
    return template


def secret_value(deployment: Deployment, logical_id: str = SIGNING_KEY) -> str:
    secrets = boto3.client("secretsmanager")
    return str(secrets.get_secret_value(SecretId=deployment.ref(logical_id))["SecretString"])


# ------------------------------------------------------------------------------------------- secrets


def test_the_signing_key_is_generated_as_the_template_asks_and_ref_gives_its_arn(
    deployment: Deployment,
) -> None:
    # Given template.yaml's signing key: 64 characters, no punctuation
    generate = TEMPLATE["Resources"][SIGNING_KEY]["Properties"]["GenerateSecretString"]
    assert generate == {"PasswordLength": 64, "ExcludePunctuation": True}

    # When it is provisioned and read back from Secrets Manager
    value = secret_value(deployment)

    # Then it is a secret of that form, Ref is its ARN (as CloudFormation's), and the functions get that ARN
    assert len(value) == 64
    assert set(value) <= set(string.ascii_letters + string.digits)
    arn = deployment.ref(SIGNING_KEY)
    assert re.fullmatch(
        rf"arn:aws:secretsmanager:us-east-1:\d{{12}}:secret:{STACK}-{SIGNING_KEY}-\w{{6}}", arn
    )
    assert deployment.function_env(UNSUBSCRIBE)["UNSUBSCRIBE_KEY_SECRET_ARN"] == arn
    assert deployment.function_env(DELIVERY)["UNSUBSCRIBE_KEY_SECRET_ARN"] == arn
    description = boto3.client("secretsmanager").describe_secret(SecretId=arn)
    assert description["Description"] == "HMAC key for headsup unsubscribe links"


def test_each_deployment_generates_its_own_signing_key() -> None:
    # Given two separate deployments of the template
    with mock_aws():
        first = secret_value(provision())
    with mock_aws():
        second = secret_value(provision())

    # Then each has a fresh key, as each CloudFormation stack would
    assert first != second


def test_a_given_secret_string_is_stored_as_is() -> None:
    with mock_aws():
        # Given a secret whose value the template gives
        deployment = provision(with_secret(SecretString="not-generated", Name="fixed-name"))

        # Then that is its value, under the name given
        assert secret_value(deployment) == "not-generated"
        assert ":secret:fixed-name-" in deployment.ref(SIGNING_KEY)


def test_generate_secret_string_honours_its_options_and_template() -> None:
    with mock_aws():
        # Given a generated secret put in a JSON template, with character classes excluded
        deployment = provision(
            with_secret(
                GenerateSecretString={
                    "PasswordLength": 40,
                    "ExcludeUppercase": True,
                    "ExcludeNumbers": True,
                    "ExcludeCharacters": "abc",
                    "SecretStringTemplate": '{"user": "headsup"}',
                    "GenerateStringKey": "password",
                }
            )
        )

        # When it is read back
        document = json.loads(secret_value(deployment))

    # Then the template's keys are kept and the password is what the options allow
    assert document["user"] == "headsup"
    password = document["password"]
    assert len(password) == 40
    assert not set(password) & set(string.ascii_uppercase + string.digits + "abc")
    # RequireEachIncludedType defaults to true: lowercase and punctuation both appear
    assert set(password) & set(string.ascii_lowercase)
    assert set(password) & set(string.punctuation)


def test_a_generated_secret_includes_each_allowed_type_even_when_short() -> None:
    with mock_aws():
        # Given a password just long enough to hold one of each type
        deployment = provision(with_secret(GenerateSecretString={"PasswordLength": 4}))

        # When it is generated
        value = secret_value(deployment)

    # Then each type is in it
    for kind in (string.ascii_lowercase, string.ascii_uppercase, string.digits, string.punctuation):
        assert set(value) & set(kind)


@pytest.mark.parametrize(
    "properties",
    [
        {"GenerateSecretString": {"PasswordLength": 8, "SecretStringTemplate": "{}"}},
        {
            "GenerateSecretString": {
                "ExcludeLowercase": True,
                "ExcludeUppercase": True,
                "ExcludeNumbers": True,
                "ExcludePunctuation": True,
            }
        },
        {"SecretString": "x", "GenerateSecretString": {}},
    ],
    ids=["template-without-key", "nothing-left", "both-ways"],
)
def test_a_secret_cloudformation_would_reject_is_refused(properties: dict[str, Any]) -> None:
    with mock_aws(), pytest.raises(ValueError, match=r"SecretString|excludes"):
        provision(with_secret(**properties))


# ------------------------------------------------------------------------------------------- HTTP API


def test_the_api_has_an_execute_api_id_and_the_delivery_function_links_to_it(deployment: Deployment) -> None:
    # Given template.yaml, whose UnsubscribeBaseUrl defaults to empty
    assert deployment.parameters["UnsubscribeBaseUrl"] == ""

    # When the delivery function's environment is computed
    env = deployment.function_env(DELIVERY)

    # Then the API has an id of API Gateway's form and the unsubscribe URL is its execute-api URL
    api_id = deployment.ref(API)
    assert API_ID.fullmatch(api_id)
    assert env["UNSUBSCRIBE_BASE_URL"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com"
    assert HttpApiSource(deployment, UNSUBSCRIBE).base_url == env["UNSUBSCRIBE_BASE_URL"]
    assert deployment.resolve(TEMPLATE["Outputs"]["UnsubscribeEndpoint"]["Value"]) == (
        env["UNSUBSCRIBE_BASE_URL"] + "/unsubscribe/"
    )


def test_an_unsubscribe_base_url_parameter_replaces_the_api_url() -> None:
    with mock_aws():
        # Given the business's own unsubscribe domain
        deployment = provision(parameter_overrides={"UnsubscribeBaseUrl": "https://example.com/u"})

        # Then the condition is false and the delivery function links there
        assert deployment.condition("UseApiUrlForUnsubscribe") is False
        assert deployment.function_env(DELIVERY)["UNSUBSCRIBE_BASE_URL"] == "https://example.com/u"


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


# ------------------------------------------------------------------------------------------- SES


def test_the_configuration_set_is_created_and_sending_through_it_works(deployment: Deployment) -> None:
    # Given the configuration set the delivery function is told to send through
    name = deployment.function_env(DELIVERY)["SES_CONFIGURATION_SET"]
    assert name == deployment.ref(CONFIGURATION_SET) == f"{STACK}-{CONFIGURATION_SET}"
    sesv2 = boto3.client("sesv2")
    assert sesv2.get_configuration_set(ConfigurationSetName=name)["ConfigurationSetName"] == name

    # When an email is sent with it
    sesv2.send_email(
        FromEmailAddress=deployment.parameters["SenderEmail"],
        Destination={"ToAddresses": ["ada@example.net"]},
        Content={"Simple": {"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "Hello"}}}},
        ConfigurationSetName=name,
    )

    # Then it is sent
    (sent,) = sent_emails()
    assert sent.destinations == ["ada@example.net"]


def test_bounces_and_complaints_are_routed_to_the_feedback_topic(deployment: Deployment) -> None:
    # Given the template's event destination
    name = deployment.ref(CONFIGURATION_SET)
    topic = deployment.ref(FEEDBACK_TOPIC)

    # When the configuration set is described (SES v1, which moto shares with v2)
    described = boto3.client("ses").describe_configuration_set(
        ConfigurationSetName=name, ConfigurationSetAttributeNames=["eventDestinations"]
    )

    # Then bounces and complaints go to the feedback topic, and the deployment records it
    (destination,) = described["EventDestinations"]
    assert destination["Enabled"] is True
    assert destination["MatchingEventTypes"] == ["bounce", "complaint"]
    assert destination["SNSDestination"] == {"TopicARN": topic}
    (recorded,) = deployment.ses_event_destinations.values()
    assert (recorded.configuration_set, recorded.sns_topic_arn) == (name, topic)
    assert recorded.matching_event_types == ["bounce", "complaint"]


def test_the_feedback_topic_is_encrypted_with_the_template_key(deployment: Deployment) -> None:
    attributes = boto3.client("sns").get_topic_attributes(TopicArn=deployment.ref(FEEDBACK_TOPIC))[
        "Attributes"
    ]
    # SES cannot publish to a topic under the AWS managed key, so the template gives it its own
    assert attributes["KmsMasterKeyId"] == deployment.ref("NotificationsKey")
    key = boto3.client("kms").describe_key(KeyId=attributes["KmsMasterKeyId"])["KeyMetadata"]
    assert key["KeyState"] == "Enabled"


def test_the_ledger_has_the_customer_sent_index_as_declared(deployment: Deployment) -> None:
    # Given the ledger table
    dynamodb = boto3.client("dynamodb")
    table = deployment.ref("NoticeLedgerTable")
    (index,) = dynamodb.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]

    # Then CustomerSentIndex is there with its keys and projection
    assert index["IndexName"] == "CustomerSentIndex"
    assert index["KeySchema"] == [
        {"AttributeName": "customer_id", "KeyType": "HASH"},
        {"AttributeName": "sent_at", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}

    # ...and it is sparse: only notices with a sent_at are in it
    for notice_id, sent_at in (("n1", "2026-11-24T09:00:00Z"), ("n2", None), ("n3", "2026-11-23T09:00:00Z")):
        item = {"notice_id": {"S": notice_id}, "customer_id": {"S": "c1"}}
        if sent_at:
            item["sent_at"] = {"S": sent_at}
        dynamodb.put_item(TableName=table, Item=item)
    items = dynamodb.query(
        TableName=table,
        IndexName="CustomerSentIndex",
        KeyConditionExpression="customer_id = :c AND sent_at >= :since",
        ExpressionAttributeValues={":c": {"S": "c1"}, ":since": {"S": "2026-11-23T12:00:00Z"}},
    )["Items"]
    assert [item["notice_id"]["S"] for item in items] == ["n1"]


# ------------------------------------------------------------------------------------------- SNS


def test_sns_delivery_publishes_to_the_topic_and_invokes_with_lambdas_sns_event(
    deployment: Deployment,
) -> None:
    # Given the feedback function's SNS event on the feedback topic
    source = SnsSource(deployment, FEEDBACK_FUNCTION, FEEDBACK)
    topic = deployment.ref(FEEDBACK_TOPIC)
    assert source.topic_arn == topic
    events: list[dict[str, Any]] = []
    notification = json.dumps({"notificationType": "Bounce", "mail": {"messageId": "m-1"}})

    # When SES's notification is delivered
    response = source.deliver(notification, handler=recorder(events, "handled"))

    # Then the message is really on the topic, and the function got Lambda's SNS event for it
    assert response == "handled"
    (published,) = topic_messages(deployment, FEEDBACK_TOPIC)
    (event,) = events
    (record,) = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"].startswith(f"{topic}:")
    sns = record["Sns"]
    assert set(sns) == {
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertUrl",
        "UnsubscribeUrl",
        "MessageAttributes",
    }
    assert sns["Type"] == "Notification"
    assert sns["MessageId"] == published.message_id
    assert sns["TopicArn"] == topic
    assert sns["Message"] == notification
    assert sns["Subject"] is None
    assert sns["MessageAttributes"] == {}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", sns["Timestamp"])
    assert sns["SigningCertUrl"].startswith("https://sns.us-east-1.amazonaws.com/")
    assert sns["UnsubscribeUrl"].endswith(f"SubscriptionArn={record['EventSubscriptionArn']}")


def test_sns_subject_and_attributes_arrive_as_sns_hands_them_to_lambda(deployment: Deployment) -> None:
    # Given a message with a subject and attributes of each type
    source = SnsSource(deployment, FEEDBACK_FUNCTION, FEEDBACK)
    events: list[dict[str, Any]] = []

    # When it is delivered
    source.deliver(
        "body",
        subject="Bounce",
        attributes={
            "kind": "bounce",
            "count": 2,
            "raw": b"\x00\xff",
            "tags": ["a", "b"],
            "explicit": {"DataType": "String", "StringValue": "as boto3 takes it"},
        },
        handler=recorder(events),
    )

    # Then the function sees them as {"Type", "Value"}, binary base64-encoded
    sns = events[0]["Records"][0]["Sns"]
    assert sns["Subject"] == "Bounce"
    assert sns["MessageAttributes"] == {
        "kind": {"Type": "String", "Value": "bounce"},
        "count": {"Type": "Number", "Value": "2"},
        "raw": {"Type": "Binary", "Value": base64.b64encode(b"\x00\xff").decode()},
        "tags": {"Type": "String.Array", "Value": '["a", "b"]'},
        "explicit": {"Type": "String", "Value": "as boto3 takes it"},
    }


def test_an_sns_handler_exception_propagates_after_the_message_is_published(deployment: Deployment) -> None:
    def handler(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("boom")

    source = SnsSource(deployment, FEEDBACK_FUNCTION, FEEDBACK)
    with pytest.raises(RuntimeError, match="boom"):
        source.deliver("m", handler=handler)
    assert [m.message for m in topic_messages(deployment, FEEDBACK_TOPIC)] == ["m"]


def test_an_sns_filter_policy_keeps_the_function_from_messages_it_rejects() -> None:
    # Given the feedback event with a filter policy on a message attribute
    template = copy.deepcopy(TEMPLATE)
    template["Resources"][FEEDBACK_FUNCTION]["Properties"]["Events"][FEEDBACK]["Properties"][
        "FilterPolicy"
    ] = {"kind": ["bounce"]}
    with mock_aws():
        deployment = provision(template)
        source = SnsSource(deployment, FEEDBACK_FUNCTION, FEEDBACK)
        events: list[dict[str, Any]] = []

        # When one message matches and one does not
        source.deliver("kept", attributes={"kind": "bounce"}, handler=recorder(events, "ran"))
        skipped = source.deliver("dropped", attributes={"kind": "delivery"}, handler=recorder(events, "ran"))

        # Then only the matching one invokes the function, though both were published
        assert skipped is None
        assert [e["Records"][0]["Sns"]["Message"] for e in events] == ["kept"]
        assert [m.message for m in topic_messages(deployment, FEEDBACK_TOPIC)] == ["kept", "dropped"]


def test_an_sns_source_needs_an_sns_event(deployment: Deployment) -> None:
    with pytest.raises(ValueError, match="not SNS"):
        SnsSource(deployment, UNSUBSCRIBE, "Confirm")


# ------------------------------------------------------------------------------------------- pipeline


def test_the_pipeline_offers_both_sources_without_importing_their_handlers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given handlers that must not be imported merely to set the pipeline up
    def refuse(self: Deployment, function_logical_id: str) -> LambdaHandler:
        raise AssertionError(f"{function_logical_id}'s handler was imported")

    monkeypatch.setattr(Deployment, "handler", refuse)

    with mock_aws():
        # When the pipeline is provisioned
        pipeline = LocalPipeline.provision()

        # Then it has the unsubscribe API and the SES feedback subscription
        assert (
            pipeline.unsubscribe_api.base_url
            == f"https://{pipeline.deployment.ref(API)}.execute-api.us-east-1.amazonaws.com"
        )
        assert pipeline.ses_feedback.topic_arn == pipeline.deployment.ref(FEEDBACK_TOPIC)
