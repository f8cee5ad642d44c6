"""Run the stack in-process: provision template.yaml into moto and play Lambda's part for its event sources.

Everything here expects an active moto mock (``with mock_aws():``). Nothing is copied from the template:
resources, names, environment and event-source settings are all read from it, so a change to
template.yaml is a change to what the tests and the demo run against.
"""

from __future__ import annotations

import base64
import graphlib
import importlib
import json
import logging
import os
import re
import secrets
import string
import sys
import time
import traceback
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import Parser
from email.policy import default as default_email_policy
from email.utils import getaddresses
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

import boto3
from botocore.config import Config
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.events.models import EventPattern
from moto.ses.models import Message as MotoSimpleEmail
from moto.ses.models import RawMessage as MotoRawEmail
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends
from moto.sns.utils import FilterPolicyMatcher

from emulator.template import REPO_ROOT, load_template

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_dynamodbstreams.type_defs import RecordTypeDef
    from mypy_boto3_sns.type_defs import TagTypeDef
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType
    from mypy_boto3_sqs.type_defs import MessageTypeDef

LOGGER = logging.getLogger(__name__)

LambdaHandler = Callable[[dict[str, Any], Any], Any]

# The function whose invocation is running, so tools can tell its AWS calls from the emulator's own.
invoking: ContextVar[str | None] = ContextVar("invoking", default=None)


class InvocationKilled(BaseException):
    """Raised inside a handler to stand for Lambda ending the invocation (a timeout, running out of
    memory): unlike an exception, none of the handler's except or finally blocks run on."""


class FunctionTimedOut(Exception):
    """What the event source sees of a killed invocation: a function error for the whole batch."""


PARTITION: Final = "aws"
OPT: Final = "/opt"
# Lambda's limit for one SQS receive.
_SQS_MAX_BATCH: Final = 10
# A stream mapping without MaximumRetryAttempts retries until the record expires (a day); locally that would
# never end, so an unbounded retry count is capped here.
_UNBOUNDED_RETRIES: Final = 10
# Lambda copies only these system attributes of an SQS message into the event record.
_LAMBDA_SQS_ATTRIBUTES: Final = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)
# CloudFormation SQS properties whose names and meaning are the SQS queue attributes'.
_SQS_QUEUE_ATTRIBUTES: Final[tuple[QueueAttributeNameType, ...]] = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)
# CloudFormation SNS properties that are also topic attributes (the rest, such as ArchivePolicy or
# DataProtectionPolicy, are separate API calls and change nothing locally).
_SNS_TOPIC_ATTRIBUTES: Final = (
    "DisplayName",
    "FifoTopic",
    "ContentBasedDeduplication",
    "KmsMasterKeyId",
    "SignatureVersion",
    "TracingConfig",
)
# The keys of a CloudFormation GSI/LSI that CreateTable accepts.
_INDEX_KEYS: Final = (
    "IndexName",
    "KeySchema",
    "Projection",
    "ProvisionedThroughput",
    "OnDemandThroughput",
    "WarmThroughput",
)
_SUB_VARIABLE: Final = re.compile(r"\$\{([^}]*)\}")
_NO_VALUE: Final = object()  # what Ref AWS::NoValue resolves to: the enclosing key or item is dropped


def region() -> str:
    return os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _cfn_string(value: Any) -> str:
    """CloudFormation's string form of a scalar (YAML gives booleans and numbers; AWS wants strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_cfn_string(item) for item in value)
    return str(value)


def _is_list_parameter(spec: Any) -> bool:
    kind = str(spec.get("Type", "")) if isinstance(spec, dict) else ""
    return kind == "CommaDelimitedList" or kind.startswith("List<")


# ------------------------------------------------------------------------------------------- deployment


@dataclass
class LambdaContext:
    """The attributes of the Lambda runtime's context object that handlers and Powertools read."""

    function_name: str
    function_version: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    timeout_seconds: float
    identity: Any = None
    client_context: Any = None
    _deadline: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class SesEventDestination:
    name: str
    configuration_set: str
    enabled: bool
    matching_event_types: list[str]
    sns_topic_arn: str | None


