"""Prefetching a batch's items with BatchGetItem, against moto and a stubbed client."""

from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber
from headsup.adapters.bills import DynamoBillsRepository, month_before
from headsup.adapters.customers import DynamoCustomerDirectory
from headsup.adapters.dynamodb import PrefetchCache, batch_get_items, batch_get_tables
from headsup.adapters.preferences import DynamoPreferenceStore
from headsup.platform.observability import metrics
from moto import mock_aws

from emulator import Deployment, provision
from sim.pipeline import to_dynamodb


@pytest.fixture
def deployment() -> Iterator[Deployment]:
    with mock_aws():
        yield provision()


def put_customers(deployment: Deployment, count: int) -> None:
    client = boto3.client("dynamodb")
    for n in range(count):
        item = {"customer_id": f"c-{n:03d}", "first_name": "Ana", "email": f"c{n}@example.com"}
        client.put_item(TableName=deployment.ref("CustomersTable"), Item=to_dynamodb(item))


def test_batch_get_reads_more_than_a_request_holds_and_leaves_out_missing_ids(deployment: Deployment) -> None:
    put_customers(deployment, 230)
    wanted = [f"c-{n:03d}" for n in range(230)] + ["nobody"]

    keys = [{"customer_id": {"S": i}} for i in wanted]
    items = batch_get_items(boto3.client("dynamodb"), deployment.ref("CustomersTable"), keys)
    found = {item["customer_id"]["S"]: item for item in items}

    assert sorted(found) == wanted[:-1]
    assert found["c-007"]["email"] == {"S": "c7@example.com"}


def test_unprocessed_keys_are_asked_for_again() -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    stub = Stubber(client)
    first, second = {"customer_id": {"S": "a"}}, {"customer_id": {"S": "b"}}
    stub.add_response(
        "batch_get_item",
        {"Responses": {"T": [first]}, "UnprocessedKeys": {"T": {"Keys": [second]}}},
        {"RequestItems": {"T": {"Keys": [first, second], "ConsistentRead": True}}},
    )
    stub.add_response(
        "batch_get_item",
        {"Responses": {"T": [second]}},
        {"RequestItems": {"T": {"Keys": [second], "ConsistentRead": True}}},
    )
    with stub:
        items = batch_get_items(client, "T", [first, second])
    assert {item["customer_id"]["S"] for item in items} == {"a", "b"}
    stub.assert_no_pending_responses()


def test_unprocessed_keys_across_two_tables_are_asked_for_again_in_one_request() -> None:
    # Given a read of two keys in each of two tables, of which DynamoDB throttles one in each
    client = boto3.client("dynamodb", region_name="us-east-1")
    stub = Stubber(client)
    a1, a2 = {"callback_id": {"S": "a1"}}, {"callback_id": {"S": "a2"}}
    b1, b2 = {"ticket_id": {"S": "b1"}}, {"ticket_id": {"S": "b2"}}
    stub.add_response(
        "batch_get_item",
        {
            "Responses": {"A": [a1], "B": [b2]},
            "UnprocessedKeys": {
                "A": {"Keys": [a2], "ConsistentRead": True},
                "B": {"Keys": [b1], "ConsistentRead": True},
            },
        },
        {
            "RequestItems": {
                "A": {"Keys": [a1, a2], "ConsistentRead": True},
                "B": {"Keys": [b1, b2], "ConsistentRead": True},
            }
        },
    )
    # Then the unprocessed keys of both tables are asked for again, together, still consistently
    stub.add_response(
        "batch_get_item",
        {"Responses": {"A": [a2], "B": [b1]}},
        {
            "RequestItems": {
                "A": {"Keys": [a2], "ConsistentRead": True},
                "B": {"Keys": [b1], "ConsistentRead": True},
            }
        },
    )

    with stub:
        found = batch_get_tables(client, {"A": [a1, a2], "B": [b1, b2]})

    # ... and every item is returned under its table
    assert {table: sorted(str(item) for item in items) for table, items in found.items()} == {
        "A": sorted([str(a1), str(a2)]),
        "B": sorted([str(b1), str(b2)]),
    }
    stub.assert_no_pending_responses()


