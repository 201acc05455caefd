"""``oberih exchange ...`` and ``oberih import``: schemas, keys, signed file intake, workers,
quarantine, identity review and the review of probable duplicates from the command line."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from sqlalchemy import Engine

from oberih.audit.events import AuditEvent
from oberih.audit.services import record_event, record_events
from oberih.cli.context import console, open_engine, unit_of_work
from oberih.cli.db import DatabaseUrl
from oberih.cli.persons import operator
from oberih.db.engine import make_session_factory
from oberih.exchange.feeds import FaultRates
from oberih.exchange.messages import message_schema, parse_source
from oberih.exchange.services import (
    BatchReport,
    Processor,
    batch_report,
    correct_record,
    decide_review,
    get_review,
    open_reviews,
    quarantined,
    raw_json,
    receive_batch,
)
from oberih.exchange.settings import load_configured_key_ring
from oberih.exchange.signing import (
    ALGORITHMS,
    BatchRejected,
    InvalidKeyRing,
    PrivateKey,
    key_entry,
    key_ring_from_document,
    sign_batch,
)

if TYPE_CHECKING:
    from oberih.exchange.models import PersonMerge

app = typer.Typer(no_args_is_help=True, help="Data exchange with the source registers.")
quarantine_app = typer.Typer(no_args_is_help=True, help="Quarantined records.")
review_app = typer.Typer(no_args_is_help=True, help="Identity reviews.")
duplicates_app = typer.Typer(
    no_args_is_help=True, help="Probable duplicate persons queued by oberih dedup."
)
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(review_app, name="review")
app.add_typer(duplicates_app, name="duplicates")

# sysexits.h EX_CONFIG: the configuration (here the key ring) cannot be used as it is.
EXIT_CONFIGURATION = 78

SourceArgument = Annotated[str, typer.Argument(help="Source register, e.g. tax, civil_status.")]
# At least one: PostgreSQL refuses a negative LIMIT (SQLite reads it as no limit at all).
Limit = Annotated[int, typer.Option(min=1, help="At most this many.")]


FaultOption = Annotated[
    list[str] | None,
    typer.Option(
        "--fault",
        help="A fault's rate, FAULT=RATE (a share from 0 to 1), e.g. --fault typo=0.1; "
        "repeat for several. The others keep their defaults.",
    ),
]


def fault_rates(settings: list[str] | None) -> FaultRates:
    """The feeds' fault rates with the ``--fault`` settings applied (a usage error names a
    wrong one)."""
    try:
        return FaultRates().with_rates(settings or [])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--fault") from None


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _echo(document: Any) -> None:
    typer.echo(json.dumps(document, ensure_ascii=False, default=str))


def _processor(engine: Engine) -> Processor:
    return Processor(sessions=make_session_factory(engine), clock=_utc_now)


@app.command("schema")
def schema_command(source: SourceArgument) -> None:
    """Print the JSON Schema of a source register's messages."""
    typer.echo(json.dumps(message_schema(parse_source(source)), ensure_ascii=False, indent=2))


