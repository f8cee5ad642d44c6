"""The morning release: held notices queued again by one sweep, one worker per DueIndex shard.

Provisions template.yaml on moto, parks N held notices (default 2,000) as delivery parks them
(`DueItemsHeldNotices`: by story, in DueItemsTable, due at 08:00, spread over the DueIndex shards by
the hash of their key), then fires DueSweepFunction's schedule at 08:00 and counts every AWS call
its invocation made, by operation (`bench.calls`). Each of four runs parks the notices afresh:

- one worker (`MAX_WORKERS` = 1: the shards one after another, as the sweep used to go) or one
  worker per shard;
- moto as it is, or with modelled latency: each call also waits what `bench.scale_inputs` assumes
  for a call from Lambda in the Region (DynamoDB 7 ms, SendMessageBatch 15 ms), as a network wait
  would, so that the workers' waits overlap as they do in Lambda.

Wall times are in-process proxies, not AWS figures. Moto answers in the interpreter, one call at a
time (its tables are not made for threads), so with moto as it is the workers only share one CPU:
that run shows the calls and the overhead of the threads, not a speed-up. The modelled-latency runs
show what running the shards at once does. For Lambda two bounds are printed: the AWS waits (calls
per notice times their latency, overlapped by one worker per shard) and the CPU the workers share
(the function's own time per notice outside moto, on the vCPU share of the sweep's MemorySize),
each carried over to one tick: the function's Timeout less the sweep's safety margin.
Usage: python -m bench.sweep_release [notices]
"""

import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import TYPE_CHECKING, Any
from unittest import mock

import boto3
from moto import mock_aws
from rich.console import Console
from rich.table import Table

from bench.calls import CallLog, counting_calls
from bench.results import Figure, record
from bench.scale_inputs import Assumptions
from emulator.calls import ApiCall, Proceed, subscribed
from sim.pipeline import LocalPipeline, lambda_output_to

# headsup is imported once the functions' environment is set (lambda_output_to): Powertools reads
# its settings, the metrics namespace among them, when headsup first imports it.
if TYPE_CHECKING:
    from headsup.adapters.due_items import DynamoDueItems
    from headsup.domain.notices import NoticeRequest

SWEEP = "DueSweepFunction"
MORNING = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)  # 08:00 in New York, when quiet hours end
SAFETY_MARGIN_S = 10  # functions/headsup/logic/sweep.py _SAFETY_MARGIN
VCPU_MB = 1769  # Lambda: "at 1,769 MB, a function has the equivalent of one vCPU"


@dataclass(frozen=True)
class Run:
    label: str
    workers: int  # threads that made calls
    released: int
    failed: int
    queued: int
    seconds: float
    in_moto: float  # of those seconds, spent inside moto (answering the calls)
    calls: Counter[str]  # call_label -> calls, in the sweep's invocation


def held_notices(count: int) -> list["NoticeRequest"]:
    from sim.samples import sample_bill_increase

    return [sample_bill_increase("150.00", customer_id=f"cust-{n:06d}") for n in range(count)]


def park(pipeline: LocalPipeline, notices: list["NoticeRequest"]) -> None:
    """Hold every notice until MORNING, as delivery does."""
    from headsup.adapters.held_notices import DueItemsHeldNotices

    holds = DueItemsHeldNotices(due_items(pipeline))
    for notice in notices:
        holds.hold(notice, MORNING)


def due_items(pipeline: LocalPipeline) -> "DynamoDueItems":
    from headsup.adapters.due_items import DynamoDueItems

    deployment = pipeline.deployment
    return DynamoDueItems(deployment.ref("DueItemsTable"), int(deployment.ref("DueIndexShards")))


def per_shard(pipeline: LocalPipeline, notices: list["NoticeRequest"]) -> Counter[str]:
    """How many of the notices each DueIndex shard holds (by the hash of their held key)."""
    table = due_items(pipeline)
    return Counter(table.shard_of(f"held#{notice.story_key or notice.notice_id}") for notice in notices)


@contextmanager
def moto_one_call_at_a_time(latency: dict[str, float] | None) -> Iterator[set[str]]:
    """Each call goes to moto (and to the call counter, inside) alone; with `latency`, each first
    waits its service's latency outside that lock, as calls in flight wait on the network. Yields
    the sweep's worker threads that made calls (named by Sweep.run's pool)."""
    lock, threads = threading.RLock(), set[str]()

    def one_at_a_time(_call: ApiCall, proceed: Proceed) -> Any:
        with lock:
            if threading.current_thread().name.startswith("sweep"):
                threads.add(threading.current_thread().name)
            return proceed()

    def waits(call: ApiCall, proceed: Proceed) -> Any:
        time.sleep((latency or {}).get(call.service, 0.0))
        return proceed()

    # The most recent subscriber is the outermost: the wait, then the lock, then the counter.
    with subscribed(calls=one_at_a_time), subscribed(calls=waits) if latency else nullcontext():
        yield threads


