"""`headsup notices`: what we told one customer, when, by which channel, whether it arrived, and if
not why, and what they answered; one row per notice, for the support desk.

    headsup notices (--customer ID | --notice ID) [--since 7d|24h|2026-11-24] [--json]
                    [--stack NAME] [--region R] | [--local [--record FILE]]

Deployed (the default), it reads the stack's NoticeLedgerTable with the operator's own AWS
credentials: the stack from --stack or samconfig.toml, the table's name from CloudFormation
(never assumed: each deployment names its own), a customer's notices through
CustomerNoticesIndex (keys only, newest first) and then the items themselves. `--local` reads
the last `headsup simulate` run instead. Both give cli.outbox.RunNotice, told in words by
cli.timeline, so the two read the same.

It only reads. What it shows can be personal (a provider's error may quote an address): it goes
to the operator's screen or stdout, never to a log.
"""

import argparse
import json
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botocore.exceptions import BotoCoreError, ClientError, NoRegionError
from headsup.adapters.dynamodb import batch_get_items, to_item, to_python
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.outbox import NoRunRecorded, RunNotice, answered_pairs, kind_label, load_run
from cli.timeline import (
    Clock,
    Step,
    answer_step,
    answered_step,
    channel_words,
    delivery_step,
    fallback_step,
    hold_step,
    outcome_step,
    sent_time,
    team_step,
)
from emulator.template import REPO_ROOT

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Exit codes, grep's way: 1 says the lookup worked and found nothing, so a script can tell that
# from a lookup that could not be made (3).
FOUND, NONE_FOUND, BAD_ARGUMENTS, UNREACHABLE = 0, 1, 2, 3
LEDGER: Final = "NoticeLedgerTable"
CUSTOMERS: Final = "CustomersTable"
INDEX: Final = "CustomerNoticesIndex"
# Where `sam deploy` reads its settings: the folder it runs in, which is the repo's root.
SAMCONFIG: Final = (Path("samconfig.toml"), REPO_ROOT / "samconfig.toml")
_DURATION: Final = re.compile(r"^(\d+)([mhdw])$")
_UNITS: Final = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_TONES: Final = {"ok": "green", "wait": "yellow", "bad": "bold red", "plain": ""}

Since = datetime | timedelta
# (region or None) -> (CloudFormation client, DynamoDB client); tests pass moto's or stubbed ones.
AwsClients = Callable[[str | None], tuple[Any, "DynamoDBClient"]]


class NoticesUnavailable(Exception):
    """Where the notices are could not be read: no such stack, no ledger in it, AWS refused, no
    local run. The message says what to do."""


@dataclass(frozen=True)
class Wanted:
    customer_id: str | None  # exactly one of the two is set
    notice_id: str | None
    since: Since | None = None  # a moment, or how far back from now (from the run's end, locally)
    since_as_given: str | None = None


def parse_since(text: str) -> Since:
    """`7d`, `24h`, `30m`, `2w`, or an ISO date or time (without an offset: UTC)."""
    duration = _DURATION.match(text.strip())
    if duration:
        return timedelta(**{_UNITS[duration[2]]: int(duration[1])})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since {text!r}: give a duration (7d, 24h, 30m) or an ISO date or time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def since_moment(since: Since | None, now: datetime) -> datetime | None:
    return now - since if isinstance(since, timedelta) else since


def deploy_settings(paths: Sequence[Path] = SAMCONFIG) -> dict[str, str]:
    """The `stack_name` and `region` `sam deploy` uses: samconfig.toml's [default.deploy.parameters]
    over its [default.global.parameters], from the first samconfig.toml of `paths` there is."""
    for path in paths:
        if path.is_file():
            try:
                default = tomllib.loads(path.read_text()).get("default", {})
            except tomllib.TOMLDecodeError as exc:
                raise NoticesUnavailable(
                    f"{path} is not valid TOML ({exc}); name the stack with --stack"
                ) from exc
            settings = {
                **default.get("global", {}).get("parameters", {}),
                **default.get("deploy", {}).get("parameters", {}),
            }
            return {key: str(settings[key]) for key in ("stack_name", "region") if key in settings}
    return {}


