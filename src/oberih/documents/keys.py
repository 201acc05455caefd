"""Document signing keys on disk: a root authority certifying several document signers.

Layout of the key directory (``OBERIH_DOCUMENT_KEYS_DIR``; in development by default
``<data directory>/document-keys``)::

    root-ca.cert.pem          the root certificate: the trust anchor verifiers pin
    root-ca.key.pem           the root's private key (0600), used only by ``oberih keys``;
                              it may be moved offline: the service never reads it
    signers/<kid>.cert.pem    a document-signer certificate, issued by the root
    signers/<kid>.key.pem     its private key (0600)
    keyring.json              the signers with their creation and retirement times
    trust-list.json           the signed trust list, rewritten by every ``oberih keys`` change

Private keys live only in these files, never in the database and never in logs (``repr`` of a
signer shows its kid only); with ``OBERIH_DOCUMENT_KEYS_PASSPHRASE`` they are encrypted
(PKCS#8, best available encryption). Outside development a key file or directory readable by
group or others is refused at start, as ssh refuses such keys, and missing keys stop the service.

Signers: several are valid at once (``rotate`` adds one; the newest that can cover a document's
whole validity signs it). ``retire`` ends a signer's issuing window; documents it signed before
keep verifying until they expire (``trust.signer_from_certificate``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from oberih.auth.development import data_directory
from oberih.config import Settings
from oberih.documents.claims import RegistrationDocumentClaims
from oberih.documents.codec import issue
from oberih.documents.errors import DocumentError
from oberih.documents.signed_lists import PublishedSigner, sign_trust_list, trust_store_of
from oberih.documents.trust import InMemoryTrustStore, kid_for_certificate

ROOT_KEY_FILE = "root-ca.key.pem"
ROOT_CERT_FILE = "root-ca.cert.pem"
SIGNERS_DIR = "signers"
KEYRING_FILE = "keyring.json"
TRUST_LIST_FILE = "trust-list.json"
DEVELOPMENT_DIR_NAME = "document-keys"

ROOT_VALIDITY = dt.timedelta(days=10 * 365)
# A signer issues for about two years; its certificate outlives that by the longest document
# validity (one year, e_document.max_validity_months), so its last documents still verify.
SIGNER_VALIDITY = dt.timedelta(days=3 * 366)
MAX_DOCUMENT_VALIDITY = dt.timedelta(days=366)
_GROUP_OR_OTHERS = 0o077


class DocumentKeyError(DocumentError):
    """Keys missing, unsafe (file modes), unreadable, or no signer can sign a document."""


class DocumentSettings(BaseSettings):
    """``OBERIH_DOCUMENT_*``: where the keys are, their passphrase, the issuer claim."""

    model_config = SettingsConfigDict(env_prefix="OBERIH_DOCUMENT_", extra="ignore")

    keys_dir: Path | None = None
    keys_passphrase: SecretStr | None = None
    issuer: str = "UA-OBERIH"


def keys_directory(settings: Settings, documents: DocumentSettings | None = None) -> Path:
    documents = documents or DocumentSettings()
    if documents.keys_dir is not None:
        return documents.keys_dir
    if settings.is_development:
        return data_directory(settings) / DEVELOPMENT_DIR_NAME
    raise DocumentKeyError("OBERIH_DOCUMENT_KEYS_DIR must name the document key directory")


# --- files --------------------------------------------------------------------------------------


def _write_private(path: Path, data: bytes) -> None:
    """Create ``path`` readable by the owner only; never overwrites (O_EXCL)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _write_public(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)  # atomic: a verifier never downloads half a list


