"""Fault injection around the real (moto) AWS calls the functions make.

`injected(plan)` subscribes to the emulator's call hook (`emulator.calls`), which hands it each
call made *inside a function invocation* (the emulator's own calls are left alone); the first
matching rule decides what happens instead of, or around, the real call:

- `error`: the call fails with an AWS error (Throttling, MessageRejected,
  ConditionalCheckFailedException...) and never reaches moto;
- `no_answer_after`: the call reaches moto (the provider accepts it) and then the answer is
  lost: a read timeout, as when the network drops after the request went out;
- `kill_after`: the call reaches moto, then Lambda ends the invocation (a timeout) before the
  function hears back; none of its except blocks run;
- `twice`: the call is made twice (SQS delivering a message twice);
- `fail_entries`: a batch call (SendMessageBatch) goes through without the entries `entry`
  picks, which come back in its `Failed` list with the rule's error code, as SQS answers when it
  fails part of a batch.

Rules are seeded and counted, so a faulty run is reproducible and a test can assert how many
faults it really injected. Each rule draws from its own generator (seeded by the plan's seed and the
rule's place in it): how many faults a rule injects depends only on how many calls it matched, not on
how calls of other rules interleave with them (the sweep's shards run in threads, in no set order).
"""

import random
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import ClientError, ReadTimeoutError

from emulator.calls import ApiCall, Proceed, subscribed
from emulator.deployment import InvocationKilled

Action = Literal["error", "no_answer_after", "kill_after", "twice", "fail_entries"]
Params = Mapping[str, Any]


@dataclass
class Rule:
    service: str  # botocore service name: sesv2, sns, sqs, dynamodb
    operation: str  # API operation: SendEmail, Publish, UpdateItem...
    action: Action
    error_code: str = ""
    message: str = ""
    when: Callable[[Params], bool] = lambda _params: True
    probability: float = 1.0
    times: int | None = None  # at most this many injections; None for no limit
    function: str | None = None  # only inside this function's invocations
    entry: Callable[[Params], bool] = lambda _entry: True  # for fail_entries: which entries fail
    injected: int = 0
    seen: int = 0  # matching calls, injected or not
    draws: random.Random = field(default_factory=random.Random, repr=False)  # set by FaultPlan.add

    def matches(self, service: str, operation: str, params: Params, function: str) -> bool:
        return (
            (self.service, self.operation) == (service, operation)
            and (self.function is None or self.function == function)
            and (self.times is None or self.injected < self.times)
            and self.when(params)
        )


@dataclass(frozen=True)
class Call:
    function: str
    service: str
    operation: str
    params: Params
    fault: Action | None


@dataclass
class FaultPlan:
    seed: int = 0
    rules: list[Rule] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)  # every call made inside an invocation
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def add(self, rule: Rule) -> Rule:
        rule.draws = random.Random(f"{self.seed}/{len(self.rules)}")  # noqa: S311 - reproducible faults
        self.rules.append(rule)
        return rule

    def error(self, service: str, operation: str, code: str, message: str = "", **options: Any) -> Rule:
        return self.add(Rule(service, operation, "error", error_code=code, message=message, **options))

    def no_answer_after(self, service: str, operation: str, **options: Any) -> Rule:
        return self.add(Rule(service, operation, "no_answer_after", **options))

    def kill_after(self, service: str, operation: str, **options: Any) -> Rule:
        return self.add(Rule(service, operation, "kill_after", **options))

    def twice(self, service: str, operation: str, **options: Any) -> Rule:
        return self.add(Rule(service, operation, "twice", **options))

    def fail_entries(self, service: str, operation: str, code: str = "InternalError", **options: Any) -> Rule:
        """Fail the entries `entry=` picks of matching batch calls (`when=` picks the calls)."""
        return self.add(Rule(service, operation, "fail_entries", error_code=code, **options))

    def pick(self, service: str, operation: str, params: Params, function: str) -> Rule | None:
        with self._lock:  # the sweep's workers call from threads
            for rule in self.rules:
                if rule.matches(service, operation, params, function):
                    rule.seen += 1
                    if rule.draws.random() < rule.probability:
                        rule.injected += 1
                        return rule
        return None


def _client_error(rule: Rule, operation: str) -> ClientError:
    status = 400 if rule.error_code != "InternalFailure" else 500
    return ClientError(
        {
            "Error": {"Code": rule.error_code, "Message": rule.message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


@contextmanager
def injected(plan: FaultPlan) -> Iterator[FaultPlan]:
    """Apply ``plan`` to the AWS calls the functions make meanwhile (see `emulator.calls`)."""
    with subscribed(calls=lambda call, proceed: _apply(plan, call, proceed)):
        yield plan


def _apply(plan: FaultPlan, call: ApiCall, proceed: Proceed) -> Any:
    rule = plan.pick(call.service, call.operation, call.params, call.function)
    fault = rule.action if rule else None
    plan.calls.append(Call(call.function, call.service, call.operation, call.params, fault))
    if rule is None:
        return proceed()
    if rule.action == "error":
        raise _client_error(rule, call.operation)
    if rule.action == "fail_entries":
        return _without_entries(rule, call, proceed)
    proceed()  # the provider has it now, whatever happens next
    if rule.action == "no_answer_after":
        raise ReadTimeoutError(endpoint_url=call.client.meta.endpoint_url)
    if rule.action == "kill_after":
        raise InvocationKilled(f"{call.function} killed after {call.operation} was accepted")
    return proceed()  # twice


def _without_entries(rule: Rule, call: ApiCall, proceed: Proceed) -> Any:
    """Make the batch call without the entries the rule fails; answer them in `Failed`."""
    entries = call.params["Entries"]
    failed = [entry for entry in entries if rule.entry(entry)]
    kept = [entry for entry in entries if not rule.entry(entry)]
    call.params["Entries"] = kept  # the dict the call is made with
    try:
        response = proceed() if kept else {"Successful": [], "Failed": []}
    finally:
        call.params["Entries"] = entries  # as recorded: what the function asked for
    response.setdefault("Failed", [])
    response["Failed"] += [
        {"Id": entry["Id"], "SenderFault": False, "Code": rule.error_code, "Message": rule.message}
        for entry in failed
    ]
    return response
