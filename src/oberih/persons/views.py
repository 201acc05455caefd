"""HTTP routes of persons: read (with provenance, bitemporal), history, search, commands.

Permissions are declared on each route (``access(Permission...)``); jurisdiction is enforced by
``Access.ensure_in_scope`` for single records and in the query for search. Every read and write
of personal data appends an audit event: a command's in its own transaction (``record_access``),
a read's through the group commit, durable before the response leaves (``record_read``).
"""

# No ``from __future__ import annotations``: FastAPI reads these annotations at run time.
import base64
import datetime as dt
import logging
import re
import uuid
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from oberih.api.dependencies import (
    AppContext,
    Context,
    DbSession,
    Now,
    in_transaction,
    record_access,
    record_read,
)
from oberih.api.pagination import Cursor, Page, invalid_cursor
from oberih.api.problems import ApiProblem, problem_responses
from oberih.api.ratelimit import enforce
from oberih.api.responses import rendered
from oberih.auth.dependencies import Access, access
from oberih.auth.jurisdiction import apply_scope, scope_condition
from oberih.auth.permissions import Permission
from oberih.documents.services import revoke_stale_documents
from oberih.persons.current import CurrentReads, state_in_scope
from oberih.persons.facts import FactKind, NewFact
from oberih.persons.models import PersonStateRow
from oberih.persons.schemas import (
    NO_NUL,
    ActualAddressCommand,
    AppendResultRead,
    ContactCommand,
    EntryRead,
    FactRead,
    OfficerCommand,
    PersonRead,
    ReservationRead,
    SearchHitRead,
)
from oberih.persons.search import InvalidSearch, search_persons
from oberih.persons.services import (
    AppendResult,
    PersonNotFound,
    append_facts,
    get_projection,
    get_state,
    load_facts,
)
from oberih.rules.services import refresh_person

logger = logging.getLogger("oberih.persons")

router = APIRouter(prefix="/api/v1", tags=["persons"])

# Problems beyond the 401/403/422 of every authenticated route (declared where the app mounts us).
ONE_PERSON = problem_responses(404)
COMMAND = problem_responses(400, 404, 409, 412, 413, 428)
ETAG_HEADER = {
    "ETag": {"description": 'The version read, for If-Match: `"7"`', "schema": {"type": "string"}}
}
NEW_FACT_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"headers": ETAG_HEADER},
    200: {
        "model": AppendResultRead,
        "headers": ETAG_HEADER,
        "description": "A re-sent change (same Idempotency-Key): nothing appended",
    },
    **COMMAND,
}

ReadAccess = Annotated[Access, Depends(access(Permission.person_record_read))]
HistoryAccess = Annotated[Access, Depends(access(Permission.person_history_read))]
SearchAccess = Annotated[Access, Depends(access(Permission.person_search))]
WriteAccess = Annotated[Access, Depends(access(Permission.person_record_write))]
MedicalAccess = Annotated[Access, Depends(access(Permission.person_medical_write))]
OwnContactAccess = Annotated[Access, Depends(access(Permission.person_contact_write_own))]
# If-Match is required, but its absence is answered 428 (RFC 6585 section 3), not 422: the
# parameter is read as optional and declared required in the OpenAPI document.
IfMatch = Annotated[str | None, Header(include_in_schema=False)]
VERSION_ETAG = re.compile(r'^"([0-9]{1,18})"$')
IF_MATCH_PARAMETER = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": 'The version you read, from the ETag: `"7"`.',
    "schema": {"type": "string", "pattern": VERSION_ETAG.pattern},
}
WITH_IF_MATCH: dict[str, Any] = {"parameters": [IF_MATCH_PARAMETER]}
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=8,
        max_length=100,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Your own id of this change; re-sending it changes nothing.",
    ),
]


def etag(version: int) -> str:
    return f'"{version}"'


def _expected_version(if_match: str | None) -> int:
    if if_match is None:
        raise ApiProblem(
            428,
            "precondition-required",
            "If-Match is required",
            detail="read the person first and send its ETag in If-Match",
        )
    version = VERSION_ETAG.match(if_match)
    if version is None:
        raise ApiProblem(
            422,
            "validation",
            "The request is not valid",
            errors=[("If-Match", 'must be a version ETag like "7"')],
        )
    return int(version.group(1))


