"""SQLite retrieval: the FTS5 trigram table over the name dictionary, one probe per combination."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, bindparam, text
from sqlalchemy.orm import Session

from oberih.persons.search._core import (
    Combination,
    DictionaryEntry,
    NameWord,
    Part,
    PersonRow,
    inner_trigrams,
)
from oberih.persons.search.service import person_row, probe

_PARTS = ", ".join(f"'{part.value}'" for part in Part)
_ENTRY_COLUMNS = "part, key, latin_key, frequency"
_KEY_PARAMS = ("surname_key", "given_name_key", "patronymic_key")


class SqliteSearch:
    """Made for one search: its probe is built once and serves every combination."""

    def __init__(self, where: Sequence[ColumnElement[bool]]) -> None:
        self._where = where
        self._probes: dict[int, Any] = {}

    def dictionary_entries(self, session: Session, word: NameWord) -> list[DictionaryEntry]:
        """Keys sharing a trigram inside a word (FTS5), or starting with the word's letter.

        That is exactly the retrieval rule of ``_core.is_candidate``, which then checks the
        similarity; the first-letter range uses the primary key (part, key) or the Latin index.
        """
        column = "latin_key" if word.latin else "key"
        # On the Cyrillic key the (part, key) primary key serves the range only with the part.
        part_condition = "" if word.latin else f"part IN ({_PARTS}) AND "
        sql = (
            f"SELECT {_ENTRY_COLUMNS} FROM name_key "
            f"WHERE {part_condition}{column} >= :first AND {column} < :after_first"
        )
        first = word.key[:1]
        params: dict[str, Any] = {"first": first, "after_first": chr(ord(first) + 1)}
        pieces = inner_trigrams(word.key)
        if pieces:
            # Trigrams of keys are letters only: no quoting trouble inside the phrases.
            phrases = " OR ".join(f'"{piece}"' for piece in sorted(pieces))
            sql += (
                f" UNION SELECT {_ENTRY_COLUMNS} FROM name_key WHERE rowid IN "
                "(SELECT rowid FROM name_key_fts WHERE name_key_fts MATCH :match)"
            )
            params["match"] = f"{column} : ({phrases})"
        rows = session.execute(text(sql), params)
        return [
            DictionaryEntry(part=r.part, key=r.key, latin_key=r.latin_key, frequency=r.frequency)
            for r in rows
        ]

    def persons_of(
        self,
        session: Session,
        combinations: Sequence[Combination],
        limit: int,
    ) -> list[PersonRow]:
        if not combinations:
            return []
        shape = combinations[0].shape
        names = _KEY_PARAMS[:shape]
        # SQLite runs in-process: a probe per combination costs microseconds, not a round trip.
        statement = self._probes.get(shape)
        if statement is None:
            keys: list[ColumnElement[Any]] = [bindparam(name) for name in names]
            statement = probe(shape, keys, self._where).limit(bindparam("limit"))
            self._probes[shape] = statement
        rows: list[PersonRow] = []
        for combination in combinations:
            params: dict[str, Any] = dict(zip(names, combination.keys, strict=False))
            found = session.execute(statement, {**params, "limit": limit})
            rows.extend(person_row(row) for row in found)
        return rows
