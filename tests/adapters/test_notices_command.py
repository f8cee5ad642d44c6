"""`headsup notices` against a deployed stack: the ledger provisioned from template.yaml on moto
(its real key schema and CustomerNoticesIndex), written by the ledger's own adapters, and
CloudFormation's answers to the name lookups stubbed on a real botocore client (moto's
CloudFormation needs packages this project does not install; the stub is checked against the
service model, so the calls and answers have AWS's shapes)."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import NoCredentialsError, NoRegionError
from botocore.stub import Stubber
from headsup.adapters.dynamodb import to_item
from headsup.adapters.ledger import DynamoLedger, Intent, Outcome, Status
from headsup.adapters.receipt_ledger import DynamoFeedbackLedger
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest, make_notice_id
from headsup.domain.receipts import DeliveryState, Receipt
from rich.console import Console

from cli.main import parser
from cli.notices import BAD_ARGUMENTS, FOUND, NONE_FOUND, UNREACHABLE, show_notices
from emulator import Deployment
from tests.unit.builders import notice_request

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
STACK = "headsup-prod"
CREATED = datetime(2026, 6, 1, tzinfo=UTC)


def notice_id(name: str) -> str:
    return make_notice_id(NoticeKind.BILL_INCREASE, name)


class Ledger:
    """Notices written as delivery and the receipt functions write them."""

    def __init__(self, deployment: Deployment) -> None:
        self.table = deployment.ref("NoticeLedgerTable")
        self.ledger = DynamoLedger(self.table, retention=timedelta(days=400))
        self.receipts = DynamoFeedbackLedger(self.table)
        self.client = boto3.client("dynamodb")

    def settle(self, name: str, at: datetime, outcome: Outcome, customer_id: str = "cust-ana") -> str:
        request = notice_request(customer_id=customer_id).model_copy(
            update={"notice_id": notice_id(name), "detected_at": at - timedelta(minutes=3)}
        )
        return self.deliver(request, at, outcome)

    def deliver(self, request: NoticeRequest, at: datetime, outcome: Outcome) -> str:
        claim = self.ledger.claim(request, now=at, lease_until=at + timedelta(seconds=40), intent=Intent.SEND)
        self.ledger.record(claim, outcome, now=at)
        return request.notice_id

    def receipt(self, notice: str, state: DeliveryState, at: datetime, detail: str | None = None) -> Receipt:
        receipt = Receipt(notice, state, at, provider_message_id="m", detail=detail)
        self.receipts.record_receipt(receipt)
        return receipt


def sent(channel: str) -> Outcome:
    return Outcome(Status.SENT, channel=channel, provider_message_id="m", counts_towards_cap=True)


@pytest.fixture
def ledger(deployment: Deployment) -> Ledger:
    boto3.client("dynamodb").put_item(
        TableName=deployment.ref("CustomersTable"),
        Item=to_item({"customer_id": "cust-ana", "first_name": "Ana", "timezone": "America/Los_Angeles"}),
    )
    return Ledger(deployment)


@pytest.fixture
def story(ledger: Ledger) -> dict[str, str]:
    """Ana's day: an email that bounced for good and its SMS fallback that arrived, an SMS held
    for the night, one not sent, and yesterday's delivered email; and one of Jonas's."""
    ids = {"yesterday": ledger.settle("yesterday", NOW - timedelta(days=1), sent("email"))}
    ledger.receipt(ids["yesterday"], DeliveryState.DELIVERED, NOW - timedelta(days=1) + timedelta(minutes=1))
    ids["bounced"] = ledger.settle("bounced", NOW - timedelta(hours=3), sent("email"))
    bounce = ledger.receipt(
        ids["bounced"], DeliveryState.BOUNCED_PERMANENT, NOW - timedelta(hours=3), "no_email"
    )
    second = ledger.receipts.start_fallback(bounce, now=NOW - timedelta(hours=3))
    assert second is not None
    ids["fallback"] = ledger.deliver(second, NOW - timedelta(hours=2, minutes=58), sent("sms"))
    ledger.receipt(ids["fallback"], DeliveryState.DELIVERED, NOW - timedelta(hours=2, minutes=57))
    hold = Outcome(Status.HELD, reason="quiet_hours", channel="sms", hold_until=NOW + timedelta(hours=14))
    ids["held"] = ledger.settle("held", NOW - timedelta(hours=1), hold)
    ids["skipped"] = ledger.settle(
        "skipped", NOW - timedelta(minutes=30), Outcome(Status.SKIPPED, reason="no_channel")
    )
    ids["jonas"] = ledger.settle("jonas", NOW - timedelta(hours=1), sent("sms"), customer_id="cust-jonas")
    return ids


def cloudformation(
    deployment: Deployment, *, stack: str = STACK, exists: bool = True, refused: dict[str, str] | None = None
) -> Stubber:
    """CloudFormation's answers for `stack`, deployed as `deployment`, in the order they are asked;
    `refused` maps a logical id to the error code its lookup gets instead (AWS's codes: a
    resource the stack does not have is a ValidationError)."""
    stub = Stubber(boto3.client("cloudformation", region_name=deployment.region))
    if not exists:
        stub.add_client_error("describe_stacks", "ValidationError", f"Stack with id {stack} does not exist")
        stub.activate()
        return stub
    parameters = [{"ParameterKey": k, "ParameterValue": v} for k, v in deployment.parameters.items()]
    description = {"StackName": stack, "CreationTime": CREATED, "StackStatus": "UPDATE_COMPLETE"}
    stub.add_response(
        "describe_stacks", {"Stacks": [description | {"Parameters": parameters}]}, {"StackName": stack}
    )
    for logical_id in ("NoticeLedgerTable", "CustomersTable"):
        asked = {"StackName": stack, "LogicalResourceId": logical_id}
        code = (refused or {}).get(logical_id)
        if code is not None:
            message = f"Resource {logical_id} does not exist for stack {stack}"
            stub.add_client_error("describe_stack_resource", code, message, expected_params=asked)
            break
        detail = {
            "StackName": stack,
            "LogicalResourceId": logical_id,
            "PhysicalResourceId": deployment.ref(logical_id),
            "ResourceType": "AWS::DynamoDB::Table",
            "LastUpdatedTimestamp": CREATED,
            "ResourceStatus": "CREATE_COMPLETE",
        }
        stub.add_response("describe_stack_resource", {"StackResourceDetail": detail}, asked)
    stub.activate()
    return stub


Run = tuple[int, str, str]


@pytest.fixture
def run(deployment: Deployment, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("COLUMNS", "250")

    def notices(*argv: str, stub: Stubber | None = None) -> Run:
        stub = stub or cloudformation(deployment)
        args = parser().parse_args(["notices", *argv])

        def clients(region: str | None) -> tuple[Any, Any]:
            return stub.client, boto3.client("dynamodb", region_name=region or deployment.region)

        code = show_notices(args, Console(), clients=clients, now=NOW)
        out, err = capsys.readouterr()
        return code, out, err

    return notices


def rows(out: str, ids: dict[str, str]) -> list[str]:
    """The names of the notices in the table, in the order shown (their id ends their row's first line)."""
    names = {value: key for key, value in ids.items()}
    return [
        names[line.split()[-1]] for line in out.splitlines() if line.split() and line.split()[-1] in names
    ]


def test_a_customers_notices_newest_first_with_what_became_of_each(run: Any, story: dict[str, str]) -> None:
    code, out, _ = run("--customer", "cust-ana", "--stack", STACK)

    assert code == FOUND
    assert rows(out, story) == ["skipped", "held", "fallback", "bounced", "yesterday"]  # not Jonas's
    # On Ana's clock: 15:00 UTC is 07:00 in Los Angeles
    assert "when (America/Los_Angeles)" in out
    assert "Times on the customer's clock (America/Los_Angeles)." in out
    lines = out.splitlines()
    bounced = next(i for i, line in enumerate(lines) if line.rstrip().endswith(story["bounced"]))
    assert "detected Tue 24 Nov 06:57" in lines[bounced]
    assert "bounced 07:00 (address does not exist)" in lines[bounced]
    assert "fallback by SMS: sent, delivered 07:03" in lines[bounced]
    assert "second attempt of notice" in out
    assert "held until Wed 25 Nov 00:00 (quiet hours)" in out
    assert "not sent (no way to reach the customer)" in out


def test_since_and_json_give_the_ledger_fields_for_scripts(run: Any, story: dict[str, str]) -> None:
    code, out, _ = run("--customer", "cust-ana", "--stack", STACK, "--since", "4h", "--json")

    assert code == FOUND
    found = json.loads(out)
    assert [n["notice_id"] for n in found] == [story[k] for k in ("skipped", "held", "fallback", "bounced")]
    bounced = found[3]
    assert bounced["delivery_state"] == "bounced:permanent"
    assert bounced["delivery_detail"] == "no_email"
    assert bounced["fallback_notice_id"] == story["fallback"]
    assert bounced["customer_timezone"] == "America/Los_Angeles"
    assert bounced["created_at"] == "2026-11-24T15:00:00Z"
    assert "message" not in bounced

    # An ISO date: from its midnight, UTC
    code, out, _ = run("--customer", "cust-ana", "--stack", STACK, "--since", "2026-11-24", "--json")
    assert len(json.loads(out)) == 4
    code, out, err = run("--customer", "cust-ana", "--stack", STACK, "--since", "10m")
    assert code == NONE_FOUND
    assert "no notices for customer cust-ana since 10m in the ledger" in err


def test_a_notice_with_its_fallback(run: Any, story: dict[str, str]) -> None:
    code, out, _ = run("--notice", story["bounced"], "--stack", STACK)

    assert code == FOUND
    assert rows(out, story) == ["bounced", "fallback"]
    assert "and its fallback" in out
    # Asked for by the fallback's id, it shows the notice it stands in for
    code, out, _ = run("--notice", story["fallback"], "--stack", STACK)
    assert rows(out, story) == ["fallback", "bounced"]


def test_the_stack_is_samconfigs_when_not_named(
    run: Any, story: dict[str, str], deployment: Deployment
) -> None:
    code, out, _ = run("--notice", story["yesterday"], stub=cloudformation(deployment, stack="headsup"))

    assert code == FOUND
    assert "delivered" in out


def test_a_customer_with_more_notices_than_one_batch_read_gets_them_all(run: Any, ledger: Ledger) -> None:
    for n in range(130):
        at = NOW - timedelta(minutes=n)
        item = {
            "notice_id": f"{n:032x}",
            "kind": "bill_increase",
            "customer_id": "cust-busy",
            "status": "sent",
            "channel": "email",
            "detected_at": at.isoformat(),
            "created_at": at.isoformat(),
            "updated_at": at.isoformat(),
        }
        ledger.client.put_item(TableName=ledger.table, Item=to_item(item))

    code, out, _ = run("--customer", "cust-busy", "--stack", STACK, "--json")

    assert code == FOUND
    assert [n["notice_id"] for n in json.loads(out)] == [f"{n:032x}" for n in range(130)]


def test_what_cannot_be_read_is_said_with_its_own_exit_code(
    run: Any, story: dict[str, str], deployment: Deployment
) -> None:
    code, _, err = run(
        "--customer", "cust-ana", "--stack", "nope", stub=cloudformation(deployment, exists=False)
    )
    assert code == UNREACHABLE
    assert "no stack 'nope'" in err

    code, _, err = run(
        "--customer",
        "cust-ana",
        "--stack",
        STACK,
        stub=cloudformation(deployment, refused={"NoticeLedgerTable": "ValidationError"}),
    )
    assert code == UNREACHABLE
    assert f"stack {STACK!r} has no NoticeLedgerTable" in err

    code, _, err = run("--notice", "0" * 32, "--stack", STACK)
    assert code == NONE_FOUND
    assert f"no notice {'0' * 32} in the ledger" in err

    code, _, err = run("--customer", "cust-ana", "--stack", STACK, "--since", "last week")
    assert code == BAD_ARGUMENTS
    assert "give a duration" in err


def test_a_ledger_deleted_outside_cloudformation_is_said(
    run: Any, story: dict[str, str], deployment: Deployment
) -> None:
    boto3.client("dynamodb").delete_table(TableName=deployment.ref("NoticeLedgerTable"))

    code, _, err = run("--customer", "cust-ana", "--stack", STACK)

    assert code == UNREACHABLE
    assert "is gone" in err


def test_times_are_in_utc_when_the_customer_cannot_be_read(
    run: Any, story: dict[str, str], deployment: Deployment
) -> None:
    # Given an operator who may read the ledger but not look up CustomersTable
    stub = cloudformation(deployment, refused={"CustomersTable": "AccessDenied"})

    code, out, _ = run("--notice", story["bounced"], "--stack", STACK, stub=stub)

    # Then the notices still show, on the clock everyone shares, and say so
    assert code == FOUND
    assert "when (UTC)" in out
    assert "Times in UTC: the customer's timezone is not known." in out
    assert "detected Tue 24 Nov 14:57" in out


def test_aws_refusing_or_unreachable_is_said(
    run: Any, deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    stub = Stubber(boto3.client("cloudformation", region_name=deployment.region))
    stub.add_client_error("describe_stacks", "AccessDenied", "User is not authorized", 403)
    stub.activate()

    code, _, err = run("--customer", "cust-ana", "--stack", STACK, stub=stub)
    assert code == UNREACHABLE
    assert f"AWS refused to read stack {STACK!r}'s notices: AccessDenied" in err

    args = parser().parse_args(["notices", "--customer", "cust-ana", "--stack", STACK])
    for error, said in (
        (NoCredentialsError(), "Unable to locate credentials"),
        (NoRegionError(), "--region"),
    ):

        def clients(region: str | None, error: Exception = error) -> tuple[Any, Any]:
            raise error

        assert show_notices(args, Console(), clients=clients) == UNREACHABLE
        assert said in capsys.readouterr().err
