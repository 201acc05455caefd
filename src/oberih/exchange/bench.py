"""``oberih bench match``: the full intake over generated feeds, links compared with the truth.

A population is generated with seed S; all but the held-out persons are bulk-loaded as the
register; the feeds (``feeds.generate_feed``) are sent as one batch per source and day, each
processed by the same ``Processor`` the service runs. Then every record's identity decision is
compared with the ground truth:

- ``precision``: automatic links (identifier or score) to the right person / all automatic links;
- ``recall``: right automatic links / records about a person the register knows by then;
- ``review_share``: records sent to review / records needing probabilistic resolution (no
  identifier that the register knows);
- ``new_persons``: births that created a person, and how many created a duplicate;
- per fault: how records with each fault ended.
"""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
import os
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import Engine, select

from oberih.db.cpu import DatabaseCpuMeter
from oberih.db.engine import make_engine, make_session_factory
from oberih.db.migrate import upgrade
from oberih.exchange.feeds import FaultRates, Feed, FeedRecord, generate_feed
from oberih.exchange.models import ExchangeRecord, LinkDecision
from oberih.exchange.services import Processor, receive_batch
from oberih.persons.bulk import load_people
from oberih.population import generate_population

REFERENCE_DATE = dt.date(2026, 1, 1)


@dataclass
class _Outcome:
    record: FeedRecord
    state: str
    person_id: uuid.UUID | None
    decision: str | None  # link | review | no_link | new_person
    method: str | None


def run_match_benchmark(
    *,
    persons: int,
    seed: int,
    database_url: str | None = None,
    rates: FaultRates | None = None,
) -> dict[str, Any]:
    population = list(
        generate_population(persons=persons, seed=seed, reference_date=REFERENCE_DATE)
    )
    feed = generate_feed(population, seed=seed, rates=rates)
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(database_url or f"sqlite:///{Path(scratch) / 'match.db'}")
        try:
            upgrade(engine)
            load_people(engine, [p for p in population if p.person_id not in feed.held_out])
            started = time.perf_counter()
            outcomes = _run_intake(engine, feed)
            seconds = time.perf_counter() - started
        finally:
            engine.dispose()
    result = evaluate(outcomes, feed)
    result.update(
        persons=persons,
        seed=seed,
        fault_rates=asdict(rates or FaultRates()),
        records=len(feed.records),
        seconds=round(seconds, 2),
        records_per_s=round(len(feed.records) / seconds, 1) if seconds else None,
    )
    return result


def _run_intake(engine: Engine, feed: Feed) -> list[_Outcome]:
    sessions = make_session_factory(engine)
    processor = Processor(sessions=sessions, clock=lambda: dt.datetime.now(dt.UTC), recompute=False)
    sent: dict[tuple[uuid.UUID, int], FeedRecord] = {}
    resent: list[FeedRecord] = []
    for (_day, source), records in _batches(feed.records):
        body = "".join(record.line + "\n" for record in records).encode("utf-8")
        with sessions() as session, session.begin():
            batch = receive_batch(
                session,
                source=source,
                body=body,
                signature=None,
                ring=None,
                now=dt.datetime.now(dt.UTC),
                transport="file",
            )
            batch_id = batch.id
        for position, record in enumerate(records, 1):
            if (batch_id, position) in sent:  # the same bytes again: the stored batch answers
                resent.append(record)
            else:
                sent[(batch_id, position)] = record
        processor.process_pending(batch_id=batch_id)
    outcomes = _outcomes(engine, sent)
    return outcomes + [_Outcome(record, "duplicate", None, None, None) for record in resent]


def _batches(records: list[FeedRecord]) -> list[tuple[tuple[dt.date, str], list[FeedRecord]]]:
    grouped: dict[tuple[dt.date, str], list[FeedRecord]] = defaultdict(list)
    for record in records:
        grouped[(record.day, record.source)].append(record)
    return list(grouped.items())  # insertion order is feed order (day, births first, source)


def _outcomes(engine: Engine, sent: dict[tuple[uuid.UUID, int], FeedRecord]) -> list[_Outcome]:
    with make_session_factory(engine)() as session:
        decisions = {
            (row.batch_id, row.position): (row.outcome, row.method)
            for row in session.scalars(select(LinkDecision).order_by(LinkDecision.id))
            if row.actor.startswith("system:")
        }
        outcomes = []
        for row in session.scalars(select(ExchangeRecord)):
            key = (row.batch_id, row.position)
            decision, method = decisions.get(key, (None, None))
            outcomes.append(_Outcome(sent[key], row.state, row.person_id, decision, method))
    # Feed order: a held-out person is known from the record after their birth on.
    order = {id(record): index for index, record in enumerate(sent.values())}
    outcomes.sort(key=lambda o: order[id(o.record)])
    return outcomes


