"""`pledge` against Temporal as a user meets it: no server, a server with no worker, a
killed `pledge dev`, a port already taken, and refused events by the dozen."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from service.runtime.temporal import dev_server_binary
from tests.support.dev import (
    ROOT,
    case_open_args,
    dev_environment_in,
    pledge,
    start_dev,
    stop_dev,
)

BOUND = "3"  # PLEDGE_TEMPORAL_TIMEOUT_SECONDS for these tests
REFERENCE = "01/000777/26"
OPEN = case_open_args(REFERENCE)


def wait_for_port(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port} after {seconds} s")


@pytest.fixture
def server_without_worker(tmp_path: Path) -> Iterator[dict[str, str]]:
    environment = dev_environment_in(tmp_path / "data", PLEDGE_TEMPORAL_TIMEOUT_SECONDS=BOUND)
    port = int(environment["PLEDGE_TEMPORAL_PORT"])
    server = subprocess.Popen(
        [
            dev_server_binary(),
            "server",
            "start-dev",
            "--headless",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "error",
        ],
        stdin=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield environment
    finally:
        server.kill()
        server.wait()


def test_with_no_temporal_server_a_command_gives_up_in_time_and_says_where_it_looked(
    tmp_path: Path,
) -> None:
    environment = dev_environment_in(tmp_path / "data", PLEDGE_TEMPORAL_TIMEOUT_SECONDS=BOUND)
    address = f"127.0.0.1:{environment['PLEDGE_TEMPORAL_PORT']}"
    # (`pledge cases` reads the database, not Temporal, so it is not among them.)
    for command in (("case", "show", REFERENCE), OPEN):
        began = time.monotonic()
        result = pledge(environment, *command, timeout=60)
        assert result.returncode == 1, result
        assert f"the Temporal server at {address} is not answering" in result.stderr
        assert "make run" in result.stderr
        assert "Traceback" not in result.stderr
        assert time.monotonic() - began < 30


def test_with_no_worker_a_new_case_is_accepted_and_show_names_the_silent_task_queue(
    server_without_worker: dict[str, str],
) -> None:
    opened = pledge(server_without_worker, *OPEN, timeout=60)
    assert opened.returncode == 0, opened.stderr
    assert f"accepted {REFERENCE}" in opened.stdout
    assert "acknowledgement goes when a worker polls 'pledge-cases'" in opened.stdout

    began = time.monotonic()
    shown = pledge(server_without_worker, "case", "show", REFERENCE, timeout=60)
    assert shown.returncode == 1
    assert "no worker is polling task queue 'pledge-cases'" in shown.stderr
    assert "make run" in shown.stderr
    assert time.monotonic() - began < 30

    event = pledge(server_without_worker, "case", "event", REFERENCE, "arrest", timeout=60)
    assert event.returncode == 1
    assert "no worker is polling task queue 'pledge-cases'" in event.stderr


def _servers_of(pid: int, name: str) -> list[psutil.Process]:
    return [p for p in psutil.Process(pid).children(recursive=True) if name in p.name()]


def _gone(processes: list[psutil.Process]) -> bool:
    _, alive = psutil.wait_procs(processes, timeout=15)
    for process in alive:  # not to leave an orphan behind a failing test
        process.kill()
    return not alive


def test_a_first_pledge_dev_start_warns_of_nothing_and_says_what_to_try_next(
    tmp_path: Path,
) -> None:
    process, printed = start_dev(dev_environment_in(tmp_path / "data"))
    printed += stop_dev(process)
    assert "already exists" not in printed
    assert "WARN" not in printed
    for command in ("pledge case open --reference", "pledge case show", "pledge outbox"):
        assert command in printed


def test_a_killed_pledge_dev_takes_its_temporal_server_with_it(tmp_path: Path) -> None:
    process = start_dev(dev_environment_in(tmp_path / "data"))[0]
    servers = _servers_of(process.pid, "temporal")
    assert servers
    process.kill()
    process.communicate(timeout=30)
    assert _gone(servers)


SCENARIO = ("scenarios/standards-examples.yaml",)


def test_a_killed_rehearsal_takes_its_time_skipping_servers_with_it(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "simulate", "--engine", "temporal", *SCENARIO],
        env=dev_environment_in(tmp_path / "data"),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        servers: list[psutil.Process] = []
        deadline = time.monotonic() + 60
        while not servers and time.monotonic() < deadline and process.poll() is None:
            servers = _servers_of(process.pid, "temporal-test")
            time.sleep(0.1)
        assert servers
    finally:
        process.kill()
        process.wait()
    assert _gone(servers)


def test_pledge_dev_on_a_taken_port_says_which_port_and_how_to_choose_another(
    tmp_path: Path,
) -> None:
    environment = dev_environment_in(tmp_path / "data")
    port = int(environment["PLEDGE_TEMPORAL_PORT"])
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        result = pledge(environment, "dev", timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {port} is already in use" in lines[0]
    assert "PLEDGE_TEMPORAL_PORT" in lines[0]


def test_a_refused_event_exits_1_every_time_without_aborting_the_interpreter(
    tmp_path: Path,
) -> None:
    environment = dev_environment_in(tmp_path / "data")
    process = start_dev(environment)[0]
    try:
        assert pledge(environment, *OPEN).returncode == 0
        assert pledge(environment, "case", "event", REFERENCE, "closed").returncode == 0

        def refused(_: int) -> subprocess.CompletedProcess[str]:
            return pledge(
                environment,
                "case",
                "event",
                REFERENCE,
                "officer_assigned",
                "--detail",
                "officer_name=PC Jones",
                timeout=60,
            )

        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(refused, range(50)))
    finally:
        stop_dev(process)
    codes = [r.returncode for r in results]
    assert codes == [1] * 50, [r.stderr for r in results if r.returncode != 1][:2]
    assert all("officer_assigned refused" in r.stderr for r in results)


def test_a_command_leaves_no_temporal_client_or_runtime_for_the_interpreter_to_finalise(
    tmp_path: Path,
) -> None:
    # A client or runtime dropped during finalisation lets the core's threads call into
    # a dying interpreter: "Fatal Python error: PyGILState_Release", exit 134.
    environment = dev_environment_in(tmp_path / "data")
    process = start_dev(environment)[0]
    # main() ends in sys.exit(1) on an error; typer's app ends in sys.exit(0) after a success.
    probe = (
        "import gc, sys, cli.main, temporalio.client, temporalio.runtime\n"
        "sys.argv = ['pledge', *sys.argv[1:]]\n"
        "try:\n    cli.main.main()\nexcept SystemExit as done:\n    code = done.code\n"
        "gc.collect()\n"
        "kinds = (temporalio.client.Client, temporalio.runtime.Runtime)\n"
        "alive = [type(o).__name__ for o in gc.get_objects() if isinstance(o, kinds)]\n"
        "print(__import__('json').dumps({'code': code, 'alive': alive}))\n"
    )
    try:
        assert pledge(environment, *OPEN).returncode == 0
        runs = [
            subprocess.run(
                [sys.executable, "-c", probe, *command],
                env=environment,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            for command in (
                ("case", "event", REFERENCE, "arrest", "--standard", "dv_contact"),
                ("case", "show", REFERENCE),
            )
        ]
    finally:
        stop_dev(process)
    outcomes = [json.loads(run.stdout.strip().splitlines()[-1]) for run in runs]
    assert outcomes == [{"code": 1, "alive": []}, {"code": 0, "alive": []}], runs
