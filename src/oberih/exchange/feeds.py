"""Synthetic feeds with ground truth: what each source register would send about a generated
population, with the faults real feeds have, and which person each message is really about.

Pure (no I/O): the same population, seed and rates give the same feed. A share of the persons is
*held out* of the register: the civil status register announces each with a birth message,
which must create them, and every later message about them must find that new person.

Faults (each drawn per message at its rate): ``typo`` (a letter substituted, dropped, doubled
or two swapped in a name), ``transliteration`` (names in an older or Russian-style Latin
spelling, as on old documents), ``swapped_names`` (surname and given name in each other's
place), ``missing_identifiers``, ``wrong_check_digit`` (an RNOKPP with a mistyped digit),
``birth_date_error`` (day and month swapped, or one day off), ``duplicate`` (the same message
sent twice), ``late`` (delivered weeks later, out of order), ``conflicting`` (the record id sent
again with other content), ``malformed`` (a line that is not JSON).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from random import Random
from typing import Any

from oberih.names import to_latin, to_latin_variants
from oberih.persons.facts import Fact
from oberih.population.models import GeneratedPerson

FAULTS = (
    "typo",
    "transliteration",
    "swapped_names",
    "missing_identifiers",
    "wrong_check_digit",
    "birth_date_error",
    "duplicate",
    "late",
    "conflicting",
    "malformed",
)


@dataclass(frozen=True, slots=True)
class FaultRates:
    typo: float = 0.03
    transliteration: float = 0.04
    swapped_names: float = 0.01
    missing_identifiers: float = 0.15
    wrong_check_digit: float = 0.02
    birth_date_error: float = 0.02
    duplicate: float = 0.02
    late: float = 0.05
    conflicting: float = 0.005
    malformed: float = 0.005

    def rate(self, fault: str) -> float:
        value: float = getattr(self, fault)
        return value

    def with_rates(self, settings: Iterable[str]) -> FaultRates:
        """These rates with some changed, each given as ``FAULT=RATE`` (a share from 0 to 1),
        as the command line takes them; ``ValueError`` names the setting that is wrong."""
        changed: dict[str, float] = {}
        for setting in settings:
            fault, sep, text = setting.partition("=")
            fault = fault.strip()
            if not sep or fault not in FAULTS:
                raise ValueError(
                    f"{setting!r}: expected FAULT=RATE, FAULT one of {', '.join(FAULTS)}"
                )
            try:
                rate = float(text)
            except ValueError:
                raise ValueError(f"{setting!r}: the rate is not a number") from None
            if not 0.0 <= rate <= 1.0:  # also refuses nan
                raise ValueError(f"{setting!r}: the rate is a share from 0 to 1")
            changed[fault] = rate
        return replace(self, **changed)


@dataclass(frozen=True, slots=True)
class FeedRecord:
    """One line of a source's feed and its ground truth."""

    source: str
    day: dt.date  # the day the source sends it (batches are per source and day)
    record_id: str
    line: str
    truth: uuid.UUID  # the population person the message is really about
    faults: tuple[str, ...]
    creates_person: bool = False

    def truth_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "day": self.day.isoformat(),
            "source_record_id": self.record_id,
            "truth_person_id": str(self.truth),
            "faults": list(self.faults),
            "creates_person": self.creates_person,
        }


@dataclass
class Feed:
    records: list[FeedRecord] = field(default_factory=list)
    held_out: set[uuid.UUID] = field(default_factory=set)


# Which identifiers each register knows about its subjects.
_KNOWS = {
    "civil_status": ("rnokpp",),
    "demographic": ("unzr", "document"),
    "tax": ("rnokpp",),
    "education": ("rnokpp",),
    "health": ("rnokpp",),
    "border": ("document",),
    "social": ("rnokpp", "unzr"),
    "employer": ("rnokpp",),
}
_SOURCE_ORDER = {source: index for index, source in enumerate(_KNOWS)}
_LATE_DAYS = (14, 60)


def generate_feed(
    people: Iterable[GeneratedPerson],
    *,
    seed: int,
    rates: FaultRates | None = None,
    held_out_share: float = 0.05,
    messages_per_person: int = 6,
) -> Feed:
    """The feeds of all sources about ``people``, ordered by sending day and source."""
    rates = rates or FaultRates()
    rng = Random(seed)  # noqa: S311 - synthetic data, reproducible by seed
    feed = Feed()
    for person in people:
        held_out = rng.random() < held_out_share
        if held_out:
            feed.held_out.add(person.person_id)
        feed.records.extend(_person_feed(person, rng, rates, held_out, messages_per_person))
    feed.records.sort(key=lambda r: (r.day, not r.creates_person, _SOURCE_ORDER[r.source]))
    return feed


