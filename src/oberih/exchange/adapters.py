"""One adapter per source register: a validated message to the facts it states.

Pure functions. World time comes from the message (the day a thing became true), never from the
arrival time, so a death recorded three weeks late is still a death on its day. A message that
ends something the same source stated before (an employment, an enrolment, a marriage, a
caregiver status, a disability group, a reservation) names the earlier record; intake turns
that record id into ``supersedes_id``, and the fact keeps it (``ends_record_id``) for a start
that arrives after its ending.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from oberih.exchange.messages import (
    Birth,
    Caregiver,
    Crossing,
    Death,
    DisabilityGroup,
    DocumentIssued,
    Employment,
    Enrolment,
    FitnessDecision,
    Marriage,
    Message,
    NameChange,
    Paternity,
    RegisteredAddress,
    Reservation,
    RnokppAssigned,
    UnzrAssigned,
)
from oberih.persons.facts import FactKind, InvalidFact, NewFact

# Legal basis of what each register reports (short citations, as on generated facts).
LEGAL_BASIS = {
    "civil_status": "Law 2398-VI (civil status acts)",
    "demographic": "Law 5492-VI (demographic register)",
    "address": "Law 1871-IX (residence registration)",
    "rnokpp": "Tax Code art. 70",
    "employment": "Law 2464-VI (single social contribution)",
    "education": "Law 1556-VII (higher education; EDEBO)",
    "health": "MoD Order 402 of 14.08.2008 (as amended)",
    "border": "Law 1710-VI (border control)",
    "disability": "CMU Resolution 1317 of 03.12.2009",
    "care": "Law 3543-XII art. 23 (constant care of a relative)",
    "reservation": "CMU Resolution 76 of 27.01.2023",
}


@dataclass(frozen=True, slots=True)
class AdaptedFact:
    """A fact to append; ``supersedes_record_id`` names the same source's earlier record that it
    replaces (resolved to a fact id at intake). ``names_only``: an identity fact that states the
    names alone, which intake completes from the person's identity (``with_identity``)."""

    fact: NewFact
    supersedes_record_id: str | None = None
    names_only: bool = False


@dataclass(frozen=True, slots=True)
class Adapted:
    facts: list[AdaptedFact]
    creates_person: bool = False  # a birth registers a person the register may not know yet


def adapt(source: str, message: Message) -> Adapted:
    """The facts a message states, each with the source's record id as its idempotency key."""
    adapter = _ADAPTERS[type(message)]
    return adapter(source, message)


def _fact(
    source: str,
    message: Message,
    kind: FactKind,
    payload: dict[str, Any],
    *,
    basis: str,
    valid_from: Any = None,
    valid_to: Any = None,
    supersedes: str | None = None,
) -> AdaptedFact:
    fact = NewFact(
        kind=kind,
        payload={key: value for key, value in payload.items() if value is not None},
        valid_from=valid_from,
        valid_to=valid_to,
        source=source,
        source_record_id=message.source_record_id,
        legal_basis=LEGAL_BASIS[basis],
        actor=f"source:{source}",
    )
    return AdaptedFact(fact=fact, supersedes_record_id=supersedes)


def _birth(source: str, message: Any) -> Adapted:
    assert isinstance(message, Birth)
    payload = message.payload.model_dump(mode="json")
    fact = _fact(
        source,
        message,
        FactKind.identity,
        payload,
        basis="civil_status",
        valid_from=message.payload.birth_date,
    )
    return Adapted([fact], creates_person=True)


def _death(source: str, message: Any) -> Adapted:
    assert isinstance(message, Death)
    payload = message.payload.model_dump(mode="json")
    day = message.payload.date_of_death
    return Adapted(
        [_fact(source, message, FactKind.death, payload, basis="civil_status", valid_from=day)]
    )


