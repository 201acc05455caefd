"""Appending facts to many persons at once: the path of feed intake.

``append_facts`` serves one command: a few statements per fact, through the ORM. A chunk of a
feed touches hundreds of persons, and one round trip per statement per person was what held
intake to 84 records/s. ``append_many`` does the same work for a set of persons with a fixed
number of statements whatever their count: lock their projections, check re-sends, fold each
person once, check their identifiers against the register, then write facts, change events (the
outbox), identifiers (of the persons whose identifiers a fact may have changed), projections and
name counts in bulk.

A person's new facts are folded onto their projection's stored state (``state.fold_onto``)
when that is the fold of their whole journal: the facts are recorded now, after everything
folded there, and supersede nothing; reading and folding the journal again was a fifth of
intake's CPU. Otherwise (a correction or retraction, a projection recorded later than this
transaction's clock, a person without one) their journal is read and folded whole. The stored
state is the fold of the journal up to its ``version`` (every append rewrites it in the same
transaction); were it ever behind, the next fact's ``seq`` would repeat one in the journal and
the unique (person, seq) constraint would refuse the write.

It keeps every rule of ``append_facts``: idempotent re-sends, conflicting re-sends refused,
``supersedes_id`` only within the person's own journal, an active identifier on one person only.
A person whose facts break one of them is not written at all: they come back in ``refused`` with
the reason, and the caller appends that person's facts one at a time through ``append_facts``,
which says which fact is wrong. Services add to the caller's transaction and never commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from oberih.changes.models import CHANGE_COLUMNS, CURRENT_TXID, record_changes
from oberih.db.copy import copy_rows
from oberih.db.queries import among, pairs_in, upsert
from oberih.persons.bulk import IDENTIFIER_COLUMNS, PROJECTION_COLUMNS, copy_facts
from oberih.persons.facts import Fact, FactKind, InvalidFact, NewFact
from oberih.persons.models import FactRow, IdentifierRow, Person, PersonStateRow
from oberih.persons.projection import add_name_counts, name_count_changes, projection_row
from oberih.persons.services import (
    AppendResult,
    fact_columns,
    fact_from_row,
    identifier_rows,
    journal_fact,
)
from oberih.persons.state import PersonState, fold, fold_onto, state_from_json

_NAME_COLUMNS = ("surname", "given_name", "patronymic")


@dataclass
class BatchAppend:
    """What ``append_many`` did: per written person their result and new state; the persons it
    did not write, with why."""

    results: dict[uuid.UUID, AppendResult] = field(default_factory=dict)
    states: dict[uuid.UUID, PersonState] = field(default_factory=dict)
    refused: dict[uuid.UUID, str] = field(default_factory=dict)


@dataclass
class _Planned:
    """One person's append, computed in memory before anything is written."""

    person_id: uuid.UUID
    result: AppendResult
    state: PersonState
    old_names: dict[str, Any] | None  # the projection's names before, None: no projection yet
    # False: the state's identifiers are the stored ones (folded onto, no identifier fact), so
    # their rows stand as written and were checked against other persons then.
    identifiers_changed: bool = True
    # The identifier rows as stored before, when known (folded onto the stored state, whose
    # identifiers they are): their rows that stand need not be deleted and written again.
    old_identifiers: list[dict[str, Any]] | None = None


