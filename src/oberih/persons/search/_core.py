"""The search contract in plain Python: query parsing, similarity, candidate keys, ranking.

Engines only retrieve (dictionary entries that may match a word, persons of a key combination);
every decision that shapes the results is taken here, on plain data, so the same data gives the
same results in the same order on SQLite and on PostgreSQL.

How a name query is answered:
1. Each word of the query is matched against the dictionary of distinct names (``name_key``,
   tens of thousands of rows, not tens of millions). A dictionary key is a *candidate* for a word
   when it shares a trigram with it inside a word, or starts with the same letter, and its
   trigram similarity (pg_trgm's, reimplemented in ``trigram_similarity``) reaches the word's
   threshold. The threshold falls with the word's length so that one typo (a substitution,
   deletion, insertion or swap of neighbours) never loses the intended key (unit-tested).
2. Candidates are ranked by ``name_similarity`` (the better of trigram similarity and
   optimal-string-alignment edit similarity: trigrams find reordered parts, edit distance
   measures short names' typos fairly), then by frequency; the best few per name part stay.
3. The words are assigned to name parts in every order (surname first is usual, "Тарас
   Шевченко" works too); each assignment gives key combinations whose score is a weighted mean
   of the parts' similarities, constant for all persons of the combination.
4. Persons are fetched combination by combination, best first, until ``limit`` are found.
   Hits are ordered by score, then surname, given name and patronymic keys, birth date, person
   id, which is also the order inside a combination, so the first ``limit`` are exact.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import permutations, product

from rapidfuzz.distance import OSA

from oberih.identifiers import (
    InvalidIdentifier,
    ParsedIdentifier,
    parse_document_number,
    parse_rnokpp,
    parse_unzr,
)
from oberih.names import name_keys

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MAX_QUERY_LENGTH = 200
MIN_WORD_LETTERS = 2
MAX_NAME_WORDS = 3

# Candidate keys kept per word and name part, best first.
KEYS_PER_PART = {"surname": 10, "given": 8, "patronymic": 5}
# A key less similar than this to a word is not a plausible spelling of it.
MIN_KEY_SIMILARITY = 0.5
# Hits scoring less are not returned (and their combinations never fetched).
MIN_SCORE = 0.5
# At most this many key combinations are fetched for one query: bounds the work of a query
# that matches almost nobody.
MAX_COMBINATIONS = 1000
PART_WEIGHTS = {"surname": 0.5, "given": 0.3, "patronymic": 0.2}
# Trigram thresholds never rise above this, so that long names keep some tolerance to 2 typos.
MAX_THRESHOLD = 0.4
MIN_THRESHOLD = 0.1


class InvalidSearch(ValueError):
    """A search that cannot be run: empty, too short or long, or a malformed identifier.

    The message says what is wrong and never repeats the query, which may be personal data.
    """


class Part(StrEnum):
    """A part of a person's name, as the ``name_key.part`` column spells it."""

    SURNAME = "surname"
    GIVEN = "given"
    PATRONYMIC = "patronymic"


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One person found. ``score`` is 1.0 for an identifier match, 0..1 for a name match."""

    person_id: uuid.UUID
    score: float
    matched_by: str  # an identifier kind ("rnokpp", "unzr", "id_card", ...) or "name"
    surname: str | None
    given_name: str | None
    patronymic: str | None
    birth_date: dt.date | None
    region: str | None
    office_code: str | None


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Narrowing applied inside the query, so a search never sees persons outside it."""

    birth_year: int | None = None
    region: str | None = None
    office_codes: frozenset[str] | None = None
    include_deceased: bool = True

    @property
    def born_from(self) -> dt.date | None:
        return dt.date(self.birth_year, 1, 1) if self.birth_year is not None else None

    @property
    def born_until(self) -> dt.date | None:
        return dt.date(self.birth_year, 12, 31) if self.birth_year is not None else None

    @property
    def excludes_everyone(self) -> bool:
        return self.office_codes is not None and not self.office_codes