def _name_change(source: str, message: Any) -> Adapted:
    # The names alone: a name change changes nothing else about the person. The subject is who
    # the message is about, as the source knows them (possibly without a birth date, sex or
    # birth place, or spelling them otherwise), not what the register holds, and the act states
    # no citizenship: the identity built from it reset a foreigner's to UKR. Intake, which knows
    # the person, completes the fact from their identity (``with_identity``).
    assert isinstance(message, NameChange)
    body = message.payload
    payload = {
        "surname": body.surname,
        "given_name": body.given_name,
        "patronymic": body.patronymic,
    }
    day = body.effective_on
    fact = _fact(source, message, FactKind.identity, payload, basis="civil_status", valid_from=day)
    return Adapted([AdaptedFact(fact.fact, names_only=True)])


NAME_FIELDS = ("surname", "given_name", "patronymic")


def with_identity(item: AdaptedFact, identity: Mapping[str, Any] | None) -> NewFact:
    """The fact to append: a names-only identity fact completed with every other field of the
    person's ``identity`` (the payload the register holds), or the fact as it is.

    Why here and not in the fold: the journal's identity facts stay whole, so the fold, the
    projection and everything reading a person's identity are unchanged, and the fact says
    what the register held when it applied the change (the old names before it, in world and
    register time). The adapter stays a pure function of the message; intake, which reads the
    person anyway, passes their identity in. ``InvalidFact`` when the register holds none."""
    if not item.names_only:
        return item.fact
    if identity is None:
        raise InvalidFact([("identity", "a name change of a person without an identity")])
    kept = {key: value for key, value in identity.items() if key not in NAME_FIELDS}
    return item.fact.model_copy(update={"payload": kept | item.fact.payload})


def _marriage(source: str, message: Any) -> Adapted:
    assert isinstance(message, Marriage)
    body = message.payload
    payload = {
        "relation": "spouse",
        "relative_name": body.spouse_name,
        "relative_birth_date": body.spouse_birth_date.isoformat()
        if body.spouse_birth_date
        else None,
        "ends_record_id": body.marriage_record_id,
    }
    fact = _fact(
        source,
        message,
        FactKind.family,
        payload,
        basis="civil_status",
        valid_from=body.married_on,
        valid_to=body.divorced_on,
        supersedes=body.marriage_record_id,
    )
    return Adapted([fact])


def _paternity(source: str, message: Any) -> Adapted:
    assert isinstance(message, Paternity)
    body = message.payload
    payload = {
        "relation": "child",
        "relative_name": body.child_name,
        "relative_birth_date": body.child_birth_date.isoformat(),
        "relative_sex": body.child_sex,
    }
    return Adapted(
        [
            _fact(
                source,
                message,
                FactKind.family,
                payload,
                basis="civil_status",
                valid_from=body.established_on,
            )
        ]
    )


def _unzr(source: str, message: Any) -> Adapted:
    assert isinstance(message, UnzrAssigned)
    payload = {"identifier_kind": "unzr", "value": message.payload.unzr, "status": "active"}
    day = message.payload.assigned_on
    return Adapted(
        [_fact(source, message, FactKind.identifier, payload, basis="demographic", valid_from=day)]
    )


def _document(source: str, message: Any) -> Adapted:
    assert isinstance(message, DocumentIssued)
    status = "active" if message.message_type == "document_issued" else "invalidated"
    payload = {
        "identifier_kind": message.payload.document_kind,
        "value": message.payload.number,
        "status": status,
    }
    day = message.payload.on
    return Adapted(
        [_fact(source, message, FactKind.identifier, payload, basis="demographic", valid_from=day)]
    )


def _address(source: str, message: Any) -> Adapted:
    assert isinstance(message, RegisteredAddress)
    payload = message.payload.model_dump(mode="json", exclude={"registered_on"})
    payload["address_kind"] = "registered"
    day = message.payload.registered_on
    return Adapted(
        [_fact(source, message, FactKind.address, payload, basis="address", valid_from=day)]
    )


def _rnokpp(source: str, message: Any) -> Adapted:
    assert isinstance(message, RnokppAssigned)
    payload = {"identifier_kind": "rnokpp", "value": message.payload.rnokpp, "status": "active"}
    day = message.payload.assigned_on
    return Adapted(
        [_fact(source, message, FactKind.identifier, payload, basis="rnokpp", valid_from=day)]
    )


