"""Mounts the pages' static files and routers on the app."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from web.pages import dev_outbox, victim
from web.pages.rendering import PAGES_DIR, STATIC_PATH


def install_pages(app: FastAPI) -> None:
    app.mount(STATIC_PATH, StaticFiles(directory=PAGES_DIR / "static"), name="static")
    # Victims' "track my report" pages, and the development outbox they sign in with.
    app.include_router(victim.router)
    app.include_router(dev_outbox.router)
