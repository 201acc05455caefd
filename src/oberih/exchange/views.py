"""HTTP routes of the exchange: signed batches from source registers, batch status, quarantine
and identity review for operators.

``POST /api/v1/exchange/{source}/batches`` stores the batch durably (its own transaction,
committed) before answering 202 with the batch id and its status URL. On SQLite the records are
then processed in process before the answer; on PostgreSQL ``oberih exchange work`` workers take
them from the queue.
"""

# No ``from __future__ import annotations``: FastAPI reads the dependency annotations.
import datetime as dt
import json
import uuid
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from oberih.api.dependencies import AppContext, Context, DbSession, record_access
from oberih.api.pagination import Cursor, Page, keyset_after, keyset_page
from oberih.api.problems import ApiProblem
from oberih.api.times import UtcDatetime
from oberih.audit.events import as_utc
from oberih.auth.dependencies import Access, access, access_any
from oberih.auth.errors import PermissionDenied
from oberih.auth.permissions import Permission
from oberih.exchange.matching import Profile
from oberih.exchange.messages import UnknownSource, parse_source
from oberih.exchange.models import ExchangeRecord, MatchReview
from oberih.exchange.rejections import rejections
from oberih.exchange.resolution import Resolver, stored_profile
from oberih.exchange.services import (
    BatchNotFound,
    BatchReport,
    NotACandidate,
    NotQuarantined,
    Processor,
    QuarantineKey,
    RecordNotFound,
    ReviewClosed,
    ReviewKey,
    ReviewNotFound,
    batch_report,
    correct_record,
    decide_review,
    get_record,
    get_review,
    open_reviews,
    quarantine_key,
    quarantined,
    raw_json,
    receive_batch,
    records_of,
    review_key,
)
from oberih.exchange.settings import key_ring_of
from oberih.exchange.signing import BatchRejected

router = APIRouter(prefix="/api/v1/exchange", tags=["exchange"])

SIGNATURE_HEADER = "X-Batch-Signature"


class BatchAccepted(BaseModel):
    batch_id: uuid.UUID
    status_url: str
    records: int


class BatchStatus(BaseModel):
    batch_id: uuid.UUID
    source: str
    received_at: UtcDatetime
    status: str
    records: int
    counts: dict[str, int]


class RecordView(BaseModel):
    batch_id: uuid.UUID
    position: int
    source: str
    source_record_id: str | None
    message_type: str | None
    state: str
    reason: str | None
    person_id: uuid.UUID | None
    raw: Any
    original_raw: Any | None


class Correction(BaseModel):
    corrected: dict[str, Any] | None = None  # None: replay the record as it is


class ReviewSummary(BaseModel):
    review_id: uuid.UUID
    batch_id: uuid.UUID
    position: int
    source: str
    message_type: str | None
    best_score: float | None
    created_at: UtcDatetime


class EarlierRejection(BaseModel):
    """An earlier review of the same record whose candidates an officer rejected: none of them
    is offered again (``exchange.rejections``)."""

    review_id: uuid.UUID
    decided_at: UtcDatetime | None
    decided_by: str | None
    persons: int  # how many candidates it rejected


class ReviewDetail(BaseModel):
    review: ReviewSummary
    record: dict[str, Any]  # the subject as the source knows them
    candidates: list[dict[str, Any]]  # each stored person beside it, with score and levels
    rejected_before: list[EarlierRejection]  # their persons are not among the candidates


class LinkChoice(BaseModel):
    person_id: uuid.UUID


def _processor(context: AppContext) -> Processor:
    return Processor(sessions=context.sessions, clock=context.clock, resolver=Resolver())


def _status(report: BatchReport) -> BatchStatus:
    return BatchStatus(
        batch_id=report.batch_id,
        source=report.source,
        received_at=report.received_at,
        status=report.status,
        records=report.records,
        counts=report.counts,
    )


