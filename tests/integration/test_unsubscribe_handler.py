"""UnsubscribeFunction on the template's stack in moto, driven with API Gateway 2.0 requests."""

import base64
import io
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from headsup.domain import unsubscribe_tokens as tokens

from emulator import Deployment
from emulator.faults import FaultPlan, injected
from emulator.iam import denied
from sim.pipeline import to_dynamodb
from tests.unit.test_unsubscribe import FORM, ONE_CLICK, bad_tokens


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
    headers: dict[str, str] | None = None,
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
        **(headers or {}),  # lower-cased, as API Gateway hands them over
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


# ------------------------------------------------------------------------- the preference page

EVERY_BOX = [f"{t}:{c}" for t in ("billing", "callbacks", "tickets", "visits") for c in ("email", "sms")]


def save_body(*boxes: str, language: str = "", pause: str = "keep", **extra: str) -> bytes:
    """The preference form as a browser posts it (application/x-www-form-urlencoded)."""
    pairs = [("receive", box) for box in boxes] + [("language", language), ("pause", pause)]
    return urlencode([*pairs, *extra.items(), ("action", "save")]).encode()


def put_customer(deployment: Deployment, customer_id: str, **fields: str) -> None:
    boto3.client("dynamodb", region_name=deployment.region).put_item(
        TableName=deployment.ref("CustomersTable"),
        Item=to_dynamodb({"customer_id": customer_id, "first_name": "Ana", **fields}),
    )


def test_handler_get_shows_the_preferences_in_the_browsers_language_and_changes_nothing(
    deployment: Deployment,
) -> None:
    token = tokens.sign(deployed_key(deployment), "cust-ana", "billing")

    response = deployment.invoke(
        "UnsubscribeFunction",
        http_event(deployment, "GET", token, headers={"accept-language": "es-ES,es;q=0.9,en;q=0.5"}),
    )

    assert response["statusCode"] == 200
    assert '<html lang="es">' in response["body"]
    assert "Dejar de recibir avisos de facturación" in response["body"]
    assert response["body"].count('type="checkbox"') == 8
    assert preferences_item(deployment, "cust-ana") is None


def test_handler_save_changes_exactly_what_was_posted_and_records_when_and_where(
    deployment: Deployment,
) -> None:
    # Given a customer opted out of visits by a one-click
    token = tokens.sign(deployed_key(deployment), "cust-ana", "billing")
    deployment.invoke(
        "UnsubscribeFunction",
        http_event(
            deployment, "POST", tokens.sign(deployed_key(deployment), "cust-ana", "visits"), ONE_CLICK
        ),
    )

    # When they save the page with billing off by SMS, visits back by email only, and a day's pause
    boxes = [box for box in EVERY_BOX if box not in {"billing:sms", "visits:sms"}]
    response = deployment.invoke(
        "UnsubscribeFunction", http_event(deployment, "POST", token, save_body(*boxes, pause="1d"))
    )

    # Then exactly that is stored, beside the history of both changes
    assert response["statusCode"] == 200
    assert "Your choices are saved." in response["body"]
    item = preferences_item(deployment, "cust-ana")
    assert item is not None
    assert "opted_out_topics" not in item
    assert sorted(item["opted_out_topic_channels"]["SS"]) == ["billing:sms", "visits:sms"]
    assert "paused_until" in item
    assert item["last_change"]["S"] == "preference_page"
    changes = [entry["M"] for entry in item["changes"]["L"]]
    assert [change["source"]["S"] for change in changes] == ["one_click", "preference_page"]
    assert [w["S"] for w in changes[1]["what"]["L"]][:2] == ["billing by sms: off", "visits by email: on"]

    # And the same post again changes nothing
    again = deployment.invoke(
        "UnsubscribeFunction", http_event(deployment, "POST", token, save_body(*boxes, pause="1d"))
    )
    assert again["statusCode"] == 200
    assert preferences_item(deployment, "cust-ana") == item


@pytest.mark.parametrize(
    "body",
    [
        save_body(*EVERY_BOX, language="tlh"),
        save_body("billing:fax"),
        save_body(pause="forever"),
        save_body(*EVERY_BOX, admin="yes"),
        save_body("billing:email", language="\u202e\u05e2\u05d1\u05e8\u05d9\u05ea \U0001f642"),
    ],
    ids=["unknown-language", "unknown-channel", "unknown-pause", "unknown-field", "rtl-and-emoji"],
)
def test_handler_refuses_a_save_the_page_could_not_have_sent_and_changes_nothing(
    deployment: Deployment, body: bytes
) -> None:
    token = tokens.sign(deployed_key(deployment), "cust-ana", "billing")

    response = deployment.invoke("UnsubscribeFunction", http_event(deployment, "POST", token, body))

    assert response["statusCode"] == 400
    assert "Nothing was changed" in response["body"]
    assert preferences_item(deployment, "cust-ana") is None