def notices_queued(pipeline: LocalPipeline) -> int:
    """The messages in NoticeQueue, which is then emptied: moto's SendMessageBatch slows down as a
    queue fills, which would charge each run for the ones before it."""
    sqs = boto3.client("sqs", region_name=pipeline.deployment.region)
    url = pipeline.deployment.ref("NoticeQueue")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    # moto's own switch for SQS's one purge a minute, which a run takes less than
    with mock.patch.dict(os.environ, {"MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR": "false"}):
        sqs.purge_queue(QueueUrl=url)
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def release(
    pipeline: LocalPipeline,
    notices: list["NoticeRequest"],
    label: str,
    *,
    single: bool,
    latency: dict[str, float] | None,
) -> Run:
    from headsup.logic import sweep as sweep_logic

    park(pipeline, notices)
    notices_queued(pipeline)  # and so empties NoticeQueue before the run
    with (
        mock.patch.object(sweep_logic, "MAX_WORKERS", 1) if single else nullcontext(),
        counting_calls() as log,
        moto_one_call_at_a_time(latency) as threads,
        time_in_moto() as in_moto,
    ):
        response = pipeline.sweep.fire(MORNING)
    return Run(
        label=label,
        workers=len(threads),
        released=response["released"],
        failed=response["failed"],
        queued=notices_queued(pipeline),
        seconds=log.durations[SWEEP][-1],
        in_moto=in_moto[0],
        calls=sweep_calls(log),
    )


