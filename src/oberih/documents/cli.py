"""``oberih keys ...`` (document signing keys) and ``oberih doc ...`` (documents).

``oberih doc verify`` works with no network: the trust list and the revocation list are files
downloaded earlier (``GET /api/v1/documents/trust-list`` and ``.../revocations``), the trust
anchor a root certificate (PEM). Exit codes: 0 valid, 1 not valid, 2 a usage problem.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from oberih.config import load_settings
from oberih.documents.keys import (
    DocumentKeyError,
    DocumentSettings,
    init_keyring,
    keys_directory,
    load_keyring,
    retire_signer,
    rotate_signer,
    signers_table,
)

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
