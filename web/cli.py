"""`pledge web`: serve the web app alone (the HTTP API, and the Twilio webhook if configured)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import uvicorn

    from service.settings import Settings


def register(app: typer.Typer) -> None:
    @app.command()
    def web(
        host: Annotated[
            str | None, typer.Option(help="address to listen on (default PLEDGE_WEB_HOST)")
        ] = None,
        port: Annotated[
            int | None, typer.Option(help="port to listen on (default PLEDGE_WEB_PORT)")
        ] = None,
    ) -> None:
        """Serve the HTTP API (/api/v1, docs at /docs) and the Twilio webhook."""
        from service.settings import Settings

        settings = Settings()
        if host is not None:
            settings.web_host = host
        if port is not None:
            settings.web_port = port
        if settings.log_format == "json":
            from service.logs import configure_logging

            configure_logging(settings)
        asyncio.run(serve(settings))


async def web_server(settings: Settings) -> uvicorn.Server:
    """The app under uvicorn, on PLEDGE_WEB_HOST:PLEDGE_WEB_PORT, ready to `serve()`.

    The Temporal client connects lazily, so the app starts (and /readyz says so) while
    Temporal is still down.
    """
    import uvicorn
    from temporalio.client import Client

    from service.temporal import connect_options
    from storage.database import make_engine, make_session_factory, upgrade_to_head
    from web.app import create_app

    url = settings.resolved_database_url
    upgrade_to_head(url)
    client = await Client.connect(**connect_options(settings), lazy=True)
    app = create_app(settings, make_session_factory(make_engine(url)), client)
    # JSON logs: uvicorn's loggers go through the root logger's JSON handler instead of
    # uvicorn's own console format.
    config = uvicorn.Config(
        app,
        host=settings.web_host,
        port=settings.web_port,
        log_level="info",
        log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
    )
    return uvicorn.Server(config)


def web_url(settings: Settings) -> str:
    return f"http://{settings.web_host}:{settings.web_port}"


async def serve(settings: Settings) -> None:
    server = await web_server(settings)
    url = web_url(settings)
    print(f"web app: {url} (API docs at {url}/docs, staff pages at {url}/sign-in)", flush=True)
    await server.serve()
