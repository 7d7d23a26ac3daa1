"""History size per case: events and bytes Temporal stores, plain and encrypted, side by side.

    python bench/history.py [scenarios/standards-examples.yaml]

Rehearses the scenario twice on the time-skipping server - once with plain payloads and
once with PLEDGE_PAYLOAD_KEYS set - and prints, for each case, the number of history
events and the history's size in bytes, and the ratio encrypted / plain. These are the
figures behind the capacity model in docs/operations.md (storage per case on the
Temporal database). The time-skipping server runs each case to `until`, so a case's
whole life is measured, not its first minutes.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from temporalio.api.history.v1 import History
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bootstrap
from bootstrap import WorkerParts, build_worker, simulation_backends
from config import Settings
from service.cases import CaseIn
from service.runtime.encryption import new_key_text
from service.runtime.temporal import data_converter
from service.simulate import Rehearsal, parse_scenario, plan_steps, time_skipping_environment
from standards.contracts import case_workflow_id
from storage.database import make_engine, make_session_factory, upgrade_to_head

DEFAULT_SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "standards-examples.yaml"


class _WithClient:
    """The environment as Rehearsal sees it, with a client of another converter."""

    def __init__(self, env: WorkflowEnvironment, client: Client) -> None:
        self._env = env
        self.client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)


async def measure(scenario_text: str, settings: Settings) -> dict[str, tuple[int, int]]:
    scenario = parse_scenario(scenario_text)
    policy = bootstrap.policy(settings, scenario.policy)
    force = bootstrap.force(settings)
    [steps] = plan_steps(scenario, 1)
    epoch = min([c.reported_at for c in scenario.cases] + [scenario.until])
    with tempfile.TemporaryDirectory(prefix="pledge-history-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        upgrade_to_head(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        async with time_skipping_environment() as env:
            config = env.client.config()
            config["data_converter"] = data_converter(settings)
            client = Client(**config)
            queue = f"history-{uuid.uuid4()}"
            parts = WorkerParts(sessions=sessions, backends=simulation_backends())
            async with build_worker(client, settings, parts, task_queue=queue):
                rehearsal = Rehearsal(
                    _WithClient(env, client),  # type: ignore[arg-type]
                    sessions,
                    policy,
                    queue,
                    epoch,
                    force=force,
                )
                await rehearsal.begin()
                for _at, _kind, _index, item in steps:
                    if isinstance(item, CaseIn):
                        await rehearsal.open(item)
                    else:
                        await rehearsal.post(item)
                await rehearsal.advance_to(scenario.until)
                sizes = {}
                for reference in rehearsal.references:
                    handle = env.client.get_workflow_handle(case_workflow_id(reference))
                    history = History(events=(await handle.fetch_history()).events)
                    sizes[reference] = (len(history.events), history.ByteSize())
                    await handle.terminate("measured")
        engine.dispose()
    return sizes


async def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SCENARIO
    text = path.read_text()
    plain = await measure(text, Settings())
    encrypted = await measure(text, Settings(payload_keys=SecretStr(new_key_text("k1"))))
    print(f"{'case':<16}{'events':>8}{'plain bytes':>14}{'encrypted bytes':>18}{'ratio':>8}")
    for reference, (events, size) in plain.items():
        enc_events, enc_size = encrypted[reference]
        print(
            f"{reference:<16}{events:>8}{size:>14,}{enc_size:>18,}{enc_size / size:>8.2f}"
            + ("" if enc_events == events else f"  (encrypted run: {enc_events} events)")
        )
    total_events = sum(e for e, _ in plain.values())
    total_plain = sum(s for _, s in plain.values())
    total_enc = sum(s for _, s in encrypted.values())
    count = len(plain)
    print(
        f"{'mean':<16}{total_events / count:>8.0f}{total_plain / count:>14,.0f}"
        f"{total_enc / count:>18,.0f}{total_enc / total_plain:>8.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