@dataclass
class Deployment:
    """The template as provisioned into moto: parameter values and every resource's physical attributes."""

    template: dict[str, Any] = field(repr=False)
    parameters: dict[str, str]
    stack_name: str
    region: str
    account_id: str = DEFAULT_ACCOUNT_ID
    base_dir: Path = REPO_ROOT
    # logical id -> attribute name -> value; "Ref" is what !Ref returns.
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    # SES event destinations by name (moto stores them but never publishes to them).
    ses_event_destinations: dict[str, SesEventDestination] = field(default_factory=dict)

    # ------------------------------------------------------------------ intrinsics

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template.get("Resources", {})
        return resources

    def pseudo_parameters(self) -> dict[str, str]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": PARTITION,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:{PARTITION}:cloudformation:{self.region}:{self.account_id}:stack/"
            f"{self.stack_name}/{uuid.uuid5(uuid.NAMESPACE_URL, self.stack_name)}",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic function in ``value`` (any nesting), as CloudFormation would."""
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            intrinsic = _INTRINSICS.get(key)
            # A resource's own "Condition" key is a name too, but IAM's Condition is a mapping.
            if intrinsic is not None and (key != "Condition" or isinstance(argument, str)):
                return intrinsic(self, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def ref(self, logical_id: str) -> str:
        """What ``!Ref logical_id`` gives: a parameter's value, a pseudo parameter, or a resource's id."""
        if logical_id in self.parameters:
            return self.parameters[logical_id]
        pseudo = self.pseudo_parameters()
        if logical_id in pseudo:
            return pseudo[logical_id]
        return self.get_att(logical_id, "Ref")

    def get_att(self, logical_id: str, attribute: str) -> str:
        if logical_id not in self.attributes:
            raise ValueError(f"{logical_id} is not a resource this deployment provisioned")
        try:
            return self.attributes[logical_id][attribute]
        except KeyError:
            raise ValueError(
                f"{logical_id} has no attribute {attribute!r} locally; "
                f"it has {sorted(self.attributes[logical_id])}"
            ) from None

    def condition(self, name: str) -> bool:
        conditions: dict[str, Any] = self.template.get("Conditions", {})
        if name not in conditions:
            raise ValueError(f"Unknown condition {name!r}")
        return bool(self.resolve(conditions[name]))

    def _ref_intrinsic(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        value = self.ref(name)
        # A list parameter (CommaDelimitedList, List<...>) is a list to the intrinsics (Fn::Join, Fn::Select);
        # where a string is wanted, _cfn_string joins it back with commas.
        if _is_list_parameter(self.template.get("Parameters", {}).get(name)):
            return value.split(",") if value else []
        return value

    def _get_att_intrinsic(self, argument: str | list[Any]) -> str:
        logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        return self.get_att(logical_id, self.resolve(attribute))

    def _sub_intrinsic(self, argument: str | list[Any]) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        values = {name: self.resolve(value) for name, value in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} is the escape for a literal ${Literal}
                return "${" + name[1:] + "}"
            if name in values:
                return _cfn_string(values[name])
            if "." in name:
                return self.get_att(*name.split(".", 1))
            return self.ref(name)

        return _SUB_VARIABLE.sub(substitute, text)

    def _join_intrinsic(self, argument: list[Any]) -> str:
        delimiter, items = argument
        values = self.resolve(items)
        if not isinstance(values, list):
            raise ValueError(f"Fn::Join needs a list of values, not {values!r}")
        return str(delimiter).join(_cfn_string(item) for item in values)

    def _select_intrinsic(self, argument: list[Any]) -> Any:
        index, items = argument
        return self.resolve(items)[int(self.resolve(index))]

    def _split_intrinsic(self, argument: list[Any]) -> list[str]:
        delimiter, source = argument
        return str(self.resolve(source)).split(delimiter)

    def _if_intrinsic(self, argument: list[Any]) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _equals_intrinsic(self, argument: list[Any]) -> bool:
        left, right = self.resolve(argument)
        return _cfn_string(left) == _cfn_string(right)

    def _not_intrinsic(self, argument: list[Any]) -> bool:
        return not self.resolve(argument)[0]

    def _and_intrinsic(self, argument: list[Any]) -> bool:
        return all(self.resolve(argument))

    def _or_intrinsic(self, argument: list[Any]) -> bool:
        return any(self.resolve(argument))

    def _find_in_map_intrinsic(self, argument: list[Any]) -> Any:
        map_name, top_key, second_key = self.resolve(argument)
        return self.template["Mappings"][map_name][top_key][second_key]

    def _base64_intrinsic(self, argument: Any) -> str:
        return base64.b64encode(_cfn_string(self.resolve(argument)).encode()).decode()

    def _get_azs_intrinsic(self, argument: Any) -> list[str]:
        zone_region = self.resolve(argument) or self.region
        return [f"{zone_region}{zone}" for zone in "abc"]

    def _import_value_intrinsic(self, argument: Any) -> Any:
        raise ValueError(f"Fn::ImportValue {argument!r}: no other stack exports anything locally")

    # ------------------------------------------------------------------ functions

    def _globals_function(self) -> dict[str, Any]:
        globals_function: dict[str, Any] = self.template.get("Globals", {}).get("Function", {})
        return globals_function

    def function_ids(self) -> list[str]:
        return [lid for lid, r in self.resources.items() if r.get("Type") == "AWS::Serverless::Function"]

    def function_properties(self, function_logical_id: str) -> dict[str, Any]:
        """The function's Properties with Globals.Function filled in (unresolved)."""
        resource = self.resources.get(function_logical_id)
        if resource is None or resource.get("Type") != "AWS::Serverless::Function":
            raise ValueError(f"{function_logical_id} is not an AWS::Serverless::Function in the template")
        return {**self._globals_function(), **resource.get("Properties", {})}

    def function_name(self, function_logical_id: str) -> str:
        return self.get_att(function_logical_id, "Ref")

    def function_arn(self, function_logical_id: str) -> str:
        return self.get_att(function_logical_id, "Arn")

    def function_env(self, function_logical_id: str) -> dict[str, str]:
        """The environment Lambda would give the function, plus the overrides running it locally needs."""
        properties = self.function_properties(function_logical_id)
        own = self.resources[function_logical_id].get("Properties", {})
        # Globals and the function each declare variables; SAM merges the two maps, the function's winning.
        variables = {
            **self._globals_function().get("Environment", {}).get("Variables", {}),
            **own.get("Environment", {}).get("Variables", {}),
        }
        env = {name: _cfn_string(value) for name, value in self.resolve(variables).items()}
        env |= {
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon to send segments to
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }
        layer_dirs = self._local_layer_dirs(properties.get("Layers", []))
        return {name: self._in_layer(value, layer_dirs) for name, value in env.items()}

    def _local_layer_dirs(self, layers: list[Any]) -> list[Path]:
        """The local folders of the function's layers that this template builds from a folder."""
        folders = []
        for layer in layers:
            logical_id = layer.get("Ref") if isinstance(layer, dict) else None
            resource = self.resources.get(logical_id or "", {})
            content_uri = resource.get("Properties", {}).get("ContentUri")
            if resource.get("Type") == "AWS::Serverless::LayerVersion" and isinstance(content_uri, str):
                folders.append((self.base_dir / content_uri).resolve())
        return folders

    @staticmethod
    def _in_layer(value: str, layer_dirs: list[Path]) -> str:
        """Point a path under /opt at the layer folder Lambda would have extracted there."""
        if not layer_dirs or not (value == OPT or value.startswith(OPT + "/")):
            return value
        rest = value.removeprefix(OPT)
        # Lambda extracts layers in order, later ones over earlier: the last layer holding the path wins.
        holder = next((d for d in reversed(layer_dirs) if (d / rest.lstrip("/")).exists()), layer_dirs[-1])
        return str(holder) + rest

    def handler(self, function_logical_id: str) -> LambdaHandler:
        """Import the function's ``Handler`` (a dotted path under functions/)."""
        functions_dir = str(REPO_ROOT / "functions")
        if functions_dir not in sys.path:
            sys.path.insert(0, functions_dir)
        dotted = str(self.function_properties(function_logical_id)["Handler"])
        module_name, _, attribute = dotted.rpartition(".")
        target = getattr(importlib.import_module(module_name), attribute)
        if not callable(target):
            raise TypeError(f"{dotted} is not callable")
        return target  # type: ignore[no-any-return]

    def lambda_context(self, function_logical_id: str) -> LambdaContext:
        properties = self.resolve(self.function_properties(function_logical_id))
        name = self.function_name(function_logical_id)
        return LambdaContext(
            function_name=name,
            function_version="$LATEST",
            memory_limit_in_mb=int(properties.get("MemorySize", 128)),
            invoked_function_arn=self.function_arn(function_logical_id),
            aws_request_id=str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{name}",
            log_stream_name=f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}",
            timeout_seconds=float(properties.get("Timeout", 3)),
        )

    def invoke(
        self, function_logical_id: str, event: dict[str, Any], *, handler: LambdaHandler | None = None
    ) -> Any:
        """Call the function's handler with ``event`` as Lambda would; ``handler`` replaces the template's."""
        # Left set afterwards: handlers read their settings once, at cold start, as in Lambda.
        os.environ.update(self.function_env(function_logical_id))
        target = handler if handler is not None else self.handler(function_logical_id)
        token = invoking.set(function_logical_id)
        try:
            return target(event, self.lambda_context(function_logical_id))
        except InvocationKilled as killed:
            raise FunctionTimedOut(f"{function_logical_id} was killed mid-invocation") from killed
        finally:
            invoking.reset(token)

    def event_properties(self, function_logical_id: str, event_name: str, event_type: str) -> dict[str, Any]:
        """The resolved Properties of one of the function's Events, checked to be of ``event_type``."""
        events: dict[str, Any] = self.function_properties(function_logical_id).get("Events", {})
        if event_name not in events:
            raise ValueError(f"{function_logical_id} has no event {event_name!r}; it has {sorted(events)}")
        event = events[event_name]
        if event.get("Type") != event_type:
            raise ValueError(
                f"{function_logical_id}.{event_name} is a {event.get('Type')} event, not {event_type}"
            )
        properties: dict[str, Any] = self.resolve(event.get("Properties", {}))
        return properties


_INTRINSICS: Final[dict[str, Callable[[Deployment, Any], Any]]] = {
    "Ref": Deployment._ref_intrinsic,
    "Condition": Deployment.condition,
    "Fn::GetAtt": Deployment._get_att_intrinsic,
    "Fn::Sub": Deployment._sub_intrinsic,
    "Fn::Join": Deployment._join_intrinsic,
    "Fn::Select": Deployment._select_intrinsic,
    "Fn::Split": Deployment._split_intrinsic,
    "Fn::If": Deployment._if_intrinsic,
    "Fn::Equals": Deployment._equals_intrinsic,
    "Fn::Not": Deployment._not_intrinsic,
    "Fn::And": Deployment._and_intrinsic,
    "Fn::Or": Deployment._or_intrinsic,
    "Fn::FindInMap": Deployment._find_in_map_intrinsic,
    "Fn::Base64": Deployment._base64_intrinsic,
    "Fn::GetAZs": Deployment._get_azs_intrinsic,
    "Fn::ImportValue": Deployment._import_value_intrinsic,
}


# ------------------------------------------------------------------------------------------- provisioning


def _physical_name(deployment: Deployment, logical_id: str, properties: dict[str, Any], name_key: str) -> str:
    return str(properties.get(name_key) or f"{deployment.stack_name}-{logical_id}")


def _index_request(
    table: str, index: Mapping[str, Any], billing_mode: str, *, is_global: bool
) -> dict[str, Any]:
    """A CloudFormation secondary index as CreateTable takes it (CloudFormation-only keys such as
    ContributorInsightsSpecification would fail botocore's validation)."""
    # moto accepts either mismatch and DynamoDB neither: refuse here, not pass a template that cannot deploy.
    name, declares_throughput = index.get("IndexName"), "ProvisionedThroughput" in index
    if billing_mode == "PAY_PER_REQUEST" and declares_throughput:
        raise ValueError(
            f"{table}: ProvisionedThroughput should not be specified for index: {name} "
            "when BillingMode is PAY_PER_REQUEST"
        )
    if billing_mode == "PROVISIONED" and is_global and not declares_throughput:
        raise ValueError(f"{table}: ProvisionedThroughput is not specified for index: {name}")
    return {key: value for key, value in index.items() if key in _INDEX_KEYS}


def _create_table(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
    dynamodb = boto3.client("dynamodb", region_name=deployment.region)
    name = _physical_name(deployment, logical_id, properties, "TableName")
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    for key in ("ProvisionedThroughput", "Tags"):
        if key in properties:
            request[key] = properties[key]
    for key, is_global in (("GlobalSecondaryIndexes", True), ("LocalSecondaryIndexes", False)):
        if key in properties:
            request[key] = [
                _index_request(logical_id, index, request["BillingMode"], is_global=is_global)
                for index in properties[key]
            ]
    if "StreamSpecification" in properties:
        view_type = properties["StreamSpecification"]["StreamViewType"]
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view_type}
    if properties.get("SSESpecification", {}).get("SSEEnabled"):
        request["SSESpecification"] = {"Enabled": True}
    table = dynamodb.create_table(**request)["TableDescription"]
    if "TimeToLiveSpecification" in properties:
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification=properties["TimeToLiveSpecification"]
        )
    attributes = {"Ref": name, "Arn": table["TableArn"]}
    if "LatestStreamArn" in table:
        attributes["StreamArn"] = table["LatestStreamArn"]
    return attributes


