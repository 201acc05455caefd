"""Intake a chunk at a time: many records in one transaction, a fixed number of statements.

One transaction per record (a commit, and a WAL flush, each) and a dozen statements per record
held intake to 84 records/s. A chunk is processed in three steps, in the claiming transaction:

1. Read: parse every record, look up at once which earlier records share their ids (re-sends,
   conflicts) and who owns the identifiers they carry.
2. Decide, record by record in order: identity resolution (from the prefetched owners and
   candidate blocks, or by scores; never the persons an officer rejected for the record,
   ``rejections``), then the outcome. Links are gathered per person. A birth that registers a
   person gets the person's id and becomes their first link; the resolver holds the newborn in
   memory (``Resolver.born``), so that the chunk's later records find them as one record at a
   time would find them written. The rarer outcomes (an identity review, no match) take the
   one-record path, ``Processor.act``.
3. Write: the newborns' ``person`` rows, then every person's facts at once
   (``persons.batch.append_many``: one fold per person whatever the number of their records,
   onto their stored state when that equals the fold of their journal), their determinations
   (``refresh_persons``), the documents the new facts make stale, link decisions and audit
   events in bulk.

A newborn ``append_many`` refuses rolls the chunk back (``NewbornRefused``): it is taken again
with its births on the one-record path, which quarantines the one at fault with the reason. Any
other person ``append_many`` refuses (a conflicting re-send, an identifier another person holds, a
bad ``supersedes``) has their records applied one at a time (``Processor.apply``), each in a
savepoint, so that the record at fault is quarantined with its reason and the others apply.
Every record still ends in exactly one state; a chunk that fails as a whole rolls back and
leaves its records pending. A record whose id occurs earlier in the same chunk is left pending
for the next chunk, where the earlier one's outcome is committed and decides it (a re-send of an
applied record is a duplicate; of a quarantined one, processed anew), exactly as one record at
a time would.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, literal_column, select, text
from sqlalchemy.orm import Session

from oberih.audit.events import AuditEvent
from oberih.audit.services import queue_events
from oberih.db.queries import among, insert_many, pairs_in, update_many
from oberih.documents.services import revoke_stale_documents_of
from oberih.exchange.adapters import Adapted, adapt, with_identity
from oberih.exchange.messages import Message
from oberih.exchange.models import ExchangeBatch, ExchangeRecord, LinkDecision, RecordState
from oberih.exchange.outcomes import (
    AnyRecord,
    ClaimedRecord,
    Quarantine,
    applied_event,
    decision,
    finish,
    parse_record,
)
from oberih.exchange.rejections import rejected_persons, rejections
from oberih.identifiers import InvalidIdentifier, parse_identifier
from oberih.persons.batch import append_many
from oberih.persons.facts import FactKind, InvalidFact, NewFact
from oberih.persons.models import FactRow, Person, PersonStateRow
from oberih.persons.projection import add_name_counts, projection_row
from oberih.persons.services import journal_fact
from oberih.persons.state import fold
from oberih.rules.services import refresh_persons

if TYPE_CHECKING:
    from oberih.exchange.services import Processor

logger = logging.getLogger("oberih.exchange")

# Records remembered as left pending once (``_held_elsewhere``); those another worker ended are
# forgotten all at once past this many, so that the memory stays flat.
MAX_DEFERRED = 10_000
_SETTLED = (RecordState.applied, RecordState.duplicate, RecordState.review)
_CONFLICT = "conflict: this record id was received before with different content"


@dataclass(frozen=True, slots=True)
class _Link:
    record: ClaimedRecord
    adapted: Adapted


def process_chunk(processor: Processor, session: Session, records: list[ClaimedRecord]) -> int:
    """Take claimed ``records`` to their final states in the caller's transaction (see the
    module); return how many ended."""
    now = processor.clock()
    # Only a record processed before (retried after a birth, replayed) can have candidates an
    # officer rejected; a chunk of new records asks nothing (``_read`` stamps them all).
    rejected = rejections(session, [r for r in records if r.processed_at is not None])
    readable = _read(session, records, now)
    resolver = processor.resolver
    resolver.prefetch(session, [message.subject for _record, message in readable])
    decisions: list[dict[str, object]] = []
    events: list[AuditEvent] = []
    links: dict[uuid.UUID, list[_Link]] = defaultdict(list)
    names: Counter[tuple[str, str, str]] = Counter()
    processor.deferred_name_counts = names
    newborns: list[uuid.UUID] = []
    births_in_bulk = processor.births_in_bulk
    try:
        for record, message in readable:
            adapted = adapt(record.source, message)
            passed = rejected_persons(rejected.get((record.batch_id, record.position), []))
            resolution = resolver.resolve(session, message.subject, rejected=passed)
            person_id = resolution.person_id
            if resolution.outcome == "link" and person_id is not None:
                decisions.append(decision(record, resolution, now, outcome="link"))
            elif (
                births_in_bulk
                and resolution.outcome == "no_link"
                and resolution.conflict is None
                and adapted.creates_person
            ):
                person_id = _born(processor, adapted, now)
                newborns.append(person_id)
                decisions.append(decision(record, resolution, now, outcome="new_person"))
            else:
                event = processor.act(session, record, message, adapted, resolution, now)
                events.extend([event] if event is not None else [])
                continue
            links[person_id].append(_Link(record, adapted))
            for kind, value in active_identifiers(adapted):
                resolver.identified(kind, value, person_id)
    finally:
        resolver.forget()
        processor.deferred_name_counts = None
    held = _held_elsewhere(processor, session, links, newborns)
    if held:
        left = {
            (link.record.batch_id, link.record.position)
            for person_id in held
            for link in links.pop(person_id)
        }
        processor.deferred |= left
        decisions = [row for row in decisions if (row["batch_id"], row["position"]) not in left]
        logger.debug("records of %d persons another worker holds left pending", len(held))
    session.flush()  # what the one-record path added through the ORM (reviews, births)
    insert_many(session.connection(), LinkDecision, decisions)
    insert_many(session.connection(), Person, [{"id": i, "created_at": now} for i in newborns])
    events.extend(_apply_links(processor, session, links, now, names, set(newborns)))
    # The name dictionary's rows are locked once, in one sorted order, as the chunk ends: two
    # workers counting a common surname's newborns at different moments of their chunks took
    # its row in different orders, and PostgreSQL broke the deadlock by failing a chunk.
    add_name_counts(session.connection(), names)
    queue_events(session, events, now=now)
    ended = [record.outcome_row() for record in records if record.state != RecordState.pending]
    processor.deferred -= {(row["batch_id"], row["position"]) for row in ended}
    if len(processor.deferred) > MAX_DEFERRED:  # left pending here, ended by another worker
        processor.deferred.clear()
    update_many(session.connection(), ExchangeRecord, ("batch_id", "position"), ended)
    return len(ended)


def _held_elsewhere(
    processor: Processor,
    session: Session,
    links: dict[uuid.UUID, list[_Link]],
    newborns: list[uuid.UUID],
) -> set[uuid.UUID]:
    """Lock the projections of the persons the chunk links records to, except those another
    transaction holds (PostgreSQL: ``SKIP LOCKED``); return these, whose records the chunk
    leaves pending for a later one, when the other worker has committed.

    Two workers' chunks of 500 records about a register's recent arrivals share persons, and
    the second to lock one waited for the first's whole transaction: a tenth of each worker's
    time at two workers (``oberih bench ingest``). A record left pending once is waited for
    the next time (``Processor.deferred``), so that a person whose records keep coming cannot
    hold it back for ever. A person's records are all left or all taken: their order holds."""
    dialect = session.get_bind().dialect.name
    if dialect != "postgresql":
        return set()  # one writer at a time
    born = set(newborns)
    wanted = sorted(person_id for person_id in links if person_id not in born)
    if not wanted:
        return set()
    connection = session.connection()
    taken = set(
        connection.scalars(
            select(PersonStateRow.person_id)
            .where(among(PersonStateRow.person_id, wanted, dialect=dialect))
            .order_by(PersonStateRow.person_id)
            .with_for_update(skip_locked=True)
        )
    )
    missing = [person_id for person_id in wanted if person_id not in taken]
    if not missing:
        return set()
    held = set(
        connection.scalars(
            select(PersonStateRow.person_id).where(
                among(PersonStateRow.person_id, missing, dialect=dialect)
            )
        )
    )
    patient = {
        person_id
        for person_id in held
        if any(
            (link.record.batch_id, link.record.position) in processor.deferred
            for link in links[person_id]
        )
    }
    return held - patient