def test_handler_answers_a_huge_body_with_413_and_changes_nothing(deployment: Deployment) -> None:
    token = tokens.sign(deployed_key(deployment), "cust-ana", "billing")
    body = save_body(*EVERY_BOX) + b"&note=" + b"x" * 10_000

    response = deployment.invoke("UnsubscribeFunction", http_event(deployment, "POST", token, body))

    assert response["statusCode"] == 413
    assert preferences_item(deployment, "cust-ana") is None


def test_handler_answers_a_save_with_a_tampered_link_like_any_bad_link(deployment: Deployment) -> None:
    key = deployed_key(deployment)
    bad = bad_tokens(key)["tampered_signature"]

    saved = deployment.invoke("UnsubscribeFunction", http_event(deployment, "POST", bad, save_body()))
    clicked = deployment.invoke("UnsubscribeFunction", http_event(deployment, "POST", bad, ONE_CLICK))

    assert (
        (saved["statusCode"], saved["body"])
        == (clicked["statusCode"], clicked["body"])
        == (404, clicked["body"])
    )
    assert preferences_item(deployment, "cust-1") is None


def test_handler_answers_503_when_a_save_keeps_being_overtaken(
    deployment: Deployment, logs: io.StringIO
) -> None:
    # Given every write of the save refused, as if the item changed each time in between
    token = tokens.sign(deployed_key(deployment), "cust-ana", "billing")
    plan = FaultPlan()
    plan.error("dynamodb", "UpdateItem", "ConditionalCheckFailedException", function="UnsubscribeFunction")

    with injected(plan):
        response = deployment.invoke(
            "UnsubscribeFunction", http_event(deployment, "POST", token, save_body("billing:email"))
        )

    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "60"
    assert "ConcurrentChange" in logs.getvalue()
    assert preferences_item(deployment, "cust-ana") is None


# The next three need UnsubscribeFunction's template changes (the templates layer and TEMPLATES_DIR,
# CUSTOMERS_TABLE_NAME, GetItem on PreferencesTable and, for locale and timezone only, on CustomersTable).


def test_handler_get_speaks_the_customers_account_language_and_clock(deployment: Deployment) -> None:
    put_customer(
        deployment, "cust-ana", locale="es-MX", timezone="America/Mexico_City", email="ana@example.com"
    )
    key = deployed_key(deployment)
    deployment.invoke(
        "UnsubscribeFunction",
        http_event(
            deployment, "POST", tokens.sign(key, "cust-ana", "billing"), save_body(*EVERY_BOX, pause="1w")
        ),
    )

    response = deployment.invoke(
        "UnsubscribeFunction",
        http_event(
            deployment, "GET", tokens.sign(key, "cust-ana", "tickets"), headers={"accept-language": "en"}
        ),
    )

    assert response["statusCode"] == 200
    assert '<html lang="es">' in response["body"]
    assert "(America/Mexico_City)" in response["body"]
    assert "El de mi cuenta (Español)" in response["body"]


def test_handler_offers_the_languages_the_notice_templates_are_written_in(deployment: Deployment) -> None:
    token = tokens.sign(deployed_key(deployment), "cust-ana", "billing")

    response = deployment.invoke(
        "UnsubscribeFunction", http_event(deployment, "POST", token, save_body(*EVERY_BOX, language="es"))
    )

    assert response["statusCode"] == 200
    item = preferences_item(deployment, "cust-ana")
    assert item is not None
    assert item["language"] == {"S": "es"}
    assert '<option value="es" selected lang="es">Español</option>' in response["body"]


def test_every_call_the_page_makes_is_allowed_by_the_functions_template_policy(
    deployment: Deployment,
) -> None:
    # moto does not enforce IAM: a permission missing from template.yaml would only fail in AWS
    put_customer(deployment, "cust-ana", locale="es-MX")
    key = deployed_key(deployment)
    billing = tokens.sign(key, "cust-ana", "billing")
    with injected(FaultPlan()) as plan:
        deployment.invoke("UnsubscribeFunction", http_event(deployment, "GET", billing))
        deployment.invoke(
            "UnsubscribeFunction", http_event(deployment, "POST", billing, save_body("billing:email"))
        )
        deployment.invoke("UnsubscribeFunction", http_event(deployment, "POST", billing, ONE_CLICK))

    operations = {(call.service, call.operation) for call in plan.calls}
    assert {("dynamodb", "GetItem"), ("dynamodb", "UpdateItem")} <= operations
    refused = {
        denial
        for call in plan.calls
        for denial in denied(deployment, "UnsubscribeFunction", call.service, call.operation, call.params)
    }
    assert refused == set()
