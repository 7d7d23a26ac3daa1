"""Intake throughput on the real dev server: cases per second against a bare-timer baseline.

    python bench/intake.py [--cases 2000] [--concurrency 64] [--rounds 2]

Both measure start-to-ready, each started with an update-with-start call: a case
is ready when its intake has run (obligations scheduled, acknowledgement rendered
into the outbox, everything recorded in SQLite); a baseline workflow is ready
when its one timer is set. The two alternate in the same process, against the
same server, so the ratio is fair on a noisy machine. Target: ratio >= 0.5 at
2,000 cases. It also prints the CPU time each case and each baseline workflow
cost this process (worker, driver and client) and the Temporal server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.cases import CaseIn, open_case
from service.settings import Settings
from service.temporal import DATA_CONVERTER, dev_server_binary, register_search_attributes
from standards.policy import load_policy
from storage.database import make_engine, make_session_factory, upgrade_to_head
from worker import WorkerParts, build_worker, default_backends
from workflows import search_attributes
from workflows.baseline import BaselineTimerWorkflow

console = Console(stderr=True)


@dataclass
class Phase:
    seconds: float
    # CPU milliseconds per item: this process (worker, driver, client), and the server.
    process_ms: float
    server_ms: float


def cpu_seconds(server_pid: int | None) -> tuple[float, float]:
    """CPU seconds used so far by this process and by the Temporal server process."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    server = 0.0
    if server_pid is not None:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{server_pid}/stat").read_text().rsplit(")", 1)[1].split()
            server = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own.ru_utime + own.ru_stime, server


def child_pid(name: str) -> int | None:
    """The pid of this process's child whose command starts with `name` (Linux only)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            command, rest = stat.split("(", 1)[1].rsplit(")", 1)
            if int(rest.split()[1]) == os.getpid() and command.startswith(name):
                return int(entry.name)
    return None


async def timed(
    count: int,
    concurrency: int,
    label: str,
    one: Callable[[int], Awaitable[None]],
    server_pid: int | None,
) -> Phase:
    gate = asyncio.Semaphore(concurrency)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(label, total=count)

        async def guarded(i: int) -> None:
            async with gate:
                await one(i)
            progress.advance(task)

        own_before, server_before = cpu_seconds(server_pid)
        started = time.perf_counter()
        await asyncio.gather(*(guarded(i) for i in range(count)))
        seconds = time.perf_counter() - started
        own_after, server_after = cpu_seconds(server_pid)
        return Phase(
            seconds,
            1000 * (own_after - own_before) / count,
            1000 * (server_after - server_before) / count,
        )


async def run(count: int, concurrency: int, rounds: int) -> None:
    settings = Settings()
    policy = load_policy(settings.policy_dir / "met-pledge.toml")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=dev_server_binary(),
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
        data_converter=DATA_CONVERTER,
    )
    server_pid = child_pid("temporal")
    client: Client = env.client
    await register_search_attributes(client)
    with tempfile.TemporaryDirectory(prefix="pledge-bench-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        upgrade_to_head(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        case_queue, baseline_queue = f"bench-cases-{uuid.uuid4()}", f"bench-base-{uuid.uuid4()}"
        parts = WorkerParts(sessions=sessions, backends=default_backends(settings))
        case_worker = build_worker(client, settings, parts, task_queue=case_queue)
        baseline_worker = Worker(
            client, task_queue=baseline_queue, workflows=[BaselineTimerWorkflow]
        )
        case_rates: list[float] = []
        base_rates: list[float] = []
        costs: list[tuple[Phase, Phase]] = []
        async with case_worker, baseline_worker:
            for round_number in range(rounds):
                tag = f"{round_number}-{uuid.uuid4().hex[:6]}"

                async def baseline(i: int, tag: str = tag) -> None:
                    start: WithStartWorkflowOperation[BaselineTimerWorkflow, None] = (
                        WithStartWorkflowOperation(
                            BaselineTimerWorkflow.run,
                            24,
                            id=f"base-{tag}-{i}",
                            task_queue=baseline_queue,
                            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                        )
                    )
                    await client.execute_update_with_start_workflow(
                        BaselineTimerWorkflow.ready, start_workflow_operation=start
                    )

                async def case(i: int, tag: str = tag) -> None:
                    await open_case(
                        client,
                        sessions,
                        policy,
                        CaseIn.model_validate(
                            {
                                "reference": f"B-{tag}-{i}",
                                "category": "domestic_abuse",
                                "reported_at": datetime.now(UTC),
                                "borough": "Camden",
                                "victim": {
                                    "name": "Bench Victim",
                                    "phone": "+447700900123",
                                    "preferred_channel": "sms",
                                },
                            }
                        ),
                        case_queue,
                    )

                base = await timed(count, concurrency, "baseline", baseline, server_pid)
                cases = await timed(count, concurrency, "cases", case, server_pid)
                base_rates.append(count / base.seconds)
                case_rates.append(count / cases.seconds)
                costs.append((cases, base))
                console.print(
                    f"round {round_number + 1}: baseline {count / base.seconds:.0f}/s, "
                    f"cases {count / cases.seconds:.0f}/s"
                )
        engine.dispose()
    await env.shutdown()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    best_case, best_base = max(case_rates), max(base_rates)
    print(f"cases opened:           {count} x {rounds} rounds (concurrency {concurrency})")
    print(f"cases per second:       {best_case:.1f}   (best round)")
    print(f"baseline per second:    {best_base:.1f}   (bare one-timer workflows, best round)")
    print(f"ratio cases/baseline:   {best_case / best_base:.2f}   (target >= 0.50)")
    print(f"worker process peak RSS: {peak_mib:.0f} MiB (worker, load driver and client)")
    cases, base = min(costs, key=lambda pair: pair[0].seconds)
    print(
        f"CPU per case:           {cases.process_ms:.1f} ms this process, "
        f"{cases.server_ms:.1f} ms Temporal server   (best round)"
    )
    print(
        f"CPU per baseline:       {base.process_ms:.1f} ms this process, "
        f"{base.server_ms:.1f} ms Temporal server"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(run(args.cases, args.concurrency, args.rounds))


if __name__ == "__main__":
    main()
