"""What every `pledge` command shares: the consoles, the one-line failure, the force."""

from __future__ import annotations

import typer
from rich.console import Console

from cli.errors import print_error
from config import Settings
from standards.datafile import DataFileError
from standards.force import Force

out = Console()
# An error is one line however narrow the terminal: Rich would otherwise wrap it.
err = Console(stderr=True, soft_wrap=True)

BOROUGH_HELP = "a borough by id or name, any case (the force file lists them)"


def fail(message: str, code: int = 1) -> typer.Exit:
    print_error(err, message)
    return typer.Exit(code)


def settings() -> Settings:
    return Settings()


def force_or_fail(settings: Settings) -> Force:
    """The configured force file, or a one-line failure naming its mistake."""
    import bootstrap

    try:
        return bootstrap.force(settings)
    except DataFileError as error:
        raise fail(str(error)) from error
