"""Determinations of stored persons: evaluate one, store history, recompute all.

Services add to the session and never commit (the request or the command owns the transaction),
except ``recompute``, a batch job that owns its transactions: one per batch, so that a long run
neither holds one huge transaction nor loses finished batches.

- ``evaluate_person(session, person_id, at)``: the determination of a stored person on a day,
  from their journal (raises ``PersonNotFound``).
- ``store_determination(session, determination, now=)``: append it to the person's history if
  it differs from their latest stored one.
- ``recompute(engine, at=, changed_since=, ...)``: evaluate every person (or those with facts
  recorded after ``changed_since``) from the projection, in batches, optionally in several
  processes, writing only determinations that changed.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, case, func, insert, literal_column, null, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from oberih.db.engine import make_engine
from oberih.db.queries import among
from oberih.persons.batch import append_many
from oberih.persons.facts import Fact, FactKind, NewFact
from oberih.persons.models import PersonStateRow
from oberih.persons.services import append_facts, get_state
from oberih.persons.state import PersonState
from oberih.rules.automatic import automatic_deferrals
from oberih.rules.determination import Determination, determine
from oberih.rules.law import CALLED_UP
from oberih.rules.models import DeterminationRow
from oberih.rules.profile import DEFAULT_PROFILE, Profile, packaged_profile
from oberih.rules.situation import Situation, situation_from_state, situation_from_state_json

COLUMNS = (
    "person_id",
    "evaluated_on",
    "evaluated_at",
    "profile_version",
    "category",
    "removal_reason",
    "mobilisable",
    "next_change",
    "result_hash",
    "result",
)


def evaluate_person(
    session: Session, person_id: uuid.UUID, at: dt.date, *, profile: Profile | None = None
) -> Determination:
    """The determination of a stored person on ``at`` (from all of their facts)."""
    state = get_state(session, person_id)
    return determine(situation_from_state(state), at, profile)


def latest_determination(session: Session, person_id: uuid.UUID) -> DeterminationRow | None:
    return session.scalar(
        select(DeterminationRow)
        .where(DeterminationRow.person_id == person_id)
        .order_by(DeterminationRow.id.desc())
        .limit(1)
    )


def determination_history(session: Session, person_id: uuid.UUID) -> list[DeterminationRow]:
    """Every answer the register has given about the person, oldest first."""
    return list(
        session.scalars(
            select(DeterminationRow)
            .where(DeterminationRow.person_id == person_id)
            .order_by(DeterminationRow.id)
        )
    )


def store_determination(
    session: Session, determination: Determination, *, now: dt.datetime
) -> DeterminationRow | None:
    """Append the determination unless it says what the person's latest one says."""
    if determination.person_id is None:
        raise ValueError("only a stored person's determination can be stored")
    person_id = uuid.UUID(determination.person_id)
    fingerprint = determination.fingerprint()
    latest = latest_determination(session, person_id)
    if latest is not None and latest.result_hash == fingerprint:
        return None
    row = DeterminationRow(**_row(determination, fingerprint, now))
    row.person_id = person_id
    session.add(row)
    return row


def _row(
    determination: Determination, fingerprint: str, now: dt.datetime, record: str | None = None
) -> dict[str, Any]:
    """A history row; ``record`` is the record already encoded (recompute has it)."""
    return {
        "person_id": determination.person_id,
        "evaluated_on": determination.on,
        "evaluated_at": now,
        "profile_version": determination.profile,
        "category": determination.category.value,
        "removal_reason": determination.removal_reason.value
        if determination.removal_reason
        else None,
        "mobilisable": determination.mobilisable,
        "next_change": determination.next_change,
        "result_hash": fingerprint,
        "result": record if record is not None else determination.to_record(),
    }


# --- recompute ------------------------------------------------------------------------------


@dataclass
class RecomputeReport:
    persons: int = 0
    written: int = 0
    unchanged: int = 0
    failed: int = 0
    failed_persons: list[str] = field(default_factory=list)  # the first few, for the operator
    seconds: float = 0.0
    workers: int = 1

    def merge(self, other: RecomputeReport) -> None:
        self.persons += other.persons
        self.written += other.written
        self.unchanged += other.unchanged
        self.failed += other.failed
        self.failed_persons = (self.failed_persons + other.failed_persons)[:20]

    def to_json(self) -> dict[str, Any]:
        return {
            "persons": self.persons,
            "written": self.written,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "failed_persons": self.failed_persons,
            "seconds": round(self.seconds, 3),
            "persons_per_s": round(self.persons / self.seconds) if self.seconds else None,
            "workers": self.workers,
        }


