"""Identity resolution against the register: identifiers first, then Fellegi-Sunter scores.

1. Deterministic: every identifier the record carries (RNOKPP, UNZR, document number) that
   parses (check digits included) is looked up among active identifiers. One person found, and
   the names do not contradict it: link. Identifiers naming different persons, or names that
   contradict the identifier: an officer decides (a wrong identifier must not move facts onto
   another person).
2. Probabilistic: candidates are blocked by surname key (exact, every transliteration and typo
   found in the name dictionary, and the given name for swapped name order) and birth year
   (+-1), then scored by ``matching.score``. Above ``link`` (and clear of the runner-up): link;
   from ``review`` up: review task; below: no link. A candidate who holds another RNOKPP or
   UNZR than the record carries is never linked automatically (a namesake born the same day).

Persons an officer rejected for the record (``rejections``) are left out of both: never linked
to it, never offered for it again.

ARCHITECTURE decision 5: a score between the thresholds is never silently merged.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal

from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler
from sqlalchemy import Connection, Uuid, bindparam, func, select, text
from sqlalchemy.orm import Session

from oberih.db.queries import among, pairs_in
from oberih.exchange.matching import (
    NameFrequencies,
    Profile,
    score,
    score_total,
    typical_errors,
)
from oberih.exchange.messages import Subject
from oberih.identifiers import InvalidIdentifier, parse_identifier
from oberih.names import name_keys
from oberih.persons.models import IdentifierRow, NameKeyRow, PersonStateRow
from oberih.persons.services import find_person_by_identifier

Outcome = Literal["link", "review", "no_link"]
LIFELONG_IDENTIFIERS = ("rnokpp", "unzr")  # one per person for life (``Resolver._differing``)
_LIFELONG_HELD = text(
    "SELECT kind, value FROM identifier "
    "WHERE person_id = :person_id AND active AND kind IN ('rnokpp', 'unzr')"
).bindparams(bindparam("person_id", type_=Uuid))


@dataclass(frozen=True, slots=True)
class Thresholds:
    link: float = 28.0  # log2 likelihood ratio: automatic link from here
    review: float = 14.0  # an officer decides from here
    margin: float = 6.0  # the best must beat the runner-up by this much to link automatically


@dataclass(frozen=True, slots=True)
class Resolution:
    outcome: Outcome
    method: str  # identifier | probabilistic | none
    person_id: uuid.UUID | None = None
    score: float | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    candidates: list[dict[str, Any]] = field(default_factory=list)  # a review's best five
    # Identifiers of the record that name different persons, by kind (never by value: no
    # personal data in a reason), e.g. "rnokpp, unzr". Such a record is reviewed when its names
    # can be compared with the persons', else quarantined saying so; never a new person, and
    # never retried as unmatched (a birth elsewhere does not settle it).
    conflict: str | None = None
    # Persons an officer rejected for this record (``rejections``) whom resolution found again:
    # left out of its candidates and never linked to it (see ``Resolver.resolve``).
    passed_over: tuple[uuid.UUID, ...] = ()


def subject_profile(subject: Subject) -> Profile:
    return Profile(
        surname=subject.surname,
        given_name=subject.given_name,
        patronymic=subject.patronymic,
        birth_date=subject.birth_date,
        sex=subject.sex,
        birth_place=subject.birth_place,
    )


def subject_identifiers(subject: Subject) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """(kind, canonical value) of each identifier that parses; the others, kind -> reason."""
    given = [("rnokpp", subject.rnokpp), ("unzr", subject.unzr)]
    if subject.document_kind:
        given.append((subject.document_kind, subject.document_number))
    valid: list[tuple[str, str]] = []
    invalid: dict[str, str] = {}
    for kind, value in given:
        if not value:
            continue
        canonical, problem = _parsed(kind, value)
        if canonical is not None:
            valid.append((kind, canonical))
        else:
            invalid[kind] = f"invalid: {problem}"
    return valid, invalid


@lru_cache(maxsize=65536)
def _parsed(kind: str, value: str) -> tuple[str | None, str | None]:
    """The canonical value of an identifier, or why it is not one. Kept: a chunk asks for
    each record's identifiers three times (owners, blocks, resolution)."""
    try:
        return parse_identifier(kind, value).value, None
    except InvalidIdentifier as exc:
        return None, str(exc)


