"""Exceptions of authentication and authorization, mapped to HTTP once, in ``oberih.api.problems``.

The tree (httpx ``_exceptions.py`` style)::

    AuthError
    ├── NotAuthenticated     401: no token, or a token we do not accept (bad signature, expired,
    │                             unknown issuer or key, missing or inconsistent claims).
    │                             Answer with ``WWW-Authenticate: Bearer``; never say which check
    │                             failed beyond ``reason`` (a short code, no token content).
    ├── PermissionDenied     403: the caller is known but their role lacks a permission.
    │   └── PurposeRequired  403: an officer read without a valid declared purpose.
    └── OutOfScope           404: the person is outside the caller's jurisdiction. Answered exactly
                                  like ``PersonNotFound`` so that a Lviv officer cannot tell a Kyiv
                                  person from a person who does not exist.

``PermissionDenied``, ``PurposeRequired`` and ``OutOfScope`` are audited (``access:denied``) by the
code that raises them before they propagate (``oberih.auth.dependencies``); the HTTP mapping only
turns them into responses.
"""

from __future__ import annotations

import uuid


class AuthError(Exception):
    """Base class of every authentication and authorization failure."""


class NotAuthenticated(AuthError):
    """No acceptable bearer token. ``reason`` is a stable code safe to return and to log."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class PermissionDenied(AuthError):
    """The authenticated caller lacks a permission the route declares."""

    def __init__(self, *, missing: tuple[str, ...], reason: str = "permission") -> None:
        self.missing = missing
        self.reason = reason
        super().__init__(f"missing permission: {', '.join(missing)}" if missing else reason)


class PurposeRequired(PermissionDenied):
    """A read that needs a declared purpose (case number or reason code) came without a valid one.

    ``detail`` says what a valid purpose looks like; it never echoes the value sent.
    """

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(missing=(), reason="purpose")


class OutOfScope(AuthError):
    """A single-record access to a person outside the caller's jurisdiction (answered 404)."""

    def __init__(self, person_id: uuid.UUID) -> None:
        self.person_id = person_id
        super().__init__("not found")
