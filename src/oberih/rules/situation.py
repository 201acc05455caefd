"""The situation the rules evaluate: what is known about one person, with provenance.

Two ways in, one code path: a stored person's state (``situation_from_state`` for a folded
``PersonState``, ``situation_from_state_json`` for the projection's stored JSON) and a what-if
situation written by an analyst or a citizen (``situation_from_json``, validated by the
``SituationDocument`` schema, published as JSON Schema by ``situation_schema()``). All three give
the same plain, immutable ``Situation`` that the engine reads: no pydantic in the evaluation loop
(named tuples: recompute builds millions of them, and a tuple is the cheapest object to build).

Every item carries a ``FactRef`` (fact id and source register) so that an explanation can name the
facts it used; a what-if item without a fact id is named by its place in the situation
(``situation:family[0]``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, NamedTuple, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from oberih.persons.state import Entry, PersonState

WHAT_IF_SOURCE = "situation"


class FactRef(NamedTuple):
    """The fact a value came from: its id and the register that stated it."""

    fact_id: str
    source: str

    def to_json(self) -> dict[str, str]:
        return {"fact_id": self.fact_id, "source": self.source}


class Relative(NamedTuple):
    relation: str  # child | spouse | ward | parent | sibling
    birth_date: dt.date | None
    disability_group: str | None  # I | II | III | child
    seriously_ill: bool
    alone: bool
    incapacitated: bool
    needs_constant_care: bool
    fate: str | None  # killed | missing
    in_military_service: bool
    alimony_debt: bool
    valid_from: dt.date | None
    valid_to: dt.date | None
    ref: FactRef


class Study(NamedTuple):
    level: str
    form: str
    first_at_level: bool
    valid_from: dt.date | None
    valid_to: dt.date | None
    ref: FactRef


class Job(NamedTuple):
    employer_code: str | None
    share_of_full_time: float
    teaching_or_research: bool
    critical_enterprise: bool
    valid_from: dt.date | None
    valid_to: dt.date | None
    ref: FactRef


class Disability(NamedTuple):
    group: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    ref: FactRef


class Fitness(NamedTuple):
    fitness: str
    decision_date: dt.date
    review_date: dt.date | None
    ref: FactRef


class Registration(NamedTuple):
    category: str
    composition: str | None
    rank: str | None
    removal_reason: str | None
    valid_from: dt.date | None
    ref: FactRef


class GrantedDeferral(NamedTuple):
    ground: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    source_record_id: str | None
    ref: FactRef


class Reservation(NamedTuple):
    employer_code: str | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    ref: FactRef


class Service(NamedTuple):
    service_kind: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    captivity_released_on: dt.date | None
    ref: FactRef


class Situation(NamedTuple):
    person_id: str | None
    birth_date: dt.date | None
    sex: str | None
    citizenship: str | None
    date_of_death: dt.date | None
    identity_ref: FactRef | None
    death_ref: FactRef | None
    registration: Registration | None
    fitness: Fitness | None
    family: tuple[Relative, ...] = ()
    education: tuple[Study, ...] = ()
    employment: tuple[Job, ...] = ()
    disability: tuple[Disability, ...] = ()
    deferrals: tuple[GrantedDeferral, ...] = ()
    reservations: tuple[Reservation, ...] = ()
    service: tuple[Service, ...] = ()


def covers(valid_from: dt.date | None, valid_to: dt.date | None, on: dt.date) -> bool:
    """Whether the inclusive interval contains ``on`` (``None`` ends are open)."""
    return (valid_from is None or valid_from <= on) and (valid_to is None or on <= valid_to)


# --- from the register's state --------------------------------------------------------------


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _relative(data: Mapping[str, Any], vf: Any, vt: Any, ref: FactRef) -> Relative:
    return Relative(
        relation=data["relation"],
        birth_date=_date(data.get("relative_birth_date")),
        disability_group=data.get("relative_disability_group"),
        seriously_ill=bool(data.get("seriously_ill")),
        alone=bool(data.get("alone")),
        incapacitated=bool(data.get("incapacitated")),
        needs_constant_care=bool(data.get("needs_constant_care")),
        fate=data.get("fate"),
        in_military_service=bool(data.get("in_military_service")),
        alimony_debt=bool(data.get("alimony_debt_over_three_months")),
        valid_from=_date(vf),
        valid_to=_date(vt),
        ref=ref,
    )


def _study(data: Mapping[str, Any], vf: Any, vt: Any, ref: FactRef) -> Study:
    return Study(
        level=data["level"],
        form=data["form"],
        first_at_level=bool(data.get("first_at_level", True)),
        valid_from=_date(vf),
        valid_to=_date(vt),
        ref=ref,
    )


def _job(data: Mapping[str, Any], vf: Any, vt: Any, ref: FactRef) -> Job:
    return Job(
        employer_code=data.get("employer_code"),
        share_of_full_time=float(data.get("share_of_full_time", 1.0)),
        teaching_or_research=bool(data.get("teaching_or_research")),
        critical_enterprise=bool(data.get("critical_enterprise")),
        valid_from=_date(vf),
        valid_to=_date(vt),
        ref=ref,
    )


def _disability(data: Mapping[str, Any], vf: Any, vt: Any, ref: FactRef) -> Disability:
    return Disability(group=data["group"], valid_from=_date(vf), valid_to=_date(vt), ref=ref)


def _deferral(
    data: Mapping[str, Any], vf: Any, vt: Any, ref: FactRef, source_record_id: str | None
) -> GrantedDeferral:
    return GrantedDeferral(
        ground=data["ground"],
        valid_from=_date(vf),
        valid_to=_date(vt),
        source_record_id=source_record_id,
        ref=ref,
    )


def _reservation(data: Mapping[str, Any], vf: Any, vt: Any, ref: FactRef) -> Reservation:
    return Reservation(
        employer_code=data.get("employer_code"), valid_from=_date(vf), valid_to=_date(vt), ref=ref
    )


def _service(data: Mapping[str, Any], vf: Any, vt: Any, ref: FactRef) -> Service:
    return Service(
        service_kind=data["service_kind"],
        valid_from=_date(vf),
        valid_to=_date(vt),
        captivity_released_on=_date(data.get("captivity_released_on")),
        ref=ref,
    )


def _fitness(data: Mapping[str, Any], ref: FactRef) -> Fitness:
    return Fitness(
        fitness=data["fitness"],
        decision_date=_date(data["decision_date"]),  # type: ignore[arg-type]
        review_date=_date(data.get("review_date")),
        ref=ref,
    )


def _registration(data: Mapping[str, Any], vf: Any, ref: FactRef) -> Registration:
    return Registration(
        category=data["category"],
        composition=data.get("composition"),
        rank=data.get("rank"),
        removal_reason=data.get("removal_reason"),
        valid_from=_date(vf),
        ref=ref,
    )


_Item = TypeVar("_Item")


def situation_from_state(state: PersonState) -> Situation:
    """The situation of a stored person, from their folded state (all of their history)."""

    def ref(entry: Entry) -> FactRef:
        return FactRef(str(entry.fact_id), entry.source)

    def items(
        entries: Iterable[Entry], build: Callable[[Mapping[str, Any], Any, Any, FactRef], _Item]
    ) -> tuple[_Item, ...]:
        return tuple(build(e.data, e.valid_from, e.valid_to, ref(e)) for e in entries)

    identity = state.identity.data if state.identity else {}
    return Situation(
        person_id=str(state.person_id),
        birth_date=_date(identity.get("birth_date")),
        sex=identity.get("sex"),
        citizenship=identity.get("citizenship"),
        date_of_death=state.date_of_death,
        identity_ref=ref(state.identity) if state.identity else None,
        death_ref=ref(state.death) if state.death else None,
        registration=_registration(
            state.military_registration.data,
            state.military_registration.valid_from,
            ref(state.military_registration),
        )
        if state.military_registration
        else None,
        fitness=_fitness(state.medical_decision.data, ref(state.medical_decision))
        if state.medical_decision
        else None,
        family=items(state.family, _relative),
        education=items(state.education, _study),
        employment=items(state.employment, _job),
        disability=items(state.disability, _disability),
        deferrals=tuple(
            _deferral(e.data, e.valid_from, e.valid_to, ref(e), e.source_record_id)
            for e in state.deferrals
        ),
        reservations=items(state.reservations, _reservation),
        service=items(state.service, _service),
    )


def situation_from_state_json(document: Mapping[str, Any]) -> Situation:
    """The same situation from the projection's stored JSON (``PersonState.to_json()``).

    Recompute reads this form straight from the database, without rebuilding ``Entry`` objects.
    """

    def ref(entry: Mapping[str, Any]) -> FactRef:
        return FactRef(entry["fact_id"], entry["source"])

    def items(
        key: str, build: Callable[[Mapping[str, Any], Any, Any, FactRef], _Item]
    ) -> tuple[_Item, ...]:
        return tuple(
            build(e["data"], e["valid_from"], e["valid_to"], ref(e))
            for e in document.get(key) or ()
        )

    identity_entry = document.get("identity")
    identity = identity_entry["data"] if identity_entry else {}
    death = document.get("death")
    registration = document.get("military_registration")
    medical = document.get("medical_decision")
    return Situation(
        person_id=document.get("person_id"),
        birth_date=_date(identity.get("birth_date")),
        sex=identity.get("sex"),
        citizenship=identity.get("citizenship"),
        date_of_death=_date(death["data"]["date_of_death"]) if death else None,
        identity_ref=ref(identity_entry) if identity_entry else None,
        death_ref=ref(death) if death else None,
        registration=_registration(
            registration["data"], registration["valid_from"], ref(registration)
        )
        if registration
        else None,
        fitness=_fitness(medical["data"], ref(medical)) if medical else None,
        family=items("family", _relative),
        education=items("education", _study),
        employment=items("employment", _job),
        disability=items("disability", _disability),
        deferrals=tuple(
            _deferral(e["data"], e["valid_from"], e["valid_to"], ref(e), e.get("source_record_id"))
            for e in document.get("deferrals") or ()
        ),
        reservations=items("reservations", _reservation),
        service=items("service", _service),
    )


# --- what-if situations (the documented JSON boundary) ---------------------------------------


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FactSource(_Document):
    """Provenance of an item: the fact it comes from and the register that stated it."""

    fact_id: str = Field(min_length=1, max_length=64)
    source: str = Field(min_length=1, max_length=32)


class _Interval(_Document):
    valid_from: dt.date | None = Field(default=None, description="First day true (inclusive).")
    valid_to: dt.date | None = Field(default=None, description="Last day true (inclusive).")
    fact: FactSource | None = None


class RegistrationDocument(_Document):
    """The category the register records (a recruitment office's entry)."""

    category: Literal["conscript", "liable", "reservist", "removed", "excluded", "not_registered"]
    composition: Literal["private", "sergeant", "officer"] | None = None
    rank: str | None = Field(default=None, max_length=60)
    removal_reason: Literal["age", "health", "death", "citizenship"] | None = None
    valid_from: dt.date | None = None
    fact: FactSource | None = None


class FitnessDocument(_Document):
    """The latest decision of the military-medical commission."""

    fitness: Literal[
        "fit", "fit_support", "temporarily_unfit", "unfit_review", "unfit_excluded", "limited_fit"
    ]
    decision_date: dt.date
    review_date: dt.date | None = None
    fact: FactSource | None = None


class RelativeDocument(_Interval):
    relation: Literal["child", "spouse", "ward", "parent", "sibling"]
    birth_date: dt.date | None = None
    disability_group: Literal["I", "II", "III", "child"] | None = None
    seriously_ill: bool = False
    alone: bool = Field(default=False, description="This person raises the child alone.")
    incapacitated: bool = Field(default=False, description="Declared incapacitated; ward.")
    needs_constant_care: bool = Field(default=False, description="Cared for by this person.")
    fate: Literal["killed", "missing"] | None = Field(
        default=None, description="Killed or missing defending Ukraine."
    )
    in_military_service: bool = False
    alimony_debt_over_three_months: bool = Field(
        default=False, description="On a child: alimony debt above three months' payments."
    )


class StudyDocument(_Interval):
    level: Literal["vocational", "professional_pre_higher", "bachelor", "master", "phd", "doctor"]
    form: Literal["full_time", "part_time", "evening", "distance", "dual"]
    first_at_level: bool = True


class JobDocument(_Interval):
    employer_code: str | None = Field(default=None, pattern=r"^\d{8}$")
    share_of_full_time: float = Field(default=1.0, gt=0, le=2)
    teaching_or_research: bool = False
    critical_enterprise: bool = False


class DisabilityDocument(_Interval):
    group: Literal["I", "II", "III"]


class DeferralDocument(_Interval):
    """A deferral already granted (by a recruitment office or automatically)."""

    ground: str = Field(min_length=1, max_length=64)
    source_record_id: str | None = Field(default=None, max_length=128)


class ReservationDocument(_Interval):
    employer_code: str | None = Field(default=None, pattern=r"^\d{8}$")


class ServiceDocument(_Interval):
    service_kind: Literal["conscript", "contract", "mobilised", "reserve_training"]
    captivity_released_on: dt.date | None = None


class SituationDocument(_Document):
    """A person's situation for a what-if evaluation (nothing is stored).

    Lists hold every known period, past and future: the rules pick what is true on the day
    evaluated and use the rest to tell when the answer next changes.
    """

    person_id: UUID | None = None
    birth_date: dt.date
    sex: Literal["male", "female"]
    citizenship: str = Field(default="UKR", pattern=r"^[A-Z]{3}$")
    date_of_death: dt.date | None = None
    registration: RegistrationDocument | None = None
    fitness: FitnessDocument | None = None
    family: list[RelativeDocument] = []
    education: list[StudyDocument] = []
    employment: list[JobDocument] = []
    disability: list[DisabilityDocument] = []
    deferrals: list[DeferralDocument] = []
    reservations: list[ReservationDocument] = []
    service: list[ServiceDocument] = []


class EvaluationRequest(_Document):
    """What ``POST /api/v1/rules/evaluate`` and ``oberih rules evaluate`` take: a day and a
    situation."""

    on: dt.date = Field(description="The day to evaluate.")
    situation: SituationDocument


def situation_schema() -> dict[str, Any]:
    """The JSON Schema of what-if situations."""
    schema = SituationDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://oberih.example/schemas/rules/situation.json"
    return schema


def situation_from_json(data: Mapping[str, Any]) -> Situation:
    """Validate a what-if situation (raises pydantic ``ValidationError``) and convert it."""
    return situation_from_document(SituationDocument.model_validate(data))


def situation_from_document(document: SituationDocument) -> Situation:
    def ref(fact: FactSource | None, where: str) -> FactRef:
        if fact is not None:
            return FactRef(fact.fact_id, fact.source)
        return FactRef(f"{WHAT_IF_SOURCE}:{where}", WHAT_IF_SOURCE)

    def dump(item: _Document) -> dict[str, Any]:
        return {name: getattr(item, name) for name in type(item).model_fields}

    def items(
        key: str,
        entries: list[Any],
        build: Callable[[Mapping[str, Any], Any, Any, FactRef], _Item],
    ) -> tuple[_Item, ...]:
        return tuple(
            build(_payload(key, dump(e)), e.valid_from, e.valid_to, ref(e.fact, f"{key}[{i}]"))
            for i, e in enumerate(entries)
        )

    registration = document.registration
    return Situation(
        person_id=str(document.person_id) if document.person_id else None,
        birth_date=document.birth_date,
        sex=document.sex,
        citizenship=document.citizenship,
        date_of_death=document.date_of_death,
        identity_ref=ref(None, "identity"),
        death_ref=ref(None, "date_of_death") if document.date_of_death else None,
        registration=_registration(
            dump(registration), registration.valid_from, ref(registration.fact, "registration")
        )
        if registration
        else None,
        fitness=_fitness(dump(document.fitness), ref(document.fitness.fact, "fitness"))
        if document.fitness
        else None,
        family=items("family", document.family, _relative),
        education=items("education", document.education, _study),
        employment=items("employment", document.employment, _job),
        disability=items("disability", document.disability, _disability),
        deferrals=tuple(
            _deferral(
                dump(e),
                e.valid_from,
                e.valid_to,
                ref(e.fact, f"deferrals[{i}]"),
                e.source_record_id,
            )
            for i, e in enumerate(document.deferrals)
        ),
        reservations=items("reservations", document.reservations, _reservation),
        service=items("service", document.service, _service),
    )


# The what-if format names a relative's fields without the payload's "relative_" prefix.
_FAMILY_PAYLOAD_NAMES = {
    "birth_date": "relative_birth_date",
    "disability_group": "relative_disability_group",
}


def _payload(key: str, fields: dict[str, Any]) -> dict[str, Any]:
    if key != "family":
        return fields
    return {_FAMILY_PAYLOAD_NAMES.get(name, name): value for name, value in fields.items()}