class NameDictionary:
    """The register's name keys in memory: frequencies for TF adjustment and typo-tolerant
    blocking. Loaded once per resolver; persons the resolver itself creates are added."""

    def __init__(self, rows: list[tuple[str, str, str, int]]) -> None:
        self.counts: dict[str, dict[str, int]] = defaultdict(dict)
        self.by_latin: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for part, key, latin, frequency in rows:
            self.counts[part][key] = frequency
            self.by_latin[part][latin].add(key)
        self._choices: dict[str, list[str]] = {}
        self._frequencies: NameFrequencies | None = None
        self._similar: dict[tuple[str, str], frozenset[str]] = {}

    @classmethod
    def load(cls, session: Session) -> NameDictionary:
        rows = session.execute(
            select(NameKeyRow.part, NameKeyRow.key, NameKeyRow.latin_key, NameKeyRow.frequency)
        )
        return cls([tuple(row) for row in rows])  # type: ignore[misc]

    def frequencies(self) -> NameFrequencies:
        # Kept between calls: summing every surname's count for each record scored was the
        # single largest cost of resolution on a national dictionary.
        if self._frequencies is None:
            total = sum(self.counts.get("surname", {}).values())
            self._frequencies = NameFrequencies(counts=dict(self.counts), total=max(total, 1))
        return self._frequencies

    def add(self, part: str, name: str) -> None:
        keys = name_keys(name)
        key = keys.cyrillic or keys.latin
        self.counts[part][key] = self.counts[part].get(key, 0) + 1
        self._frequencies = None
        if key not in self.by_latin[part][keys.latin]:
            self.by_latin[part][keys.latin].add(key)
            self._choices.pop(part, None)
            self._choices.pop("keys:" + part, None)
            # Similar keys depend on which keys exist, not on their counts: only a new key
            # changes them, and only for its part.
            self._similar = {
                found: keys for found, keys in self._similar.items() if found[0] != part
            }

    def similar_keys(self, part: str, name: str) -> frozenset[str]:
        """Keys of the names that may be this one: same key, same Latin key, or a close spelling
        in either script (Jaro-Winkler; "Гудзь" is close to "Ґудзь" in Cyrillic only)."""
        known = self._similar.get((part, name))
        if known is not None:  # a chunk asks for the same names again and again
            return known
        keys = name_keys(name)
        found = {keys.cyrillic or keys.latin}
        found |= self.by_latin[part].get(keys.latin, set())
        for latin in _close(keys.latin, self._latin_choices(part)):
            found |= self.by_latin[part][latin]
        if keys.cyrillic:
            found.update(_close(keys.cyrillic, self._key_choices(part)))
        self._similar[(part, name)] = frozenset(found)
        return self._similar[(part, name)]

    def _latin_choices(self, part: str) -> list[str]:
        choices = self._choices.get(part)
        if choices is None:
            choices = self._choices[part] = list(self.by_latin[part])
        return choices

    def _key_choices(self, part: str) -> list[str]:
        choices = self._choices.get("keys:" + part)
        if choices is None:
            choices = self._choices["keys:" + part] = list(self.counts[part])
        return choices


def _close(text: str, choices: list[str]) -> list[str]:
    matches = process.extract(
        text, choices, scorer=JaroWinkler.similarity, score_cutoff=0.8, limit=12
    )
    return [choice for choice, _similarity, _index in matches]


_CANDIDATE_COLUMNS = (
    PersonStateRow.person_id,
    PersonStateRow.surname,
    PersonStateRow.given_name,
    PersonStateRow.patronymic,
    PersonStateRow.birth_date,
    PersonStateRow.sex,
    PersonStateRow.birth_place,
)


# How long a resolver keeps the name dictionary it read. A worker runs for days, and the
# persons other workers and bulk loads register meanwhile must reach its typo-tolerant blocking
# and its name frequencies; reading the dictionary again costs a fraction of a second.
DICTIONARY_MAX_AGE_SECONDS = 300.0


# Persons of one surname key in the register above which its blocks are read around a record's
# birth date instead of whole (``_read_blocks``). A block is three birth years, about a
# twenty-fifth of a surname's bearers: up to this many, it holds about 400 persons, no more
# than the nearest each side of a date would be; reading it whole serves every record of a
# chunk with that surname at once.
WHOLE_BLOCK_MAX = 10_000


