"""A population as JSON Lines: one person per line, for ``oberih generate`` and ``oberih load``.

Each line is ``{"person_id", "created_at", "facts": [...]}``; a fact carries every field of
``oberih.persons.facts.Fact`` except ``person_id``, which is the line's. Dates and times are ISO
8601 (times with their UTC offset). A path ending in ``.gz`` is written and read gzip-compressed
(with no name and a zero time in the header, so equal populations give equal files).
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from uuid import UUID

import orjson

from oberih.persons.facts import Fact
from oberih.population.models import GeneratedPerson


def _encode(document: dict[str, Any]) -> str:
    # orjson: several times faster than the standard library on the load path, same JSON.
    return orjson.dumps(document).decode()


@contextmanager
def open_text(path: Path, mode: str) -> Iterator[IO[str]]:
    if path.suffix != ".gz":
        with open(path, mode, encoding="utf-8", newline="\n") as plain:
            yield plain
        return
    with open(path, mode + "b") as raw:
        # No file name and a zero time in the header: equal populations give equal files.
        compressed = gzip.GzipFile(
            filename="", mode=mode + "b", fileobj=raw, compresslevel=3, mtime=0
        )
        with io.TextIOWrapper(compressed, encoding="utf-8", newline="\n") as text:
            yield text


def person_to_json(person: GeneratedPerson) -> dict[str, Any]:
    return {
        "person_id": str(person.person_id),
        "created_at": person.created_at.isoformat(),
        "facts": [_fact_to_json(fact) for fact in person.facts],
    }


def _fact_to_json(fact: Fact) -> dict[str, Any]:
    return {
        "id": str(fact.id),
        "seq": fact.seq,
        "kind": fact.kind,
        "payload": fact.payload,
        "recorded_at": fact.recorded_at.isoformat(),
        "source": fact.source,
        "source_record_id": fact.source_record_id,
        "legal_basis": fact.legal_basis,
        "actor": fact.actor,
        "valid_from": None if fact.valid_from is None else fact.valid_from.isoformat(),
        "valid_to": None if fact.valid_to is None else fact.valid_to.isoformat(),
        "supersedes_id": None if fact.supersedes_id is None else str(fact.supersedes_id),
    }


def person_from_json(record: dict[str, Any]) -> GeneratedPerson:
    person_id = UUID(record["person_id"])
    facts = [_fact_from_json(person_id, item) for item in record["facts"]]
    return GeneratedPerson(person_id, dt.datetime.fromisoformat(record["created_at"]), facts)


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _fact_from_json(person_id: UUID, item: dict[str, Any]) -> Fact:
    supersedes = item.get("supersedes_id")
    return Fact(
        id=UUID(item["id"]),
        person_id=person_id,
        seq=item["seq"],
        kind=item["kind"],
        payload=item["payload"],
        recorded_at=dt.datetime.fromisoformat(item["recorded_at"]),
        source=item["source"],
        source_record_id=item["source_record_id"],
        legal_basis=item["legal_basis"],
        actor=item["actor"],
        valid_from=_date(item.get("valid_from")),
        valid_to=_date(item.get("valid_to")),
        supersedes_id=None if supersedes is None else UUID(supersedes),
    )


def write_jsonl(people: Iterable[GeneratedPerson], path: Path | str) -> int:
    """Write persons one per line; returns how many were written."""
    count = 0
    with open_text(Path(path), "w") as out:
        write = out.write
        for person in people:
            write(_encode(person_to_json(person)))
            write("\n")
            count += 1
    return count


def read_jsonl(path: Path | str) -> Iterator[GeneratedPerson]:
    """Stream the persons of a file written by ``write_jsonl`` (blank lines are skipped)."""
    with open_text(Path(path), "r") as lines:
        for line in lines:
            if line.strip():
                yield person_from_json(orjson.loads(line))