BATCH_BODY = {
    "requestBody": {
        "required": True,
        "description": "JSON Lines: one message per line (see oberih exchange schema SOURCE)",
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


@router.post(
    "/{source}/batches",
    status_code=202,
    summary="Submit a signed batch (JSON Lines)",
    openapi_extra=BATCH_BODY,
)
async def submit_batch(
    source: Annotated[str, Path(max_length=32)],
    request: Request,
    context: Context,
    granted: Annotated[Access, Depends(access(Permission.exchange_submit))],
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> BatchAccepted:
    try:
        parse_source(source)
    except UnknownSource as exc:
        raise ApiProblem(404, "unknown-source", "No such source register", str(exc)) from None
    granted.ensure_own_source(source)
    body = await request.body()
    now = context.clock()
    try:
        with context.sessions() as session, session.begin():
            batch = receive_batch(
                session,
                source=source,
                body=body,
                signature=signature,
                ring=key_ring_of(context),
                now=now,
                batch_format="csv" if _is_csv(request) else "jsonl",
            )
            batch_id, records = batch.id, batch.record_count
    except BatchRejected as rejected:
        raise ApiProblem(
            422, "batch-rejected", "The batch is rejected as a whole", rejected.detail,
            reason=rejected.reason,
        ) from None  # fmt: skip
    if context.engine.dialect.name == "sqlite":
        _processor(context).process_pending(batch_id=batch_id)
    return BatchAccepted(
        batch_id=batch_id, status_url=f"/api/v1/exchange/batches/{batch_id}", records=records
    )


def _is_csv(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip() == "text/csv"


@router.get("/batches/{batch_id}", summary="A batch's processing status and counts")
def read_batch(
    batch_id: uuid.UUID,
    session: DbSession,
    granted: Annotated[
        Access,
        Depends(access_any(Permission.exchange_submit, Permission.exchange_quarantine_read)),
    ],
) -> BatchStatus:
    try:
        report = batch_report(session, batch_id)
    except BatchNotFound:
        raise _no_such_batch() from None
    # An operator reads every register's batches; a source register's client its own only,
    # and another register's batch is answered as one that does not exist (its id confirmed
    # to no other register), the attempt audited as a denial.
    if not granted.holds(Permission.exchange_quarantine_read):
        try:
            granted.ensure_own_source(report.source)
        except PermissionDenied:
            raise _no_such_batch() from None
    return _status(report)


def _no_such_batch() -> ApiProblem:
    return ApiProblem(404, "not-found", "No such batch")


@router.get("/quarantine", summary="Quarantined records with their reasons and raw content")
def list_quarantine(
    session: DbSession,
    granted: Annotated[Access, Depends(access(Permission.exchange_quarantine_read))],
    source: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Cursor = None,
) -> Page[RecordView]:
    after = keyset_after(cursor, _quarantine_after)
    records = quarantined(session, source=source, limit=limit + 1, after=after)
    record_access(session, granted.event(person_id=None, fields=("quarantine",)))
    page, next_cursor = keyset_page(records, limit, quarantine_key)
    return Page[RecordView](items=[_quarantined(r) for r in page], next_cursor=next_cursor)


def _quarantine_after(key: list[Any]) -> QuarantineKey:
    processed_at, batch_id, position = key
    if not isinstance(position, int):
        raise TypeError("position")
    return dt.datetime.fromisoformat(processed_at), uuid.UUID(batch_id), position


def _quarantined(record: ExchangeRecord) -> RecordView:
    return RecordView(
        batch_id=record.batch_id,
        position=record.position,
        source=record.source,
        source_record_id=record.source_record_id,
        message_type=record.message_type,
        state=record.state,
        reason=record.reason,
        person_id=record.person_id,
        raw=raw_json(record),
        original_raw=record.original_raw,
    )


@router.post(
    "/quarantine/{batch_id}/{position}/replay",
    summary="Correct a quarantined record (or not) and process it again",
)
def replay_record(
    batch_id: uuid.UUID,
    position: Annotated[int, Path(ge=1, le=2**31 - 1)],
    correction: Correction,
    context: Context,
    granted: Annotated[
        Access,
        Depends(access(Permission.exchange_quarantine_read, Permission.person_record_write)),
    ],
) -> RecordView:
    corrected = _corrected_line(correction)
    processor = _processor(context)
    with context.sessions() as session, session.begin():
        try:
            record = correct_record(
                session, batch_id=batch_id, position=position, corrected=corrected
            )
        except RecordNotFound:
            raise ApiProblem(404, "not-found", "No such record") from None
        except NotQuarantined as exc:
            raise ApiProblem(409, "not-quarantined", str(exc)) from None
        record_access(session, granted.event(person_id=None, fields=("quarantine",)))
        processor.process_record(session, record)
        return _quarantined(record)


def _corrected_line(correction: Correction) -> str | None:
    """The corrected record as a line of the batch; 422 for what a line cannot carry: a lone
    surrogate (a JSON body may spell one as an escape; no text column stores it), an integer
    past 64 bits (processing reads lines with orjson), NaN or Infinity (the request's parser
    takes them, and orjson would write them as null: a value silently changed)."""
    if correction.corrected is None:
        return None
    try:
        json.dumps(correction.corrected, allow_nan=False)
        return orjson.dumps(correction.corrected).decode("utf-8")
    except (ValueError, orjson.JSONEncodeError):
        raise ApiProblem(
            422,
            "validation",
            "The request is not valid",
            errors=[("corrected", _NOT_STORABLE)],
        ) from None


_NOT_STORABLE = "not storable: NaN or Infinity, a lone surrogate or an integer past 64 bits"


@router.get("/reviews", summary="Open identity reviews")
def list_reviews(
    session: DbSession,
    _granted: Annotated[Access, Depends(access(Permission.person_match_review))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Cursor = None,
) -> Page[ReviewSummary]:
    after = keyset_after(cursor, _review_after)
    reviews = open_reviews(session, limit=limit + 1, after=after)
    page, next_cursor = keyset_page(reviews, limit, review_key)
    records = records_of(session, page)
    return Page[ReviewSummary](
        items=[_summary(review, records[(review.batch_id, review.position)]) for review in page],
        next_cursor=next_cursor,
    )


def _review_after(key: list[Any]) -> ReviewKey:
    created_at, batch_id, position, review_id = key
    if not isinstance(position, int):
        raise TypeError("position")
    return (
        dt.datetime.fromisoformat(created_at),
        uuid.UUID(batch_id),
        position,
        uuid.UUID(review_id),
    )


def _summary(review: MatchReview, record: ExchangeRecord) -> ReviewSummary:
    best = review.candidates[0]["score"] if review.candidates else None
    return ReviewSummary(
        review_id=review.id,
        batch_id=review.batch_id,
        position=review.position,
        source=record.source,
        message_type=record.message_type,
        best_score=best,
        created_at=review.created_at,
    )


@router.get("/reviews/{review_id}", summary="A record and its candidates, side by side")
def read_review(
    review_id: uuid.UUID,
    session: DbSession,
    granted: Annotated[Access, Depends(access(Permission.person_match_review))],
) -> ReviewDetail:
    try:
        review = get_review(session, review_id)
    except ReviewNotFound:
        raise ApiProblem(404, "not-found", "No such review") from None
    detail = review_detail(session, review)
    for candidate in review.candidates:
        person = uuid.UUID(candidate["person_id"])
        record_access(session, granted.event(person_id=person, fields=("identity",)))
    return detail


def review_detail(session: Session, review: MatchReview) -> ReviewDetail:
    record = get_record(session, review.batch_id, review.position)
    document = raw_json(record)
    subject = document.get("subject", {}) if isinstance(document, dict) else {}
    candidates = []
    for candidate in review.candidates:
        profile = stored_profile(session, uuid.UUID(candidate["person_id"]))
        candidates.append({**candidate, "person": profile_json(profile)})
    opened = as_utc(review.created_at)
    earlier = [
        EarlierRejection(
            review_id=rejection.review_id,
            decided_at=rejection.decided_at,
            decided_by=rejection.decided_by,
            persons=len(rejection.persons),
        )
        for rejection in rejections(session, [record]).get((record.batch_id, record.position), [])
        if rejection.decided_at is not None
        and as_utc(rejection.decided_at) <= opened
        and rejection.review_id != review.id
    ]
    return ReviewDetail(
        review=_summary(review, record),
        record=subject,
        candidates=candidates,
        rejected_before=earlier,
    )


def profile_json(profile: Profile | None) -> dict[str, Any] | None:
    if profile is None:
        return None
    return {
        "surname": profile.surname,
        "given_name": profile.given_name,
        "patronymic": profile.patronymic,
        "birth_date": profile.birth_date.isoformat() if profile.birth_date else None,
        "sex": profile.sex,
        "birth_place": profile.birth_place,
    }


@router.post("/reviews/{review_id}/link", summary="The record is about this candidate")
def link_review(
    review_id: uuid.UUID,
    choice: LinkChoice,
    context: Context,
    granted: Annotated[Access, Depends(access(Permission.person_match_review))],
) -> RecordView:
    return _decide(context, granted, review_id, choice.person_id)


@router.post("/reviews/{review_id}/reject", summary="The record is about none of the candidates")
def reject_review(
    review_id: uuid.UUID,
    context: Context,
    granted: Annotated[Access, Depends(access(Permission.person_match_review))],
) -> RecordView:
    return _decide(context, granted, review_id, None)


def _decide(
    context: AppContext, granted: Access, review_id: uuid.UUID, person_id: uuid.UUID | None
) -> RecordView:
    processor = _processor(context)
    with context.sessions() as session, session.begin():
        try:
            record = decide_review(
                processor,
                session,
                review_id=review_id,
                person_id=person_id,
                actor=granted.principal.actor,
            )
        except ReviewNotFound:
            raise ApiProblem(404, "not-found", "No such review") from None
        except NotACandidate as exc:
            raise ApiProblem(
                422,
                "validation",
                "The request is not valid",
                errors=[("person_id", str(exc))],
            ) from None
        except ReviewClosed as exc:
            raise ApiProblem(409, "review-closed", str(exc)) from None
        event = granted.event(person_id=person_id, fields=("identity",))
        record_access(session, event)
        result = _quarantined(record)
        return result.model_copy(update={"raw": None, "original_raw": None})
