"""One-click unsubscribe (RFC 8058): the logic with an in-memory store, then the real handler on
moto with template.yaml provisioned, driven with HTTP API payload 2.0 events as API Gateway sends them."""

import base64
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from headsup.domain import unsubscribe_tokens as tokens
from headsup.domain.preferences import Preferences
from headsup.logic.unsubscribe import (
    MAX_FORM_BYTES,
    Action,
    Unsubscribe,
    read_form,
    requested_action,
    signing_key,
)
from moto import mock_aws

from emulator import Deployment, provision
from sim.pipeline import lambda_output_to

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
KEY = b"k" * 64
OTHER_KEY = b"o" * 64
ONE_CLICK = b"List-Unsubscribe=One-Click"
FORM = "application/x-www-form-urlencoded"


@dataclass
class InMemoryPreferences:
    """Keeps PreferenceStore's rules: opting out of a topic twice is the same as once."""

    topics: dict[str, set[str]] = field(default_factory=dict)
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (customer, topic, source)

    def get(self, customer_id: str) -> Preferences:
        return Preferences(customer_id, opted_out_topics=frozenset(self.topics.get(customer_id, set())))

    def opt_out_topic(self, customer_id: str, topic: str, *, source: str, now: datetime) -> None:
        self.topics.setdefault(customer_id, set()).add(topic)
        self.changes.append((customer_id, topic, source))

    def suppress_email(self, customer_id: str, address: str, *, reason: str, now: datetime) -> None:
        raise AssertionError("unsubscribing never suppresses an address")


def service(store: InMemoryPreferences, business: str = "Example Co") -> Unsubscribe:
    return Unsubscribe(key=KEY, store=store, business_name=business)


def bad_tokens(key: bytes = KEY) -> dict[str, str]:
    """One of each way a link can be wrong; every one must get the same answer."""
    good = tokens.sign(key, "cust-1", "billing")
    payload, mac = good.split(".")
    forged_payload = base64.urlsafe_b64encode(b'{"v":1,"c":"cust-2","t":"billing"}').rstrip(b"=").decode()
    return {
        "tampered_payload": f"{forged_payload}.{mac}",
        "tampered_signature": f"{payload}.{mac[:-2]}{'AA' if mac[-2:] != 'AA' else 'BB'}",
        "truncated": good[: len(good) - 10],
        "payload_only": payload,
        "other_key": tokens.sign(OTHER_KEY, "cust-1", "billing"),
        "unknown_topic": tokens.sign(key, "cust-1", "marketing"),
        "no_customer": tokens.sign(key, "", "billing"),
        "not_base64": "!!!.???",
        "empty": "",
        "huge": "A" * 5000 + "." + "B" * 43,
    }


# ------------------------------------------------------------------------------------------- logic


def test_one_click_post_opts_out_of_that_topic_only() -> None:
    # Given a link for billing notices
    store = InMemoryPreferences()
    token = tokens.sign(KEY, "cust-1", "billing")

    # When the mail client sends the RFC 8058 POST
    response = service(store).unsubscribe(token, read_form(ONE_CLICK, FORM), now=NOW)

    # Then billing, and only billing, is opted out, recorded as a one-click opt-out
    assert response.status == 200
    assert store.topics == {"cust-1": {"billing"}}
    assert store.changes == [("cust-1", "billing", "one_click")]
    assert "Location" not in response.headers
    assert "billing notices" in response.body


def test_the_confirmation_pages_button_unsubscribes_too() -> None:
    store = InMemoryPreferences()
    token = tokens.sign(KEY, "cust-1", "visits")

    response = service(store).unsubscribe(token, read_form(b"confirm=yes", FORM), now=NOW)

    assert response.status == 200
    assert store.changes == [("cust-1", "visits", "unsubscribe_page")]


def test_get_shows_a_confirmation_page_that_changes_nothing() -> None:
    # Given a link, as a mail scanner would prefetch it
    store = InMemoryPreferences()
    token = tokens.sign(KEY, "cust-1", "tickets")

    # When it is fetched
    response = service(store).confirmation_page(token)

    # Then the page asks, names the topic in plain words, and offers a button that POSTs back here
    assert response.status == 200
    assert store.changes == []
    assert "support ticket updates" in response.body
    assert "Example Co" in response.body
    assert '<form method="post">' in response.body
    assert 'name="confirm" value="yes"' in response.body


