"""template.yaml is the one source of truth: it must validate, and the code must agree with it."""

import importlib
import os
import shutil
import subprocess
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from headsup.handlers.settings import (
    AnswerSettings,
    DeliverySettings,
    DetectorSettings,
    FeedbackSettings,
    InboundSmsSettings,
    IndexerSettings,
    SmsReceiptsSettings,
    SweepSettings,
    UnsubscribeSettings,
    VisitSettings,
)
from headsup.platform.settings import EnvSettings
from moto import mock_aws

from emulator import provision
from emulator.template import REPO_ROOT, load_template

TEMPLATE = REPO_ROOT / "template.yaml"
SETTINGS_OF: dict[str, type[EnvSettings]] = {
    "BillIncreaseDetectorFunction": DetectorSettings,
    "NoticeDeliveryFunction": DeliverySettings,
    "DueIndexerFunction": IndexerSettings,
    "DueSweepFunction": SweepSettings,
    "VisitDetectorFunction": VisitSettings,
    "UnsubscribeFunction": UnsubscribeSettings,
    "SesFeedbackFunction": FeedbackSettings,
    "SmsReceiptsFunction": SmsReceiptsSettings,
    "AnswerFunction": AnswerSettings,
    "InboundSmsFunction": InboundSmsSettings,
    # A custom resource's provider: everything it needs comes in the request, nothing from the
    # environment.
    "SmsDeliveryStatusFunction": EnvSettings,
}