def require_private(path: Path) -> None:
    """Refuse a key file or directory that group or others may access."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise DocumentKeyError(f"cannot read {path}: {exc.strerror}") from None
    if os.name == "posix" and mode & _GROUP_OR_OTHERS:
        raise DocumentKeyError(
            f"{path} is accessible to group or others (mode {stat.S_IMODE(mode):o}); "
            "chmod it to the service's user only (600 for files, 700 for directories)"
        )


def _encryption(passphrase: SecretStr | None) -> serialization.KeySerializationEncryption:
    if passphrase is None:
        return serialization.NoEncryption()
    return serialization.BestAvailableEncryption(passphrase.get_secret_value().encode())


def _key_pem(key: ec.EllipticCurvePrivateKey, passphrase: SecretStr | None) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, _encryption(passphrase)
    )


def _read_key(path: Path, passphrase: SecretStr | None) -> ec.EllipticCurvePrivateKey:
    password = passphrase.get_secret_value().encode() if passphrase else None
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=password)
    except OSError as exc:
        raise DocumentKeyError(f"cannot read {path}: {exc.strerror}") from None
    except (ValueError, TypeError):
        # Never echo the content: it is a private key.
        raise DocumentKeyError(f"{path} is not a PEM private key (or wrong passphrase)") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise DocumentKeyError(f"{path} does not hold an EC P-256 key")
    return key


def _cert_pem(der: bytes) -> bytes:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


def _read_cert_der(path: Path) -> bytes:
    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except OSError as exc:
        raise DocumentKeyError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError:
        raise DocumentKeyError(f"{path} is not a PEM certificate") from None
    return certificate.public_bytes(serialization.Encoding.DER)


# --- certificates -------------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "UA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Oberih register (synthetic)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _backdated(now: dt.datetime) -> dt.datetime:
    # Whole seconds (X.509 time), a minute early for clocks slightly behind ours.
    return now.replace(microsecond=0) - dt.timedelta(minutes=1)


def make_root(now: dt.datetime) -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("Oberih document root authority")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_backdated(now))
        .not_valid_after(now + ROOT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.DER)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def make_signer_certificate(
    root_key: ec.EllipticCurvePrivateKey, root_der: bytes, *, now: dt.datetime
) -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    root = x509.load_der_x509_certificate(root_der)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(f"Oberih document signer {now:%Y-%m-%d %H%M%S}"))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_backdated(now))
        .not_valid_after(min(now + SIGNER_VALIDITY, root.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.DER)


# --- the keyring --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignerEntry:
    """A document signer as the keyring lists it (no private key)."""

    kid: bytes
    certificate_der: bytes
    created_at: dt.datetime
    retired_at: dt.datetime | None = None

    @property
    def not_before(self) -> dt.datetime:
        return x509.load_der_x509_certificate(self.certificate_der).not_valid_before_utc

    @property
    def not_after(self) -> dt.datetime:
        return x509.load_der_x509_certificate(self.certificate_der).not_valid_after_utc

    def can_sign(self, *, issued_at: dt.datetime, expires_at: dt.datetime) -> bool:
        if self.retired_at is not None and issued_at >= self.retired_at:
            return False
        return self.not_before <= issued_at and expires_at <= self.not_after

    def status(self, at: dt.datetime) -> str:
        if at > self.not_after:
            return "expired"
        if self.retired_at is not None and at >= self.retired_at:
            return "retired"
        return "active"

    def to_json(self) -> dict[str, Any]:
        return {
            "kid": self.kid.hex(),
            "created_at": self.created_at.isoformat(),
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
        }


class DocumentSigner:
    """A signer's private key with its certificate; signs claims into ``MR1:`` codes."""

    __slots__ = ("_key", "certificate_der", "kid")

    def __init__(self, key: ec.EllipticCurvePrivateKey, certificate_der: bytes) -> None:
        self._key = key
        self.certificate_der = certificate_der
        self.kid = kid_for_certificate(certificate_der)

    def issue(self, claims: RegistrationDocumentClaims) -> str:
        return issue(claims, signer_key=self._key, signer_cert_der=self.certificate_der)

    @property
    def private_key(self) -> ec.EllipticCurvePrivateKey:
        return self._key

    def __repr__(self) -> str:
        return f"DocumentSigner(kid={self.kid.hex()})"


