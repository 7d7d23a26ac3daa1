"""`pledge web`: serve the Twilio webhook (status callbacks, STOP / START)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def web(
        host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    ) -> None:
        """Serve the Twilio webhook; Twilio must reach it at PLEDGE_PUBLIC_BASE_URL."""
        asyncio.run(serve(host, port))


async def serve(host: str, port: int) -> None:
    import uvicorn
    from temporalio.client import Client

    from service.settings import Settings
    from service.temporal import DATA_CONVERTER
    from storage.database import make_engine, make_session_factory, upgrade_to_head
    from web.app import create_app

    settings = Settings()
    if settings.twilio_auth_token is None:
        raise typer.BadParameter("set PLEDGE_TWILIO_AUTH_TOKEN: signatures cannot be checked")
    url = settings.resolved_database_url
    upgrade_to_head(url)
    address = settings.temporal_address or f"127.0.0.1:{settings.temporal_port}"
    client = await Client.connect(
        address, namespace=settings.temporal_namespace, data_converter=DATA_CONVERTER
    )
    app = create_app(settings, make_session_factory(make_engine(url)), client)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info"))
    await server.serve()
