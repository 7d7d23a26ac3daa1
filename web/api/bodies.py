"""Reading a JSON request body: its media type, its size and its syntax, before its meaning."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from web.api.problems import FieldProblem, ProblemError, json_pointer, summary

MAX_BODY_BYTES = 64 * 1024
# PostgreSQL's text cannot hold it, and no field of a case has a use for it.
NUL = "\x00"
NUL_REFUSED = "the NUL character (\\u0000) is not accepted in text"


def is_json_media_type(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def read_json_object(request: Request) -> dict[str, Any]:
    if not is_json_media_type(request.headers.get("content-type")):
        raise ProblemError(
            415,
            f"the body must be application/json, not {request.headers.get('content-type')!r}",
            "unsupported-media-type",
        )
    too_large = ProblemError(
        413, f"the body is larger than {MAX_BODY_BYTES // 1024} KiB", "content-too-large"
    )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    # Read in pieces so an undeclared (chunked) body is refused as soon as it is too big.
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise too_large
    try:
        parsed = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProblemError(400, f"the body is not JSON: {error}", "not-json") from error
    if not isinstance(parsed, dict):
        raise ProblemError(
            400, f"the body must be a JSON object, not {type(parsed).__name__}", "not-an-object"
        )
    problems = [
        FieldProblem(pointer=json_pointer(path), detail=NUL_REFUSED) for path in nuls(parsed)
    ]
    if problems:
        raise ProblemError(422, summary(problems), "invalid-request", problems)
    return parsed


def nuls(value: Any, path: tuple[int | str, ...] = ()) -> list[tuple[int | str, ...]]:
    """Where in a parsed JSON value a string (a key or a value) holds a NUL character."""
    if isinstance(value, str):
        return [path] if NUL in value else []
    if isinstance(value, dict):
        found = [(*path, key) for key in value if NUL in key]
        for key, item in value.items():
            found += nuls(item, (*path, key))
        return found
    if isinstance(value, list):
        return [where for index, item in enumerate(value) for where in nuls(item, (*path, index))]
    return []
