"""`pledge dev`: a Temporal dev server with its state on disk, migrations, the worker and
the web app."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from rich.console import Console
from temporalio.testing import WorkflowEnvironment

from service.settings import Settings
from service.temporal import DATA_CONVERTER, dev_server_binary, register_search_attributes
from workflows import search_attributes


async def run_dev(settings: Settings, console: Console) -> None:
    from activities.alerts import run_alert_mailer
    from web.cli import web_server, web_url
    from worker import alert_mailer, build_worker, parts_from_settings

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    console.print(f"database: {settings.resolved_database_url}")
    parts = parts_from_settings(settings)
    console.print(f"starting the Temporal dev server (state in {settings.temporal_state_file}) ...")
    env = await WorkflowEnvironment.start_local(
        namespace=settings.temporal_namespace,
        port=settings.temporal_port,
        ui=True,
        ui_port=settings.temporal_ui_port,
        dev_server_existing_path=dev_server_binary(),
        dev_server_database_filename=str(settings.temporal_state_file),
        search_attributes=search_attributes.ALL,
        data_converter=DATA_CONVERTER,
    )
    try:
        await register_search_attributes(env.client, settings.temporal_namespace)
        worker = build_worker(env.client, settings, parts)
        console.print(
            f"Temporal: 127.0.0.1:{settings.temporal_port}  "
            f"Web UI: http://127.0.0.1:{settings.temporal_ui_port}"
        )
        console.print(f"worker polling task queue {settings.task_queue!r}; Ctrl-C stops")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        async with worker:
            mailer = alert_mailer(settings, parts.sessions)
            sweeps = asyncio.create_task(run_alert_mailer(mailer, stop)) if mailer else None
            server = await web_server(settings)
            web = asyncio.create_task(server.serve())
            # uvicorn takes Ctrl-C while it serves; when it stops, so does everything.
            web.add_done_callback(lambda _: stop.set())
            while not server.started and not web.done():
                await asyncio.sleep(0.05)
            url = web_url(settings)
            if server.started:
                console.print(f"web app: {url}  API: {url}/api/v1  docs: {url}/docs")
            else:
                console.print(f"the web app could not listen on {url} (PLEDGE_WEB_PORT); stopping")
            await stop.wait()
            server.should_exit = True
            with contextlib.suppress(BaseException):
                await web
            if sweeps is not None:
                await sweeps
            console.print("stopping ...")
    finally:
        await env.shutdown()
        console.print("stopped cleanly")