def test_keys_left_unprocessed_round_after_round_fail_the_read_naming_the_tables() -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    stub = Stubber(client)
    key = {"callback_id": {"S": "a1"}}
    for _ in range(5):
        stub.add_response("batch_get_item", {"Responses": {}, "UnprocessedKeys": {"A": {"Keys": [key]}}})

    with stub, pytest.raises(RuntimeError, match=r"\['A'\] left 1 keys unprocessed"):
        batch_get_tables(client, {"A": [key]})
    stub.assert_no_pending_responses()


def test_a_failed_prefetch_leaves_each_record_to_read_its_own() -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_client_error("batch_get_item", service_error_code="ProvisionedThroughputExceededException")
    cache = PrefetchCache("customer_id")
    metrics.clear_metrics()
    with stub:
        cache.fill(client, "T", [("a",)])
    assert cache.lookup("a") == (False, None)
    assert "PrefetchFailures" in metrics.metric_set  # counted, so a silent fallback shows up
    metrics.clear_metrics()


def test_prefetched_customers_are_served_for_that_batch_only(deployment: Deployment) -> None:
    put_customers(deployment, 2)
    directory = DynamoCustomerDirectory(
        deployment.ref("CustomersTable"), default_locale="en-US", default_timezone="UTC"
    )
    directory.prefetch(["c-000", "nobody"])
    boto3.client("dynamodb").delete_item(
        TableName=deployment.ref("CustomersTable"), Key={"customer_id": {"S": "c-000"}}
    )

    # Served as read at the start of the batch; a known miss is not read again; others are read
    customer = directory.get("c-000")
    assert customer is not None
    assert customer.customer_id == "c-000"
    assert directory.get("nobody") is None
    assert directory.get("c-001") is not None
    # The next batch reads afresh
    directory.prefetch(["c-000"])
    assert directory.get("c-000") is None


def test_prefetched_preferences_and_a_write_forgets_what_it_changed(deployment: Deployment) -> None:
    store = DynamoPreferenceStore(deployment.ref("PreferencesTable"))
    store.opt_out_topic("c-000", "billing", source="test", now=datetime(2026, 11, 24, tzinfo=UTC))
    store.prefetch(["c-000", "c-001"])

    assert store.get("c-000").opted_out_topics == {"billing"}
    assert store.get("c-001").opted_out_topics == frozenset()
    store.opt_out_topic("c-001", "visits", source="test", now=datetime(2026, 11, 24, tzinfo=UTC))
    assert store.get("c-001").opted_out_topics == {"visits"}


@pytest.mark.parametrize(
    ("period", "before"),
    [("2026-11", "2026-10"), ("2026-01", "2025-12"), ("2026-13", None), ("26-11", None), (202611, None)],
)
def test_the_month_before_a_period(period: object, before: str | None) -> None:
    assert month_before(period) == before


def test_earlier_bills_are_prefetched_for_a_batch_and_a_gap_is_queried(deployment: Deployment) -> None:
    client = boto3.client("dynamodb")
    table = deployment.ref("BillsTable")
    for customer, period, amount in [("a", "2026-10", 100), ("b", "2026-08", 50), ("b", "2026-09", 60)]:
        item = {"customer_id": customer, "period": period, "amount": amount}
        client.put_item(TableName=table, Item=to_dynamodb(item))
    bills = DynamoBillsRepository(table)

    bills.prefetch([("a", "2026-11"), ("b", "2026-11"), ("a", "bad")])
    client.delete_item(TableName=table, Key={"customer_id": {"S": "a"}, "period": {"S": "2026-10"}})

    # The month before, as read for the batch (the deletion after it is not seen) ...
    earlier = bills.previous_bill("a", "2026-11")
    assert earlier is not None
    assert earlier.period == "2026-10"
    # ... and with no bill the month before, the latest earlier one, queried
    gap = bills.previous_bill("b", "2026-11")
    assert gap is not None
    assert gap.period == "2026-09"
