"""PreferencesTable on moto: every change recorded with its time and source (bounded), no write for
a change that changes nothing, saves that survive a concurrent one-click, and items written before
the preference page read as they always did."""

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from headsup.adapters.customers import CustomerPlace, DynamoCustomerPlaces
from headsup.adapters.dynamodb import BatchReads
from headsup.adapters.preferences import ConcurrentChange, DynamoPreferenceStore
from headsup.domain.channels import Channel
from headsup.domain.kinds import Topic
from headsup.domain.preferences import MAX_CHANGES, TOPICS, Choices, Pause, Preferences

from emulator import Deployment
from sim.pipeline import to_dynamodb

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def store(deployment: Deployment) -> DynamoPreferenceStore:
    return DynamoPreferenceStore(deployment.ref("PreferencesTable"))


def item(deployment: Deployment, customer_id: str = "cust-1") -> dict[str, Any]:
    found = boto3.client("dynamodb").get_item(
        TableName=deployment.ref("PreferencesTable"), Key={"customer_id": {"S": customer_id}}
    )
    return found.get("Item", {})  # type: ignore[return-value]


def history(deployment: Deployment) -> list[tuple[str, str, list[str]]]:
    return [
        (entry["M"]["at"]["S"], entry["M"]["source"]["S"], [w["S"] for w in entry["M"]["what"]["L"]])
        for entry in item(deployment).get("changes", {}).get("L", [])
    ]


def billing_off_by_sms(preferences: Preferences) -> Preferences:
    every_box = {(t, c) for t in TOPICS for c in Channel}
    return preferences.choosing(
        Choices(frozenset(every_box - {(Topic.BILLING, Channel.SMS)}), "es", Pause.DAY), NOW
    )


def test_a_one_click_opt_out_is_recorded_with_when_and_where_and_a_repeat_writes_nothing(
    deployment: Deployment,
) -> None:
    preferences = store(deployment)

    preferences.opt_out_topic("cust-1", "billing", source="one_click", now=NOW)
    preferences.opt_out_topic("cust-1", "billing", source="unsubscribe_page", now=NOW + timedelta(hours=1))

    stored = item(deployment)
    assert stored["opted_out_topics"] == {"SS": ["billing"]}
    assert stored["last_change"] == {"S": "one_click"}
    assert stored["updated_at"] == {"S": NOW.isoformat()}
    assert stored["revision"] == {"N": "1"}
    assert history(deployment) == [(NOW.isoformat(), "one_click", ["billing: off"])]


def test_a_suppressed_address_is_recorded_by_its_reason_never_the_address(deployment: Deployment) -> None:
    preferences = store(deployment)

    preferences.suppress_email("cust-1", "ana@example.com", reason="bounce:Permanent", now=NOW)
    preferences.suppress_email("cust-1", "ana@example.com", reason="bounce:Permanent", now=NOW)  # replayed
    preferences.suppress_email("cust-1", "ana@example.com", reason="complaint", now=NOW + timedelta(days=1))

    assert item(deployment)["suppressed_email"] == {"S": "ana@example.com"}
    assert item(deployment)["suppressed_reason"] == {"S": "complaint"}
    entries = history(deployment)
    assert [(source, what) for _, source, what in entries] == [
        ("bounce", ["email suppressed (bounce:Permanent)"]),
        ("complaint", ["email suppressed (complaint)"]),
    ]
    assert "ana@example.com" not in str(item(deployment)["changes"])


def test_a_save_writes_the_choices_and_what_changed_and_the_same_save_writes_nothing(
    deployment: Deployment,
) -> None:
    preferences = store(deployment)

    first = preferences.change("cust-1", billing_off_by_sms, source="preference_page", now=NOW)
    second = preferences.change("cust-1", billing_off_by_sms, source="preference_page", now=NOW)

    assert first.what == ("billing by sms: off", "paused until 2026-11-25T12:00:00+00:00", "language: es")
    assert second.what == ()
    stored = item(deployment)
    assert stored["opted_out_topic_channels"] == {"SS": ["billing:sms"]}
    assert stored["language"] == {"S": "es"}
    assert stored["paused_until"] == {"S": "2026-11-25T12:00:00+00:00"}
    assert "opted_out_topics" not in stored  # DynamoDB keeps no empty set
    assert stored["revision"] == {"N": "1"}
    assert history(deployment) == [(NOW.isoformat(), "preference_page", list(first.what))]
    assert preferences.get("cust-1") == first.preferences


def test_a_save_that_empties_a_set_removes_it(deployment: Deployment) -> None:
    preferences = store(deployment)
    preferences.opt_out_topic("cust-1", "visits", source="one_click", now=NOW)

    preferences.change("cust-1", billing_off_by_sms, source="preference_page", now=NOW)

    assert "opted_out_topics" not in item(deployment)
    assert preferences.get("cust-1").receives("visits", "email")


