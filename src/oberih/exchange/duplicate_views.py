"""HTTP routes of the duplicate review: the pairs ``oberih dedup`` queued, each shown side by
side, merged or rejected by an officer (``exchange.duplicates``).

Beside ``views`` (the identity reviews of incoming records, which these imitate) rather than in
it: that module is past the size where a feature's file is split.
"""

# No ``from __future__ import annotations``: FastAPI reads the dependency annotations.
import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from oberih.api.dependencies import DbSession, Now, record_access
from oberih.api.pagination import Cursor, Page, keyset_after, keyset_page
from oberih.api.problems import ApiProblem
from oberih.api.times import UtcDatetime
from oberih.auth.dependencies import Access, access
from oberih.auth.permissions import Permission
from oberih.exchange.duplicates import (
    DuplicateClosed,
    DuplicateKey,
    DuplicateNotFound,
    NotOfThePair,
    duplicate_key,
    get_duplicate,
    merge_duplicate,
    open_duplicates,
    reject_duplicate,
    side_by_side,
)
from oberih.exchange.merge import MergeNotAllowed, merge_audit_events
from oberih.exchange.models import DuplicateCandidate, PersonMerge
from oberih.exchange.views import profile_json
from oberih.persons.services import IdentifierTaken, PersonNotFound

router = APIRouter(prefix="/api/v1/exchange/duplicates", tags=["exchange"])


class DuplicateSummary(BaseModel):
    """A pair without personal data: the two person ids, the score, its state and decision."""

    duplicate_id: uuid.UUID
    person_id: uuid.UUID  # the smaller id of the pair
    other_person_id: uuid.UUID
    score: float
    status: str  # open | confirmed | rejected | superseded
    found_at: UtcDatetime
    decided_at: UtcDatetime | None
    decided_by: str | None
    # The merge that confirmed it, or superseded it (one of its persons absorbed into a third:
    # the pair of that survivor and the other person is queued in its place); undone, if the
    # pair is open again.
    merge_id: uuid.UUID | None
    # The merge that queued it in place of a pair it superseded (None: ``oberih dedup``).
    queued_by_merge_id: uuid.UUID | None


class DuplicatePerson(BaseModel):
    person_id: uuid.UUID
    person: dict[str, Any] | None  # identifying fields as stored (None: no such person)


class MergeRead(BaseModel):
    merge_id: uuid.UUID
    survivor_id: uuid.UUID
    absorbed_id: uuid.UUID
    merged_at: UtcDatetime
    merged_by: str
    undone_at: UtcDatetime | None
    undone_by: str | None


class DuplicateDetail(BaseModel):
    duplicate: DuplicateSummary
    persons: list[DuplicatePerson]  # the pair's two persons, side by side
    levels: dict[str, str]  # field -> the level it reached when the pair was queued
    weights: dict[str, float]  # field -> the weight that level gave (their sum is the score)
    merge: MergeRead | None


class SurvivorChoice(BaseModel):
    survivor_id: uuid.UUID  # one of the pair's two persons; the other is merged into them


class DuplicateMerged(BaseModel):
    duplicate: DuplicateSummary
    merge_id: uuid.UUID  # POST /api/v1/exchange/merges/{merge_id}/undo undoes it (or the CLI)
    copied_facts: int