def evaluate(outcomes: list[_Outcome], feed: Feed) -> dict[str, Any]:
    created: dict[uuid.UUID, uuid.UUID] = {}  # register id -> truth, for persons made by births
    created_for: Counter[uuid.UUID] = Counter()
    links = correct = known = reviews = needing = no_links = 0
    per_fault: dict[str, Counter[str]] = defaultdict(Counter)
    copies: Counter[str] = Counter()
    for outcome in outcomes:
        record = outcome.record
        if record.faults and record.faults[0] in ("duplicate_copy", "conflicting_copy"):
            copies[f"{record.faults[0]}:{outcome.state}"] += 1
            continue
        if outcome.decision == "new_person" and outcome.person_id is not None:
            created[outcome.person_id] = record.truth
            created_for[record.truth] += 1
        truth_known = record.truth not in feed.held_out or created_for[record.truth] > 0
        label = _label(outcome, record, created)
        for fault in record.faults or ("none",):
            per_fault[fault][label] += 1
        if "malformed" in record.faults or record.creates_person:
            continue
        if truth_known:
            known += 1
        if outcome.decision == "link":
            links += 1
            correct += label == "right_link"
        if outcome.method == "probabilistic":
            needing += 1
            reviews += outcome.decision == "review"
            no_links += outcome.decision == "no_link"
    duplicates_made = sum(count - 1 for count in created_for.values() if count > 1)
    return {
        "precision": round(correct / links, 5) if links else None,
        "recall": round(correct / known, 5) if known else None,
        "review_share": round(reviews / needing, 5) if needing else 0.0,
        "automatic_links": links,
        "wrong_links": links - correct,
        "records_about_known_persons": known,
        "needing_resolution": needing,
        "reviews": reviews,
        "unmatched": no_links,
        "new_persons": len(created),
        "duplicate_persons": duplicates_made,
        "held_out_persons": len(feed.held_out),
        "copies": dict(copies),
        "per_fault": {fault: dict(counts) for fault, counts in sorted(per_fault.items())},
    }


def _label(outcome: _Outcome, record: FeedRecord, created: dict[uuid.UUID, uuid.UUID]) -> str:
    if outcome.state == "quarantined" and outcome.decision is None:
        return "quarantined"
    if outcome.decision in ("link", "new_person") and outcome.person_id is not None:
        truth = created.get(outcome.person_id, outcome.person_id)
        if outcome.decision == "new_person":
            return "new_person"
        return "right_link" if truth == record.truth else "wrong_link"
    return outcome.decision or outcome.state


# --- oberih bench ingest ----------------------------------------------------------------------

INGEST_SLICE_PERSONS = 10_000  # persons generated, loaded and fed at a time: memory stays flat
INGEST_BATCH_RECORDS = 5_000  # records per signed batch (a source's daily file at national scale)


