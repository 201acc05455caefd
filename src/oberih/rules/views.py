"""HTTP routes of the rules: a person's determination with its explanation, and what-if.

Reading a person's determination is a read of their personal data: the same permission, area
and purpose as reading the record, and audited. What-if evaluation takes a situation the caller
writes and stores nothing.
"""

# No ``from __future__ import annotations``: FastAPI reads these annotations at run time.
import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from oberih.api.dependencies import DbSession, Now, record_access
from oberih.api.problems import ApiProblem
from oberih.auth.dependencies import Access, CurrentPrincipal, access
from oberih.auth.permissions import Permission
from oberih.rules.determination import Determination, determine
from oberih.rules.explain import explain
from oberih.rules.profile import OutsideHorizon
from oberih.rules.services import evaluate_person
from oberih.rules.situation import EvaluationRequest, situation_from_json, situation_schema

router = APIRouter(prefix="/api/v1", tags=["rules"])

ReadAccess = Annotated[Access, Depends(access(Permission.person_record_read))]
At = Annotated[dt.date | None, Query(description="The day to evaluate (default: today).")]


def _answer(determination: Determination) -> dict[str, Any]:
    body = determination.to_json()
    body["plain_language"] = {
        "uk": explain(determination, language="uk"),
        "en": explain(determination, language="en"),
    }
    return body


def _determination(
    person_id: uuid.UUID, session: DbSession, now: dt.datetime, granted: Access, at: dt.date | None
) -> dict[str, Any]:
    granted.ensure_in_scope(session, person_id)
    try:
        determination = evaluate_person(session, person_id, at or now.date())
    except OutsideHorizon as exc:
        raise ApiProblem(422, "validation", "The day is outside the profile", str(exc)) from None
    record_access(
        session,
        granted.event("person:determination:read", person_id=person_id, fields=("determination",)),
    )
    return _answer(determination)


@router.get(
    "/persons/{person_id}/determination",
    summary="Category, mobilisable, deferrals and the next change on a day, with the explanation",
)
def person_determination(
    person_id: uuid.UUID, session: DbSession, now: Now, granted: ReadAccess, at: At = None
) -> dict[str, Any]:
    return _determination(person_id, session, now, granted, at)


@router.get(
    "/me/determination",
    summary="The citizen's own determination, explained in Ukrainian and English",
)
def own_determination(
    session: DbSession, now: Now, granted: ReadAccess, at: At = None
) -> dict[str, Any]:
    if granted.principal.person_id is None:
        raise ApiProblem(403, "forbidden", "This token is not bound to a person")
    return _determination(granted.principal.person_id, session, now, granted, at)


@router.post(
    "/rules/evaluate",
    summary="What-if: evaluate a situation you describe; nothing is stored",
)
def what_if(request: EvaluationRequest, _caller: CurrentPrincipal) -> dict[str, Any]:
    situation = situation_from_json(request.situation.model_dump(mode="json"))
    try:
        return _answer(determine(situation, request.on))
    except OutsideHorizon as exc:
        raise ApiProblem(422, "validation", "The day is outside the profile", str(exc)) from None


@router.get("/rules/situation-schema", summary="JSON Schema of what-if situations")
def schema() -> dict[str, Any]:
    return situation_schema()
