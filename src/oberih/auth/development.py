"""The development issuer: a local signing key that mints tokens for demo users and scripts.

It exists only when ``OBERIH_ENV`` is ``development`` or ``test`` (``Settings.is_development``);
in production ``development_issuer`` refuses, ``build_token_verifier`` never trusts it, and the
``oberih dev`` commands refuse too. Its key is an Ed25519 key generated once per data directory
(``<data dir>/dev-issuer.json``, mode 0600, next to the embedded database) so that tokens minted by
``oberih dev token`` verify in ``oberih serve`` on the same machine; it is never a shared default.
Its issuer is a URN, not an https URL, so it cannot pass ``Settings.validate_for_production``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import stat
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from oberih.auth.principals import Principal, Role, claims_of
from oberih.auth.tokens import InlineJwksSource, TrustedIssuer, register_audience
from oberih.config import Settings

DEVELOPMENT_ISSUER = "urn:oberih:development-issuer"
ISSUER_FILE_NAME = "dev-issuer.json"
DEFAULT_TOKEN_TTL = dt.timedelta(hours=1)

# Demo users printed by ``oberih demo`` (synthetic codes; the citizen needs a loaded person id).
DEMO_PRINCIPALS: Mapping[str, Principal] = {
    "officer-kyiv": Principal(
        subject="demo-officer-kyiv", role=Role.tcc_officer, office_code="TCC-UA80-01"
    ),
    "officer-lviv": Principal(
        subject="demo-officer-lviv", role=Role.tcc_officer, office_code="TCC-UA46-01"
    ),
    "medical-commission-lviv": Principal(
        subject="demo-commission-lviv", role=Role.medical_commission, office_code="TCC-UA46-01"
    ),
    "employer": Principal(subject="demo-employer", role=Role.employer, employer_code="00000017"),
    "auditor": Principal(subject="demo-auditor", role=Role.auditor),
    "analyst": Principal(subject="demo-analyst", role=Role.analyst),
    "admin": Principal(subject="demo-admin", role=Role.registry_admin),
    "verifier": Principal(subject="demo-verifier", role=Role.verifier),
}


class DevelopmentOnly(RuntimeError):
    """The development issuer was asked for outside development."""


@dataclass(frozen=True, slots=True)
class DevelopmentIssuer:
    key_id: str
    private_key: Ed25519PrivateKey
    audience: str
    issuer: str = DEVELOPMENT_ISSUER

    @classmethod
    def generate(cls, *, audience: str) -> DevelopmentIssuer:
        private_key = Ed25519PrivateKey.generate()
        return cls(key_id=_key_id(private_key), private_key=private_key, audience=audience)

    def public_jwks(self) -> dict[str, Any]:
        """The JWKS a development service (or a test) verifies this issuer's tokens with."""
        public = {"kty": "OKP", "crv": "Ed25519", "x": _b64(self._public_bytes())}
        return {"keys": [{**public, "kid": self.key_id, "alg": "EdDSA", "use": "sig"}]}

    def trusted_issuer(self) -> TrustedIssuer:
        return TrustedIssuer(
            issuer=self.issuer,
            audience=self.audience,
            jwks=InlineJwksSource(self.public_jwks()),
            algorithms=frozenset({"EdDSA"}),
        )

    def mint(
        self,
        principal: Principal,
        *,
        now: dt.datetime,
        ttl: dt.timedelta = DEFAULT_TOKEN_TTL,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed token for ``principal``, valid from ``now`` for ``ttl``."""
        issued_at = int(now.timestamp())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "iat": issued_at,
            "nbf": issued_at,
            "exp": issued_at + int(ttl.total_seconds()),
            "jti": principal.token_id or uuid.uuid4().hex,
            **claims_of(principal),
            **(extra_claims or {}),
        }
        return jwt.encode(
            claims, self.private_key, algorithm="EdDSA", headers={"kid": self.key_id, "typ": "JWT"}
        )

    def to_document(self) -> dict[str, Any]:
        private = self.private_key.private_bytes_raw()
        return {
            "issuer": self.issuer,
            "kid": self.key_id,
            "key": {"kty": "OKP", "crv": "Ed25519", "d": _b64(private)},
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any], *, audience: str) -> DevelopmentIssuer:
        private_key = Ed25519PrivateKey.from_private_bytes(_unb64(document["key"]["d"]))
        return cls(key_id=str(document["kid"]), private_key=private_key, audience=audience)

    def _public_bytes(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def data_directory(settings: Settings) -> Path:
    """``OBERIH_DATA_DIR``, else ``.oberih`` beside the SQLite database, else in the cwd."""
    if settings.data_dir is not None:
        return settings.data_dir
    prefix = "sqlite:///"
    if settings.database_url.startswith(prefix) and ":memory:" not in settings.database_url:
        return Path(settings.database_url.removeprefix(prefix)).parent / ".oberih"
    return Path.cwd() / ".oberih"


def development_issuer(settings: Settings) -> DevelopmentIssuer:
    """The data directory's development issuer, created on first use (development/test only)."""
    if not settings.is_development:
        raise DevelopmentOnly("the development issuer exists only with OBERIH_ENV=development")
    return load_or_create_issuer(
        data_directory(settings) / ISSUER_FILE_NAME, audience=register_audience(settings)
    )


def load_or_create_issuer(path: Path, *, audience: str) -> DevelopmentIssuer:
    try:
        return _load_issuer(path, audience=audience)
    except FileNotFoundError:
        pass
    issuer = DevelopmentIssuer.generate(audience=audience)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(issuer.to_document(), file)
    try:
        # A hard link appears complete or not at all, and fails if another process got there
        # first: then both use that process's key.
        os.link(draft, path)
    except FileExistsError:
        return _load_issuer(path, audience=audience)
    finally:
        draft.unlink()
    return issuer


def _load_issuer(path: Path, *, audience: str) -> DevelopmentIssuer:
    text = path.read_text(encoding="utf-8")
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise PermissionError(f"{path} is readable by others; chmod 600 it or delete it")
    return DevelopmentIssuer.from_document(json.loads(text), audience=audience)


def _key_id(private_key: Ed25519PrivateKey) -> str:
    public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "dev-" + hashlib.sha256(public).hexdigest()[:16]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
