"""Temporal servers run as child processes that die with the process that started them.

The SDK's own launcher (WorkflowEnvironment.start_local / start_time_skipping) starts
the binary from the core's threads, so a `pledge dev` or `pledge simulate` killed
outright left its servers running, and the next `pledge dev` attached to the orphan.
Started here, from the calling thread, each server asks Linux to kill it when its
parent dies (PR_SET_PDEATHSIG), and a port already taken is named before anything starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

import psutil
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment

# The SDK's time-skipping environment, built around a server started here; it holds
# the test server's clock controls (sleep, current time, locking around results).
from temporalio.testing._workflow import _V1WorkflowEnvironment

from service.runtime.temporal import DATA_CONVERTER, dev_server_binary, test_server_binary
from standards import visibility

PR_SET_PDEATHSIG = 1
STARTUP_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0


class ServerFailed(RuntimeError):
    """A server could not be started; the message says which and why."""


class PortTaken(ServerFailed):
    """A port a server needs is in use; the message says by what and how to choose another."""


def _die_with(parent: int) -> Callable[[], None]:
    # Looked up here, in the parent: loading a library in the child of a process with
    # threads can deadlock on a lock another thread held at the fork (seen under load,
    # a test server that never started).
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    kill = signal.SIGKILL

    def die_with_parent() -> None:
        # Runs in the child between fork and exec. The signal is sent when the thread
        # that forked exits, so servers are started from the main thread, never a pool.
        prctl(PR_SET_PDEATHSIG, kill)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return die_with_parent


def start_child(args: Sequence[str]) -> subprocess.Popen[bytes]:
    """A child process that Linux kills when this one dies, however it dies.

    In a process group of its own, so that a Ctrl-C reaches only this process, which
    stops its worker first and then the server, in that order.
    """
    return subprocess.Popen(
        list(args),
        stdin=subprocess.DEVNULL,
        preexec_fn=_die_with(os.getpid()) if sys.platform == "linux" else None,
        process_group=0,
    )


def holder_of(port: int) -> str:
    """Which process listens on a local port, as far as this user may see."""
    with contextlib.suppress(psutil.Error, OSError):
        for connection in psutil.net_connections(kind="tcp"):
            if (
                connection.laddr
                and connection.laddr.port == port
                and connection.status == psutil.CONN_LISTEN
                and connection.pid is not None
            ):
                process = psutil.Process(connection.pid)
                command = " ".join(process.cmdline()[:4]) or process.name()
                return f" by {command} (pid {connection.pid})"
    return ""


def check_port_free(port: int, setting: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers themselves bind: connections of a server that just died linger
        # in TIME_WAIT for a minute, and must not make its restart look refused.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise PortTaken(
                f"port {port} is already in use{holder_of(port)}; stop that process, or "
                f"choose another port with {setting}=<port>"
            ) from None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """A running server: its process and a client on it."""

    process: subprocess.Popen[bytes]
    client: Client

    async def shutdown(self) -> None:
        await stop_child(self.process)


async def stop_child(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)


def test_server_runtime() -> Runtime:
    """The core logs errors only for the legacy time-skipping server: it warns, once per
    worker, that the server lacks a capability (heartbeat details) rehearsals never use.
    One per server, dropped with it: none is left for the interpreter's finalisation."""
    quiet = TelemetryFilter(core_level="ERROR", other_level="ERROR")
    return Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=quiet)))


async def _serve(
    args: Sequence[str],
    address: str,
    namespace: str = "default",
    runtime: Runtime | None = None,
    data_converter: DataConverter = DATA_CONVERTER,
) -> ServerProcess:
    """Start a server and wait until it answers; stop it again if it never does."""
    process = start_child(args)
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    try:
        while True:
            if process.poll() is not None:
                raise ServerFailed(
                    f"{args[0]} exited with code {process.returncode} before answering "
                    "(its own message is above)"
                )
            try:
                client = await Client.connect(
                    address, namespace=namespace, data_converter=data_converter, runtime=runtime
                )
                return ServerProcess(process, client)
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise ServerFailed(
                        f"{args[0]} did not answer at {address} within "
                        f"{STARTUP_TIMEOUT_SECONDS:g} s"
                    ) from None
                await asyncio.sleep(0.2)
    except BaseException:
        await stop_child(process)
        raise


async def start_dev_server(
    port: int,
    ui_port: int,
    state_file: str,
    namespace: str = "default",
    data_converter: DataConverter = DATA_CONVERTER,
) -> ServerProcess:
    """The Temporal dev server with its state on disk and the case search attributes."""
    check_port_free(port, "PLEDGE_TEMPORAL_PORT")
    check_port_free(ui_port, "PLEDGE_TEMPORAL_UI_PORT")
    args = [
        dev_server_binary(),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--db-filename",
        state_file,
        "--namespace",
        namespace,
        "--log-level",
        "error",
        # As the SDK's own launcher sets them: updates (intake, events) need the first two.
        "--dynamic-config-value",
        "frontend.enableUpdateWorkflowExecution=true",
        "--dynamic-config-value",
        "frontend.enableUpdateWorkflowExecutionAsyncAccepted=true",
        "--dynamic-config-value",
        "frontend.enableServerVersionCheck=false",
    ]
    for key in visibility.ALL:
        args += ["--search-attribute", f"{key.name}={key._metadata_type}"]
    return await _serve(args, f"127.0.0.1:{port}", namespace, data_converter=data_converter)


@contextlib.asynccontextmanager
async def time_skipping_server() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server that dies with this process."""
    port = free_port()
    server = await _serve(
        [test_server_binary(), str(port)], f"127.0.0.1:{port}", runtime=test_server_runtime()
    )
    env = _V1WorkflowEnvironment(server.client, server)  # type: ignore[arg-type]
    try:
        yield env
    finally:
        await server.shutdown()
