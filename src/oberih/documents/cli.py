"""``oberih keys ...`` (document signing keys) and ``oberih doc ...`` (documents).

``oberih doc verify`` works with no network: the trust list and the revocation list are files
downloaded earlier (``GET /api/v1/documents/trust-list`` and ``.../revocations``), the trust
anchor a root certificate (PEM). Exit codes: 0 valid, 1 not valid, 2 a usage problem.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from oberih.config import load_settings
from oberih.documents.errors import DocumentError, MalformedDocumentError
from oberih.documents.keys import (
    DocumentKeyError,
    DocumentSettings,
    Keyring,
    init_keyring,
    keys_directory,
    load_keyring,
    retire_signer,
    rotate_signer,
    signers_table,
)
from oberih.documents.scan import code_from_image
from oberih.documents.signed_lists import read_revocation_list, read_trust_list, trust_store_of
from oberih.documents.trust import (
    InMemoryRevocationList,
    InMemoryTrustStore,
    signer_from_certificate,
)
from oberih.documents.verify import Reason, Verdict, verify

keys_app = typer.Typer(no_args_is_help=True, help="Document signing keys: root and signers.")
app = typer.Typer(no_args_is_help=True, help="Electronic registration documents.")

KeysDir = Annotated[
    Path | None,
    typer.Option("--dir", help="Key directory (default: OBERIH_DOCUMENT_KEYS_DIR)."),
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _print(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _directory(override: Path | None) -> Path:
    if override is not None:
        return override
    return keys_directory(load_settings(), DocumentSettings())


def _keyring_at(override: Path | None) -> Any:
    settings = load_settings()
    documents = DocumentSettings()
    return load_keyring(
        _directory(override),
        passphrase=documents.keys_passphrase,
        check_permissions=not settings.is_development,
    )


@keys_app.command("init")
def keys_init(directory: KeysDir = None) -> None:
    """Create the root authority, a first document signer and the signed trust list."""
    try:
        keyring = init_keyring(
            _directory(directory), now=_now(), passphrase=DocumentSettings().keys_passphrase
        )
    except DocumentKeyError as exc:
        raise _fail(str(exc)) from None
    _print({"directory": str(keyring.directory), "signers": signers_table(keyring, at=_now())})


@keys_app.command("rotate")
def keys_rotate(directory: KeysDir = None) -> None:
    """Add a new signer; it signs new documents, the others keep verifying theirs."""
    try:
        keyring, entry = rotate_signer(_keyring_at(directory), now=_now())
    except DocumentKeyError as exc:
        raise _fail(str(exc)) from None
    _print({"added": entry.kid.hex(), "signers": signers_table(keyring, at=_now())})


@keys_app.command("list")
def keys_list(directory: KeysDir = None) -> None:
    """The signers, with their status (active, retired, expired) and validity."""
    try:
        keyring = _keyring_at(directory)
    except DocumentKeyError as exc:
        raise _fail(str(exc)) from None
    _print({"directory": str(keyring.directory), "signers": signers_table(keyring, at=_now())})


@keys_app.command("retire")
def keys_retire(kid: str, directory: KeysDir = None) -> None:
    """Stop a signer from signing; documents it signed before stay valid until they expire."""
    try:
        keyring = retire_signer(_keyring_at(directory), kid, now=_now())
    except DocumentKeyError as exc:
        raise _fail(str(exc)) from None
    _print({"retired": kid, "signers": signers_table(keyring, at=_now())})


# --- oberih doc verify --------------------------------------------------------------------------

TrustListFile = Annotated[
    Path | None,
    typer.Option(
        "--trust-list",
        exists=True,
        dir_okay=False,
        help="Signed trust list (GET /api/v1/documents/trust-list). "
        "Default: the one in the local key directory.",
    ),
]
RevocationFiles = Annotated[
    list[Path] | None,
    typer.Option(
        "--revocations",
        exists=True,
        dir_okay=False,
        help="Signed revocation list (GET .../revocations?since=N); repeat for a base and "
        "its incremental updates.",
    ),
]
TrustCert = Annotated[
    Path | None,
    typer.Option(
        "--trust-cert",
        exists=True,
        dir_okay=False,
        help="PEM certificate(s): a root authority (the anchor of the trust list) or document "
        "signers trusted directly. Default: the local key directory's root.",
    ),
]
AtTime = Annotated[
    str | None,
    typer.Option("--at", help="Verify as of this ISO time (default: now); naive means UTC."),
]


def _code_argument(value: str) -> str:
    """A code, a text file holding one, or a picture of its QR; ``-`` reads standard input."""
    if value == "-":
        return sys.stdin.read().strip()
    path = Path(value)
    if not value.startswith(("MR1:", "HC1:")) and path.is_file():
        data = path.read_bytes()
        if data[:4] in (b"MR1:", b"HC1:"):
            return data.decode("ascii", errors="replace").strip()
        return code_from_image(data)
    return value.strip()


def _moment(value: str | None) -> dt.datetime:
    if value is None:
        return _now()
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"--at {value!r} is not an ISO time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _pem_certificates(path: Path) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())
    except ValueError:
        raise _fail(f"{path} holds no PEM certificate") from None


def _is_authority(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def _local_keyring() -> Keyring:
    settings = load_settings()
    return load_keyring(keys_directory(settings), check_permissions=False)


def _trust(trust_list: Path | None, trust_cert: Path | None) -> InMemoryTrustStore:
    certificates = _pem_certificates(trust_cert) if trust_cert else []
    anchors = [c for c in certificates if _is_authority(c)]
    direct = [signer_from_certificate(_der(c)) for c in certificates if not _is_authority(c)]
    if trust_list is None and direct and not anchors:
        return InMemoryTrustStore(direct)
    if trust_list is not None:
        document = json.loads(trust_list.read_bytes())
    else:
        document = _local_keyring().trust_list()
    root_der = _der(anchors[0]) if anchors else _local_keyring().root_certificate_der
    store = trust_store_of(read_trust_list(document, root_certificate_der=root_der))
    for signer in direct:
        store.add(signer)
    return store


def _revocations(files: list[Path] | None, trust: InMemoryTrustStore) -> InMemoryRevocationList:
    revoked = InMemoryRevocationList()
    for path in files or []:
        read_revocation_list(json.loads(path.read_bytes()), trust=trust, into=revoked)
    return revoked


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    return {
        "valid": verdict.valid,
        "reason": verdict.reason.value,
        "claims": verdict.claims.model_dump(mode="json") if verdict.claims else None,
        "dcc": dict(verdict.dcc) if verdict.dcc is not None else None,
        "kid": verdict.kid.hex() if verdict.kid else None,
        "detail": verdict.detail,
    }


@app.command("verify")
def verify_command(
    code_or_image: Annotated[str, typer.Argument(help="MR1:/HC1: code, file or QR picture")],
    trust_list: TrustListFile = None,
    revocations: RevocationFiles = None,
    at: AtTime = None,
    trust_cert: TrustCert = None,
) -> None:
    """Verify a document offline: prints JSON with valid, reason and claims (exit 1 if not
    valid). Reasons: ok, malformed, bad_signature, unknown_key, expired, not_yet_valid,
    revoked, unsupported."""
    moment = _moment(at)
    try:
        trust = _trust(trust_list, trust_cert)
        revoked = _revocations(revocations, trust)
    except (DocumentError, ValueError) as exc:
        raise _fail(f"cannot use the trust or revocation list: {exc}") from None
    try:
        code = _code_argument(code_or_image)
    except MalformedDocumentError as exc:
        verdict = Verdict(reason=Reason.malformed, detail=str(exc))
    else:
        verdict = verify(code, trust=trust, revoked=revoked, at=moment)
    _print(verdict_json(verdict))
    if not verdict.valid:
        raise typer.Exit(1)


@app.command("sweep")
def sweep_command(
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Overrides OBERIH_DATABASE_URL.")
    ] = None,
    at: AtTime = None,
) -> None:
    """Revoke every valid document whose claims the register no longer supports (run daily)."""
    from oberih.audit.events import AuditEvent
    from oberih.audit.services import record_event
    from oberih.db.engine import make_engine, make_session_factory
    from oberih.documents.services import sweep_documents

    now = _moment(at)
    engine = make_engine(database_url or load_settings().database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            revoked = sweep_documents(session, now=now)
            for row in revoked:
                event = AuditEvent(
                    action="document:revoke",
                    outcome="allowed",
                    actor="system:document-sweep",
                    role="system",
                    office_code=None,
                    purpose=None,
                    person_id=row.person_id,
                    fields=("document",),
                    request_id=None,
                )
                record_event(session, event, now=now)
            _print(
                {
                    "revoked": [
                        {"document_id": str(row.document_id), "reason": row.revocation_reason}
                        for row in revoked
                    ]
                }
            )
    finally:
        engine.dispose()
