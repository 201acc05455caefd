"""Who is calling: roles and the principal a verified token stands for (pure, no framework).

A principal has exactly one role. The attributes that bound its reach come from the identity
provider's token (never from the request): the office of an officer, the region of a regional
officer, the person of a citizen, the EDRPOU of an employer, the register of a source client.
``principal_from_claims`` refuses a token whose attributes do not fit its role, so a
``tcc_officer`` token without an office is not a nationwide officer but no officer at all.

Token claims (private names, prefixed so they never collide with registered OIDC claims)::

    sub              subject (required)
    oberih_role      one of ``Role`` (required)
    oberih_office    office code, e.g. "TCC-UA46-03" (officers, medical commissions)
    oberih_region    KATOTTH oblast code, e.g. "UA46" (a regional officer: every office there)
    oberih_person    UUID of the citizen's own record (citizens)
    oberih_employer  EDRPOU, 8 digits (employers)
    oberih_source    source register name, e.g. "tax" (source-register clients)
    jti, name        token id and display name (optional)
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    citizen = "citizen"
    tcc_officer = "tcc_officer"
    medical_commission = "medical_commission"
    employer = "employer"
    registry_admin = "registry_admin"
    auditor = "auditor"
    analyst = "analyst"
    verifier = "verifier"
    source_register = "source_register"


# The registers that feed the register (oberih.persons.facts.SourceKind, less the register's own
# officers, citizens and itself): each is one client role ``source_register`` with its name.
SOURCE_REGISTERS = frozenset(
    {"civil_status", "demographic", "tax", "education", "health", "border", "social", "employer"}
)

CLAIM_ROLE = "oberih_role"
CLAIM_OFFICE = "oberih_office"
CLAIM_REGION = "oberih_region"
CLAIM_PERSON = "oberih_person"
CLAIM_EMPLOYER = "oberih_employer"
CLAIM_SOURCE = "oberih_source"

# "TCC-UA46-03": territorial recruitment centre, KATOTTH oblast code, office number. The region is
# part of the code, so a regional scope is a prefix of office codes.
OFFICE_CODE = re.compile(r"^TCC-(UA\d{2})-\d{1,6}$")
REGION_CODE = re.compile(r"^UA\d{2}$")
EDRPOU = re.compile(r"^\d{8}$")
_SUBJECT = re.compile(r"^[\x21-\x7e]{1,100}$")  # printable ASCII: it becomes the audit actor


class InvalidPrincipal(ValueError):
    """Token claims that do not describe an acceptable principal (``reason`` is safe to log)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    role: Role
    office_code: str | None = None
    region: str | None = None
    person_id: uuid.UUID | None = None
    employer_code: str | None = None
    source: str | None = None
    token_id: str | None = None
    display_name: str | None = None

    @property
    def actor(self) -> str:
        """The actor named in facts and audit events, e.g. ``"tcc_officer:officer-17"``."""
        return f"{self.role.value}:{self.subject}"


def office_region(office_code: str) -> str | None:
    """The oblast an office belongs to, read from its code (``TCC-UA46-03`` -> ``UA46``)."""
    match = OFFICE_CODE.match(office_code)
    return match.group(1) if match else None


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """The principal verified claims describe; raises ``InvalidPrincipal`` when they do not fit."""
    role = _role(claims.get(CLAIM_ROLE))
    principal = Principal(
        subject=_subject(claims.get("sub")),
        role=role,
        office_code=_matching(claims, CLAIM_OFFICE, OFFICE_CODE),
        region=_matching(claims, CLAIM_REGION, REGION_CODE),
        person_id=_person_id(claims.get(CLAIM_PERSON)),
        employer_code=_matching(claims, CLAIM_EMPLOYER, EDRPOU),
        source=_optional_text(claims, CLAIM_SOURCE),
        token_id=_optional_text(claims, "jti"),
        display_name=_optional_text(claims, "name"),
    )
    check_attributes(principal)
    return principal


def claims_of(principal: Principal) -> dict[str, Any]:
    """The private claims that describe ``principal`` (the inverse of ``principal_from_claims``)."""
    claims: dict[str, Any] = {"sub": principal.subject, CLAIM_ROLE: principal.role.value}
    optional = {
        CLAIM_OFFICE: principal.office_code,
        CLAIM_REGION: principal.region,
        CLAIM_PERSON: str(principal.person_id) if principal.person_id else None,
        CLAIM_EMPLOYER: principal.employer_code,
        CLAIM_SOURCE: principal.source,
        "name": principal.display_name,
    }
    claims.update({name: value for name, value in optional.items() if value is not None})
    return claims


def check_attributes(principal: Principal) -> None:
    """Each role carries exactly the attributes that bound it, and no others."""
    role = principal.role
    _require(principal.person_id is not None, role is Role.citizen, "person")
    _require(principal.employer_code is not None, role is Role.employer, "employer")
    _require(principal.source is not None, role is Role.source_register, "source")
    officer = role in (Role.tcc_officer, Role.medical_commission)
    has_area = principal.office_code is not None or principal.region is not None
    _require(has_area, officer, "office or region")
    if role is Role.medical_commission and principal.office_code is None:
        raise InvalidPrincipal("a medical commission needs its office")
    if principal.source is not None and principal.source not in SOURCE_REGISTERS:
        raise InvalidPrincipal("unknown source register")
    if (
        principal.office_code
        and principal.region
        and office_region(principal.office_code) != principal.region
    ):
        raise InvalidPrincipal("office outside the stated region")


def _require(present: bool, expected: bool, attribute: str) -> None:
    if present and not expected:
        raise InvalidPrincipal(f"{attribute} is not an attribute of this role")
    if expected and not present:
        raise InvalidPrincipal(f"this role needs {attribute}")


def _role(value: Any) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidPrincipal("unknown role") from None


def _subject(value: Any) -> str:
    if not isinstance(value, str) or not _SUBJECT.match(value):
        raise InvalidPrincipal("subject missing or malformed")
    return value


def _optional_text(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= 200:
        raise InvalidPrincipal(f"{name} malformed")
    return value


def _matching(claims: Mapping[str, Any], name: str, pattern: re.Pattern[str]) -> str | None:
    value = _optional_text(claims, name)
    if value is not None and not pattern.match(value):
        raise InvalidPrincipal(f"{name} malformed")
    return value


def _person_id(value: Any) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidPrincipal(f"{CLAIM_PERSON} malformed") from None
