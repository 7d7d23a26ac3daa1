"""`pledge dev`: a Temporal dev server with its state on disk, migrations, the worker and
the web app, in one process.

An entry point: the server is started by service.runtime.servers, the worker and the web app's
parts are built by bootstrap; this module runs them side by side until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING

from rich.console import Console

from config import Settings
from service.retention import ensure_retention_schedule
from service.runtime.servers import ServerFailed, start_dev_server
from service.runtime.temporal import data_converter, log_expected_retries_briefly

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker
    from temporalio.client import Client

# What a newcomer can try once the service is up (in a second terminal).
NEXT_STEPS = (
    "pledge case open --reference 01/123456/26 --category burglary --borough Camden "
    '--name "Alex Smith" --email alex@example.org',
    "pledge case show 01/123456/26",
    "pledge outbox",
)


# The first admin account is explained rather than created: a password printed by the
# service would sit in the terminal's scrollback and any log of it; typed by the person
# who will use it, it is never shown anywhere.
# Its name is the one the pages show for what they do (an example: put your own).
FIRST_ADMIN_COMMAND = 'pledge user add --email you@example.org --name "Alex Morgan" --role admin'


def first_admin_lines(sessions: sessionmaker[Session]) -> list[str]:
    """What to do when nobody can sign in to the admin pages yet; nothing once someone can."""
    from service.accounts import has_active_admin

    if has_active_admin(sessions):
        return []
    return [
        "no admin account yet: create one (it asks for a password of 12 or more characters):",
        f"  {FIRST_ADMIN_COMMAND}",
    ]


async def _demo_cases(
    client: Client,
    sessions: sessionmaker[Session],
    settings: Settings,
    console: Console,
    stop: asyncio.Event,
) -> None:
    """Open the demo cases not yet opened (PLEDGE_DEMO_CASES), until done or Ctrl-C; a
    Temporal that does not answer is one line, and the service carries on without them."""
    from cli.demo import open_demo_cases, started_line
    from service.demo_workflows import DemoFailed, DemoPlan

    if settings.demo_cases == 0:
        return
    plan = DemoPlan(cases=settings.demo_cases)
    opening = asyncio.create_task(open_demo_cases(client, sessions, settings, plan, console))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({opening, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not opening.done():
        opening.cancel()
        with contextlib.suppress(asyncio.CancelledError, DemoFailed):
            await opening
        console.print("demo cases: stopped before all were opened; the next start opens the rest")
        return
    try:
        console.print(started_line(opening.result()), highlight=False)
    except (DemoFailed, ValueError) as error:
        console.print(f"demo cases not opened: {error}", highlight=False, soft_wrap=True)


async def run_dev(settings: Settings, console: Console) -> None:
    from activities.alerts import run_alert_mailer
    from bootstrap import alert_mailer, build_worker, parts_from_settings, web_server
    from cli.web import web_url

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
        # Encrypted like production when PLEDGE_PAYLOAD_KEYS is set; plain otherwise.
        data_converter(settings),
    )
    web_failure: str | None = None
    try:
        await ensure_retention_schedule(server.client, settings)
        worker = build_worker(server.client, settings, parts)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        async with worker:
            mailer = alert_mailer(settings, parts.sessions)
            sweeps = asyncio.create_task(run_alert_mailer(mailer, stop)) if mailer else None
            web_app = await web_server(settings)
            web = asyncio.create_task(web_app.serve())
            # uvicorn takes Ctrl-C while it serves; when it stops, so does everything.
            web.add_done_callback(lambda _: stop.set())
            while not web_app.started and not web.done():
                await asyncio.sleep(0.05)
            url = web_url(settings)
            console.print(
                f"Temporal: 127.0.0.1:{settings.temporal_port}  "
                f"Web UI: http://127.0.0.1:{settings.temporal_ui_port}"
            )
            if web_app.started:
                await _demo_cases(server.client, parts.sessions, settings, console, stop)
                console.print(f"web app: {url}  API: {url}/api/v1  docs: {url}/docs")
                console.print(f"staff pages: {url}/sign-in")
                for line in first_admin_lines(parts.sessions):
                    console.print(line, highlight=False, soft_wrap=True)
                console.print("try, in a second terminal (`. .venv/bin/activate` first):")
                for command in NEXT_STEPS:
                    console.print(f"  {command}", highlight=False, soft_wrap=True)
                console.print(f"worker polling task queue {settings.task_queue!r}; Ctrl-C stops")
            else:
                web_failure = (
                    f"the web app could not listen on {url}: is the port taken? choose another "
                    "with PLEDGE_WEB_PORT"
                )
                console.print(f"{web_failure}; stopping")
            await stop.wait()
            web_app.should_exit = True
            with contextlib.suppress(BaseException):
                await web
            if sweeps is not None:
                await sweeps
            console.print("stopping ...")
    finally:
        await server.shutdown()
        console.print("stopped cleanly")
    if web_failure is not None:
        raise ServerFailed(web_failure)
