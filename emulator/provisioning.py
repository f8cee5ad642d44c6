"""Provision a template into the active moto mock: one creator per resource type, looked up by Type
in a table, run in dependency order (a DLQ before the queue naming it). Custom resources are created
by their functions, as in CloudFormation (custom_resources.py).

Everything here expects an active moto mock (``with mock_aws():``). Nothing is copied from the template:
resources, names, environment and event-source settings are all read from it, so a change to
template.yaml is a change to what the tests and the demo run against.
"""

from __future__ import annotations

import graphlib
import json
import secrets
import string
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import phonenumbers
from headsup.platform import cold_start

from emulator.cfn import PARTITION, cfn_string, is_true_flag, region
from emulator.clients import client
from emulator.custom_resources import create_custom_resource, is_custom_resource
from emulator.deployment import Deployment, SesEventDestination, parameter_values
from emulator.intrinsics import references
from emulator.template import load_template

if TYPE_CHECKING:
    from mypy_boto3_sns.type_defs import TagTypeDef
    from mypy_boto3_sqs.literals import QueueAttributeNameType

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
    dynamodb = client("dynamodb", deployment.region)
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
            attributes[key] = json.dumps(value) if isinstance(value, dict) else cfn_string(value)
    return attributes


def _create_queue(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
    sqs = client("sqs", deployment.region)
    suffix = ".fifo" if properties.get("FifoQueue") and "QueueName" not in properties else ""
    name = _physical_name(deployment, logical_id, properties, "QueueName") + suffix
    tags = {tag["Key"]: tag["Value"] for tag in properties.get("Tags", [])}
    url = sqs.create_queue(QueueName=name, Attributes=_queue_attributes(properties), tags=tags)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return {"Ref": url, "QueueUrl": url, "Arn": arn, "QueueName": name}


def _create_topic(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
    sns = client("sns", deployment.region)
    suffix = ".fifo" if properties.get("FifoTopic") and "TopicName" not in properties else ""
    name = _physical_name(deployment, logical_id, properties, "TopicName") + suffix
    topic_attributes: dict[str, str] = {}
    for key in _SNS_TOPIC_ATTRIBUTES:
        value = properties.get(key)
        if value is None:
            continue
        # moto sets each attribute as given, so the string "false" would make a topic FIFO: leave it out.
        if key in ("FifoTopic", "ContentBasedDeduplication") and cfn_string(value) == "false":
            continue
        topic_attributes[key] = json.dumps(value) if isinstance(value, dict) else cfn_string(value)
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
        if not is_true_flag(spec.get(exclude_key, False))
    ]
    if is_true_flag(spec.get("IncludeSpace", False)):
        pools.append(" ")
    pools = [kept for kept in ("".join(c for c in pool if c not in excluded) for pool in pools) if kept]
    if not pools:
        raise ValueError(f"GenerateSecretString {dict(spec)} excludes every character")
    alphabet = "".join(pools)
    require_each = is_true_flag(spec.get("RequireEachIncludedType", True))
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


def _create_secret(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
    if "SecretString" in properties and "GenerateSecretString" in properties:
        raise ValueError(f"{logical_id}: SecretString and GenerateSecretString are mutually exclusive")
    if "SecretString" in properties:
        secret_string = cfn_string(properties["SecretString"])
    else:
        secret_string = _generate_secret_string(properties.get("GenerateSecretString", {}))
    request: dict[str, Any] = {
        "Name": _physical_name(deployment, logical_id, properties, "Name"),
        "SecretString": secret_string,
    }
    for key in ("Description", "KmsKeyId", "Tags"):
        if key in properties:
            request[key] = properties[key]
    arn = client("secretsmanager", deployment.region).create_secret(**request)["ARN"]
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
    client("sesv2", deployment.region).create_configuration_set(**request)
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
        "Enabled": is_true_flag(destination.get("Enabled", False)),
        "MatchingEventTypes": [str(kind) for kind in destination.get("MatchingEventTypes", [])],
    }
    if "SnsDestination" in destination:
        request["SNSDestination"] = {"TopicARN": str(destination["SnsDestination"]["TopicARN"])}
    for key in ("CloudWatchDestination", "KinesisFirehoseDestination"):
        if key in destination:
            request[key] = destination[key]
    client("ses", deployment.region).create_configuration_set_event_destination(
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
    logs = client("logs", deployment.region)
    logs.create_log_group(logGroupName=name)
    if "RetentionInDays" in properties:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(properties["RetentionInDays"]))
    arn = f"arn:{PARTITION}:logs:{deployment.region}:{deployment.account_id}:log-group:{name}:*"
    return {"Ref": name, "Arn": arn}


def _create_kms_key(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
    kms = client("kms", deployment.region)
    request: dict[str, Any] = {"Description": str(properties.get("Description", logical_id))}
    if "KeyPolicy" in properties:
        request["Policy"] = json.dumps(properties["KeyPolicy"])
    key = kms.create_key(**request)["KeyMetadata"]
    if is_true_flag(properties.get("EnableKeyRotation", False)):
        kms.enable_key_rotation(KeyId=key["KeyId"])
    return {"Ref": key["KeyId"], "Arn": key["Arn"], "KeyId": key["KeyId"]}


def _create_role(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
    """The role with its trust policy and inline policies (moto keeps them; nothing enforces them)."""
    iam = client("iam", deployment.region)
    name = _physical_name(deployment, logical_id, properties, "RoleName")
    request: dict[str, Any] = {
        "RoleName": name,
        "AssumeRolePolicyDocument": json.dumps(properties["AssumeRolePolicyDocument"]),
    }
    for key in ("Path", "Description", "PermissionsBoundary", "Tags"):
        if key in properties:
            request[key] = properties[key]
    if "MaxSessionDuration" in properties:
        request["MaxSessionDuration"] = int(properties["MaxSessionDuration"])
    role = iam.create_role(**request)["Role"]
    for policy in properties.get("Policies", []):
        iam.put_role_policy(
            RoleName=name,
            PolicyName=str(policy["PolicyName"]),
            PolicyDocument=json.dumps(policy["PolicyDocument"]),
        )
    for policy_arn in properties.get("ManagedPolicyArns", []):
        iam.attach_role_policy(RoleName=name, PolicyArn=str(policy_arn))
    return {"Ref": name, "Arn": role["Arn"], "RoleId": role["RoleId"]}


def _create_phone_number(
    deployment: Deployment, logical_id: str, properties: dict[str, Any]
) -> dict[str, str]:
    """An End User Messaging number: its id, ARN and the number itself, which delivery sends from.

    Not created in moto (it has no End User Messaging SMS v2): nothing calls that API locally, and
    what customers text to the number is played by publishing to its two-way channel's topic
    (``SnsSource``). The number is the country's example number of the type asked for.
    """
    country = str(properties["IsoCountryCode"])
    kind = {"TOLL_FREE": phonenumbers.PhoneNumberType.TOLL_FREE}.get(
        str(properties.get("NumberType")), phonenumbers.PhoneNumberType.MOBILE
    )
    example = phonenumbers.example_number_for_type(country, kind) or phonenumbers.example_number(country)
    if example is None:
        raise ValueError(f"{logical_id}: no phone numbers for country {country!r}")
    number = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    number_id = "phone-" + secrets.token_hex(16)
    arn = f"arn:{PARTITION}:sms-voice:{deployment.region}:{deployment.account_id}:phone-number/{number_id}"
    return {"Ref": number_id, "PhoneNumberId": number_id, "Arn": arn, "PhoneNumber": number}


Creator = Callable[[Deployment, str, dict[str, Any]], dict[str, str]]

# Resource Type -> its creator, which returns the attributes Ref and Fn::GetAtt give.
_CREATORS: Final[dict[str, Creator]] = {
    "AWS::KMS::Key": _create_kms_key,
    "AWS::Logs::LogGroup": _create_log_group,
    "AWS::DynamoDB::Table": _create_table,
    "AWS::SQS::Queue": _create_queue,
    "AWS::SNS::Topic": _create_topic,
    "AWS::SecretsManager::Secret": _create_secret,
    "AWS::Serverless::HttpApi": _create_http_api,
    "AWS::SES::ConfigurationSet": _create_configuration_set,
    "AWS::SES::ConfigurationSetEventDestination": _create_configuration_set_event_destination,
    "AWS::IAM::Role": _create_role,
    "AWS::SMSVOICE::PhoneNumber": _create_phone_number,
}


def _creator(resource_type: str) -> Creator | None:
    """The creator of a resource type, if it is created locally (any custom resource type is)."""
    return create_custom_resource if is_custom_resource(resource_type) else _CREATORS.get(resource_type)


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


def _dependencies(deployment: Deployment, resource: dict[str, Any]) -> set[str]:
    """What a resource's properties refer to and what it DependsOn; for a custom resource, also what
    its function refers to (in AWS the function, and so its role and environment, come first)."""
    properties = resource.get("Properties", {})
    depends_on = resource.get("DependsOn", [])
    found = references(properties) | ({depends_on} if isinstance(depends_on, str) else set(depends_on))
    if is_custom_resource(resource["Type"]):
        for function_id in references(properties.get("ServiceToken")) & set(deployment.function_ids()):
            function = deployment.function_properties(function_id)
            found |= references({key: value for key, value in function.items() if key != "Events"})
    return found


def _creation_order(deployment: Deployment) -> list[str]:
    """Resources to create, each after those it refers to or DependsOn (a DLQ before the queue naming it)."""
    wanted = {
        logical_id
        for logical_id, resource in deployment.resources.items()
        if _creator(resource["Type"]) is not None
        and ("Condition" not in resource or deployment.condition(resource["Condition"]))
    }
    graph = {
        logical_id: _dependencies(deployment, deployment.resources[logical_id]) & wanted
        for logical_id in wanted
    }
    return list(graphlib.TopologicalSorter(graph).static_order())


def _verify_sender_identities(deployment: Deployment) -> None:
    """Verify the SES identities the template sends as: moto, like SES, rejects unverified senders."""
    sesv2 = client("sesv2", deployment.region)
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
    """Create the template's resources in the active moto mock and return the deployment.

    A custom resource is created by invoking its function (one of the template's) with CloudFormation's
    Create request; a failed or missing response fails provisioning (``CustomResourceFailed``).
    """
    template = load_template() if template is None else template
    deployment = Deployment(
        template=template,
        parameters=parameter_values(template, parameter_overrides or {}),
        stack_name=stack_name,
        region=region(),
    )
    for logical_id, resource in deployment.resources.items():
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
            deployment.attributes[logical_id] = _named_only_attributes(deployment, logical_id, resource)
    for logical_id in _creation_order(deployment):
        resource = deployment.resources[logical_id]
        properties = deployment.resolve(resource.get("Properties", {}))
        creator = _creator(resource["Type"])
        assert creator is not None  # _creation_order keeps only the types created locally
        deployment.attributes[logical_id] = creator(deployment, logical_id, properties)
    _verify_sender_identities(deployment)
    # A new deployment runs in new execution environments: no handler keeps the settings and
    # clients it built for an earlier one in this process (its cold start comes again).
    cold_start.reset()
    return deployment
