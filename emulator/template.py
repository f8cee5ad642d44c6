"""Load template.yaml, the single source of truth for the stack's resources."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent

# Short-form tags whose long form is "Fn::<Name>". Ref and Condition have no prefix.
_FN_TAGS = (
    "And",
    "Base64",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
)


class CloudFormationLoader(yaml.SafeLoader):
    """A SafeLoader that reads CloudFormation short-form tags (``!Ref``, ``!Sub``...) as their long form.

    A plain SafeLoader refuses the tags, so without this the template cannot be parsed at all.
    """


def _node_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    assert isinstance(node, yaml.MappingNode)
    return loader.construct_mapping(node, deep=True)


def _long_form(key: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        return {key: _node_value(loader, node)}

    return construct


def _get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    value = _node_value(loader, node)
    if isinstance(value, str):
        # Only the first dot separates the resource: nested attributes such as Endpoint.Address keep theirs.
        value = value.split(".", 1)
    return {"Fn::GetAtt": value}


for _name in _FN_TAGS:
    CloudFormationLoader.add_constructor(f"!{_name}", _long_form(f"Fn::{_name}"))
CloudFormationLoader.add_constructor("!Ref", _long_form("Ref"))
CloudFormationLoader.add_constructor("!Condition", _long_form("Condition"))
CloudFormationLoader.add_constructor("!GetAtt", _get_att)


def load_template(path: Path = REPO_ROOT / "template.yaml") -> dict[str, Any]:
    """Parse a CloudFormation/SAM template, intrinsics in their long (JSON) form.

    Each caller gets its own copy to change as it likes (tests edit theirs): parsing is the slow part,
    so it is done once per version of the file.
    """
    status = path.stat()
    return copy.deepcopy(_parsed(path.resolve(), status.st_mtime_ns, status.st_size))


# Keyed on the file's modification time and size as well, so an edited template is parsed again.
@cache
def _parsed(path: Path, _mtime_ns: int, _size: int) -> dict[str, Any]:
    with path.open(encoding="utf-8") as stream:
        template = yaml.load(stream, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(template, dict):
        raise ValueError(f"{path} is not a CloudFormation template (top level is not a mapping)")
    return template