def run_ingest_benchmark(
    *,
    records: int,
    seed: int,
    database_url: str | None,
    batch_records: int = INGEST_BATCH_RECORDS,
    workers: int = 1,
) -> dict[str, Any]:
    """Signed feeds through the whole path (verify, validate, resolve, append, project,
    recompute determinations, audit) vs a bare insert of the same number of facts (COPY on
    PostgreSQL).

    The population is generated, loaded and fed in slices of ``INGEST_SLICE_PERSONS`` persons
    (about three feed records each), so that the benchmark's memory, like the intake's, does not
    grow with ``records``. Only intake is timed: receiving each signed batch (signature checked,
    lines stored) and processing it, audit log sequencing included; generating, signing and
    loading the register are not. ``workers`` > 1 (PostgreSQL) processes the received batches
    in that many processes at once, as the service's workers do (``FOR UPDATE SKIP LOCKED``).
    ``cpu_ms_per_record`` (CPU of the intake processes, not of PostgreSQL) does not depend on
    what else the machine runs, unlike throughput."""
    engine = make_engine(database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'ingest.db'}")
    if engine.dialect.name != "postgresql":
        workers = 1  # one writer at a time
    population = generate_population(
        persons=max(records // 3, 10) * 4, seed=seed, reference_date=REFERENCE_DATE
    )
    sender = _Sender()
    process = psutil.Process()
    sent, seconds, cpu, database_cpu = 0, 0.0, 0.0, 0.0
    # PostgreSQL on this machine: its processes' CPU for this database (none for SQLite).
    database = engine.url.database if engine.dialect.name == "postgresql" else None
    rss_at_half: float | None = None
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    try:
        upgrade(engine)
        sessions = make_session_factory(engine)
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            for index, people in enumerate(_slices(population, INGEST_SLICE_PERSONS)):
                if sent >= records:
                    break
                feed = generate_feed(people, seed=seed + index, rates=FaultRates())
                load_people(engine, [p for p in people if p.person_id not in feed.held_out])
                feed.records = feed.records[: records - sent]
                signed = [
                    (source, *sender.sign(source, batch))
                    for source, batch in _source_batches(feed.records, batch_records)
                ]
                started, cpu_started = time.perf_counter(), time.process_time()
                with DatabaseCpuMeter(database) as database_meter:
                    for source, body, signature in signed:
                        with sessions() as session, session.begin():
                            receive_batch(
                                session,
                                source=source,
                                body=body,
                                signature=signature,
                                ring=sender.ring,
                                now=dt.datetime.now(dt.UTC),
                            )
                    if workers == 1:  # in this process (and its profile, when one is taken)
                        _work(url)
                    else:
                        cpu += sum(pool.map(_work, [url] * workers))
                seconds += time.perf_counter() - started
                database_cpu += database_meter.seconds
                cpu += time.process_time() - cpu_started - database_meter.polling_seconds
                sent += len(feed.records)
                if rss_at_half is None and sent >= records / 2:
                    rss_at_half = process.memory_info().rss / 2**20
                del feed, people, signed
        baseline = _bare_insert_seconds(engine, sent)
    finally:
        engine.dispose()
    return {
        "records": sent,
        "engine": engine.dialect.name,
        "workers": workers,
        "batch_records": batch_records,
        "seconds": round(seconds, 2),
        "records_per_s": round(sent / seconds, 1),
        "cpu_ms_per_record": round(cpu * 1000 / sent, 3),
        "database_cpu_ms_per_record": (
            None if database is None else round(database_cpu * 1000 / sent, 3)
        ),
        "baseline_rows_per_s": round(sent / baseline, 1),
        "ratio": round(baseline / seconds, 4),
        "rss_mib_at_half": round(rss_at_half or 0.0, 1),
        "rss_mib_at_end": round(process.memory_info().rss / 2**20, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


class _Sender:
    """The source registers' side: a key per source (registered in the register's ring)."""

    def __init__(self) -> None:
        from oberih.exchange.signing import KeyRing

        self.ring = KeyRing()
        self._keys: dict[str, Any] = {}

    def sign(self, source: str, batch: list[FeedRecord]) -> tuple[bytes, str]:
        from oberih.exchange.signing import key_entry, registered_key, sign_batch

        if source not in self._keys:
            self._keys[source] = _key()
            entry = key_entry(source=source, kid=f"{source}-1", private_key=self._keys[source])
            self.ring.register(registered_key(entry))
        body = "".join(record.line + "\n" for record in batch).encode("utf-8")
        return body, sign_batch(body, private_key=self._keys[source], kid=f"{source}-1")


def _work(database_url: str) -> float:
    """One worker: process pending records until none is left; return the CPU seconds used."""
    started = time.process_time()
    engine = make_engine(database_url)
    try:
        processor = Processor(
            sessions=make_session_factory(engine), clock=lambda: dt.datetime.now(dt.UTC)
        )
        processor.process_pending()
    finally:
        engine.dispose()
    return time.process_time() - started


def _slices(people: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(itertools.islice(people, size)):
        yield chunk


def _source_batches(records: list[FeedRecord], size: int) -> Iterator[tuple[str, list[FeedRecord]]]:
    """Batches of up to ``size`` records per source, each source's records in feed order."""
    by_source: dict[str, list[FeedRecord]] = defaultdict(list)
    for record in records:
        by_source[record.source].append(record)
    # Births first: the persons they register are the subjects of later messages.
    for source in sorted(by_source, key=lambda s: s != "civil_status"):
        items = by_source[source]
        for start in range(0, len(items), size):
            yield source, items[start : start + size]


def _key() -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


def _bare_insert_seconds(engine: Engine, rows: int) -> float:
    """The same number of fact rows into a bare table: COPY on PostgreSQL, executemany on
    SQLite (its fastest bulk path)."""
    from sqlalchemy import text

    payload = '{"date_of_death": "2026-10-20"}'

    def values() -> Iterator[tuple[str, str, str, str, str]]:
        for _ in range(rows):
            yield (
                str(uuid.uuid4()),
                str(uuid.uuid4()),
                "death",
                payload,
                "2026-11-01T00:00:00+00:00",
            )

    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS bench_bare_fact"))
        connection.execute(
            text(
                "CREATE TABLE bench_bare_fact (id TEXT, person_id TEXT, kind TEXT, "
                "payload TEXT, recorded_at TEXT)"
            )
        )
    started = time.perf_counter()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            cursor = connection.connection.cursor()
            with cursor.copy("COPY bench_bare_fact FROM STDIN") as copy:
                for row in values():
                    copy.write_row(row)
        else:
            connection.exec_driver_sql(
                "INSERT INTO bench_bare_fact VALUES (?, ?, ?, ?, ?)", list(values())
            )
    return time.perf_counter() - started