@dataclass(frozen=True, slots=True)
class Keyring:
    """The key directory as read at start: root certificate, signers, trust list."""

    directory: Path
    root_certificate_der: bytes
    signers: tuple[SignerEntry, ...]
    passphrase: SecretStr | None = None
    check_permissions: bool = True
    # Loaded once: decrypting a key (scrypt with a passphrase) and parsing certificates on
    # every request would cost more than the signing itself.
    _signers_loaded: dict[bytes, DocumentSigner] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _trust_stores: list[InMemoryTrustStore] = field(
        default_factory=list, init=False, repr=False, compare=False
    )

    def trust_store(self) -> InMemoryTrustStore:
        """The signers of this keyring as a verifier trusts them (do not modify it)."""
        if not self._trust_stores:
            self._trust_stores.append(trust_store_of(self.published()))
        return self._trust_stores[0]

    def published(self) -> list[PublishedSigner]:
        return [
            PublishedSigner(certificate_der=s.certificate_der, retired_at=s.retired_at)
            for s in self.signers
        ]

    def trust_list(self) -> dict[str, Any]:
        """The signed trust list as last written by ``oberih keys``."""
        try:
            document: dict[str, Any] = json.loads((self.directory / TRUST_LIST_FILE).read_bytes())
        except (OSError, ValueError):
            raise DocumentKeyError("the trust list file is missing or unreadable") from None
        return document

    def entry(self, kid_hex: str) -> SignerEntry:
        for signer in self.signers:
            if signer.kid.hex() == kid_hex.lower():
                return signer
        raise DocumentKeyError(f"no signer with kid {kid_hex}")

    def signer_for(self, *, issued_at: dt.datetime, expires_at: dt.datetime) -> DocumentSigner:
        """The newest signer that may sign a document valid from ``issued_at`` to
        ``expires_at``; raises ``DocumentKeyError`` when none can (time to rotate)."""
        usable = [s for s in self.signers if s.can_sign(issued_at=issued_at, expires_at=expires_at)]
        if not usable:
            raise DocumentKeyError("no active signer covers the document; run 'oberih keys rotate'")
        return self.load_signer(max(usable, key=lambda s: s.created_at))

    def load_signer(self, entry: SignerEntry) -> DocumentSigner:
        loaded = self._signers_loaded.get(entry.kid)
        if loaded is None:
            path = self.directory / SIGNERS_DIR / f"{entry.kid.hex()}.key.pem"
            if self.check_permissions:
                require_private(path)
            loaded = DocumentSigner(_read_key(path, self.passphrase), entry.certificate_der)
            self._signers_loaded[entry.kid] = loaded
        return loaded

    def check_key_files(self) -> None:
        """Every private key file present is the owner's only (raises ``DocumentKeyError``)."""
        keys = [self.directory / ROOT_KEY_FILE, *(self.directory / SIGNERS_DIR).glob("*.key.pem")]
        for path in keys:
            if path.exists():
                require_private(path)


def _signer_entry(record: Any, directory: Path) -> SignerEntry:
    kid_hex = record["kid"]
    der = _read_cert_der(directory / SIGNERS_DIR / f"{kid_hex}.cert.pem")
    if kid_for_certificate(der).hex() != kid_hex:
        raise DocumentKeyError(f"signer certificate {kid_hex} does not match its kid")
    retired = record.get("retired_at")
    return SignerEntry(
        kid=bytes.fromhex(kid_hex),
        certificate_der=der,
        created_at=dt.datetime.fromisoformat(record["created_at"]),
        retired_at=dt.datetime.fromisoformat(retired) if retired else None,
    )


def load_keyring(
    directory: Path, *, passphrase: SecretStr | None = None, check_permissions: bool = True
) -> Keyring:
    """Read the key directory (not the root private key). Raises ``DocumentKeyError``."""
    if not (directory / KEYRING_FILE).exists():
        raise DocumentKeyError(f"no document keys in {directory}; run 'oberih keys init'")
    if check_permissions:
        require_private(directory)
        require_private(directory / SIGNERS_DIR)
    try:
        records = json.loads((directory / KEYRING_FILE).read_bytes())["signers"]
        signers = tuple(_signer_entry(record, directory) for record in records)
    except (KeyError, TypeError, ValueError):
        raise DocumentKeyError(f"{directory / KEYRING_FILE} is not a valid keyring") from None
    return Keyring(
        directory=directory,
        root_certificate_der=_read_cert_der(directory / ROOT_CERT_FILE),
        signers=signers,
        passphrase=passphrase,
        check_permissions=check_permissions,
    )


def _save(keyring: Keyring, root_key: ec.EllipticCurvePrivateKey, now: dt.datetime) -> Keyring:
    """Write keyring.json and re-sign the trust list (signers whose certificate expired leave
    it: nothing they signed can still be valid)."""
    manifest = {"signers": [s.to_json() for s in keyring.signers]}
    _write_public(keyring.directory / KEYRING_FILE, json.dumps(manifest, indent=2).encode())
    published = [
        p for p, s in zip(keyring.published(), keyring.signers, strict=True) if s.not_after >= now
    ]
    trust_list = sign_trust_list(
        published,
        root_key=root_key,
        root_certificate_der=keyring.root_certificate_der,
        issued_at=now,
    )
    _write_public(keyring.directory / TRUST_LIST_FILE, json.dumps(trust_list, indent=2).encode())
    return keyring


