"""Message schemas of the source registers, version 1.

Every message carries the source's own record id (the idempotency key), the time the source
recorded it, the subject as the source knows them (identifiers and names, possibly misspelled,
transliterated or missing) and a payload. Subject identifiers are plain strings here, checked
later: a wrong check digit must not throw away the record, only that identifier (the names and
birth date can still find the person).

Each source's messages form a union discriminated by ``message_type``; ``message_schema(source)``
is the JSON Schema published to that register's developers (``oberih exchange schema SOURCE``).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, Self, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

SCHEMA_VERSION = 1

Sex = Literal["male", "female"]
Day = dt.date
DocumentKind = Literal["id_card", "passport_booklet", "foreign_passport"]
# The end of an RFC 3339 date-time: "Z", or the offset from UTC as +hh:mm or -hh:mm. Said in the
# published schema too: validators of "format": "date-time" often check nothing.
UTC_OFFSET_PATTERN = r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"


class Source(StrEnum):
    """The source registers that feed the register (``SourceKind`` values of their facts)."""

    civil_status = "civil_status"  # State Register of Civil Status Acts
    demographic = "demographic"  # Unified State Demographic Register
    tax = "tax"  # State Tax Service
    education = "education"  # EDEBO, the education database
    health = "health"  # medical commissions (eHealth)
    border = "border"  # State Border Guard Service
    social = "social"  # pension and social registers
    employer = "employer"  # reservation lists of critical enterprises


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Subject(Strict):
    """Who the message is about, as the source knows them."""

    rnokpp: str | None = Field(default=None, max_length=32)
    unzr: str | None = Field(default=None, max_length=32)
    document_kind: DocumentKind | None = None
    document_number: str | None = Field(default=None, max_length=32)
    surname: str | None = Field(default=None, max_length=100)
    given_name: str | None = Field(default=None, max_length=100)
    patronymic: str | None = Field(default=None, max_length=100)
    birth_date: Day | None = None
    sex: Sex | None = None
    birth_place: str | None = Field(default=None, max_length=200)


class Envelope(Strict):
    schema_version: Literal[1] = 1
    source_record_id: str = Field(min_length=1, max_length=120)
    # When the source recorded it, by its own clock, with the clock's offset from UTC: RFC
    # 3339 (5.6) writes a date-time with one. Without it the moment is not known (read as UTC,
    # a source in Kyiv is two or three hours off), and the register orders facts by it and
    # refuses one ahead of its own clock (``outcomes.CLOCK_TOLERANCE``).
    recorded_at: AwareDatetime = Field(
        description="When the source recorded the message, with its UTC offset (RFC 3339)",
        json_schema_extra={"pattern": UTC_OFFSET_PATTERN},
    )
    subject: Subject

    # The payload's dates of acts the source registers after they happen (a birth, a death, a
    # commission's decision, a crossing): none can be later than the day the source recorded
    # the message. A date in the future is a slip at the source, and taken as it is it would
    # hide the true value (a fitness decision dated 2031 outranks every real one) or change
    # the person's status on its own later (a death). Plans are not acts: an employment or an
    # enrolment may start later, a review date or a reservation's end lie ahead.
    act_dates: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _acts_not_after_recording(self) -> Self:
        # A day's grace: the source's calendar day may be ahead of its clock's UTC offset.
        last_day = self.recorded_at.date() + dt.timedelta(days=1)
        payload = getattr(self, "payload", None)
        for name in self.act_dates:
            day = getattr(payload, name, None)
            if day is not None and day > last_day:
                raise ValueError(f"payload.{name} is later than the day of recorded_at")
        return self


# --- civil status -----------------------------------------------------------------------------


class BirthPayload(Strict):
    surname: str = Field(min_length=1, max_length=100)
    given_name: str = Field(min_length=1, max_length=100)
    patronymic: str | None = Field(default=None, max_length=100)
    birth_date: Day
    birth_place: str | None = Field(default=None, max_length=200)
    sex: Sex
    citizenship: str = Field(default="UKR", pattern=r"^[A-Z]{3}$")


class Birth(Envelope):
    message_type: Literal["birth"]
    act_dates = ("birth_date",)
    payload: BirthPayload


class DeathPayload(Strict):
    date_of_death: Day
    certificate: str | None = Field(default=None, max_length=64)


class Death(Envelope):
    message_type: Literal["death"]
    act_dates = ("date_of_death",)
    payload: DeathPayload


class NameChangePayload(Strict):
    surname: str = Field(min_length=1, max_length=100)
    given_name: str = Field(min_length=1, max_length=100)
    patronymic: str | None = Field(default=None, max_length=100)
    effective_on: Day


class NameChange(Envelope):
    message_type: Literal["name_change"]
    act_dates = ("effective_on",)
    payload: NameChangePayload


class MarriagePayload(Strict):
    spouse_name: str = Field(min_length=1, max_length=300)
    spouse_birth_date: Day | None = None
    married_on: Day
    divorced_on: Day | None = None  # a divorce re-sends the marriage with its end
    marriage_record_id: str | None = Field(default=None, max_length=120)  # the marriage ended


class Marriage(Envelope):
    message_type: Literal["marriage", "divorce"]
    act_dates = ("married_on", "divorced_on")
    payload: MarriagePayload


class PaternityPayload(Strict):
    child_name: str = Field(min_length=1, max_length=300)
    child_birth_date: Day
    child_sex: Sex | None = None
    established_on: Day


class Paternity(Envelope):
    message_type: Literal["paternity"]
    act_dates = ("child_birth_date", "established_on")
    payload: PaternityPayload


# --- demographic ------------------------------------------------------------------------------


class UnzrPayload(Strict):
    unzr: str = Field(min_length=1, max_length=32)
    assigned_on: Day


class UnzrAssigned(Envelope):
    message_type: Literal["unzr_assigned"]
    act_dates = ("assigned_on",)
    payload: UnzrPayload


class DocumentPayload(Strict):
    document_kind: DocumentKind
    number: str = Field(min_length=1, max_length=32)
    on: Day  # issued or invalidated on


class DocumentIssued(Envelope):
    message_type: Literal["document_issued", "document_invalidated"]
    act_dates = ("on",)
    payload: DocumentPayload

    @model_validator(mode="before")
    @classmethod
    def _invalidated_document_names_its_holder(cls, data: Any) -> Any:
        """An invalidation whose subject quotes no document is about the holder of the one it
        invalidates: the subject takes it, and resolution finds its holder by it (quoted in the
        payload alone, it was unmatched unless the subject had names). Not an issuance: its
        number is new, and if someone else holds it the append says so (identifier-taken)."""
        if not isinstance(data, dict) or data.get("message_type") != "document_invalidated":
            return data
        subject, payload = data.get("subject"), data.get("payload")
        if not isinstance(subject, dict) or not isinstance(payload, dict):
            return data
        if subject.get("document_kind") is not None or subject.get("document_number") is not None:
            return data
        kind, number = payload.get("document_kind"), payload.get("number")
        # Only what the subject can hold: a wrong one is named once, in the payload.
        if kind not in get_args(DocumentKind) or not isinstance(number, str) or len(number) > 32:
            return data
        return {**data, "subject": {**subject, "document_kind": kind, "document_number": number}}


class AddressPayload(Strict):
    region: str = Field(pattern=r"^UA\d{2}$")
    hromada: str = Field(min_length=1, max_length=120)
    settlement: str = Field(min_length=1, max_length=120)
    street_line: str | None = Field(default=None, max_length=200)
    katotth: str | None = Field(default=None, max_length=24)
    office_code: str | None = Field(default=None, max_length=16)
    registered_on: Day


class RegisteredAddress(Envelope):
    message_type: Literal["registered_address"]
    act_dates = ("registered_on",)
    payload: AddressPayload


# --- tax --------------------------------------------------------------------------------------


class RnokppPayload(Strict):
    rnokpp: str = Field(min_length=1, max_length=32)
    assigned_on: Day


class RnokppAssigned(Envelope):
    message_type: Literal["rnokpp_assigned"]
    act_dates = ("assigned_on",)
    payload: RnokppPayload


class EmploymentMessagePayload(Strict):
    employer_code: str = Field(pattern=r"^\d{8}$")
    employer_name: str | None = Field(default=None, max_length=300)
    position: str | None = Field(default=None, max_length=200)
    share_of_full_time: float = Field(default=1.0, gt=0, le=2)
    started_on: Day
    ended_on: Day | None = None
    start_record_id: str | None = Field(default=None, max_length=120)  # on an end: its start


class Employment(Envelope):
    message_type: Literal["employment_started", "employment_ended"]
    payload: EmploymentMessagePayload


# --- education --------------------------------------------------------------------------------


class EnrolmentPayload(Strict):
    level: Literal["vocational", "professional_pre_higher", "bachelor", "master", "phd", "doctor"]
    form: Literal["full_time", "part_time", "evening", "distance", "dual"]
    institution_code: str = Field(min_length=1, max_length=16)
    institution_name: str | None = Field(default=None, max_length=300)
    first_at_level: bool = True
    enrolled_on: Day
    ended_on: Day | None = None
    enrolment_record_id: str | None = Field(default=None, max_length=120)  # on an end


class Enrolment(Envelope):
    message_type: Literal["enrolment", "enrolment_ended"]
    payload: EnrolmentPayload


# --- health -----------------------------------------------------------------------------------


class FitnessPayload(Strict):
    fitness: Literal[
        "fit", "fit_support", "temporarily_unfit", "unfit_review", "unfit_excluded", "limited_fit"
    ]
    decision_date: Day
    review_date: Day | None = None
    commission: str | None = Field(default=None, max_length=120)


class FitnessDecision(Envelope):
    message_type: Literal["fitness_decision"]
    act_dates = ("decision_date",)
    payload: FitnessPayload


# --- border -----------------------------------------------------------------------------------


class CrossingPayload(Strict):
    crossed_on: Day
    checkpoint: str | None = Field(default=None, max_length=120)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")


class Crossing(Envelope):
    message_type: Literal["exit", "entry"]
    act_dates = ("crossed_on",)
    payload: CrossingPayload


# --- social -----------------------------------------------------------------------------------


class DisabilityMessagePayload(Strict):
    group: Literal["I", "II", "III"]
    established_on: Day
    until: Day | None = None
    # On an end (the status withdrawn, or its term set): the record that started it. Without
    # it a status once stated could never end: the same record id with an end date is a
    # conflicting re-send, and a new one left the first open beside it.
    start_record_id: str | None = Field(default=None, max_length=120)


class DisabilityGroup(Envelope):
    message_type: Literal["disability_group"]
    act_dates = ("established_on",)
    payload: DisabilityMessagePayload


class CaregiverPayload(Strict):
    relation: Literal["child", "spouse", "ward", "parent", "sibling"]
    relative_name: str | None = Field(default=None, max_length=300)
    relative_birth_date: Day | None = None
    relative_disability_group: Literal["I", "II", "III", "child"] | None = None
    since: Day
    until: Day | None = None
    # On an end (the status withdrawn, or its term set): the record that started it. Without
    # it a status once stated could never end: the same record id with an end date is a
    # conflicting re-send, and a new one left the first open beside it.
    start_record_id: str | None = Field(default=None, max_length=120)


class Caregiver(Envelope):
    message_type: Literal["caregiver"]
    payload: CaregiverPayload


# --- employers --------------------------------------------------------------------------------


class ReservationMessagePayload(Strict):
    employer_code: str = Field(pattern=r"^\d{8}$")
    decision_ref: str | None = Field(default=None, max_length=64)
    reserved_from: Day
    reserved_until: Day | None = None
    # On an end (the status withdrawn, or its term set): the record that started it. Without
    # it a status once stated could never end: the same record id with an end date is a
    # conflicting re-send, and a new one left the first open beside it.
    start_record_id: str | None = Field(default=None, max_length=120)


class Reservation(Envelope):
    message_type: Literal["reservation"]
    payload: ReservationMessagePayload


SOURCE_MESSAGES: dict[Source, tuple[type[Envelope], ...]] = {
    Source.civil_status: (Birth, Death, NameChange, Marriage, Paternity),
    Source.demographic: (UnzrAssigned, DocumentIssued, RegisteredAddress),
    Source.tax: (RnokppAssigned, Employment),
    Source.education: (Enrolment,),
    Source.health: (FitnessDecision,),
    Source.border: (Crossing,),
    Source.social: (DisabilityGroup, Caregiver),
    Source.employer: (Reservation,),
}

Message = (
    Birth
    | Death
    | NameChange
    | Marriage
    | Paternity
    | UnzrAssigned
    | DocumentIssued
    | RegisteredAddress
    | RnokppAssigned
    | Employment
    | Enrolment
    | FitnessDecision
    | Crossing
    | DisabilityGroup
    | Caregiver
    | Reservation
)


class UnknownSource(LookupError):
    def __init__(self, source: str) -> None:
        self.source = source
        known = ", ".join(Source)
        super().__init__(f"unknown source register {source!r}; known: {known}")


def parse_source(source: str) -> Source:
    try:
        return Source(source)
    except ValueError:
        raise UnknownSource(source) from None


@cache
def message_adapter(source: Source) -> TypeAdapter[Any]:
    """Validator of one source's messages (a union discriminated by ``message_type``)."""
    members = SOURCE_MESSAGES[source]
    if len(members) == 1:
        return TypeAdapter(members[0])
    union: Any = members[0]
    for member in members[1:]:
        union = union | member
    return TypeAdapter(Annotated[union, Field(discriminator="message_type")])


def message_schema(source: Source) -> dict[str, Any]:
    """The JSON Schema of a source's messages, as published to that register."""
    schema = message_adapter(source).json_schema()
    schema["$id"] = f"https://oberih.example/schemas/exchange/{source.value}/v{SCHEMA_VERSION}"
    schema["title"] = f"oberih exchange: {source.value} messages, version {SCHEMA_VERSION}"
    return schema


def parse_message(source: Source, document: Any) -> Message:
    """Validate one decoded JSON document as a message of ``source`` (pydantic ValidationError
    when it is not one)."""
    message: Message = message_adapter(source).validate_python(document)
    return message