@dataclass
class _Known:
    """A person as the registers know them: identity and identifiers."""

    identity: dict[str, Any]
    identifiers: dict[str, tuple[str, str]]  # rnokpp/unzr/document -> (kind, value)


def _known(person: GeneratedPerson) -> _Known | None:
    identity = next((f for f in person.facts if f.kind == "identity"), None)
    if identity is None:
        return None
    identifiers: dict[str, tuple[str, str]] = {}
    for fact in person.facts:
        if fact.kind != "identifier" or fact.payload.get("status") != "active":
            continue
        kind = fact.payload["identifier_kind"]
        slot = kind if kind in ("rnokpp", "unzr") else "document"
        if slot == "document" and slot in identifiers and kind != "foreign_passport":
            continue
        identifiers[slot] = (kind, fact.payload["value"])
    return _Known(identity.payload, identifiers)


def _person_feed(
    person: GeneratedPerson, rng: Random, rates: FaultRates, held_out: bool, limit: int
) -> Iterator[FeedRecord]:
    known = _known(person)
    if known is None:
        return
    birth_day = dt.date.fromisoformat(known.identity["birth_date"])
    messages = [m for fact in person.facts if (m := _message(fact, known)) is not None]
    rng.shuffle(messages)
    messages = sorted(messages[:limit], key=lambda m: m[2])
    if held_out:
        start = max(birth_day, min((m[2] for m in messages), default=birth_day))
        birth = _birth(known)
        yield from _emit(person, "civil_status", birth, start, rng, rates, creates=True)
        messages = [(source, body, max(day, start)) for source, body, day in messages]
    for source, body, day in messages:
        yield from _emit(person, source, body, day, rng, rates, creates=False)


def _birth(known: _Known) -> dict[str, Any]:
    identity = known.identity
    payload = {
        key: identity.get(key)
        for key in ("surname", "given_name", "patronymic", "birth_date", "birth_place", "sex")
    }
    return {"message_type": "birth", "payload": {k: v for k, v in payload.items() if v}}


def _message(fact: Fact, known: _Known) -> tuple[str, dict[str, Any], dt.date] | None:
    """(source, message body, sending day) of a fact the registers would report."""
    payload, day = fact.payload, fact.recorded_at.date()
    start = fact.valid_from.isoformat() if fact.valid_from else None
    end = fact.valid_to.isoformat() if fact.valid_to else None
    body: dict[str, Any] | None = None
    source = fact.source
    if fact.kind == "identifier" and payload.get("status") == "active":
        kind = payload["identifier_kind"]
        if kind == "rnokpp":
            body = _body("rnokpp_assigned", rnokpp=payload["value"], assigned_on=start)
        elif kind == "unzr":
            body = _body("unzr_assigned", unzr=payload["value"], assigned_on=start)
        else:
            body = _body("document_issued", document_kind=kind, number=payload["value"], on=start)
    elif fact.kind == "address" and payload.get("address_kind") == "registered":
        fields = {k: v for k, v in payload.items() if k != "address_kind"}
        body = _body("registered_address", **fields, registered_on=start)
    elif fact.kind == "employment":
        body = _body(
            "employment_started",
            employer_code=payload["employer_code"],
            employer_name=payload.get("employer_name"),
            started_on=start,
            ended_on=end,
        )
    elif fact.kind == "education":
        body = _body(
            "enrolment",
            level=payload["level"],
            form=payload["form"],
            institution_code=payload["institution_code"],
            enrolled_on=start,
            ended_on=end,
        )
    elif fact.kind == "medical_decision":
        source = "health"
        body = _body("fitness_decision", fitness=payload["fitness"], decision_date=start)
    elif fact.kind == "border_crossing":
        body = _body(payload["direction"], crossed_on=start, country=payload.get("country"))
    elif fact.kind == "disability":
        body = _body("disability_group", group=payload["group"], established_on=start, until=end)
    elif fact.kind == "reservation":
        body = _body("reservation", employer_code=payload["employer_code"], reserved_from=start)
    elif fact.kind == "death":
        body = _body("death", date_of_death=payload["date_of_death"])
    if body is None or source not in _KNOWS or (start is None and fact.kind != "death"):
        return None
    return source, body, day


def _body(message_type: str, **payload: Any) -> dict[str, Any]:
    return {
        "message_type": message_type,
        "payload": {key: value for key, value in payload.items() if value is not None},
    }


def _subject(known: _Known, source: str) -> dict[str, Any]:
    identity = known.identity
    subject: dict[str, Any] = {
        "surname": identity["surname"],
        "given_name": identity["given_name"],
        "patronymic": identity.get("patronymic"),
        "birth_date": identity["birth_date"],
        "sex": identity["sex"],
    }
    if source in ("civil_status", "demographic"):
        subject["birth_place"] = identity.get("birth_place")
    if source == "border":  # names as in the passport for travel abroad
        for part in ("surname", "given_name"):
            subject[part] = to_latin(subject[part])
        subject["patronymic"] = None
    for slot in _KNOWS[source]:
        if slot in known.identifiers:
            kind, value = known.identifiers[slot]
            if slot == "document":
                subject["document_kind"], subject["document_number"] = kind, value
            else:
                subject[slot] = value
    return {key: value for key, value in subject.items() if value}