class Resolver:
    def __init__(
        self,
        *,
        thresholds: Thresholds | None = None,
        max_candidates: int = 200,
        dictionary_max_age: float = DICTIONARY_MAX_AGE_SECONDS,
        whole_block_max: int = WHOLE_BLOCK_MAX,
    ) -> None:
        self.thresholds = thresholds or Thresholds()
        self.max_candidates = max_candidates
        self.whole_block_max = whole_block_max
        self.dictionary_max_age = dictionary_max_age
        self._dictionary: NameDictionary | None = None
        self._dictionary_read_at = 0.0  # time.monotonic()
        # Filled by ``prefetch`` for a chunk of records: (kind, value) -> owner (None: nobody),
        # and the identifying fields of those owners.
        self._owners: dict[tuple[str, str], uuid.UUID | None] | None = None
        self._stored: dict[uuid.UUID, Profile] = {}
        # And the persons of the blocks the chunk's unidentified records fall in.
        self._blocks: _Blocks | None = None
        # Persons a chunk registers, not written yet (``born``): surname key -> (id, profile).
        # Every read of candidates adds them as the query would find them.
        self._newborns: dict[str, list[tuple[uuid.UUID, Profile]]] = {}

    def dictionary(self, session: Session) -> NameDictionary:
        if self._dictionary is None:
            self._dictionary = NameDictionary.load(session)
            self._dictionary_read_at = time.monotonic()
        return self._dictionary

    def registered(self, session: Session, person_id: uuid.UUID, profile: Profile) -> None:
        """A person was created: their names join the in-memory dictionary, and the chunk's
        prefetched blocks hold them as a query would now find them (a later record of the chunk
        about them must find them, as one record at a time would)."""
        if self._blocks is not None:
            row = session.execute(
                select(
                    PersonStateRow.surname_key, PersonStateRow.birth_year, *_CANDIDATE_COLUMNS
                ).where(PersonStateRow.person_id == person_id)
            ).first()
            if row is not None:
                key, _year, *candidate = row
                self._blocks.add(key, *_profile_of(candidate))
        self._add_names(profile)

    def _add_names(self, profile: Profile) -> None:
        if self._dictionary is None:
            return
        for part, name in (
            ("surname", profile.surname),
            ("given", profile.given_name),
            ("patronymic", profile.patronymic),
        ):
            if name:
                self._dictionary.add(part, name)

    def born(self, person_id: uuid.UUID, projection: Mapping[str, Any]) -> None:
        """A person the chunk registers and writes at its end (``projection``: their
        ``projection_row``): later records of the chunk find them as they would find them
        written (``registered``), from memory, until ``forget``."""
        _key, profile = _profile_of([projection[column.key] for column in _CANDIDATE_COLUMNS])
        key = projection["surname_key"]
        self._stored[person_id] = profile
        if key is not None:
            self._newborns.setdefault(key, []).append((person_id, profile))
        if self._blocks is not None:
            self._blocks.add(key, person_id, profile)
        self._add_names(profile)

    def discard_dictionary(self) -> None:
        """Read the name dictionary again when next needed: a chunk rolled back may have added
        the names of persons it did not register after all."""
        self._dictionary = None

    def prefetch(self, session: Session, subjects: Iterable[Subject]) -> None:
        """Look up at once the identifiers a chunk of records carries and their owners'
        identifying fields; ``resolve`` then reads them from memory until ``forget``. A chunk
        starts here: a name dictionary older than ``dictionary_max_age`` is read again (the
        names of the persons a chunk registers are written before the next one starts)."""
        if time.monotonic() - self._dictionary_read_at > self.dictionary_max_age:
            self._dictionary = None
        wanted = sorted({item for s in subjects for item in subject_identifiers(s)[0]})
        owners: dict[tuple[str, str], uuid.UUID | None] = dict.fromkeys(wanted)
        if wanted:
            rows = session.execute(
                select(IdentifierRow.kind, IdentifierRow.value, IdentifierRow.person_id).where(
                    pairs_in(
                        IdentifierRow.kind, IdentifierRow.value, wanted, dialect=_dialect(session)
                    ),
                    IdentifierRow.active,
                )
            )
            owners.update(((kind, value), person_id) for kind, value, person_id in rows)
        found = sorted({owner for owner in owners.values() if owner is not None})
        self._owners = owners
        self._stored = dict(
            self._profiles(
                session,
                [among(PersonStateRow.person_id, found, dialect=_dialect(session))],
                limit=None,
            )
            if found
            else []
        )
        self._blocks = self._prefetch_blocks(session, subjects, owners)

    def _prefetch_blocks(
        self,
        session: Session,
        subjects: Iterable[Subject],
        owners: dict[tuple[str, str], uuid.UUID | None],
    ) -> _Blocks | None:
        """One read of the candidates of every record that no single identifier resolves."""
        wanted = _Wanted()
        for subject in subjects:
            known = {owners.get(item) for item in subject_identifiers(subject)[0]} - {None}
            profile = subject_profile(subject)
            if len(known) == 1 or not _has_names(profile) or profile.birth_date is None:
                continue
            keys = self._block(session, profile)
            self._want(session, wanted, keys, profile.birth_date)
        if not wanted:
            return None
        return _read_blocks(session, wanted, self.max_candidates)

    def _want(self, session: Session, wanted: _Wanted, keys: set[str], born: dt.date) -> None:
        """Add the reads of a record's blocks: whole, or around its date for a surname key so
        common in the register that its blocks may hold more persons than are scored."""
        counts = self.dictionary(session).counts.get("surname", {})
        for key in keys:
            if counts.get(key, 0) > self.whole_block_max:
                wanted.near.add((key, born))
            else:
                wanted.whole.update((key, year) for year in _block_years(born))

    def identified(self, kind: str, value: str, person_id: uuid.UUID) -> None:
        """An identifier a record of the chunk is about to give ``person_id``: later records
        of the chunk carrying it find that person, as they would after the commit."""
        if self._owners is not None:
            self._owners[(kind, value)] = person_id

    def forget(self) -> None:
        self._owners = None
        self._stored = {}
        self._blocks = None
        self._newborns = {}

    def _owner(self, session: Session, kind: str, value: str) -> uuid.UUID | None:
        if self._owners is not None and (kind, value) in self._owners:
            return self._owners[(kind, value)]
        return find_person_by_identifier(session, kind, value)

    def resolve(
        self,
        session: Session,
        subject: Subject,
        *,
        rejected: frozenset[uuid.UUID] = frozenset(),
    ) -> Resolution:
        """Who ``subject`` is. ``rejected``: persons an officer found the record is not about
        (``rejections``): they are never linked to it, nor offered to an officer again. One
        who holds an identifier the record carries still keeps anyone else from being linked
        by names alone (the identifier is in question), as a second holder would."""
        profile = subject_profile(subject)
        identifiers, invalid = subject_identifiers(subject)
        owners = {
            owner
            for kind, value in identifiers
            if (owner := self._owner(session, kind, value)) is not None
        }
        if len(owners) == 1 and not owners & rejected:
            return self._by_identifier(
                session, profile, owners.pop(), identifiers, invalid, rejected
            )
        resolution = self._probabilistic(
            session,
            profile,
            forced=owners,
            invalid=invalid,
            identifiers=identifiers,
            rejected=rejected,
        )
        if len(owners) > 1:
            owned = [kind for kind, value in identifiers if self._owner(session, kind, value)]
            conflict = f"{', '.join(dict.fromkeys(owned))} name different persons"
            fields = {**resolution.fields, "conflict": list(dict.fromkeys(owned))}
            return replace(resolution, fields=fields, conflict=conflict)
        return resolution

    def _by_identifier(
        self,
        session: Session,
        profile: Profile,
        person_id: uuid.UUID,
        identifiers: list[tuple[str, str]],
        invalid: dict[str, str],
        rejected: frozenset[uuid.UUID],
    ) -> Resolution:
        fields: dict[str, Any] = {kind: "match" for kind, _ in identifiers} | invalid
        stored = self._stored.get(person_id)
        if stored is None:  # an owner the chunk gave the identifier to, or no chunk at all
            stored = stored_profile(session, person_id, self)
            if stored is not None and self._owners is not None:
                self._stored[person_id] = stored
        if stored is not None and _has_names(profile):
            # Only the total is recorded: ``score_total`` (equal to ``score``'s) skips the
            # levels that explain a probabilistic decision, a third of resolving by identifier.
            total = score_total(profile, stored, self.dictionary(session).frequencies())
            fields["names_check"] = total
            if total < 0:  # the identifier says one person, the names another
                return self._probabilistic(
                    session, profile, forced={person_id}, invalid=fields, rejected=rejected
                )
        return Resolution("link", "identifier", person_id, None, fields)

    def _probabilistic(
        self,
        session: Session,
        profile: Profile,
        *,
        forced: set[uuid.UUID],
        invalid: dict[str, Any],
        identifiers: Sequence[tuple[str, str]] = (),
        rejected: frozenset[uuid.UUID] = frozenset(),
    ) -> Resolution:
        if not _has_names(profile):
            fields = {"reason": "no usable identity", **invalid}
            passed = tuple(sorted(forced & rejected))
            return Resolution("no_link", "none", fields=fields, passed_over=passed)
        candidates = self._candidates(session, profile, forced)
        passed_over = tuple(
            sorted(person_id for person_id, _ in candidates if person_id in rejected)
        )
        if passed_over:
            candidates = [item for item in candidates if item[0] not in rejected]
            invalid = {**invalid, "rejected_by_officer": [str(p) for p in passed_over]}
        frequencies = self.dictionary(session).frequencies()
        # Ranked by the total alone (``score_total``, equal to ``score``'s); the levels that
        # explain a decision are worked out for the best candidate, and for the five an officer
        # compares when the decision is a review (only a review task shows them).
        ranked = sorted(
            (
                (score_total(profile, stored, frequencies), person_id, stored)
                for person_id, stored in candidates
            ),
            key=lambda item: -item[0],
        )
        if not ranked:
            fields = {"candidates": 0, **invalid}
            return Resolution("no_link", "probabilistic", fields=fields, passed_over=passed_over)
        _best_total, best_id, best_stored = ranked[0]
        best = score(profile, best_stored, frequencies)
        runner_up = ranked[1][0] if len(ranked) > 1 else float("-inf")
        fields = {**best.weights, "levels": best.fields, **invalid}
        thresholds = self.thresholds
        conflicting = len(forced) > 1 or bool(forced and best_id not in forced)
        if (
            best.total >= thresholds.link
            and best.total - runner_up >= thresholds.margin
            and not conflicting
        ):
            differing = self._differing(session, best_id, identifiers)
            if not differing:
                return Resolution(
                    "link", "probabilistic", best_id, best.total, fields, passed_over=passed_over
                )
            fields |= dict.fromkeys(differing, "differs")  # an officer decides
        # An identifier's holder is shown to an officer whatever the names score; not one an
        # officer has already rejected for this record.
        if best.total >= thresholds.review or forced - rejected:
            compared = [(best_id, best)] + [
                (person_id, score(profile, stored, frequencies))
                for _total, person_id, stored in ranked[1:5]
            ]
            top = [
                {"person_id": str(person_id), "score": result.total, "fields": result.fields}
                for person_id, result in compared
            ]
            return Resolution(
                "review", "probabilistic", best_id, best.total, fields, top, passed_over=passed_over
            )
        return Resolution(
            "no_link", "probabilistic", None, best.total, fields, passed_over=passed_over
        )

    def _differing(
        self, session: Session, person_id: uuid.UUID, identifiers: Sequence[tuple[str, str]]
    ) -> list[str]:
        """The kinds of lifelong identifier the record carries that the person holds, active,
        only with other values. An RNOKPP (Tax Code art. 70) and a UNZR (Law 5492-VI art. 7)
        are assigned to a person once and for life: the names and birth date of a namesake
        born the same day agree as well as the person's own, and only the identifier tells them
        apart. A document number is not one: a person holds several (a new ID card after a
        passport booklet, a lost one replaced)."""
        carried = {kind: value for kind, value in identifiers if kind in LIFELONG_IDENTIFIERS}
        if not carried:
            return []
        held: dict[str, set[str]] = defaultdict(set)
        # One statement built once (``_LIFELONG_HELD``): it runs for every record about to be
        # linked by names that carries an RNOKPP or UNZR the register does not know (an RNOKPP
        # just assigned, most often), and building a select for each cost more than the query.
        for kind, value in _core(session).execute(_LIFELONG_HELD, {"person_id": person_id}):
            held[kind].add(value)
        return [kind for kind, value in carried.items() if held[kind] and value not in held[kind]]

    def candidates(self, session: Session, profile: Profile) -> list[tuple[uuid.UUID, Profile]]:
        """Stored persons that may be ``profile`` (blocking only, unscored)."""
        return self._candidates(session, profile, set())

    def _candidates(
        self, session: Session, profile: Profile, forced: set[uuid.UUID]
    ) -> list[tuple[uuid.UUID, Profile]]:
        keys = self._block(session, profile)
        born = profile.birth_date
        found: dict[uuid.UUID, Profile]
        if born is None:  # no block by date: the keys' persons, by id
            read = self._profiles(session, [PersonStateRow.surname_key.in_(sorted(keys))])
            found = dict(self._with_newborns(read, keys))
        else:
            blocks = self._blocks
            if blocks is None or not blocks.covers(keys, born):
                # Read as a chunk's prefetch reads, with the chunk's unwritten newborns added
                # as that query would now find them: both paths take the same candidates.
                wanted = _Wanted()
                self._want(session, wanted, keys, born)
                blocks = _read_blocks(session, wanted, self.max_candidates)
                for key in keys:
                    for person_id, newborn in self._newborns.get(key, ()):
                        blocks.add(key, person_id, newborn)
            found = dict(blocks.candidates(keys, born, self.max_candidates))
        if forced:
            # Held in memory: the chunk's prefetched owners and its unwritten newborns.
            held = {person_id for person_id in forced if person_id in self._stored}
            found.update((person_id, self._stored[person_id]) for person_id in sorted(held))
            if forced - held:
                others = sorted(forced - held)
                found.update(self._profiles(session, [PersonStateRow.person_id.in_(others)]))
        return list(found.items())

    def _with_newborns(
        self, read: list[tuple[uuid.UUID, Profile]], keys: set[str]
    ) -> list[tuple[uuid.UUID, Profile]]:
        """The candidates a query by surname keys alone reads, with the chunk's unwritten
        newborns it would find among them, in its order (by id) and within its limit."""
        newborns = [item for key in keys for item in self._newborns.get(key, ())]
        if not newborns:
            return read
        return _nearest_first(read + newborns, None, self.max_candidates)

    def _block(self, session: Session, profile: Profile) -> set[str]:
        """Blocking: the surname keys that may be the record's surname (or its given name, for
        swapped name order); with a birth date, the block's years are ``_block_years``."""
        dictionary = self.dictionary(session)
        keys: set[str] = set()
        for name in (profile.surname, profile.given_name):
            if name:
                keys |= dictionary.similar_keys("surname", name)
        return keys

    def _profiles(
        self,
        session: Session,
        conditions: list[Any],
        *,
        limit: int | None = -1,
    ) -> list[tuple[uuid.UUID, Profile]]:
        # By id, as ``_nearest_first`` orders candidates without a birth date.
        query = select(*_CANDIDATE_COLUMNS).where(*conditions).order_by(PersonStateRow.person_id)
        query = query.limit(self.max_candidates if limit == -1 else limit)
        return [_profile_of(row) for row in _core(session).execute(query).all()]


