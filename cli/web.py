"""`pledge web`: serve the web app alone (the HTTP API, and the Twilio webhook if configured)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from config import Settings


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
        from config import Settings

        settings = Settings()
        if host is not None:
            settings.web_host = host
        if port is not None:
            settings.web_port = port
        if settings.log_format == "json":
            from service.runtime.logs import configure_logging

            configure_logging(settings)
        asyncio.run(serve(settings))


def web_url(settings: Settings) -> str:
    return f"http://{settings.web_host}:{settings.web_port}"


async def serve(settings: Settings) -> None:
    from bootstrap import web_server

    server = await web_server(settings)
    url = web_url(settings)
    print(f"web app: {url} (API docs at {url}/docs, staff pages at {url}/sign-in)", flush=True)
    await server.serve()