def aws_clients(region: str | None) -> tuple[Any, "DynamoDBClient"]:
    import boto3

    session = boto3.session.Session(region_name=region)
    return session.client("cloudformation"), session.client("dynamodb")


class DeployedLedger:
    """A deployed stack's notice ledger, found through CloudFormation and read with the operator's
    credentials. Raises NoticesUnavailable when the stack or its ledger is not there, and lets
    botocore's errors through for the caller to explain (read_deployed)."""

    def __init__(self, stack: str, cloudformation: Any, dynamodb: "DynamoDBClient") -> None:
        self.stack = stack
        self._cloudformation = cloudformation
        self._dynamodb = dynamodb
        self._parameters = self._stack_parameters()
        table = self._physical_name(LEDGER)
        if table is None:
            raise NoticesUnavailable(f"stack {stack!r} has no {LEDGER}: is it a headsup stack?")
        self.table = table

    def _stack_parameters(self) -> dict[str, str]:
        try:
            stacks = self._cloudformation.describe_stacks(StackName=self.stack)["Stacks"]
        except ClientError as exc:
            if _code(exc) != "ValidationError":  # CloudFormation's answer for a stack it does not know
                raise
            raise NoticesUnavailable(
                f"no stack {self.stack!r} in this account and region: name it with --stack "
                "(and --region), or read the last simulate run with --local"
            ) from exc
        return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stacks[0].get("Parameters", [])}

    def _physical_name(self, logical_id: str) -> str | None:
        try:
            detail = self._cloudformation.describe_stack_resource(
                StackName=self.stack, LogicalResourceId=logical_id
            )["StackResourceDetail"]
        except ClientError as exc:
            if _code(exc) != "ValidationError":
                raise
            return None
        if detail.get("ResourceStatus") == "DELETE_COMPLETE":
            return None
        return str(detail.get("PhysicalResourceId") or "") or None

    def customer_notices(self, customer_id: str, since: datetime | None) -> list[RunNotice]:
        """The customer's notices first claimed at or after `since`, newest first."""
        condition, values = "customer_id = :customer", {":customer": customer_id}
        if since is not None:
            condition += " AND created_at >= :since"
            values[":since"] = since.astimezone(UTC).isoformat()  # as the ledger writes it
        pages = self._dynamodb.get_paginator("query").paginate(
            TableName=self.table,
            IndexName=INDEX,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=to_item(values),
            ScanIndexForward=False,
        )
        keys = [{"notice_id": item["notice_id"]} for page in pages for item in page.get("Items", [])]
        zone = self.customer_zone(customer_id) if keys else None
        items = batch_get_items(self._dynamodb, self.table, keys)
        return newest_first(RunNotice.from_item(to_python(item), customer_timezone=zone) for item in items)

    def notice(self, notice_id: str) -> list[RunNotice]:
        """The notice, and its fallback or the notice it stands in for when there is one."""
        first = self._get(notice_id)
        if first is None:
            return []
        related = [
            self._get(other) for other in (first.get("fallback_notice_id"), first.get("fallback_of")) if other
        ]
        zone = self.customer_zone(str(first["customer_id"]))
        items = [first, *(item for item in related if item is not None)]
        return [RunNotice.from_item(item, customer_timezone=zone) for item in items]

    def _get(self, notice_id: str) -> dict[str, Any] | None:
        item = self._dynamodb.get_item(TableName=self.table, Key=to_item({"notice_id": notice_id})).get(
            "Item"
        )
        return None if item is None else to_python(item)

    def customer_zone(self, customer_id: str) -> str | None:
        """The customer's timezone as delivery reads it: theirs if it is a known zone, else the
        stack's DefaultTimezone. None when the customer cannot be read (not stored, or this
        operator may not read CustomersTable): times are then shown in UTC. Reads no other field."""
        try:
            table = self._physical_name(CUSTOMERS)
            if table is None:
                return None
            raw = self._dynamodb.get_item(
                TableName=table,
                Key=to_item({"customer_id": customer_id}),
                ProjectionExpression="customer_id, #tz",
                ExpressionAttributeNames={"#tz": "timezone"},  # a reserved word
            ).get("Item")
        except (ClientError, BotoCoreError):
            return None  # the clock is a courtesy: the notices are what was asked for
        if raw is None:
            return None
        candidates = (to_python(raw).get("timezone"), self._parameters.get("DefaultTimezone"))
        return next((str(zone) for zone in candidates if _known_zone(zone)), None)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _known_zone(name: object) -> bool:
    if not isinstance(name, str) or not name:
        return False
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        return False
    return True


