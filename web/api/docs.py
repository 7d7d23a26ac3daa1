"""The OpenAPI document, completed, and a docs page that needs nothing from the internet."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from swagger_ui_bundle import swagger_ui_path

from web.api.problems import PROBLEM_MEDIA_TYPE, Problem

ASSETS_PATH = "/docs/assets"
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
# The headers these answers always carry (only opening a case answers 201 or 202).
RESPONSE_HEADERS = {
    "201": {"Location": "the case's URL"},
    "202": {"Location": "the case's URL"},
    "401": {"WWW-Authenticate": "Bearer"},
    "429": {"Retry-After": "seconds to wait"},
    "503": {"Retry-After": "seconds to wait"},
}


def install_docs(app: FastAPI, body_models: list[type[BaseModel]]) -> None:
    """Serve /openapi.json (with the bodies routes read themselves) and an offline /docs."""
    # Swagger UI's scripts and styles come with the swagger-ui-bundle package.
    app.mount(ASSETS_PATH, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
            # Swagger UI would otherwise send the document to an online validator.
            swagger_ui_parameters={"validatorUrl": None},
        )

    app.openapi = complete_openapi(app, body_models)  # type: ignore[method-assign]


def complete_openapi(
    app: FastAPI, body_models: list[type[BaseModel]]
) -> Callable[[], dict[str, Any]]:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        models: list[type[BaseModel]] = [*body_models, Problem]
        _, definitions = models_json_schema(
            [(model, "validation") for model in models],
            ref_template="#/components/schemas/{model}",
        )
        schemas.update(definitions.get("$defs", {}))
        # Every error is a problem document, whatever FastAPI assumed (its 422 schema).
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for code, response in operation.get("responses", {}).items():
                    if str(code).isdigit() and int(code) >= 400:
                        response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}
                    headers = RESPONSE_HEADERS.get(str(code), {})
                    if headers:
                        response["headers"] = {
                            name: {
                                "description": description,
                                "required": True,
                                "schema": {"type": "string"},
                            }
                            for name, description in headers.items()
                        }
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = schema
        return schema

    return openapi
