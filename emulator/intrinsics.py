"""CloudFormation's intrinsic functions (Ref, Fn::GetAtt, Fn::Sub, Fn::If...), resolved against a stack."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any, Final, Protocol

from emulator.cfn import cfn_string

SUB_VARIABLE: Final = re.compile(r"\$\{([^}]*)\}")
NO_VALUE: Final = object()  # what Ref AWS::NoValue resolves to: the enclosing key or item is dropped


class Stack(Protocol):
    """What the intrinsics need of a deployed template (emulator.deployment.Deployment)."""

    template: dict[str, Any]
    region: str

    def resolve(self, value: Any) -> Any: ...
    def ref(self, logical_id: str) -> str: ...
    def get_att(self, logical_id: str, attribute: str) -> str: ...
    def condition(self, name: str) -> bool: ...


def resolve(stack: Stack, value: Any) -> Any:
    """Resolve every intrinsic function in ``value`` (any nesting), as CloudFormation would."""
    if isinstance(value, list):
        return [item for item in map(stack.resolve, value) if item is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, argument),) = value.items()
        intrinsic = _INTRINSICS.get(key)
        # A resource's own "Condition" key is a name too, but IAM's Condition is a mapping.
        if intrinsic is not None and (key != "Condition" or isinstance(argument, str)):
            return intrinsic(stack, argument)
    resolved = {key: stack.resolve(item) for key, item in value.items()}
    return {key: item for key, item in resolved.items() if item is not NO_VALUE}


def references(value: Any) -> set[str]:
    """Logical ids that ``value`` refers to through Ref, Fn::GetAtt or Fn::Sub."""
    if isinstance(value, list):
        return set().union(*map(references, value))
    if not isinstance(value, dict):
        return set()
    found: set[str] = set()
    for key, argument in value.items():
        if key == "Ref" and isinstance(argument, str):
            found.add(argument)
        elif key == "Fn::GetAtt":
            found.add(argument.split(".")[0] if isinstance(argument, str) else argument[0])
        elif key == "Fn::Sub":
            text = argument if isinstance(argument, str) else argument[0]
            found |= {name.split(".")[0] for name in SUB_VARIABLE.findall(text) if not name.startswith("!")}
            found |= references(argument if isinstance(argument, str) else argument[1])
        else:
            found |= references(argument)
    return found


def is_list_parameter(spec: Any) -> bool:
    kind = str(spec.get("Type", "")) if isinstance(spec, dict) else ""
    return kind == "CommaDelimitedList" or kind.startswith("List<")


def _ref(stack: Stack, name: str) -> Any:
    if name == "AWS::NoValue":
        return NO_VALUE
    value = stack.ref(name)
    # A list parameter (CommaDelimitedList, List<...>) is a list to the intrinsics (Fn::Join, Fn::Select);
    # where a string is wanted, cfn_string joins it back with commas.
    if is_list_parameter(stack.template.get("Parameters", {}).get(name)):
        return value.split(",") if value else []
    return value


def _condition(stack: Stack, name: str) -> bool:
    return stack.condition(name)


def _get_att(stack: Stack, argument: str | list[Any]) -> str:
    logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
    return stack.get_att(logical_id, stack.resolve(attribute))


def _sub(stack: Stack, argument: str | list[Any]) -> str:
    text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
    values = {name: stack.resolve(value) for name, value in variables.items()}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):  # ${!Literal} is the escape for a literal ${Literal}
            return "${" + name[1:] + "}"
        if name in values:
            return cfn_string(values[name])
        if "." in name:
            return stack.get_att(*name.split(".", 1))
        return stack.ref(name)

    return SUB_VARIABLE.sub(substitute, text)


def _join(stack: Stack, argument: list[Any]) -> str:
    delimiter, items = argument
    values = stack.resolve(items)
    if not isinstance(values, list):
        raise ValueError(f"Fn::Join needs a list of values, not {values!r}")
    return str(delimiter).join(cfn_string(item) for item in values)


def _select(stack: Stack, argument: list[Any]) -> Any:
    index, items = argument
    return stack.resolve(items)[int(stack.resolve(index))]


def _split(stack: Stack, argument: list[Any]) -> list[str]:
    delimiter, source = argument
    return str(stack.resolve(source)).split(delimiter)


def _if(stack: Stack, argument: list[Any]) -> Any:
    name, when_true, when_false = argument
    return stack.resolve(when_true if stack.condition(name) else when_false)


def _equals(stack: Stack, argument: list[Any]) -> bool:
    left, right = stack.resolve(argument)
    return cfn_string(left) == cfn_string(right)


def _not(stack: Stack, argument: list[Any]) -> bool:
    return not stack.resolve(argument)[0]


def _and(stack: Stack, argument: list[Any]) -> bool:
    return all(stack.resolve(argument))


def _or(stack: Stack, argument: list[Any]) -> bool:
    return any(stack.resolve(argument))


def _find_in_map(stack: Stack, argument: list[Any]) -> Any:
    map_name, top_key, second_key = stack.resolve(argument)
    return stack.template["Mappings"][map_name][top_key][second_key]


def _base64(stack: Stack, argument: Any) -> str:
    return base64.b64encode(cfn_string(stack.resolve(argument)).encode()).decode()


def _get_azs(stack: Stack, argument: Any) -> list[str]:
    zone_region = stack.resolve(argument) or stack.region
    return [f"{zone_region}{zone}" for zone in "abc"]


def _import_value(stack: Stack, argument: Any) -> Any:
    raise ValueError(f"Fn::ImportValue {argument!r}: no other stack exports anything locally")


_INTRINSICS: Final[dict[str, Callable[[Stack, Any], Any]]] = {
    "Ref": _ref,
    "Condition": _condition,
    "Fn::GetAtt": _get_att,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::Equals": _equals,
    "Fn::Not": _not,
    "Fn::And": _and,
    "Fn::Or": _or,
    "Fn::FindInMap": _find_in_map,
    "Fn::Base64": _base64,
    "Fn::GetAZs": _get_azs,
    "Fn::ImportValue": _import_value,
}
