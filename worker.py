"""The Pledge Monitor worker, against an existing Temporal server: `python worker.py`.

An entry point only: the settings, then bootstrap builds and runs the worker until SIGTERM
or SIGINT (`pledge worker` runs the same; `pledge dev` runs it beside a dev server).
"""

from __future__ import annotations

from bootstrap import run_worker
from config import Settings
from service.runtime.temporal import run_to_end


def main() -> None:
    run_to_end(run_worker(Settings()))


if __name__ == "__main__":
    main()
