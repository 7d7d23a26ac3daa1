"""Many rows of one table in one DB-API ``executemany``, each value bound by its column's
own type for the dialect (UTC instants, booleans and JSON exactly as the models write them).

Building the bound values is most of the cost of a bulk insert, and it needs no
connection: a process that makes rows can bind them (`values`) and hand plain tuples to
the one that writes them (`write`), which only puts the numbered columns in front.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.engine import URL, Dialect


def dialect_named(name: str) -> Dialect:
    """A dialect from its ``name+driver`` (``sqlite+pysqlite``, ``postgresql+psycopg``)."""
    return URL.create(name).get_dialect()()


def dialect_name(dialect: Dialect) -> str:
    return f"{dialect.name}+{dialect.driver}"


class BulkTable:
    """A table's insert with `numbered` columns (ids, parents' ids) given by the writer and
    every other column, in the table's order, bound from a row mapping by `values`."""

    def __init__(self, table: Table, dialect: Dialect, numbered: Sequence[str] = ("id",)) -> None:
        self.table = table
        self.numbered = tuple(numbered)
        self.columns = tuple(c.name for c in table.columns if c.name not in self.numbered)
        self._binders: list[tuple[str, Callable[[Any], Any] | None]] = [
            (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in self.columns
        ]
        names = (*self.numbered, *self.columns)
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.statement = (
            f"INSERT INTO {table.name} ({', '.join(names)}) "
            f"VALUES ({', '.join(mark for _ in names)})"
        )

    def values(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """The row's values (every column but the numbered ones), bound for the dialect."""
        return tuple(
            value if bind is None or value is None else bind(value)
            for name, bind in self._binders
            for value in (row[name],)
        )

    def write(self, connection: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows of (numbered columns..., `values(...)`) in one executemany."""
        if rows:
            connection.exec_driver_sql(self.statement, list(rows))
