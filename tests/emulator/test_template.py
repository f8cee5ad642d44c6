"""emulator.template: template.yaml parsed, its short-form tags in their long form."""

from pathlib import Path
from typing import Any

import pytest

from emulator.template import load_template

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


# ------------------------------------------------------------------------------------------- template


def test_template_yaml_loads_with_intrinsics_in_long_form() -> None:
    # Given template.yaml, whose NoticeQueue redrives with !GetAtt and !Ref
    # When it is loaded
    redrive = RESOURCES["NoticeQueue"]["Properties"]["RedrivePolicy"]

    # Then the short forms are CloudFormation's long forms
    assert redrive == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["NoticeDeadLetterQueue", "Arn"]},
        "maxReceiveCount": {"Ref": "NoticeMaxReceiveCount"},
    }


@pytest.mark.parametrize(
    ("yaml_value", "expected"),
    [
        ("!Ref Name", {"Ref": "Name"}),
        ("!GetAtt Res.Attr", {"Fn::GetAtt": ["Res", "Attr"]}),
        ("!GetAtt Res.Nested.Attr", {"Fn::GetAtt": ["Res", "Nested.Attr"]}),
        ("!GetAtt [Res, Attr]", {"Fn::GetAtt": ["Res", "Attr"]}),
        ("!Sub 'arn:${AWS::Partition}:x'", {"Fn::Sub": "arn:${AWS::Partition}:x"}),
        ("!Sub ['${A}', {A: !Ref B}]", {"Fn::Sub": ["${A}", {"A": {"Ref": "B"}}]}),
        ("!Join [',', [a, b]]", {"Fn::Join": [",", ["a", "b"]]}),
        ("!If [IsProd, 1, !Ref AWS::NoValue]", {"Fn::If": ["IsProd", 1, {"Ref": "AWS::NoValue"}]}),
        ("!Not [!Equals [a, b]]", {"Fn::Not": [{"Fn::Equals": ["a", "b"]}]}),
        (
            "!And [!Condition A, !Or [!Condition B]]",
            {"Fn::And": [{"Condition": "A"}, {"Fn::Or": [{"Condition": "B"}]}]},
        ),
        ("!Select [0, !Split [',', 'a,b']]", {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}),
        ("!FindInMap [M, K, V]", {"Fn::FindInMap": ["M", "K", "V"]}),
        ("!ImportValue Shared", {"Fn::ImportValue": "Shared"}),
        ("!GetAZs ''", {"Fn::GetAZs": ""}),
        ("!Base64 text", {"Fn::Base64": "text"}),
    ],
)
def test_every_short_form_tag_loads_as_its_long_form(tmp_path: Path, yaml_value: str, expected: Any) -> None:
    # Given a template using the short form
    path = tmp_path / "template.yaml"
    path.write_text(f"Value: {yaml_value}\n", encoding="utf-8")

    # When it is loaded / Then the value is the long form
    assert load_template(path) == {"Value": expected}


def test_each_load_is_a_copy_of_its_own(tmp_path: Path) -> None:
    # Given a loaded template that its caller changes
    path = tmp_path / "template.yaml"
    path.write_text("Resources: {Queue: {Type: AWS::SQS::Queue}}\n", encoding="utf-8")
    changed = load_template(path)
    changed["Resources"]["Queue"]["Type"] = "changed"

    # When it is loaded again / Then the change is not in the new copy
    assert load_template(path) == {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}


def test_an_edited_template_is_parsed_again(tmp_path: Path) -> None:
    # Given a template already loaded once
    path = tmp_path / "template.yaml"
    path.write_text("Value: !Ref A\n", encoding="utf-8")
    assert load_template(path) == {"Value": {"Ref": "A"}}

    # When the file is edited / Then the next load reads the edit
    path.write_text("Value: !Ref Other\n", encoding="utf-8")
    assert load_template(path) == {"Value": {"Ref": "Other"}}