def _profile_of(row: Any) -> tuple[uuid.UUID, Profile]:
    person_id, surname, given_name, patronymic, birth_date, sex, birth_place = row
    profile = Profile(
        surname=surname,
        given_name=given_name,
        patronymic=patronymic,
        birth_date=birth_date,
        sex=sex,
        birth_place=birth_place,
    )
    return person_id, profile


@dataclass
class _Wanted:
    """The reads of some records' blocks (``Resolver._want``): (surname key, birth year) read
    whole, and (surname key, birth date) read around the date."""

    whole: set[tuple[str, int]] = field(default_factory=set)
    near: set[tuple[str, dt.date]] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.whole or self.near)


@dataclass
class _Blocks:
    """Persons of blocks (a surname key and the birth years a year either side of a date),
    read for some records (``_read_blocks``): a block whole, or, for a (key, date) read around
    the date, every person of the block born on the date or on a typical slip of it and the
    ``side`` nearest by date each side of it (ties by id). Either way, whatever else they hold,
    the first ``side`` of the whole block in the order of ``_nearest_first`` are among them."""

    wanted: _Wanted
    persons: dict[str, dict[uuid.UUID, Profile]] = field(default_factory=dict)
    keys: set[str] = field(init=False)  # the surname keys read

    def __post_init__(self) -> None:
        self.keys = {key for key, _ in self.wanted.whole} | {key for key, _ in self.wanted.near}

    def add(self, key: str | None, person_id: uuid.UUID, profile: Profile) -> None:
        """A person the reads would find now (registered since). A block holding more
        persons than were read can only gain members, which the cut orders among them."""
        if key is not None and key in self.keys:
            self.persons.setdefault(key, {})[person_id] = profile

    def covers(self, keys: set[str], born: dt.date) -> bool:
        return all(
            (key, born) in self.wanted.near
            or all((key, year) in self.wanted.whole for year in _block_years(born))
            for key in keys
        )

    def candidates(
        self, keys: set[str], born: dt.date, limit: int
    ) -> list[tuple[uuid.UUID, Profile]]:
        """The blocks' persons, nearest first (``_nearest_first``), at most ``limit``."""
        first, last = _block_dates(born)
        found = [
            (person_id, profile)
            for key in keys
            for person_id, profile in self.persons.get(key, {}).items()
            if profile.birth_date is not None and first <= profile.birth_date <= last
        ]
        return _nearest_first(found, born, limit)


