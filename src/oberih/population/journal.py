"""Turning a person's generated events into complete journal facts, in recorded order.

World time (``valid_from``) is when a thing became true; register time (``recorded_at``) is when
the register learned it. Events before the register's initial load (``load_day``) are recorded
during that load, in one batch per person; later events arrive from their source after a
delay: usually within two days (Trembita exchange), sometimes weeks, rarely months (late
records). Nothing is recorded on or after the reference date, and the identity fact is always a
person's first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from random import Random
from typing import Any
from uuid import UUID, SafeUUID

from oberih.persons.facts import Fact

SECONDS_PER_DAY = 86_400
_ACTOR = "system:generator"
_VERSION_MASK = ~(0xF000 << 64) & ~(0xC000 << 48)
_VERSION_BITS = (0x4000 << 64) | (0x8000 << 48)

# Legal basis of each kind of record, as cited on the fact (short form).
LEGAL_BASIS = {
    "birth": "Law 2398-VI (civil status acts)",
    "marriage": "Law 2398-VI (civil status acts); Family Code art. 21",
    "death": "Law 2398-VI (civil status acts)",
    "guardianship": "Civil Code arts. 55-79 (guardianship)",
    "care": "Law 3543-XII art. 23 (constant care of a relative)",
    "rnokpp": "Tax Code art. 70",
    "document": "Law 5492-VI (demographic register)",
    "address": "Law 1871-IX (residence registration)",
    "idp": "CMU Resolution 509 of 01.10.2014 (IDP registration)",
    "contact": "Law 3633-IX (duty to update registration data)",
    "education": "Law 1556-VII (higher education; EDEBO)",
    "employment": "Law 2464-VI (single social contribution)",
    "disability": "CMU Resolution 1317 of 03.12.2009",
    "medical": "MoD Order 402 of 14.08.2008 (as amended)",
    "registration": "CMU Resolution 1487 of 30.12.2022",
    "service": "Law 2232-XII (military duty and service)",
    "deferral": "Law 3543-XII art. 23",
    "reservation": "CMU Resolution 76 of 27.01.2023",
    "border": "Law 1710-VI (border control)",
}


def new_uuid(rng: Random) -> UUID:
    """A version-4 UUID drawn from the seeded generator (deterministic, unlike uuid4)."""
    return uuid_from_int((rng.getrandbits(128) & _VERSION_MASK) | _VERSION_BITS)


def uuid_from_int(
    value: int,
    _new: Any = object.__new__,
    _set: Any = object.__setattr__,
    _safe: SafeUUID = SafeUUID.unknown,
) -> UUID:
    """``UUID(int=value)`` without its range checks, which cost a third of the time on a path
    taken ten million times per million persons; ``value`` is always a valid 128-bit int."""
    made: UUID = _new(UUID)
    _set(made, "int", value)
    _set(made, "is_safe", _safe)
    return made


_fromtimestamp = dt.datetime.fromtimestamp
_UTC = dt.UTC
_UNIX_EPOCH_SECONDS = dt.date(1970, 1, 1).toordinal() * SECONDS_PER_DAY


@dataclass(slots=True)
class Clock:
    """When facts reach the register; shared by every person of one generation run."""

    rng: Random
    seed: int
    load_day: int  # ordinal of the register's initial load
    reference_day: int  # ordinal of the reference date; nothing is recorded from then on
    source_counters: dict[str, int] = field(default_factory=dict)
    prefixes: dict[str, str] = field(default_factory=dict)
    cap: int = 0  # the latest recorded moment: an hour before the reference date begins

    def __post_init__(self) -> None:
        self.cap = self.reference_day * SECONDS_PER_DAY - 3_600

    dates: dict[int, dt.date] = field(default_factory=dict)

    def delay(self, speed: str) -> int:
        """Seconds between an event and its arrival, by how fast its source reports."""
        random = self.rng.random
        if speed == "border":  # checkpoints report online
            return 30 + int(random() * 3_570)
        if speed == "birth":  # births are registered within a month
            return SECONDS_PER_DAY + int(random() * 29 * SECONDS_PER_DAY)
        draw = random()
        if draw < 0.85:
            return 600 + int(random() * (2 * SECONDS_PER_DAY - 600))
        if draw < 0.97:
            return 2 * SECONDS_PER_DAY + int(random() * 28 * SECONDS_PER_DAY)
        return 30 * SECONDS_PER_DAY + int(random() * 150 * SECONDS_PER_DAY)

    def prefix(self, source: str) -> str:
        """Record ids of a source are "<source>-<seed>-<n>", n counting from 1 (``facts``)."""
        prefix = self.prefixes[source] = f"{source}-{self.seed}-"
        return prefix

    def date(self, day: int) -> dt.date:
        """The date of an ordinal, from a bounded cache (dates are shared, immutable)."""
        date = self.dates.get(day)
        if date is None:
            if len(self.dates) > 100_000:
                self.dates.clear()
            date = self.dates[day] = dt.date.fromordinal(day)
        return date


class PersonJournal:
    """Collects one person's facts as they are generated, then orders and completes them."""

    __slots__ = ("_clock", "_identity_at", "_load_at", "_pending", "person_id")

    def __init__(self, clock: Clock, person_id: UUID, load_at: int) -> None:
        self._clock = clock
        self._load_at = load_at  # this person's moment in the initial load (seconds)
        self._identity_at = 0
        self._pending: list[tuple[int, int, str, dict[str, Any], str, str, int, int | None]] = []
        self.person_id = person_id

    def add(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        source: str,
        basis: str,
        valid_from: int,
        valid_to: int | None = None,
        speed: str = "normal",
    ) -> None:
        """Record an event of world day ``valid_from`` (ordinal); payload in canonical form."""
        clock = self._clock
        pending = self._pending
        if valid_from >= clock.reference_day:
            raise ValueError(f"a generated {kind} fact would start on or after the reference date")
        if valid_from < clock.load_day:
            at = self._load_at + len(pending)
        else:
            at = valid_from * SECONDS_PER_DAY + clock.delay(speed)
            if at > clock.cap:
                at = clock.cap
        if not pending:
            self._identity_at = at
        elif at <= self._identity_at:
            at = self._identity_at + 1  # identity always comes first
        pending.append((at, len(pending), kind, payload, source, basis, valid_from, valid_to))

    def facts(self, rng: Random) -> list[Fact]:
        """The facts in recorded order, seq 1..n, recorded_at strictly increasing."""
        pending = self._pending
        pending.sort()
        clock, person_id = self._clock, self.person_id
        counters, prefixes, dates = clock.source_counters, clock.prefixes, clock.dates
        date, bits = clock.date, rng.getrandbits
        facts: list[Fact] = []
        append = facts.append
        previous = -1
        for seq, (at, _, kind, payload, source, basis, valid_from, valid_to) in enumerate(
            pending, start=1
        ):
            if at <= previous:
                at = previous + 1
            previous = at
            number = counters[source] = counters.get(source, 0) + 1
            prefix = prefixes.get(source) or clock.prefix(source)
            append(
                Fact(
                    uuid_from_int((bits(128) & _VERSION_MASK) | _VERSION_BITS),
                    person_id,
                    seq,
                    kind,
                    payload,
                    _fromtimestamp(at - _UNIX_EPOCH_SECONDS, _UTC),
                    source,
                    prefix + str(number),
                    LEGAL_BASIS[basis],
                    _ACTOR,
                    dates.get(valid_from) or date(valid_from),
                    None if valid_to is None else dates.get(valid_to) or date(valid_to),
                )
            )
        return facts