class NewbornRefused(Exception):
    """A person the chunk registers in bulk (``_born``) cannot be written as a whole: the
    chunk is rolled back and taken again with its births one at a time (``Processor.act``),
    which quarantines the record at fault with the reason."""


def _born(processor: Processor, adapted: Adapted, now: dt.datetime) -> uuid.UUID:
    """A birth registers its person with the chunk's other writes, at its end: the records
    after it in the chunk find the newborn in the resolver's memory, as they would find them
    written (``Resolver.born``, from the facts folded as ``append_many`` folds them). One at a
    time, in a savepoint of its own, a birth cost as much as ten other records."""
    person_id = uuid.uuid4()
    facts = [
        journal_fact(item.fact, person_id=person_id, seq=seq, now=now)
        for seq, item in enumerate(adapted.facts, start=1)
    ]
    processor.resolver.born(person_id, projection_row(fold(person_id, facts)))
    processor.registered(now)
    return person_id


def _read(
    session: Session, records: list[ClaimedRecord], now: dt.datetime
) -> list[tuple[ClaimedRecord, Message]]:
    """Parse the records and settle re-sends; the others go on with their messages. A record
    whose id an earlier record of the chunk has stays pending: the next chunk decides it."""
    earlier = _earlier_records(session, records)
    received = received_times(session, records)
    in_chunk: set[tuple[str, str]] = set()
    readable: list[tuple[ClaimedRecord, Message]] = []
    for record in records:
        record_id = record.source_record_id
        key = (record.source, record_id) if record_id is not None else None
        if key is not None and key in in_chunk:
            continue
        if key is not None:
            in_chunk.add(key)
        record.processed_at = now
        try:
            message = parse_record(record, received_at=received[record.batch_id])
        except Quarantine as problem:
            finish(record, RecordState.quarantined, problem.reason)
            continue
        if key is not None and key in earlier:
            same = record.content_hash in earlier[key]
            finish(
                record,
                RecordState.duplicate if same else RecordState.quarantined,
                None if same else _CONFLICT,
            )
            continue
        readable.append((record, message))
    return readable