def make_filters(
    *,
    birth_year: int | None,
    region: str | None,
    office_codes: Collection[str] | None,
    include_deceased: bool,
) -> SearchFilters:
    if birth_year is not None and not dt.MINYEAR <= birth_year <= dt.MAXYEAR:
        raise InvalidSearch(f"birth year must be in {dt.MINYEAR}..{dt.MAXYEAR}")
    if isinstance(office_codes, str):  # a str is a Collection[str] of its letters
        raise TypeError("office_codes must be a collection of office codes, not one code")
    return SearchFilters(
        birth_year=birth_year,
        region=region,
        office_codes=frozenset(office_codes) if office_codes is not None else None,
        include_deceased=include_deceased,
    )


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidSearch(f"limit must be in 1..{MAX_LIMIT}")
    return limit


# --- Queries -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdentifierQuery:
    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class NameWord:
    """One word of a name query: its Cyrillic key, or its Latin key when typed in Latin."""

    key: str
    latin: bool


@dataclass(frozen=True, slots=True)
class NameQuery:
    words: tuple[NameWord, ...]


_WORD_SEPARATORS = re.compile(r"[\s,;.]+")
_IDENTIFIER_PARSERS = (parse_rnokpp, parse_unzr, parse_document_number)


def parse_query(text: str) -> IdentifierQuery | NameQuery:
    """What the query asks for: one identifier (any digit makes it one) or a name."""
    query = text.strip()
    if not query:
        raise InvalidSearch("the query is empty")
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidSearch(f"the query is longer than {MAX_QUERY_LENGTH} characters")
    if any(char.isdigit() for char in query):
        return _identifier_query(query)
    return _name_query(query)


def _identifier_query(query: str) -> IdentifierQuery:
    for candidate in dict.fromkeys((query, "".join(query.split()))):
        for parse in _IDENTIFIER_PARSERS:
            try:
                parsed: ParsedIdentifier = parse(candidate)
            except InvalidIdentifier:
                continue
            return IdentifierQuery(kind=parsed.kind.value, value=parsed.value)
    raise InvalidSearch(
        "the query has digits but is not a valid RNOKPP (10 digits), UNZR (YYYYMMDD-NNNNC) "
        "or document number (9-digit ID card, or 2 letters and 6 digits)"
    )


def _name_query(query: str) -> NameQuery:
    words = []
    for text in _WORD_SEPARATORS.split(query):
        keys = name_keys(text)
        key, latin = (keys.cyrillic, False) if keys.cyrillic else (keys.latin, True)
        if sum(char.isalnum() for char in key) < MIN_WORD_LETTERS:
            if text:
                raise InvalidSearch(
                    f"each name in the query needs at least {MIN_WORD_LETTERS} letters"
                )
            continue
        words.append(NameWord(key=key, latin=latin))
    if not words:
        raise InvalidSearch("the query has no name and no identifier")
    if len(words) > MAX_NAME_WORDS:
        raise InvalidSearch(
            f"the query has more than {MAX_NAME_WORDS} names (surname, given name, patronymic)"
        )
    return NameQuery(words=tuple(words))


# --- Similarity (pg_trgm semantics) --------------------------------------------------------------


def _words(text: str) -> list[str]:
    # pg_trgm: words are runs of alphanumeric characters, lower-cased.
    return [word for word in re.split(r"[^\w]|_", text.lower()) if word]


def trigrams(text: str) -> frozenset[str]:
    """pg_trgm's trigrams: each word padded with two spaces before and one after."""
    found: set[str] = set()
    for word in _words(text):
        padded = f"  {word} "
        found.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(found)


def inner_trigrams(text: str) -> frozenset[str]:
    """Trigrams inside words (no padding): what SQLite's FTS5 trigram index can find."""
    return frozenset(word[i : i + 3] for word in _words(text) for i in range(len(word) - 2))