def newest_first(notices: Iterable[RunNotice]) -> list[RunNotice]:
    return sorted(notices, key=lambda n: (n.created_at or n.detected_at, n.notice_id), reverse=True)


def read_deployed(
    args: argparse.Namespace, wanted: Wanted, clients: AwsClients, now: datetime
) -> list[RunNotice]:
    # samconfig.toml's region is where `sam deploy` put its stack: used with its stack name only.
    settings = {} if args.stack else deploy_settings()
    stack = args.stack or settings.get("stack_name")
    if not stack:
        raise NoticesUnavailable(
            "which stack? pass --stack NAME (or set stack_name in samconfig.toml); "
            "--local reads the last simulate run"
        )
    try:
        cloudformation, dynamodb = clients(args.region or settings.get("region"))
        ledger = DeployedLedger(stack, cloudformation, dynamodb)
        if wanted.notice_id is not None:
            return ledger.notice(wanted.notice_id)
        return ledger.customer_notices(str(wanted.customer_id), since_moment(wanted.since, now))
    except ClientError as exc:
        if _code(exc) == "ResourceNotFoundException":
            message = f"the {LEDGER} of stack {stack!r} is gone (deleted outside CloudFormation?)"
        else:
            message = f"AWS refused to read stack {stack!r}'s notices: {_code(exc)}"
        raise NoticesUnavailable(message) from exc
    except NoRegionError as exc:
        raise NoticesUnavailable("which region? pass --region (or set AWS_REGION)") from exc
    except BotoCoreError as exc:  # no credentials, no network
        raise NoticesUnavailable(f"could not reach AWS: {exc}") from exc


def read_local(record: Path, wanted: Wanted) -> list[RunNotice]:
    """The notices of the last simulate run that `wanted` asks for; a duration in `since` counts
    back from the end of the run (its clock was the simulation's, not today's)."""
    try:
        run = load_run(record)
    except NoRunRecorded as exc:
        raise NoticesUnavailable(str(exc)) from exc
    by_id = {notice.notice_id: notice for notice in run.notices}
    if wanted.notice_id is not None:
        first = by_id.get(wanted.notice_id)
        if first is None:
            return []
        related = (by_id.get(other or "") for other in (first.fallback_notice_id, first.fallback_of))
        return [first, *(notice for notice in related if notice is not None)]
    since = since_moment(wanted.since, run.end)
    return newest_first(
        notice
        for notice in run.notices
        if notice.customer_id == wanted.customer_id
        and (since is None or (notice.created_at or notice.detected_at) >= since)
    )


def _text(step: Step | None, clock: Clock, day: datetime) -> Text:
    return Text("") if step is None else Text(step.text(clock, day), style=_TONES[step.tone])


@dataclass(frozen=True)
class Related:
    """The notices shown with one: the team's notice its answer made, or the notice answered."""

    team: RunNotice | None = None
    answered: RunNotice | None = None


def notice_cells(
    notice: RunNotice, fallback: RunNotice | None, clock: Clock, related: Related | None = None
) -> list[Text | str]:
    """One table row: when, kind, channel, what delivery did, what the provider said, the fallback,
    what the customer answered (and the team's notice it made, or on that notice, the answer)."""
    day, sent = notice.detected_at, sent_time(notice)
    when = f"detected {clock.day_and_time(day)}" + (f"\nsent {clock.time(sent, day)}" if sent else "")
    outcome = outcome_step(notice)
    if notice.status != "held":
        outcome = replace(outcome, at=None)  # when it was sent is in `when`; when it was not, no matter
    lines = [_text(outcome, clock, day)]
    if notice.status != "held" and notice.hold_until is not None:
        lines.append(_text(hold_step(notice), clock, day))
    return [
        when,
        kind_label(notice.kind),
        channel_words(notice.channel),
        Text("\n").join(lines),
        _text(delivery_step(notice), clock, day),
        _text(fallback_step(notice, fallback), clock, day),
        _answer_cell(notice, related or Related(), clock),
        notice.notice_id,
    ]