def _emit(
    person: GeneratedPerson,
    source: str,
    body: dict[str, Any],
    day: dt.date,
    rng: Random,
    rates: FaultRates,
    *,
    creates: bool,
) -> Iterator[FeedRecord]:
    known = _known(person)
    assert known is not None
    faults = tuple(fault for fault in FAULTS if rng.random() < rates.rate(fault))
    if creates:  # a birth act is drawn up from documents: no name faults, no late delivery
        faults = tuple(f for f in faults if f in ("duplicate", "malformed"))
    subject = _faulty_subject(_subject(known, source), faults, known, rng)
    record_id = f"{source}-{uuid.UUID(int=rng.getrandbits(128)).hex[:20]}"
    if "late" in faults:
        day += dt.timedelta(days=rng.randint(*_LATE_DAYS))
    document = {
        "source_record_id": record_id,
        "recorded_at": dt.datetime.combine(day, dt.time(12), dt.UTC).isoformat(),
        "subject": subject,
        **body,
    }
    line = json.dumps(document, ensure_ascii=False, sort_keys=True)
    if "malformed" in faults:
        line = line[: len(line) // 2]
    yield FeedRecord(source, day, record_id, line, person.person_id, faults, creates)
    if "duplicate" in faults:
        yield FeedRecord(source, day + dt.timedelta(days=1), record_id, line, person.person_id,
                         ("duplicate_copy",), creates)  # fmt: skip
    if "conflicting" in faults and "malformed" not in faults:
        changed = {**document, "recorded_at": document["recorded_at"].replace("T12", "T13")}
        changed["payload"] = _shifted(document["payload"])
        changed_line = json.dumps(changed, ensure_ascii=False, sort_keys=True)
        yield FeedRecord(source, day + dt.timedelta(days=2), record_id, changed_line,
                         person.person_id, ("conflicting_copy",), creates)  # fmt: skip


def _faulty_subject(
    subject: dict[str, Any], faults: tuple[str, ...], known: _Known, rng: Random
) -> dict[str, Any]:
    subject = dict(subject)
    if "typo" in faults:
        part = rng.choice(("surname", "given_name"))
        subject[part] = typo(subject[part], rng)
    if "transliteration" in faults:
        for part in ("surname", "given_name", "patronymic"):
            original = known.identity.get(part)
            if original and part in subject:
                variants = sorted(to_latin_variants(original))
                subject[part] = rng.choice(variants) if variants else subject[part]
    if "swapped_names" in faults:
        subject["surname"], subject["given_name"] = subject["given_name"], subject["surname"]
    if "missing_identifiers" in faults:
        for key in ("rnokpp", "unzr", "document_kind", "document_number"):
            subject.pop(key, None)
    if "wrong_check_digit" in faults and "rnokpp" in subject:
        value = subject["rnokpp"]
        digit = str((int(value[-1]) + rng.randint(1, 9)) % 10)
        subject["rnokpp"] = value[:-1] + digit
    if "birth_date_error" in faults:
        subject["birth_date"] = _wrong_date(dt.date.fromisoformat(subject["birth_date"]), rng)
    return subject


def _shifted(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with its first date one day later: the same record id, other content."""
    for key, value in payload.items():
        if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
            day = dt.date.fromisoformat(value) + dt.timedelta(days=1)
            return {**payload, key: day.isoformat()}
    return payload


_TYPO_LETTERS = "аеиіоуяюєїкнтрлвмсдпбгзчшхцфжйь"


def typo(name: str, rng: Random) -> str:
    """One slip of the keyboard: a letter substituted, dropped, doubled or two swapped."""
    if len(name) < 4:
        return name
    index = rng.randrange(1, len(name) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        letters = _TYPO_LETTERS if not name.isascii() else "aeioukntrlvmsdpbhz"
        return name[:index] + rng.choice(letters) + name[index + 1 :]
    if kind == 1:
        return name[:index] + name[index + 1 :]
    if kind == 2:
        return name[:index] + name[index] + name[index:]
    return name[: index - 1] + name[index] + name[index - 1] + name[index + 1 :]


def _wrong_date(day: dt.date, rng: Random) -> str:
    if day.day <= 12 and day.day != day.month and rng.random() < 0.5:
        return dt.date(day.year, day.day, day.month).isoformat()
    return (day + dt.timedelta(days=rng.choice((-1, 1)))).isoformat()
