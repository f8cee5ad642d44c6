"""emulator.provisioning: each resource type of template.yaml created in moto as CloudFormation would."""

import copy
import json
import re
import string
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from emulator import Deployment, HttpApiSource, provision, sent_emails, topic_messages
from emulator.template import load_template


@pytest.fixture
def deployment() -> Iterator[Deployment]:
    """Provisioned afresh: here provisioning itself is under test, not restored from a snapshot."""
    with mock_aws():
        yield provision()


TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
STACK = "headsup-local"
UNSUBSCRIBE = "UnsubscribeFunction"
DELIVERY = "NoticeDeliveryFunction"
SIGNING_KEY, API, CONFIGURATION_SET = "UnsubscribeSigningKey", "UnsubscribeApi", "SesConfigurationSet"
FEEDBACK_TOPIC = "SesFeedbackTopic"
API_ID = re.compile(r"[a-z0-9]{10}")
ESCALATIONS = "EscalationTopic"
DUE_ITEMS, DUE_INDEX = "DueItemsTable", "DueIndex"
THROUGHPUT = {"ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}


def logical_ids(resource_type: str) -> list[str]:
    return [logical_id for logical_id, resource in RESOURCES.items() if resource["Type"] == resource_type]


def with_secret(**properties: Any) -> dict[str, Any]:
    template = copy.deepcopy(TEMPLATE)
    template["Resources"][SIGNING_KEY]["Properties"] = properties
    return template


def secret_value(deployment: Deployment, logical_id: str = SIGNING_KEY) -> str:
    secrets = boto3.client("secretsmanager")
    return str(secrets.get_secret_value(SecretId=deployment.ref(logical_id))["SecretString"])


MINI_TOPICS: dict[str, Any] = {
    "Resources": {
        "Inbox": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Plain": {
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "FifoTopic": False,
                "ContentBasedDeduplication": False,
                "KmsMasterKeyId": "alias/aws/sns",
                "Tags": [{"Key": "team", "Value": "support"}],
                "Subscription": [{"Protocol": "sqs", "Endpoint": {"Fn::GetAtt": ["Inbox", "Arn"]}}],
            },
        },
        "Ordered": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"FifoTopic": True, "ContentBasedDeduplication": True},
        },
    }
}


def put_due_item(deployment: Deployment, key: str, **due: str) -> None:
    item = {"item_key": {"S": key}} | {name: {"S": value} for name, value in due.items()}
    boto3.client("dynamodb").put_item(TableName=deployment.ref(DUE_ITEMS), Item=item)


def due_keys(deployment: Deployment, shard: str, now: str) -> list[str]:
    response = boto3.client("dynamodb").query(
        TableName=deployment.ref(DUE_ITEMS),
        IndexName=DUE_INDEX,
        KeyConditionExpression="due_shard = :shard AND due_at <= :now",
        ExpressionAttributeValues={":shard": {"S": shard}, ":now": {"S": now}},
    )
    return [item["item_key"]["S"] for item in response["Items"]]


def mini_table(billing_mode: str, index_extras: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "BillingMode": billing_mode,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "gk", "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "ByGk",
                "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                **index_extras,
            }
        ],
    }
    if billing_mode == "PROVISIONED":
        properties["ProvisionedThroughput"] = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
    return {"Resources": {"Things": {"Type": "AWS::DynamoDB::Table", "Properties": properties}}}


# ----------------------------------------------------------------------------------------- tables and indexes