def _answer_cell(notice: RunNotice, related: Related, clock: Clock) -> Text:
    steps = [
        answer_step(notice, clock),
        team_step(related.team) if related.team is not None else None,
        answered_step(related.answered, clock) if related.answered is not None else None,
    ]
    day = notice.detected_at
    return Text("\n").join(_text(step, clock, day) for step in steps if step is not None)


def notices_table(notices: Sequence[RunNotice], wanted: Wanted) -> Table:
    zone = next((n.customer_timezone for n in notices if _known_zone(n.customer_timezone)), None)
    clock = Clock(ZoneInfo(zone) if zone else None)
    if wanted.notice_id is not None:
        title = f"notice {wanted.notice_id} (customer {notices[0].customer_id})"
        if len(notices) > 1:
            title += (
                ", and its fallback" if notices[0].fallback_notice_id else ", and the notice it stands in for"
            )
    else:
        title = f"customer {wanted.customer_id}: {len(notices)} notice(s), newest first"
    table = Table(
        title=title,
        caption=f"Times on the customer's clock ({zone})."
        if zone
        else "Times in UTC: the customer's timezone is not known.",
        box=box.SIMPLE_HEAD,
        show_lines=True,
    )
    table.add_column(f"when ({clock.name})", no_wrap=True)
    for column in ("kind", "by", "outcome", "arrived?", "fallback", "answered", "notice"):
        table.add_column(column, overflow="fold")
    by_id = {notice.notice_id: notice for notice in notices}
    pairs = answered_pairs(notices)
    teams = {answered.notice_id: team for answered, team in pairs}
    answers = {team.notice_id: answered for answered, team in pairs}
    for notice in notices:
        related = Related(teams.get(notice.notice_id), answers.get(notice.notice_id))
        table.add_row(*notice_cells(notice, by_id.get(notice.fallback_notice_id or ""), clock, related))
    return table


def as_json(notices: Sequence[RunNotice]) -> list[dict[str, Any]]:
    """The ledger's fields as they are (times ISO 8601, UTC), for scripts; never the message."""
    return [notice.model_dump(mode="json", exclude={"message"}) for notice in notices]


def nothing_found(wanted: Wanted, local: bool) -> str:
    where = "in the last simulate run" if local else "in the ledger"
    if wanted.notice_id is not None:
        return f"no notice {wanted.notice_id} {where}"
    since = "" if wanted.since_as_given is None else f" since {wanted.since_as_given}"
    return f"no notices for customer {wanted.customer_id}{since} {where}"


def show_notices(
    args: argparse.Namespace,
    console: Console,
    *,
    clients: AwsClients = aws_clients,
    now: datetime | None = None,
) -> int:
    """`headsup notices`: the exit code is FOUND, NONE_FOUND, BAD_ARGUMENTS or UNREACHABLE."""
    errors = Console(stderr=True, highlight=False)
    try:
        since = parse_since(args.since) if args.since else None
        wanted = Wanted(args.customer, args.notice, since, args.since)
        if args.local and (args.stack or args.region):
            raise ValueError(
                "--stack and --region read a deployed stack; --local reads the last simulate run"
            )
    except ValueError as exc:
        errors.print(Text(str(exc), style="red"))
        return BAD_ARGUMENTS
    try:
        if args.local:
            notices = read_local(Path(args.record), wanted)
        else:
            notices = read_deployed(args, wanted, clients, now or datetime.now(UTC))
    except NoticesUnavailable as exc:
        errors.print(Text(str(exc), style="red"))
        return UNREACHABLE
    if args.json:
        sys.stdout.write(json.dumps(as_json(notices), indent=1, ensure_ascii=False) + "\n")
    if not notices:
        errors.print(nothing_found(wanted, args.local))
        return NONE_FOUND
    if not args.json:
        console.print(notices_table(notices, wanted))
    return FOUND
