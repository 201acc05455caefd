"""Principals from token claims: each role carries exactly the attributes that bound it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from oberih.auth.principals import (
    InvalidPrincipal,
    Principal,
    Role,
    claims_of,
    office_region,
    principal_from_claims,
)

PERSON = uuid.UUID("00000000-0000-4000-8000-000000000001")

VALID: list[dict[str, Any]] = [
    {"sub": "c-1", "oberih_role": "citizen", "oberih_person": str(PERSON)},
    {"sub": "o-1", "oberih_role": "tcc_officer", "oberih_office": "TCC-UA46-03"},
    {"sub": "o-2", "oberih_role": "tcc_officer", "oberih_region": "UA46"},
    {
        "sub": "o-3",
        "oberih_role": "tcc_officer",
        "oberih_office": "TCC-UA46-00",
        "oberih_region": "UA46",
    },
    {"sub": "m-1", "oberih_role": "medical_commission", "oberih_office": "TCC-UA80-02"},
    {"sub": "e-1", "oberih_role": "employer", "oberih_employer": "12345678"},
    {"sub": "a-1", "oberih_role": "registry_admin"},
    {"sub": "a-2", "oberih_role": "auditor"},
    {"sub": "a-3", "oberih_role": "analyst"},
    {"sub": "v-1", "oberih_role": "verifier"},
    {"sub": "s-1", "oberih_role": "source_register", "oberih_source": "civil_status"},
]


@pytest.mark.parametrize("claims", VALID, ids=lambda c: c["sub"])
def test_valid_claims_round_trip(claims: dict[str, Any]) -> None:
    principal = principal_from_claims(claims)
    assert claims_of(principal) == claims


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"sub": "x", "oberih_role": "superuser"}, "unknown role"),
        ({"oberih_role": "auditor"}, "subject"),
        ({"sub": "has space", "oberih_role": "auditor"}, "subject"),
        ({"sub": "c", "oberih_role": "citizen"}, "needs person"),
        ({"sub": "c", "oberih_role": "citizen", "oberih_person": "nope"}, "malformed"),
        ({"sub": "o", "oberih_role": "tcc_officer"}, "needs office or region"),
        ({"sub": "o", "oberih_role": "tcc_officer", "oberih_office": "KYIV"}, "malformed"),
        ({"sub": "o", "oberih_role": "tcc_officer", "oberih_region": "UA4%"}, "malformed"),
        (
            {
                "sub": "o",
                "oberih_role": "tcc_officer",
                "oberih_office": "TCC-UA80-01",
                "oberih_region": "UA46",
            },
            "outside the stated region",
        ),
        ({"sub": "m", "oberih_role": "medical_commission", "oberih_region": "UA46"}, "office"),
        ({"sub": "e", "oberih_role": "employer", "oberih_employer": "1234"}, "malformed"),
        ({"sub": "s", "oberih_role": "source_register"}, "needs source"),
        ({"sub": "s", "oberih_role": "source_register", "oberih_source": "mfa"}, "unknown source"),
        # Attributes of another role are refused, not ignored: they would widen nothing today,
        # but a token that mixes roles is a misconfigured identity provider.
        (
            {"sub": "a", "oberih_role": "registry_admin", "oberih_office": "TCC-UA46-03"},
            "not an attribute",
        ),
        (
            {"sub": "c", "oberih_role": "auditor", "oberih_person": str(PERSON)},
            "not an attribute",
        ),
    ],
)
def test_claims_that_do_not_fit_are_refused(claims: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidPrincipal, match=reason):
        principal_from_claims(claims)


def test_the_actor_names_role_and_subject() -> None:
    assert Principal(subject="s-9", role=Role.auditor).actor == "auditor:s-9"


def test_office_codes_carry_their_region() -> None:
    assert office_region("TCC-UA46-03") == "UA46"
    assert office_region("TCC-UA80-10") == "UA80"
    assert office_region("somewhere") is None