@app.command("keygen")
def keygen_command(
    source: SourceArgument,
    private_key: Annotated[Path, typer.Option(help="Where to write the source's private key.")],
    keys_file: Annotated[Path, typer.Option(help="The register's key ring (JSON) to extend.")],
    kid: Annotated[str, typer.Option(help="Key id.")] = "",
    algorithm: Annotated[str, typer.Option(help="EdDSA (Ed25519) or ES256.")] = "EdDSA",
) -> None:
    """Make a signing key for a source register (development and tests) and register its
    public half in the key ring file."""
    parse_source(source)
    if algorithm not in ALGORITHMS:
        raise typer.BadParameter(f"use {' or '.join(ALGORITHMS)}", param_hint="--algorithm")
    kid = kid or f"{source}-{_utc_now().date().isoformat()}"
    # The ring is read and checked before anything is written: a key id registered twice
    # could not say which key a signature names, and an existing key file is never replaced
    # (the public half registered for it would then verify nothing).
    try:
        ring = json.loads(keys_file.read_text()) if keys_file.exists() else {"keys": []}
        known = key_ring_from_document(ring, origin=f"key ring {keys_file}")
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(
            f"{keys_file}: not JSON ({exc})", param_hint="--keys-file"
        ) from None
    except InvalidKeyRing as exc:
        raise typer.BadParameter(str(exc), param_hint="--keys-file") from None
    if known.find(source, kid) is not None:
        raise typer.BadParameter(
            f"key {kid!r} of {source} is already registered in {keys_file}", param_hint="--kid"
        )
    key: PrivateKey = (
        ed25519.Ed25519PrivateKey.generate()
        if algorithm == "EdDSA"
        else ec.generate_private_key(ec.SECP256R1())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    private_key.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Created readable by its owner only, never for a moment by others (umask aside).
        descriptor = os.open(private_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise typer.BadParameter(
            f"{private_key} exists; a signing key is never overwritten", param_hint="--private-key"
        ) from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    ring["keys"].append(key_entry(source=source, kid=kid, private_key=key))
    keys_file.parent.mkdir(parents=True, exist_ok=True)
    written = keys_file.with_name(f".{keys_file.name}.new")
    written.write_text(json.dumps(ring, indent=2))
    written.replace(keys_file)  # the ring is whole, old or new, whenever it is read
    console.print(f"key [bold]{kid}[/] of {source} registered in {keys_file}")


@app.command("sign")
def sign_command(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Batch file.")],
    private_key: Annotated[Path, typer.Option(exists=True, help="PEM private key.")],
    kid: Annotated[str, typer.Option(help="Key id registered for the source.")],
) -> None:
    """Sign a batch file as its source register would: writes FILE.jws beside it."""
    key = serialization.load_pem_private_key(private_key.read_bytes(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise typer.BadParameter("an Ed25519 or P-256 private key is needed")
    signature = sign_batch(path.read_bytes(), private_key=key, kid=kid)
    Path(f"{path}.jws").write_text(signature)


def import_command(
    source: SourceArgument,
    path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="JSON Lines (or .csv) file.")
    ],
    signature: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Detached JWS (default: FILE.jws)."),
    ] = None,
    trusted: Annotated[
        bool, typer.Option(help="Operator import without a signature check.")
    ] = False,
    process: Annotated[
        bool, typer.Option(help="Process now (always on SQLite; else leave it to workers).")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Store a batch file of a source register (signature checked), then process it."""
    body = path.read_bytes()
    signature_path = signature or Path(f"{path}.jws")
    # A compact JWS is ASCII: any other byte makes it malformed (said as such), not a traceback.
    jws = (
        signature_path.read_bytes().decode("ascii", errors="replace").strip()
        if signature_path.exists()
        else None
    )
    try:
        ring = None if trusted else load_configured_key_ring()
    except InvalidKeyRing as exc:
        typer.echo(f"oberih: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIGURATION) from None
    with open_engine(database_url) as engine:
        try:
            with unit_of_work(engine) as session:
                batch = receive_batch(
                    session,
                    source=source,
                    body=body,
                    signature=jws,
                    ring=ring,
                    now=_utc_now(),
                    transport="file",
                    batch_format="csv" if path.suffix.lower() == ".csv" else "jsonl",
                )
                batch_id = batch.id
        except BatchRejected as rejected:
            # One line on stderr like every refusal: Rich would wrap a long reason at 80 columns.
            typer.echo(f"oberih: batch rejected ({rejected.reason}): {rejected.detail}", err=True)
            raise typer.Exit(1) from None
        if process or engine.dialect.name == "sqlite":
            _processor(engine).process_pending(batch_id=batch_id)
        with unit_of_work(engine) as session:
            _echo(_report_json(batch_report(session, batch_id)))


def _report_json(report: BatchReport) -> dict[str, Any]:
    return {
        "batch_id": str(report.batch_id),
        "source": report.source,
        "status": report.status,
        "records": report.records,
        "counts": report.counts,
    }


@app.command("work")
def work_command(
    once: Annotated[bool, typer.Option(help="Drain the queue and stop.")] = False,
    poll_seconds: Annotated[float, typer.Option(min=0.1, help="Idle wait.")] = 1.0,
    database_url: DatabaseUrl = None,
) -> None:
    """Process pending records (PostgreSQL: run several; each claims rows with SKIP LOCKED)."""
    with open_engine(database_url) as engine:
        processor = _processor(engine)
        while True:
            done = processor.process_pending(limit=1000)
            if done:
                console.print(f"processed {done} records")
            elif once:
                return
            else:
                time.sleep(poll_seconds)


@app.command("batch")
def batch_command(batch_id: uuid.UUID, database_url: DatabaseUrl = None) -> None:
    """A batch's status and counts."""
    with open_engine(database_url) as engine, unit_of_work(engine) as session:
        _echo(_report_json(batch_report(session, batch_id)))


def _audit(session: Any, person_id: uuid.UUID | None, fields: tuple[str, ...]) -> None:
    action = "exchange:quarantine:read" if person_id is None else "person:match:review"
    record_event(
        session, _operator_event(action, person_id=person_id, fields=fields), now=_utc_now()
    )


def _operator_event(
    action: str, *, person_id: uuid.UUID | None, fields: tuple[str, ...]
) -> AuditEvent:
    """The audit event of an access from the command line (``merge.AccessEvent``)."""
    return AuditEvent(
        action=action,
        outcome="allowed",
        actor=operator(),
        role="operator",
        office_code=None,
        purpose="operator-cli",
        person_id=person_id,
        fields=fields,
        request_id=None,
    )


def _audit_merge(session: Any, merge: PersonMerge) -> None:
    from oberih.exchange.merge import merge_audit_events

    record_events(session, merge_audit_events(merge, _operator_event), now=_utc_now())


@quarantine_app.command("list")
def quarantine_list(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    limit: Limit = 100,
    database_url: DatabaseUrl = None,
) -> None:
    """Quarantined records (one JSON line each) with reason and raw content."""
    if source is not None:
        parse_source(source)  # a mistyped source is named, not listed as an empty quarantine
    with open_engine(database_url) as engine, unit_of_work(engine) as session:
        _audit(session, None, ("quarantine",))
        for record in quarantined(session, source=source, limit=limit):
            _echo(
                {
                    "batch_id": str(record.batch_id),
                    "position": record.position,
                    "source": record.source,
                    "source_record_id": record.source_record_id,
                    "reason": record.reason,
                    "raw": raw_json(record),
                }
            )


@quarantine_app.command("replay")
def quarantine_replay(
    batch_id: uuid.UUID,
    position: int,
    corrected: Annotated[
        Path | None, typer.Option(exists=True, help="File with the corrected JSON record.")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Correct a quarantined record (or replay it as it is) and process it again."""
    text = _corrected_text(corrected) if corrected else None
    with open_engine(database_url) as engine:
        processor = _processor(engine)
        with unit_of_work(engine) as session:
            record = correct_record(session, batch_id=batch_id, position=position, corrected=text)
            processor.process_record(session, record)
            _echo({"state": record.state, "reason": record.reason})


def _corrected_text(path: Path) -> str:
    try:
        text = path.read_bytes().decode("utf-8").strip()
    except UnicodeDecodeError:
        raise typer.BadParameter(f"{path}: not UTF-8 text", param_hint="--corrected") from None
    if "\x00" in text:  # as a batch's line (``services._lines``): PostgreSQL stores no NUL
        raise typer.BadParameter(
            f"{path}: a NUL character (0x00) in text", param_hint="--corrected"
        )
    return text


@review_app.command("list")
def review_list(limit: Limit = 100, database_url: DatabaseUrl = None) -> None:
    """Open identity reviews (ids and best scores; no personal data)."""
    with open_engine(database_url) as engine, unit_of_work(engine) as session:
        for review in open_reviews(session, limit=limit):
            best = review.candidates[0]["score"] if review.candidates else None
            _echo({"review_id": str(review.id), "best_score": best})


@review_app.command("show")
def review_show(review_id: uuid.UUID, database_url: DatabaseUrl = None) -> None:
    """The record's subject and each candidate side by side, with scores and field levels."""
    from oberih.exchange.views import review_detail

    with open_engine(database_url) as engine, unit_of_work(engine) as session:
        review = get_review(session, review_id)
        detail = review_detail(session, review)
        for candidate in review.candidates:
            _audit(session, uuid.UUID(candidate["person_id"]), ("identity",))
        _echo(detail.model_dump(mode="json"))


@review_app.command("link")
def review_link(
    review_id: uuid.UUID, person_id: uuid.UUID, database_url: DatabaseUrl = None
) -> None:
    """The record is about this person: apply it to them."""
    _decide(review_id, person_id, database_url)


@review_app.command("reject")
def review_reject(review_id: uuid.UUID, database_url: DatabaseUrl = None) -> None:
    """The record is about none of the candidates."""
    _decide(review_id, None, database_url)


def _decide(review_id: uuid.UUID, person_id: uuid.UUID | None, database_url: str | None) -> None:
    with open_engine(database_url) as engine:
        processor = _processor(engine)
        with unit_of_work(engine) as session:
            record = decide_review(
                processor, session, review_id=review_id, person_id=person_id, actor=operator()
            )
            _echo({"state": record.state, "person_id": record.person_id, "reason": record.reason})


@duplicates_app.command("list")
def duplicates_list(limit: Limit = 100, database_url: DatabaseUrl = None) -> None:
    """Open pairs, oldest first (ids and scores; no personal data)."""
    from oberih.exchange.duplicates import open_duplicates

    with open_engine(database_url) as engine, unit_of_work(engine) as session:
        for pair in open_duplicates(session, limit=limit):
            _echo(
                {
                    "duplicate_id": str(pair.id),
                    "person_id": str(pair.person_id),
                    "other_person_id": str(pair.other_person_id),
                    "score": pair.score,
                }
            )


@duplicates_app.command("show")
def duplicates_show(duplicate_id: uuid.UUID, database_url: DatabaseUrl = None) -> None:
    """The pair's two persons side by side, with the score and the field levels and weights."""
    from oberih.exchange.duplicate_views import duplicate_detail
    from oberih.exchange.duplicates import get_duplicate

    with open_engine(database_url) as engine, unit_of_work(engine) as session:
        pair = get_duplicate(session, duplicate_id)
        detail = duplicate_detail(session, pair)
        for person_id in (pair.person_id, pair.other_person_id):
            _audit(session, person_id, ("identity",))
        _echo(detail.model_dump(mode="json"))


@duplicates_app.command("merge")
def duplicates_merge(
    duplicate_id: uuid.UUID,
    survivor: Annotated[uuid.UUID, typer.Argument(help="The one of the two who remains.")],
    database_url: DatabaseUrl = None,
) -> None:
    """The two are one person: merge the other into SURVIVOR (undo: exchange unmerge)."""
    from oberih.exchange.duplicates import merge_duplicate

    with open_engine(database_url) as engine, unit_of_work(engine) as session:
        merge = merge_duplicate(
            session, pair_id=duplicate_id, survivor_id=survivor, actor=operator(), now=_utc_now()
        )
        _audit_merge(session, merge)
        _echo({"merge_id": str(merge.id), "copied_facts": len(merge.copies)})


@duplicates_app.command("reject")
def duplicates_reject(duplicate_id: uuid.UUID, database_url: DatabaseUrl = None) -> None:
    """The two are different persons: the pair is closed and not queued again."""
    from oberih.exchange.duplicates import reject_duplicate

    with open_engine(database_url) as engine, unit_of_work(engine) as session:
        pair = reject_duplicate(session, pair_id=duplicate_id, actor=operator(), now=_utc_now())
        for person_id in (pair.person_id, pair.other_person_id):
            _audit(session, person_id, ("identity",))
        _echo({"duplicate_id": str(pair.id), "status": pair.status})


@app.command("feeds")
def feeds_command(
    out: Annotated[Path, typer.Option(help="Directory to write the feeds into.")],
    persons: Annotated[int, typer.Option(min=1, help="Population size.")] = 1_000,
    seed: Annotated[int, typer.Option(help="Seed of the population and the faults.")] = 1,
    fault: FaultOption = None,
) -> None:
    """Generate a population and the feeds its source registers would send, with faults:
    OUT/register.jsonl (the persons already registered, for ``oberih load``), one
    OUT/<source>.jsonl per source and OUT/truth.jsonl (the person each message is about)."""
    from oberih.exchange.bench import REFERENCE_DATE
    from oberih.exchange.feeds import generate_feed
    from oberih.population import generate_population, write_jsonl

    rates = fault_rates(fault)
    out.mkdir(parents=True, exist_ok=True)
    population = list(
        generate_population(persons=persons, seed=seed, reference_date=REFERENCE_DATE)
    )
    feed = generate_feed(population, seed=seed, rates=rates)
    registered = (p for p in population if p.person_id not in feed.held_out)
    write_jsonl(registered, out / "register.jsonl")
    files: dict[str, Any] = {}
    with (out / "truth.jsonl").open("w", encoding="utf-8") as truth:
        for record in feed.records:
            if record.source not in files:
                files[record.source] = (out / f"{record.source}.jsonl").open("w", encoding="utf-8")
            files[record.source].write(record.line + "\n")
            truth.write(json.dumps(record.truth_json(), ensure_ascii=False) + "\n")
    for handle in files.values():
        handle.close()
    console.print(f"{len(feed.records)} messages from {len(files)} sources in {out}")


def dedup_command(database_url: DatabaseUrl = None) -> None:
    """Find probable duplicate persons in the register and queue them for review."""
    from oberih.exchange.dedup import find_duplicates
    from oberih.exchange.resolution import Resolver

    with open_engine(database_url) as engine, unit_of_work(engine) as session:
        report = find_duplicates(session, resolver=Resolver(), now=_utc_now())
        _echo({"persons": report.persons, "queued": report.queued})


@app.command("merge")
def merge_command(
    survivor: uuid.UUID, absorbed: uuid.UUID, database_url: DatabaseUrl = None
) -> None:
    """Merge a person recorded twice into the survivor (every fact kept; can be undone)."""
    from oberih.exchange.merge import merge_persons

    with open_engine(database_url) as engine, unit_of_work(engine) as session:
        merge = merge_persons(
            session, survivor_id=survivor, absorbed_id=absorbed, actor=operator(), now=_utc_now()
        )
        _audit_merge(session, merge)
        _echo({"merge_id": str(merge.id), "copied_facts": len(merge.copies)})


@app.command("unmerge")
def unmerge_command(merge_id: uuid.UUID, database_url: DatabaseUrl = None) -> None:
    """Undo a merge: the copies are retracted, the absorbed person's identifiers restored."""
    from oberih.exchange.merge import get_merge, undo_merge

    with open_engine(database_url) as engine, unit_of_work(engine) as session:
        merge = get_merge(session, merge_id)  # MergeNotFound: said like any other unknown id
        undo_merge(session, merge=merge, actor=operator(), now=_utc_now())
        _audit_merge(session, merge)
        _echo({"merge_id": str(merge_id), "undone": True})
