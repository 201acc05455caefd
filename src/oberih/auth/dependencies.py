"""FastAPI dependencies: authenticate the bearer, enforce declared permissions, scope and purpose.

Wiring (the app factory, once)::

    install_auth(app, build_auth_services(settings, sessions=session_factory, clock=clock))

Routes declare what they need; handlers never test roles::

    @router.get("/persons/{person_id}")
    def read_person(person_id: UUID, session: DbSession,
                    granted: Annotated[Access, Depends(access(Permission.person_record_read))]):
        granted.ensure_in_scope(session, person_id)     # OutOfScope (404) + audited denial
        ...
        record_read(session, granted.event(person_id=person_id, fields=("identity",)))

Lists and searches filter in the query: ``apply_scope(select(PersonStateRow...), granted.scope)``.

``require(*permissions)`` gives just the ``Principal`` (401 ``NotAuthenticated`` / 403
``PermissionDenied``); ``access(*permissions)`` adds the declared purpose (officers must give one:
header ``X-Purpose`` or query ``purpose``) and the caller's jurisdiction ``Scope`` for queries.

Denials (403 and out-of-scope 404) are audited as ``access:denied`` in a short transaction of
their own, because the request's transaction is rolled back when the request fails. They go to
the audit inbox like every request's events (no wait for the tree head lock); the sequencer makes
them leaves. Failed authentication (401) is logged, not audited: an anonymous caller must not be
able to grow the signed audit log at will, and has no actor to record; rate limits guard that
door.

The dependencies are ``async``: a sync dependency costs each request a trip to the worker-thread
pool, and verifying a token or checking permissions is short CPU work that the event loop does
in less time than the trip. Only a denial touches the database: it is recorded in a thread.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the annotations of the closures
# built by ``require`` and ``access``, which name local variables (the dependency they wrap).
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Protocol

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, Header, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from oberih.audit.events import AuditEvent
from oberih.audit.services import queue_events
from oberih.auth.errors import NotAuthenticated, OutOfScope, PermissionDenied, PurposeRequired
from oberih.auth.jurisdiction import Scope, person_in_scope, scope_for
from oberih.auth.permissions import Permission, missing_permissions
from oberih.auth.principals import Principal
from oberih.auth.purposes import Purpose, PurposePolicy, parse_purpose
from oberih.auth.tokens import TokenVerifier, build_token_verifier
from oberih.config import Settings
from oberih.persons.services import person_exists

logger = logging.getLogger("oberih.auth")

DENIED_ACTION = "access:denied"
PURPOSE_HEADER = "X-Purpose"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- denials -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Denial:
    attempted: str  # the permission or action refused, e.g. "person:record:read"
    reason: str  # "permission" | "purpose" | "out-of-scope" | "other-source"
    principal: Principal
    person_id: uuid.UUID | None = None
    purpose: Purpose | None = None
    request_id: str | None = None


class DenialRecorder(Protocol):
    def record(self, denial: Denial) -> None: ...


def denial_event(denial: Denial) -> AuditEvent:
    """The audit event of a denial: ids only; ``fields`` names what was attempted and why."""
    principal, purpose = denial.principal, denial.purpose
    return AuditEvent(
        action=DENIED_ACTION,
        outcome="denied",
        actor=principal.actor,
        role=principal.role.value,
        office_code=principal.office_code,
        purpose=purpose.code if purpose else None,
        person_id=denial.person_id,
        fields=(denial.attempted, f"reason:{denial.reason}"),
        request_id=denial.request_id,
        classified_until=purpose.classified_until if purpose else None,
    )


@dataclass(frozen=True, slots=True)
class AuditLogDenialRecorder:
    """Records each denial in the audit log's inbox, in its own short transaction (durable before
    the refusal is answered); the sequencer makes it a leaf like any request's event."""

    sessions: sessionmaker[Session]
    clock: Callable[[], dt.datetime] = utc_now

    def record(self, denial: Denial) -> None:
        with self.sessions() as session, session.begin():
            queue_events(session, [denial_event(denial)], now=self.clock())


@dataclass(slots=True)
class MemoryDenialRecorder:
    """Keeps denials in a list: for tests and tools that run without a database."""

    denials: list[Denial] = field(default_factory=list)

    def record(self, denial: Denial) -> None:
        self.denials.append(denial)


# --- services and wiring ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuthServices:
    verifier: TokenVerifier
    denials: DenialRecorder
    purposes: PurposePolicy = field(default_factory=PurposePolicy)
    clock: Callable[[], dt.datetime] = utc_now