def received_times(session: Session, records: Sequence[AnyRecord]) -> dict[uuid.UUID, dt.datetime]:
    """batch id -> when the register received it, for the batches of ``records`` (the chunk's,
    or the one record the one-record path takes)."""
    ids = sorted({record.batch_id for record in records})
    rows = session.execute(
        select(ExchangeBatch.id, ExchangeBatch.received_at).where(
            among(ExchangeBatch.id, ids, dialect=session.get_bind().dialect.name)
        )
    )
    return {batch_id: received_at for batch_id, received_at in rows}


def _earlier_records(
    session: Session, records: list[ClaimedRecord]
) -> dict[tuple[str, str], set[str]]:
    """(source, record id) -> content hashes of settled records received before under it."""
    keys = sorted(
        {(r.source, r.source_record_id) for r in records if r.source_record_id is not None}
    )
    if not keys:
        return {}
    rows = session.execute(
        select(
            ExchangeRecord.source, ExchangeRecord.source_record_id, ExchangeRecord.content_hash
        ).where(
            pairs_in(
                ExchangeRecord.source,
                ExchangeRecord.source_record_id,
                keys,
                dialect=session.get_bind().dialect.name,
            ),
            ExchangeRecord.state.in_(_SETTLED),
        )
    )
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for source, record_id, digest in rows:
        found[(source, str(record_id))].add(digest)
    return found


def active_identifiers(adapted: Adapted) -> list[tuple[str, str]]:
    """(kind, canonical value) of the active identifiers a record's facts give."""
    found = []
    for item in adapted.facts:
        payload = item.fact.payload
        if item.fact.kind != FactKind.identifier or payload.get("status", "active") != "active":
            continue
        try:
            kind = str(payload["identifier_kind"])
            found.append((kind, parse_identifier(kind, str(payload["value"])).value))
        except (KeyError, InvalidIdentifier):
            continue  # the append refuses it, with the reason
    return found