def test_provision_creates_exactly_the_tables_the_template_declares_with_its_keys_and_streams(
    deployment: Deployment,
) -> None:
    # Given the deployed template
    dynamodb = boto3.client("dynamodb")

    # Then there is one table per AWS::DynamoDB::Table, named after the stack and logical id
    tables = logical_ids("AWS::DynamoDB::Table")
    assert sorted(dynamodb.list_tables()["TableNames"]) == sorted(f"{STACK}-{t}" for t in tables)
    for logical_id in tables:
        declared = RESOURCES[logical_id]["Properties"]
        table = dynamodb.describe_table(TableName=deployment.ref(logical_id))["Table"]
        # ...with the template's keys, stream view type and time to live
        assert table["KeySchema"] == declared["KeySchema"]
        assert table.get("StreamSpecification", {}).get("StreamViewType") == declared.get(
            "StreamSpecification", {}
        ).get("StreamViewType")
        ttl = dynamodb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
        assert ttl.get("AttributeName") == declared.get("TimeToLiveSpecification", {}).get("AttributeName")


def test_the_ledger_has_its_indexes_as_declared(deployment: Deployment) -> None:
    # Given the ledger table
    dynamodb = boto3.client("dynamodb")
    table = deployment.ref("NoticeLedgerTable")
    indexes = dynamodb.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]
    by_name = {index["IndexName"]: index for index in indexes}
    assert sorted(by_name) == ["CustomerNoticesIndex", "SmsMessageIndex", "ToldIndex", "UnresolvedIndex"]
    index = by_name["ToldIndex"]

    # Then ToldIndex is there with its keys and projection
    assert index["KeySchema"] == [
        {"AttributeName": "told_key", "KeyType": "HASH"},
        {"AttributeName": "sent_at", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["kind", "asserted"]}

    # ...and it is sparse: only notices told to a customer (with a told_key) are in it
    for notice_id, told_key in (
        ("n1", "bills/c1/2026-11#bill"),
        ("n2", None),
        ("n3", "bills/c1/2026-10#bill"),
    ):
        item = {
            "notice_id": {"S": notice_id},
            "customer_id": {"S": "c1"},
            "sent_at": {"S": "2026-11-24T09:00:00Z"},
        }
        if told_key:
            item["told_key"] = {"S": told_key}
        dynamodb.put_item(TableName=table, Item=item)
    items = dynamodb.query(
        TableName=table,
        IndexName="ToldIndex",
        KeyConditionExpression="told_key = :told",
        ExpressionAttributeValues={":told": {"S": "bills/c1/2026-11#bill"}},
    )["Items"]
    assert [item["notice_id"]["S"] for item in items] == ["n1"]


def test_due_items_table_has_the_due_index_as_declared(deployment: Deployment) -> None:
    # Given the template's DueIndex
    declared = TEMPLATE["Resources"][DUE_ITEMS]["Properties"]
    (declared_index,) = declared["GlobalSecondaryIndexes"]

    # When the table is described
    table = boto3.client("dynamodb").describe_table(TableName=deployment.ref(DUE_ITEMS))["Table"]

    # Then it is keyed on item_key alone, on demand, with the index keyed and projected as declared
    assert table["KeySchema"] == declared["KeySchema"] == [{"AttributeName": "item_key", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == declared_index["IndexName"] == DUE_INDEX
    assert index["KeySchema"] == declared_index["KeySchema"]
    assert index["Projection"] == declared_index["Projection"]
    assert index["Projection"]["ProjectionType"] == "INCLUDE"


def test_due_index_query_returns_only_what_is_due_and_leaves_out_items_without_a_due_time(
    deployment: Deployment,
) -> None:
    # Given items due before and after now in one shard, one due in another shard,
    # and items with no due time (or only half of the index key)
    promise = {"promise": "2026-11-24T08:45:00+00:00", "item_type": "callback"}
    put_due_item(deployment, "callback#due", due_shard="3", due_at="2026-11-24T09:00:00Z", **promise)
    put_due_item(deployment, "ticket#exactly-now", due_shard="3", due_at="2026-11-24T09:05:00Z")
    put_due_item(deployment, "ticket#later", due_shard="3", due_at="2026-11-24T10:00:00Z")
    put_due_item(deployment, "ticket#other-shard", due_shard="4", due_at="2026-11-24T08:00:00Z")
    put_due_item(deployment, "ticket#not-due")
    put_due_item(deployment, "ticket#shard-only", due_shard="3")

    # When the shard is queried for due_at <= now
    due = due_keys(deployment, "3", "2026-11-24T09:05:00Z")

    # Then only what is due in that shard comes back, oldest first
    assert due == ["callback#due", "ticket#exactly-now"]
    # ...and the index holds only items with both due_shard and due_at: it is sparse
    dynamodb = boto3.client("dynamodb")
    indexed = dynamodb.scan(TableName=deployment.ref(DUE_ITEMS), IndexName=DUE_INDEX)["Items"]
    assert sorted(item["item_key"]["S"] for item in indexed) == [
        "callback#due",
        "ticket#exactly-now",
        "ticket#later",
        "ticket#other-shard",
    ]
    # ... with the state the sweep reads of it (projected) and nothing more (item_type is in the key)
    callback = next(i for i in indexed if i["item_key"]["S"] == "callback#due")
    assert callback["promise"] == {"S": "2026-11-24T08:45:00+00:00"}
    assert "item_type" not in callback


def test_removing_the_due_time_takes_an_item_out_of_the_due_index(deployment: Deployment) -> None:
    # Given an item that is due
    put_due_item(deployment, "callback#c-1", due_shard="0", due_at="2026-11-24T09:00:00Z")
    assert due_keys(deployment, "0", "2026-11-24T09:05:00Z") == ["callback#c-1"]

    # When its due time is removed (nothing more is due for it)
    boto3.client("dynamodb").update_item(
        TableName=deployment.ref(DUE_ITEMS),
        Key={"item_key": {"S": "callback#c-1"}},
        UpdateExpression="REMOVE due_shard, due_at",
    )

    # Then no sweep finds it
    assert due_keys(deployment, "0", "2026-11-24T09:05:00Z") == []


@pytest.mark.parametrize(
    ("billing_mode", "index_extras", "message"),
    [
        ("PAY_PER_REQUEST", THROUGHPUT, "should not be specified for index: ByGk"),
        ("PROVISIONED", {}, "ProvisionedThroughput is not specified for index: ByGk"),
    ],
    ids=["on-demand index with throughput", "provisioned index without"],
)
def test_index_throughput_that_dynamodb_would_reject_is_refused(
    billing_mode: str, index_extras: dict[str, Any], message: str
) -> None:
    # Given a GSI whose throughput does not match its table's billing mode (moto itself would accept it)
    # When provisioned / Then it is refused with DynamoDB's reason
    with mock_aws(), pytest.raises(ValueError, match=message):
        provision(mini_table(billing_mode, index_extras), stack_name="mini")


@pytest.mark.parametrize(
    ("billing_mode", "index_extras"),
    [("PAY_PER_REQUEST", {}), ("PROVISIONED", THROUGHPUT)],
    ids=["on demand", "provisioned"],
)
def test_a_cloudformation_only_index_property_is_left_out_of_create_table(
    billing_mode: str, index_extras: dict[str, Any]
) -> None:
    with mock_aws():
        # Given a GSI with ContributorInsightsSpecification, which CreateTable does not take
        extras = index_extras | {"ContributorInsightsSpecification": {"Enabled": True}}

        # When provisioned / Then the table and its index are created
        deployment = provision(mini_table(billing_mode, extras), stack_name="mini")
        table = boto3.client("dynamodb").describe_table(TableName=deployment.ref("Things"))["Table"]
        assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["ByGk"]


# ------------------------------------------------------------------------------------------- queues


def test_provision_creates_exactly_the_queues_the_template_declares(deployment: Deployment) -> None:
    # Given the deployed template
    sqs = boto3.client("sqs")

    # Then there is one queue per AWS::SQS::Queue, reachable through !Ref
    queues = logical_ids("AWS::SQS::Queue")
    assert sorted(sqs.list_queues()["QueueUrls"]) == sorted(deployment.ref(q) for q in queues)
    for logical_id in queues:
        assert deployment.get_att(logical_id, "QueueName") == f"{STACK}-{logical_id}"
        attributes = sqs.get_queue_attributes(QueueUrl=deployment.ref(logical_id), AttributeNames=["All"])
        declared = RESOURCES[logical_id]["Properties"]
        assert attributes["Attributes"]["MessageRetentionPeriod"] == str(declared["MessageRetentionPeriod"])


def test_notice_queue_redrive_policy_names_the_dead_letter_queue_arn(deployment: Deployment) -> None:
    # Given the deployed template
    # When NoticeQueue's redrive policy is read back from SQS
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=deployment.ref("NoticeQueue"), AttributeNames=["RedrivePolicy"]
    )["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])

    # Then !GetAtt and !Ref were resolved to the DLQ's ARN and the parameter's value
    assert redrive["deadLetterTargetArn"] == deployment.get_att("NoticeDeadLetterQueue", "Arn")
    assert redrive["deadLetterTargetArn"].endswith(f":{STACK}-NoticeDeadLetterQueue")
    assert redrive["maxReceiveCount"] == int(deployment.parameters["NoticeMaxReceiveCount"])


# ------------------------------------------------------------------------------------------- topics


def test_escalation_topic_is_created_with_its_kms_key_and_display_name(deployment: Deployment) -> None:
    # Given the template's escalation topic, encrypted with the AWS-managed SNS key
    declared = TEMPLATE["Resources"][ESCALATIONS]["Properties"]
    assert declared["KmsMasterKeyId"] == "alias/aws/sns"

    # When its attributes are read back from SNS
    attributes = boto3.client("sns").get_topic_attributes(TopicArn=deployment.ref(ESCALATIONS))["Attributes"]

    # Then they are the template's, and !Ref gives the topic's ARN
    assert attributes["KmsMasterKeyId"] == declared["KmsMasterKeyId"]
    assert attributes["DisplayName"] == declared["DisplayName"]
    assert (
        deployment.ref(ESCALATIONS) == f"arn:aws:sns:us-east-1:{deployment.account_id}:{STACK}-{ESCALATIONS}"
    )
    assert "FifoTopic" not in attributes


def test_topic_properties_are_provisioned_as_cloudformation_would() -> None:
    with mock_aws():
        # When topics with false FIFO flags, tags, a subscription and a true FIFO flag are provisioned
        deployment = provision(MINI_TOPICS, stack_name="mini")
        sns = boto3.client("sns")

        # Then "FifoTopic: false" is a standard topic (a publish needs no group id) that keeps its tags
        plain = deployment.ref("Plain")
        assert "FifoTopic" not in sns.get_topic_attributes(TopicArn=plain)["Attributes"]
        assert sns.list_tags_for_resource(ResourceArn=plain)["Tags"] == [{"Key": "team", "Value": "support"}]
        sns.publish(TopicArn=plain, Subject="hello", Message="m")
        # ...its subscription delivers to the queue
        (delivered,) = boto3.client("sqs").receive_message(QueueUrl=deployment.ref("Inbox"))["Messages"]
        assert json.loads(delivered["Body"])["Subject"] == "hello"
        # ...and "FifoTopic: true" is a FIFO topic with the suffix, its group id kept with each message
        ordered = deployment.ref("Ordered")
        assert ordered.endswith(":mini-Ordered.fifo")
        sns.publish(TopicArn=ordered, Message="m", MessageGroupId="g-1")
        assert [m.group_id for m in topic_messages(deployment, "Ordered")] == ["g-1"]


def test_the_feedback_topic_is_encrypted_with_the_template_key(deployment: Deployment) -> None:
    attributes = boto3.client("sns").get_topic_attributes(TopicArn=deployment.ref(FEEDBACK_TOPIC))[
        "Attributes"
    ]
    # SES cannot publish to a topic under the AWS managed key, so the template gives it its own
    assert attributes["KmsMasterKeyId"] == deployment.ref("NotificationsKey")
    key = boto3.client("kms").describe_key(KeyId=attributes["KmsMasterKeyId"])["KeyMetadata"]
    assert key["KeyState"] == "Enabled"


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


# --------------------------------------------------------------------------------- two-way SMS


def test_without_a_two_way_country_there_is_no_number_and_sms_offer_no_answers(
    deployment: Deployment,
) -> None:
    assert deployment.condition("HasTwoWaySmsNumber") is False
    assert "TwoWaySmsNumber" not in deployment.attributes
    assert "TwoWaySmsRole" not in deployment.attributes
    env = deployment.function_env(DELIVERY)
    assert (env["TWO_WAY_SMS"], env["SMS_ORIGINATION_NUMBER"]) == ("false", "")
    # The inbound topic is there anyway: a number set up outside the stack may point at it.
    assert deployment.ref("InboundSmsTopic").startswith("arn:aws:sns:")


def test_a_two_way_country_gets_a_number_whose_channel_publishes_to_the_inbound_topic() -> None:
    with mock_aws():
        # Given the business asks for a US number
        deployment = provision(parameter_overrides={"TwoWaySmsNumberCountry": "US"})

        # Then the number (End User Messaging: not in moto) has an E.164 number, delivery sends from
        # it, and the role its channel publishes with may be assumed by End User Messaging only
        number = deployment.get_att("TwoWaySmsNumber", "PhoneNumber")
        assert re.fullmatch(r"\+1\d{10}", number)
        env = deployment.function_env(DELIVERY)
        assert (env["TWO_WAY_SMS"], env["SMS_ORIGINATION_NUMBER"]) == ("true", number)
        role = boto3.client("iam").get_role(RoleName=deployment.ref("TwoWaySmsRole"))["Role"]
        [trust] = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "sms-voice.amazonaws.com"}
        channel = deployment.resolve(RESOURCES["TwoWaySmsNumber"]["Properties"]["TwoWay"])
        assert channel == {
            "Enabled": True,
            "ChannelArn": deployment.ref("InboundSmsTopic"),
            "ChannelRole": deployment.get_att("TwoWaySmsRole", "Arn"),
        }


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


def test_what_became_of_each_email_is_routed_to_the_feedback_topic(deployment: Deployment) -> None:
    # Given the template's event destination
    name = deployment.ref(CONFIGURATION_SET)
    topic = deployment.ref(FEEDBACK_TOPIC)

    # When the configuration set is described (SES v1, which moto shares with v2)
    described = boto3.client("ses").describe_configuration_set(
        ConfigurationSetName=name, ConfigurationSetAttributeNames=["eventDestinations"]
    )

    # Then deliveries, delays, rejects, rendering failures, bounces and complaints go to the
    # feedback topic (opens and clicks do not), and the deployment records it
    reported = ["delivery", "deliveryDelay", "reject", "renderingFailure", "bounce", "complaint"]
    (destination,) = described["EventDestinations"]
    assert destination["Enabled"] is True
    assert destination["MatchingEventTypes"] == reported
    assert destination["SNSDestination"] == {"TopicARN": topic}
    (recorded,) = deployment.ses_event_destinations.values()
    assert (recorded.configuration_set, recorded.sns_topic_arn) == (name, topic)
    assert recorded.matching_event_types == reported


def test_a_new_deployment_starts_its_functions_cold(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given something a handler built once, at its cold start, for the first deployment
    from headsup.platform.cold_start import once

    builds: list[int] = []
    built = once(lambda: builds.append(len(builds) + 1) or builds[-1])
    assert (built(), built()) == (1, 1)

    # When another deployment is provisioned in the same process (other parameters, say), in another
    # region: the SMS log groups are named after the account and region, so in AWS too a second stack
    # in the same region could not create them
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    provision(parameter_overrides={"RecheckAfterSeconds": "5"}, stack_name="headsup-second")

    # Then its first invocation builds afresh, from the new deployment's settings
    assert built() == 2
