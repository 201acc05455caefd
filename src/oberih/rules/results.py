"""What a determination says, and its stable codes.

Stable identifiers (documented here, never renamed; new ones may be added):

Categories (``Category``):
    ``not_liable``  not on military registration (too young, not registered by law, ...)
    ``conscript``   призовник: registered young man, not yet liable
    ``liable``      військовозобов'язаний: liable for military service (in the reserve)
    ``reservist``   резервіст: in the operational reserve under contract
    ``removed``     знятий з обліку, with a ``RemovalReason``

Removal reasons (``RemovalReason``): ``age``, ``health``, ``death``, ``citizenship``, and
``other`` for a removal the register records without one of those reasons.

Why a person may not be called up (``Reason``): ``not_liable``, ``no_mobilisation``, ``sex``,
``age_below``, ``age_above``, ``fitness``, ``in_service``, ``deferral``, ``reservation``.

Restrictions on a call-up that is allowed (``restrictions``): ``support_units_only`` (fit for
support units only), ``fitness_review_required`` (a decision of an abolished category that must
be reviewed).

Deferral ground codes are the keys of the profile's ``deferral_grounds`` (for Ukraine:
``temporarily_unfit``, ``disability``, ``three_children``, ``child_raised_alone``,
``child_with_disability``, ``seriously_ill_child``, ``adult_child_disability``,
``relative_disability_care``, ``constant_care``, ``guardian_orphan``, ``guardian_incapacitated``,
``other_parent_serving``, ``student``, ``teaching_research_staff``, ``relative_killed_or_missing``,
``released_from_captivity``); a deferral granted by an officer may carry any other code.

Rule identifiers (the ``rule`` of each explanation step) are the keys of the profile's ``rules``
plus ``deferral.<ground>`` for an established ground; see ``engine.REQUIRED_RULES``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from oberih.rules.profile import Citation, DatedValue
from oberih.rules.situation import FactRef


class Category(StrEnum):
    not_liable = "not_liable"
    conscript = "conscript"
    liable = "liable"
    reservist = "reservist"
    removed = "removed"


class RemovalReason(StrEnum):
    age = "age"
    health = "health"
    death = "death"
    citizenship = "citizenship"
    other = "other"


class Reason(StrEnum):
    """Why a person may not be called up on the day."""

    not_liable = "not_liable"
    no_mobilisation = "no_mobilisation"
    sex = "sex"
    age_below = "age_below"
    age_above = "age_above"
    fitness = "fitness"
    in_service = "in_service"
    deferral = "deferral"
    reservation = "reservation"


class DeferralStatus(StrEnum):
    granted = "granted"  # a deferral fact: decided by an office or granted automatically
    established = "established"  # the evidence in the register establishes the ground


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return value


class RuleStep(NamedTuple):
    """One rule that fired: what it concluded, on which law, parameters and facts."""

    rule: str
    outcome: dict[str, Any]
    citation: Citation
    parameters: tuple[DatedValue, ...] = ()
    facts: tuple[FactRef, ...] = ()
    overrides: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "overrides": self.overrides,
            "outcome": _jsonable(self.outcome),
            "citation": self.citation.json,
            "parameters": [
                {
                    "name": value.parameter,
                    "value": _jsonable(value.value),
                    "from": value.valid_from.isoformat(),
                    "citation": value.citation.json,
                }
                for value in self.parameters
            ],
            "facts": [fact.to_json() for fact in self.facts],
        }


class DeferralResult(NamedTuple):
    ground: str
    valid_from: dt.date | None
    until: dt.date | None  # last day (inclusive); None: while the evidence lasts
    status: DeferralStatus
    facts: tuple[FactRef, ...]
    citation: Citation | None

    def key(self) -> tuple[Any, ...]:
        return (self.ground, self.valid_from, self.until, self.status.value)

    def to_json(self) -> dict[str, Any]:
        return {
            "ground": self.ground,
            "from": _iso(self.valid_from),
            "until": _iso(self.until),
            "status": self.status.value,
            "citation": self.citation.json if self.citation else None,
            "facts": [fact.to_json() for fact in self.facts],
        }


class ReservationResult(NamedTuple):
    employer_code: str | None
    valid_from: dt.date | None
    until: dt.date | None
    facts: tuple[FactRef, ...]

    def key(self) -> tuple[Any, ...]:
        return (self.employer_code, self.valid_from, self.until)

    def to_json(self) -> dict[str, Any]:
        return {
            "employer_code": self.employer_code,
            "from": _iso(self.valid_from),
            "until": _iso(self.until),
            "facts": [fact.to_json() for fact in self.facts],
        }


class Duty(NamedTuple):
    duty: str  # register_as_conscript
    valid_from: dt.date
    until: dt.date
    overdue: bool

    def key(self) -> tuple[Any, ...]:
        return (self.duty, self.valid_from, self.until, self.overdue)

    def to_json(self) -> dict[str, Any]:
        return {
            "duty": self.duty,
            "from": self.valid_from.isoformat(),
            "until": self.until.isoformat(),
            "overdue": self.overdue,
        }


@dataclass(frozen=True, slots=True)
class Determination:
    """The answer for one person on one day, with the explanation of every part of it."""

    person_id: str | None
    on: dt.date
    profile: str  # code@version
    category: Category
    removal_reason: RemovalReason | None
    recorded_category: str | None  # what the register records, when it differs it shows
    mobilisable: bool
    not_mobilisable_because: tuple[Reason, ...]
    restrictions: tuple[str, ...]  # support_units_only, fitness_review_required
    deferrals: tuple[DeferralResult, ...]
    reservations: tuple[ReservationResult, ...]
    duties: tuple[Duty, ...]
    document_valid_until: dt.date | None
    next_change: dt.date | None
    explanation: tuple[RuleStep, ...]

    def core(self) -> tuple[Any, ...]:
        """The answer without its dates of evaluation: equal cores mean the same answer."""
        return (
            self.category.value,
            self.removal_reason.value if self.removal_reason else None,
            self.recorded_category,
            self.mobilisable,
            tuple(reason.value for reason in self.not_mobilisable_because),
            self.restrictions,
            tuple(d.key() for d in self.deferrals),
            tuple(r.key() for r in self.reservations),
            tuple(d.key() for d in self.duties),
        )

    def fingerprint(self) -> str:
        """Hash of what the determination says (not when it was computed): stored rows change
        only when this does. It is the hash of the stored record (the answer, the next change,
        the rules fired with the facts and parameter values they used), which leaves out the
        day evaluated, ages and the document's validity, as these move daily."""
        return self.fingerprint_and_record()[0]

    def fingerprint_and_record(self) -> tuple[str, str]:
        """(fingerprint, record as JSON text): what recompute compares and stores."""
        text = json.dumps(self.to_record(), ensure_ascii=False, separators=(",", ":"))
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest(), text

    def to_json(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "on": self.on.isoformat(),
            "profile": self.profile,
            "category": self.category.value,
            "removal_reason": self.removal_reason.value if self.removal_reason else None,
            "recorded_category": self.recorded_category,
            "mobilisable": self.mobilisable,
            "not_mobilisable_because": [reason.value for reason in self.not_mobilisable_because],
            "restrictions": list(self.restrictions),
            "deferrals": [deferral.to_json() for deferral in self.deferrals],
            "reservations": [reservation.to_json() for reservation in self.reservations],
            "duties": [duty.to_json() for duty in self.duties],
            "document_valid_until": _iso(self.document_valid_until),
            "next_change": _iso(self.next_change),
            "explanation": [step.to_json() for step in self.explanation],
        }

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))

    def to_record(self) -> dict[str, Any]:
        """The compact form stored in the history: the answer, and the trace as rule ids with
        the ids of the facts and the parameter values (``name@from``) each rule used.

        Citations and wording are the profile version's (stored beside it), and the facts are
        in the append-only journal, so the full explanation can be rebuilt from a record.
        """
        return {
            "category": self.category.value,
            "removal_reason": self.removal_reason.value if self.removal_reason else None,
            "recorded_category": self.recorded_category,
            "mobilisable": self.mobilisable,
            "not_mobilisable_because": [reason.value for reason in self.not_mobilisable_because],
            "restrictions": list(self.restrictions),
            "deferrals": [
                [
                    d.ground,
                    _iso(d.valid_from),
                    _iso(d.until),
                    d.status.value,
                    [f.fact_id for f in d.facts],
                ]
                for d in self.deferrals
            ],
            "reservations": [
                [r.employer_code, _iso(r.valid_from), _iso(r.until), [f.fact_id for f in r.facts]]
                for r in self.reservations
            ],
            "duties": [
                [d.duty, d.valid_from.isoformat(), d.until.isoformat(), d.overdue]
                for d in self.duties
            ],
            "next_change": _iso(self.next_change),
            "trace": [
                [
                    step.rule,
                    [f.fact_id for f in step.facts],
                    [value.ref for value in step.parameters],
                ]
                for step in self.explanation
            ],
        }