def _apply_links(
    processor: Processor,
    session: Session,
    links: dict[uuid.UUID, list[_Link]],
    now: dt.datetime,
    names: Counter[tuple[str, str, str]],
    newborns: set[uuid.UUID],
) -> list[AuditEvent]:
    """Append the linked records' facts, person by person, in bulk; see the module. Their
    name dictionary count changes are added to ``names``, for the caller to write. A newborn's
    first link is their birth; one that cannot be appended in bulk ends the chunk
    (``NewbornRefused``)."""
    if not links:
        return []
    superseded, in_chunk = _superseded(session, links)
    endings = earlier_endings(
        session,
        [
            (person_id, item.fact)
            for person_id, person_links in links.items()
            for link in person_links
            for item in link.adapted.facts
        ],
    )
    identities = _identities(session, links, newborns)
    appends: dict[uuid.UUID, list[NewFact]] = {}
    one_by_one: set[uuid.UUID] = set()
    for person_id, person_links in links.items():
        facts: list[NewFact] = []
        identity = identities.get(person_id)
        for link in person_links:
            for item in link.adapted.facts:
                try:
                    fact = with_identity(item, identity)
                except InvalidFact:
                    one_by_one.add(person_id)  # the one-record path quarantines it, saying why
                    continue
                if fact.kind == FactKind.identity:  # a later name change keeps this one's data
                    identity = fact.payload
                earlier = item.supersedes_record_id
                if earlier is None:
                    ending = endings.get((person_id, fact.source, fact.source_record_id))
                    facts.append(fact if ending is None else ended_by(fact, ending))
                    continue
                key = (fact.source, earlier)
                if key in superseded:
                    facts.append(fact.model_copy(update={"supersedes_id": superseded[key]}))
                elif key in in_chunk:
                    one_by_one.add(person_id)  # it ends a record of this very chunk
                else:  # an ending whose start never arrived is a closed interval on its own
                    facts.append(fact)
        appends[person_id] = facts
    if newborns & one_by_one:
        raise NewbornRefused("a newborn's facts end a record of the same chunk")
    batch = append_many(
        session,
        {p: f for p, f in appends.items() if p not in one_by_one},
        now=now,
        name_counts=names,
    )
    if newborns & set(batch.refused):
        raise NewbornRefused("a newborn's facts were refused")
    events: list[AuditEvent] = []
    for person_id, result in batch.results.items():
        appended = {(fact.source, fact.source_record_id) for fact in result.appended}
        for link in links[person_id]:
            sent = (link.record.source, link.record.source_record_id)
            state = RecordState.applied if sent in appended else RecordState.duplicate
            finish(link.record, state, None, person_id=person_id)
            events.append(applied_event(link.record, person_id))
    if processor.recompute:
        new_facts = {person_id: result.appended for person_id, result in batch.results.items()}
        refresh_persons(session, batch.states, now=now, appended=new_facts)
    # A registry fact that changes a claim shown on a valid e-document revokes it.
    revoke_stale_documents_of(session, list(batch.states), now=now)
    for person_id in sorted(one_by_one | set(batch.refused)):
        for link in links[person_id]:
            event = processor.apply(session, link.record, link.adapted, person_id, now)
            events.extend([event] if event is not None else [])
    return events


