"""HTTP routes of the audit log: checkpoints and proofs for auditors, "who saw my data" for citizens.

Mount both routers (the app factory)::

    app.include_router(audit_views.router)          # /api/v1/audit/...  (audit:read)
    app.include_router(audit_views.citizen_router)  # /api/v1/me/accesses (audit:own:read)

Checkpoints and proofs carry hashes only. Reading one event (ids, no personal data) is itself
audited, so a citizen also sees that an auditor looked at an access to their record.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse

from oberih.api.dependencies import DbSession, Now, record_access, request_id
from oberih.api.problems import ApiProblem
from oberih.audit.events import AuditEvent
from oberih.audit.schemas import (
    AccessPage,
    AuditEventRead,
    CheckpointRead,
    ConsistencyProofRead,
    InclusionProofRead,
    b64,
)
from oberih.audit.services import (
    EventNotFound,
    InvalidProofRequest,
    StoredCheckpoint,
    consistency_proof,
    events_for_person,
    get_event,
    inclusion_proof,
    latest_checkpoint,
    sequence_inbox,
)
from oberih.auth.dependencies import require
from oberih.auth.errors import PermissionDenied
from oberih.auth.permissions import Permission
from oberih.auth.principals import Principal

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
citizen_router = APIRouter(prefix="/api/v1/me", tags=["audit"])

Auditor = Annotated[Principal, Depends(require(Permission.audit_read))]
Citizen = Annotated[Principal, Depends(require(Permission.audit_own_read))]
LeafIndex = Annotated[int, Path(ge=0, le=2**63 - 1, description="The event's leaf index")]
TreeSize = Annotated[int, Query(ge=1, le=2**63 - 1, description="A tree size (events)")]
SIGNED_NOTE_MEDIA_TYPE = "text/plain; charset=utf-8"


@contextmanager
def _problems() -> Iterator[None]:
    # The audit feature's own exceptions, as problems (422 / 404).
    try:
        yield
    except InvalidProofRequest as exc:
        raise ApiProblem(422, "validation", "The request is not valid", str(exc)) from None
    except EventNotFound:
        raise ApiProblem(404, "not-found", "Not found") from None


def _latest(session: DbSession) -> StoredCheckpoint:
    checkpoint = latest_checkpoint(session)
    if checkpoint is None:
        raise ApiProblem(404, "not-found", "Not found", "no checkpoint has been signed yet")
    return checkpoint


@router.get("/checkpoint", summary="The latest signed checkpoint")
def read_checkpoint(session: DbSession, _auditor: Auditor) -> CheckpointRead:
    return CheckpointRead.of(_latest(session))


@router.get(
    "/checkpoint/note",
    summary="The latest signed checkpoint as a C2SP signed note (text/plain)",
    response_class=PlainTextResponse,
)
def read_checkpoint_note(session: DbSession, _auditor: Auditor) -> PlainTextResponse:
    return PlainTextResponse(_latest(session).note, media_type=SIGNED_NOTE_MEDIA_TYPE)


@router.get("/events/{index}", summary="One audit event with its leaf hash")
def read_event(
    index: LeafIndex, session: DbSession, now: Now, request: Request, auditor: Auditor
) -> AuditEventRead:
    with _problems():
        recorded = get_event(session, index)
    event = AuditEvent(
        action="audit:event:read",
        outcome="allowed",
        actor=auditor.actor,
        role=auditor.role.value,
        office_code=auditor.office_code,
        purpose=None,
        person_id=recorded.event.person_id,
        fields=("audit_event",),
        request_id=request_id(request),
    )
    record_access(session, event)
    return AuditEventRead.of(recorded)


@router.get("/proofs/inclusion", summary="Inclusion proof of an event in a tree size")
def read_inclusion_proof(
    session: DbSession,
    _auditor: Auditor,
    index: Annotated[int, Query(ge=0, le=2**63 - 1)],
    tree_size: TreeSize,
) -> InclusionProofRead:
    with _problems():
        hashes = inclusion_proof(session, index, tree_size)
        recorded = get_event(session, index)
    return InclusionProofRead(
        index=index,
        tree_size=tree_size,
        leaf_hash=b64(recorded.leaf_hash),
        hashes=[b64(value) for value in hashes],
    )


@router.get("/proofs/consistency", summary="Consistency proof between two tree sizes")
def read_consistency_proof(
    session: DbSession, _auditor: Auditor, old_size: TreeSize, new_size: TreeSize
) -> ConsistencyProofRead:
    with _problems():
        hashes = consistency_proof(session, old_size, new_size)
    return ConsistencyProofRead(
        old_size=old_size, new_size=new_size, hashes=[b64(value) for value in hashes]
    )


@citizen_router.get("/accesses", summary="Who saw my data: accesses to my record")
def read_my_accesses(
    session: DbSession,
    now: Now,
    citizen: Citizen,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AccessPage:
    if citizen.person_id is None:
        raise PermissionDenied(missing=(Permission.audit_own_read.value,), reason="no-person")
    sequence_inbox(session)  # the accesses still in the inbox too (takes the head lock briefly)
    page = events_for_person(
        session,
        citizen.person_id,
        now=now,
        cursor=int(cursor) if cursor is not None else None,
        limit=limit,
    )
    return AccessPage.of(page.events, page.next_cursor)
