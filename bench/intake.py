"""Intake throughput on the real dev server: cases per second against a bare-timer baseline.

    python bench/intake.py [--cases 2000] [--concurrency 64] [--rounds 2]

Both measure start-to-ready, each started with an update-with-start call: a case
is ready when its intake has run (obligations scheduled, acknowledgement rendered
into the outbox, everything recorded in SQLite); a baseline workflow is ready
when its one timer is set. The two alternate in the same run, against the same
server, so the ratio is fair on a noisy machine. Target: ratio >= 0.5 at 2,000
cases.

As in a deployment, the workers run in one process (this one) and the load comes
from another (this script again, with --drive), the way the web app or the CLI
opens cases: the worker's memory and CPU are its own. It prints the CPU time each
case and each baseline workflow cost the worker process, the load driver and the
Temporal server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
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

import bootstrap
from bootstrap import WorkerParts, build_worker
from config import Settings
from service.backends import default_backends
from service.cases import CaseIn, open_case
from service.runtime.temporal import DATA_CONVERTER, dev_server_binary, register_search_attributes
from standards import visibility
from standards.policy import load_policy
from storage.database import make_engine, make_session_factory, upgrade_to_head
from workflows.baseline import BaselineTimerWorkflow

console = Console(stderr=True)


@dataclass
class Phase:
    seconds: float
    # CPU milliseconds per item: the worker process, the load driver, the server.
    worker_ms: float
    driver_ms: float
    server_ms: float


def own_cpu_seconds() -> float:
    """CPU seconds used so far by this process."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def process_cpu_seconds(pid: int | None) -> float:
    """CPU seconds used so far by another process (Linux only); 0 if it cannot be read."""
    if pid is not None:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


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


# -- the load driver (a process of its own) ------------------------------------


async def drive_load(
    count: int, concurrency: int, label: str, one: Callable[[int], Awaitable[None]]
) -> dict[str, float]:
    gate = asyncio.Semaphore(concurrency)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(label, total=count)

        async def guarded(i: int) -> None:
            async with gate:
                await one(i)
            progress.advance(task)

        cpu_before = own_cpu_seconds()
        started = time.perf_counter()
        await asyncio.gather(*(guarded(i) for i in range(count)))
        return {"seconds": time.perf_counter() - started, "cpu": own_cpu_seconds() - cpu_before}