def test_repeating_the_post_is_harmless() -> None:
    store = InMemoryPreferences()
    token = tokens.sign(KEY, "cust-1", "callbacks")
    unsubscribe = service(store)

    first = unsubscribe.unsubscribe(token, {"list-unsubscribe": "One-Click"}, now=NOW)
    second = unsubscribe.unsubscribe(token, {"list-unsubscribe": "One-Click"}, now=NOW)

    assert (first.status, second.status) == (200, 200)
    assert first.body == second.body
    assert store.topics == {"cust-1": {"callbacks"}}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_every_bad_link_gets_the_same_generic_answer_and_changes_nothing(method: str) -> None:
    store = InMemoryPreferences()
    unsubscribe = service(store)
    answers = set()

    for token in bad_tokens().values():
        response = (
            unsubscribe.confirmation_page(token)
            if method == "GET"
            else unsubscribe.unsubscribe(token, {"list-unsubscribe": "One-Click"}, now=NOW)
        )
        answers.add((response.status, response.body))

    assert answers == {(404, unsubscribe.invalid_link().body)}
    assert store.changes == []


def test_a_post_with_neither_form_changes_nothing_and_offers_the_button() -> None:
    store = InMemoryPreferences()
    token = tokens.sign(KEY, "cust-1", "billing")

    response = service(store).unsubscribe(token, read_form(b"something=else", FORM), now=NOW)

    assert response.status == 400
    assert store.changes == []
    assert 'name="confirm" value="yes"' in response.body


def test_everything_put_in_a_page_is_html_escaped() -> None:
    # Given a business name with markup in it
    store = InMemoryPreferences()
    token = tokens.sign(KEY, "cust-1", "billing")
    unsubscribe = service(store, business='<script>alert("x")</script> & Co')

    # Then no page carries it unescaped
    for response in (
        unsubscribe.confirmation_page(token),
        unsubscribe.unsubscribe(token, {"confirm": "yes"}, now=NOW),
        unsubscribe.invalid_link(),
    ):
        assert "<script>" not in response.body
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in response.body


def test_pages_carry_the_security_headers() -> None:
    token = tokens.sign(KEY, "cust-1", "billing")

    for response in (
        service(InMemoryPreferences()).confirmation_page(token),
        service(InMemoryPreferences()).invalid_link(),
    ):
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_the_one_click_body_is_read_in_both_encodings_rfc_8058_allows() -> None:
    multipart = (
        b"--b0undary\r\n"
        b'Content-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
        b"One-Click\r\n"
        b"--b0undary--\r\n"
    )

    assert (
        requested_action(read_form(multipart, "multipart/form-data; boundary=b0undary")) is Action.ONE_CLICK
    )
    assert requested_action(read_form(ONE_CLICK, FORM)) is Action.ONE_CLICK
    assert requested_action(read_form(ONE_CLICK, None)) is Action.ONE_CLICK


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"List-Unsubscribe=One-Click&" + b"x" * MAX_FORM_BYTES, FORM),  # far larger than any form of ours
        (b"&".join([b"a=1"] * 50) + b"&List-Unsubscribe=One-Click", FORM),  # too many fields
        (b"List-Unsubscribe=One-Click", "multipart/form-data; boundary=none"),  # not multipart at all
        (b"", FORM),
    ],
)
def test_unreadable_forms_ask_for_nothing(body: bytes, content_type: str) -> None:
    assert requested_action(read_form(body, content_type)) is None


def test_the_key_is_the_secret_strings_bytes_as_delivery_signs_with() -> None:
    assert signing_key("abc123") == b"abc123"


# ------------------------------------------------------------------------------------------- handler


@pytest.fixture
def deployment() -> Iterator[Deployment]:
    saved = dict(os.environ)  # invoke() leaves the function's environment set, as a warm Lambda would
    with mock_aws():
        yield provision()
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def logs(deployment: Deployment) -> Iterator[io.StringIO]:
    with lambda_output_to(io.StringIO(), deployment) as buffer:
        yield buffer  # type: ignore[misc]


