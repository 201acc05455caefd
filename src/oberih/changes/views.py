"""``GET /api/v1/changes?after=CURSOR``: ordered change events with a resumable cursor."""

# No ``from __future__ import annotations``: FastAPI reads the dependency annotations.
import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from oberih.api.dependencies import DbSession, record_read
from oberih.api.problems import ApiProblem
from oberih.auth.dependencies import Access, access
from oberih.auth.permissions import Permission
from oberih.changes.services import InvalidCursor, changes_after

router = APIRouter(prefix="/api/v1", tags=["changes"])


class ChangeRead(BaseModel):
    cursor: str
    person_id: uuid.UUID
    kind: str
    source: str
    recorded_at: dt.datetime


class ChangePage(BaseModel):
    changes: list[ChangeRead]
    next_cursor: str  # pass as ``after`` to resume; unchanged when nothing new


@router.get("/changes", summary="What changed, in commit order, after a cursor")
def read_changes(
    session: DbSession,
    granted: Annotated[Access, Depends(access(Permission.person_record_read))],
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ChangePage:
    try:
        changes, next_cursor = changes_after(
            session, cursor=after, scope=granted.scope, limit=limit
        )
    except InvalidCursor as exc:
        raise ApiProblem(422, "invalid-cursor", "Invalid cursor", str(exc)) from None
    persons = sorted({change.person_id for change in changes})
    for person in persons:
        record_read(session, granted.event(person_id=person, fields=("changes",)))
    return ChangePage(
        changes=[
            ChangeRead(
                cursor=c.cursor,
                person_id=c.person_id,
                kind=c.kind,
                source=c.source,
                recorded_at=c.recorded_at,
            )
            for c in changes
        ],
        next_cursor=next_cursor,
    )
