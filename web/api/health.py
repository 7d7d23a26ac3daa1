"""Liveness and readiness: is the process up, and do the database and Temporal answer."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text

from web.api.context import api_context
from web.api.problems import ProblemError, problem_responses

# A dependency that takes longer than this to answer counts as not answering.
READY_TIMEOUT_SECONDS = 3.0

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    temporal: str


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="The database and Temporal answer",
    responses=problem_responses(503),
)
async def readyz(request: Request) -> Readiness:
    context = api_context(request)

    def ping_database() -> None:
        with context.sessions() as session:
            session.execute(text("SELECT 1"))

    failing: list[str] = []
    try:
        await asyncio.wait_for(asyncio.to_thread(ping_database), READY_TIMEOUT_SECONDS)
    except Exception as error:
        failing.append(f"the database does not answer ({type(error).__name__})")
    try:
        health = context.temporal.service_client.check_health()
        await asyncio.wait_for(health, READY_TIMEOUT_SECONDS)
    except Exception as error:
        failing.append(f"Temporal does not answer ({type(error).__name__})")
    if failing:
        raise ProblemError(503, "; ".join(failing), "not-ready", headers={"Retry-After": "5"})
    return Readiness(status="ready", database="ok", temporal="ok")