async def drive(args: argparse.Namespace) -> None:
    """Connect, say ready, wait for go, open the cases (or baseline workflows), report."""
    client = await Client.connect(args.target, data_converter=DATA_CONVERTER)
    settings = Settings()
    policy = load_policy(settings.policy_dir / "met-pledge.toml")
    force = bootstrap.force(settings)
    engine = make_engine(args.database)
    sessions = make_session_factory(engine)

    async def baseline(i: int) -> None:
        start: WithStartWorkflowOperation[BaselineTimerWorkflow, None] = WithStartWorkflowOperation(
            BaselineTimerWorkflow.run,
            24,
            id=f"base-{args.tag}-{i}",
            task_queue=args.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
        await client.execute_update_with_start_workflow(
            BaselineTimerWorkflow.ready, start_workflow_operation=start
        )

    async def case(i: int) -> None:
        await open_case(
            client,
            sessions,
            policy,
            CaseIn.model_validate(
                {
                    "reference": f"B-{args.tag}-{i}",
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
            args.task_queue,
            force=force,
        )

    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    one = case if args.drive == "cases" else baseline
    result = await drive_load(args.cases, args.concurrency, args.drive, one)
    engine.dispose()
    print(json.dumps(result), flush=True)


# -- the worker side (this process) --------------------------------------------


async def timed_phase(
    phase: str,
    target: str,
    database: str,
    server_pid: int | None,
    task_queue: str,
    tag: str,
    args: argparse.Namespace,
) -> Phase:
    """Run one phase's load driver and measure it, the worker and the server meanwhile."""
    driver = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        f"--drive={phase}",
        f"--target={target}",
        f"--database={database}",
        f"--task-queue={task_queue}",
        f"--tag={tag}",
        f"--cases={args.cases}",
        f"--concurrency={args.concurrency}",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert driver.stdin is not None and driver.stdout is not None
    if (await driver.stdout.readline()).strip() != b"ready":
        sys.exit(f"the {phase} load driver did not start")
    worker_before, server_before = own_cpu_seconds(), process_cpu_seconds(server_pid)
    driver.stdin.write(b"go\n")
    await driver.stdin.drain()
    line = await driver.stdout.readline()
    worker_after, server_after = own_cpu_seconds(), process_cpu_seconds(server_pid)
    if await driver.wait() != 0 or not line:
        sys.exit(f"the {phase} load driver failed")
    result = json.loads(line)
    per_item = 1000 / args.cases
    return Phase(
        seconds=result["seconds"],
        worker_ms=(worker_after - worker_before) * per_item,
        driver_ms=result["cpu"] * per_item,
        server_ms=(server_after - server_before) * per_item,
    )


async def run(args: argparse.Namespace) -> None:
    settings = Settings()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=dev_server_binary(),
        search_attributes=visibility.ALL,
        dev_server_log_level="error",
        data_converter=DATA_CONVERTER,
    )
    client: Client = env.client
    target = client.service_client.config.target_host
    server_pid = child_pid("temporal")
    await register_search_attributes(client)
    with tempfile.TemporaryDirectory(prefix="pledge-bench-") as scratch:
        database = f"sqlite:///{Path(scratch) / 'bench.db'}"
        upgrade_to_head(database)
        engine = make_engine(database)
        sessions = make_session_factory(engine)
        case_queue, baseline_queue = f"bench-cases-{uuid.uuid4()}", f"bench-base-{uuid.uuid4()}"
        parts = WorkerParts(sessions=sessions, backends=default_backends(settings))
        case_worker = build_worker(client, settings, parts, task_queue=case_queue)
        baseline_worker = Worker(
            client, task_queue=baseline_queue, workflows=[BaselineTimerWorkflow]
        )
        rounds: list[tuple[Phase, Phase]] = []
        async with case_worker, baseline_worker:
            for round_number in range(args.rounds):
                tag = f"{round_number}-{uuid.uuid4().hex[:6]}"
                base = await timed_phase(
                    "baseline", target, database, server_pid, baseline_queue, tag, args
                )
                cases = await timed_phase(
                    "cases", target, database, server_pid, case_queue, tag, args
                )
                rounds.append((cases, base))
                console.print(
                    f"round {round_number + 1}: baseline {args.cases / base.seconds:.0f}/s, "
                    f"cases {args.cases / cases.seconds:.0f}/s"
                )
        engine.dispose()
    await env.shutdown()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    best_case = max(args.cases / cases.seconds for cases, _ in rounds)
    best_base = max(args.cases / base.seconds for _, base in rounds)
    print(f"cases opened:           {args.cases} x {args.rounds} rounds")
    print(f"concurrency:            {args.concurrency} calls in flight from the load driver")
    print(f"cases per second:       {best_case:.1f}   (best round)")
    print(f"baseline per second:    {best_base:.1f}   (bare one-timer workflows, best round)")
    print(f"ratio cases/baseline:   {best_case / best_base:.2f}   (target >= 0.50)")
    print(f"worker peak RSS:        {peak_mib:.0f} MiB (the worker process)")
    # Each figure from its own best round, as the rates are.
    cases = min((cases for cases, _ in rounds), key=lambda phase: phase.seconds)
    base = min((base for _, base in rounds), key=lambda phase: phase.seconds)
    for label, phase in (("case", cases), ("baseline", base)):
        total = phase.worker_ms + phase.driver_ms + phase.server_ms
        print(
            f"CPU per {label + ':':<15} {phase.worker_ms:.1f} ms worker, "
            f"{phase.driver_ms:.1f} ms load driver, {phase.server_ms:.1f} ms Temporal server "
            f"({total:.1f} ms in all)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    # The load driver's own options: this script runs itself as the driver.
    parser.add_argument("--drive", choices=["cases", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--task-queue", help=argparse.SUPPRESS)
    parser.add_argument("--tag", help=argparse.SUPPRESS)
    args = parser.parse_args()
    asyncio.run(drive(args) if args.drive else run(args))


if __name__ == "__main__":
    main()
