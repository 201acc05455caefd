"""Intake that loses nothing: store the batch, then process its records in chunks.

``receive_batch`` verifies the signature and stores the batch and every line of it (the caller
commits, then acknowledges). ``process_pending`` claims up to ``chunk_size`` pending records at
a time (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers share the queue) and takes
each to exactly one final state in one transaction (``chunks``): applied, duplicate, quarantined
(reason kept beside the raw line) or review. ``process_record`` does the same for one record
(an officer's identity decision, and the fallback when a chunk is refused). A crash between two
chunks loses nothing (the next records are still pending) and a crash inside one rolls the
chunk's transaction back, so no record is ever half-applied.

Exceptions: ``BatchRejected`` (from ``signing``) when the batch as a whole is refused;
``BatchNotFound``, ``RecordNotFound``, ``ReviewNotFound`` for unknown ids; ``NotQuarantined`` /
``ReviewClosed`` when an operator acts on a record in the wrong state; ``NotACandidate`` when an
officer links a record to a person the review did not offer.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.errors import DeadlockDetected, SerializationFailure, UniqueViolation
from sqlalchemy import func, insert, literal, select, tuple_, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased, sessionmaker

from oberih.audit.events import AuditEvent
from oberih.audit.services import queue_events, sequence_inbox
from oberih.collector import collector_paused
from oberih.db.queries import insert_many, pairs_in
from oberih.documents.services import revoke_stale_documents
from oberih.exchange.adapters import Adapted, adapt, with_identity
from oberih.exchange.chunks import (
    NewbornRefused,
    active_identifiers,
    earlier_endings,
    ended_by,
    held_identities,
    process_chunk,
    received_times,
)
from oberih.exchange.matching import Profile
from oberih.exchange.messages import Birth, Message, parse_source
from oberih.exchange.models import (
    ExchangeBatch,
    ExchangeRecord,
    LinkDecision,
    MatchReview,
    RecordState,
)
from oberih.exchange.outcomes import (
    CLAIMED_COLUMNS,
    NO_MATCH,
    NOT_SHOWN_AGAIN,
    AnyRecord,
    ClaimedRecord,
    Quarantine,
    applied_event,
    decision,
    finish,
    load_document,
    parse_record,
    reason_of,
    unmatched_reason,
)
from oberih.exchange.rejections import REJECT, officer_decision_fields, rejected_persons, rejections
from oberih.exchange.resolution import Resolution, Resolver
from oberih.exchange.signing import BatchRejected, KeyRing, verify_batch
from oberih.exchange.tabular import InvalidCsv, csv_records
from oberih.persons.batch import append_many
from oberih.persons.facts import InvalidFact, NewFact
from oberih.persons.models import FactRow, Person
from oberih.persons.services import (
    ConflictingResend,
    IdentifierTaken,
    PersonNotFound,
    append_facts,
    create_person,
)
from oberih.rules.services import refresh_person, refresh_persons

MAX_RECORDS_PER_BATCH = 100_000
MAX_ATTEMPTS = 3
MAX_RACES = 1  # whole-chunk retries of a chunk refused by a unique key (``_raced``)
CHUNK_SIZE = 500  # records per transaction: see ``chunks``
CONFLICT = "identifier-conflict"  # not retried: an officer corrects the record or the persons
# Out-of-order messages come weeks late at most (the feeds' late deliveries: two months).
UNMATCHED_RETRY_DAYS = 90
AUDIT_SEQUENCING_LIMIT = 10_000
logger = logging.getLogger("oberih.exchange")


class BatchNotFound(LookupError):
    pass


class RecordNotFound(LookupError):
    pass


class ReviewNotFound(LookupError):
    pass


class NotQuarantined(Exception):
    def __init__(self) -> None:
        super().__init__("only a quarantined record can be corrected and replayed")


class ReviewClosed(Exception):
    def __init__(self) -> None:
        super().__init__("this identity review is already decided")


class NotACandidate(Exception):
    def __init__(self, person_id: uuid.UUID) -> None:
        super().__init__(f"person {person_id} is not a candidate of this review")


# --- receiving --------------------------------------------------------------------------------


def receive_batch(
    session: Session,
    *,
    source: str,
    body: bytes,
    signature: str | None,
    ring: KeyRing | None,
    now: dt.datetime,
    transport: str = "http",
    batch_format: str = "jsonl",
) -> ExchangeBatch:
    """Verify and store a batch of JSON Lines (or CSV, ``batch_format="csv"``); the same bytes
    re-sent return the stored batch.

    ``ring=None`` is an operator's trusted file import (no signature check), only from the CLI.
    """
    parse_source(source)
    key_id = verify_batch(body, signature, source=source, ring=ring) if ring else None
    digest = hashlib.sha256(body).hexdigest()
    existing = session.scalar(
        select(ExchangeBatch).where(
            ExchangeBatch.source == source, ExchangeBatch.body_sha256 == digest
        )
    )
    if existing is not None:
        return existing
    lines = _lines(body, batch_format)
    if len(lines) > MAX_RECORDS_PER_BATCH:
        raise BatchRejected("too-large", f"a batch holds at most {MAX_RECORDS_PER_BATCH} records")
    batch = ExchangeBatch(
        id=uuid.uuid4(),
        source=source,
        key_id=key_id,
        transport=transport,
        received_at=now,
        body_sha256=digest,
        record_count=len(lines),
    )
    session.add(batch)
    session.flush()
    # Core, not the ORM: a batch holds up to 100,000 lines, and nothing reads them back here.
    insert_many(
        session.connection(),
        ExchangeRecord,
        [_record(batch, position, line) for position, line in lines],
    )
    return batch


def _lines(body: bytes, batch_format: str) -> list[tuple[int, str]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BatchRejected("not-utf8", "a batch is UTF-8 text") from None
    # A byte order mark is no part of the first record (Excel's "CSV UTF-8" writes one): kept,
    # it would be glued to the first column's name and every row would lack that field.
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        # No text record holds a NUL (JSON escapes it), and PostgreSQL cannot store one in
        # text: the line would fail the whole batch's insert instead of being named here.
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise BatchRejected("nul-character", f"line {line}: a NUL character (0x00) in text")
    if batch_format == "csv":
        try:
            return csv_records(text)
        except (InvalidCsv, csv.Error) as exc:
            raise BatchRejected("invalid-csv", str(exc)) from None
    # Only "\n" ends a record (JSON Lines): names may hold other Unicode line separators.
    lines = (line.rstrip("\r") for line in text.split("\n"))
    return [(number, line) for number, line in enumerate(lines, 1) if line.strip()]


def _record(batch: ExchangeBatch, position: int, line: str) -> dict[str, Any]:
    document = _document(line)
    source_record_id, message_type = _peek(document)
    return {
        "batch_id": batch.id,
        "position": position,
        "source": batch.source,
        "source_record_id": source_record_id,
        "message_type": message_type,
        "raw": line,
        "original_raw": None,
        "content_hash": _content_hash(line, document),
        "state": RecordState.pending.value,
        "reason": None,
        "person_id": None,
        "processed_at": None,
    }


_NOT_JSON = object()


def _document(line: str) -> Any:
    # As processing reads it (``load_document``): json.loads took lines that processing then
    # quarantines, and some it could not take (nesting past the recursion limit) or whose id
    # no database could store (a lone surrogate, a NUL) failed the whole batch with a 500.
    try:
        return load_document(line)
    except Quarantine:
        return _NOT_JSON


def _peek(document: Any) -> tuple[str | None, str | None]:
    if not isinstance(document, dict):
        return None, None
    record_id, message_type = document.get("source_record_id"), document.get("message_type")
    return (
        record_id[:128] if isinstance(record_id, str) else None,
        message_type[:40] if isinstance(message_type, str) else None,
    )


def content_hash(line: str) -> str:
    """Hash of the record's content, independent of key order and spacing."""
    return _content_hash(line, _document(line))


