"""The state of a person: a pure fold of their facts (ARCHITECTURE decision 3).

``fold(facts)`` gives the register's current picture; ``fold(facts, valid_at=V, known_at=T)``
answers "what was true on world date V, as the register knew it at time T" (bitemporal).

Rules of the fold:
- Only facts recorded at or before ``known_at`` count (register time).
- A fact superseded by a later-recorded counted fact (a correction or a retraction) does not count.
- Single-valued kinds (identity, death, each address kind, military registration, the latest
  medical-commission decision) take the counted fact with the latest ``valid_from``; ties go to the
  later-recorded fact. Contact fields fold one by one (a fact giving only a phone keeps the email).
- Interval kinds (education, employment, disability, deferral, reservation, service, family) keep
  every counted fact; with ``valid_at`` only those true on that day.
- Identifiers fold per (kind, value): the latest fact gives its status.

Every entry carries the fact it came from, so every field can name its source (provenance).

``fold_onto(state, facts)`` continues a stored current state (``state_from_json`` of the
projection) with facts appended after it, giving what ``fold`` of the whole journal gives
without reading the journal again; it accepts only facts for which that is proven (see there).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from oberih.persons.facts import Fact, FactKind

_SINGLE_KINDS = {
    FactKind.identity: "identity",
    FactKind.death: "death",
    FactKind.military_registration: "military_registration",
    FactKind.medical_decision: "medical_decision",
}
_LIST_KINDS = {
    FactKind.family: "family",
    FactKind.education: "education",
    FactKind.employment: "employment",
    FactKind.disability: "disability",
    FactKind.deferral: "deferrals",
    FactKind.reservation: "reservations",
    FactKind.service: "service",
}
_MIN_DAY = dt.date.min


@dataclass(frozen=True, slots=True)
class Entry:
    """A value in the state together with the fact that established it."""

    fact_id: UUID
    source: str
    source_record_id: str
    recorded_at: dt.datetime
    valid_from: dt.date | None
    valid_to: dt.date | None
    data: dict[str, Any]
    # The document ``from_json`` read it from, written back as it is by ``to_json``: a stored
    # state folded onto (``fold_onto``) keeps most of its entries, and formatting them again
    # was a twentieth of intake's CPU. Not part of the entry's value.
    document: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, fact: Fact, data: dict[str, Any] | None = None) -> Entry:
        return cls(
            fact_id=fact.id,
            source=fact.source,
            source_record_id=fact.source_record_id,
            recorded_at=fact.recorded_at,
            valid_from=fact.valid_from,
            valid_to=fact.valid_to,
            data=fact.payload if data is None else data,
        )

    def to_json(self) -> dict[str, Any]:
        if self.document is not None:
            return self.document
        return {
            "fact_id": str(self.fact_id),
            "source": self.source,
            "source_record_id": self.source_record_id,
            "recorded_at": self.recorded_at.isoformat(),
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "data": self.data,
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Entry:
        """The entry ``to_json`` wrote."""
        valid_from, valid_to = document["valid_from"], document["valid_to"]
        return cls(
            fact_id=UUID(document["fact_id"]),
            source=document["source"],
            source_record_id=document["source_record_id"],
            recorded_at=dt.datetime.fromisoformat(document["recorded_at"]),
            valid_from=dt.date.fromisoformat(valid_from) if valid_from else None,
            valid_to=dt.date.fromisoformat(valid_to) if valid_to else None,
            data=document["data"],
            document=document,
        )

    def is_true_on(self, day: dt.date) -> bool:
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_to is None or day <= self.valid_to


@dataclass(slots=True)
class PersonState:
    person_id: UUID
    version: int = 0
    last_recorded_at: dt.datetime | None = None
    identity: Entry | None = None
    death: Entry | None = None
    registered_address: Entry | None = None
    actual_address: Entry | None = None
    phone: Entry | None = None
    email: Entry | None = None
    military_registration: Entry | None = None
    medical_decision: Entry | None = None
    identifiers: list[Entry] = field(default_factory=list)
    family: list[Entry] = field(default_factory=list)
    education: list[Entry] = field(default_factory=list)
    employment: list[Entry] = field(default_factory=list)
    disability: list[Entry] = field(default_factory=list)
    deferrals: list[Entry] = field(default_factory=list)
    reservations: list[Entry] = field(default_factory=list)
    service: list[Entry] = field(default_factory=list)
    border_crossings: list[Entry] = field(default_factory=list)

    # Convenience views used by projections, search and rules.
    def identity_field(self, name: str) -> Any:
        return self.identity.data.get(name) if self.identity else None

    def active_identifier(self, kind: str) -> str | None:
        for entry in self.identifiers:
            if entry.data["identifier_kind"] == kind and entry.data.get("status") == "active":
                return str(entry.data["value"])
        return None

    @property
    def region(self) -> str | None:
        return self.registered_address.data.get("region") if self.registered_address else None

    @property
    def office_code(self) -> str | None:
        if self.military_registration and self.military_registration.data.get("office_code"):
            return str(self.military_registration.data["office_code"])
        if self.registered_address:
            return self.registered_address.data.get("office_code")
        return None

    @property
    def category(self) -> str | None:
        return self.military_registration.data["category"] if self.military_registration else None

    @property
    def date_of_death(self) -> dt.date | None:
        if self.death is None:
            return None
        return dt.date.fromisoformat(self.death.data["date_of_death"])

    @property
    def last_border_crossing(self) -> Entry | None:
        return self.border_crossings[-1] if self.border_crossings else None

    def to_json(self) -> dict[str, Any]:
        """The state with provenance, as stored in the projection and shown by the API."""
        out: dict[str, Any] = {
            "person_id": str(self.person_id),
            "version": self.version,
            "last_recorded_at": self.last_recorded_at.isoformat()
            if self.last_recorded_at
            else None,
        }
        for name in _SINGLE_SLOTS:
            entry: Entry | None = getattr(self, name)
            out[name] = entry.to_json() if entry else None
        for name in _LIST_SLOTS:
            out[name] = [entry.to_json() for entry in getattr(self, name)]
        return out


_SINGLE_SLOTS = (
    "identity",
    "death",
    "registered_address",
    "actual_address",
    "phone",
    "email",
    "military_registration",
    "medical_decision",
)
_LIST_SLOTS = (
    "identifiers",
    "family",
    "education",
    "employment",
    "disability",
    "deferrals",
    "reservations",
    "service",
    "border_crossings",
)


def state_from_json(document: dict[str, Any]) -> PersonState:
    """The state ``PersonState.to_json`` wrote (the projection's ``state`` column)."""
    last = document["last_recorded_at"]
    state = PersonState(
        person_id=UUID(document["person_id"]),
        version=document["version"],
        last_recorded_at=dt.datetime.fromisoformat(last) if last else None,
    )
    for name in _SINGLE_SLOTS:
        entry = document[name]
        setattr(state, name, Entry.from_json(entry) if entry else None)
    for name in _LIST_SLOTS:
        setattr(state, name, [Entry.from_json(entry) for entry in document[name]])
    return state


def counted_facts(facts: Iterable[Fact], *, known_at: dt.datetime | None = None) -> list[Fact]:
    """Facts known at ``known_at``, in register order, less those superseded by then."""
    known = [f for f in facts if known_at is None or f.recorded_at <= known_at]
    known.sort(key=lambda f: (f.recorded_at, f.seq))
    superseded = {f.supersedes_id for f in known if f.supersedes_id is not None}
    return [f for f in known if f.id not in superseded and f.kind != FactKind.retraction]


def fold(
    person_id: UUID,
    facts: Iterable[Fact],
    *,
    valid_at: dt.date | None = None,
    known_at: dt.datetime | None = None,
) -> PersonState:
    """Fold a person's facts into their state (pure: no I/O, no clock)."""
    facts = list(facts)
    known = [f for f in facts if known_at is None or f.recorded_at <= known_at]
    state = PersonState(person_id=person_id)
    if known:
        state.version = max(f.seq for f in known)
        state.last_recorded_at = max(f.recorded_at for f in known)
    singles: dict[str, Fact] = {}
    identifiers: dict[tuple[str, str], Fact] = {}
    for fact in counted_facts(known):
        if valid_at is not None and not fact.is_true_on(valid_at):
            continue
        kind = fact.kind
        if kind in _LIST_KINDS:
            getattr(state, _LIST_KINDS[FactKind(kind)]).append(Entry.of(fact))
        elif kind == FactKind.border_crossing:
            state.border_crossings.append(Entry.of(fact))
        elif kind == FactKind.identifier:
            key = (fact.payload["identifier_kind"], fact.payload["value"])
            identifiers[key] = _later(identifiers.get(key), fact)
        elif kind == FactKind.address:
            slot = f"{fact.payload['address_kind']}_address"
            singles[slot] = _later(singles.get(slot), fact)
        elif kind == FactKind.contact:
            for name in ("phone", "email"):
                if fact.payload.get(name) is not None:
                    singles[name] = _later(singles.get(name), fact)
        elif kind in _SINGLE_KINDS:
            slot = _SINGLE_KINDS[FactKind(kind)]
            singles[slot] = _later(singles.get(slot), fact)
    for slot, fact in singles.items():
        data = {"value": fact.payload[slot]} if slot in ("phone", "email") else None
        setattr(state, slot, Entry.of(fact, data))
    state.identifiers = [Entry.of(f) for f in identifiers.values()]
    _order(state)
    return state


def can_fold_onto(state: PersonState, facts: Iterable[Fact]) -> bool:
    """Whether ``fold_onto(state, facts)`` is the fold of the whole journal: ``facts`` come
    after every fact ``state`` folds in register order (recorded at or after its last one,
    with later sequence numbers, in order) and none of them supersedes or retracts a fact."""
    last_recorded_at, last_seq = state.last_recorded_at, state.version
    for fact in facts:
        if fact.supersedes_id is not None or fact.kind == FactKind.retraction:
            return False
        if fact.seq <= last_seq:
            return False
        if last_recorded_at is not None and fact.recorded_at < last_recorded_at:
            return False
        last_recorded_at, last_seq = fact.recorded_at, fact.seq
    return True


def fold_onto(state: PersonState, facts: Iterable[Fact]) -> PersonState:
    """``fold(person_id, journal + facts)``, given ``state == fold(person_id, journal)``,
    without the journal (intake folds a person's new facts onto their stored projection).

    Only for facts that ``can_fold_onto`` accepts (``ValueError`` otherwise): then every new
    fact comes last in register order and supersedes nothing, so the old facts count as before,
    and ``fold``'s steps reduce to these: list kinds gain an entry (lists are stably sorted in
    world order, old entries before new ones on a tie, as ``fold`` orders them); a single-valued
    slot or an identifier's (kind, value) is taken by a new fact whose ``valid_from`` is not
    earlier than its holder's (``_later``: the new fact is the later-recorded one on a tie).
    The tests check it against ``fold`` on generated histories."""
    facts = list(facts)
    if not can_fold_onto(state, facts):
        raise ValueError("these facts need the whole journal folded (fold)")
    folded = replace(state)
    for name in _LIST_SLOTS:
        setattr(folded, name, list(getattr(state, name)))
    identifiers = {
        (entry.data["identifier_kind"], entry.data["value"]): entry for entry in folded.identifiers
    }
    for fact in facts:
        folded.version = fact.seq
        folded.last_recorded_at = fact.recorded_at
        kind = fact.kind
        if kind in _LIST_KINDS:
            getattr(folded, _LIST_KINDS[FactKind(kind)]).append(Entry.of(fact))
        elif kind == FactKind.border_crossing:
            folded.border_crossings.append(Entry.of(fact))
        elif kind == FactKind.identifier:
            key = (fact.payload["identifier_kind"], fact.payload["value"])
            if _takes(identifiers.get(key), fact):
                identifiers[key] = Entry.of(fact)
        elif kind == FactKind.address:
            _take(folded, f"{fact.payload['address_kind']}_address", fact)
        elif kind == FactKind.contact:
            for name in ("phone", "email"):
                if fact.payload.get(name) is not None:
                    _take(folded, name, fact, {"value": fact.payload[name]})
        elif kind in _SINGLE_KINDS:
            _take(folded, _SINGLE_KINDS[FactKind(kind)], fact)
    folded.identifiers = list(identifiers.values())
    _order(folded)
    return folded


def _takes(holder: Entry | None, fact: Fact) -> bool:
    return holder is None or (fact.valid_from or _MIN_DAY) >= (holder.valid_from or _MIN_DAY)


def _take(state: PersonState, slot: str, fact: Fact, data: dict[str, Any] | None = None) -> None:
    if _takes(getattr(state, slot), fact):
        setattr(state, slot, Entry.of(fact, data))


def _later(current: Fact | None, candidate: Fact) -> Fact:
    """The fact that wins a single-valued slot: latest world start, then latest recorded."""
    if current is None:
        return candidate
    if (candidate.valid_from or _MIN_DAY, candidate.recorded_at, candidate.seq) >= (
        current.valid_from or _MIN_DAY,
        current.recorded_at,
        current.seq,
    ):
        return candidate
    return current


def _world_order(entry: Entry) -> tuple[dt.date, dt.datetime]:
    return (entry.valid_from or _MIN_DAY, entry.recorded_at)


def _order(state: PersonState) -> None:
    # Lists are shown in world order so that histories read chronologically.
    for name in (*_LIST_KINDS.values(), "border_crossings"):
        getattr(state, name).sort(key=_world_order)
    state.identifiers.sort(key=lambda e: (e.data["identifier_kind"], e.data["value"]))
