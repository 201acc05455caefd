"""Facts: everything the register knows about a person, appended and never overwritten.

A fact says *what* (kind + payload), *about whom* (person id), *when it is true in the world*
(``valid_from`` .. ``valid_to``, both inclusive days; ``None`` means open), *when the register
learned it* (``recorded_at``), *who said so* (``source`` with the source's own record id, the
idempotency key), on which *legal basis* and by which *actor*. A correction is a new fact that
``supersedes`` an earlier one; a retraction is a fact of kind ``retraction`` that supersedes the
fact it withdraws (ARCHITECTURE decision 3).

The payload schemas below are the boundary: every payload is validated by them before it is
appended. The fold (``state.py``) then reads trusted, already-validated payload dictionaries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from oberih.identifiers import parse_identifier

Sex = Literal["male", "female"]


class FactKind(StrEnum):
    identity = "identity"
    identifier = "identifier"
    death = "death"
    address = "address"
    contact = "contact"
    family = "family"
    education = "education"
    employment = "employment"
    disability = "disability"
    medical_decision = "medical_decision"
    military_registration = "military_registration"
    service = "service"
    deferral = "deferral"
    reservation = "reservation"
    border_crossing = "border_crossing"
    retraction = "retraction"


class SourceKind(StrEnum):
    """Who said it: a source register, an officer of the register, or the citizen."""

    civil_status = "civil_status"
    demographic = "demographic"
    tax = "tax"
    education = "education"
    health = "health"
    border = "border"
    social = "social"
    employer = "employer"
    officer = "officer"
    citizen = "citizen"
    register = "register"  # the register itself (automatic decisions, generated demo data)


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class IdentityPayload(Payload):
    surname: str = Field(min_length=1, max_length=100)
    given_name: str = Field(min_length=1, max_length=100)
    patronymic: str | None = Field(default=None, max_length=100)
    birth_date: dt.date
    birth_place: str | None = Field(default=None, max_length=200)
    sex: Sex
    citizenship: str = Field(default="UKR", pattern=r"^[A-Z]{3}$")  # ISO 3166-1 alpha-3


class IdentifierPayload(Payload):
    identifier_kind: Literal["rnokpp", "unzr", "id_card", "passport_booklet", "foreign_passport"]
    value: str = Field(min_length=1, max_length=32)
    status: Literal["active", "invalidated"] = "active"

    @field_validator("value")
    @classmethod
    def _canonical_value(cls, value: str, info: ValidationInfo) -> str:
        # Check digits, dates and scripts are checked here, at the boundary; the stored value is
        # the canonical form, which is also the uniqueness key. InvalidIdentifier is a ValueError,
        # so pydantic reports it as this field's error with its reason.
        kind = info.data.get("identifier_kind")
        return parse_identifier(kind, value).value if kind else value


class DeathPayload(Payload):
    date_of_death: dt.date
    certificate: str | None = Field(default=None, max_length=64)


class AddressPayload(Payload):
    address_kind: Literal["registered", "actual"]
    region: str = Field(pattern=r"^UA\d{2}$")  # KATOTTH oblast code, e.g. UA80 Kyiv
    hromada: str = Field(min_length=1, max_length=120)
    settlement: str = Field(min_length=1, max_length=120)
    street_line: str | None = Field(default=None, max_length=200)
    katotth: str | None = Field(default=None, max_length=24)
    office_code: str | None = Field(default=None, max_length=16)  # recruitment office serving it


class ContactPayload(Payload):
    phone: str | None = Field(default=None, pattern=r"^\+\d{9,15}$")
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class EndsRecord(Payload):
    """An interval a source may end by a later record (a divorce, an employment or enrolment
    ended), which keeps the source's record id of the start it ends: the ending may arrive
    first, and the start, when it comes, must not open the interval again
    (``exchange.chunks.earlier_endings``)."""

    ends_record_id: str | None = Field(default=None, max_length=128)


class FamilyPayload(EndsRecord):
    relation: Literal["child", "spouse", "ward", "parent", "sibling"]
    relative_id: UUID | None = None
    relative_name: str | None = Field(default=None, max_length=300)
    relative_birth_date: dt.date | None = None
    relative_sex: Sex | None = None
    relative_disability_group: Literal["I", "II", "III", "child"] | None = None
    seriously_ill: bool = False
    alone: bool = False  # raising the child alone (Law 3543-XII art. 23 p. 1(4))
    # Evidence for further deferral grounds (Law 3543-XII art. 23). Optional and None by default,
    # so payloads that do not state them keep their canonical form (exclude_none).
    incapacitated: bool | None = None  # declared legally incapacitated; this person is guardian
    needs_constant_care: bool | None = None  # needs constant care, which this person provides
    fate: Literal["killed", "missing"] | None = None  # killed or missing defending Ukraine
    in_military_service: bool | None = None  # the relative serves (e.g. the child's other parent)
    # On a child: the Register of Debtors shows alimony debt above three months' payments.
    alimony_debt_over_three_months: bool | None = None


class EducationPayload(EndsRecord):
    level: Literal["vocational", "professional_pre_higher", "bachelor", "master", "phd", "doctor"]
    form: Literal["full_time", "part_time", "evening", "distance", "dual"]
    institution_code: str = Field(min_length=1, max_length=16)
    institution_name: str | None = Field(default=None, max_length=300)
    first_at_level: bool = True


class EmploymentPayload(EndsRecord):
    employer_code: str = Field(pattern=r"^\d{8}$")  # EDRPOU
    employer_name: str | None = Field(default=None, max_length=300)
    position: str | None = Field(default=None, max_length=200)
    share_of_full_time: float = Field(default=1.0, gt=0, le=2)
    critical_enterprise: bool = False
    teaching_or_research: bool = False


class DisabilityPayload(EndsRecord):
    group: Literal["I", "II", "III"]


class MedicalDecisionPayload(Payload):
    # Fitness categories since 04.05.2024 (Law 3621-IX; MoD Order 402 as amended).
    # "limited_fit" (обмежено придатний) is the category abolished on 04.05.2024; kept so that
    # decisions taken before then can be recorded as they were.
    fitness: Literal[
        "fit", "fit_support", "temporarily_unfit", "unfit_review", "unfit_excluded", "limited_fit"
    ]
    decision_date: dt.date
    review_date: dt.date | None = None
    commission: str | None = Field(default=None, max_length=120)


class MilitaryRegistrationPayload(Payload):
    category: Literal["conscript", "liable", "reservist", "removed", "excluded", "not_registered"]
    office_code: str | None = Field(default=None, max_length=16)
    specialty_code: str | None = Field(default=None, max_length=16)
    rank: str | None = Field(default=None, max_length=60)
    composition: Literal["private", "sergeant", "officer"] | None = None
    removal_reason: Literal["age", "health", "death", "citizenship"] | None = None
    data_being_clarified: bool = False


class ServicePayload(Payload):
    service_kind: Literal["conscript", "contract", "mobilised", "reserve_training"]
    unit: str | None = Field(default=None, max_length=120)
    combat_participant: bool = False
    captivity_released_on: dt.date | None = None  # released from captivity (art. 23 deferral)


class DeferralPayload(Payload):
    ground: str = Field(min_length=1, max_length=64)
    decision_ref: str | None = Field(default=None, max_length=64)


class ReservationPayload(EndsRecord):
    employer_code: str = Field(pattern=r"^\d{8}$")
    decision_ref: str | None = Field(default=None, max_length=64)


class BorderCrossingPayload(Payload):
    direction: Literal["exit", "entry"]
    checkpoint: str | None = Field(default=None, max_length=120)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")


class RetractionPayload(Payload):
    reason: str = Field(min_length=1, max_length=300)


PAYLOAD_SCHEMAS: dict[FactKind, type[Payload]] = {
    FactKind.identity: IdentityPayload,
    FactKind.identifier: IdentifierPayload,
    FactKind.death: DeathPayload,
    FactKind.address: AddressPayload,
    FactKind.contact: ContactPayload,
    FactKind.family: FamilyPayload,
    FactKind.education: EducationPayload,
    FactKind.employment: EmploymentPayload,
    FactKind.disability: DisabilityPayload,
    FactKind.medical_decision: MedicalDecisionPayload,
    FactKind.military_registration: MilitaryRegistrationPayload,
    FactKind.service: ServicePayload,
    FactKind.deferral: DeferralPayload,
    FactKind.reservation: ReservationPayload,
    FactKind.border_crossing: BorderCrossingPayload,
    FactKind.retraction: RetractionPayload,
}


class InvalidFact(ValueError):
    """A fact that cannot be appended; ``errors`` lists (field, reason) pairs."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in errors))