@dataclass(frozen=True)
class _Job:
    """One slice of the persons to recompute (picklable: it crosses process boundaries)."""

    database_url: str
    at: dt.date
    now: dt.datetime
    profile: str
    changed_since: dt.datetime | None
    after: uuid.UUID | None  # exclusive lower bound of person ids
    upto: uuid.UUID | None  # inclusive upper bound
    batch_size: int


def recompute(
    engine: Engine,
    *,
    at: dt.date,
    changed_since: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
    batch_size: int = 5000,
    profile: str = DEFAULT_PROFILE,
    now: dt.datetime | None = None,
) -> RecomputeReport:
    """Recompute determinations on ``at``; append only those that changed.

    ``changed_since``: only persons with facts recorded after that time (the projection's
    ``last_recorded_at``). ``workers`` > 1 splits the persons into ranges of ids evaluated by
    that many processes, each with its own connection. ``progress`` is called with the number
    of persons done after each batch (single process) or each range (several processes).
    """
    started = time.perf_counter()
    now = now or dt.datetime.now(dt.UTC)
    url = engine.url.render_as_string(hide_password=False)
    base = _Job(url, at, now, profile, changed_since, None, None, batch_size)
    report = RecomputeReport(workers=workers)
    if workers <= 1:
        report.merge(_run_job(base, progress, engine))
    else:
        bounds = _id_bounds(engine, changed_since, parts=workers * 4)
        jobs = [
            _Job(url, at, now, profile, changed_since, after, upto, batch_size)
            for after, upto in zip([None, *bounds], [*bounds, None], strict=True)
        ]
        engine.dispose()  # no pooled connection is inherited by the forked workers
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [pool.submit(_run_job, job) for job in jobs]
            for future in as_completed(futures):
                part = future.result()
                report.merge(part)
                if progress is not None:
                    progress(part.persons)
    report.seconds = time.perf_counter() - started
    return report