def deployed_key(deployment: Deployment) -> bytes:
    secrets = boto3.client("secretsmanager", region_name=deployment.region)
    secret: str = secrets.get_secret_value(SecretId=deployment.ref("UnsubscribeSigningKey"))["SecretString"]
    return secret.encode()


def http_event(
    deployment: Deployment,
    method: str,
    token: str,
    body: bytes | None = None,
    content_type: str | None = None,
) -> dict[str, Any]:
    """An HTTP API payload 2.0 event for /unsubscribe/{token}. Like API Gateway, a form body is
    handed over base64-encoded, and a request without a body has no `body` key."""
    api_id = deployment.ref("UnsubscribeApi")
    domain = f"{api_id}.execute-api.{deployment.region}.amazonaws.com"
    path = f"/unsubscribe/{token}"
    headers = {
        "accept": "*/*",
        "host": domain,
        "user-agent": "Mozilla/5.0 (compatible; GoogleImageProxy)",
        "x-amzn-trace-id": "Root=1-674316c0-0123456789abcdef01234567",
        "x-forwarded-for": "192.0.2.10",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} /unsubscribe/{{token}}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": deployment.account_id,
            "apiId": api_id,
            "domainName": domain,
            "domainPrefix": api_id,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.10",
                "userAgent": headers["user-agent"],
            },
            "requestId": "CVmG1jXdoAMEPJA=",
            "routeKey": f"{method} /unsubscribe/{{token}}",
            "stage": "$default",
            "time": "24/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795608000000,
        },
        "pathParameters": {"token": token},
        "isBase64Encoded": False,
    }
    if body is not None:
        headers["content-type"] = content_type or FORM
        headers["content-length"] = str(len(body))
        event["body"] = base64.b64encode(body).decode()
        event["isBase64Encoded"] = True
    return event


def preferences_item(deployment: Deployment, customer_id: str) -> dict[str, Any] | None:
    dynamodb = boto3.client("dynamodb", region_name=deployment.region)
    return dynamodb.get_item(
        TableName=deployment.ref("PreferencesTable"), Key={"customer_id": {"S": customer_id}}
    ).get("Item")


def test_handler_one_click_post_opts_out_that_topic_and_answers_200_without_redirect(
    deployment: Deployment, logs: io.StringIO
) -> None:
    # Given a link signed with the deployed key
    token = tokens.sign(deployed_key(deployment), "cust-ana", "billing")

    # When the mail client POSTs the one-click body
    response = deployment.invoke("UnsubscribeFunction", http_event(deployment, "POST", token, ONE_CLICK))

    # Then the opt-out is stored at once, for billing only, and the answer is a plain 200
    assert response["statusCode"] == 200
    assert "Location" not in response["headers"]
    assert response["headers"]["Cache-Control"] == "no-store"
    item = preferences_item(deployment, "cust-ana")
    assert item is not None
    assert item["opted_out_topics"]["SS"] == ["billing"]
    assert item["last_change"]["S"] == "one_click"
    assert "Customer unsubscribed from a topic" in logs.getvalue()
    assert token not in logs.getvalue()


def test_handler_reads_a_multipart_one_click_post(deployment: Deployment) -> None:
    token = tokens.sign(deployed_key(deployment), "cust-ana", "visits")
    body = (
        b"------x\r\n"
        b'Content-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
        b"One-Click\r\n"
        b"------x--\r\n"
    )

    response = deployment.invoke(
        "UnsubscribeFunction",
        http_event(deployment, "POST", token, body, content_type="multipart/form-data; boundary=----x"),
    )

    assert response["statusCode"] == 200
    item = preferences_item(deployment, "cust-ana")
    assert item is not None
    assert item["opted_out_topics"]["SS"] == ["visits"]


def test_handler_get_changes_nothing(deployment: Deployment) -> None:
    token = tokens.sign(deployed_key(deployment), "cust-ana", "billing")

    response = deployment.invoke("UnsubscribeFunction", http_event(deployment, "GET", token))

    assert response["statusCode"] == 200
    assert "billing notices" in response["body"]
    assert preferences_item(deployment, "cust-ana") is None