def validate_payload(kind: FactKind | str, payload: dict[str, Any]) -> dict[str, Any]:
    """Validate a payload against its kind's schema and return its canonical JSON form."""
    try:
        schema = PAYLOAD_SCHEMAS[FactKind(kind)]
    except ValueError:
        raise InvalidFact([("kind", f"unknown fact kind {kind!r}")]) from None
    try:
        model = schema.model_validate(payload)
    except ValidationError as exc:
        # Report field and reason only: the input value may be personal data.
        raise InvalidFact(
            [
                ("payload." + ".".join(str(p) for p in err["loc"]), err["msg"])
                for err in exc.errors(include_input=False)
            ]
        ) from None
    return model.model_dump(mode="json", exclude_none=True, exclude_defaults=False)


@dataclass(frozen=True, slots=True)
class Fact:
    """One journal entry, as the domain sees it (storage maps rows to and from this)."""

    id: UUID
    person_id: UUID
    seq: int
    kind: str
    payload: dict[str, Any]
    recorded_at: dt.datetime
    source: str
    source_record_id: str
    legal_basis: str
    actor: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    supersedes_id: UUID | None = None

    def is_true_on(self, day: dt.date) -> bool:
        """Whether the fact's world-time interval (inclusive) contains ``day``."""
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_to is None or day <= self.valid_to


class NewFact(BaseModel):
    """A fact to append, as a command, a feed or the generator states it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FactKind
    payload: dict[str, Any]
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    source: str = Field(min_length=1, max_length=32)
    source_record_id: str = Field(min_length=1, max_length=128)
    legal_basis: str = Field(min_length=1, max_length=300)
    actor: str = Field(min_length=1, max_length=128)
    supersedes_id: UUID | None = None

    def validated_payload(self) -> dict[str, Any]:
        errors: list[tuple[str, str]] = []
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            errors.append(("valid_to", "ends before valid_from"))
        if self.kind == FactKind.retraction and self.supersedes_id is None:
            errors.append(("supersedes_id", "a retraction must name the fact it withdraws"))
        if errors:
            raise InvalidFact(errors)
        return validate_payload(self.kind, self.payload)

    def same_content_as(self, fact: Fact) -> bool:
        """Whether a re-sent fact says exactly what the stored one says (idempotent re-send)."""
        return (
            fact.kind == self.kind
            and fact.payload == self.validated_payload()
            and fact.valid_from == self.valid_from
            and fact.valid_to == self.valid_to
            and fact.supersedes_id == self.supersedes_id
        )
