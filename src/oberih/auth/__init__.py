"""Authentication and authorization of the register's HTTP service.

- ``principals``: roles and the ``Principal`` a verified token stands for (pure).
- ``permissions``: ``Permission`` and the role -> permissions map (and why not a policy engine).
- ``purposes``: the purpose an officer declares for a read (pure).
- ``jurisdiction``: ``Scope`` per principal and its SQL filter (``apply_scope``).
- ``tokens``: JWT verification against configured issuers and JWKS; ``development``: the local
  issuer of development mode.
- ``dependencies``: FastAPI dependencies (``require``, ``access``, ``access_any``, ``purpose_required``).
- ``errors``: the exceptions, mapped to HTTP in ``oberih.api.problems``.

This package's ``__init__`` stays light (no FastAPI, no database) so that pure code may import
the exceptions and the principal types from here.
"""

from oberih.auth.errors import (
    AuthError,
    NotAuthenticated,
    OutOfScope,
    PermissionDenied,
    PurposeRequired,
)
from oberih.auth.permissions import ROLE_PERMISSIONS, Permission
from oberih.auth.principals import Principal, Role

__all__ = [
    "ROLE_PERMISSIONS",
    "AuthError",
    "NotAuthenticated",
    "OutOfScope",
    "Permission",
    "PermissionDenied",
    "Principal",
    "PurposeRequired",
    "Role",
]