def append_many(
    session: Session,
    appends: Mapping[uuid.UUID, Sequence[NewFact]],
    *,
    now: dt.datetime,
    name_counts: Counter[tuple[str, str, str]] | None = None,
) -> BatchAppend:
    """Append each person's facts (in order) and refresh their projections; see the module.

    With ``name_counts``, the changes to the name dictionary's counts are added there for the
    caller to write (``add_name_counts``) once for many calls, instead of written now."""
    outcome = BatchAppend()
    if not appends:
        return outcome
    session.flush()  # persons the ORM still holds (a birth just registered) must be visible
    connection = session.connection()
    ids = sorted(appends)
    dialect = connection.dialect.name
    known = set(connection.scalars(select(Person.id).where(among(Person.id, ids, dialect=dialect))))
    for person_id in ids:
        if person_id not in known:
            outcome.refused[person_id] = "person-not-found"
    ids = [person_id for person_id in ids if person_id in known]
    projections = _lock_projections(connection, ids)
    onto = {
        person_id: state_from_json(projections[person_id]["state"])
        for person_id in ids
        if person_id in projections
        and _onto_stored(projections[person_id], appends[person_id], now)
    }
    histories = _journals(connection, [person_id for person_id in ids if person_id not in onto])
    stored = _stored_by_key(connection, [fact for i in ids for fact in appends[i]])
    planned: list[_Planned] = []
    for person_id in ids:
        history = onto[person_id] if person_id in onto else histories.get(person_id, [])
        try:
            plan = _plan(person_id, history, appends[person_id], stored, now)
        except _Refused as refusal:
            outcome.refused[person_id] = refusal.reason
            continue
        if plan.result.appended:
            plan.old_names = _names(projections.get(person_id))
            planned.append(plan)
        else:
            outcome.results[person_id] = plan.result  # re-sends only: nothing to write
    for person_id, reason in _identifier_clashes(connection, planned).items():
        outcome.refused[person_id] = reason
    planned = [plan for plan in planned if plan.person_id not in outcome.refused]
    _write(session, connection, planned, name_counts)
    for plan in planned:
        outcome.results[plan.person_id] = plan.result
        outcome.states[plan.person_id] = plan.state
    return outcome


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _lock_projections(
    connection: Connection, ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    # Locked in id order: two workers locking overlapping sets cannot deadlock.
    columns = (*_NAME_COLUMNS, "state")
    rows = connection.execute(
        select(PersonStateRow.person_id, *(getattr(PersonStateRow, c) for c in columns))
        .where(among(PersonStateRow.person_id, ids, dialect=connection.dialect.name))
        .order_by(PersonStateRow.person_id)
        .with_for_update()
    )
    return {row.person_id: dict(row._mapping) for row in rows}


def _names(projection: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if projection is None else {c: projection[c] for c in _NAME_COLUMNS}


def _onto_stored(projection: dict[str, Any], facts: Sequence[NewFact], now: dt.datetime) -> bool:
    """Whether the facts, appended now, can be folded onto the projection's state (see the
    module; ``fold_onto`` checks it again on the journal facts they become)."""
    last = projection["state"]["last_recorded_at"]
    return all(fact.supersedes_id is None for fact in facts) and (
        last is None or dt.datetime.fromisoformat(last) <= now
    )


def _journals(connection: Connection, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Fact]]:
    journals: dict[uuid.UUID, list[Fact]] = {}
    if not ids:
        return journals
    rows = connection.execute(
        select(*FactRow.__table__.columns)
        .where(among(FactRow.person_id, ids, dialect=connection.dialect.name))
        .order_by(FactRow.person_id, FactRow.seq)
    )
    for row in rows:
        journals.setdefault(row.person_id, []).append(fact_from_row(row))
    return journals


def _stored_by_key(connection: Connection, facts: list[NewFact]) -> dict[tuple[str, str], Fact]:
    """Facts already in the journal under the (source, record id) of any of ``facts``."""
    keys = sorted({(fact.source, fact.source_record_id) for fact in facts})
    if not keys:
        return {}
    rows = connection.execute(
        select(*FactRow.__table__.columns).where(
            pairs_in(
                FactRow.source,
                FactRow.source_record_id,
                keys,
                dialect=connection.dialect.name,
            )
        )
    )
    return {(row.source, row.source_record_id): fact_from_row(row) for row in rows}


def _plan(
    person_id: uuid.UUID,
    history: list[Fact] | PersonState,
    facts: Sequence[NewFact],
    stored: dict[tuple[str, str], Fact],
    now: dt.datetime,
) -> _Planned:
    """``append_facts`` in memory: the same checks, in the same order. ``history`` is the
    person's journal, or the stored state their new facts are folded onto."""
    onto = history if isinstance(history, PersonState) else None
    journal = [] if isinstance(history, PersonState) else list(history)
    version = onto.version if onto is not None else max((f.seq for f in journal), default=0)
    result = AppendResult(person_id=person_id, version=version)
    own_ids = {fact.id for fact in journal}  # supersedes_id: only with the journal read
    for new in facts:
        key = (new.source, new.source_record_id)
        existing = stored.get(key)
        if existing is not None:
            if existing.person_id != person_id or not new.same_content_as(existing):
                raise _Refused("conflict")
            result.duplicates.append(existing)
            continue
        if new.supersedes_id is not None and new.supersedes_id not in own_ids:
            raise _Refused("invalid-fact")
        try:
            fact = journal_fact(new, person_id=person_id, seq=version + 1, now=now)
        except InvalidFact:
            raise _Refused("invalid-fact") from None
        version += 1
        stored[key] = fact  # the same record id later in the batch is a re-send of this one
        own_ids.add(fact.id)
        journal.append(fact)
        result.appended.append(fact)
    result.version = version
    if not result.appended:
        state = PersonState(person_id=person_id)
    elif onto is not None:  # ``_onto_stored`` chose it: ``fold_onto`` proves it again
        state = fold_onto(onto, result.appended)
    else:
        state = fold(person_id, journal)
    changed = onto is None or any(f.kind == FactKind.identifier for f in result.appended)
    old_identifiers = identifier_rows(onto) if changed and onto is not None else None
    return _Planned(person_id, result, state, None, changed, old_identifiers)


def _identifier_clashes(connection: Connection, planned: list[_Planned]) -> dict[uuid.UUID, str]:
    """Persons whose new state holds an active identifier that another person holds (in the
    register, or earlier in this batch)."""
    wanted: dict[tuple[str, str], list[uuid.UUID]] = {}
    for plan in (plan for plan in planned if plan.identifiers_changed):
        for row in identifier_rows(plan.state):
            if row["active"]:
                wanted.setdefault((row["kind"], row["value"]), []).append(plan.person_id)
    if not wanted:
        return {}
    rows = connection.execute(
        select(IdentifierRow.kind, IdentifierRow.value, IdentifierRow.person_id).where(
            pairs_in(
                IdentifierRow.kind, IdentifierRow.value, wanted, dialect=connection.dialect.name
            ),
            IdentifierRow.active,
        )
    )
    owners = {(kind, value): person_id for kind, value, person_id in rows}
    clashes: dict[uuid.UUID, str] = {}
    for key, claimants in wanted.items():
        owner = owners.get(key, claimants[0])
        for person_id in claimants:
            if person_id != owner:
                clashes[person_id] = "identifier-taken"
    return clashes


def _write(
    session: Session,
    connection: Connection,
    planned: list[_Planned],
    name_counts: Counter[tuple[str, str, str]] | None,
) -> None:
    if not planned:
        return
    facts = [fact for plan in planned for fact in plan.result.appended]
    changes = _identifier_changes(plan for plan in planned if plan.identifiers_changed)
    identifiers = changes.inserted
    rows = {plan.person_id: projection_row(plan.state) for plan in planned}
    if changes.replaced:
        dialect = connection.dialect.name
        connection.execute(
            delete(IdentifierRow).where(
                among(IdentifierRow.person_id, changes.replaced, dialect=dialect)
            )
        )
    _update_identifiers(connection, changes.updated)
    if connection.dialect.name == "postgresql":
        _copy(connection, facts, identifiers, list(rows.values()))
    else:
        connection.execute(insert(FactRow), [fact_columns(fact) for fact in facts])
        record_changes(connection, facts)
        if identifiers:
            connection.execute(insert(IdentifierRow), identifiers)
        connection.execute(upsert(connection, PersonStateRow, ["person_id"]), list(rows.values()))
    delta: Counter[tuple[str, str, str]] = Counter()
    for plan in planned:
        delta.update(name_count_changes(plan.old_names, rows[plan.person_id]))
    if name_counts is None:
        add_name_counts(connection, delta)
    else:
        name_counts.update(delta)
    # Rows written here bypass the ORM: objects it already holds for these persons are stale.
    for instance in list(session.identity_map.values()):
        if isinstance(instance, PersonStateRow) and instance.person_id in rows:
            session.expire(instance)


@dataclass
class _IdentifierChanges:
    """How the identifier rows of the renewed persons change (``_identifier_changes``)."""

    replaced: list[uuid.UUID] = field(default_factory=list)  # every row deleted, then inserted
    inserted: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)  # same key, new status or fact


