"""Running `pledge` commands and `pledge dev` as subprocesses, on ports of their own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def dev_environment_in(data_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a `pledge` (or `pledge dev`) with its own data directory and
    free ports."""
    return {
        **os.environ,
        "PLEDGE_DATA_DIR": str(data_dir),
        "PLEDGE_TEMPORAL_PORT": str(free_port()),
        "PLEDGE_TEMPORAL_UI_PORT": str(free_port()),
        "PLEDGE_WEB_PORT": str(free_port()),
        # No demo cases unless a test asks for them: each would slow every start.
        "PLEDGE_DEMO_CASES": "0",
        **overrides,
    }


def start_pledge(environment: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """A long-running `pledge` command, its output (stdout and stderr) on a pipe."""
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", *args],
        env=environment,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def start_dev(environment: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """Start `pledge dev`; return the process and what it printed until it was ready."""
    process = start_pledge(environment, "dev")
    assert process.stdout is not None
    deadline = time.monotonic() + 90
    seen = ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen += line
        if "Ctrl-C stops" in line or "could not listen" in line:
            return process, seen
        if process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"pledge dev did not come up:\n{seen}")


def stop_dev(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    return output


def case_open_args(reference: str, borough: str = "Camden") -> tuple[str, ...]:
    """`pledge case open` for a burglary with an email-only victim."""
    return (
        *("case", "open", "--reference", reference, "--category", "burglary"),
        *("--borough", borough, "--name", "Alex Smith", "--email", "alex@example.org"),
    )


def pledge(
    environment: dict[str, str], *args: str, timeout: float = 120, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a `pledge` command to its end; `stdin`, if given, is what it reads."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        input=stdin,
    )