def _id_bounds(engine: Engine, changed_since: dt.datetime | None, *, parts: int) -> list[uuid.UUID]:
    """Person ids splitting the persons to recompute into ``parts`` ranges of similar size."""
    condition = _changed(changed_since)
    with engine.connect() as connection:
        total = connection.scalar(select(func.count()).select_from(PersonStateRow).where(condition))
        bounds: list[uuid.UUID] = []
        for part in range(1, parts):
            bound = connection.scalar(
                select(PersonStateRow.person_id)
                .where(condition)
                .order_by(PersonStateRow.person_id)
                .offset((total or 0) * part // parts)
                .limit(1)
            )
            if bound is not None and (not bounds or bound > bounds[-1]):
                bounds.append(bound)
    return bounds


def _changed(changed_since: dt.datetime | None) -> Any:
    if changed_since is None:
        return and_(True)
    return PersonStateRow.last_recorded_at > changed_since


def _run_job(
    job: _Job, progress: Callable[[int], None] | None = None, engine: Engine | None = None
) -> RecomputeReport:
    own_engine = engine is None
    engine = engine or make_engine(job.database_url)
    profile = packaged_profile(job.profile)
    report = RecomputeReport()
    try:
        for batch in _batches(engine, job, profile):
            part = _recompute_batch(engine, job, profile, batch)
            report.merge(part)
            if progress is not None:
                progress(part.persons)
    finally:
        if own_engine:
            engine.dispose()
    return report


# The parts of the stored state the rules read; the rest (identifiers, addresses, contacts,
# border crossings) stays in the database, so that less is sent and parsed.
READ_STATE_KEYS = (
    "person_id",
    "identity",
    "death",
    "military_registration",
    "medical_decision",
    "family",
    "education",
    "employment",
    "disability",
    "deferrals",
    "reservations",
    "service",
)
UNREAD_STATE_KEYS = (
    "identifiers",
    "registered_address",
    "actual_address",
    "phone",
    "email",
    "border_crossings",
)
# The kinds of fact that fold only into those unread parts: appending them changes nothing the
# rules see of a person. Three in four feed records are of these kinds (documents, identifiers,
# addresses, border crossings).
UNREAD_FACT_KINDS = frozenset(
    {FactKind.identifier, FactKind.address, FactKind.contact, FactKind.border_crossing}
)
PersonRow = tuple[uuid.UUID, dt.date | None, str | None, dt.date | None, str | None]


def rules_read_any(facts: Sequence[Fact]) -> bool:
    """Whether appending ``facts`` may change what the rules see of a person (a correction or
    a retraction may touch any part, so it counts as read)."""
    return any(
        fact.kind not in UNREAD_FACT_KINDS or fact.supersedes_id is not None for fact in facts
    )


def _state_for_rules(dialect: str) -> Any:
    if dialect == "postgresql":
        # One pass over the document (jsonb_each), cheaper than deleting keys one by one.
        keys = ", ".join(f"'{key}'" for key in READ_STATE_KEYS)
        return literal_column(
            "(SELECT jsonb_object_agg(key, value) FROM jsonb_each(person_state.state)"
            f" WHERE key IN ({keys}))::text"
        )
    paths = ", ".join(f"'$.{key}'" for key in UNREAD_STATE_KEYS)
    return literal_column(f"json_remove(person_state.state, {paths})")


def _batches(engine: Engine, job: _Job, profile: Profile) -> Iterator[list[PersonRow]]:
    """Persons in id order, ``batch_size`` at a time (keyset pagination).

    A person the register does not record and whose sex is not registered by age (on the day,
    per the profile) is not liable whatever else is known: their state is not read at all, the
    projection's columns suffice (same determination, a fraction of the cost).
    """
    sexes = list(profile.value("registration.sexes", job.at).value)
    needs_state = or_(
        PersonStateRow.category.is_not(None),
        PersonStateRow.sex.is_(None),
        PersonStateRow.sex.in_(sexes),
    )
    state = case((needs_state, _state_for_rules(engine.dialect.name)), else_=null())
    columns = (
        PersonStateRow.person_id,
        PersonStateRow.birth_date,
        PersonStateRow.sex,
        PersonStateRow.date_of_death,
        state,
    )
    after = job.after
    while True:
        # Ids first (cheap to order and limit), then the rows of that id range: the state is
        # never read for persons outside the batch, whatever plan the database picks.
        ids = (
            select(PersonStateRow.person_id)
            .where(_changed(job.changed_since))
            .order_by(PersonStateRow.person_id)
            .limit(job.batch_size)
        )
        if after is not None:
            ids = ids.where(PersonStateRow.person_id > after)
        if job.upto is not None:
            ids = ids.where(PersonStateRow.person_id <= job.upto)
        with engine.connect() as connection:
            batch_ids = list(connection.scalars(ids).all())
            if not batch_ids:
                return
            query = (
                select(*columns)
                .where(
                    _changed(job.changed_since),
                    PersonStateRow.person_id >= batch_ids[0],
                    PersonStateRow.person_id <= batch_ids[-1],
                )
                .order_by(PersonStateRow.person_id)
            )
            rows: list[PersonRow] = [tuple(row) for row in connection.execute(query).all()]
        yield rows
        if len(batch_ids) < job.batch_size:
            return
        after = batch_ids[-1]


def _situation(row: PersonRow) -> Situation:
    person_id, birth_date, sex, date_of_death, state = row
    if state is not None:
        return situation_from_state_json(json.loads(state))
    return Situation(str(person_id), birth_date, sex, None, date_of_death, None, None, None, None)


def _recompute_batch(
    engine: Engine, job: _Job, profile: Profile, batch: Sequence[PersonRow]
) -> RecomputeReport:
    report = RecomputeReport(persons=len(batch))
    new_rows: list[dict[str, Any]] = []
    with engine.begin() as connection:
        latest = _latest_hashes(connection, batch[0][0], batch[-1][0])
        for row in batch:
            person_id = row[0]
            try:
                determination = determine(_situation(row), job.at, profile)
            except (ValueError, KeyError, TypeError):
                # Kept going and counted, never silent: the report names the first few.
                report.failed += 1
                if len(report.failed_persons) < 20:
                    report.failed_persons.append(str(person_id))
                continue
            fingerprint, record = determination.fingerprint_and_record()
            if latest.get(person_id) == fingerprint:
                report.unchanged += 1
                continue
            stored = _row(determination, fingerprint, job.now, record)
            stored["person_id"] = person_id
            new_rows.append(stored)
        _write(connection, new_rows)
    report.written = len(new_rows)
    return report


def _latest_hashes(
    connection: Connection, first: uuid.UUID, last: uuid.UUID
) -> dict[uuid.UUID, str]:
    newest = (
        select(func.max(DeterminationRow.id))
        .where(DeterminationRow.person_id >= first, DeterminationRow.person_id <= last)
        .group_by(DeterminationRow.person_id)
    )
    rows = connection.execute(
        select(DeterminationRow.person_id, DeterminationRow.result_hash).where(
            DeterminationRow.id.in_(newest)
        )
    )
    return {person_id: result_hash for person_id, result_hash in rows}


def _write(connection: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        for row in rows:  # the ORM's JSON type encodes the record itself
            if isinstance(row["result"], str):
                row["result"] = json.loads(row["result"])
        connection.execute(insert(DeterminationRow), rows)
        return
    raw: Any = connection.connection.driver_connection
    statement = f"COPY determination ({', '.join(COLUMNS)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                tuple(
                    json.dumps(row[c], separators=(",", ":")) if c == "result" else row[c]
                    for c in COLUMNS
                )
            )