def _content_hash(line: str, document: Any) -> str:
    canonical = (
        line
        if document is _NOT_JSON
        else json.dumps(document, sort_keys=True, separators=(",", ":"))
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- processing -------------------------------------------------------------------------------


@dataclass
class Processor:
    """Processes records; one per worker (its resolver caches the name dictionary)."""

    sessions: sessionmaker[Session]
    clock: Callable[[], dt.datetime]
    resolver: Resolver = field(default_factory=Resolver)
    recompute: bool = True  # refresh determinations after each applied record
    chunk_size: int = CHUNK_SIZE
    _failures: dict[tuple[uuid.UUID, int], int] = field(default_factory=dict, repr=False)
    # When this worker last registered a person (a birth): unmatched records may be about them.
    _registered_at: dt.datetime | None = field(default=None, repr=False)
    # While a chunk is processed (``chunks.process_chunk``): the name dictionary's count
    # changes of its births, written with the rest of the chunk's at its end.
    deferred_name_counts: Counter[tuple[str, str, str]] | None = field(default=None, repr=False)
    # Births register their persons with the rest of their chunk (``chunks._born``); False for
    # the one chunk taken again after a newborn could not be written in bulk.
    births_in_bulk: bool = field(default=True, repr=False)
    # Records a chunk left pending because another worker held their person
    # (``chunks._held_elsewhere``): the next time, their chunk waits for the person.
    deferred: set[tuple[uuid.UUID, int]] = field(default_factory=set, repr=False)

    def registered(self, now: dt.datetime) -> None:
        """This worker registered a person (a birth) at ``now``."""
        self._registered_at = now

    def process_pending(
        self, *, batch_id: uuid.UUID | None = None, limit: int | None = None
    ) -> int:
        """Process pending records until none is left (or ``limit``); return how many ended.

        A chunk of up to ``chunk_size`` records at a time, in one transaction (``chunks``).
        After each chunk the audit inbox is sequenced into the log, so the accesses of intake
        are leaves of the tree as soon as their facts are committed."""
        done = deadlocks = races = 0
        batches = None if batch_id is None else {batch_id}
        while limit is None or done < limit:
            size = self.chunk_size if limit is None else min(self.chunk_size, limit - done)
            keys: list[tuple[uuid.UUID, int]] = []
            try:
                # A chunk's object graph is not walked again and again by the cyclic collector
                # while it is built (``oberih.collector``).
                with collector_paused(), self.sessions() as session, session.begin():
                    records = claim_chunk_rows(session, batches, size)
                    if not records:
                        retried = self._retry_unmatched(session)
                        if not retried:
                            return done
                        if batches is not None:
                            batches |= retried
                        continue
                    keys = [(record.batch_id, record.position) for record in records]
                    ended = self.process_chunk(session, records)
            except NewbornRefused:
                # Rolled back: taken again with its births one at a time, which say why.
                logger.warning("chunk of %d records taken again: births one at a time", len(keys))
                self.resolver.discard_dictionary()
                self.births_in_bulk = False
                continue
            except DATABASE_ERRORS as error:
                # A race with another worker (the same record id in two batches, an identifier
                # registered meanwhile) rolls the chunk back: its records are still pending.
                # They are retried one per transaction, so that one bad record cannot hold the
                # others back; a record that keeps failing is quarantined with the error.
                if not keys:
                    raise
                self.resolver.discard_dictionary()  # it may hold names of births rolled back
                # The log says what happens next: an operator reading "failed" at 3 a.m. looked
                # for lost records, and none is lost (the chunk's records are still pending).
                if _transient(error) and deadlocks < MAX_ATTEMPTS:
                    # Two workers' chunks locked the same rows in another order (name counts,
                    # a person in both): the database chose this one; the chunk is taken again.
                    deadlocks += 1
                    _log_rolled_back(keys, error, as_a_chunk=True)
                    continue
                if _raced(error) and races < MAX_RACES:
                    # A key another worker committed first, most often a record re-sent in two
                    # batches that two workers took at once: taken again as a chunk, the chunk
                    # finds it committed and ends the re-send a duplicate. Record by record, a
                    # transaction each, was a slow way to the same end.
                    races += 1
                    _log_rolled_back(keys, error, as_a_chunk=True)
                    continue
                _log_rolled_back(keys, error, as_a_chunk=False)
                done += self._one_by_one(keys)
                deadlocks = races = 0
                continue
            deadlocks = races = 0
            self.births_in_bulk = True
            done += ended
            self._sequence_audit()
        return done

    def _retry_unmatched(self, session: Session) -> set[uuid.UUID]:
        """Records quarantined for want of a person (``NO_MATCH``), received before persons
        this worker has since registered, are pending again: messages arrive out of order (an
        employment before the birth that registers its subject), and the person may now be
        there. Each is retried once per registration that came after it, within
        ``UNMATCHED_RETRY_DAYS``; the batches they are in are returned. A record an officer
        found is none of its candidates is among them, and its retries leave those persons
        out (``rejections``); one that names no person is not (``outcomes.UNKNOWN_IDENTIFIER``:
        a birth registers no identifier)."""
        registered_at, self._registered_at = self._registered_at, None
        if registered_at is None:
            return set()
        retried = list(
            session.execute(
                update(ExchangeRecord)
                .where(
                    ExchangeRecord.state == RecordState.quarantined,
                    ExchangeRecord.reason.startswith(NO_MATCH),
                    ExchangeRecord.processed_at < registered_at,
                    ExchangeRecord.processed_at
                    >= registered_at - dt.timedelta(days=UNMATCHED_RETRY_DAYS),
                )
                .values(state=RecordState.pending, reason=None)
                .returning(ExchangeRecord.batch_id)
            ).scalars()
        )
        if retried:
            logger.info("%d unmatched records pending again after a registration", len(retried))
        return set(retried)

    def process_chunk(self, session: Session, records: list[ClaimedRecord]) -> int:
        """Process claimed records in the caller's transaction; return how many ended (a record
        whose id occurs earlier in the same chunk stays pending for the next one)."""
        return process_chunk(self, session, records)

    def _one_by_one(self, keys: list[tuple[uuid.UUID, int]]) -> int:
        done = 0
        for key in keys:
            try:
                with self.sessions() as session, session.begin():
                    record = claim_record(session, key)
                    if record is None:  # ended meanwhile, or another worker holds it
                        continue
                    self.process_record(session, record)
            except DATABASE_ERRORS as error:
                self._failed(key, error)
                continue
            done += 1
        self._sequence_audit()
        return done

    def _sequence_audit(self) -> None:
        with self.sessions() as session, session.begin():
            while sequence_inbox(session, limit=AUDIT_SEQUENCING_LIMIT) == AUDIT_SEQUENCING_LIMIT:
                pass

    def _failed(self, key: tuple[uuid.UUID, int], error: DatabaseError) -> None:
        failures = self._failures[key] = self._failures.get(key, 0) + 1
        logger.warning("record %s/%s failed (%s)", key[0], key[1], _error_name(error))
        if failures < MAX_ATTEMPTS:
            return
        with self.sessions() as session, session.begin():
            record = get_record(session, *key)
            detail = f"error: the database refused it {failures} times ({_error_name(error)})"
            finish(record, RecordState.quarantined, detail)
            record.processed_at = self.clock()

    def process_record(
        self, session: Session, record: ExchangeRecord, *, person_id: uuid.UUID | None = None
    ) -> None:
        """Move one pending record to its final state, in the caller's transaction.

        ``person_id``: an officer's identity decision, which replaces resolution."""
        now = self.clock()
        # Processed before (retried, replayed): an officer may have rejected persons for it.
        processed_before = record.processed_at is not None
        record.processed_at = now
        received_at = received_times(session, [record])[record.batch_id]
        try:
            message = parse_record(record, received_at=received_at)
        except Quarantine as problem:
            finish(record, RecordState.quarantined, problem.reason)
            return
        earlier = _earlier_state(session, record)
        if earlier is not None:
            state, reason = earlier
            finish(record, state, reason)
            return
        adapted = adapt(record.source, message)
        if person_id is not None:
            resolution = Resolution("link", "officer", person_id)
        else:
            found = rejections(session, [record]) if processed_before else {}
            rejected = rejected_persons(found.get((record.batch_id, record.position), []))
            resolution = self.resolver.resolve(session, message.subject, rejected=rejected)
        event = self.act(session, record, message, adapted, resolution, now)
        if event is not None:
            queue_events(session, [event], now=now)

    def act(
        self,
        session: Session,
        record: AnyRecord,
        message: Message,
        adapted: Adapted,
        resolution: Resolution,
        now: dt.datetime,
    ) -> AuditEvent | None:
        """End ``record`` as its identity decision says; return the audit event of the facts
        it appended (the caller records it), if any."""
        if resolution.outcome == "review":
            _decide(session, record, resolution, now, outcome="review")
            session.add(
                MatchReview(
                    id=uuid.uuid4(),
                    batch_id=record.batch_id,
                    position=record.position,
                    candidates=resolution.candidates,
                    status="open",
                    created_at=now,
                )
            )
            why = f"{resolution.conflict}; " if resolution.conflict else ""
            shown = f" ({NOT_SHOWN_AGAIN})" if resolution.passed_over else ""
            reason = f"identity uncertain: {why}waiting for an officer{shown}"
            finish(record, RecordState.review, reason)
            return None
        if resolution.outcome == "link" and resolution.person_id is not None:
            _decide(session, record, resolution, now, outcome="link")
            return self.apply(session, record, adapted, resolution.person_id, now)
        if resolution.conflict is not None:
            _decide(session, record, resolution, now, outcome="no_link")
            finish(record, RecordState.quarantined, f"{CONFLICT}: {resolution.conflict}")
            return None
        if adapted.creates_person:
            _decide(session, record, resolution, now, outcome="new_person")
            return self._register(session, record, message, adapted, now)
        _decide(session, record, resolution, now, outcome="no_link")
        finish(record, RecordState.quarantined, unmatched_reason(message, resolution))
        return None

    def apply(
        self,
        session: Session,
        record: AnyRecord,
        adapted: Adapted,
        person_id: uuid.UUID,
        now: dt.datetime,
    ) -> AuditEvent | None:
        """Append one record's facts to the person, in a savepoint of its own."""
        savepoint = session.begin_nested()
        try:
            identity = (
                held_identities(session, [person_id]).get(person_id)
                if _names_only(adapted)
                else None
            )
            facts = [
                _with_supersedes(
                    session, with_identity(item, identity), item.supersedes_record_id, person_id
                )
                for item in adapted.facts
            ]
            result = append_facts(session, person_id=person_id, facts=facts, now=now)
            if result.appended and self.recompute:
                refresh_person(session, person_id, now=now)
            if result.appended:
                # A registry fact that changes a claim shown on a valid e-document revokes it.
                revoke_stale_documents(session, person_id, now=now)
        except (InvalidFact, ConflictingResend, IdentifierTaken, PersonNotFound) as problem:
            savepoint.rollback()
            finish(record, RecordState.quarantined, reason_of(problem), person_id=person_id)
            return None
        savepoint.commit()
        state = RecordState.applied if result.appended else RecordState.duplicate
        finish(record, state, None, person_id=person_id)
        return applied_event(record, person_id)

    def _register(
        self,
        session: Session,
        record: AnyRecord,
        message: Message,
        adapted: Adapted,
        now: dt.datetime,
    ) -> AuditEvent | None:
        facts = [item.fact for item in adapted.facts]
        # In a chunk, the newborn's name counts join the chunk's once the savepoint holds.
        deferred = self.deferred_name_counts
        names: Counter[tuple[str, str, str]] | None = Counter() if deferred is not None else None
        savepoint = session.begin_nested()
        try:
            person_id = self._create_in_bulk(session, facts, now, name_counts=names)
            if person_id is None:  # refused: the one-record path says why
                savepoint.rollback()
                savepoint = session.begin_nested()
                person_id = create_person(session, facts=facts, now=now).person_id
                if self.recompute:
                    refresh_person(session, person_id, now=now)
        except (InvalidFact, ConflictingResend, IdentifierTaken) as problem:
            savepoint.rollback()
            finish(record, RecordState.quarantined, reason_of(problem))
            return None
        savepoint.commit()
        if deferred is not None and names:
            deferred.update(names)
        assert isinstance(message, Birth)
        body = message.payload
        self.resolver.registered(
            session,
            person_id,
            Profile(surname=body.surname, given_name=body.given_name, patronymic=body.patronymic),
        )
        # Later records of a chunk that carry the newborn's identifiers find them by these, as
        # they would one record at a time.
        for kind, value in active_identifiers(adapted):
            self.resolver.identified(kind, value, person_id)
        finish(record, RecordState.applied, None, person_id=person_id)
        self.registered(now)
        return applied_event(record, person_id)

    def _create_in_bulk(
        self,
        session: Session,
        facts: list[NewFact],
        now: dt.datetime,
        *,
        name_counts: Counter[tuple[str, str, str]] | None,
    ) -> uuid.UUID | None:
        """``create_person`` and ``refresh_person`` by the bulk path (Core writes: a birth
        through the ORM cost as much CPU as a hundred linked records); None if ``append_many``
        refuses the facts. ``name_counts``: as ``append_many``'s."""
        person_id = uuid.uuid4()
        session.execute(insert(Person).values(id=person_id, created_at=now))
        batch = append_many(session, {person_id: facts}, now=now, name_counts=name_counts)
        if person_id not in batch.states:
            return None
        if self.recompute:
            refresh_persons(session, batch.states, now=now)
        return person_id


def claim_pending(session: Session, batch_id: uuid.UUID | None) -> ExchangeRecord | None:
    """The oldest pending record (batches in arrival order, lines in order), locked for this
    transaction; rows another worker holds are skipped, not waited for."""
    claimed = claim_chunk(session, batch_id, 1)
    return claimed[0] if claimed else None


def claim_chunk(session: Session, batch_id: uuid.UUID | None, size: int) -> list[ExchangeRecord]:
    """The ``size`` oldest pending records, locked for this transaction (``claim_pending``)."""
    batches = None if batch_id is None else {batch_id}
    return [row[0] for row in _claim(session, batches, size, ExchangeRecord)]


def claim_chunk_rows(
    session: Session, batches: set[uuid.UUID] | None, size: int
) -> list[ClaimedRecord]:
    """``claim_chunk`` by Core, for ``chunks``, in ``batches`` (None: in any)."""
    columns = [getattr(ExchangeRecord, c) for c in CLAIMED_COLUMNS]
    return [ClaimedRecord(*row) for row in _claim(session, batches, size, *columns)]


def _claim(session: Session, batches: set[uuid.UUID] | None, size: int, *columns: Any) -> list[Any]:
    """Up to ``size`` pending records (their ``columns``): batches in arrival order, lines in
    order, rows another worker holds skipped. Batch by batch, each an ordered scan of the
    pending records' index that stops at the chunk's size (migration 0013): one query joining
    and sorting every pending record cost more than processing the chunk it chose."""
    claimed: list[Any] = []
    for batch_id in _batches_pending(session, batches):
        query = (
            select(*columns)
            .where(
                ExchangeRecord.batch_id == batch_id,
                ExchangeRecord.state == RecordState.pending,
            )
            .order_by(ExchangeRecord.position)
            .limit(size - len(claimed))
            .with_for_update(skip_locked=True)
        )
        claimed.extend(session.execute(query).all())
        if len(claimed) >= size:
            break
    return claimed


def _batches_pending(session: Session, batches: set[uuid.UUID] | None) -> list[uuid.UUID]:
    """The batches with pending records (among ``batches``, if given), in arrival order.

    Found by skipping from one batch to the next in the pending records' index (a recursive
    query: a few index lookups per batch in the queue), not by reading every pending record or
    every batch ever received."""
    if batches is not None:
        candidates: Any = ExchangeBatch.id.in_(sorted(batches))
    else:
        # ``ORDER BY ... LIMIT 1``, not ``min()``: PostgreSQL has no ``min(uuid)``.
        first = (
            select(ExchangeRecord.batch_id)
            .where(ExchangeRecord.state == RecordState.pending)
            .order_by(ExchangeRecord.batch_id)
            .limit(1)
            .scalar_subquery()
        )
        queue = select(first.label("batch_id")).cte("queue", recursive=True)
        after = aliased(ExchangeRecord)
        following = (
            select(after.batch_id)
            .where(after.state == RecordState.pending, after.batch_id > queue.c.batch_id)
            .order_by(after.batch_id)
            .limit(1)
            .scalar_subquery()
        )
        queue = queue.union_all(select(following).where(queue.c.batch_id.is_not(None)))
        candidates = ExchangeBatch.id.in_(select(queue.c.batch_id))
    return list(
        session.scalars(
            select(ExchangeBatch.id)
            .where(candidates)
            .order_by(ExchangeBatch.received_at, ExchangeBatch.id)
        )
    )


def claim_record(session: Session, key: tuple[uuid.UUID, int]) -> ExchangeRecord | None:
    """One record, locked for this transaction, if it is still pending and no worker holds it."""
    query = select(ExchangeRecord).where(
        ExchangeRecord.batch_id == key[0],
        ExchangeRecord.position == key[1],
        ExchangeRecord.state == RecordState.pending,
    )
    return session.scalar(query.with_for_update(skip_locked=True))


# What the database refuses, as SQLAlchemy wraps it or, from the statements intake sends
# through the driver itself (COPY of facts, identifiers and audit events), as psycopg raises it.
DatabaseError = DBAPIError | psycopg.Error
DATABASE_ERRORS = (DBAPIError, psycopg.Error)


def _driver_error(error: DatabaseError) -> BaseException:
    if isinstance(error, DBAPIError) and error.orig is not None:
        return error.orig
    return error


def _transient(error: DatabaseError) -> bool:
    """A deadlock or serialisation failure: nothing wrong with the records, only the timing."""
    return isinstance(_driver_error(error), (DeadlockDetected, SerializationFailure))


def _raced(error: DatabaseError) -> bool:
    """A unique key refused: a race with another worker's commit, or a fault in the records
    (then the chunk fails again and its records are taken one at a time)."""
    return isinstance(_driver_error(error), UniqueViolation)


def _log_rolled_back(
    keys: list[tuple[uuid.UUID, int]], error: DatabaseError, *, as_a_chunk: bool
) -> None:
    """A chunk rolled back by the database: nothing is lost, and the log says what comes next.
    Taken again as a chunk is routine between two workers (info); one record per transaction is
    slower and means a record may be at fault (warning)."""
    if as_a_chunk:
        logger.info(
            "chunk of %d records rolled back (%s): taken again", len(keys), _error_name(error)
        )
    else:
        logger.warning(
            "chunk of %d records rolled back (%s): its records taken one per transaction",
            len(keys),
            _error_name(error),
        )


def _error_name(error: DatabaseError) -> str:
    return type(_driver_error(error)).__name__


def _earlier_state(
    session: Session, record: ExchangeRecord
) -> tuple[RecordState, str | None] | None:
    """A record id seen before: the same content is a duplicate, other content a conflict."""
    if record.source_record_id is None:
        return None
    earlier = session.execute(
        select(ExchangeRecord.content_hash, ExchangeRecord.state)
        .where(
            ExchangeRecord.source == record.source,
            ExchangeRecord.source_record_id == record.source_record_id,
            ExchangeRecord.state.in_(
                [RecordState.applied, RecordState.duplicate, RecordState.review]
            ),
        )
        .limit(1)
    ).first()
    if earlier is None:
        return None
    if earlier.content_hash == record.content_hash:
        return RecordState.duplicate, None
    return (
        RecordState.quarantined,
        "conflict: this record id was received before with different content",
    )


def record_has_open_review(session: Session, record: ExchangeRecord) -> bool:
    return (
        session.scalar(
            select(func.count())
            .select_from(MatchReview)
            .where(
                MatchReview.batch_id == record.batch_id,
                MatchReview.position == record.position,
                MatchReview.status == "open",
            )
        )
        or 0
    ) > 0


def _decide(
    session: Session,
    record: AnyRecord,
    resolution: Resolution,
    now: dt.datetime,
    *,
    outcome: str,
) -> None:
    session.add(LinkDecision(**decision(record, resolution, now, outcome=outcome)))


def _names_only(adapted: Adapted) -> bool:
    return any(item.names_only for item in adapted.facts)


def _with_supersedes(
    session: Session, fact: NewFact, record_id: str | None, person_id: uuid.UUID
) -> NewFact:
    if record_id is None:
        ending = earlier_endings(session, [(person_id, fact)])
        key = (person_id, fact.source, fact.source_record_id)
        return ended_by(fact, ending[key]) if key in ending else fact
    earlier = session.scalar(
        select(FactRow.id).where(
            FactRow.source == fact.source, FactRow.source_record_id == record_id
        )
    )
    # An ending whose start never arrived is still a closed interval on its own.
    return fact if earlier is None else fact.model_copy(update={"supersedes_id": earlier})


# --- reading and operator actions -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchReport:
    batch_id: uuid.UUID
    source: str
    received_at: dt.datetime
    records: int
    counts: dict[str, int]

    @property
    def status(self) -> str:
        return "processing" if self.counts.get(RecordState.pending, 0) else "done"


def batch_report(session: Session, batch_id: uuid.UUID) -> BatchReport:
    batch = session.get(ExchangeBatch, batch_id)
    if batch is None:
        raise BatchNotFound(str(batch_id))
    rows = session.execute(
        select(ExchangeRecord.state, func.count())
        .where(ExchangeRecord.batch_id == batch_id)
        .group_by(ExchangeRecord.state)
    )
    counts = {state.value: 0 for state in RecordState}
    for state, count in rows:
        counts[state] = count
    return BatchReport(batch.id, batch.source, batch.received_at, batch.record_count, counts)


QuarantineKey = tuple[dt.datetime, uuid.UUID, int]  # processed_at, batch_id, position
ReviewKey = tuple[dt.datetime, uuid.UUID, int, uuid.UUID]  # created_at, batch, position, id


def quarantined(
    session: Session,
    *,
    source: str | None = None,
    limit: int = 100,
    after: QuarantineKey | None = None,
) -> list[ExchangeRecord]:
    """Quarantined records, oldest first; ``after`` the ``quarantine_key`` of the last one a
    page showed. Every path that quarantines a record sets its ``processed_at``."""
    order = (ExchangeRecord.processed_at, ExchangeRecord.batch_id, ExchangeRecord.position)
    query = select(ExchangeRecord).where(ExchangeRecord.state == RecordState.quarantined)
    if source:
        query = query.where(ExchangeRecord.source == source)
    if after is not None:
        query = query.where(rows_after(order, after))
    return list(session.scalars(query.order_by(*order).limit(limit)))


def rows_after(order: tuple[Any, ...], key: tuple[Any, ...]) -> Any:
    """Rows after ``key`` in ``order`` (a row comparison, one index range on both engines);
    the key's values bound with their columns' types, as the rows store them."""
    values = (literal(value, column.type) for column, value in zip(order, key, strict=True))
    return tuple_(*order) > tuple_(*values)


def quarantine_key(record: ExchangeRecord) -> QuarantineKey:
    assert record.processed_at is not None  # see ``quarantined``
    return record.processed_at, record.batch_id, record.position


def get_record(
    session: Session, batch_id: uuid.UUID, position: int, *, lock: bool = False
) -> ExchangeRecord:
    record = session.get(ExchangeRecord, (batch_id, position), with_for_update=lock)
    if record is None:
        raise RecordNotFound(f"{batch_id}/{position}")
    return record


def correct_record(
    session: Session, *, batch_id: uuid.UUID, position: int, corrected: str | None
) -> ExchangeRecord:
    """An operator's correction of a quarantined record (or ``None`` to replay it as it is):
    the record becomes pending again; the line as received is kept.

    The record is locked: of two replays at once, the second waits and finds it no longer
    quarantined (unlocked, it took the record again and ended it a duplicate of itself)."""
    record = get_record(session, batch_id, position, lock=True)
    if record.state != RecordState.quarantined:
        raise NotQuarantined()
    if corrected is not None:
        if record.original_raw is None:
            record.original_raw = record.raw
        record.raw = corrected
        record.content_hash = content_hash(corrected)
        record.source_record_id, record.message_type = _peek(_document(corrected))
    record.state = RecordState.pending
    record.reason = None
    session.flush()
    return record


def open_reviews(
    session: Session, *, limit: int = 100, after: ReviewKey | None = None
) -> list[MatchReview]:
    """Open identity reviews, oldest first, then in the order of their records; ``after`` the
    ``review_key`` of the last one a page showed."""
    order = (MatchReview.created_at, MatchReview.batch_id, MatchReview.position, MatchReview.id)
    query = select(MatchReview).where(MatchReview.status == "open")
    if after is not None:
        query = query.where(rows_after(order, after))
    return list(session.scalars(query.order_by(*order).limit(limit)))


def records_of(
    session: Session, reviews: Sequence[MatchReview]
) -> dict[tuple[uuid.UUID, int], ExchangeRecord]:
    """The records of ``reviews`` by (batch, position), in one statement (a page of reviews is
    up to 1,000; a query per review was what listing them cost)."""
    keys = [(review.batch_id, review.position) for review in reviews]
    if not keys:
        return {}
    dialect = session.get_bind().dialect.name
    records = session.scalars(
        select(ExchangeRecord).where(
            pairs_in(ExchangeRecord.batch_id, ExchangeRecord.position, keys, dialect=dialect)
        )
    )
    return {(record.batch_id, record.position): record for record in records}


def review_key(review: MatchReview) -> ReviewKey:
    return review.created_at, review.batch_id, review.position, review.id


def get_review(session: Session, review_id: uuid.UUID, *, lock: bool = False) -> MatchReview:
    review = session.get(MatchReview, review_id, with_for_update=lock)
    if review is None:
        raise ReviewNotFound(str(review_id))
    return review


def decide_review(
    processor: Processor,
    session: Session,
    *,
    review_id: uuid.UUID,
    person_id: uuid.UUID | None,
    actor: str,
) -> ExchangeRecord:
    """An officer links the record to ``person_id``, or rejects every candidate (``None``): a
    birth then registers a new person, any other record is quarantined as unmatched, and its
    retries after later births leave the rejected candidates out (``rejections``)."""
    # Locked: two officers deciding the same review at once would both find it open and take
    # its record twice (the second time to "duplicate" of itself); the second now waits, then
    # finds it decided.
    review = get_review(session, review_id, lock=True)
    if review.status != "open":
        raise ReviewClosed()
    # The officer chooses among the persons shown side by side: a mistyped or pasted id of
    # anyone else would close the review and give that person the record's facts.
    candidates = {candidate["person_id"] for candidate in review.candidates}
    if person_id is not None and str(person_id) not in candidates:
        raise NotACandidate(person_id)
    now = processor.clock()
    record = get_record(session, review.batch_id, review.position)
    review.status = "linked" if person_id else "rejected"
    review.decided_at = now
    review.decided_by = actor
    review.person_id = person_id
    session.add(
        LinkDecision(
            batch_id=record.batch_id,
            position=record.position,
            outcome="link" if person_id else REJECT,
            method="officer",
            person_id=person_id,
            score=None,
            fields=officer_decision_fields(review_id, record.content_hash),
            decided_at=now,
            actor=actor,
        )
    )
    session.flush()
    record.state = RecordState.pending
    if person_id is not None:
        processor.process_record(session, record, person_id=person_id)
    else:
        _reject(processor, session, record, review, now)
    return record


def _reject(
    processor: Processor,
    session: Session,
    record: ExchangeRecord,
    review: MatchReview,
    now: dt.datetime,
) -> None:
    message = parse_record(record)
    adapted = adapt(record.source, message)
    rejected = tuple(sorted(uuid.UUID(c["person_id"]) for c in review.candidates))
    resolution = Resolution(
        "no_link",
        "officer",
        fields={"rejected_by_officer": [str(person) for person in rejected]},
        passed_over=rejected,
    )
    # Quarantined now, not when the review was opened: the retries after births count from
    # here (``UNMATCHED_RETRY_DAYS``), and the quarantine lists it among today's.
    record.processed_at = now
    event = processor.act(session, record, message, adapted, resolution, now)
    if event is not None:
        queue_events(session, [event], now=now)


def iter_batch_records(session: Session, batch_id: uuid.UUID) -> Iterator[ExchangeRecord]:
    query = select(ExchangeRecord).where(ExchangeRecord.batch_id == batch_id)
    yield from session.scalars(query.order_by(ExchangeRecord.position))


def raw_json(record: ExchangeRecord) -> Any:
    try:
        return load_document(record.raw)
    except Quarantine:  # shown as the line it is: json.loads took lines no JSON answer can carry
        return record.raw
