"""The template as deployed: its parameter values, every resource's physical attributes, the
intrinsics resolved against them, and its functions run in-process as Lambda would run them."""

from __future__ import annotations

import importlib
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from moto.core.models import DEFAULT_ACCOUNT_ID

from emulator import calls, intrinsics
from emulator.cfn import PARTITION, cfn_string
from emulator.template import REPO_ROOT

LambdaHandler = Callable[[dict[str, Any], Any], Any]

OPT: Final = "/opt"


class InvocationKilled(BaseException):
    """Raised inside a handler to stand for Lambda ending the invocation (a timeout, running out of
    memory): unlike an exception, none of the handler's except or finally blocks run on."""


class FunctionTimedOut(Exception):
    """What the event source sees of a killed invocation: a function error for the whole batch."""


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
        return intrinsics.resolve(self, value)

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
        env = {name: cfn_string(value) for name, value in self.resolve(variables).items()}
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
        """Call the function's handler with ``event`` as Lambda would; ``handler`` replaces the template's.

        The function runs with its template environment, and the process's is put back afterwards:
        handlers read their settings once, at cold start, so nothing after the call needs it, and one
        function's settings must not leak into another's or into the caller's.
        """
        return calls.invocation(
            function_logical_id, lambda: self._invoke(function_logical_id, event, handler)
        )

    def _invoke(self, function_logical_id: str, event: dict[str, Any], handler: LambdaHandler | None) -> Any:
        with _environment(self.function_env(function_logical_id)):
            target = handler if handler is not None else self.handler(function_logical_id)
            with calls.invoking_function(function_logical_id):
                try:
                    return target(event, self.lambda_context(function_logical_id))
                except InvocationKilled as killed:
                    raise FunctionTimedOut(f"{function_logical_id} was killed mid-invocation") from killed

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


@contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Set ``variables`` in os.environ meanwhile, then put the environment back exactly as it was."""
    saved = dict(os.environ)
    os.environ.update(variables)
    try:
        yield
    finally:
        # The handler may have changed more than its own variables: every difference is undone.
        for name in set(os.environ) - set(saved):
            del os.environ[name]
        for name, value in saved.items():
            if os.environ.get(name) != value:
                os.environ[name] = value


# ------------------------------------------------------------------------------------------- parameters


def parameter_values(template: dict[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    """Each declared parameter's value (the override, else its Default), checked as CloudFormation does."""
    declared: dict[str, dict[str, Any]] = template.get("Parameters", {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise ValueError(f"Unknown parameter(s) {unknown}; the template declares {sorted(declared)}")
    values = {}
    for name, spec in declared.items():
        if name in overrides:
            value = str(overrides[name])
        elif "Default" in spec:
            value = cfn_string(spec["Default"])
        else:
            raise ValueError(f"Parameter {name} has no Default: pass it in parameter_overrides")
        _check_parameter(name, spec, value)
        values[name] = value
    return values


def _check_parameter(name: str, spec: Mapping[str, Any], value: str) -> None:
    """CloudFormation's checks on a parameter value, so a bad override fails here as on deploy."""
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [cfn_string(item) for item in allowed]:
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
