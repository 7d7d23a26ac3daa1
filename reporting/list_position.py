"""Where a page of a list in deadline order ends, as its links carry it: the last
obligation's (due_at, id), written `due_at~id` (storage.deadline_order reads after it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

SEPARATOR: Final = "~"


class PositionError(ValueError):
    """A list position this list never wrote."""


@dataclass(frozen=True, order=True)
class ListPosition:
    """Where a page ends: its last obligation's deadline and id."""

    due_at: datetime
    obligation_id: int

    def text(self) -> str:
        return f"{self.due_at.astimezone(UTC).isoformat()}{SEPARATOR}{self.obligation_id}"

    @classmethod
    def parse(cls, raw: str) -> ListPosition:
        due, _, ident = raw.strip().partition(SEPARATOR)
        try:
            due_at, number = datetime.fromisoformat(due), int(ident)
        except ValueError as error:
            raise PositionError("the list position is not one this page wrote") from error
        if due_at.utcoffset() is None or number < 0:
            raise PositionError("the list position is not one this page wrote")
        return cls(due_at.astimezone(UTC), number)