def _identifier_changes(renewed: Iterable[_Planned]) -> _IdentifierChanges:
    """The identifier rows to write for persons whose identifiers a fact may have changed.

    Where the stored rows are known (folded onto the stored state), only what changed is
    written: an identifier first seen is inserted, one restated or whose status changed is
    updated in place (its status and the fact that gave it; most feeds restate identifiers the
    register holds, and deleting and inserting again every row of every such person was a
    sixth of intake's rows written). A person whose stored rows are not known, or one of
    whose identifiers went (a fact retracted), has all of them replaced."""
    changes = _IdentifierChanges()
    for plan in renewed:
        new = identifier_rows(plan.state)
        old = (
            None
            if plan.old_identifiers is None
            else {(row["kind"], row["value"]): row for row in plan.old_identifiers}
        )
        keys = {(row["kind"], row["value"]) for row in new}
        if old is None or not keys >= old.keys():
            changes.replaced.append(plan.person_id)
            changes.inserted.extend(new)
            continue
        for row in new:
            stored = old.get((row["kind"], row["value"]))
            if stored is None:
                changes.inserted.append(row)
            elif stored != row:
                changes.updated.append(row)
    return changes


def _update_identifiers(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Set the status and fact of identifier rows in place: on PostgreSQL one statement for all
    (arrays, as ``pairs_in`` passes them), elsewhere one per row."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(
            update(IdentifierRow)
            .where(
                IdentifierRow.person_id == bindparam("key_person_id"),
                IdentifierRow.kind == bindparam("key_kind"),
                IdentifierRow.value == bindparam("key_value"),
            )
            .values(active=bindparam("new_active"), fact_id=bindparam("new_fact_id")),
            [
                {
                    "key_person_id": row["person_id"],
                    "key_kind": row["kind"],
                    "key_value": row["value"],
                    "new_active": row["active"],
                    "new_fact_id": row["fact_id"],
                }
                for row in rows
            ],
        )
        return
    connection.exec_driver_sql(
        "UPDATE identifier AS stored SET active = new.active, fact_id = new.fact_id "
        "FROM unnest(%(person_ids)s::uuid[], %(kinds)s::text[], %(values)s::text[], "
        "%(actives)s::boolean[], %(fact_ids)s::uuid[]) "
        "AS new(person_id, kind, value, active, fact_id) "
        "WHERE stored.person_id = new.person_id AND stored.kind = new.kind "
        "AND stored.value = new.value",
        {
            "person_ids": [row["person_id"] for row in rows],
            "kinds": [row["kind"] for row in rows],
            "values": [row["value"] for row in rows],
            "actives": [row["active"] for row in rows],
            "fact_ids": [row["fact_id"] for row in rows],
        },
    )