def tool(name: str) -> str:
    """A tool `make test` installs into .venv-sam; missing means the suite was run the wrong way."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not on PATH: run the tests with `make test`, which installs it")
    return path


@pytest.mark.template
def test_sam_validate_lint_passes() -> None:
    result = subprocess.run(
        [tool("sam"), "validate", "--lint", "--template", str(TEMPLATE), "--region", "us-east-1"],
        capture_output=True,
        text=True,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.template
def test_cfn_lint_passes() -> None:
    result = subprocess.run(
        [tool("cfn-lint"), str(TEMPLATE)], capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def functions() -> dict[str, dict]:  # type: ignore[type-arg]
    resources = load_template()["Resources"]
    return {lid: r for lid, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}


def test_every_function_has_settings_checked_here() -> None:
    assert set(functions()) == set(SETTINGS_OF)


@pytest.mark.parametrize("function_id", sorted(SETTINGS_OF))
def test_handler_path_in_template_is_importable(function_id: str) -> None:
    module_name, _, attribute = functions()[function_id]["Properties"]["Handler"].rpartition(".")
    assert callable(getattr(importlib.import_module(module_name), attribute))


@pytest.mark.parametrize("function_id", sorted(SETTINGS_OF))
def test_code_reads_only_environment_the_template_sets(function_id: str) -> None:
    with mock_aws():
        env = provision().function_env(function_id)
    settings = SETTINGS_OF[function_id]
    needed = {field.alias for field in settings.model_fields.values()}
    assert needed <= set(env), f"read by code but not set in template.yaml: {needed - set(env)}"
    settings.from_env(env)  # and the template's values pass validation


def test_table_keys_used_by_code_match_the_template() -> None:
    resources = load_template()["Resources"]

    def key(table: str) -> list[str]:
        return [k["AttributeName"] for k in resources[table]["Properties"]["KeySchema"]]

    assert key("CustomersTable") == ["customer_id"]
    assert key("BillsTable") == ["customer_id", "period"]
    assert key("NoticeLedgerTable") == ["notice_id"]
    assert (
        resources["BillsTable"]["Properties"]["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    )


def test_queue_visibility_is_at_least_six_times_the_delivery_timeout() -> None:
    template = load_template()
    timeout = template["Resources"]["NoticeDeliveryFunction"]["Properties"].get(
        "Timeout", template["Globals"]["Function"]["Timeout"]
    )
    assert template["Resources"]["NoticeQueue"]["Properties"]["VisibilityTimeout"] >= 6 * timeout


def test_lambda_requirements_mirror_the_project_dependencies() -> None:
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = (REPO_ROOT / "functions" / "requirements.txt").read_text().splitlines()
    bundled = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert sorted(bundled) == sorted(declared)


def test_templates_layer_points_at_the_templates_folder() -> None:
    layer = load_template()["Resources"]["NoticeTemplatesLayer"]["Properties"]
    assert (REPO_ROOT / layer["ContentUri"]).resolve() == (REPO_ROOT / "templates").resolve()
    assert Path(REPO_ROOT / "templates" / "bill_increase" / "email.html.j2").is_file()


@pytest.mark.template
def test_checkov_passes_with_only_justified_suppressions() -> None:
    result = subprocess.run(
        [tool("checkov"), "-f", str(TEMPLATE), "--framework", "cloudformation", "--compact", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Every suppression says why
    for logical_id, resource in load_template()["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(skip.get("comment", "")) > 40, f"{logical_id} suppresses {skip['id']} without a reason"


# Actions that have no resource-level scope, or SMS publishing (a phone number is not a resource).
WILDCARD_ALLOWED = {
    ("NoticeDeliveryFunction", "SendSmsDirect"),
    ("NoticeDeliveryFunction", "ReadTheAccountSendingQuota"),  # ses:GetAccount: the account itself
    ("SmsDeliveryStatusFunction", "SetSmsDeliveryStatusAttributes"),  # the account's SMS settings
    ("InboundSmsFunction", "ReplyBySms"),
}


def test_no_wildcard_resource_except_where_the_action_has_no_resource_scope() -> None:
    offenders = []
    for logical_id, resource in functions().items():
        for policy in resource["Properties"].get("Policies", []):
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                resources = statement.get("Resource", [])
                resources = resources if isinstance(resources, list) else [resources]
                wild = [r for r in resources if isinstance(r, str) and "*" in r]
                if wild and (logical_id, statement.get("Sid")) not in WILDCARD_ALLOWED:
                    offenders.append((logical_id, statement.get("Sid"), wild))
                actions = statement.get("Action", [])
                actions = actions if isinstance(actions, list) else [actions]
                assert not [a for a in actions if a.endswith("*")], f"{logical_id} grants a wildcard action"
    assert offenders == []


def test_every_table_holding_data_is_retained_encrypted_and_recoverable() -> None:
    for logical_id, resource in load_template()["Resources"].items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        properties = resource["Properties"]
        assert resource.get("DeletionPolicy") == "Retain", logical_id
        assert resource.get("UpdateReplacePolicy") == "Retain", logical_id
        assert properties["SSESpecification"]["SSEEnabled"] is True, logical_id
        assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, (
            logical_id
        )


def test_every_queue_and_topic_is_encrypted() -> None:
    for logical_id, resource in load_template()["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::SQS::Queue":
            assert properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in properties, (
                logical_id
            )
        if resource["Type"] == "AWS::SNS::Topic":
            assert "KmsMasterKeyId" in properties, logical_id


def test_every_event_source_has_a_failure_path() -> None:
    for logical_id, resource in functions().items():
        properties = resource["Properties"]
        for name, event in properties.get("Events", {}).items():
            kind = event["Type"]
            if kind == "DynamoDB":
                assert "OnFailure" in event["Properties"]["DestinationConfig"], (logical_id, name)
                assert event["Properties"]["MaximumRetryAttempts"] >= 0, (logical_id, name)
            elif kind in ("Schedule", "SNS", "CloudWatchLogs"):  # asynchronous invocations
                assert "OnFailure" in properties["EventInvokeConfig"]["DestinationConfig"], (logical_id, name)
            elif kind == "SQS":
                queue = event["Properties"]["Queue"]["Fn::GetAtt"][0]
                redrive = load_template()["Resources"][queue]["Properties"]["RedrivePolicy"]
                assert redrive["deadLetterTargetArn"], (logical_id, name)
            else:
                assert kind == "HttpApi", f"{logical_id}.{name}: no failure path checked for {kind}"


def test_sending_rate_is_capped_by_a_parameter() -> None:
    notices = functions()["NoticeDeliveryFunction"]["Properties"]["Events"]["Notices"]["Properties"]
    assert notices["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "DeliveryMaxConcurrency"}
    assert "DeliveryMaxConcurrency" in load_template()["Parameters"]


def test_custom_metric_alarms_watch_what_the_functions_emit() -> None:
    # The alarm's namespace and service dimension are the Powertools settings the functions run with,
    # and its metric is the one the sweep emits for unconfirmed notices no receipt settled in time.
    from headsup.logic.receipts import UNRESOLVED_METRIC

    env = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    alarm = load_template()["Resources"]["UnconfirmedNoticesAlarm"]["Properties"]
    assert alarm["Namespace"] == env["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": env["POWERTOOLS_SERVICE_NAME"]}]
    assert alarm["MetricName"] == UNRESOLVED_METRIC
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


@pytest.mark.parametrize(
    ("alarm_id", "prefix", "state"),
    [
        ("EmailDeliveryRateAlarm", "Receipts", "delivered"),
        ("SmsFailureRateAlarm", "SmsReceipts", "delivered"),
    ],
)
def test_delivery_rate_alarms_read_the_receipt_metrics_the_functions_emit(
    alarm_id: str, prefix: str, state: str
) -> None:
    from headsup.domain.receipts import DeliveryState, Receipt

    env = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    alarm = load_template()["Resources"][alarm_id]["Properties"]
    stats = {
        query["Id"]: query["MetricStat"]["Metric"] for query in alarm["Metrics"] if "MetricStat" in query
    }
    delivered = Receipt(
        notice_id=None, state=DeliveryState(state), at=datetime.now(UTC), provider_message_id=""
    )
    assert stats["delivered"]["MetricName"] == prefix + delivered.metric_suffix
    assert stats["failed"]["MetricName"] == prefix + "Failed"
    for metric in stats.values():
        assert metric["Namespace"] == env["POWERTOOLS_METRICS_NAMESPACE"]
        assert metric["Dimensions"] == [{"Name": "service", "Value": env["POWERTOOLS_SERVICE_NAME"]}]
