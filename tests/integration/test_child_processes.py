"""The servers `pledge dev` and the rehearsals start die with the process that started them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="the parent-death signal is Linux's"
)

# Started from a process with other threads running, as the service's are: the child must
# still start (nothing in it may wait on a lock a thread held at the fork).
PARENT = """
import sys, threading, time
from service.runtime.servers import start_child

stop = threading.Event()
def busy() -> None:
    while not stop.is_set():
        bytearray(4096)
threads = [threading.Thread(target=busy, daemon=True) for _ in range(4)]
for thread in threads:
    thread.start()
children = [start_child([sys.executable, "-c", "import time; time.sleep(120)"]) for _ in range(20)]
print(" ".join(str(child.pid) for child in children), flush=True)
time.sleep(120)
"""


def _gone(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def test_children_started_beside_busy_threads_start_and_die_when_their_parent_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    try:
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(parent.stdout.readline()))  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout=60)
        assert line and line[0].strip(), "the parent did not start its children within 60 s"
        children = [int(pid) for pid in line[0].split()]
        assert len(children) == 20
        assert all(psutil.pid_exists(pid) for pid in children)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(_gone(pid) for pid in children):
            time.sleep(0.1)
        assert [pid for pid in children if not _gone(pid)] == []
    finally:
        parent.kill()
        parent.wait(timeout=10)
