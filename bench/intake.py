"""Intake throughput on the real dev server: cases per second against a bare-timer baseline.

    python bench/intake.py [--cases 2000] [--concurrency 64] [--rounds 2]

Both measure start-to-ready: a case is ready when its intake has run (obligations
scheduled, acknowledgement rendered into the outbox, everything recorded in
SQLite); a baseline workflow is ready when its one timer is set. The two
alternate in the same process, against the same server, so the ratio is fair
on a noisy machine. Target: ratio >= 0.5 at 2,000 cases.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.cases import CaseIn, open_case
from service.settings import Settings
from service.temporal import dev_server_binary, register_search_attributes
from standards.policy import load_policy
from storage.database import make_engine, make_session_factory, upgrade_to_head
from worker import WorkerParts, build_worker, default_backends
from workflows import search_attributes
from workflows.baseline import BaselineTimerWorkflow

console = Console(stderr=True)


async def timed(
    count: int, concurrency: int, label: str, one: Callable[[int], Awaitable[None]]
) -> float:
    gate = asyncio.Semaphore(concurrency)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(label, total=count)

        async def guarded(i: int) -> None:
            async with gate:
                await one(i)
            progress.advance(task)

        started = time.perf_counter()
        await asyncio.gather(*(guarded(i) for i in range(count)))
        return time.perf_counter() - started


async def run(count: int, concurrency: int, rounds: int) -> None:
    settings = Settings()
    policy = load_policy(settings.policy_dir / "met-pledge.toml")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=dev_server_binary(),
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
    )
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
        async with case_worker, baseline_worker:
            for round_number in range(rounds):
                tag = f"{round_number}-{uuid.uuid4().hex[:6]}"

                async def baseline(i: int, tag: str = tag) -> None:
                    handle = await client.start_workflow(
                        BaselineTimerWorkflow.run,
                        24,
                        id=f"base-{tag}-{i}",
                        task_queue=baseline_queue,
                    )
                    await handle.execute_update(BaselineTimerWorkflow.ready)

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

                base_seconds = await timed(count, concurrency, "baseline", baseline)
                case_seconds = await timed(count, concurrency, "cases", case)
                base_rates.append(count / base_seconds)
                case_rates.append(count / case_seconds)
                console.print(
                    f"round {round_number + 1}: baseline {count / base_seconds:.0f}/s, "
                    f"cases {count / case_seconds:.0f}/s"
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