@router.get("", summary="Open probable duplicate pairs, oldest first")
def list_duplicates(
    session: DbSession,
    _granted: Annotated[Access, Depends(access(Permission.person_match_review))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Cursor = None,
) -> Page[DuplicateSummary]:
    after = keyset_after(cursor, _duplicate_after)
    pairs = open_duplicates(session, limit=limit + 1, after=after)
    page, next_cursor = keyset_page(pairs, limit, duplicate_key)
    return Page[DuplicateSummary](
        items=[duplicate_summary(pair) for pair in page], next_cursor=next_cursor
    )


def _duplicate_after(key: list[Any]) -> DuplicateKey:
    found_at, pair_id = key
    if not isinstance(found_at, str) or not isinstance(pair_id, str):
        raise TypeError("found_at, duplicate_id")
    return dt.datetime.fromisoformat(found_at), uuid.UUID(pair_id)


def duplicate_summary(pair: DuplicateCandidate) -> DuplicateSummary:
    return DuplicateSummary(
        duplicate_id=pair.id,
        person_id=pair.person_id,
        other_person_id=pair.other_person_id,
        score=pair.score,
        status=pair.status,
        found_at=pair.found_at,
        decided_at=pair.decided_at,
        decided_by=pair.decided_by,
        merge_id=pair.merge_id,
        queued_by_merge_id=pair.queued_by_merge_id,
    )


@router.get("/{duplicate_id}", summary="The two persons of a pair side by side, with the score")
def read_duplicate(
    duplicate_id: uuid.UUID,
    session: DbSession,
    granted: Annotated[Access, Depends(access(Permission.person_match_review))],
) -> DuplicateDetail:
    pair = _pair(session, duplicate_id)
    detail = duplicate_detail(session, pair)
    for person_id in (pair.person_id, pair.other_person_id):
        record_access(session, granted.event(person_id=person_id, fields=("identity",)))
    return detail


def duplicate_detail(session: Session, pair: DuplicateCandidate) -> DuplicateDetail:
    shown = side_by_side(session, pair)
    return DuplicateDetail(
        duplicate=duplicate_summary(pair),
        persons=[
            DuplicatePerson(person_id=pair.person_id, person=profile_json(shown.person)),
            DuplicatePerson(person_id=pair.other_person_id, person=profile_json(shown.other)),
        ],
        levels=shown.levels,
        weights=shown.weights,
        merge=merge_read(shown.merge) if shown.merge else None,
    )


def merge_read(merge: PersonMerge) -> MergeRead:
    return MergeRead(
        merge_id=merge.id,
        survivor_id=merge.survivor_id,
        absorbed_id=merge.absorbed_id,
        merged_at=merge.merged_at,
        merged_by=merge.merged_by,
        undone_at=merge.undone_at,
        undone_by=merge.undone_by,
    )


@router.post("/{duplicate_id}/merge", summary="The two are one person: merge into the survivor")
def merge_pair(
    duplicate_id: uuid.UUID,
    choice: SurvivorChoice,
    session: DbSession,
    now: Now,
    granted: Annotated[
        Access, Depends(access(Permission.person_match_review, Permission.person_record_write))
    ],
) -> DuplicateMerged:
    try:
        merge = merge_duplicate(
            session,
            pair_id=duplicate_id,
            survivor_id=choice.survivor_id,
            actor=granted.principal.actor,
            now=now,
        )
    except DuplicateNotFound:
        raise ApiProblem(404, "not-found", "No such duplicate pair") from None
    except NotOfThePair as exc:
        raise ApiProblem(
            422, "validation", "The request is not valid", errors=[("survivor_id", str(exc))]
        ) from None
    except DuplicateClosed as exc:
        raise ApiProblem(409, "duplicate-closed", exc.title, exc.detail) from None
    except (MergeNotAllowed, IdentifierTaken, PersonNotFound) as exc:
        # The register refuses this merge as it stands (a person already absorbed elsewhere):
        # the pair stays open, and the reason says what to undo first.
        raise ApiProblem(
            409, "merge-refused", "The register refuses this merge", str(exc)
        ) from None
    for event in merge_audit_events(merge, granted.event):
        record_access(session, event)
    pair = _pair(session, duplicate_id)
    return DuplicateMerged(
        duplicate=duplicate_summary(pair), merge_id=merge.id, copied_facts=len(merge.copies)
    )


@router.post("/{duplicate_id}/reject", summary="The two are different persons")
def reject_pair(
    duplicate_id: uuid.UUID,
    session: DbSession,
    now: Now,
    granted: Annotated[Access, Depends(access(Permission.person_match_review))],
) -> DuplicateSummary:
    try:
        pair = reject_duplicate(
            session, pair_id=duplicate_id, actor=granted.principal.actor, now=now
        )
    except DuplicateNotFound:
        raise ApiProblem(404, "not-found", "No such duplicate pair") from None
    except DuplicateClosed as exc:
        raise ApiProblem(409, "duplicate-closed", exc.title, exc.detail) from None
    for person_id in (pair.person_id, pair.other_person_id):
        record_access(session, granted.event(person_id=person_id, fields=("identity",)))
    return duplicate_summary(pair)


def _pair(session: Session, duplicate_id: uuid.UUID) -> DuplicateCandidate:
    try:
        return get_duplicate(session, duplicate_id)
    except DuplicateNotFound:
        raise ApiProblem(404, "not-found", "No such duplicate pair") from None
