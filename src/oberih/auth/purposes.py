"""The declared purpose of an officer's read: a case number or a reason code (pure).

Every read of personal data by an office carries why it was made; the purpose is written into the
audit event and shown to the citizen in "who saw my data" (issue 3, point 5). A purpose is either
a case number (``CASE-2026-000123``) or one reason code from the fixed list below; free text is
refused, because it would invite personal data into the audit log and cannot be reviewed.

A purpose may be *classified* (``classified:CASE-2026-000123``): the access is still logged in full
and visible to auditors at once, but withheld from the citizen until a disclosure date, today plus
``Settings.purpose_classified_days``. Only case numbers and requests from courts or law
enforcement may be classified, so that routine reads cannot be hidden from the citizen by choice.
The length of the withholding period is an operator setting: we found no legal source fixing it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from oberih.auth.errors import PurposeRequired
from oberih.auth.principals import Role

CASE_NUMBER = re.compile(r"^CASE-\d{4}-\d{6}$")
CLASSIFIED_PREFIX = "classified:"
MAX_PURPOSE_LENGTH = 64


class ReasonCode(StrEnum):
    citizen_visit = "CITIZEN-VISIT"  # the citizen came to the office or asked in writing
    registration = "REGISTRATION"  # taking on or removing from military registration
    data_clarification = "DATA-CLARIFICATION"  # checking data flagged "being clarified"
    deferral_review = "DEFERRAL-REVIEW"
    reservation_review = "RESERVATION-REVIEW"
    medical_referral = "MEDICAL-REFERRAL"  # referral to / decision of a medical commission
    notice_delivery = "NOTICE-DELIVERY"  # serving a summons
    court_request = "COURT-REQUEST"
    law_enforcement_request = "LAW-ENFORCEMENT-REQUEST"


CLASSIFIABLE_REASONS = frozenset({ReasonCode.court_request, ReasonCode.law_enforcement_request})

# Roles that read other people's records as part of their office's work declare a purpose.
# Citizens read themselves; employers see only reservation data of their employees (the purpose
# is the reservation itself); the other roles read no person records.
ROLES_DECLARING_PURPOSE = frozenset(
    {Role.tcc_officer, Role.medical_commission, Role.registry_admin}
)

EXPECTED_FORM = (
    "a purpose is required: a case number like CASE-2026-000123 or one of the reason codes "
    + ", ".join(code.value for code in ReasonCode)
    + "; prefix 'classified:' for a classified case or court/law-enforcement request"
)


@dataclass(frozen=True, slots=True)
class Purpose:
    code: str  # "CASE-2026-000123" or a ReasonCode value
    classified_until: dt.date | None = None  # withheld from the citizen until this day

    @property
    def classified(self) -> bool:
        return self.classified_until is not None


@dataclass(frozen=True, slots=True)
class PurposePolicy:
    classified_days: int = 365
    roles_declaring: frozenset[Role] = ROLES_DECLARING_PURPOSE

    def requires_purpose(self, role: Role) -> bool:
        return role in self.roles_declaring


def parse_purpose(text: str | None, *, today: dt.date, classified_days: int) -> Purpose:
    """Parse a declared purpose; raises ``PurposeRequired`` when it is missing or malformed."""
    if not text or len(text) > MAX_PURPOSE_LENGTH:
        raise PurposeRequired(EXPECTED_FORM)
    classified = text.startswith(CLASSIFIED_PREFIX)
    code = text.removeprefix(CLASSIFIED_PREFIX) if classified else text
    if not _is_case_number(code) and not _is_reason_code(code):
        raise PurposeRequired(EXPECTED_FORM)
    if not classified:
        return Purpose(code=code)
    if not (_is_case_number(code) or code in CLASSIFIABLE_REASONS):
        raise PurposeRequired(
            "only case numbers and court or law-enforcement requests may be classified"
        )
    return Purpose(code=code, classified_until=today + dt.timedelta(days=classified_days))


def _is_case_number(code: str) -> bool:
    return CASE_NUMBER.match(code) is not None


def _is_reason_code(code: str) -> bool:
    return code in ReasonCode._value2member_map_
