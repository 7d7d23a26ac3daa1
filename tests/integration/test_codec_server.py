"""The codec server over HTTP: Temporal's codec protocol, only with the token, only from
the Temporal UI's origin."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from temporalio.api.common.v1 import Payload

from service.runtime.codec_server import CodecSettingsError, create_codec_app
from service.runtime.encryption import EncryptionCodec, new_key_text, parse_keys
from tests.support.api import serving

TOKEN = "codec-test-token"
UI_ORIGIN = "http://ui.pledge.test:8080"
CASE_JSON = b'{"reference":"01/123456/26","category":"burglary"}'


def body(data: bytes, **metadata: bytes) -> dict[str, object]:
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in metadata.items()},
                "data": base64.b64encode(data).decode(),
            }
        ]
    }


def authorised(**headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}", "Origin": UI_ORIGIN, **headers}


@pytest_asyncio.fixture
async def codec_http() -> AsyncIterator[httpx.AsyncClient]:
    codec = EncryptionCodec(parse_keys(new_key_text("k1")))
    async with (
        serving(create_codec_app(codec, TOKEN, UI_ORIGIN)) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        yield http


async def test_what_encode_seals_decode_opens_again(codec_http: httpx.AsyncClient) -> None:
    plain = body(CASE_JSON, encoding=b"json/plain")
    sealed = await codec_http.post("/codec/encode", json=plain, headers=authorised())
    assert sealed.status_code == 200
    [payload] = sealed.json()["payloads"]
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"binary/encrypted"
    assert b"01/123456/26" not in base64.b64decode(payload["data"])
    opened = await codec_http.post("/codec/decode", json=sealed.json(), headers=authorised())
    assert opened.status_code == 200
    [back] = opened.json()["payloads"]
    assert base64.b64decode(back["data"]) == CASE_JSON
    assert opened.headers["access-control-allow-origin"] == UI_ORIGIN


async def test_without_the_token_nothing_is_decoded(codec_http: httpx.AsyncClient) -> None:
    sealed = await codec_http.post(
        "/codec/encode", json=body(CASE_JSON, encoding=b"json/plain"), headers=authorised()
    )
    missing = await codec_http.post(
        "/codec/decode", json=sealed.json(), headers={"Origin": UI_ORIGIN}
    )
    assert missing.status_code == 401
    wrong = await codec_http.post(
        "/codec/decode",
        json=sealed.json(),
        headers=authorised(Authorization="Bearer not-the-token"),
    )
    assert wrong.status_code == 403
    assert b"01/123456/26" not in missing.content + wrong.content


async def test_a_call_from_another_origin_is_refused_even_with_the_token(
    codec_http: httpx.AsyncClient,
) -> None:
    sealed = await codec_http.post(
        "/codec/encode", json=body(CASE_JSON, encoding=b"json/plain"), headers=authorised()
    )
    elsewhere = await codec_http.post(
        "/codec/decode", json=sealed.json(), headers=authorised(Origin="https://evil.example")
    )
    assert elsewhere.status_code == 403
    assert elsewhere.json() == {
        "detail": f"origin https://evil.example is not allowed; only {UI_ORIGIN} is"
    }
    assert "access-control-allow-origin" not in elsewhere.headers


async def test_the_browser_preflight_is_allowed_only_for_the_ui_origin(
    codec_http: httpx.AsyncClient,
) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
    }
    allowed = await codec_http.options("/codec/decode", headers={"Origin": UI_ORIGIN, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == UI_ORIGIN
    refused = await codec_http.options(
        "/codec/decode", headers={"Origin": "https://evil.example", **preflight}
    )
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


async def test_a_payload_under_an_unknown_key_is_one_clear_error(
    codec_http: httpx.AsyncClient,
) -> None:
    other = EncryptionCodec(parse_keys(new_key_text("k9")))
    [sealed] = await other.encode([Payload(metadata={"encoding": b"json/plain"}, data=CASE_JSON)])
    answer = await codec_http.post(
        "/codec/decode",
        json=body(sealed.data, **dict(sealed.metadata)),
        headers=authorised(),
    )
    assert answer.status_code == 422
    assert "encrypted with key 'k9'" in answer.json()["detail"]


async def test_a_body_that_is_not_payloads_is_refused(codec_http: httpx.AsyncClient) -> None:
    answer = await codec_http.post("/codec/decode", content=b"[1, 2", headers=authorised())
    assert answer.status_code == 400
    assert answer.json() == {"detail": 'the body must be {"payloads": [...]} in protobuf JSON'}


def test_the_codec_server_will_not_start_without_a_token() -> None:
    codec = EncryptionCodec(parse_keys(new_key_text("k1")))
    with pytest.raises(CodecSettingsError, match="needs PLEDGE_CODEC_TOKEN"):
        create_codec_app(codec, "", UI_ORIGIN)
