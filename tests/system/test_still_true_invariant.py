"""Still true when it lands, over simulated busy days: quiet hours, the daily cap, and the business
acting while notices are held (calls made early in the morning, tickets solved overnight, bills
corrected, ETAs moved).

At the moment of every send to a customer (SES SendEmail, SNS Publish to a phone), a watcher on
the emulator's call hook compares what the notice states, as delivery claimed it just before, with
the business's item as it is right then, and its promised times with the clock:

- zero notices whose asserted facts differ from the source at send time;
- zero notices promising a time earlier than their send time.

The same days with the re-check switched off (RecheckAfterSeconds larger than the run) break the
first invariant, so the watcher is shown to see what it is there to see.
"""

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import time_machine
from headsup.adapters.dynamodb import to_item, to_python
from headsup.domain.assertions import SourceTable
from headsup.domain.recheck import observed_facts
from moto import mock_aws

from emulator.calls import ApiCall, Proceed, invoking, subscribed
from sim.pipeline import LocalPipeline, lambda_output_to
from sim.population import BILLS_ARRIVE, busy_days, simulate_days
from tests.stack import ledger_claim

CUSTOMERS, DAYS, SEED = 30, 2, 7
SOURCE_TABLES = {
    SourceTable.BILLS: "BillsTable",
    SourceTable.CALLBACKS: "CallbacksTable",
    SourceTable.TICKETS: "TicketsTable",
    SourceTable.VISITS: "VisitsTable",
}


@dataclass
class SendWatcher:
    """Pairs each send with the claim delivery took just before it (the same invocation makes
    both, one record after another), and checks the claim's facts and promises at that moment."""

    pipeline: LocalPipeline
    claimed: dict[str, Any] | None = None
    sends: int = 0
    checked: int = 0
    untrue: list[str] = field(default_factory=list)
    past_promises: list[str] = field(default_factory=list)

    def __call__(self, call: ApiCall, proceed: Proceed) -> Any:
        claim = ledger_claim(call.params, call.operation)
        if claim is not None:
            values = to_python(claim["ExpressionAttributeValues"])
            self.claimed = values if values[":intent"] == "send" else None
        elif self._is_customer_send(call) and self.claimed is not None:
            self.sends += 1
            self._check(self.claimed, datetime.now(UTC))
            self.claimed = None
        return proceed()

    @staticmethod
    def _is_customer_send(call: ApiCall) -> bool:
        return (call.service, call.operation) == ("sesv2", "SendEmail") or (
            (call.service, call.operation) == ("sns", "Publish") and "PhoneNumber" in call.params
        )

    def _check(self, claim: dict[str, Any], now: datetime) -> None:
        if ":asserted" not in claim:
            return
        self.checked += 1
        subject, facts = claim[":subject"], claim[":asserted"]
        table, *key_values = subject.split("/")
        item = self._read(SourceTable(table), key_values)
        current = observed_facts(SourceTable(table), item) if item is not None else {}
        changed = sorted(name for name, value in facts.items() if current.get(name) != value)
        if changed:
            self.untrue.append(f"{claim[':kind']} about {subject}: {', '.join(changed)}")
        for name, value in claim.get(":promised", {}).items():
            if datetime.fromisoformat(value) <= now:
                self.past_promises.append(f"{claim[':kind']} about {subject}: {name} {value} sent at {now}")

    def _read(self, table: SourceTable, key_values: list[str]) -> dict[str, Any] | None:
        logical_id = SOURCE_TABLES[table]
        key_names = [
            k["AttributeName"]
            for k in self.pipeline.deployment.template["Resources"][logical_id]["Properties"]["KeySchema"]
        ]
        # Read as the emulator, not as the function: the hook passes it straight through.
        token = invoking.set(None)
        try:
            response = boto3.client("dynamodb").get_item(
                TableName=self.pipeline.deployment.ref(logical_id),
                Key=to_item(dict(zip(key_names, key_values, strict=True))),
                ConsistentRead=True,
            )
        finally:
            invoking.reset(token)
        return to_python(response["Item"]) if "Item" in response else None


def watched_days(overrides: dict[str, str] | None = None) -> SendWatcher:
    data = busy_days(customers=CUSTOMERS, seed=SEED, days=DAYS)
    start = datetime.fromisoformat(data[0]["day"]["start"])
    with (
        time_machine.travel(datetime.combine(start.date(), BILLS_ARRIVE, tzinfo=UTC), tick=True),
        mock_aws(),
    ):
        pipeline = LocalPipeline.provision(overrides)
        watcher = SendWatcher(pipeline)
        with lambda_output_to(io.StringIO(), pipeline.deployment), subscribed(calls=watcher):
            simulate_days(pipeline, data)
    return watcher


@pytest.fixture(scope="module")
def with_recheck() -> SendWatcher:
    return watched_days()


def test_no_notice_states_a_fact_the_source_no_longer_holds_when_it_is_sent(
    with_recheck: SendWatcher,
) -> None:
    assert with_recheck.checked > 50  # the watcher saw the days' sends
    assert with_recheck.untrue == []


def test_no_notice_promises_a_time_already_past_when_it_is_sent(with_recheck: SendWatcher) -> None:
    assert with_recheck.past_promises == []


def test_without_the_recheck_the_same_days_send_untrue_notices() -> None:
    # The re-check only applies to notices detected longer ago than this: none, in two days
    watcher = watched_days({"RecheckAfterSeconds": str(10 * 24 * 3600)})
    assert watcher.checked > 50
    assert watcher.untrue != []
