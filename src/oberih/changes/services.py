"""Reading the change feed after a cursor, within the caller's jurisdiction."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from sqlalchemy import select, text, tuple_
from sqlalchemy.orm import Session

from oberih.auth.jurisdiction import Scope, apply_scope
from oberih.changes.models import ChangeEvent
from oberih.persons.models import PersonStateRow

START = "0-0"


class InvalidCursor(ValueError):
    def __init__(self) -> None:
        super().__init__("a cursor is two numbers joined by '-', as returned in next_cursor")


@dataclass(frozen=True, slots=True)
class Change:
    cursor: str
    person_id: uuid.UUID
    kind: str
    source: str
    recorded_at: dt.datetime


# ASCII digits only (``str.isdigit`` takes "²" and "١"), each number within the BIGINT columns
# it is compared with: a larger one is no cursor this service issued, not a database error.
_CURSOR = re.compile(r"([0-9]{1,19})-([0-9]{1,19})")
_MAX_BIGINT = 2**63 - 1


def parse_cursor(cursor: str | None) -> tuple[int, int]:
    match = _CURSOR.fullmatch(cursor or START)
    if match is None:
        raise InvalidCursor()
    txid, event_id = int(match[1]), int(match[2])
    if txid > _MAX_BIGINT or event_id > _MAX_BIGINT:
        raise InvalidCursor()
    return txid, event_id


def changes_after(
    session: Session, *, cursor: str | None, scope: Scope, limit: int = 100
) -> tuple[list[Change], str]:
    """Changes after ``cursor`` in commit order, and the cursor to resume from."""
    position = parse_cursor(cursor)
    query = (
        select(ChangeEvent)
        .join(PersonStateRow, PersonStateRow.person_id == ChangeEvent.person_id)
        .where(tuple_(ChangeEvent.txid, ChangeEvent.id) > tuple_(*position))
        .order_by(ChangeEvent.txid, ChangeEvent.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Only transactions older than every running one: nothing can commit behind them.
        query = query.where(
            ChangeEvent.txid < text("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        )
    rows = list(session.scalars(apply_scope(query, scope)))
    changes = [
        Change(
            cursor=f"{row.txid}-{row.id}",
            person_id=row.person_id,
            kind=row.kind,
            source=row.source,
            # SQLite hands back naive datetimes; everything the register stores is UTC.
            recorded_at=row.recorded_at
            if row.recorded_at.tzinfo
            else row.recorded_at.replace(tzinfo=dt.UTC),
        )
        for row in rows
    ]
    next_cursor = changes[-1].cursor if changes else f"{position[0]}-{position[1]}"
    return changes, next_cursor
