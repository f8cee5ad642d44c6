"""Pipeline CPU throughput without I/O, and each handler's memory on a 1,000-record batch.

Throughput: 1,000 notices of every kind are detected by the pure rules (bills through the real
BillIncreaseDetector, callbacks, tickets and visits through their rules, each from a dict as the
stream would give it), then delivered by the real NoticeDelivery with in-memory fakes
(emulator/fakes.py) for the ledger, customers, preferences and senders: the delivery policy
(template defaults: 08:00-21:00 on the customer's clock, 3 a day, visits bypassing both) and
rendering with the real templates. CPU time is `time.process_time()` of this one process (one core), after
a warm-up batch (templates compiled, as in a warm Lambda container); median of 9 batches (the fastest beside
it: this machine's CPU time varies by half from batch to batch).

Memory: each batch-driven handler runs in a fresh subprocess under moto, with a 1,000-record
event in the real AWS shape: stream records read back from moto (bills, callbacks, visits), SQS
messages received from NoticeQueue (delivery), the scheduled event with 1,000 callbacks due (the
sweep). Reported per handler:
- peak RSS with only the handler imported (a fresh interpreter with the function's environment, as
  bench.cold_start gives it, no moto);
- tracemalloc's peak during the invocation (Python allocations of the handler, and of moto answering
  its calls in the same process, so an upper bound);
- the subprocess's peak RSS (the handler, moto and the 1,000-record fixtures together);
- an estimate of Lambda's "Max Memory Used": RSS imported + the invocation's traced peak.
The goal (under 128 MB) is checked on the estimate; the subprocess peak, which holds moto and the
fixtures too, is shown beside it. Peak RSS is read from /proc/self/status (VmHWM): on Linux,
`resource.getrusage(...).ru_maxrss` keeps across exec the high-water mark of the process that
spawned the child (here the benchmark, ~150 MB), so it is recorded (`ru_maxrss_mb`) but not used.
The invocation gets a 900 s timeout so that the whole batch is handled (moto answers slower than
AWS), and `speed_up_moto` takes out moto's whole-table scans per call, which would make a 1,000-record
batch take many minutes. Children run two at a time.

The batches (of sim.samples' records) are in bench.batches, the CPU run in bench.pipeline_cpu and
the memory runs in bench.handler_memory; this module runs both and prints their tables.
Usage: python -m bench.throughput
"""

import os
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.batches import BATCH
from bench.handler_memory import memory_all, memory_child
from bench.pipeline_cpu import cpu_table, cpu_throughput
from bench.results import Figure, record

GOAL_MB = 128.0


def memory_table(memory: dict[str, Any]) -> Table:
    table = Table(title=f"Peak memory per handler on a {BATCH:,}-record batch (MB; goal under {GOAL_MB:g})")
    columns = (
        "function",
        "records",
        "RSS imported",
        "traced peak in invoke",
        "estimate (imported + traced)",
        "subprocess peak RSS (with moto, fixtures)",
        "MemorySize",
        "goal",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "function" else "right")
    for function_id, m in memory.items():
        table.add_row(
            function_id,
            str(m["records"]),
            f"{m['rss_import_only_mb']:.0f}",
            f"{m['traced_peak_mb']:.1f}",
            f"{m['estimated_lambda_peak_mb']:.0f}",
            f"{m['peak_rss_mb']:.0f}",
            str(m["memory_size_mb"]),
            "pass" if m["estimated_lambda_peak_mb"] < GOAL_MB else "FAIL",
        )
    return table


def headline(cpu: dict[str, Any], memory: dict[str, Any]) -> list[Figure]:
    summary = [
        Figure(
            "pipeline CPU throughput (detect + policy + render), median of 9 batches",
            cpu["notices_per_cpu_second"],
            "notices/s/core",
            goal=5000,
            lower_is_better=False,
        ),
        Figure(
            "pipeline CPU throughput, fastest of the 9 batches",
            cpu["fastest_notices_per_cpu_second"],
            "notices/s/core",
        ),
    ]
    for function_id, m in memory.items():
        summary.append(
            Figure(
                f"memory {function_id}, 1,000 records (estimate)",
                m["estimated_lambda_peak_mb"],
                "MB",
                goal=GOAL_MB,
            )
        )
        summary.append(
            Figure(
                f"memory {function_id}, 1,000 records (subprocess peak, with moto)",
                m["peak_rss_mb"],
                "MB",
                note="upper bound: moto and the fixtures are in the same process",
            )
        )
    return summary


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--memory-child":
        memory_child(sys.argv[2])
        return 0
    # As template.yaml's Globals set them; read by Powertools when headsup is first imported.
    os.environ.update({"POWERTOOLS_SERVICE_NAME": "headsup", "POWERTOOLS_METRICS_NAMESPACE": "Headsup"})
    console = Console(width=150)
    cpu = cpu_throughput()
    console.print(cpu_table(cpu))
    console.print(f"kinds: {cpu['kinds']}; outcomes: {cpu['outcomes']}")
    memory = memory_all()
    console.print(memory_table(memory))
    record("throughput", headline(cpu, memory), {"cpu": cpu, "memory": memory, "goal_mb": GOAL_MB})
    return 0


if __name__ == "__main__":
    sys.exit(main())