def test_handler_confirmation_button_then_a_repeat_are_both_200(deployment: Deployment) -> None:
    token = tokens.sign(deployed_key(deployment), "cust-ana", "tickets")
    event = http_event(deployment, "POST", token, b"confirm=yes")

    first = deployment.invoke("UnsubscribeFunction", event)
    second = deployment.invoke("UnsubscribeFunction", event)

    assert (first["statusCode"], second["statusCode"]) == (200, 200)
    item = preferences_item(deployment, "cust-ana")
    assert item is not None
    assert item["opted_out_topics"]["SS"] == ["tickets"]
    assert item["last_change"]["S"] == "unsubscribe_page"


def test_handler_answers_every_bad_link_alike_and_never_logs_the_token(
    deployment: Deployment, logs: io.StringIO
) -> None:
    # Given links that were tampered with, truncated, or signed with another key
    answers = set()
    bad = bad_tokens(deployed_key(deployment))

    # When each is POSTed as a one-click unsubscribe
    for token in bad.values():
        response = deployment.invoke("UnsubscribeFunction", http_event(deployment, "POST", token, ONE_CLICK))
        answers.add((response["statusCode"], response["body"]))

    # Then all get one and the same 4xx, nothing is stored, and the logs say why without the token
    assert len(answers) == 1
    ((status, _),) = answers
    assert 400 <= status < 500
    assert preferences_item(deployment, "cust-1") is None
    output = logs.getvalue()
    assert output.count("Invalid unsubscribe token") >= len(bad) - 1  # the unknown topic is logged apart
    assert "Unsubscribe token names an unknown topic" in output
    for name, token in bad.items():
        if len(token) > 8:
            assert token not in output, name


def test_handler_never_logs_the_key(deployment: Deployment, logs: io.StringIO) -> None:
    key = deployed_key(deployment)
    token = tokens.sign(key, "cust-ana", "billing")

    deployment.invoke("UnsubscribeFunction", http_event(deployment, "GET", token))
    deployment.invoke("UnsubscribeFunction", http_event(deployment, "POST", token, ONE_CLICK))

    assert key.decode() not in logs.getvalue()


def test_handler_refuses_other_methods(deployment: Deployment) -> None:
    token = tokens.sign(deployed_key(deployment), "cust-ana", "billing")

    response = deployment.invoke("UnsubscribeFunction", http_event(deployment, "DELETE", token))

    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == "GET, POST"
    assert preferences_item(deployment, "cust-ana") is None


def test_handler_answers_503_when_the_opt_out_cannot_be_written(
    deployment: Deployment, logs: io.StringIO
) -> None:
    # Given the preferences table is unavailable
    token = tokens.sign(deployed_key(deployment), "cust-ana", "billing")
    boto3.client("dynamodb", region_name=deployment.region).delete_table(
        TableName=deployment.ref("PreferencesTable")
    )

    # When a one-click POST arrives
    response = deployment.invoke("UnsubscribeFunction", http_event(deployment, "POST", token, ONE_CLICK))

    # Then the client is told to try again, and the log names the AWS error only
    assert response["statusCode"] == 503
    assert "Could not record the opt-out" in logs.getvalue()
    assert "ResourceNotFoundException" in logs.getvalue()


def test_handler_reads_a_body_api_gateway_passed_as_text(deployment: Deployment) -> None:
    token = tokens.sign(deployed_key(deployment), "cust-ana", "billing")
    event = http_event(deployment, "POST", token, ONE_CLICK)
    event["body"], event["isBase64Encoded"] = ONE_CLICK.decode(), False

    response = deployment.invoke("UnsubscribeFunction", event)

    assert response["statusCode"] == 200
    assert preferences_item(deployment, "cust-ana") is not None


def test_handler_a_body_that_is_not_base64_changes_nothing(deployment: Deployment) -> None:
    token = tokens.sign(deployed_key(deployment), "cust-ana", "billing")
    event = http_event(deployment, "POST", token, ONE_CLICK)
    event["body"] = "List-Unsubscribe=One-Click"  # still flagged isBase64Encoded

    response = deployment.invoke("UnsubscribeFunction", event)

    assert response["statusCode"] == 400
    assert preferences_item(deployment, "cust-ana") is None
