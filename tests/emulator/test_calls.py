"""emulator.calls: the one hook on the functions' AWS calls and invocations, shared by fault injection and
the benchmarks' call counter.

Handlers here are small test doubles, not headsup's: this is about the harness, not the functions.
"""

from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from emulator import Deployment, FunctionTimedOut
from emulator.calls import ApiCall, Proceed, subscribed
from emulator.faults import FaultPlan, injected

DELIVERY = "NoticeDeliveryFunction"


def list_queues(event: dict[str, Any], context: Any) -> list[str]:
    """A handler making one AWS call."""
    return list(boto3.client("sqs").list_queues().get("QueueUrls", []))


def test_a_subscriber_sees_only_the_calls_made_inside_an_invocation_attributed_to_the_function(
    deployment: Deployment,
) -> None:
    # Given a subscriber that records each call it is handed
    seen: list[tuple[str, str, str]] = []

    def record(call: ApiCall, proceed: Proceed) -> Any:
        seen.append((call.function, call.service, call.operation))
        return proceed()

    with subscribed(calls=record):
        # When the test itself makes a call, and then the function makes one
        boto3.client("sqs").list_queues()
        queues = deployment.invoke(DELIVERY, {}, handler=list_queues)

    # Then only the function's call is handed over, attributed to it, and it was really made
    assert seen == [(DELIVERY, "sqs", "ListQueues")]
    assert deployment.ref("NoticeQueue") in queues


def test_fault_injection_and_another_subscriber_share_the_hook_the_latest_outermost(
    deployment: Deployment,
) -> None:
    # Given a counter subscribed first and a fault plan failing the function's call, subscribed inside it
    counted: list[str] = []

    def count(call: ApiCall, proceed: Proceed) -> Any:
        counted.append(call.operation)
        return proceed()

    plan = FaultPlan()
    plan.error("sqs", "ListQueues", "Throttling")
    # When the function makes the call
    with subscribed(calls=count), injected(plan), pytest.raises(ClientError, match="Throttling"):
        deployment.invoke(DELIVERY, {}, handler=list_queues)

    # Then the fault plan saw it first and the error never reached the counter beneath it
    assert [call.fault for call in plan.calls] == ["error"]
    assert counted == []


def test_an_invocation_subscriber_wraps_every_invocation_even_a_killed_one(deployment: Deployment) -> None:
    # Given an invocation subscriber, and a fault plan that kills the function after its call
    invoked: list[tuple[str, str]] = []

    def around(function_logical_id: str, proceed: Proceed) -> Any:
        invoked.append((function_logical_id, "start"))
        try:
            return proceed()
        finally:
            invoked.append((function_logical_id, "end"))

    plan = FaultPlan()
    plan.kill_after("sqs", "ListQueues")
    # When the function is invoked and killed
    with subscribed(invocations=around), injected(plan), pytest.raises(FunctionTimedOut):
        deployment.invoke(DELIVERY, {}, handler=list_queues)

    # Then the subscriber was around the whole invocation
    assert invoked == [(DELIVERY, "start"), (DELIVERY, "end")]


def test_botocore_is_left_as_it_was_once_the_last_subscriber_leaves() -> None:
    original = BaseClient._make_api_call
    with subscribed(calls=lambda call, proceed: proceed()), injected(FaultPlan()):
        assert BaseClient._make_api_call is not original
    assert BaseClient._make_api_call is original
