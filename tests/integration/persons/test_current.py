"""The read of a person's current state on the event loop (``persons.current``), on PostgreSQL:
the state and its audit event in one statement, the event naming the same fields as the
worker-thread path (``PersonRead.shown_fields``), nothing recorded or returned otherwise."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from oberih.audit.events import AuditEvent, event_from_columns
from oberih.audit.models import AuditInboxRow
from oberih.auth.jurisdiction import Scope
from oberih.db import migrations
from oberih.db.engine import make_async_engine, make_engine
from oberih.persons.bench_search import generated_population
from oberih.persons.bulk import load_people
from oberih.persons.current import CurrentReads
from oberih.persons.models import PersonStateRow
from oberih.persons.schemas import SHOWN_FIELDS, PersonRead

pytestmark = pytest.mark.postgres

# Microseconds and an offset other than UTC: the event's moment must reach its column exactly.
NOW = dt.datetime(2026, 11, 26, 11, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
T = TypeVar("T")


@pytest.fixture
def engine(postgres_database_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_database_url)
    load_people(engine, generated_population(300, seed=7))
    yield engine
    engine.dispose()


def _read_event(person_id: uuid.UUID) -> AuditEvent:
    # Every other read under a classified purpose: its disclosure date must be recorded too.
    classified = person_id.int % 2 == 0
    return AuditEvent(
        action="person:record:read",
        outcome="allowed",
        actor="tcc_officer:officer-1",
        role="tcc_officer",
        office_code="TCC-UA80-01",
        purpose="CASE-2026-000123",
        person_id=person_id,
        fields=(),
        request_id="req-00000001",
        classified_until=dt.date(2031, 1, 1) if classified else None,
    )


def _on_the_loop(engine: Engine, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    async def run() -> T:
        async_engine = make_async_engine(engine)
        assert async_engine is not None
        try:
            return await work(async_engine)
        finally:
            await async_engine.dispose()

    return asyncio.run(run())


async def _read_alone(
    async_engine: AsyncEngine, scope: Scope, person_id: uuid.UUID, *, logged: AuditEvent
) -> dict[str, object] | None:
    """One read with none other in flight: sent at once, alone, in autocommit."""
    reads = CurrentReads(async_engine)
    try:
        return await reads.read(scope, person_id, logged=logged, now=NOW)
    finally:
        await reads.close()


def _inbox(engine: Engine) -> list[AuditInboxRow]:
    with engine.connect() as connection:
        return list(connection.execute(select(AuditInboxRow.__table__).order_by("id")))  # type: ignore[arg-type]


def test_each_read_records_the_fields_the_thread_path_would_name(engine: Engine) -> None:
    with engine.connect() as connection:
        rows = connection.execute(select(PersonStateRow.person_id, PersonStateRow.state))
        stored = {person_id: state for person_id, state in rows}

    async def read_all(async_engine: AsyncEngine) -> dict[uuid.UUID, object]:
        return {
            person_id: await _read_alone(
                async_engine, Scope.nationwide(), person_id, logged=_read_event(person_id)
            )
            for person_id in stored
        }

    read = _on_the_loop(engine, read_all)
    assert read == stored
    events = {row.person_id: row for row in _inbox(engine)}
    assert set(events) == set(stored)
    shown = {tuple(PersonRead.model_validate(s).shown_fields()) for s in stored.values()}
    assert len(shown) > 3  # the population gives records of several shapes
    for person_id, state in stored.items():
        event = events[person_id]
        fields = tuple(PersonRead.model_validate(state).shown_fields())
        assert event_from_columns(event) == replace(_read_event(person_id), fields=fields)
        assert event.recorded_at == NOW
    # Each read is its own transaction.
    assert len({row.txid for row in events.values()}) == len(stored)


def test_a_person_outside_the_scope_is_neither_returned_nor_recorded(engine: Engine) -> None:
    with engine.connect() as connection:
        person_id, office = connection.execute(
            select(PersonStateRow.person_id, PersonStateRow.office_code)
            .where(PersonStateRow.office_code.is_not(None))
            .limit(1)
        ).one()
    elsewhere = Scope.of_offices(["TCC-UA99-99"])

    async def read(async_engine: AsyncEngine) -> list[object]:
        return [
            await _read_alone(async_engine, scope, person_id, logged=_read_event(person_id))
            for scope in (elsewhere, Scope.of_offices([office]))
        ]

    outside, inside = _on_the_loop(engine, read)
    assert outside is None and inside is not None
    assert [row.person_id for row in _inbox(engine)] == [person_id]


def test_without_its_audit_event_the_state_is_not_returned(engine: Engine) -> None:
    with engine.connect() as connection:
        person_id = connection.scalar(select(PersonStateRow.person_id).limit(1))
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE audit_inbox RENAME TO audit_inbox_away"))

    async def read(async_engine: AsyncEngine) -> object:
        return await _read_alone(
            async_engine, Scope.nationwide(), person_id, logged=_read_event(person_id)
        )

    try:
        with pytest.raises(psycopg.errors.UndefinedTable):
            _on_the_loop(engine, read)
    finally:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE audit_inbox_away RENAME TO audit_inbox"))
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(AuditInboxRow)) == 0


def test_the_generated_column_names_the_fields_the_model_shows() -> None:
    path = Path(migrations.__file__).parent / "versions" / "0011_person_shown_fields.py"
    spec = importlib.util.spec_from_file_location("migration_0011", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    # A field added to PersonRead needs a migration redefining person_state.shown_fields.
    assert migration.SHOWN_FIELDS == SHOWN_FIELDS


def _some_persons(engine: Engine, count: int) -> list[uuid.UUID]:
    with engine.connect() as connection:
        return list(
            connection.scalars(
                select(PersonStateRow.person_id).order_by(PersonStateRow.person_id).limit(count)
            )
        )


def test_reads_arriving_together_are_answered_and_committed_together(engine: Engine) -> None:
    persons = _some_persons(engine, 20)

    async def read_at_once(async_engine: AsyncEngine) -> list[object]:
        reads = CurrentReads(async_engine)
        answers = await asyncio.gather(
            *(
                reads.read(Scope.nationwide(), person_id, logged=_read_event(person_id), now=NOW)
                for person_id in persons
            )
        )
        # One more, alone: it is sent at once, in autocommit.
        alone = await reads.read(
            Scope.nationwide(), persons[0], logged=_read_event(persons[0]), now=NOW
        )
        await reads.close()
        return [*answers, alone]

    answers = _on_the_loop(engine, read_at_once)
    with engine.connect() as connection:
        rows = connection.execute(select(PersonStateRow.person_id, PersonStateRow.state))
        stored = {person_id: state for person_id, state in rows}
    assert answers == [stored[person_id] for person_id in [*persons, persons[0]]]
    events = _inbox(engine)
    assert sorted(row.person_id for row in events) == sorted([*persons, persons[0]])
    # The twenty in one transaction (one commit), the last one in its own.
    assert len({row.txid for row in events}) == 2


def test_a_read_whose_event_fails_fails_the_reads_sent_with_it(engine: Engine) -> None:
    persons = _some_persons(engine, 10)
    refused = persons[3]
    with engine.begin() as connection:
        connection.execute(
            text(
                "ALTER TABLE audit_inbox ADD CONSTRAINT refuse_one "
                f"CHECK (person_id IS DISTINCT FROM '{refused}') NOT VALID"
            )
        )

    async def read_at_once(async_engine: AsyncEngine) -> tuple[list[object], list[object]]:
        reads = CurrentReads(async_engine)

        def read_all(ids: list[uuid.UUID]) -> Awaitable[list[object]]:
            return asyncio.gather(
                *(reads.read(Scope.nationwide(), i, logged=_read_event(i), now=NOW) for i in ids),
                return_exceptions=True,
            )

        together = await read_all(persons)
        # The connection went back to the pool usable: the others, without it, are answered.
        others = await read_all([i for i in persons if i != refused])
        await reads.close()
        return together, others

    together, others = _on_the_loop(engine, read_at_once)
    assert all(isinstance(answer, psycopg.errors.CheckViolation) for answer in together)
    assert all(isinstance(answer, dict) for answer in others)
    # Nothing of the failed transaction was recorded: only the second round's reads.
    assert sorted(row.person_id for row in _inbox(engine)) == sorted(
        i for i in persons if i != refused
    )


def test_reads_in_flight_when_the_server_stops_are_answered_not_left_waiting(
    engine: Engine,
) -> None:
    persons = _some_persons(engine, 4)

    async def stop_while_reading(async_engine: AsyncEngine) -> list[object]:
        reads = CurrentReads(async_engine)
        # Another transaction keeps the inbox from taking rows: the batch stays in flight.
        with engine.connect() as blocker:
            blocker.execute(text("LOCK TABLE audit_inbox IN SHARE ROW EXCLUSIVE MODE"))
            answers = [
                asyncio.ensure_future(
                    reads.read(Scope.nationwide(), i, logged=_read_event(i), now=NOW)
                )
                for i in persons
            ]
            await asyncio.sleep(0.5)
            assert not any(answer.done() for answer in answers)
            sender = reads._sender
            assert sender is not None
            sender.cancel()
            results = await asyncio.gather(*answers, return_exceptions=True)
            blocker.rollback()
        with pytest.raises(asyncio.CancelledError):
            await sender
        # Its connection was closed, not left checked out for the collector to find open.
        assert async_engine.pool.checkedout() == 0
        return results

    results = _on_the_loop(engine, stop_while_reading)
    assert all(isinstance(result, psycopg.OperationalError) for result in results)
    assert _inbox(engine) == []
