"""emulator.snapshot: a stack provisioned once and restored, fresh, for every test that needs one."""

import boto3
from moto import mock_aws

from emulator import Deployment, provision, sent_emails
from emulator.snapshot import MotoSnapshot


def table_names(deployment: Deployment) -> list[str]:
    return sorted(boto3.client("dynamodb", region_name=deployment.region).list_tables()["TableNames"])


def use_the_stack(deployment: Deployment) -> None:
    """Leave data everywhere a test could: an item, a queued message, a sent email."""
    dynamodb = boto3.client("dynamodb", region_name=deployment.region)
    dynamodb.put_item(
        TableName=deployment.ref("CustomersTable"),
        Item={"customer_id": {"S": "cust-ana"}, "first_name": {"S": "Ana"}},
    )
    sqs = boto3.client("sqs", region_name=deployment.region)
    sqs.send_message(QueueUrl=deployment.ref("NoticeQueue"), MessageBody="{}")
    ses = boto3.client("sesv2", region_name=deployment.region)
    ses.send_email(
        FromEmailAddress=deployment.resolve({"Ref": "SenderEmail"}),
        Destination={"ToAddresses": ["ana@example.com"]},
        Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}},
    )


def test_a_restored_stack_has_every_resource_and_none_of_the_data() -> None:
    # Given a provisioned stack, snapshotted, then used
    with mock_aws():
        deployment = provision()
        snapshot = MotoSnapshot()
        provisioned_tables = table_names(deployment)
        use_the_stack(deployment)
        assert len(sent_emails()) == 1

    # When it is restored into a new mock, twice over
    for _ in range(2):
        with mock_aws():
            snapshot.restore()

            # Then the same tables (and queue) exist, empty, and nothing has been sent
            assert table_names(deployment) == provisioned_tables
            dynamodb = boto3.client("dynamodb", region_name=deployment.region)
            assert dynamodb.scan(TableName=deployment.ref("CustomersTable"))["Items"] == []
            sqs = boto3.client("sqs", region_name=deployment.region)
            assert "Messages" not in sqs.receive_message(QueueUrl=deployment.ref("NoticeQueue"))
            assert sent_emails() == []
            use_the_stack(deployment)


def test_after_a_restored_stack_a_plain_mock_starts_empty() -> None:
    with mock_aws():
        snapshot_owner = provision()
        snapshot = MotoSnapshot()
    with mock_aws():
        snapshot.restore()
        assert table_names(snapshot_owner)

    # A test with its own mock must not inherit the restored resources.
    with mock_aws():
        assert table_names(snapshot_owner) == []
