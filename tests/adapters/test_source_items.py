"""Reading the business's items a batch of notices makes claims about (DynamoSourceReader): one
BatchGetItem for the batch whatever their tables, against moto with the tables from template.yaml.

AWS calls are counted on the reader's own client with a botocore event hook, so the test's own
writes are not counted.
"""

from collections import Counter
from decimal import Decimal
from typing import Any

import boto3
import pytest
from headsup.adapters.dynamodb import to_item
from headsup.adapters.source_items import DynamoSourceReader
from headsup.domain.assertions import Assertion, SourceTable
from headsup.platform.observability import metrics

from emulator import Deployment

LOGICAL_IDS = {
    SourceTable.BILLS: "BillsTable",
    SourceTable.CALLBACKS: "CallbacksTable",
    SourceTable.TICKETS: "TicketsTable",
    SourceTable.VISITS: "VisitsTable",
}


class CountedClient:
    """A DynamoDB client whose API calls are recorded: (operation, its parameters)."""

    def __init__(self) -> None:
        self.client = boto3.client("dynamodb")
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.client.meta.events.register("before-parameter-build.dynamodb", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, params))

    def operations(self) -> Counter[str]:
        return Counter(operation for operation, _ in self.calls)


@pytest.fixture
def tables(deployment: Deployment) -> dict[SourceTable, str]:
    return {table: deployment.ref(logical_id) for table, logical_id in LOGICAL_IDS.items()}


@pytest.fixture
def counted(deployment: Deployment) -> CountedClient:
    return CountedClient()  # inside moto's mock, which the deployment started


@pytest.fixture
def reader(tables: dict[SourceTable, str], counted: CountedClient) -> DynamoSourceReader:
    return DynamoSourceReader(tables, client=counted.client)


def put(tables: dict[SourceTable, str], table: SourceTable, item: dict[str, Any]) -> None:
    boto3.client("dynamodb").put_item(TableName=tables[table], Item=to_item(item))


def delete(tables: dict[SourceTable, str], assertion: Assertion) -> None:
    boto3.client("dynamodb").delete_item(TableName=tables[assertion.table], Key=to_item(assertion.key))


def about(table: SourceTable, **key: str) -> Assertion:
    return Assertion(table=table, key=key, facts={})


BILL = about(SourceTable.BILLS, customer_id="cust-1", period="2026-11")
OTHER_BILL = about(SourceTable.BILLS, customer_id="cust-1", period="2026-10")
CALLBACK = about(SourceTable.CALLBACKS, callback_id="cb-1")
TICKET = about(SourceTable.TICKETS, ticket_id="tk-1")
VISIT = about(SourceTable.VISITS, visit_id="v-1")
NO_CALLBACK = about(SourceTable.CALLBACKS, callback_id="cb-none")


@pytest.fixture
def items(tables: dict[SourceTable, str]) -> dict[str, dict[str, Any]]:
    """One item in each table, and a second bill of the same customer, by subject."""
    written: list[tuple[Assertion, dict[str, Any]]] = [
        (BILL, {"customer_id": "cust-1", "period": "2026-11", "amount": Decimal("132.4"), "currency": "USD"}),
        (
            OTHER_BILL,
            {"customer_id": "cust-1", "period": "2026-10", "amount": Decimal(110), "currency": "USD"},
        ),
        (CALLBACK, {"callback_id": "cb-1", "customer_id": "cust-1", "status": "pending"}),
        (TICKET, {"ticket_id": "tk-1", "customer_id": "cust-1", "status": "open"}),
        (VISIT, {"visit_id": "v-1", "customer_id": "cust-1", "status": "en_route"}),
    ]
    for assertion, item in written:
        put(tables, assertion.table, item)
    return {assertion.subject: item for assertion, item in written}


def test_a_batch_over_three_tables_is_read_in_one_batch_get_and_then_served_without_a_call(
    reader: DynamoSourceReader,
    counted: CountedClient,
    tables: dict[SourceTable, str],
    items: dict[str, dict[str, Any]],
) -> None:
    # Given a batch of notices about two bills of one customer (the newer twice), a callback, a
    # ticket and a callback that no longer exists
    batch = [BILL, BILL, OTHER_BILL, CALLBACK, TICKET, NO_CALLBACK]

    # When the batch's items are prefetched
    reader.prefetch(batch)

    # Then one BatchGetItem asked for each item once, across the three tables, consistently
    assert counted.operations() == Counter({"BatchGetItem": 1})
    request = counted.calls[0][1]["RequestItems"]
    assert {table: sorted(map(str, spec["Keys"])) for table, spec in request.items()} == {
        tables[SourceTable.BILLS]: sorted([str(to_item(BILL.key)), str(to_item(OTHER_BILL.key))]),
        tables[SourceTable.CALLBACKS]: sorted([str(to_item(CALLBACK.key)), str(to_item(NO_CALLBACK.key))]),
        tables[SourceTable.TICKETS]: [str(to_item(TICKET.key))],
    }
    assert all(spec["ConsistentRead"] for spec in request.values())

    # When each notice asks for its item, after the business deleted one of them
    delete(tables, CALLBACK)
    counted.calls.clear()
    found = {assertion.subject: reader.get(assertion) for assertion in batch}

    # Then each is served as read for the batch, the missing one as missing, with no call
    assert found == {
        BILL.subject: items[BILL.subject],
        OTHER_BILL.subject: items[OTHER_BILL.subject],
        CALLBACK.subject: items[CALLBACK.subject],
        TICKET.subject: items[TICKET.subject],
        NO_CALLBACK.subject: None,
    }
    assert counted.calls == []


