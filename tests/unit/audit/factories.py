"""Synthetic audit events for tests: ids only, never personal data."""

from __future__ import annotations

import datetime as dt
import uuid

from oberih.audit.events import AuditEvent

PERSON = uuid.UUID("00000000-0000-4000-8000-000000000001")


def audit_event(
    number: int = 0,
    *,
    person_id: uuid.UUID | None = PERSON,
    action: str = "person:record:read",
    outcome: str = "allowed",
    role: str = "tcc_officer",
    office_code: str | None = "TCC-UA46-03",
    purpose: str | None = "case 2026/17",
    classified_until: dt.date | None = None,
) -> AuditEvent:
    return AuditEvent(
        action=action,
        outcome=outcome,
        actor=f"{role}:officer-{number}",
        role=role,
        office_code=office_code,
        purpose=purpose,
        person_id=person_id,
        fields=("surname", "birth_date"),
        request_id=f"req-{number}",
        classified_until=classified_until,
    )
