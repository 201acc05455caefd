"""Permissions, declared per route, and the fixed map from role to permissions.

A route declares what it needs (``Depends(require(Permission.person_record_read))``); whether the
caller's role grants it is looked up here, never decided by an ``if`` in a handler (STYLE point 9,
after warehouse ``authnz/_permissions.py`` and dispatch's ``PermissionsDependency``). *Which*
persons a permission reaches is the caller's jurisdiction (``oberih.auth.jurisdiction``), applied
inside the SQL query.

Why a declared map and query scoping, not a policy engine (Cedar via cedarpy)
-----------------------------------------------------------------------------
Cedar would model region > office > person as an entity hierarchy and answer "may principal P do
action A on resource R?" for one resource at a time, and it would do that well. The register's
hard requirement is different: a search or a list must never return, count or hint at a person
outside the caller's area. That rule has to be a ``WHERE`` clause: filtering Cedar decisions after
the query would leak through counts, pagination and timing, and asking Cedar per row cannot
scale to a nation. Cedar's partial evaluation could in principle emit residual constraints to
translate into SQL, but that translator would be a second, hand-written policy interpreter, the
very thing a policy engine is meant to spare us, and would make the SQL filter, not Cedar, the
real authority. We would also need to load the person -> office -> region hierarchy into Cedar
entities for every single-record check, duplicating what one indexed column already says.

So the authority is split into two small, testable pieces: this map (role -> permissions, read in
one screen, reviewed like any code) and ``scope_for`` / ``apply_scope`` (role -> SQL filter). Both
are pure data and pure functions; a reviewer can check every role's reach without knowing a
policy language, and there is no extra native dependency. If policies ever need to be edited by
non-developers at run time, Cedar can take the place of ``ROLE_PERMISSIONS`` (the action check)
while jurisdiction stays in the query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType

from oberih.auth.principals import Principal, Role


class Permission(StrEnum):
    person_record_read = "person:record:read"
    person_record_write = "person:record:write"
    person_search = "person:search"
    person_history_read = "person:history:read"
    person_contact_write_own = "person:contact:write-own"
    person_medical_write = "person:medical:write"
    person_reservation_read = "person:reservation:read"
    person_match_review = "person:match:review"
    audit_read = "audit:read"
    audit_own_read = "audit:own:read"
    stats_read = "stats:read"
    document_verify = "document:verify"
    document_issue = "document:issue"
    exchange_submit = "exchange:submit"
    exchange_quarantine_read = "exchange:quarantine:read"


P = Permission

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        # Only their own record (scope: their person id): read it, its history, who saw it;
        # correct their contacts and actual address; get their e-document.
        Role.citizen: frozenset(
            {
                P.person_record_read,
                P.person_history_read,
                P.person_contact_write_own,
                P.audit_own_read,
                P.document_issue,
            }
        ),
        # Their office's (or region's) area, every read with a declared purpose.
        Role.tcc_officer: frozenset(
            {
                P.person_record_read,
                P.person_record_write,
                P.person_search,
                P.person_history_read,
                P.person_reservation_read,
                P.document_issue,
            }
        ),
        # Fitness decisions for persons referred to it (scope: its office, see jurisdiction).
        Role.medical_commission: frozenset(
            {P.person_record_read, P.person_search, P.person_medical_write}
        ),
        # Only reservation data of their own employees (scope: active employment at their EDRPOU).
        Role.employer: frozenset({P.person_reservation_read}),
        # Runs the register nationwide; does not read the audit log (the auditor watches admins).
        Role.registry_admin: frozenset(
            {
                P.person_record_read,
                P.person_record_write,
                P.person_search,
                P.person_history_read,
                P.person_reservation_read,
                P.person_match_review,
                P.document_issue,
                P.stats_read,
                P.exchange_quarantine_read,
            }
        ),
        # The audit log and its proofs: ids, never personal data.
        Role.auditor: frozenset({P.audit_read}),
        # Aggregates only.
        Role.analyst: frozenset({P.stats_read}),
        # Document checks only.
        Role.verifier: frozenset({P.document_verify}),
        # Its own feed only (the route checks the batch's register against the principal's).
        Role.source_register: frozenset({P.exchange_submit}),
    }
)


def permissions_of(role: Role) -> frozenset[Permission]:
    return ROLE_PERMISSIONS.get(role, frozenset())


def missing_permissions(
    principal: Principal, needed: Iterable[Permission]
) -> tuple[Permission, ...]:
    """The permissions in ``needed`` that the principal's role does not grant, in order."""
    granted = permissions_of(principal.role)
    return tuple(permission for permission in needed if permission not in granted)
