"""Mounts the pages' static files and routers on the app."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from web.pages.rendering import PAGES_DIR, STATIC_PATH


def install_pages(app: FastAPI) -> None:
    app.mount(STATIC_PATH, StaticFiles(directory=PAGES_DIR / "static"), name="static")