def test_an_item_not_prefetched_is_read_on_its_own(
    reader: DynamoSourceReader, counted: CountedClient, items: dict[str, dict[str, Any]]
) -> None:
    reader.prefetch([BILL, CALLBACK])
    counted.calls.clear()

    # A visit, and the customer's other bill (same table, another key), were not prefetched
    assert reader.get(VISIT) == items[VISIT.subject]
    assert reader.get(OTHER_BILL) == items[OTHER_BILL.subject]
    assert reader.get(about(SourceTable.VISITS, visit_id="v-none")) is None

    assert counted.operations() == Counter({"GetItem": 3})
    assert all(params["ConsistentRead"] for _, params in counted.calls)


def test_the_next_batch_reads_afresh(
    reader: DynamoSourceReader,
    counted: CountedClient,
    tables: dict[SourceTable, str],
    items: dict[str, dict[str, Any]],
) -> None:
    reader.prefetch([BILL, CALLBACK])
    delete(tables, CALLBACK)

    # The next batch's notices need only the ticket; what the last batch read is gone
    reader.prefetch([TICKET])
    counted.calls.clear()

    assert reader.get(CALLBACK) is None
    assert counted.operations() == Counter({"GetItem": 1})


def test_a_batch_with_nothing_to_check_makes_no_call(
    reader: DynamoSourceReader, counted: CountedClient
) -> None:
    reader.prefetch([])

    assert counted.calls == []


def test_more_keys_than_one_batch_get_holds_are_read_in_chunks_and_all_served(
    reader: DynamoSourceReader, counted: CountedClient, tables: dict[SourceTable, str]
) -> None:
    # Given 150 callbacks and 60 tickets that notices are about, and 10 that are gone
    callbacks = [about(SourceTable.CALLBACKS, callback_id=f"cb-{n:03d}") for n in range(150)]
    tickets = [about(SourceTable.TICKETS, ticket_id=f"tk-{n:03d}") for n in range(60)]
    gone = [about(SourceTable.TICKETS, ticket_id=f"tk-gone-{n}") for n in range(10)]
    for assertion in callbacks:
        put(tables, SourceTable.CALLBACKS, {**assertion.key, "status": "pending"})
    for assertion in tickets:
        put(tables, SourceTable.TICKETS, {**assertion.key, "status": "open"})

    # When they are prefetched
    reader.prefetch([*callbacks, *tickets, *gone])

    # Then in requests of at most 100 keys (BatchGetItem's limit), every key asked for once
    assert counted.operations() == Counter({"BatchGetItem": 3})
    sizes = [
        sum(len(spec["Keys"]) for spec in params["RequestItems"].values()) for _, params in counted.calls
    ]
    assert sorted(sizes) == [20, 100, 100]
    # ... and every notice is then served without another call
    counted.calls.clear()
    assert all(reader.get(assertion) == {**assertion.key, "status": "pending"} for assertion in callbacks)
    assert all(reader.get(assertion) == {**assertion.key, "status": "open"} for assertion in tickets)
    assert all(reader.get(assertion) is None for assertion in gone)
    assert counted.calls == []


def test_a_failed_prefetch_leaves_each_notice_to_read_its_own_item(
    tables: dict[SourceTable, str], counted: CountedClient, items: dict[str, dict[str, Any]]
) -> None:
    # Given a reader one of whose tables cannot be read in a batch
    reader = DynamoSourceReader({**tables, SourceTable.VISITS: "no-such-table"}, client=counted.client)
    metrics.clear_metrics()

    # When the batch's prefetch fails
    reader.prefetch([BILL, VISIT])

    # Then it is counted, and the notices about readable tables read their own items
    assert "PrefetchFailures" in metrics.metric_set
    metrics.clear_metrics()
    counted.calls.clear()
    assert reader.get(BILL) == items[BILL.subject]
    assert counted.operations() == Counter({"GetItem": 1})