def build_auth_services(
    settings: Settings,
    *,
    sessions: sessionmaker[Session],
    clock: Callable[[], dt.datetime] = utc_now,
) -> AuthServices:
    """Auth for the service (composition root); raises ``InsecureConfiguration`` when the
    settings would run it without a proper identity configuration."""
    return AuthServices(
        verifier=build_token_verifier(settings),
        denials=AuditLogDenialRecorder(sessions, clock),
        purposes=PurposePolicy(classified_days=settings.purpose_classified_days),
        clock=clock,
    )


def install_auth(app: FastAPI, services: AuthServices) -> None:
    app.state.auth = services


async def get_auth(request: Request) -> AuthServices:
    return _auth_services(request)


def _auth_services(request: Request) -> AuthServices:
    services: AuthServices | None = getattr(request.app.state, "auth", None)
    if services is None:
        raise RuntimeError("install_auth(app, ...) was not called by the app factory")
    return services


Auth = Annotated[AuthServices, Depends(get_auth)]


def _request_id(request: Request) -> str | None:
    value: str | None = getattr(request.state, "request_id", None)
    return value


async def _record_denial(auth: AuthServices, denial: Denial) -> None:
    # A limiter of its own (as ``get_session`` finishes transactions): a denial must not wait
    # for a worker thread while every one of them may be waiting for a database connection.
    await anyio.to_thread.run_sync(auth.denials.record, denial, limiter=anyio.CapacityLimiter(1))


def _path_person_id(request: Request) -> uuid.UUID | None:
    # Lets a citizen see that someone without the right tried to open their record.
    try:
        return uuid.UUID(str(request.path_params["person_id"]))
    except (KeyError, ValueError):
        return None


# --- authentication ----------------------------------------------------------------------------

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="A JWT from the configured identity provider (or, in development, "
    "`oberih dev token`).",
)


Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)]


async def authenticate(request: Request, auth: Auth, credentials: Credentials) -> Principal:
    """The caller, from a verified bearer token; ``NotAuthenticated`` (401) otherwise."""
    return _authenticated(request, auth, credentials)


