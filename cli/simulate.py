"""`pledge simulate`: rehearse a scenario, in process or on the time-skipping server."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli import common
from cli.common import err, fail
from config import Settings
from standards.datafile import DataFileError


class SimulationEngine(StrEnum):
    """How `pledge simulate` runs a scenario's cases (both give the same JSON)."""

    IN_PROCESS = "in-process"
    TEMPORAL = "temporal"


def simulate(
    scenario: Annotated[
        Path, typer.Argument(help="scenario, YAML or JSON", exists=True, dir_okay=False)
    ],
    engine: Annotated[
        SimulationEngine,
        typer.Option(
            help="in-process: the case books on one discrete-event clock, on every core; "
            "temporal: the real workflows on the time-skipping test server"
        ),
    ] = SimulationEngine.IN_PROCESS,
    shards: Annotated[
        int,
        typer.Option(
            min=1,
            help="temporal engine: time-skipping servers to spread the cases over "
            "(cases never interact)",
        ),
    ] = 4,
    processes: Annotated[
        int | None,
        typer.Option(min=1, help="in-process engine: worker processes (default: one a core)"),
    ] = None,
    into_database: Annotated[
        bool,
        typer.Option(
            help="temporal engine: write the rehearsed history into the configured database"
        ),
    ] = False,
) -> None:
    """Rehearse a scenario; print the outcome as JSON.

    The in-process engine is the default; --engine temporal runs the real workflows on
    the time-skipping test server."""
    settings = common.settings()
    if into_database and engine != SimulationEngine.TEMPORAL:
        raise fail(
            "--into-database needs --engine temporal (it records the workflows' writes)", code=2
        )
    text = scenario.read_text(encoding="utf-8")
    if engine == SimulationEngine.IN_PROCESS:
        from service.scenario import ScenarioError
        from service.simulate_in_process import simulate_in_process

        try:
            simulate_in_process(text, str(scenario), settings, sys.stdout, processes)
        except (ScenarioError, DataFileError) as error:
            raise fail(str(error), code=2) from error
        return
    _simulate_on_temporal(text, str(scenario), settings, shards, into_database)


def _simulate_on_temporal(
    text: str, origin: str, settings: Settings, shards: int, into_database: bool
) -> None:
    from rich.progress import Progress

    from bootstrap import rehearsal_worker
    from service.runtime.temporal import log_expected_retries_briefly, run_to_end
    from service.simulate import ScenarioError, parse_scenario, run_scenario

    try:
        parsed = parse_scenario(text, origin)
    except ScenarioError as error:
        raise fail(str(error), code=2) from error
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    log_expected_retries_briefly()
    url = settings.resolved_database_url if into_database else None
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("rehearsing", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            with stdout_to_stderr():
                outcome = run_to_end(
                    run_scenario(parsed, settings, rehearsal_worker, url, advance, shards)
                )
        except (ScenarioError, DataFileError) as error:
            raise fail(str(error), code=2) from error
    print(json.dumps(outcome.as_json(), indent=2))


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Point file descriptor 1 at stderr: native code (Temporal's core) may log to stdout,
    and `simulate` promises nothing but JSON there."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def register(app: typer.Typer) -> None:
    """Add `simulate` to `pledge`."""
    app.command()(simulate)
