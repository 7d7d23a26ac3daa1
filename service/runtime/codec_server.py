"""The codec server: lets the Temporal UI (and `temporal --codec-endpoint`) show a case's
encrypted payloads to someone allowed to read them.

It speaks Temporal's codec server protocol: POST /codec/decode and /codec/encode take
`{"payloads": [...]}` (protobuf JSON, bytes in base64) and answer the same shape. Every
call needs `Authorization: Bearer <PLEDGE_CODEC_TOKEN>`, and a browser may call it only
from the Temporal UI's origin (PLEDGE_CODEC_ALLOWED_ORIGIN): anything else gets 401 or
403 and decodes nothing.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from fastapi import Depends, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from pydantic import BaseModel
from temporalio.api.common.v1 import Payloads

from service.runtime.encryption import EncryptionCodec, PayloadDecryptionError

log = logging.getLogger("pledge.codec")

CODEC_PATHS = ("/codec/encode", "/codec/decode")


class CodecSettingsError(ValueError):
    """The codec server cannot start safely; the message says which setting is missing."""


class Health(BaseModel):
    status: str


class Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail


def create_codec_app(codec: EncryptionCodec, token: str, allowed_origin: str) -> FastAPI:
    """The codec server's app; refuses to exist without a token to check."""
    if not token:
        raise CodecSettingsError(
            "the codec server needs PLEDGE_CODEC_TOKEN: it decodes case data, so it never "
            "answers unauthenticated"
        )
    allowed_origin = allowed_origin.rstrip("/")
    app = FastAPI(title="Pledge Monitor codec server", docs_url=None, redoc_url=None)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[allowed_origin],
        allow_methods=["POST"],
        allow_headers=["Authorization", "Content-Type", "X-Namespace"],
        allow_credentials=True,
    )

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> Response:
        return JSONResponse({"detail": error.detail}, status_code=error.status)

    def authorised(request: Request) -> None:
        # CORS alone only stops a browser reading the answer; a wrong origin is refused
        # before anything is decoded.
        origin = request.headers.get("origin")
        if origin is not None and origin.rstrip("/") != allowed_origin:
            raise Refused(403, f"origin {origin} is not allowed; only {allowed_origin} is")
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented:
            raise Refused(401, "a bearer token is required (Authorization: Bearer ...)")
        if not hmac.compare_digest(presented.encode(), token.encode()):
            raise Refused(403, "the bearer token is not valid")

    async def transform(
        request: Request, step: Callable[[list[object]], Awaitable[list[object]]]
    ) -> Response:
        payloads = Payloads()
        try:
            json_format.Parse(await request.body(), payloads)
        except json_format.ParseError:
            raise Refused(400, 'the body must be {"payloads": [...]} in protobuf JSON') from None
        try:
            result = Payloads(payloads=await step(list(payloads.payloads)))  # type: ignore[arg-type]
        except PayloadDecryptionError as error:
            raise Refused(422, str(error)) from None
        return Response(json_format.MessageToJson(result), media_type="application/json")

    @app.post("/codec/encode", dependencies=[Depends(authorised)])
    async def encode(request: Request) -> Response:
        return await transform(request, codec.encode)  # type: ignore[arg-type]

    @app.post("/codec/decode", dependencies=[Depends(authorised)])
    async def decode(request: Request) -> Response:
        log.info("decode requested", extra={"namespace": request.headers.get("x-namespace")})
        return await transform(request, codec.decode)  # type: ignore[arg-type]

    @app.get("/healthz", response_model=Health)
    async def healthz() -> Health:
        return Health(status="ok")

    return app
