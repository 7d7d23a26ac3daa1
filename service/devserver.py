"""`pledge dev`: a Temporal dev server with its state on disk, migrations, and the worker."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from rich.console import Console

from service.servers import start_dev_server
from service.settings import Settings
from service.temporal import log_expected_retries_briefly

# What a newcomer can try once the service is up (in a second terminal).
NEXT_STEPS = (
    "pledge case open --reference 01/123456/26 --category burglary --borough Camden "
    '--name "Alex Smith" --email alex@example.org',
    "pledge case show 01/123456/26",
    "pledge outbox",
)


async def run_dev(settings: Settings, console: Console) -> None:
    from activities.alerts import run_alert_mailer
    from worker import alert_mailer, build_worker, parts_from_settings

    log_expected_retries_briefly()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    console.print(f"database: {settings.resolved_database_url}")
    parts = parts_from_settings(settings)
    console.print(f"starting the Temporal dev server (state in {settings.temporal_state_file}) ...")
    # Started by this process, so that it dies with it: a `pledge dev` killed outright
    # used to leave its server running for the next start to attach to. The server
    # registers the search attributes itself (--search-attribute).
    server = await start_dev_server(
        settings.temporal_port,
        settings.temporal_ui_port,
        str(settings.temporal_state_file),
        settings.temporal_namespace,
    )
    try:
        worker = build_worker(server.client, settings, parts)
        console.print(
            f"Temporal: 127.0.0.1:{settings.temporal_port}  "
            f"Web UI: http://127.0.0.1:{settings.temporal_ui_port}"
        )
        console.print("try, in a second terminal (`. .venv/bin/activate` first):")
        for command in NEXT_STEPS:
            console.print(f"  {command}", highlight=False, soft_wrap=True)
        console.print(f"worker polling task queue {settings.task_queue!r}; Ctrl-C stops")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        async with worker:
            mailer = alert_mailer(settings, parts.sessions)
            sweeps = asyncio.create_task(run_alert_mailer(mailer, stop)) if mailer else None
            await stop.wait()
            if sweeps is not None:
                await sweeps
            console.print("stopping ...")
    finally:
        await server.shutdown()
        console.print("stopped cleanly")