def _employment(source: str, message: Any) -> Adapted:
    assert isinstance(message, Employment)
    body = message.payload
    payload = body.model_dump(mode="json", exclude={"started_on", "ended_on", "start_record_id"})
    payload["ends_record_id"] = body.start_record_id
    fact = _fact(
        source,
        message,
        FactKind.employment,
        payload,
        basis="employment",
        valid_from=body.started_on,
        valid_to=body.ended_on,
        supersedes=body.start_record_id,
    )
    return Adapted([fact])


def _enrolment(source: str, message: Any) -> Adapted:
    assert isinstance(message, Enrolment)
    body = message.payload
    payload = body.model_dump(
        mode="json", exclude={"enrolled_on", "ended_on", "enrolment_record_id"}
    )
    payload["ends_record_id"] = body.enrolment_record_id
    fact = _fact(
        source,
        message,
        FactKind.education,
        payload,
        basis="education",
        valid_from=body.enrolled_on,
        valid_to=body.ended_on,
        supersedes=body.enrolment_record_id,
    )
    return Adapted([fact])


def _fitness(source: str, message: Any) -> Adapted:
    assert isinstance(message, FitnessDecision)
    payload = message.payload.model_dump(mode="json")
    day = message.payload.decision_date
    return Adapted(
        [_fact(source, message, FactKind.medical_decision, payload, basis="health", valid_from=day)]
    )


def _crossing(source: str, message: Any) -> Adapted:
    assert isinstance(message, Crossing)
    payload = message.payload.model_dump(mode="json", exclude={"crossed_on"})
    payload["direction"] = message.message_type
    day = message.payload.crossed_on
    return Adapted(
        [_fact(source, message, FactKind.border_crossing, payload, basis="border", valid_from=day)]
    )


def _disability(source: str, message: Any) -> Adapted:
    assert isinstance(message, DisabilityGroup)
    body = message.payload
    fact = _fact(
        source,
        message,
        FactKind.disability,
        {"group": body.group, "ends_record_id": body.start_record_id},
        basis="disability",
        valid_from=body.established_on,
        valid_to=body.until,
        supersedes=body.start_record_id,
    )
    return Adapted([fact])


def _caregiver(source: str, message: Any) -> Adapted:
    assert isinstance(message, Caregiver)
    body = message.payload
    payload = body.model_dump(mode="json", exclude={"since", "until", "start_record_id"})
    payload["needs_constant_care"] = True
    payload["ends_record_id"] = body.start_record_id
    fact = _fact(
        source,
        message,
        FactKind.family,
        payload,
        basis="care",
        valid_from=body.since,
        valid_to=body.until,
        supersedes=body.start_record_id,
    )
    return Adapted([fact])


def _reservation(source: str, message: Any) -> Adapted:
    assert isinstance(message, Reservation)
    body = message.payload
    payload = {
        "employer_code": body.employer_code,
        "decision_ref": body.decision_ref,
        "ends_record_id": body.start_record_id,
    }
    fact = _fact(
        source,
        message,
        FactKind.reservation,
        payload,
        basis="reservation",
        valid_from=body.reserved_from,
        valid_to=body.reserved_until,
        supersedes=body.start_record_id,
    )
    return Adapted([fact])


_ADAPTERS: dict[type[Any], Callable[[str, Any], Adapted]] = {
    Birth: _birth,
    Death: _death,
    NameChange: _name_change,
    Marriage: _marriage,
    Paternity: _paternity,
    UnzrAssigned: _unzr,
    DocumentIssued: _document,
    RegisteredAddress: _address,
    RnokppAssigned: _rnokpp,
    Employment: _employment,
    Enrolment: _enrolment,
    FitnessDecision: _fitness,
    Crossing: _crossing,
    DisabilityGroup: _disability,
    Caregiver: _caregiver,
    Reservation: _reservation,
}