def _queue_attributes(properties: dict[str, Any]) -> dict[QueueAttributeNameType, str]:
    attributes: dict[QueueAttributeNameType, str] = {}
    for key in _SQS_QUEUE_ATTRIBUTES:
        if key in properties:
            value = properties[key]
            attributes[key] = json.dumps(value) if isinstance(value, dict) else _cfn_string(value)
    return attributes


def _create_queue(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
    sqs = boto3.client("sqs", region_name=deployment.region)
    suffix = ".fifo" if properties.get("FifoQueue") and "QueueName" not in properties else ""
    name = _physical_name(deployment, logical_id, properties, "QueueName") + suffix
    tags = {tag["Key"]: tag["Value"] for tag in properties.get("Tags", [])}
    url = sqs.create_queue(QueueName=name, Attributes=_queue_attributes(properties), tags=tags)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return {"Ref": url, "QueueUrl": url, "Arn": arn, "QueueName": name}


def _create_topic(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
    sns = boto3.client("sns", region_name=deployment.region)
    suffix = ".fifo" if properties.get("FifoTopic") and "TopicName" not in properties else ""
    name = _physical_name(deployment, logical_id, properties, "TopicName") + suffix
    topic_attributes: dict[str, str] = {}
    for key in _SNS_TOPIC_ATTRIBUTES:
        value = properties.get(key)
        if value is None:
            continue
        # moto sets each attribute as given, so the string "false" would make a topic FIFO: leave it out.
        if key in ("FifoTopic", "ContentBasedDeduplication") and _cfn_string(value) == "false":
            continue
        topic_attributes[key] = json.dumps(value) if isinstance(value, dict) else _cfn_string(value)
    tags: list[TagTypeDef] = [{"Key": t["Key"], "Value": t["Value"]} for t in properties.get("Tags", [])]
    arn = sns.create_topic(Name=name, Attributes=topic_attributes, Tags=tags)["TopicArn"]
    for subscription in properties.get("Subscription", []):
        sns.subscribe(TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"])
    return {"Ref": arn, "TopicArn": arn, "TopicName": name}


# Secrets Manager's punctuation for generated passwords (ExcludePunctuation) is ASCII's, as Python's.
_SECRET_PUNCTUATION: Final = string.punctuation


def _generate_secret_string(spec: Mapping[str, Any]) -> str:
    """A password as Secrets Manager's GenerateSecretString makes one, honouring its options."""
    length = int(spec.get("PasswordLength", 32))
    excluded = set(str(spec.get("ExcludeCharacters", "")))
    pools = [
        pool
        for pool, exclude_key in (
            (string.ascii_lowercase, "ExcludeLowercase"),
            (string.ascii_uppercase, "ExcludeUppercase"),
            (string.digits, "ExcludeNumbers"),
            (_SECRET_PUNCTUATION, "ExcludePunctuation"),
        )
        if not _is_true_flag(spec.get(exclude_key, False))
    ]
    if _is_true_flag(spec.get("IncludeSpace", False)):
        pools.append(" ")
    pools = [kept for kept in ("".join(c for c in pool if c not in excluded) for pool in pools) if kept]
    if not pools:
        raise ValueError(f"GenerateSecretString {dict(spec)} excludes every character")
    alphabet = "".join(pools)
    require_each = _is_true_flag(spec.get("RequireEachIncludedType", True))
    if require_each and length < len(pools):
        raise ValueError(f"GenerateSecretString: PasswordLength {length} is too short to include each type")
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if not require_each or all(any(c in pool for c in password) for pool in pools):
            break
    template = spec.get("SecretStringTemplate")
    if template is None:
        return password
    if "GenerateStringKey" not in spec:
        raise ValueError("GenerateSecretString: SecretStringTemplate needs GenerateStringKey")
    document = json.loads(str(template))
    document[str(spec["GenerateStringKey"])] = password
    return json.dumps(document)


def _is_true_flag(value: Any) -> bool:
    return _cfn_string(value).lower() == "true"


def _create_secret(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
    if "SecretString" in properties and "GenerateSecretString" in properties:
        raise ValueError(f"{logical_id}: SecretString and GenerateSecretString are mutually exclusive")
    if "SecretString" in properties:
        secret_string = _cfn_string(properties["SecretString"])
    else:
        secret_string = _generate_secret_string(properties.get("GenerateSecretString", {}))
    request: dict[str, Any] = {
        "Name": _physical_name(deployment, logical_id, properties, "Name"),
        "SecretString": secret_string,
    }
    for key in ("Description", "KmsKeyId", "Tags"):
        if key in properties:
            request[key] = properties[key]
    arn = boto3.client("secretsmanager", region_name=deployment.region).create_secret(**request)["ARN"]
    # CloudFormation's Ref and Id of a secret are both its ARN.
    return {"Ref": arn, "Id": arn}


def _create_http_api(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
    """An HTTP API's id and endpoint; its routes are the functions' HttpApi events (see HttpApiSource).

    Not created in moto: moto's API Gateway v2 imports openapi_spec_validator, which is not a dependency
    here. Nothing calls the API Gateway management API, so an id of API Gateway's form is all it takes.
    """
    api_id = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(10))
    endpoint = f"https://{api_id}.execute-api.{deployment.region}.amazonaws.com"
    return {"Ref": api_id, "ApiId": api_id, "ApiEndpoint": endpoint}


# CloudFormation AWS::SES::ConfigurationSet properties that are SESv2 CreateConfigurationSet's too.
_SES_CONFIGURATION_SET_OPTIONS: Final = (
    "DeliveryOptions",
    "ReputationOptions",
    "SendingOptions",
    "SuppressionOptions",
    "TrackingOptions",
    "VdmOptions",
    "Tags",
)


def _create_configuration_set(
    deployment: Deployment, logical_id: str, properties: dict[str, Any]
) -> dict[str, str]:
    name = _physical_name(deployment, logical_id, properties, "Name")
    request: dict[str, Any] = {"ConfigurationSetName": name}
    for key in _SES_CONFIGURATION_SET_OPTIONS:
        if key in properties:
            request[key] = properties[key]
    boto3.client("sesv2", region_name=deployment.region).create_configuration_set(**request)
    return {"Ref": name}


def _create_configuration_set_event_destination(
    deployment: Deployment, logical_id: str, properties: dict[str, Any]
) -> dict[str, str]:
    """An event destination on a configuration set.

    moto 5.2 has no SESv2 CreateConfigurationSetEventDestination, so SES v1's is used: v1 and v2 share
    moto's SES backend, and CloudFormation's EventDestination is v1's shape (``SnsDestination`` renamed
    ``SNSDestination``). moto only stores it: it never publishes bounce or complaint events to the topic,
    so tests deliver those through ``SnsSource``. It is also recorded in
    ``deployment.ses_event_destinations``.
    """
    configuration_set = str(properties["ConfigurationSetName"])
    destination = dict(properties["EventDestination"])
    name = str(destination.get("Name") or f"{deployment.stack_name}-{logical_id}")
    request: dict[str, Any] = {
        "Name": name,
        "Enabled": _is_true_flag(destination.get("Enabled", False)),
        "MatchingEventTypes": [str(kind) for kind in destination.get("MatchingEventTypes", [])],
    }
    if "SnsDestination" in destination:
        request["SNSDestination"] = {"TopicARN": str(destination["SnsDestination"]["TopicARN"])}
    for key in ("CloudWatchDestination", "KinesisFirehoseDestination"):
        if key in destination:
            request[key] = destination[key]
    boto3.client("ses", region_name=deployment.region).create_configuration_set_event_destination(
        ConfigurationSetName=configuration_set, EventDestination=request
    )
    deployment.ses_event_destinations[name] = SesEventDestination(
        name=name,
        configuration_set=configuration_set,
        enabled=request["Enabled"],
        matching_event_types=request["MatchingEventTypes"],
        sns_topic_arn=request.get("SNSDestination", {}).get("TopicARN"),
    )
    return {"Ref": name}


def _create_log_group(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
    name = _physical_name(deployment, logical_id, properties, "LogGroupName")
    logs = boto3.client("logs", region_name=deployment.region)
    logs.create_log_group(logGroupName=name)
    if "RetentionInDays" in properties:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(properties["RetentionInDays"]))
    arn = f"arn:{PARTITION}:logs:{deployment.region}:{deployment.account_id}:log-group:{name}:*"
    return {"Ref": name, "Arn": arn}


def _create_kms_key(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
    kms = boto3.client("kms", region_name=deployment.region)
    request: dict[str, Any] = {"Description": str(properties.get("Description", logical_id))}
    if "KeyPolicy" in properties:
        request["Policy"] = json.dumps(properties["KeyPolicy"])
    key = kms.create_key(**request)["KeyMetadata"]
    if _is_true_flag(properties.get("EnableKeyRotation", False)):
        kms.enable_key_rotation(KeyId=key["KeyId"])
    return {"Ref": key["KeyId"], "Arn": key["Arn"], "KeyId": key["KeyId"]}


_PROVISIONERS: Final[dict[str, Callable[[Deployment, str, dict[str, Any]], dict[str, str]]]] = {
    "AWS::KMS::Key": _create_kms_key,
    "AWS::Logs::LogGroup": _create_log_group,
    "AWS::DynamoDB::Table": _create_table,
    "AWS::SQS::Queue": _create_queue,
    "AWS::SNS::Topic": _create_topic,
    "AWS::SecretsManager::Secret": _create_secret,
    "AWS::Serverless::HttpApi": _create_http_api,
    "AWS::SES::ConfigurationSet": _create_configuration_set,
    "AWS::SES::ConfigurationSetEventDestination": _create_configuration_set_event_destination,
}


def _named_only_attributes(
    deployment: Deployment, logical_id: str, resource: dict[str, Any]
) -> dict[str, str]:
    """Attributes of what is not created locally: functions run in-process, layers are folders."""
    properties = resource.get("Properties", {})
    prefix = f"arn:{PARTITION}:lambda:{deployment.region}:{deployment.account_id}"
    if resource["Type"] == "AWS::Serverless::LayerVersion":
        name = _physical_name(deployment, logical_id, properties, "LayerName")
        return {"Ref": f"{prefix}:layer:{name}:1"}
    name = _physical_name(deployment, logical_id, properties, "FunctionName")
    return {"Ref": name, "Arn": f"{prefix}:function:{name}"}


def _references(value: Any) -> set[str]:
    """Logical ids that ``value`` refers to through Ref, Fn::GetAtt or Fn::Sub."""
    if isinstance(value, list):
        return set().union(*map(_references, value))
    if not isinstance(value, dict):
        return set()
    found: set[str] = set()
    for key, argument in value.items():
        if key == "Ref" and isinstance(argument, str):
            found.add(argument)
        elif key == "Fn::GetAtt":
            found.add(argument.split(".")[0] if isinstance(argument, str) else argument[0])
        elif key == "Fn::Sub":
            text = argument if isinstance(argument, str) else argument[0]
            found |= {name.split(".")[0] for name in _SUB_VARIABLE.findall(text) if not name.startswith("!")}
            found |= _references(argument if isinstance(argument, str) else argument[1])
        else:
            found |= _references(argument)
    return found


def _creation_order(deployment: Deployment) -> list[str]:
    """Resources to create, each after those its properties refer to (a DLQ before the queue naming it)."""
    wanted = {
        logical_id
        for logical_id, resource in deployment.resources.items()
        if resource["Type"] in _PROVISIONERS
        and ("Condition" not in resource or deployment.condition(resource["Condition"]))
    }
    graph: dict[str, set[str]] = {}
    for logical_id in wanted:
        resource = deployment.resources[logical_id]
        depends_on = resource.get("DependsOn", [])
        explicit = {depends_on} if isinstance(depends_on, str) else set(depends_on)
        graph[logical_id] = (_references(resource.get("Properties", {})) | explicit) & wanted
    return list(graphlib.TopologicalSorter(graph).static_order())


def _check_parameter(name: str, spec: Mapping[str, Any], value: str) -> None:
    """CloudFormation's checks on a parameter value, so a bad override fails here as on deploy."""
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [_cfn_string(item) for item in allowed]:
        raise ValueError(f"Parameter {name}={value!r} is not one of {allowed}")
    pattern = spec.get("AllowedPattern")
    if pattern is not None and re.fullmatch(pattern, value) is None:
        raise ValueError(f"Parameter {name}={value!r} does not match {pattern}")
    if spec.get("Type") == "Number":
        number = float(value)
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise ValueError(f"Parameter {name}={value} is below MinValue {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise ValueError(f"Parameter {name}={value} is above MaxValue {spec['MaxValue']}")


def _parameter_values(template: dict[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    declared: dict[str, dict[str, Any]] = template.get("Parameters", {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise ValueError(f"Unknown parameter(s) {unknown}; the template declares {sorted(declared)}")
    values = {}
    for name, spec in declared.items():
        if name in overrides:
            value = str(overrides[name])
        elif "Default" in spec:
            value = _cfn_string(spec["Default"])
        else:
            raise ValueError(f"Parameter {name} has no Default: pass it in parameter_overrides")
        _check_parameter(name, spec, value)
        values[name] = value
    return values


def _verify_sender_identities(deployment: Deployment) -> None:
    """Verify the SES identities the template sends as: moto, like SES, rejects unverified senders."""
    sesv2 = boto3.client("sesv2", region_name=deployment.region)
    identities = {
        deployment.parameters[name]
        for name in ("SenderEmail", "SenderIdentity")
        if name in deployment.parameters
    }
    for identity in sorted(identities):
        sesv2.create_email_identity(EmailIdentity=identity)


def provision(
    template: dict[str, Any] | None = None,
    parameter_overrides: Mapping[str, str] | None = None,
    *,
    stack_name: str = "headsup-local",
) -> Deployment:
    """Create the template's tables, queues and topics in the active moto mock and return the deployment."""
    template = load_template() if template is None else template
    deployment = Deployment(
        template=template,
        parameters=_parameter_values(template, parameter_overrides or {}),
        stack_name=stack_name,
        region=region(),
    )
    for logical_id, resource in deployment.resources.items():
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
            deployment.attributes[logical_id] = _named_only_attributes(deployment, logical_id, resource)
    for logical_id in _creation_order(deployment):
        resource = deployment.resources[logical_id]
        properties = deployment.resolve(resource.get("Properties", {}))
        deployment.attributes[logical_id] = _PROVISIONERS[resource["Type"]](
            deployment, logical_id, properties
        )
    _verify_sender_identities(deployment)
    return deployment


# ------------------------------------------------------------------------------------------- destinations


def _queue_url(sqs: SQSClient, queue_arn: str) -> str:
    *_, account_id, queue_name = queue_arn.split(":")
    return sqs.get_queue_url(QueueName=queue_name, QueueOwnerAWSAccountId=account_id)["QueueUrl"]


def _send_to_destination(deployment: Deployment, destination_arn: str, body: str) -> None:
    """Deliver an on-failure record to an SQS queue or SNS topic, Lambda's destination types for streams."""
    service = destination_arn.split(":")[2]
    if service == "sqs":
        sqs = boto3.client("sqs", region_name=deployment.region)
        sqs.send_message(QueueUrl=_queue_url(sqs, destination_arn), MessageBody=body)
    elif service == "sns":
        boto3.client("sns", region_name=deployment.region).publish(TopicArn=destination_arn, Message=body)
    else:
        raise ValueError(f"On-failure destination {destination_arn} is not an SQS queue or SNS topic")


def _format_function_error() -> str:
    LOGGER.warning("Handler raised: Lambda would count the whole batch as failed", exc_info=True)
    return traceback.format_exc()


# ------------------------------------------------------------------------------------------- DynamoDB streams


def _jsonable_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """An attribute value as Lambda's JSON event has it: binary as base64 text, not bytes."""
    ((kind, data),) = value.items()
    if kind == "B":
        return {kind: base64.b64encode(data).decode()}
    if kind == "BS":
        return {kind: [base64.b64encode(item).decode() for item in data]}
    if kind == "M":
        return {kind: _jsonable_image(data)}
    if kind == "L":
        return {kind: [_jsonable_attribute(item) for item in data]}
    return {kind: data}


def _jsonable_image(image: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _jsonable_attribute(value) for name, value in image.items()}


def lambda_stream_record(
    record: RecordTypeDef | Mapping[str, Any], stream_arn: str, aws_region: str
) -> dict[str, Any]:
    """Turn a DynamoDB Streams GetRecords record into the record Lambda puts in a DynamoDB event."""
    stream: dict[str, Any] = dict(record["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):  # boto3 parses it; Lambda's JSON has epoch seconds
        stream["ApproximateCreationDateTime"] = int(created.timestamp())
    for image in ("Keys", "NewImage", "OldImage"):
        if image in stream:
            stream[image] = _jsonable_image(stream[image])
    lambda_record = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record["eventVersion"],
        "eventSource": "aws:dynamodb",
        "awsRegion": aws_region,
        "dynamodb": stream,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in record:  # present on TTL deletions
        lambda_record["userIdentity"] = dict(record["userIdentity"])
    return lambda_record


@dataclass(frozen=True)
class StreamBatch:
    """Records from one shard, in order: Lambda never mixes shards in a batch."""

    shard_id: str
    records: list[dict[str, Any]]

    @property
    def event(self) -> dict[str, Any]:
        return {"Records": self.records}

    def from_index(self, index: int) -> StreamBatch:
        return StreamBatch(self.shard_id, self.records[index:])

    def halves(self) -> tuple[StreamBatch, StreamBatch]:
        middle = len(self.records) // 2
        return StreamBatch(self.shard_id, self.records[:middle]), StreamBatch(
            self.shard_id, self.records[middle:]
        )


@dataclass
class StreamDeliveryReport:
    invocations: int = 0
    responses: list[Any] = field(default_factory=list)
    # Every itemIdentifier (sequence number) the function reported failed, in order, retries included.
    batch_item_failures: list[str] = field(default_factory=list)
    # Tracebacks of handler exceptions (only caught when retrying, as Lambda would).
    function_errors: list[str] = field(default_factory=list)
    # The on-failure records sent to the destination after retries ran out.
    discarded: list[dict[str, Any]] = field(default_factory=list)


def _epoch_to_iso(epoch: Any) -> str:
    return datetime.fromtimestamp(float(epoch), UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class DynamoDBStreamSource:
    """Lambda's DynamoDB event source mapping for one of a function's ``Type: DynamoDB`` events."""

    def __init__(self, deployment: Deployment, function_logical_id: str, event_name: str) -> None:
        self.deployment = deployment
        self.function_logical_id = function_logical_id
        self.properties = deployment.event_properties(function_logical_id, event_name, "DynamoDB")
        self.stream_arn: str = self.properties["Stream"]
        self.batch_size = int(self.properties.get("BatchSize", 100))
        filters = self.properties.get("FilterCriteria", {}).get("Filters", [])
        self._patterns = [EventPattern.load(item["Pattern"]) for item in filters]
        # Recent botocore sends Streams calls to an account-specific endpoint that moto does not route.
        self._client: DynamoDBStreamsClient = boto3.client(
            "dynamodbstreams",
            region_name=deployment.region,
            config=Config(account_id_endpoint_mode="disabled"),
        )
        starting_position = str(self.properties.get("StartingPosition", "TRIM_HORIZON"))
        # Taken now: a LATEST mapping sees only what is written after it is created.
        self._iterators: dict[str, str | None] = {
            shard_id: self._shard_iterator(shard_id, starting_position) for shard_id in self._shard_ids()
        }

    @property
    def reports_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in self.properties.get("FunctionResponseTypes", [])

    def _shard_ids(self) -> list[str]:
        shard_ids: list[str] = []
        request: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            description = self._client.describe_stream(**request)["StreamDescription"]
            shard_ids += [shard["ShardId"] for shard in description.get("Shards", [])]
            if "LastEvaluatedShardId" not in description:
                return shard_ids
            request["ExclusiveStartShardId"] = description["LastEvaluatedShardId"]

    def _shard_iterator(self, shard_id: str, iterator_type: str) -> str:
        response = self._client.get_shard_iterator(
            StreamArn=self.stream_arn,
            ShardId=shard_id,
            ShardIteratorType=iterator_type,  # type: ignore[arg-type]
        )
        return response["ShardIterator"]

    def _read(self, iterator: str | None) -> tuple[list[RecordTypeDef], str | None]:
        """Every record from ``iterator`` on, and the iterator to continue from (None once a shard closes)."""
        records: list[RecordTypeDef] = []
        while iterator is not None:
            response = self._client.get_records(ShardIterator=iterator, Limit=1000)
            records += response["Records"]
            iterator = response.get("NextShardIterator")
            if not response["Records"]:
                break
        return records, iterator

    def _matches(self, record: dict[str, Any]) -> bool:
        return not self._patterns or any(
            pattern.matches_event(cast(Any, record)) for pattern in self._patterns
        )

    def _batches(self, shard_id: str, records: list[RecordTypeDef]) -> list[StreamBatch]:
        converted = [
            lambda_stream_record(record, self.stream_arn, self.deployment.region) for record in records
        ]
        kept = [record for record in converted if self._matches(record)]
        size = self.batch_size
        return [StreamBatch(shard_id, kept[start : start + size]) for start in range(0, len(kept), size)]

    def poll_batches(self) -> list[StreamBatch]:
        """Records written since the last poll, filtered and batched as Lambda would invoke with them."""
        for shard_id in self._shard_ids():
            # A shard that appears later (DynamoDB splits and rotates shards) is read from its start.
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._shard_iterator(shard_id, "TRIM_HORIZON")
        batches = []
        for shard_id, iterator in self._iterators.items():
            records, self._iterators[shard_id] = self._read(iterator)
            batches += self._batches(shard_id, records)
        return batches

    def poll(self) -> list[dict[str, Any]]:
        """Lambda events (``{"Records": [...]}``, at most BatchSize each) of records new since last poll."""
        return [batch.event for batch in self.poll_batches()]

    def replay_all(self) -> list[dict[str, Any]]:
        """Every record still in the stream, from TRIM_HORIZON, as events; the polling position is kept."""
        events = []
        for shard_id in self._shard_ids():
            records, _ = self._read(self._shard_iterator(shard_id, "TRIM_HORIZON"))
            events += [batch.event for batch in self._batches(shard_id, records)]
        return events

    def deliver(
        self, *, retry_failures: bool = False, handler: LambdaHandler | None = None
    ) -> StreamDeliveryReport:
        """Poll and invoke the function once per batch.

        Without ``retry_failures`` failures are only reported and handler exceptions propagate. With it,
        Lambda's error handling is emulated: a handler exception fails the whole batch (bisected first if
        BisectBatchOnFunctionError), a batch is retried from its first failed record up to
        MaximumRetryAttempts times, and then its coordinates go to DestinationConfig.OnFailure.
        """
        report = StreamDeliveryReport()
        for batch in self.poll_batches():
            if retry_failures:
                self._process(batch, report, handler, retries_left=self._max_retries(), invoke_count=1)
            else:
                self._invoke_once(batch, report, handler, catch_errors=False)
        return report

    def _max_retries(self) -> int:
        retries = int(self.properties.get("MaximumRetryAttempts", -1))
        return _UNBOUNDED_RETRIES if retries < 0 else retries

    def _invoke_once(
        self,
        batch: StreamBatch,
        report: StreamDeliveryReport,
        handler: LambdaHandler | None,
        *,
        catch_errors: bool,
    ) -> tuple[int | None, bool]:
        """Invoke with the batch; return (index of its first failed record or None, whether it raised)."""
        report.invocations += 1
        try:
            response = self.deployment.invoke(self.function_logical_id, batch.event, handler=handler)
        # The Lambda runtime turns any handler exception into a function error.
        except Exception:
            if not catch_errors:
                raise
            report.function_errors.append(_format_function_error())
            return 0, True
        report.responses.append(response)
        failed = self._reported_failures(response)
        report.batch_item_failures += failed
        if not failed:
            return None, False
        sequence_numbers = [record["dynamodb"]["SequenceNumber"] for record in batch.records]
        if not set(failed) <= set(sequence_numbers):
            return 0, False  # Lambda treats an unknown itemIdentifier as the whole batch failing
        return min(sequence_numbers.index(identifier) for identifier in failed), False

    def _reported_failures(self, response: Any) -> list[str]:
        if not self.reports_item_failures or not isinstance(response, dict):
            return []
        return [str(item.get("itemIdentifier")) for item in response.get("batchItemFailures") or []]

    def _process(
        self,
        batch: StreamBatch,
        report: StreamDeliveryReport,
        handler: LambdaHandler | None,
        *,
        retries_left: int,
        invoke_count: int,
    ) -> None:
        failed_from, raised = self._invoke_once(batch, report, handler, catch_errors=True)
        if failed_from is None:
            return
        if raised and self.properties.get("BisectBatchOnFunctionError") and len(batch.records) > 1:
            # Splitting does not use up a retry: each half starts with the same allowance.
            for half in batch.halves():
                self._process(half, report, handler, retries_left=retries_left, invoke_count=invoke_count + 1)
            return
        remaining = batch.from_index(failed_from)
        if retries_left <= 0:
            self._discard(remaining, report, raised=raised, invoke_count=invoke_count)
            return
        self._process(
            remaining, report, handler, retries_left=retries_left - 1, invoke_count=invoke_count + 1
        )

    def _discard(
        self, batch: StreamBatch, report: StreamDeliveryReport, *, raised: bool, invoke_count: int
    ) -> None:
        first, last = batch.records[0]["dynamodb"], batch.records[-1]["dynamodb"]
        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if raised:
            response_context["functionError"] = "Unhandled"
        on_failure = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.deployment.function_arn(self.function_logical_id),
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": invoke_count,
            },
            "responseContext": response_context,
            "version": "1.0",
            "timestamp": _epoch_to_iso(time.time()),
            "DDBStreamBatchInfo": {
                "shardId": batch.shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _epoch_to_iso(first["ApproximateCreationDateTime"]),
                "approximateArrivalOfLastRecord": _epoch_to_iso(last["ApproximateCreationDateTime"]),
                "batchSize": len(batch.records),
                "streamArn": self.stream_arn,
            },
        }
        report.discarded.append(on_failure)
        destination = self.properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if destination:
            _send_to_destination(self.deployment, destination, json.dumps(on_failure))


# ------------------------------------------------------------------------------------------- SQS


def _lambda_message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [base64.b64encode(item).decode() for item in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def lambda_sqs_record(
    message: MessageTypeDef | Mapping[str, Any], queue_arn: str, aws_region: str
) -> dict[str, Any]:
    """Turn an SQS ReceiveMessage message into the record Lambda puts in an SQS event."""
    attributes: Mapping[Any, str] = message.get("Attributes", {})
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {name: attributes[name] for name in _LAMBDA_SQS_ATTRIBUTES if name in attributes},
        "messageAttributes": {
            name: _lambda_message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": aws_region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


@dataclass
class DrainReport:
    invocations: int = 0
    processed: int = 0  # deliveries that succeeded, so their message was deleted
    failures: int = 0  # deliveries that failed, so their message was made visible again
    failed_message_ids: list[str] = field(default_factory=list)
    responses: list[Any] = field(default_factory=list)
    function_errors: list[str] = field(default_factory=list)  # tracebacks of handler exceptions
    queue_empty: bool = False


class SqsSource:
    """Lambda's SQS event source mapping for one of a function's ``Type: SQS`` events."""

    def __init__(self, deployment: Deployment, function_logical_id: str, event_name: str) -> None:
        self.deployment = deployment
        self.function_logical_id = function_logical_id
        self.properties = deployment.event_properties(function_logical_id, event_name, "SQS")
        self.queue_arn: str = self.properties["Queue"]
        self.batch_size = min(int(self.properties.get("BatchSize", 10)), _SQS_MAX_BATCH)
        self._sqs: SQSClient = boto3.client("sqs", region_name=deployment.region)
        self.queue_url = _queue_url(self._sqs, self.queue_arn)
        # False: a failed message comes back at once, so one drain plays out all its retries.
        # True: it stays hidden for the queue's VisibilityTimeout, as in AWS; the caller moves
        # the clock on (e.g. LocalPipeline.run_schedule) before it is received again.
        self.honour_visibility_timeout = False

    @property
    def reports_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in self.properties.get("FunctionResponseTypes", [])

    def drain(self, max_rounds: int = 50, *, handler: LambdaHandler | None = None) -> DrainReport:
        """Receive, invoke and settle batches until the queue is empty (or ``max_rounds`` receives).

        A failed message is made visible at once, standing in for its visibility timeout running out;
        moto then applies the queue's redrive policy, moving it to the DLQ after maxReceiveCount receives.
        """
        report = DrainReport()
        for _ in range(max_rounds):
            messages = self._receive()
            if not messages:
                report.queue_empty = True
                break
            self._deliver(messages, report, handler)
        return report

    def _receive(self) -> list[MessageTypeDef]:
        response = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return response.get("Messages", [])

    def _deliver(
        self, messages: list[MessageTypeDef], report: DrainReport, handler: LambdaHandler | None
    ) -> None:
        event = {"Records": [lambda_sqs_record(m, self.queue_arn, self.deployment.region) for m in messages]}
        failed = self._invoke(event, report, handler)
        for message in messages:
            if message["MessageId"] in failed:
                if not self.honour_visibility_timeout:
                    self._sqs.change_message_visibility(
                        QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
                report.failures += 1
                report.failed_message_ids.append(message["MessageId"])
            else:
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                report.processed += 1

    def _invoke(self, event: dict[str, Any], report: DrainReport, handler: LambdaHandler | None) -> set[str]:
        """Invoke with the event; return the ids of the messages that failed."""
        message_ids = {record["messageId"] for record in event["Records"]}
        report.invocations += 1
        try:
            response = self.deployment.invoke(self.function_logical_id, event, handler=handler)
        except Exception:  # noqa: BLE001 - the Lambda runtime turns any handler exception into a function error
            report.function_errors.append(_format_function_error())
            return message_ids
        report.responses.append(response)
        if not self.reports_item_failures or not isinstance(response, dict):
            return set()
        failed = {str(item.get("itemIdentifier")) for item in response.get("batchItemFailures") or []}
        # Lambda treats an itemIdentifier that is not in the batch as the whole batch failing.
        return failed if failed <= message_ids else message_ids


def queue_messages(deployment: Deployment, queue_logical_id: str) -> list[MessageTypeDef]:
    """The messages now in a queue (boto3's shape), left in it.

    Looking counts as a receive: on a queue with a redrive policy it brings messages closer to its DLQ.
    """
    sqs = boto3.client("sqs", region_name=deployment.region)
    url = deployment.ref(queue_logical_id)
    messages: list[MessageTypeDef] = []
    while True:
        # Held invisible until all are seen, so no message is returned twice.
        received = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=_SQS_MAX_BATCH,
            VisibilityTimeout=60,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            break
        messages += received
    for message in messages:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return messages


# ------------------------------------------------------------------------------------------- schedules

_RATE: Final = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_RATE_UNITS: Final = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


def parse_rate(expression: str) -> timedelta:
    """The interval of an EventBridge ``rate(...)`` expression, checked as EventBridge checks it."""
    expression = expression.strip()
    if expression.startswith("cron("):
        raise NotImplementedError(
            f"Schedule {expression!r}: cron expressions are not emulated locally; "
            "use a rate(...) expression, or fire the ScheduleSource at the times you need"
        )
    match = _RATE.fullmatch(expression)
    if match is None:
        raise ValueError(f"Schedule {expression!r} is not rate(N minute(s)|hour(s)|day(s)) or cron(...)")
    count, unit = int(match.group(1)), match.group(2)
    # EventBridge rejects "rate(1 minutes)" and "rate(5 minute)": a template doing so would fail to deploy.
    if count < 1 or (count == 1) != (not unit.endswith("s")):
        raise ValueError(f"Schedule {expression!r}: the unit must be singular for 1 and plural otherwise")
    return count * _RATE_UNITS[unit.removesuffix("s")]


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"{at!r} is naive: pass an aware datetime (EventBridge schedules run in UTC)")
    return at.astimezone(UTC)


def _is_true(value: Any) -> bool:
    return _cfn_string(value).lower() != "false"


class ScheduleSource:
    """EventBridge's part for one of a function's ``Type: Schedule`` events: invoke it at each tick.

    The clock is not moved: a handler that is to be driven through time should read ``event["time"]``.
    """

    def __init__(self, deployment: Deployment, function_logical_id: str, event_name: str) -> None:
        self.deployment = deployment
        self.function_logical_id = function_logical_id
        self.event_name = event_name
        self.properties = deployment.event_properties(function_logical_id, event_name, "Schedule")
        self.schedule: str = str(self.properties["Schedule"])
        if "InputTransformer" in self.properties:
            raise NotImplementedError(f"{function_logical_id}.{event_name}: InputTransformer is not emulated")

    @property
    def enabled(self) -> bool:
        """Whether EventBridge would fire the rule (SAM's ``Enabled``, or ``State`` which replaces it)."""
        if "State" in self.properties:
            return str(self.properties["State"]) != "DISABLED"
        return _is_true(self.properties.get("Enabled", True))

    @property
    def rule_name(self) -> str:
        name = self.properties.get("Name")
        if name:
            return str(name)
        return f"{self.deployment.stack_name}-{self.function_logical_id}-{self.event_name}"

    @property
    def rule_arn(self) -> str:
        deployment = self.deployment
        return f"arn:{PARTITION}:events:{deployment.region}:{deployment.account_id}:rule/{self.rule_name}"

    def interval(self) -> timedelta:
        return parse_rate(self.schedule)

    def scheduled_event(self, at: datetime) -> dict[str, Any]:
        """The event EventBridge builds for the tick at ``at`` (whole seconds, UTC)."""
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.deployment.account_id,
            "time": _utc(at).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.deployment.region,
            "resources": [self.rule_arn],
            "detail": {},
        }

    def event(self, at: datetime) -> Any:
        """What the function receives at ``at``: the scheduled event, or the template's ``Input`` JSON."""
        scheduled = self.scheduled_event(at)  # built either way, so a naive ``at`` is refused either way
        if "Input" not in self.properties:
            return scheduled
        constant = self.properties["Input"]
        if not isinstance(constant, str):
            raise ValueError(f"{self.function_logical_id}.{self.event_name}: Input must be a JSON string")
        # The target's constant input replaces the event entirely: the tick time is not passed on.
        return json.loads(constant)

    def fire(self, at: datetime, *, handler: LambdaHandler | None = None) -> Any:
        """Invoke the function for the tick at ``at`` and return its response (whether or not ``enabled``).

        A handler exception propagates: EventBridge's asynchronous invoke would retry it and then drop it.
        """
        return self.deployment.invoke(self.function_logical_id, self.event(at), handler=handler)

    def run_between(
        self,
        start: datetime,
        end: datetime,
        *,
        between_ticks: Callable[[datetime], None] | None = None,
        handler: LambdaHandler | None = None,
    ) -> list[datetime]:
        """Fire at ``start`` and each ``interval()`` after, up to ``end`` (inclusive); return the UTC ticks.

        ``between_ticks(tick)`` runs after each fire: the place to drain queues and deliver streams, so the
        next sweep sees what this one caused.
        """
        # Stepped in UTC: adding hours to a local time with DST moves wall-clock time, not elapsed time.
        tick, last = _utc(start), _utc(end)
        step = self.interval()
        ticks: list[datetime] = []
        while tick <= last:
            self.fire(tick, handler=handler)
            if between_ticks is not None:
                between_ticks(tick)
            ticks.append(tick)
            tick += step
        return ticks


# ------------------------------------------------------------------------------------------- HTTP API

# Request bodies of these content types reach the function as text; API Gateway base64-encodes every other
# body (form posts and a missing Content-Type included), per HTTP API payload format 2.0 as observed on AWS.
_TEXT_CONTENT_TYPES: Final = ("application/json", "application/xml", "application/javascript")
_JSON_CONTENT_TYPE: Final = "application/json"


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


@dataclass(frozen=True)
class HttpRoute:
    event_name: str
    method: str  # upper case; ANY matches every method
    path: str  # "/unsubscribe/{token}", or "$default"

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters (raw, still percent-encoded) if the route takes this request, else None."""
        if self.method not in ("ANY", method.upper()):
            return None
        if self.path == "$default":
            return {}
        expected, actual = self.path.strip("/").split("/"), path.strip("/").split("/")
        parameters: dict[str, str] = {}
        for index, segment in enumerate(expected):
            if segment.startswith("{") and segment.endswith("+}"):  # greedy: the rest of the path
                rest = actual[index:]
                if not rest or rest == [""]:
                    return None
                parameters[segment[1:-2]] = "/".join(rest)
                return parameters
            if index >= len(actual):
                return None
            if segment.startswith("{") and segment.endswith("}"):
                if not actual[index]:
                    return None
                parameters[segment[1:-1]] = actual[index]
            elif segment != actual[index]:
                return None
        return parameters if len(actual) == len(expected) else None

    def precedence(self) -> tuple[int, int, int]:
        """Sort key: the most specific route first (fewer greedy, then more literal segments)."""
        segments = self.path.strip("/").split("/")
        greedy = sum(segment.endswith("+}") for segment in segments)
        literal = sum(not segment.startswith("{") for segment in segments)
        return (int(self.path == "$default"), greedy, -literal)


class HttpApiSource:
    """API Gateway's part for a function's ``Type: HttpApi`` events: route a request, invoke, answer.

    Events use payload format 2.0 (SAM's default for HTTP APIs). The template's routes are the only ones the
    API has: a request no route takes is answered 404 without invoking anything, as API Gateway does.
    """

    def __init__(self, deployment: Deployment, function_logical_id: str) -> None:
        self.deployment = deployment
        self.function_logical_id = function_logical_id
        events: dict[str, Any] = deployment.function_properties(function_logical_id).get("Events", {})
        self.routes: list[HttpRoute] = []
        api_ids: set[str] = set()
        for event_name, event in events.items():
            if event.get("Type") != "HttpApi":
                continue
            properties = deployment.event_properties(function_logical_id, event_name, "HttpApi")
            if "ApiId" not in properties:
                raise NotImplementedError(
                    f"{function_logical_id}.{event_name}: SAM's implicit HTTP API is not emulated; give ApiId"
                )
            version = _cfn_string(properties.get("PayloadFormatVersion", "2.0"))
            if version != "2.0":
                raise NotImplementedError(f"{function_logical_id}.{event_name}: payload format {version}")
            api_ids.add(str(properties["ApiId"]))
            method = str(properties.get("Method", "ANY")).upper()
            path = str(properties.get("Path", "$default"))
            self.routes.append(HttpRoute(event_name, method, path))
        if not self.routes:
            raise ValueError(f"{function_logical_id} has no HttpApi event")
        if len(api_ids) > 1:
            raise NotImplementedError(
                f"{function_logical_id}: HttpApi events on several APIs {sorted(api_ids)}"
            )
        self.api_id = api_ids.pop()
        self.routes.sort(key=HttpRoute.precedence)
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

    def event(
        self,
        method: str,
        path: str,
        *,
        body: str | bytes = "",
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """The payload format 2.0 event API Gateway would invoke with, or None if no route takes the request.

        ``path`` may carry a query string (``/a?b=c``); ``query`` is added to it.
        """
        path, _, raw_query = path.partition("?")
        if query:
            raw_query = "&".join(part for part in (raw_query, urllib.parse.urlencode(query)) if part)
        routed = self.route(method, path)
        if routed is None:
            return None
        route, raw_parameters = routed
        data = body.encode() if isinstance(body, str) else body
        request_headers = self._headers(headers or {}, data)
        now = datetime.now(UTC)
        request_id = base64.b64encode(secrets.token_bytes(10)).decode()
        # HTTP APIs hand the function the path percent-decoded.
        decoded_path = urllib.parse.unquote(path)
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": decoded_path,
            "rawQueryString": raw_query,
        }
        cookie_header = request_headers.pop("cookie", None)
        if cookie_header:
            event["cookies"] = [cookie.strip() for cookie in cookie_header.split(";") if cookie.strip()]
        event["headers"] = request_headers
        parameters = self._query_parameters(raw_query)
        if parameters:
            event["queryStringParameters"] = parameters
        event["requestContext"] = {
            "accountId": self.deployment.account_id,
            "apiId": self.api_id,
            "domainName": self.domain_name,
            "domainPrefix": self.api_id,
            "http": {
                "method": method.upper(),
                "path": decoded_path,
                "protocol": "HTTP/1.1",
                "sourceIp": request_headers["x-forwarded-for"].split(",")[0].strip(),
                "userAgent": request_headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        }
        if data:
            if _is_text_content_type(request_headers.get("content-type")):
                try:
                    event["body"], event["isBase64Encoded"] = data.decode(), False
                except UnicodeDecodeError:
                    event["body"], event["isBase64Encoded"] = base64.b64encode(data).decode(), True
            else:
                event["body"], event["isBase64Encoded"] = base64.b64encode(data).decode(), True
        else:
            event["isBase64Encoded"] = False
        if raw_parameters:
            event["pathParameters"] = {
                name: urllib.parse.unquote(value) for name, value in raw_parameters.items()
            }
        return event

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

    def request(
        self,
        method: str,
        path: str,
        *,
        body: str | bytes = "",
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        handler: LambdaHandler | None = None,
    ) -> HttpResponse:
        """Send a request to the API: route it, invoke the function, and answer as API Gateway would."""
        event = self.event(method, path, body=body, headers=headers, query=query)
        if event is None:
            return _error_response(404, "Not Found")
        try:
            result = self.deployment.invoke(self.function_logical_id, event, handler=handler)
        except Exception:  # noqa: BLE001 - API Gateway answers a function error with a 500
            self.function_errors.append(_format_function_error())
            return _error_response(500, "Internal Server Error")
        return http_response(result)


# Headers API Gateway sets itself: a client's value replaces rather than joins them.
_ADDED_HEADERS: Final = frozenset(
    {"host", "user-agent", "x-amzn-trace-id", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"}
)


def http_response(result: Any) -> HttpResponse:
    """What API Gateway makes of a function's return value under payload format 2.0.

    A JSON object with a ``statusCode`` is a response; anything else is the body of a 200 JSON response.
    """
    if not (isinstance(result, dict) and "statusCode" in result):
        return HttpResponse(200, {"content-type": _JSON_CONTENT_TYPE}, json.dumps(result))
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int | str) or not str(status).isdigit():
        return _error_response(500, "Internal Server Error")
    headers = {str(name).lower(): _cfn_string(value) for name, value in (result.get("headers") or {}).items()}
    raw_body = result.get("body")
    body = "" if raw_body is None else raw_body if isinstance(raw_body, str) else json.dumps(raw_body)
    if result.get("isBase64Encoded") and body:
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    cookies = [str(cookie) for cookie in result.get("cookies") or []]
    return HttpResponse(int(status), headers, body, cookies)


# ------------------------------------------------------------------------------------------- SNS


def _sns_attribute(value: Any) -> dict[str, Any]:
    """A Publish MessageAttributes value from a plain Python value (or one already in boto3's shape)."""
    if isinstance(value, Mapping) and "DataType" in value:
        return dict(value)
    if isinstance(value, bytes):
        return {"DataType": "Binary", "BinaryValue": value}
    if isinstance(value, bool) or not isinstance(value, int | float | list):
        return {"DataType": "String", "StringValue": _cfn_string(value)}
    if isinstance(value, list):
        return {"DataType": "String.Array", "StringValue": json.dumps(value)}
    return {"DataType": "Number", "StringValue": str(value)}


class SnsSource:
    """SNS's part for one of a function's ``Type: SNS`` events: publish to the topic, then invoke.

    The message is published through moto (so it is in ``topic_messages``), then the function is invoked with
    the Lambda SNS event for it, unless the event's FilterPolicy rejects it. moto is not given a Lambda
    subscription: it would invoke moto's own Lambda service, where the function does not exist.
    """

    def __init__(self, deployment: Deployment, function_logical_id: str, event_name: str) -> None:
        self.deployment = deployment
        self.function_logical_id = function_logical_id
        self.event_name = event_name
        self.properties = deployment.event_properties(function_logical_id, event_name, "SNS")
        if self.properties.get("SqsSubscription"):
            raise NotImplementedError(f"{function_logical_id}.{event_name}: SqsSubscription is not emulated")
        self.topic_arn: str = str(self.properties["Topic"])
        topic_region = self.topic_arn.split(":")[3]
        self.region = str(self.properties.get("Region") or topic_region)
        policy = self.properties.get("FilterPolicy")
        scope = self.properties.get("FilterPolicyScope")
        self._filter = (
            None if not policy else FilterPolicyMatcher(policy, None if scope is None else str(scope))
        )
        self.subscription_arn = (
            f"{self.topic_arn}:{uuid.uuid5(uuid.NAMESPACE_URL, self.topic_arn + event_name)}"
        )
        self._sns = boto3.client("sns", region_name=topic_region)

    def publish(
        self, message: str, subject: str | None = None, attributes: Mapping[str, Any] | None = None
    ) -> str:
        """Publish to the topic through moto and return the message id (nothing is invoked)."""
        request: dict[str, Any] = {"TopicArn": self.topic_arn, "Message": message}
        if subject is not None:
            request["Subject"] = subject
        if attributes:
            request["MessageAttributes"] = {name: _sns_attribute(v) for name, v in attributes.items()}
        return self._sns.publish(**request)["MessageId"]

    def _published(self, message_id: str) -> tuple[str, str | None, dict[str, dict[str, str]]]:
        account_id, topic_region = self.topic_arn.split(":")[4], self.topic_arn.split(":")[3]
        topic = sns_backends[account_id][topic_region].get_topic(self.topic_arn)
        for notification in reversed(topic.sent_notifications):
            # moto's internal record (see topic_messages): attributes are already as SNS delivers them.
            published_id, message, subject, attributes, _ = notification
            if published_id == message_id:
                return message, subject, dict(attributes or {})
        raise LookupError(f"moto has no message {message_id} on {self.topic_arn}")

    def event(
        self, message_id: str, message: str, subject: str | None, attributes: dict[str, dict[str, str]]
    ) -> dict[str, Any]:
        """The Lambda SNS event for one published message."""
        endpoint = f"https://sns.{self.region}.amazonaws.com"
        signature = base64.b64encode(secrets.token_bytes(256)).decode()
        return {
            "Records": [
                {
                    "EventSource": "aws:sns",
                    "EventVersion": "1.0",
                    "EventSubscriptionArn": self.subscription_arn,
                    "Sns": {
                        "Type": "Notification",
                        "MessageId": message_id,
                        "TopicArn": self.topic_arn,
                        "Subject": subject,
                        "Message": message,
                        "Timestamp": _epoch_to_iso(time.time()),
                        "SignatureVersion": "1",
                        # Not a real signature: nothing locally holds SNS's signing key.
                        "Signature": signature,
                        "SigningCertUrl": f"{endpoint}/SimpleNotificationService-"
                        f"{uuid.uuid5(uuid.NAMESPACE_URL, endpoint).hex}.pem",
                        "UnsubscribeUrl": f"{endpoint}/?Action=Unsubscribe"
                        f"&SubscriptionArn={self.subscription_arn}",
                        "MessageAttributes": attributes,
                    },
                }
            ]
        }

    def deliver(
        self,
        message: str,
        subject: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        *,
        handler: LambdaHandler | None = None,
    ) -> Any:
        """Publish ``message`` to the topic and invoke the function with it; return the function's response.

        ``attributes`` values are plain (str -> String, int/float -> Number, list -> String.Array, bytes ->
        Binary) or boto3's ``{"DataType": ..., "StringValue"|"BinaryValue": ...}``. Returns None without
        invoking when the FilterPolicy rejects the message. A handler exception propagates (SNS's
        asynchronous invoke would retry it twice and then drop it).
        """
        message_id = self.publish(message, subject, attributes)
        published, published_subject, published_attributes = self._published(message_id)
        if self._filter is not None and not self._filter.matches(published_attributes, published):
            return None
        event = self.event(message_id, published, published_subject, published_attributes)
        return self.deployment.invoke(self.function_logical_id, event, handler=handler)


# ------------------------------------------------------------------------------------------- outbox


@dataclass(frozen=True)
class SentEmail:
    message_id: str
    source: str
    destinations: list[str]  # bare addresses, each once
    subject: str | None
    text: str | None
    html: str | None
    raw: str | None = None  # the MIME document of a raw send
    message: EmailMessage | None = None  # ``raw`` parsed


@dataclass(frozen=True)
class SentSms:
    message_id: str
    phone_number: str
    message: str


def _unique_addresses(destinations: list[str]) -> list[str]:
    # moto adds a raw send's To/Cc/Bcc header addresses to those given to the API: each appears twice.
    return list(dict.fromkeys(address for _, address in getaddresses(destinations) if address))


def _body_part(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    return None if part is None else str(part.get_content())


def _from_raw(sent: MotoRawEmail) -> SentEmail:
    parsed = Parser(_class=EmailMessage, policy=default_email_policy).parsestr(sent.raw_data)
    return SentEmail(
        message_id=sent.id,
        source=sent.source,
        destinations=_unique_addresses(list(sent.destinations)),
        subject=None if parsed["Subject"] is None else str(parsed["Subject"]),
        text=_body_part(parsed, "plain"),
        html=_body_part(parsed, "html"),
        raw=sent.raw_data,
        message=parsed,
    )


def _from_simple(sent: MotoSimpleEmail) -> SentEmail:
    # moto keeps one body of a simple send: the HTML one if there is one.
    is_html = sent.body.lstrip().startswith("<")
    addresses = [
        address
        for kind in ("ToAddresses", "CcAddresses", "BccAddresses")
        for address in sent.destinations.get(kind, [])
    ]
    return SentEmail(
        message_id=sent.id,
        source=sent.source,
        destinations=_unique_addresses(addresses),
        subject=sent.subject,
        text=None if is_html else sent.body,
        html=sent.body if is_html else None,
    )


def sent_emails(aws_region: str | None = None) -> list[SentEmail]:
    """Emails moto accepted for sending (SES v1 and v2 share moto's SES backend), oldest first."""
    backend = ses_backends[DEFAULT_ACCOUNT_ID][aws_region or region()]
    emails = []
    for sent in backend.sent_messages:
        if isinstance(sent, MotoRawEmail):
            emails.append(_from_raw(sent))
        elif isinstance(sent, MotoSimpleEmail):
            emails.append(_from_simple(sent))
    return emails


def sent_sms(aws_region: str | None = None) -> list[SentSms]:
    """SMS messages moto accepted for sending (SNS Publish to a PhoneNumber), oldest first."""
    backend = sns_backends[DEFAULT_ACCOUNT_ID][aws_region or region()]
    return [SentSms(message_id, phone, text) for message_id, (phone, text) in backend.sms_messages.items()]


@dataclass(frozen=True)
class PublishedMessage:
    message_id: str
    subject: str | None
    message: str
    # As SNS hands them to subscribers: name -> {"Type": DataType, "Value": the value, binary as base64}.
    attributes: dict[str, dict[str, str]]
    group_id: str | None = None


def topic_messages(deployment: Deployment, topic_logical_id: str) -> list[PublishedMessage]:
    """Messages moto accepted for one of the template's topics (Publish and PublishBatch), oldest first.

    moto keeps every publish in its topic's ``sent_notifications`` whether or not anything subscribes.
    """
    backend = sns_backends[deployment.account_id][deployment.region]
    topic = backend.get_topic(deployment.ref(topic_logical_id))
    messages = []
    for notification in topic.sent_notifications:
        # An internal moto structure ("the exact format may differ per versions"); unpacking it whole
        # fails loudly if a moto upgrade changes it.
        message_id, message, subject, attributes, group_id = notification
        messages.append(PublishedMessage(message_id, subject, message, dict(attributes or {}), group_id))
    return messages
