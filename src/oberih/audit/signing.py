"""The checkpoint signer: an Ed25519 key that signs the audit log's tree heads.

The key lives in a file (``OBERIH_AUDIT_KEY_FILE``, an unencrypted PKCS#8 PEM, e.g. from
``openssl genpkey -algorithm ed25519``) readable by the service's user only; outside development a
file that its group or others may read is refused, as ssh refuses such private keys. In
development, without a configured file, a key is generated once into the data directory
(``OBERIH_DATA_DIR``, by default ``.oberih/`` beside the SQLite database), next to the
development token issuer's key.
Key material never reaches logs or the database: ``repr`` shows the key name and key ID only,
and only signed notes and the public verifier key leave this module.

``CheckpointSigner`` is the interface the services need; ``AuditSigner`` is the file-backed
implementation (tests generate one in memory). A hardware or cloud KMS signer would be a
second implementation of the same protocol.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from oberih.audit.checkpoints import (
    VerifierKey,
    format_verifier_key,
    key_id,
    sign_checkpoint,
)
from oberih.auth.development import data_directory
from oberih.config import Settings

DEVELOPMENT_KEY_FILE_NAME = "audit-checkpoint-key.pem"
_PRIVATE_TO_OWNER = 0o077  # any permission for group or others


class AuditKeyError(Exception):
    """The checkpoint signing key is missing, unreadable, unsafe or not an Ed25519 key."""


class AuditSettings(BaseSettings):
    """``OBERIH_AUDIT_*``: where the signing key is and how often checkpoints are signed."""

    model_config = SettingsConfigDict(env_prefix="OBERIH_AUDIT_", extra="ignore")

    key_file: Path | None = None
    # The log's identity in its checkpoints (C2SP tlog-checkpoint "origin"), also the key name.
    origin: str = "oberih.example/audit"
    # A checkpoint is due after this many new events or this many seconds, whichever is first.
    checkpoint_every_events: int = Field(default=1000, ge=1)
    checkpoint_every_seconds: float = Field(default=60.0, gt=0)
    # Development only, when no key file is configured; default: in the data directory.
    development_key_file: Path | None = None

    @field_validator("origin")
    @classmethod
    def _origin_is_a_key_name(cls, origin: str) -> str:
        # signed-note key names: non-empty, no spaces, no '+'.
        if not origin or "+" in origin or any(char.isspace() for char in origin):
            raise ValueError("the audit origin must be non-empty, without spaces or '+'")
        return origin


class CheckpointSigner(Protocol):
    """Signs tree heads of the log ``origin``; ``verifier_key`` is the public half, as text."""

    @property
    def origin(self) -> str: ...

    @property
    def verifier_key(self) -> str: ...

    def verifier(self) -> VerifierKey: ...

    def sign_checkpoint(self, *, tree_size: int, root_hash: bytes) -> str: ...


class AuditSigner:
    """An Ed25519 private key and its signed-note key name (equal to the log's origin)."""

    __slots__ = ("_origin", "_private_key")

    def __init__(self, private_key: Ed25519PrivateKey, *, origin: str) -> None:
        self._private_key = private_key
        self._origin = origin

    @classmethod
    def generate(cls, *, origin: str) -> AuditSigner:
        """A fresh in-memory key (tests, and the first start of a development instance)."""
        return cls(Ed25519PrivateKey.generate(), origin=origin)

    @property
    def origin(self) -> str:
        return self._origin

    @property
    def key_name(self) -> str:
        return self._origin

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._private_key.public_key()

    @property
    def verifier_key(self) -> str:
        """``<name>+<key ID>+<base64 key>``: what auditors and witnesses verify with."""
        return format_verifier_key(self.key_name, self.public_key)

    def verifier(self) -> VerifierKey:
        return VerifierKey(
            name=self.key_name,
            key_id=key_id(self.key_name, self.public_key),
            public_key=self.public_key,
        )

    def sign_checkpoint(self, *, tree_size: int, root_hash: bytes) -> str:
        return sign_checkpoint(
            origin=self._origin,
            tree_size=tree_size,
            root_hash=root_hash,
            key_name=self.key_name,
            private_key=self._private_key,
        )

    def __repr__(self) -> str:
        return f"AuditSigner(origin={self._origin!r}, key_id={self.key_id_hex})"

    @property
    def key_id_hex(self) -> str:
        return key_id(self.key_name, self.public_key).hex()


def load_audit_signer(settings: Settings, audit: AuditSettings | None = None) -> AuditSigner:
    """The signer for this deployment; called once, at the composition root."""
    audit = audit or AuditSettings()
    if audit.key_file is not None:
        path = audit.key_file
    elif settings.is_development:
        path = audit.development_key_file or data_directory(settings) / DEVELOPMENT_KEY_FILE_NAME
        if not path.exists():
            write_new_key_file(path)
    else:
        raise AuditKeyError("OBERIH_AUDIT_KEY_FILE must name the checkpoint signing key")
    if not settings.is_development:
        require_private_key_file(path)
    return AuditSigner(read_key_file(path), origin=audit.origin)


def require_private_key_file(path: Path) -> None:
    """Refuse a key file that is not a regular file or that its group or others may read."""
    try:
        status = path.stat()
    except OSError as exc:
        raise AuditKeyError(f"cannot read the audit key file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(status.st_mode):
        raise AuditKeyError(f"the audit key file {path} is not a regular file")
    if os.name == "posix" and status.st_mode & _PRIVATE_TO_OWNER:
        mode = stat.S_IMODE(status.st_mode)
        raise AuditKeyError(
            f"the audit key file {path} is accessible to group or others (mode {mode:o}); "
            "make it readable by the service's user only (chmod 600)"
        )


def read_key_file(path: Path) -> Ed25519PrivateKey:
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise AuditKeyError(f"cannot read the audit key file {path}: {exc.strerror}") from None
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        # Never echo the file's content: it is (or is meant to be) a private key.
        raise AuditKeyError(
            f"the audit key file {path} is not an unencrypted PEM private key"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"the audit key file {path} does not hold an Ed25519 key")
    return key


def write_new_key_file(path: Path) -> None:
    """Generate a key into ``path`` (0600, directory 0700); never overwrites a file."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(pem)