def trigram_similarity(left: str, right: str) -> float:
    """pg_trgm ``similarity()``: shared trigrams over all trigrams of the two texts."""
    a, b = trigrams(left), trigrams(right)
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


def name_similarity(left: str, right: str) -> float:
    """How alike two name keys are, 0..1: trigram or edit similarity, whichever is higher."""
    if left == right:
        return 1.0
    return max(trigram_similarity(left, right), OSA.normalized_similarity(left, right))


def retrieval_threshold(word_key: str) -> float:
    """The trigram similarity one typo in a word of this length can fall to, at the worst.

    (n-4)/(n+4) stays under the measured minimum over all single typos of words of n letters
    (a swap of neighbours costs the most: 4 trigrams), see tests/unit/persons/test_search_core.
    """
    length = len(word_key)
    return min(MAX_THRESHOLD, max(MIN_THRESHOLD, (length - 4) / (length + 4)))


def is_candidate(word_key: str, entry_text: str) -> bool:
    """Whether a dictionary key is retrieved for a word (the same rule on both engines)."""
    if not (
        word_key[:1] == entry_text[:1] or inner_trigrams(word_key) & inner_trigrams(entry_text)
    ):
        return False
    return trigram_similarity(word_key, entry_text) >= retrieval_threshold(word_key)


# --- Dictionary candidates -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DictionaryEntry:
    """A row of ``name_key``."""

    part: str
    key: str
    latin_key: str
    frequency: int

    def text_for(self, word: NameWord) -> str:
        return self.latin_key if word.latin else self.key


@dataclass(frozen=True, slots=True)
class KeyMatch:
    key: str
    similarity: float
    frequency: int


PartMatches = dict[str, tuple[KeyMatch, ...]]


def best_matches(word: NameWord, entries: Iterable[DictionaryEntry]) -> PartMatches:
    """The best candidate keys of each name part for one word."""
    by_part: dict[str, dict[str, KeyMatch]] = {}
    for entry in entries:
        text = entry.text_for(word)
        if entry.key in by_part.get(entry.part, {}) or not is_candidate(word.key, text):
            continue
        similarity = name_similarity(word.key, text)
        if similarity >= MIN_KEY_SIMILARITY:
            match = KeyMatch(key=entry.key, similarity=similarity, frequency=entry.frequency)
            by_part.setdefault(entry.part, {})[entry.key] = match
    return {
        part: tuple(
            sorted(matches.values(), key=lambda m: (-m.similarity, -m.frequency, m.key))[
                : KEYS_PER_PART.get(part, 0)
            ]
        )
        for part, matches in by_part.items()
    }


# --- Key combinations ---------------------------------------------------------------------------

_PARTS_OF_SHAPE = {
    1: (Part.SURNAME,),
    2: (Part.SURNAME, Part.GIVEN),
    3: (Part.SURNAME, Part.GIVEN, Part.PATRONYMIC),
}
# Official order first; the spoken order ("Тарас Григорович Шевченко") a hair behind, so that
# equal names in another order do not tie; other orders are slips, a little further behind.
_ORDER_FACTORS = {
    (Part.SURNAME,): 1.0,
    (Part.SURNAME, Part.GIVEN): 1.0,
    (Part.GIVEN, Part.SURNAME): 0.99,
    (Part.SURNAME, Part.GIVEN, Part.PATRONYMIC): 1.0,
    (Part.GIVEN, Part.PATRONYMIC, Part.SURNAME): 0.99,
}
OTHER_ORDER_FACTOR = 0.97


@dataclass(frozen=True, slots=True)
class Combination:
    """Keys of the name parts a query gives, and the score every person with them gets."""

    score: float
    surname_key: str
    given_name_key: str | None = None
    patronymic_key: str | None = None

    @property
    def keys(self) -> tuple[str, str | None, str | None]:
        return (self.surname_key, self.given_name_key, self.patronymic_key)

    @property
    def shape(self) -> int:
        """How many leading name parts the combination fixes (1, 2 or 3)."""
        return 1 + (self.given_name_key is not None) + (self.patronymic_key is not None)