@contextmanager
def time_in_moto() -> Iterator[list[float]]:
    """Seconds spent inside moto (its one entry for every request), to tell the function's own CPU
    (its code, botocore building requests and reading answers) from moto's."""
    from moto.core.botocore_stubber import BotocoreStubber

    spent = [0.0]
    answer = BotocoreStubber.__call__

    def timed(self: BotocoreStubber, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return answer(self, *args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    with mock.patch.object(BotocoreStubber, "__call__", timed):
        yield spent


def sweep_calls(log: CallLog) -> Counter[str]:
    calls: Counter[str] = Counter()
    for run in log.runs:
        if run.function == SWEEP:
            calls.update(run.calls)
    return calls


def tick_seconds(pipeline: LocalPipeline) -> float:
    timeout = pipeline.deployment.resolve(pipeline.deployment.function_properties(SWEEP))["Timeout"]
    return float(timeout) - SAFETY_MARGIN_S


def runs_table(runs: list[Run], tick_s: float) -> Table:
    operations = sorted({label for run in runs for label in run.calls})  # "dynamodb.DeleteItem"...
    table = Table(
        title="One sweep's release of the held notices: AWS calls per released notice, and the rate"
    )
    columns = ("run", "workers", "released", *(o.split(".", 1)[1] for o in operations), "all calls")
    for column in (*columns, "wall s", "notices/s", "per tick"):
        table.add_column(column, justify="left" if column == "run" else "right")
    for run in runs:
        per = {label: n / run.released for label, n in run.calls.items()}
        rate = run.released / run.seconds
        table.add_row(
            run.label,
            str(run.workers),
            f"{run.released:,}",
            *(f"{per.get(label, 0):.3f}" for label in operations),
            f"{sum(per.values()):.3f}",
            f"{run.seconds:.2f}",
            f"{rate:,.0f}",
            f"{rate * tick_s:,.0f}",
        )
    return table


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
    assumptions = Assumptions()
    latency = {"dynamodb": assumptions.dynamodb_call_s, "sqs": assumptions.sqs_send_s}
    with mock_aws():
        pipeline = LocalPipeline.provision()
        with lambda_output_to(StringIO(), pipeline.deployment):
            pipeline.sweep.fire(MORNING - timedelta(hours=1))  # the cold start, with nothing due yet
            notices = held_notices(count)
            runs = [
                release(pipeline, notices, "moto as is", single=True, latency=None),
                release(pipeline, notices, "moto as is", single=False, latency=None),
                release(pipeline, notices, "modelled latency", single=True, latency=latency),
                release(pipeline, notices, "modelled latency", single=False, latency=latency),
            ]
            setting = Setting(
                notices=count,
                shards=per_shard(pipeline, notices),
                tick_s=tick_seconds(pipeline),
                memory_mb=int(
                    pipeline.deployment.resolve(pipeline.deployment.function_properties(SWEEP))["MemorySize"]
                ),
                latency=latency,
            )
    for run in runs:
        if (run.released, run.failed, run.queued) != (count, 0, count):
            print(f"{run.label}, {run.workers} worker(s): released {run.released}, queued {run.queued}")
            return 1
    report(runs, setting, assumptions)
    return 0


@dataclass(frozen=True)
class Setting:
    notices: int
    shards: Counter[str]  # notices held in each DueIndex shard
    tick_s: float  # the sweep's Timeout less its safety margin
    memory_mb: int  # the sweep's MemorySize: its share of a vCPU
    latency: dict[str, float]  # by service, seconds a call


def report(runs: list[Run], setting: Setting, assumptions: Assumptions) -> None:
    shards, tick_s, latency = setting.shards, setting.tick_s, setting.latency
    console = Console(width=160)
    console.print(
        f"{setting.notices:,} held notices over {len(shards)} DueIndex shards "
        f"({min(shards.values())}-{max(shards.values())} a shard), released at 08:00 by one sweep; "
        f"a tick is {tick_s:.0f} s (Timeout less the safety margin)."
    )
    console.print(runs_table(runs, tick_s))
    single, parallel = runs[2], runs[3]
    speed_up = (parallel.released / parallel.seconds) / (single.released / single.seconds)
    wait_ms = aws_wait_ms(parallel, latency)
    waits_rate = len(shards) / (wait_ms / 1000)
    own_ms = (runs[0].seconds - runs[0].in_moto) / runs[0].released * 1000
    vcpu = setting.memory_mb / VCPU_MB
    cpu_rate = vcpu / (own_ms / 1000)
    console.print(
        f"Here, with modelled latency ({latency['dynamodb'] * 1000:.0f} ms a DynamoDB call, "
        f"{latency['sqs'] * 1000:.0f} ms a SendMessageBatch), {parallel.workers} workers release "
        f"{speed_up:.1f}x as fast as one: moto's own CPU, one call at a time, bounds them.\n"
        f"In Lambda, two bounds. The waits: a worker waits {wait_ms:.1f} ms on AWS per released notice "
        f"(the calls above times those latencies; bench.scale_inputs assumes "
        f"{assumptions.sweep_release_s * 1000:.0f} ms), so {len(shards)} workers release up to "
        f"{waits_rate:,.0f} notices/s. The CPU, which the workers share (one interpreter): the "
        f"function's own time outside moto is {own_ms:.2f} ms per notice here (its code, botocore "
        f"building requests and reading answers, logs; an upper bound, the local call hooks are in "
        f"it); at {setting.memory_mb} MB Lambda gives {vcpu:.2f} of a vCPU: up to {cpu_rate:,.0f} "
        f"notices/s, {min(waits_rate, cpu_rate) * tick_s:,.0f} a tick at the lower bound. Wall "
        "times are in-process proxies."
    )
    record(
        "sweep_release",
        [
            Figure(
                "sweep release: AWS calls per released notice",
                parallel.calls.total() / parallel.released,
                "calls",
            ),
            Figure("sweep release: AWS wait per released notice per worker", wait_ms, "ms", note="modelled"),
            Figure(
                "sweep release: the function's own time per released notice", own_ms, "ms", note="in-process"
            ),
            Figure(
                "sweep release: speed-up of one worker per shard over one (moto, modelled latency)",
                speed_up,
                "x",
                lower_is_better=False,
                note="in-process proxy",
            ),
        ],
        {
            "notices": setting.notices,
            "per_shard": dict(sorted(shards.items())),
            "tick_seconds": tick_s,
            "memory_mb": setting.memory_mb,
            "latency_s": latency,
            "runs": [
                {
                    "run": run.label,
                    "workers": run.workers,
                    "released": run.released,
                    "seconds": run.seconds,
                    "seconds_in_moto": run.in_moto,
                    "notices_per_second": run.released / run.seconds,
                    "calls": dict(run.calls),
                    "calls_per_notice": {label: n / run.released for label, n in run.calls.items()},
                }
                for run in runs
            ],
            "aws_wait_ms_per_notice_per_worker": wait_ms,
            "own_ms_per_notice": own_ms,
            "lambda_notices_per_second_by_waits": waits_rate,
            "lambda_notices_per_second_by_cpu": cpu_rate,
        },
    )


def aws_wait_ms(run: Run, latency: dict[str, float]) -> float:
    """What a worker waits on AWS per released notice: its calls per notice times their latency."""
    seconds = sum(n * latency.get(label.split(".")[0], 0.0) for label, n in run.calls.items())
    return seconds / run.released * 1000


if __name__ == "__main__":
    sys.exit(main())
