"""Each batch-driven handler's memory on a 1,000-record batch, in a fresh subprocess under moto
(see bench.throughput for what is measured and why)."""

import gc
import inspect
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bench.batches import AT, BATCH, EVENTS
from bench.cold_start import handler_modules
from emulator.template import REPO_ROOT

MEMORY_FUNCTIONS = (  # slowest first, for the two-at-a-time runs
    "DueSweepFunction",
    "NoticeDeliveryFunction",
    "VisitDetectorFunction",
    "BillIncreaseDetectorFunction",
    "DueIndexerFunction",
)


# ============================================================================ the child


def _rss_now_kb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def peak_rss_kb() -> int:
    """This process image's peak RSS (VmHWM). Linux's ru_maxrss keeps, across exec, the high-water
    mark of the process that spawned it (the benchmark itself), so it is reported only alongside."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def speed_up_moto() -> None:
    """Take out moto's whole-table work, which makes a 1,000-record batch quadratic.

    moto 5 answers every Query by sorting the whole table and comparing each item's key, and
    every SendMessage by counting the whole queue (its attributes). Here a base-table Query is
    given only its partition, the table is not sorted first (an index Query sorts what it found),
    and the queue counts (which no handler reads) are not computed. This changes how fast moto
    answers, not what the handler asks or gets back.
    """
    from moto.dynamodb.models.table import Table
    from moto.sqs.models import Queue

    original_query = Table.query
    signature = inspect.signature(original_query)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = signature.bind(self, *args, **kwargs).arguments
        hash_key = call.get("hash_key")
        if call.get("index_name") or hash_key is None:
            return original_query(self, *args, **kwargs)
        partition = self.items.get(hash_key)
        items = [] if partition is None else list(partition.values()) if self.range_key_attr else [partition]
        self.all_items = lambda: items  # the partition, for this call only
        try:
            return original_query(self, *args, **kwargs)
        finally:
            del self.all_items

    def all_items(self: Any) -> list[Any]:
        # Unsorted: an index Query sorts what it found itself, and a Scan's order is unspecified.
        return [
            item
            for partition in self.items.values()
            for item in (partition.values() if self.range_key_attr else [partition])
        ]

    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    for name in (
        "approximate_number_of_messages",
        "approximate_number_of_messages_delayed",
        "approximate_number_of_messages_not_visible",
    ):
        setattr(Queue, name, property(lambda self: 0))


def memory_child(function_id: str) -> None:
    """In a fresh process: build the 1,000-record event under moto, then invoke the handler once."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    import time_machine
    from moto import mock_aws

    from sim.pipeline import LocalPipeline, lambda_output_to

    speed_up_moto()
    sink = open(os.devnull, "w")  # noqa: SIM115 - the functions' logs, discarded
    with time_machine.travel(AT - timedelta(minutes=5), tick=True), mock_aws():
        pipeline = LocalPipeline.provision()
        deployment = pipeline.deployment
        with lambda_output_to(sink, deployment):
            event = EVENTS[function_id](pipeline)
            records = len(event.get("Records", [])) or BATCH
            os.environ.update(deployment.function_env(function_id))
            handler = deployment.handler(function_id)
            context = replace(deployment.lambda_context(function_id), timeout_seconds=900)
            gc.collect()
            rss_before = _rss_now_kb()
            peak_before = peak_rss_kb()
            tracemalloc.start()
            started = time.perf_counter()
            response = handler(event, context)
            elapsed = time.perf_counter() - started
            _, traced_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    failures = len(response.get("batchItemFailures", [])) if isinstance(response, dict) else None
    print(
        json.dumps(
            {
                "function": function_id,
                "records": records,
                "batch_item_failures": failures,
                "response": {k: v for k, v in response.items() if k != "batchItemFailures"}
                if isinstance(response, dict)
                else None,
                "seconds": elapsed,
                "rss_before_invoke_mb": rss_before / 1024,
                "peak_rss_before_invoke_mb": peak_before / 1024,
                "peak_rss_mb": peak_rss_kb() / 1024,
                "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "traced_peak_mb": traced_peak / 1024**2,
            },
            default=str,
        )
    )


# ============================================================================ the parent


def import_only_rss(module: str, env: dict[str, str]) -> float:
    """MB of RSS of a fresh interpreter that imported only the handler module (Lambda's environment)."""
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    statement = (
        f"import {module}\n"
        "for line in open('/proc/self/status'):\n"
        "    if line.startswith('VmHWM:'):\n"
        "        print(line.split()[1])"
    )
    completed = subprocess.run(
        [sys.executable, "-c", statement],
        env=base
        | env
        | {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "PYTHONPATH": str(REPO_ROOT / "functions"),
        },
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    return int(completed.stdout.strip().splitlines()[-1]) / 1024


def _memory_run(function_id: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.throughput", "--memory-child", function_id],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{function_id}: memory run failed\n{completed.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def memory_all() -> dict[str, Any]:
    modules = handler_modules()
    # Two at a time (the slowest first): each child is one process on one core.
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(MEMORY_FUNCTIONS, pool.map(_memory_run, MEMORY_FUNCTIONS), strict=True))
    results = {}
    for function_id in sorted(MEMORY_FUNCTIONS):
        child = runs[function_id]
        module, env, memory_size = modules[function_id]
        child["module"] = module
        child["memory_size_mb"] = memory_size
        child["rss_import_only_mb"] = import_only_rss(module, env)
        child["estimated_lambda_peak_mb"] = child["rss_import_only_mb"] + child["traced_peak_mb"]
        results[function_id] = child
    return results