def _block_years(born: dt.date) -> range:
    """The birth years of a record's block: its own and one either side."""
    return range(max(born.year - 1, dt.MINYEAR), min(born.year + 1, dt.MAXYEAR) + 1)


def _block_dates(born: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of a record's block (``_block_years``)."""
    years = _block_years(born)
    return dt.date(years[0], 1, 1), dt.date(years[-1], 12, 31)


def _read_blocks(session: Session, wanted: _Wanted, side: int) -> _Blocks:
    """Read the persons of the blocks ``wanted`` (see ``_Blocks``): whole blocks in one
    query; around a date, those born on a typical slip of it by index lookups and the
    ``side`` nearest each side of it by two ordered ranges of (surname key, birth date).

    A national register's most common surnames put thousands of persons in a block, and
    reading them all for every record without a usable identifier grew intake's cost with the
    register; read around a date, a block costs at most twice ``side`` persons whatever its
    size."""
    blocks = _Blocks(wanted)
    connection = _core(session)
    dialect = _dialect(session)
    rows: list[Any] = []
    if wanted.whole:
        rows += connection.execute(
            select(PersonStateRow.surname_key, *_CANDIDATE_COLUMNS).where(
                pairs_in(PersonStateRow.surname_key, PersonStateRow.birth_year, wanted.whole,
                         dialect=dialect)
            )
        ).all()  # fmt: skip
    near = sorted(wanted.near)
    slips = {(key, day) for key, born in near for day in typical_errors(born)}
    if slips:
        rows += connection.execute(
            select(PersonStateRow.surname_key, *_CANDIDATE_COLUMNS).where(
                pairs_in(PersonStateRow.surname_key, PersonStateRow.birth_date, slips,
                         dialect=dialect)
            )
        ).all()  # fmt: skip
    if near and dialect == "postgresql":
        rows += connection.execute(
            _NEAREST_SQL,
            {
                "keys": [key for key, _born in near],
                "borns": [born for _key, born in near],
                "firsts": [_block_dates(born)[0] for _key, born in near],
                "lasts": [_block_dates(born)[1] for _key, born in near],
                "side": side,
            },
        ).all()
    elif near:  # the same reads, one (key, date) at a time
        for key, born in near:
            first, last = _block_dates(born)
            in_block = PersonStateRow.surname_key == key
            rows += connection.execute(
                select(PersonStateRow.surname_key, *_CANDIDATE_COLUMNS)
                .where(in_block, PersonStateRow.birth_date.between(born, last))
                .order_by(PersonStateRow.birth_date, PersonStateRow.person_id)
                .limit(side)
            ).all()
            before = (
                in_block,
                PersonStateRow.birth_date >= first,
                PersonStateRow.birth_date < born,
            )
            dates = (
                select(PersonStateRow.birth_date)
                .where(*before)
                .order_by(PersonStateRow.birth_date.desc())
                .limit(side)
                .subquery()
            )
            rows += connection.execute(
                select(PersonStateRow.surname_key, *_CANDIDATE_COLUMNS).where(
                    *before,
                    PersonStateRow.birth_date
                    >= select(func.min(dates.c.birth_date)).scalar_subquery(),
                )
            ).all()
    for key, *candidate in rows:
        person_id, profile = _profile_of(candidate)
        blocks.persons.setdefault(key, {})[person_id] = profile
    return blocks


_CANDIDATE_NAMES = ", ".join(column.key for column in _CANDIDATE_COLUMNS)
# Each (key, date) wanted: the ``side`` nearest on or after the date (an ordered range of
# ``ix_person_state_surname_birth``, ties by id as the index orders them), then those before
# it down to the ``side``-th nearest date before it, every person of that date included: read
# backwards, the index orders ties by id descending, and the cut takes them ascending.
_NEAREST_SQL = text(
    f"""
    SELECT p.surname_key, {_CANDIDATE_NAMES}
    FROM unnest(CAST(:keys AS text[]), CAST(:borns AS date[]), CAST(:firsts AS date[]),
                CAST(:lasts AS date[])) AS q(key, born, lo, hi)
    CROSS JOIN LATERAL (
        (SELECT surname_key, {_CANDIDATE_NAMES} FROM person_state AS s
         WHERE s.surname_key = q.key AND s.birth_date >= q.born AND s.birth_date <= q.hi
         ORDER BY s.birth_date, s.person_id LIMIT :side)
        UNION ALL
        (SELECT surname_key, {_CANDIDATE_NAMES} FROM person_state AS s
         WHERE s.surname_key = q.key AND s.birth_date < q.born
           AND s.birth_date >= GREATEST(q.lo, (
               SELECT min(d.birth_date) FROM (
                   SELECT t.birth_date FROM person_state AS t
                   WHERE t.surname_key = q.key AND t.birth_date < q.born
                     AND t.birth_date >= q.lo
                   ORDER BY t.birth_date DESC LIMIT :side) AS d)))
    ) AS p
    """
)


def _nearest_first(
    candidates: list[tuple[uuid.UUID, Profile]], born: dt.date | None, limit: int
) -> list[tuple[uuid.UUID, Profile]]:
    """The order candidates are cut in (``_Blocks.candidates``, the newborns a query would
    find; ``Resolver._profiles`` in SQL): born that day first, then on a date that is a
    typical error for it (``matching.typical_errors``), then by days apart, then by id; by id
    alone without a birth date.

    A national register's common surname holds thousands of persons a year: cut by id after
    the exact day, the person a record with a slip in the date is about (a day off, day and
    month swapped, a digit mistyped) was left out unless the block was small."""
    if born is None:
        return sorted(candidates, key=lambda item: item[0])[:limit]
    slips = typical_errors(born)
    return sorted(candidates, key=lambda item: _nearness(item[1], item[0], born, slips))[:limit]


# Days apart of a candidate without a birth date: after every dated one (SQL: ``coalesce``).
NO_DATE_DAYS = 1_000_000


def _nearness(
    profile: Profile, person_id: uuid.UUID, born: dt.date, slips: frozenset[dt.date]
) -> tuple[int, int, uuid.UUID]:
    stored = profile.birth_date
    if stored is None:
        return (2, NO_DATE_DAYS, person_id)
    rank = 0 if stored == born else 1 if stored in slips else 2
    return (rank, abs((stored - born).days), person_id)


def _has_names(profile: Profile) -> bool:
    return bool(profile.surname and profile.given_name)


def stored_profile(
    session: Session, person_id: uuid.UUID, resolver: Resolver | None = None
) -> Profile | None:
    """The identifying fields of a stored person, as the matcher compares them."""
    found = (resolver or Resolver())._profiles(session, [PersonStateRow.person_id == person_id])
    return found[0][1] if found else None


def _core(session: Session) -> Connection:
    """The session's connection, for plain row queries: the ORM's statement and row handling
    cost more CPU than the queries. What the session holds unwritten (a registered person) is
    flushed first, as ``session.execute`` would."""
    session.flush()
    return session.connection()


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name