@router.get(
    "/persons/{person_id}",
    response_model=PersonRead,
    summary="A person's state, each field with the fact and source it came from",
    responses={200: {"headers": ETAG_HEADER}, **ONE_PERSON},
)
async def read_person(
    person_id: uuid.UUID,
    context: Context,
    granted: ReadAccess,
    valid_at: Annotated[
        dt.date | None, Query(description="World date: what was true on that day.")
    ] = None,
    known_at: Annotated[
        dt.datetime | None, Query(description="Register time: as the register knew it then.")
    ] = None,
) -> Response:
    # The register's most frequent request. Its fast path (the current state, on PostgreSQL) is
    # answered on the event loop: one statement reads the projection row, checks the caller's
    # area and records the read's audit event (``persons.current``), sent together with the
    # reads that arrived meanwhile, one commit for all; no worker thread. Everything else, and
    # a person not found in the area, takes a transaction in a worker thread (its read event by
    # the group commit).
    if valid_at is None and known_at is None:
        reads = context.loop_reads()
        state = await _read_logged(context, reads, granted, person_id) if reads else None
        if state is not None:
            person = PersonRead.model_validate(state)
            return rendered(person, headers={"ETag": etag(person.version)})

    def read(session: Session) -> PersonRead:
        at = known_at.replace(tzinfo=dt.UTC) if known_at and known_at.tzinfo is None else known_at
        if valid_at is None and at is None:
            state = session.connection().scalar(state_in_scope(granted.scope, person_id))
            if state is None:
                granted.ensure_in_scope(session, person_id)  # outside the area: audited denial
                raise PersonNotFound(str(person_id))
            person = PersonRead.model_validate(state)
        else:
            granted.ensure_in_scope(session, person_id)
            state = get_state(session, person_id, valid_at=valid_at, known_at=at)
            person = PersonRead.of(state, valid_at=valid_at, known_at=at)
        context.record_read(
            session, granted.event(person_id=person_id, fields=tuple(person.shown_fields()))
        )
        return person

    person = await in_transaction(context, read)
    return rendered(person, headers={"ETag": etag(person.version)})


async def _read_logged(
    context: AppContext, reads: CurrentReads, granted: Access, person_id: uuid.UUID
) -> dict[str, Any] | None:
    """The current state through ``persons.current``, its read recorded in the same statement
    (unless the benchmark's baseline reads unaudited)."""
    event = granted.event(person_id=person_id) if context.audit_reads else None
    try:
        return await reads.read(granted.scope, person_id, logged=event, now=context.clock())
    except psycopg.OperationalError:
        raise  # the database is not available (503, ``api.problems``)
    except psycopg.Error as exc:
        # The statement failed as a whole, its audit event with it: nothing is disclosed.
        logger.error("read not recorded: %s", type(exc).__name__)
        raise ApiProblem(
            503, "audit-unavailable", "The audit log is not available; nothing was disclosed"
        ) from None


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except ValueError:
        raise invalid_cursor() from None
    if offset < 0:
        raise invalid_cursor()
    return offset