def test_the_history_keeps_only_the_newest_entries(deployment: Deployment) -> None:
    preferences = store(deployment)
    topics = ["billing", "visits"]

    # Sixty changes, each a real one: alternately out of a topic, then every box back on
    for n in range(MAX_CHANGES + 10):
        at = NOW + timedelta(minutes=n)
        if n % 2 == 0:
            preferences.opt_out_topic("cust-1", topics[n // 2 % 2], source="one_click", now=at)
        else:
            preferences.change(
                "cust-1",
                lambda p, at=at: p.choosing(
                    Choices(frozenset((t, c) for t in TOPICS for c in Channel), None, Pause.NONE), at
                ),
                source="preference_page",
                now=at,
            )

    entries = history(deployment)
    assert len(entries) == MAX_CHANGES
    assert entries[0][0] == (NOW + timedelta(minutes=10)).isoformat()
    assert entries[-1][0] == (NOW + timedelta(minutes=MAX_CHANGES + 9)).isoformat()


def test_a_save_re_applies_the_choices_over_a_one_click_that_landed_meanwhile(deployment: Deployment) -> None:
    preferences = store(deployment)
    edits: list[Preferences] = []

    def edit(current: Preferences) -> Preferences:
        edits.append(current)
        if len(edits) == 1:  # between the save's read and its write, the customer's mail app unsubscribes
            store(deployment).opt_out_topic("cust-1", "tickets", source="one_click", now=NOW)
        return current.choosing(
            Choices(
                frozenset((t, c) for t in TOPICS for c in Channel) - {(Topic.VISITS, Channel.EMAIL)},
                None,
                Pause.NONE,
            ),
            NOW,
        )

    saved = preferences.change("cust-1", edit, source="preference_page", now=NOW)

    # The first write was refused; the second was made on what the one-click left
    assert len(edits) == 2
    assert edits[1].opted_out_topics == {"tickets"}
    assert saved.preferences.receives("tickets", "email")  # the page's choice, made after
    assert [source for _, source, _ in history(deployment)] == ["one_click", "preference_page"]
    assert item(deployment)["revision"] == {"N": "2"}


def test_a_save_that_keeps_being_overtaken_gives_up_having_written_nothing_of_its_own(
    deployment: Deployment,
) -> None:
    preferences = store(deployment)
    topics = iter(["billing", "callbacks", "tickets", "visits"])

    def edit(current: Preferences) -> Preferences:
        store(deployment).opt_out_topic("cust-1", next(topics), source="one_click", now=NOW)
        return billing_off_by_sms(current)

    with pytest.raises(ConcurrentChange):
        preferences.change("cust-1", edit, source="preference_page", now=NOW)

    assert "language" not in item(deployment)
    assert {source for _, source, _ in history(deployment)} == {"one_click"}


def test_an_item_from_before_the_preference_page_reads_as_it_always_did(deployment: Deployment) -> None:
    boto3.client("dynamodb").put_item(
        TableName=deployment.ref("PreferencesTable"),
        Item=to_dynamodb(
            {
                "customer_id": "cust-1",
                "opted_out_topics": {"billing"},
                "opted_out_channels": {"sms"},
                "updated_at": "2026-01-01T00:00:00+00:00",
                "last_change": "unsubscribe_page",
            }
        ),
    )

    assert store(deployment).get("cust-1") == Preferences(
        "cust-1", opted_out_topics=frozenset({"billing"}), opted_out_channels=frozenset({"sms"})
    )
    # ... and the first save on it needs no revision to be there
    saved = store(deployment).change("cust-1", billing_off_by_sms, source="preference_page", now=NOW)
    assert saved.preferences.opted_out_topics == frozenset()
    assert item(deployment)["revision"] == {"N": "1"}


def test_attributes_written_by_hand_that_cannot_be_read_are_ignored(deployment: Deployment) -> None:
    boto3.client("dynamodb").put_item(
        TableName=deployment.ref("PreferencesTable"),
        Item=to_dynamodb(
            {
                "customer_id": "cust-1",
                "opted_out_topics": "billing",
                "paused_until": "next week",
                "language": 7,
            }
        ),
    )

    assert store(deployment).get("cust-1") == Preferences("cust-1")


def test_a_batch_prefetch_reads_the_new_attributes(deployment: Deployment) -> None:
    store(deployment).change("cust-1", billing_off_by_sms, source="preference_page", now=NOW)
    batch = DynamoPreferenceStore(deployment.ref("PreferencesTable"), reads=BatchReads())

    batch.prefetch(["cust-1", "cust-2"])
    first = batch.get("cust-1")  # the batch's one read, for both customers
    boto3.client("dynamodb").delete_item(
        TableName=deployment.ref("PreferencesTable"), Key={"customer_id": {"S": "cust-1"}}
    )

    served = batch.get("cust-1")  # as read at the start of the batch
    assert served == first
    assert served.opted_out_topic_channels == {"billing:sms"}
    assert served.language == "es"
    assert served.paused_until == datetime(2026, 11, 25, 12, tzinfo=UTC)
    assert batch.get("cust-2") == Preferences("cust-2")


def test_the_customers_place_is_read_without_anything_else(deployment: Deployment) -> None:
    boto3.client("dynamodb").put_item(
        TableName=deployment.ref("CustomersTable"),
        Item=to_dynamodb(
            {
                "customer_id": "cust-1",
                "first_name": "Ana",
                "email": "ana@example.com",
                "locale": "es-MX",
                "timezone": "America/Mexico_City",
            }
        ),
    )
    places = DynamoCustomerPlaces(deployment.ref("CustomersTable"))

    assert places.get("cust-1") == CustomerPlace("es-MX", "America/Mexico_City")
    assert places.get("nobody") is None


def test_an_unreadable_customers_table_gives_no_place_rather_than_no_page(deployment: Deployment) -> None:
    places = DynamoCustomerPlaces("no-such-table")

    assert places.get("cust-1") is None