def refresh_person(
    session: Session, person_id: uuid.UUID, *, now: dt.datetime, profile: Profile | None = None
) -> Determination:
    """After a person's facts change: grant, extend or end automatic deferrals (as facts with
    legal basis "automatic under <citation>"), then store the determination if it changed.

    Runs in the caller's transaction, so the facts, the deferrals and the determination are
    committed together or not at all."""
    on = now.date()
    state = get_state(session, person_id)
    deferrals = automatic_deferrals(state, on, profile)
    if deferrals:
        append_facts(session, person_id=person_id, facts=deferrals, now=now)
        state = get_state(session, person_id)
    determination = determine(situation_from_state(state), on, profile)
    store_determination(session, determination, now=now)
    return determination


def refresh_persons(
    session: Session,
    states: Mapping[uuid.UUID, PersonState],
    *,
    now: dt.datetime,
    profile: Profile | None = None,
    appended: Mapping[uuid.UUID, Sequence[Fact]] | None = None,
) -> None:
    """``refresh_person`` for many persons whose facts were just appended (``states``: their
    folded states, so nothing is read again): one query for their latest determinations, the
    automatic deferrals due appended for all at once (``append_many``), one write for the
    determinations that changed.

    With ``appended`` (each person's facts just appended), a person who has a determination
    and whose new facts are all of kinds the rules do not read (``rules_read_any``) keeps it
    without being evaluated: the situation the rules see is the one it was made from. What the
    passing of time alone changes (an age limit reached, a deferral ending) is the scheduled
    recompute's (``recompute``; each determination says when, ``next_change``), as it is for
    persons no fact arrives about."""
    if not states:
        return
    on = now.date()
    connection = session.connection()
    latest = _latest_hashes_of(connection, sorted(states))
    if appended is not None:
        states = {
            person_id: state
            for person_id, state in states.items()
            if person_id not in latest or rules_read_any(appended.get(person_id, ()))
        }
    rows: list[dict[str, Any]] = []

    def store(person_id: uuid.UUID, determination: Determination) -> None:
        fingerprint, record = determination.fingerprint_and_record()
        if latest.get(person_id) != fingerprint:
            rows.append(_row(determination, fingerprint, now, record) | {"person_id": person_id})

    due: dict[uuid.UUID, list[NewFact]] = {}
    for person_id, state in states.items():
        situation = situation_from_state(state)
        determination = determine(situation, on, profile)
        # Automatic deferrals concern only persons in a called-up category (their own check).
        if determination.category in CALLED_UP:
            deferrals = automatic_deferrals(situation, on, profile)
            if deferrals:
                due[person_id] = deferrals
                continue
        store(person_id, determination)
    if due:
        granted = append_many(session, due, now=now)
        for person_id, state in granted.states.items():
            store(person_id, determine(situation_from_state(state), on, profile))
        for person_id in sorted(set(due) - set(granted.states)):  # refused: one at a time
            refresh_person(session, person_id, now=now, profile=profile)
    _write(connection, rows)


def _latest_hashes_of(connection: Connection, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    newest = (
        select(func.max(DeterminationRow.id))
        .where(among(DeterminationRow.person_id, ids, dialect=connection.dialect.name))
        .group_by(DeterminationRow.person_id)
    )
    rows = connection.execute(
        select(DeterminationRow.person_id, DeterminationRow.result_hash).where(
            DeterminationRow.id.in_(newest)
        )
    )
    return {person_id: result_hash for person_id, result_hash in rows}