@router.get(
    "/persons/{person_id}/facts",
    response_model=Page[FactRead],
    summary="A person's fact history, oldest first",
    responses=ONE_PERSON,
)
def person_history(
    person_id: uuid.UUID,
    session: DbSession,
    granted: HistoryAccess,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    granted.ensure_in_scope(session, person_id)
    after_seq = _offset(cursor)
    facts = [f for f in load_facts(session, person_id) if f.seq > after_seq]
    page = facts[:limit]
    record_read(
        session,
        granted.event(
            "person:history:read", person_id=person_id, fields=tuple(sorted({f.kind for f in page}))
        ),
    )
    next_cursor = _cursor(page[-1].seq) if len(facts) > limit else None
    return rendered(Page[FactRead](items=[FactRead.of(f) for f in page], next_cursor=next_cursor))


@router.get(
    "/persons",
    response_model=Page[SearchHitRead],
    summary="Search by identifier or by name (typo-tolerant, Cyrillic or Latin), in your area",
    responses=problem_responses(429),
)
def search(
    request: Request,
    context: Context,
    session: DbSession,
    granted: SearchAccess,
    q: Annotated[
        str,
        Query(min_length=1, max_length=200, pattern=NO_NUL, description="Identifier or name."),
    ],
    birth_year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    region: Annotated[str | None, Query(pattern=r"^UA\d{2}$")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Response:
    enforce(context.services["search_limiter"], request, "search")
    offset = _offset(cursor)
    if offset > 90:
        raise ApiProblem(422, "validation", "Refine the search: at most 100 results are ranked")
    try:
        hits = search_persons(
            session,
            query=q,
            birth_year=birth_year,
            region=region,
            condition=scope_condition(granted.scope),
            limit=min(100, offset + limit + 1),
        )
    except InvalidSearch as exc:
        raise ApiProblem(422, "validation", "The search is not valid", detail=str(exc)) from None
    page = hits[offset : offset + limit]
    # The search itself is an access (what was asked is not recorded: it may be a name); each
    # person shown is recorded, so a citizen sees that they appeared in an officer's results.
    record_read(session, granted.event("person:search", person_id=None))
    for hit in page:
        record_read(
            session,
            granted.event("person:search:hit", person_id=hit.person_id, fields=("identity",)),
        )
    next_cursor = _cursor(offset + limit) if len(hits) > offset + limit else None
    return rendered(
        Page[SearchHitRead](
            items=[SearchHitRead.model_validate(hit, from_attributes=True) for hit in page],
            next_cursor=next_cursor,
        )
    )


def _append(
    *,
    session: DbSession,
    now: dt.datetime,
    granted: Access,
    person_id: uuid.UUID,
    facts: list[NewFact],
    expected_version: int | None,
    appended_status: int,
) -> Response:
    """Append the facts; answer ``appended_status`` (201 for a new resource of a POST, 200 for a
    PUT), or 200 when every fact was a re-send already recorded."""
    result: AppendResult = append_facts(
        session, person_id=person_id, facts=facts, now=now, expected_version=expected_version
    )
    if result.appended:
        # Automatic deferrals and the stored determination follow the facts, in this transaction.
        refresh_person(session, person_id, now=now)
        # Then a changed claim revokes the valid documents that show it.
        revoke_stale_documents(session, person_id, now=now)
        result.version = get_projection(session, person_id).version
    record_access(
        session,
        granted.event(
            "person:fact:append",
            person_id=person_id,
            fields=tuple(sorted({f.kind for f in facts})),
        ),
    )
    answer = AppendResultRead(
        person_id=result.person_id,
        version=result.version,
        appended=[FactRead.of(f) for f in result.appended],
        duplicates=[FactRead.of(f) for f in result.duplicates],
    )
    return rendered(
        answer,
        status_code=appended_status if result.appended else status.HTTP_200_OK,
        headers={"ETag": etag(result.version)},
    )


def _source_record_id(granted: Access, idempotency_key: str | None) -> str:
    # Without the caller's key every command is new; with it, a re-send is a duplicate.
    key = idempotency_key or uuid.uuid4().hex
    return f"{granted.principal.actor}:{key}"[:128]


@router.post(
    "/persons/{person_id}/facts",
    response_model=AppendResultRead,
    status_code=status.HTTP_201_CREATED,
    summary="An officer's change, appended as a fact with its legal basis (If-Match required)",
    responses=NEW_FACT_RESPONSES,
    openapi_extra=WITH_IF_MATCH,
)
def officer_command(
    person_id: uuid.UUID,
    command: OfficerCommand,
    session: DbSession,
    now: Now,
    granted: WriteAccess,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    granted.ensure_in_scope(session, person_id)
    if command.fact_kind == FactKind.medical_decision:
        raise ApiProblem(403, "forbidden", "Fitness decisions are made by a medical commission")
    return _command(person_id, command, session, now, granted, if_match, idempotency_key, "officer")


@router.post(
    "/persons/{person_id}/medical-decisions",
    response_model=AppendResultRead,
    status_code=status.HTTP_201_CREATED,
    summary="A medical commission's fitness decision (If-Match required)",
    responses=NEW_FACT_RESPONSES,
    openapi_extra=WITH_IF_MATCH,
)
def medical_decision(
    person_id: uuid.UUID,
    command: OfficerCommand,
    session: DbSession,
    now: Now,
    granted: MedicalAccess,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    granted.ensure_in_scope(session, person_id)
    if command.fact_kind != FactKind.medical_decision:
        raise ApiProblem(422, "validation", "Only medical_decision facts are accepted here")
    return _command(person_id, command, session, now, granted, if_match, idempotency_key, "health")


def _command(
    person_id: uuid.UUID,
    command: OfficerCommand,
    session: DbSession,
    now: dt.datetime,
    granted: Access,
    if_match: str | None,
    idempotency_key: str | None,
    source: str,
) -> Response:
    expected = _expected_version(if_match)
    fact = NewFact(
        kind=command.fact_kind,
        payload=command.payload,
        valid_from=command.valid_from or now.date(),
        valid_to=command.valid_to,
        source=source,
        source_record_id=_source_record_id(granted, idempotency_key),
        legal_basis=command.legal_basis,
        actor=granted.principal.actor,
        supersedes_id=command.supersedes_id,
    )
    return _append(
        session=session,
        now=now,
        granted=granted,
        person_id=person_id,
        facts=[fact],
        expected_version=expected,
        appended_status=status.HTTP_201_CREATED,
    )


def _own_person(granted: Access) -> uuid.UUID:
    if granted.principal.person_id is None:
        raise ApiProblem(403, "forbidden", "This token is not bound to a person")
    return granted.principal.person_id


@router.get(
    "/me",
    response_model=PersonRead,
    summary="The citizen's own record",
    responses={200: {"headers": ETAG_HEADER}, **ONE_PERSON},
)
async def read_own_record(context: Context, granted: ReadAccess) -> Response:
    return await read_person(_own_person(granted), context, granted)


# Citizen commands: the citizen is the source of their contacts and actual address
# (Res. 1487 of 30.12.2022: persons update their contacts and residence themselves).
CITIZEN_BASIS = "Res. 1487 of 30.12.2022 (citizen's own declaration)"


@router.put(
    "/me/contacts",
    response_model=AppendResultRead,
    summary="The citizen updates their own phone and email (If-Match required)",
    responses={200: {"headers": ETAG_HEADER}, **COMMAND},
    openapi_extra=WITH_IF_MATCH,
)
def update_own_contacts(
    command: ContactCommand,
    session: DbSession,
    now: Now,
    granted: OwnContactAccess,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    person_id = _own_person(granted)
    fact = NewFact(
        kind=FactKind.contact,
        payload=command.model_dump(exclude_none=True),
        valid_from=now.date(),
        source="citizen",
        source_record_id=_source_record_id(granted, idempotency_key),
        legal_basis=CITIZEN_BASIS,
        actor=granted.principal.actor,
    )
    return _append(
        session=session,
        now=now,
        granted=granted,
        person_id=person_id,
        facts=[fact],
        expected_version=_expected_version(if_match),
        appended_status=status.HTTP_200_OK,
    )


@router.put(
    "/me/actual-address",
    response_model=AppendResultRead,
    summary="The citizen declares where they actually live (If-Match required)",
    responses={200: {"headers": ETAG_HEADER}, **COMMAND},
    openapi_extra=WITH_IF_MATCH,
)
def update_own_address(
    command: ActualAddressCommand,
    session: DbSession,
    now: Now,
    granted: OwnContactAccess,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    person_id = _own_person(granted)
    fact = NewFact(
        kind=FactKind.address,
        payload={"address_kind": "actual", **command.model_dump(exclude={"valid_from"})},
        valid_from=command.valid_from or now.date(),
        source="citizen",
        source_record_id=_source_record_id(granted, idempotency_key),
        legal_basis=CITIZEN_BASIS,
        actor=granted.principal.actor,
    )
    return _append(
        session=session,
        now=now,
        granted=granted,
        person_id=person_id,
        facts=[fact],
        expected_version=_expected_version(if_match),
        appended_status=status.HTTP_200_OK,
    )


ReservationAccess = Annotated[Access, Depends(access(Permission.person_reservation_read))]


@router.get(
    "/employer/reservations",
    response_model=Page[ReservationRead],
    summary="Reservation data of your own current employees (employers), nothing else",
)
def employer_reservations(
    session: DbSession,
    granted: ReservationAccess,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    after = _cursor_person(cursor)
    statement = apply_scope(
        select(
            PersonStateRow.person_id,
            PersonStateRow.surname,
            PersonStateRow.given_name,
            PersonStateRow.patronymic,
            PersonStateRow.state,
        )
        .order_by(PersonStateRow.person_id)
        .limit(limit + 1),
        granted.scope,
    )
    if after is not None:
        statement = statement.where(PersonStateRow.person_id > after)
    rows = session.execute(statement).all()
    page = rows[:limit]
    items = [
        ReservationRead(
            person_id=row.person_id,
            surname=row.surname,
            given_name=row.given_name,
            patronymic=row.patronymic,
            reservations=[
                EntryRead.model_validate(entry)
                for entry in row.state.get("reservations", [])
                if granted.principal.employer_code is None
                or entry["data"].get("employer_code") == granted.principal.employer_code
            ],
        )
        for row in page
    ]
    for item in items:
        record_read(
            session,
            granted.event(person_id=item.person_id, fields=("identity.name", "reservations")),
        )
    next_cursor = (
        base64.urlsafe_b64encode(str(page[-1].person_id).encode()).decode()
        if len(rows) > limit
        else None
    )
    return rendered(Page[ReservationRead](items=items, next_cursor=next_cursor))


def _cursor_person(cursor: str | None) -> uuid.UUID | None:
    if cursor is None:
        return None
    try:
        return uuid.UUID(base64.urlsafe_b64decode(cursor.encode()).decode())
    except ValueError:
        raise invalid_cursor() from None