def _root_key(keyring: Keyring) -> ec.EllipticCurvePrivateKey:
    path = keyring.directory / ROOT_KEY_FILE
    if keyring.check_permissions:
        require_private(path)
    return _read_key(path, keyring.passphrase)


def _add_signer(
    keyring: Keyring, root_key: ec.EllipticCurvePrivateKey, now: dt.datetime
) -> SignerEntry:
    key, der = make_signer_certificate(root_key, keyring.root_certificate_der, now=now)
    kid_hex = kid_for_certificate(der).hex()
    signers_dir = keyring.directory / SIGNERS_DIR
    _write_private(signers_dir / f"{kid_hex}.key.pem", _key_pem(key, keyring.passphrase))
    _write_public(signers_dir / f"{kid_hex}.cert.pem", _cert_pem(der))
    return SignerEntry(kid=bytes.fromhex(kid_hex), certificate_der=der, created_at=now)


def init_keyring(
    directory: Path, *, now: dt.datetime, passphrase: SecretStr | None = None
) -> Keyring:
    """Create the root authority and a first signer in an empty key directory."""
    if (directory / KEYRING_FILE).exists() or (directory / ROOT_KEY_FILE).exists():
        raise DocumentKeyError(f"{directory} already holds document keys")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    (directory / SIGNERS_DIR).mkdir(mode=0o700, exist_ok=True)
    root_key, root_der = make_root(now)
    _write_private(directory / ROOT_KEY_FILE, _key_pem(root_key, passphrase))
    _write_public(directory / ROOT_CERT_FILE, _cert_pem(root_der))
    keyring = Keyring(directory, root_der, (), passphrase, check_permissions=False)
    first = _add_signer(keyring, root_key, now)
    return _save(replace(keyring, signers=(first,)), root_key, now)


def rotate_signer(keyring: Keyring, *, now: dt.datetime) -> tuple[Keyring, SignerEntry]:
    """Add a new signer (the others stay valid); it signs every document from now on."""
    root_key = _root_key(keyring)
    entry = _add_signer(keyring, root_key, now)
    return _save(replace(keyring, signers=(*keyring.signers, entry)), root_key, now), entry


def retire_signer(keyring: Keyring, kid_hex: str, *, now: dt.datetime) -> Keyring:
    """End a signer's issuing window at ``now``; what it signed before stays valid."""
    target = keyring.entry(kid_hex)
    if target.retired_at is not None:
        raise DocumentKeyError(f"signer {kid_hex} is already retired")
    signers = tuple(
        replace(s, retired_at=now) if s.kid == target.kid else s for s in keyring.signers
    )
    return _save(replace(keyring, signers=signers), _root_key(keyring), now)


def refresh_trust_list(keyring: Keyring, *, now: dt.datetime) -> Keyring:
    return _save(keyring, _root_key(keyring), now)


def load_document_keys(
    settings: Settings, documents: DocumentSettings | None = None, *, now: dt.datetime
) -> Keyring:
    """The keyring for this deployment, called once at the composition root. In development
    a missing keyring is created; elsewhere missing or loosely protected keys are refused."""
    documents = documents or DocumentSettings()
    directory = keys_directory(settings, documents)
    if settings.is_development and not (directory / KEYRING_FILE).exists():
        init_keyring(directory, now=now, passphrase=documents.keys_passphrase)
    keyring = load_keyring(
        directory,
        passphrase=documents.keys_passphrase,
        check_permissions=not settings.is_development,
    )
    if not settings.is_development:
        # At start, not at the first citizen's request: loose files, a wrong passphrase or
        # no signer able to sign today stop the service.
        keyring.check_key_files()
        keyring.signer_for(issued_at=now, expires_at=now + dt.timedelta(seconds=1))
    return keyring


def signers_table(keyring: Keyring, *, at: dt.datetime) -> Sequence[dict[str, Any]]:
    return [
        {
            **s.to_json(),
            "status": s.status(at),
            "not_before": s.not_before.isoformat(),
            "not_after": s.not_after.isoformat(),
        }
        for s in keyring.signers
    ]
