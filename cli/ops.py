"""The commands a deployment runs: `pledge worker`, `pledge worker-health`, `pledge probe`,
`pledge codec-server` and `pledge payload-key new`."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Annotated

import typer
from rich.console import Console

from cli.errors import print_error

PROBE_TIMEOUT_SECONDS = 3.0

err = Console(stderr=True, soft_wrap=True)
out = Console()

payload_key_app = typer.Typer(help="Payload encryption keys.", no_args_is_help=True)


def probe_url(url: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> str | None:
    """None when GET url answers 2xx within the timeout; else one line saying what happened."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        return f"{url} answered {error.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        return f"{url} is not answering ({reason})"
    return None if 200 <= status < 300 else f"{url} answered {status}"


def register(app: typer.Typer) -> None:
    app.add_typer(payload_key_app, name="payload-key")

    @app.command()
    def worker() -> None:
        """Run the worker against PLEDGE_TEMPORAL_ADDRESS until SIGTERM (graceful stop)."""
        from bootstrap import run_worker
        from config import Settings
        from service.runtime.temporal import run_to_end

        run_to_end(run_worker(Settings()))

    @app.command("worker-health")
    def worker_health() -> None:
        """Exit 0 if this host's worker is polling (its PLEDGE_WORKER_METRICS_PORT /healthz)."""
        from config import Settings

        settings = Settings()
        if settings.worker_metrics_port is None:
            print_error(err, "PLEDGE_WORKER_METRICS_PORT is not set: the worker serves no health")
            raise typer.Exit(1)
        failure = probe_url(f"http://127.0.0.1:{settings.worker_metrics_port}/healthz")
        if failure is not None:
            print_error(err, f"the worker is not healthy: {failure}")
            raise typer.Exit(1)
        out.print("worker polling")

    @app.command()
    def probe(
        url: Annotated[str, typer.Argument(help="e.g. http://127.0.0.1:8000/readyz")],
    ) -> None:
        """Exit 0 if GET URL answers 2xx within 3 s (a container health check)."""
        failure = probe_url(url)
        if failure is not None:
            print_error(err, failure)
            raise typer.Exit(1)

    @app.command("codec-server")
    def codec_server(
        host: Annotated[str | None, typer.Option(help="default PLEDGE_CODEC_HOST")] = None,
        port: Annotated[int | None, typer.Option(help="default PLEDGE_CODEC_PORT")] = None,
    ) -> None:
        """Serve /codec/decode and /codec/encode for the Temporal UI (token and origin checked)."""
        import uvicorn

        from config import Settings
        from service.runtime.codec_server import CodecSettingsError, create_codec_app
        from service.runtime.logs import configure_logging
        from service.runtime.temporal import ConnectionSettingsError, payload_codec

        settings = Settings()
        configure_logging(settings)
        try:
            codec = payload_codec(settings)
            if codec is None:
                raise CodecSettingsError(
                    "the codec server needs PLEDGE_PAYLOAD_KEYS: without keys there is "
                    "nothing to decode"
                )
            token = settings.codec_token.get_secret_value() if settings.codec_token else ""
            app_ = create_codec_app(codec, token, settings.codec_allowed_origin)
        except (CodecSettingsError, ConnectionSettingsError) as error:
            print_error(err, str(error))
            raise typer.Exit(1) from None
        uvicorn.run(
            app_,
            host=host or settings.codec_host,
            port=port or settings.codec_port,
            log_level="info",
        )


@payload_key_app.command("new")
def payload_key_new(
    key_id: Annotated[str, typer.Argument(help="a short id for the key, e.g. k2")],
) -> None:
    """Print a fresh key as `id:base64`, to put first in PLEDGE_PAYLOAD_KEYS."""
    from service.runtime.encryption import new_key_text

    if not key_id or any(c in key_id for c in ",: "):
        print_error(err, f"key id {key_id!r} may not be empty or hold ',', ':' or spaces")
        raise typer.Exit(1)
    out.print(new_key_text(key_id), highlight=False, soft_wrap=True)
