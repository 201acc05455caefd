"""Declared purposes of officer reads: case numbers, reason codes, classified purposes."""

from __future__ import annotations

import datetime as dt

import pytest

from oberih.auth.errors import PurposeRequired
from oberih.auth.principals import Role
from oberih.auth.purposes import Purpose, PurposePolicy, parse_purpose

TODAY = dt.date(2026, 3, 1)


def _parse(text: str | None) -> Purpose:
    return parse_purpose(text, today=TODAY, classified_days=90)


@pytest.mark.parametrize("text", ["CASE-2026-000123", "DEFERRAL-REVIEW", "CITIZEN-VISIT"])
def test_case_numbers_and_reason_codes_are_purposes(text: str) -> None:
    assert _parse(text) == Purpose(code=text)


@pytest.mark.parametrize(
    "text",
    [None, "", "because", "case-2026-000123", "CASE-26-1", "CASE-2026-000123 ", "X" * 65],
)
def test_anything_else_is_refused(text: str | None) -> None:
    with pytest.raises(PurposeRequired):
        _parse(text)


def test_a_classified_case_is_withheld_until_the_disclosure_date() -> None:
    purpose = _parse("classified:CASE-2026-000123")
    assert purpose.code == "CASE-2026-000123"
    assert purpose.classified_until == TODAY + dt.timedelta(days=90)
    assert purpose.classified


def test_court_and_law_enforcement_requests_may_be_classified() -> None:
    assert _parse("classified:COURT-REQUEST").classified


def test_routine_reasons_cannot_be_classified() -> None:
    with pytest.raises(PurposeRequired) as caught:
        _parse("classified:CITIZEN-VISIT")
    assert "may be classified" in caught.value.detail


def test_the_refusal_never_echoes_the_value_sent() -> None:
    with pytest.raises(PurposeRequired) as caught:
        _parse("Ivanenko asked me")
    assert "Ivanenko" not in caught.value.detail


def test_officers_declare_purposes_citizens_do_not() -> None:
    policy = PurposePolicy()
    assert policy.requires_purpose(Role.tcc_officer)
    assert policy.requires_purpose(Role.medical_commission)
    assert policy.requires_purpose(Role.registry_admin)
    assert not policy.requires_purpose(Role.citizen)
    assert not policy.requires_purpose(Role.employer)
