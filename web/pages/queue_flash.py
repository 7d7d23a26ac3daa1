"""The worklist's flash: what went wrong with a form posted from it, carried across the
303 back to the list in a short-lived cookie, so the list shows the error summary and
what was typed, and reloading it posts nothing again.

The cookie is signed with a key derived from the staff session's id (as the form token
is), so only this session's server can have written it and no other secret is needed;
it lives FLASH_SECONDS, is limited to the list's path and is cleared by the page that
shows it. It holds the errors and the posted form's own fields, never the form token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from fastapi import Request, Response

from web.api.context import api_context
from web.pages.rendering import FieldError
from web.pages.staff_auth import CSRF_FIELD, cookie_is_secure

FLASH_SECONDS: Final = 120
FLASH_PATH: Final = "/queue"
# Browsers keep at least 4,096 bytes a cookie, name and attributes included.
FLASH_MAX_BYTES: Final = 3_500


@dataclass(frozen=True)
class Flash:
    errors: list[FieldError]
    submitted: dict[str, str]


def _cookie_name(request: Request) -> str:
    return api_context(request).settings.staff_cookie_name + "_flash"


def _key(request: Request) -> bytes | None:
    session_id = request.cookies.get(api_context(request).settings.staff_cookie_name)
    if not session_id:
        return None
    return hashlib.sha256(b"pledge queue flash\0" + session_id.encode("utf-8")).digest()


def _sign(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode("ascii"), hashlib.sha256).hexdigest()


def _now(request: Request) -> float:
    return api_context(request).clock().timestamp()


def _encode(
    key: bytes, until: float, errors: list[FieldError], submitted: Mapping[str, str]
) -> str:
    document = {
        "until": until,
        "errors": [[error.field, error.message] for error in errors],
        "submitted": dict(submitted),
    }
    packed = zlib.compress(json.dumps(document, ensure_ascii=False).encode("utf-8"))
    payload = base64.urlsafe_b64encode(packed).decode("ascii")
    return f"{payload}.{_sign(key, payload)}"


def flash_cookie(
    request: Request,
    response: Response,
    errors: list[FieldError],
    submitted: Mapping[str, Any],
) -> None:
    """Set the flash on `response` (a redirect back to the list). What was typed that
    would not fit in a cookie (a very long explanation) is left out; the errors never are."""
    key = _key(request)
    if key is None:
        return
    fields = {
        name: value
        for name, value in submitted.items()
        if name != CSRF_FIELD and isinstance(value, str)
    }
    until = _now(request) + FLASH_SECONDS
    value = _encode(key, until, errors, fields)
    if len(value) > FLASH_MAX_BYTES:
        short = {name: text for name, text in fields.items() if len(text) <= 200}
        value = _encode(key, until, errors, short)
    settings = api_context(request).settings
    response.set_cookie(
        _cookie_name(request),
        value,
        max_age=FLASH_SECONDS,
        path=FLASH_PATH,
        httponly=True,
        secure=cookie_is_secure(settings),
        samesite="lax",
    )


def read_flash(request: Request) -> Flash | None:
    """The flash this session's server set, if it is there, intact and not expired."""
    value = request.cookies.get(_cookie_name(request))
    key = _key(request)
    if not value or key is None or "." not in value:
        return None
    payload, signature = value.rsplit(".", 1)
    if not hmac.compare_digest(_sign(key, payload), signature):
        return None
    try:
        document = json.loads(zlib.decompress(base64.urlsafe_b64decode(payload)))
        if float(document["until"]) < _now(request):
            return None
        errors = [FieldError(str(field), str(message)) for field, message in document["errors"]]
        submitted = {str(k): str(v) for k, v in dict(document["submitted"]).items()}
    except (ValueError, KeyError, TypeError, zlib.error):
        return None
    return Flash(errors=errors, submitted=submitted)


def clear_flash(request: Request, response: Response) -> None:
    settings = api_context(request).settings
    response.delete_cookie(
        _cookie_name(request),
        path=FLASH_PATH,
        secure=cookie_is_secure(settings),
        httponly=True,
        samesite="lax",
    )


__all__ = ["FLASH_SECONDS", "Flash", "clear_flash", "flash_cookie", "read_flash"]