def rank_combinations(matches: Sequence[PartMatches]) -> list[Combination]:
    """Key combinations of every assignment of the words to name parts, best first."""
    parts = _PARTS_OF_SHAPE[len(matches)]
    best: dict[tuple[str, str | None, str | None], float] = {}
    for order in permutations(parts):
        factor = _ORDER_FACTORS.get(order, OTHER_ORDER_FACTOR)
        choices = [matches[index].get(part, ()) for index, part in enumerate(order)]
        weights = [PART_WEIGHTS[part] for part in order]
        total_weight = sum(weights)
        for picked in product(*choices):
            keyed = dict(zip(order, picked, strict=True))
            weighted = sum(w * m.similarity for w, m in zip(weights, picked, strict=True))
            score = round(factor * weighted / total_weight, 4)
            if score < MIN_SCORE:
                continue
            keys = tuple(keyed[part].key if part in keyed else None for part in Part)
            surname, given, patronymic = keys
            assert surname is not None  # every shape fixes the surname
            if score > best.get((surname, given, patronymic), -1.0):
                best[(surname, given, patronymic)] = score
    combinations = [
        Combination(score=score, surname_key=s, given_name_key=g, patronymic_key=p)
        for (s, g, p), score in best.items()
    ]
    combinations.sort(
        key=lambda c: (-c.score, c.surname_key, c.given_name_key or "", c.patronymic_key or "")
    )
    return combinations[:MAX_COMBINATIONS]


# --- Hits ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonRow:
    """What search reads of a person's projection."""

    person_id: uuid.UUID
    surname: str | None
    given_name: str | None
    patronymic: str | None
    birth_date: dt.date | None
    region: str | None
    office_code: str | None
    surname_key: str | None
    given_name_key: str | None
    patronymic_key: str | None


def _nulls_last(key: str | None) -> tuple[bool, str]:
    return (key is None, key or "")


def hit_order(score: float, row: PersonRow) -> tuple[object, ...]:
    """Best first; ties by the keys, birth date and person id, nulls last (both engines' order)."""
    return (
        -score,
        _nulls_last(row.surname_key),
        _nulls_last(row.given_name_key),
        _nulls_last(row.patronymic_key),
        (row.birth_date is None, row.birth_date or dt.date.min),
        row.person_id,
    )


def to_hit(row: PersonRow, *, score: float, matched_by: str) -> SearchHit:
    return SearchHit(
        person_id=row.person_id,
        score=score,
        matched_by=matched_by,
        surname=row.surname,
        given_name=row.given_name,
        patronymic=row.patronymic,
        birth_date=row.birth_date,
        region=row.region,
        office_code=row.office_code,
    )


def combination_keys(row: PersonRow, shape: int) -> tuple[str | None, str | None, str | None]:
    """The keys of the combination of this shape that the person belongs to."""
    keys = (row.surname_key, row.given_name_key, row.patronymic_key)
    return (keys[0], keys[1] if shape > 1 else None, keys[2] if shape > 2 else None)


def rank_hits(
    rows: Iterable[PersonRow], combinations: Sequence[Combination], limit: int
) -> list[SearchHit]:
    """The best ``limit`` hits among persons fetched for the given combinations."""
    if not combinations:
        return []
    scores: dict[tuple[str | None, str | None, str | None], float] = {
        combination.keys: combination.score for combination in combinations
    }
    shape = combinations[0].shape
    scored = []
    for row in rows:
        score = scores.get(combination_keys(row, shape))
        if score is not None:
            scored.append((hit_order(score, row), score, row))
    scored.sort(key=lambda item: item[0])
    return [to_hit(row, score=score, matched_by="name") for _, score, row in scored[:limit]]
