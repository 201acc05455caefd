"""Exceptions of the document codec.

The tree (catch the base to catch them all)::

    DocumentError
    ├── MalformedDocumentError    a layer cannot be decoded, or a structure or claim is invalid
    ├── UnsupportedDocumentError  well formed, but a context, algorithm or key type we lack
    ├── DocumentTooLargeError     an issued code would not fit the QR version we promise
    └── SignerError               signing key and certificate do not belong together, or a
                                  certificate cannot be used as a trusted signer

``verify()`` never raises these: it maps them to a ``Verdict`` reason. They surface from the
lower layers (``codec``, ``cose``, ``cbor``) and from ``issue()``.
"""

from __future__ import annotations


class DocumentError(Exception):
    """Base of every codec error. Messages never contain claim values (personal data)."""


class MalformedDocumentError(DocumentError):
    """A layer (prefix, base45, zlib, CBOR, COSE, claims) is not what the format requires."""


class UnsupportedDocumentError(DocumentError):
    """Well formed, but uses a context prefix, algorithm or key type this verifier lacks."""


class DocumentTooLargeError(DocumentError):
    """The code would need a larger QR symbol than ``qr.MAX_QR_VERSION``."""


class SignerError(DocumentError):
    """The signing key, its certificate or a trusted certificate cannot be used."""