def _identities(
    session: Session, links: dict[uuid.UUID, list[_Link]], newborns: set[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """person -> the identity payload the register holds of them, for the persons a linked name
    change is about (``adapters.with_identity``). Their projections are locked already
    (``_held_elsewhere``); a newborn's identity is their birth, earlier in their links."""
    wanted = sorted(
        person_id
        for person_id, person_links in links.items()
        if person_id not in newborns
        and any(item.names_only for link in person_links for item in link.adapted.facts)
    )
    return held_identities(session, wanted)


def held_identities(
    session: Session, person_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """person -> the identity payload the register holds of them (persons without one are
    left out)."""
    if not person_ids:
        return {}
    rows = session.execute(
        select(PersonStateRow.person_id, PersonStateRow.state).where(
            among(PersonStateRow.person_id, person_ids, dialect=session.get_bind().dialect.name)
        )
    )
    return {
        person_id: state["identity"]["data"]
        for person_id, state in rows
        if state.get("identity") is not None
    }


# The kinds of fact a later record of the same source may end (``ends_record_id``).
_ENDED_KINDS = (
    FactKind.education,
    FactKind.employment,
    FactKind.family,
    FactKind.disability,
    FactKind.reservation,
)


@dataclass(frozen=True, slots=True)
class Ending:
    """A journal fact that ends a record of its source which had not arrived before it."""

    fact_id: uuid.UUID
    valid_to: dt.date | None


def earlier_endings(
    session: Session, facts: list[tuple[uuid.UUID, NewFact]]
) -> dict[tuple[uuid.UUID, str, str], Ending]:
    """(person, source, record id) -> the person's journal fact that already ends that record,
    for the (person, fact) pairs given; the latest such fact that nothing supersedes.

    Out of order, a divorce comes before its marriage and an enrolment's end before the
    enrolment: the ending was journaled as a closed interval of its own, and the start, when it
    comes, must not open the interval again (an open enrolment is a student deferral)."""
    wanted = {
        (person_id, fact.source, fact.source_record_id)
        for person_id, fact in facts
        if fact.kind in _ENDED_KINDS and fact.supersedes_id is None
    }
    if not wanted:
        return {}
    dialect = session.get_bind().dialect.name
    ends = _ENDS_RECORD[dialect]
    # The endings of these records, through the partial index of endings (migration 0020): most
    # chunks find none, and the probe reads no other fact.
    rows = session.execute(
        select(FactRow.id, FactRow.person_id, FactRow.source, ends, FactRow.valid_to)
        .where(
            _HAS_ENDS_RECORD[dialect],
            pairs_in(
                FactRow.source,
                ends,
                {(source, record_id) for _person, source, record_id in wanted},
                dialect=dialect,
            ),
        )
        .order_by(FactRow.person_id, FactRow.seq)
    ).all()
    found = [row for row in rows if (row.person_id, row.source, row[3]) in wanted]
    if not found:
        return {}
    # Of those, the ones nothing supersedes (a fact supersedes only within its person's
    # journal: read by the (person, seq) index).
    superseded = set(
        session.scalars(
            select(FactRow.supersedes_id).where(
                among(FactRow.person_id, sorted({row.person_id for row in found}), dialect=dialect),
                FactRow.supersedes_id.is_not(None),
            )
        )
    )
    return {
        (row.person_id, row.source, row[3]): Ending(row.id, row.valid_to)  # the latest
        for row in found
        if row.id not in superseded
    }


# A journal fact's ``ends_record_id``, spelled as migration 0020's index spells it (a literal,
# not a bound key: the planner matches the index's expression only to the same expression).
_ENDS_RECORD = {
    "postgresql": literal_column("fact.payload ->> 'ends_record_id'", String),
    "sqlite": literal_column("json_extract(fact.payload, '$.ends_record_id')", String),
}
_HAS_ENDS_RECORD = {
    "postgresql": text("fact.payload ? 'ends_record_id'"),
    "sqlite": text("json_extract(fact.payload, '$.ends_record_id') IS NOT NULL"),
}


def ended_by(fact: NewFact, ending: Ending) -> NewFact:
    """A start that arrives after its ending: it takes the ending's end and supersedes it, so
    that the interval counts once and stays closed, as if they had come in order."""
    return fact.model_copy(update={"supersedes_id": ending.fact_id, "valid_to": ending.valid_to})


def _superseded(
    session: Session, links: dict[uuid.UUID, list[_Link]]
) -> tuple[dict[tuple[str, str], uuid.UUID], set[tuple[str, str]]]:
    """(source, record id) -> fact id of the journal facts that linked records end; and the
    ids of this chunk's own records that some record ends (their facts are not written yet)."""
    wanted = sorted(
        {
            (item.fact.source, item.supersedes_record_id)
            for person_links in links.values()
            for link in person_links
            for item in link.adapted.facts
            if item.supersedes_record_id is not None
        }
    )
    if not wanted:
        return {}, set()
    rows = session.execute(
        select(FactRow.source, FactRow.source_record_id, FactRow.id).where(
            pairs_in(
                FactRow.source,
                FactRow.source_record_id,
                wanted,
                dialect=session.get_bind().dialect.name,
            )
        )
    )
    found = {(source, record_id): fact_id for source, record_id, fact_id in rows}
    linked = {
        (link.record.source, link.record.source_record_id)
        for person_links in links.values()
        for link in person_links
    }
    return found, {key for key in wanted if key not in found and key in linked}
