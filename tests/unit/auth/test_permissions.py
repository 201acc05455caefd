"""The role -> permission map: what each role may do, and what it must never do."""

from __future__ import annotations

import pytest

from oberih.auth.permissions import ROLE_PERMISSIONS, Permission, missing_permissions
from oberih.auth.principals import Principal, Role

P = Permission
PERSONAL_DATA = {
    P.person_record_read,
    P.person_record_write,
    P.person_search,
    P.person_history_read,
}


def test_every_role_has_permissions() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert all(ROLE_PERMISSIONS[role] for role in Role)


def test_every_permission_is_granted_to_some_role() -> None:
    granted = set().union(*ROLE_PERMISSIONS.values())
    assert granted == set(Permission)


@pytest.mark.parametrize(
    "role", [Role.auditor, Role.analyst, Role.verifier, Role.source_register, Role.employer]
)
def test_roles_without_access_to_person_records(role: Role) -> None:
    assert not ROLE_PERMISSIONS[role] & PERSONAL_DATA


def test_the_employer_sees_only_reservation_data() -> None:
    assert ROLE_PERMISSIONS[Role.employer] == {P.person_reservation_read}


def test_only_the_auditor_reads_the_audit_log() -> None:
    assert [role for role in Role if P.audit_read in ROLE_PERMISSIONS[role]] == [Role.auditor]


def test_only_citizens_write_their_own_contacts_and_read_their_own_audit() -> None:
    for permission in (P.person_contact_write_own, P.audit_own_read):
        holders = [role for role in Role if permission in ROLE_PERMISSIONS[role]]
        assert holders == [Role.citizen]


def test_medical_decisions_are_written_by_commissions_only() -> None:
    holders = [role for role in Role if P.person_medical_write in ROLE_PERMISSIONS[role]]
    assert holders == [Role.medical_commission]


def test_missing_permissions_lists_what_the_role_lacks_in_order() -> None:
    auditor = Principal(subject="a", role=Role.auditor)
    needed = (P.person_record_read, P.audit_read, P.stats_read)
    assert missing_permissions(auditor, needed) == (P.person_record_read, P.stats_read)


def test_permission_values_follow_the_resource_action_style() -> None:
    assert all(value.count(":") >= 1 and value == value.lower() for value in Permission)
    assert P.person_record_read.value == "person:record:read"
