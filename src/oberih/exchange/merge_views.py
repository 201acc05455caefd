"""HTTP routes of merges: a merge as the register keeps it, and its undoing by an officer
(``exchange.merge.undo_merge``), so that a merge made by mistake from the duplicate queue is
undone where it was made, not by an operator with a shell (``oberih exchange unmerge``).

Under the permissions of the duplicate queue's merge: undoing a merge writes both persons'
records as the merge did.
"""

# No ``from __future__ import annotations``: FastAPI reads the dependency annotations.
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy.orm import Session

from oberih.api.dependencies import DbSession, Now, record_access
from oberih.api.problems import ApiProblem
from oberih.auth.dependencies import Access, access
from oberih.auth.permissions import Permission
from oberih.exchange.duplicate_views import (
    DuplicateSummary,
    MergeRead,
    duplicate_summary,
    merge_read,
)
from oberih.exchange.merge import (
    MergeNotAllowed,
    MergeNotFound,
    get_merge,
    merge_audit_events,
    undo_merge,
)
from oberih.exchange.models import PersonMerge
from oberih.persons.services import IdentifierTaken, PersonNotFound

router = APIRouter(prefix="/api/v1/exchange/merges", tags=["exchange"])


class MergeUndone(BaseModel):
    merge: MergeRead
    # The pair ``oberih dedup`` queued for the two persons, open again if this merge had
    # confirmed it (the officer decides it anew); None when they were never queued.
    duplicate: DuplicateSummary | None


@router.get("/{merge_id}", summary="A merge: who was merged into whom, by whom, and if undone")
def read_merge(
    merge_id: uuid.UUID,
    session: DbSession,
    _granted: Annotated[Access, Depends(access(Permission.person_match_review))],
) -> MergeRead:
    # Ids and who decided, no personal data: not audited, as the list of duplicate pairs.
    return merge_read(_merge(session, merge_id))


@router.post("/{merge_id}/undo", summary="Undo a merge: two persons again, their pair reopened")
def undo(
    merge_id: uuid.UUID,
    session: DbSession,
    now: Now,
    granted: Annotated[
        Access, Depends(access(Permission.person_match_review, Permission.person_record_write))
    ],
) -> MergeUndone:
    merge = _merge(session, merge_id)
    try:
        pair = undo_merge(session, merge=merge, actor=granted.principal.actor, now=now)
    except (MergeNotAllowed, IdentifierTaken, PersonNotFound) as exc:
        # Already undone, or the survivor merged since into another person (that merge is
        # undone first): the reason says which. Nothing was written.
        raise ApiProblem(
            409, "undo-refused", "The register refuses to undo this merge", str(exc)
        ) from None
    for event in merge_audit_events(merge, granted.event):
        record_access(session, event)
    return MergeUndone(merge=merge_read(merge), duplicate=duplicate_summary(pair) if pair else None)


def _merge(session: Session, merge_id: uuid.UUID) -> PersonMerge:
    try:
        return get_merge(session, merge_id)
    except MergeNotFound:
        raise ApiProblem(404, "not-found", "No such merge") from None
