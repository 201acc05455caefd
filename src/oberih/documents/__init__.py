"""Electronic registration documents: a signed QR code anyone can verify offline.

The same layers as the EU Digital COVID Certificate (HCERT): claims in a CWT (``claims``),
signed as COSE_Sign1 with ES256 or PS256 (``cose``), zlib, base45 and the ``MR1:`` prefix
(``codec``), a QR symbol (``qr``). ``verify`` reads our codes and EU DCC ``HC1:`` codes against
a trust list and a revocation list (``trust``). Pure code: no storage, no network, no clock.
"""

from oberih.documents.claims import Deferral, RegistrationCategory, RegistrationDocumentClaims
from oberih.documents.codec import DocumentContext, issue
from oberih.documents.errors import (
    DocumentError,
    DocumentTooLargeError,
    MalformedDocumentError,
    SignerError,
    UnsupportedDocumentError,
)
from oberih.documents.qr import qr_png, qr_svg, qr_version
from oberih.documents.trust import (
    InMemoryRevocationList,
    InMemoryTrustStore,
    RevocationChecker,
    TrustedSigner,
    TrustStore,
    kid_for_certificate,
    revocation_hash,
    signer_from_certificate,
)
from oberih.documents.verify import Reason, Verdict, verify

__all__ = [
    "Deferral",
    "DocumentContext",
    "DocumentError",
    "DocumentTooLargeError",
    "InMemoryRevocationList",
    "InMemoryTrustStore",
    "MalformedDocumentError",
    "Reason",
    "RegistrationCategory",
    "RegistrationDocumentClaims",
    "RevocationChecker",
    "SignerError",
    "TrustStore",
    "TrustedSigner",
    "UnsupportedDocumentError",
    "Verdict",
    "issue",
    "kid_for_certificate",
    "qr_png",
    "qr_svg",
    "qr_version",
    "revocation_hash",
    "signer_from_certificate",
    "verify",
]
