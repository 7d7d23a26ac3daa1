"""Mounts the pages' static files and routers on the app."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from web.pages import (
    admin,
    alerts,
    case_actions,
    case_page,
    dashboard,
    dashboard_cases,
    dev_outbox,
    queue,
    sign_in,
    victim,
    victim_case,
)
from web.pages.rendering import PAGES_DIR, STATIC_PATH
from web.pages.staff_auth import install_staff_auth


def install_pages(app: FastAPI) -> None:
    app.mount(STATIC_PATH, StaticFiles(directory=PAGES_DIR / "static"), name="static")
    install_staff_auth(app)
    app.include_router(sign_in.router)
    app.include_router(admin.router)
    app.include_router(dashboard.router)
    app.include_router(dashboard_cases.router)
    # The VFU queue and the case page; the actions' POST routes before the case page's
    # GET, whose path takes the rest of the URL.
    app.include_router(queue.router)
    app.include_router(alerts.router)
    app.include_router(case_actions.router)
    app.include_router(case_page.router)

    # Victims' "track my report" pages, and the development outbox they sign in with.
    app.include_router(victim.router)
    app.include_router(victim_case.router)
    app.include_router(dev_outbox.router)