def _authenticated(
    request: Request, auth: AuthServices, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    try:
        if credentials is None:
            raise NotAuthenticated("missing")
        principal = auth.verifier.verify(credentials.credentials)
    except NotAuthenticated as exc:
        logger.warning(
            "authentication failed: %s", exc.reason, extra={"request_id": _request_id(request)}
        )
        raise
    request.state.principal = principal  # for logs and rate limits keyed by actor
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


# --- permissions -------------------------------------------------------------------------------


def require(*permissions: Permission) -> Callable[..., Awaitable[Principal]]:
    """A dependency that returns the caller if their role grants every one of ``permissions``."""
    if not permissions:
        raise ValueError("require() needs at least one permission")

    # One dependency, not a chain (auth services, bearer, principal, permissions): FastAPI's
    # resolution costs each request about as much per dependency as the work in this one.
    async def dependency(request: Request, credentials: Credentials) -> Principal:
        auth = _auth_services(request)
        principal = _authenticated(request, auth, credentials)
        await _ensure_permitted(request, auth, principal, permissions)
        return principal

    dependency.__name__ = "require_" + "_and_".join(p.name for p in permissions)
    return dependency


async def _ensure_permitted(
    request: Request,
    auth: AuthServices,
    principal: Principal,
    permissions: tuple[Permission, ...],
    *,
    any_of: bool = False,
) -> tuple[Permission, ...]:
    """The ``permissions`` the principal holds, in order, if they suffice (all of them, or
    ``any_of`` them); else the denial is recorded and ``PermissionDenied`` raised."""
    missing = missing_permissions(principal, permissions)
    if len(missing) == len(permissions) if any_of else missing:
        denial = Denial(
            attempted=missing[0].value,
            reason="permission",
            principal=principal,
            person_id=_path_person_id(request),
            request_id=_request_id(request),
        )
        await _record_denial(auth, denial)
        raise PermissionDenied(missing=tuple(p.value for p in missing))
    return tuple(permission for permission in permissions if permission not in missing)


# --- purpose -----------------------------------------------------------------------------------


PurposeHeader = Annotated[
    str | None,
    Header(
        alias=PURPOSE_HEADER,
        description="Why an officer reads: a case number like CASE-2026-000123 or a reason code; "
        "prefix 'classified:' for a classified case.",
    ),
]
PurposeQuery = Annotated[
    str | None, Query(max_length=80, description="The same as the X-Purpose header.")
]


async def purpose_required(
    request: Request,
    auth: Auth,
    principal: CurrentPrincipal,
    purpose_header: PurposeHeader = None,
    purpose: PurposeQuery = None,
) -> Purpose | None:
    """The declared purpose; required of officers (``PurposeRequired``, 403, audited), ``None``
    for roles that read no one else's record with a purpose (citizens reading themselves)."""
    return await _declared_purpose(
        request, auth, principal, header=purpose_header, query=purpose, attempted="purpose"
    )


async def _declared_purpose(
    request: Request,
    auth: AuthServices,
    principal: Principal,
    *,
    header: str | None,
    query: str | None,
    attempted: str,
) -> Purpose | None:
    if not auth.purposes.requires_purpose(principal.role):
        return None
    try:
        if header is not None and query is not None and header != query:
            raise PurposeRequired("give the purpose once: header or query, not two different ones")
        return parse_purpose(
            header or query,
            today=auth.clock().date(),
            classified_days=auth.purposes.classified_days,
        )
    except PurposeRequired:
        denial = Denial(
            attempted=attempted,
            reason="purpose",
            principal=principal,
            person_id=_path_person_id(request),
            request_id=_request_id(request),
        )
        await _record_denial(auth, denial)
        raise


DeclaredPurpose = Annotated[Purpose | None, Depends(purpose_required)]


# --- access: principal, purpose and scope together -----------------------------------------------


@dataclass(frozen=True, slots=True)
class Access:
    """What a route handler knows about the caller, once permissions and purpose are checked."""

    principal: Principal
    purpose: Purpose | None
    scope: Scope
    action: str  # the route's first declared permission (``access_any``: held), the audit action
    request_id: str | None
    denials: DenialRecorder
    granted: frozenset[Permission]  # the route's declared permissions the caller holds

    def holds(self, permission: Permission) -> bool:
        """Whether the caller holds ``permission``: for a route declared with ``access_any``,
        whose callers reach further or less far by the permission they hold."""
        return permission in self.granted

    def ensure_in_scope(self, session: Session, person_id: uuid.UUID) -> None:
        """Raise ``OutOfScope`` (answered like not-found) unless the person is in the caller's
        area; an existing person outside it is an audited denial."""
        if person_in_scope(session, self.scope, person_id):
            return
        if person_exists(session, person_id):
            self.denials.record(self._denial("out-of-scope", person_id=person_id))
        raise OutOfScope(person_id)

    def ensure_own_source(self, source: str) -> None:
        """A source register's client may submit only its own register's feed."""
        if self.principal.source != source:
            self.denials.record(self._denial("other-source"))
            raise PermissionDenied(missing=(), reason="other-source")

    def event(
        self,
        action: str | None = None,
        *,
        person_id: uuid.UUID | None,
        fields: tuple[str, ...] = (),
        outcome: str = "allowed",
    ) -> AuditEvent:
        """The audit event of an access made under this caller, purpose and request."""
        purpose = self.purpose
        return AuditEvent(
            action=action or self.action,
            outcome=outcome,
            actor=self.principal.actor,
            role=self.principal.role.value,
            office_code=self.principal.office_code,
            purpose=purpose.code if purpose else None,
            person_id=person_id,
            fields=fields,
            request_id=self.request_id,
            classified_until=purpose.classified_until if purpose else None,
        )

    def _denial(self, reason: str, *, person_id: uuid.UUID | None = None) -> Denial:
        return Denial(
            attempted=self.action,
            reason=reason,
            principal=self.principal,
            person_id=person_id,
            purpose=self.purpose,
            request_id=self.request_id,
        )


def access(*permissions: Permission) -> Callable[..., Awaitable[Access]]:
    """Like ``require``, and also the declared purpose and the caller's ``Scope``."""
    if not permissions:
        raise ValueError("access() needs at least one permission")
    return _access(permissions, any_of=False)


def access_any(*permissions: Permission) -> Callable[..., Awaitable[Access]]:
    """Like ``access``, but any one of ``permissions`` suffices: a route that serves callers of
    different reach, each by their own permission (a source register's client reads its own
    batches, an operator every register's). ``Access.holds`` tells the handler which the caller
    has; ``Access.action``, the audit action, is the first of them the caller holds."""
    if len(permissions) < 2:
        raise ValueError("access_any() needs two permissions or more; one is access()")
    return _access(permissions, any_of=True)


def _access(
    permissions: tuple[Permission, ...], *, any_of: bool
) -> Callable[..., Awaitable[Access]]:
    async def dependency(
        request: Request,
        credentials: Credentials,
        purpose_header: PurposeHeader = None,
        purpose: PurposeQuery = None,
    ) -> Access:
        auth = _auth_services(request)
        principal = _authenticated(request, auth, credentials)
        granted = await _ensure_permitted(request, auth, principal, permissions, any_of=any_of)
        action = granted[0].value
        declared = await _declared_purpose(
            request, auth, principal, header=purpose_header, query=purpose, attempted=action
        )
        return Access(
            principal=principal,
            purpose=declared,
            scope=scope_for(principal, today=auth.clock().date()),
            action=action,
            request_id=_request_id(request),
            denials=auth.denials,
            granted=frozenset(granted),
        )

    joined = "_or_" if any_of else "_and_"
    dependency.__name__ = "access_" + joined.join(p.name for p in permissions)
    return dependency