_INCOMING = "person_state_incoming"


def _source_key(fact: Fact) -> tuple[str, str]:
    return fact.source, fact.source_record_id


def _copy(
    connection: Connection,
    facts: list[Fact],
    identifiers: list[dict[str, Any]],
    projections: list[dict[str, Any]],
) -> None:
    """PostgreSQL: COPY, as the bulk load does (``persons.bulk``); the projections through a
    temporary table, from which one statement updates them in place (``upsert``'s reasons)."""
    txid = connection.execute(select(CURRENT_TXID)).scalar_one()
    changes = [
        {"txid": txid, "person_id": f.person_id, "kind": f.kind, "source": f.source,
         "recorded_at": f.recorded_at}
        for f in facts
    ]  # fmt: skip
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_INCOMING} "
        # The state keeps the projection's compression (LZ4, migration 0015): compressed
        # once here, the document is moved into the projection as it is.
        "(LIKE person_state INCLUDING DEFAULTS INCLUDING COMPRESSION) ON COMMIT DELETE ROWS"
    )
    raw: Any = connection.connection.driver_connection
    # Facts in the order of their unique (source, record id): two workers' chunks that hold the
    # same re-sent records (a source's copy in another batch) then meet on that index in one
    # order, and the second waits for the first instead of deadlocking with it.
    by_key = sorted(facts, key=_source_key)
    with raw.cursor() as cursor:
        copy_facts(cursor, [fact_columns(fact) for fact in by_key])
        copy_rows(cursor, "change_event", CHANGE_COLUMNS, changes)
        copy_rows(cursor, "identifier", IDENTIFIER_COLUMNS, identifiers)
        copy_rows(cursor, _INCOMING, PROJECTION_COLUMNS, projections)
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in PROJECTION_COLUMNS if c != "person_id")
    columns = ", ".join(PROJECTION_COLUMNS)
    connection.exec_driver_sql(
        f"INSERT INTO person_state ({columns}) SELECT {columns} FROM {_INCOMING} "
        f"ON CONFLICT (person_id) DO UPDATE SET {assignments}"
    )
    connection.exec_driver_sql(f"DELETE FROM {_INCOMING}")
