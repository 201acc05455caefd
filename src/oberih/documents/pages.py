"""The public verifier page ``/verify``: paste a code or upload a photo of the QR.

Public on purpose: a police officer or a border guard with a phone must not need an account to
check a document. The page answers exactly what an offline verifier answers with the published
lists (signature, signer on the trust list, validity period, the revocation list, which carries
every automatic revocation), so it reveals nothing beyond the code itself and public files, and
it is not audited (no caller identity). The authenticated ``POST /api/v1/documents/verify``
additionally checks the live register and is audited.

Anonymous use is rate-limited per client address (2 a second, bursts of 30).

Photos: the request body limit of the service is 1 MiB, so the page's small script scales a
phone photo down in the browser before sending it; without JavaScript, smaller pictures work.
"""

# No ``from __future__ import annotations``: FastAPI reads these annotations at run time.
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from oberih.api.dependencies import Context, DbSession, Now
from oberih.api.ratelimit import TokenBucketLimiter, enforce
from oberih.documents.errors import MalformedDocumentError
from oberih.documents.render import card_lines, full_name
from oberih.documents.scan import MAX_IMAGE_BYTES, code_from_image
from oberih.documents.services import RegisterRevocations
from oberih.documents.verify import Reason, Verdict, verify
from oberih.documents.views import Keys

router = APIRouter(tags=["verifier page"], include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

# The verdict in plain words, Ukrainian first (what the holder and the checker read).
VERDICT_WORDS: dict[Reason, tuple[str, str, str]] = {
    Reason.ok: ("Документ дійсний", "The document is valid", "valid"),
    Reason.malformed: (
        "Код пошкоджений або це не документ",
        "The code is damaged or is not a document",
        "invalid",
    ),
    Reason.bad_signature: (
        "Підробка: підпис не збігається",
        "Forged or altered: the signature does not match",
        "invalid",
    ),
    Reason.unknown_key: (
        "Невідомий підписувач: документ видано не реєстром",
        "Unknown signer: not issued by the register",
        "invalid",
    ),
    Reason.expired: ("Строк дії документа минув", "The document has expired", "invalid"),
    Reason.not_yet_valid: ("Документ ще не дійсний", "The document is not valid yet", "invalid"),
    Reason.revoked: (
        "Документ відкликано: дані змінилися або видано новий",
        "Revoked: the data changed or a new document was issued",
        "invalid",
    ),
    Reason.unsupported: (
        "Цей вид коду не підтримується",
        "This kind of code is not supported",
        "invalid",
    ),
}


def _page(request: Request, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, "verify.html", context)


SCRIPT = Path(__file__).parent / "templates" / "verify.js"


@router.get("/verify.js", response_class=Response)
def verify_script() -> Response:
    # A file of its own, not inline: the service's Content-Security-Policy allows 'self' only.
    return Response(
        SCRIPT.read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/verify", response_class=HTMLResponse)
def verify_page(request: Request) -> HTMLResponse:
    return _page(request, verdict=None)


async def _code(code: str, photo: UploadFile | None) -> str:
    if code.strip():
        # Space is a base45 character; only line breaks from pasting are dropped.
        return code.strip().replace("\r", "").replace("\n", "")
    if photo is None or not photo.filename:
        raise MalformedDocumentError("no code and no photo")
    return code_from_image(await photo.read(MAX_IMAGE_BYTES + 1))


@router.post("/verify", response_class=HTMLResponse)
async def verify_submitted(
    request: Request,
    context: Context,
    session: DbSession,
    now: Now,
    keyring: Keys,
    code: Annotated[str, Form(max_length=4400)] = "",
    photo: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    # Anonymous and decoding photos: a per-address budget keeps it from being used as a
    # free image-decoding service (a checkpoint behind one address still gets 2 a second).
    limiter = context.services.setdefault(
        "verify_page_limiter", TokenBucketLimiter(per_second=2, burst=30)
    )
    enforce(limiter, request, "verify-page")
    try:
        text = await _code(code, photo)
    except MalformedDocumentError:
        verdict = Verdict(reason=Reason.malformed)
    else:
        verdict = verify(
            text, trust=keyring.trust_store(), revoked=RegisterRevocations(session), at=now
        )
    uk, en, tone = VERDICT_WORDS[verdict.reason]
    claims = verdict.claims
    return _page(
        request,
        verdict={"uk": uk, "en": en, "tone": tone, "reason": verdict.reason.value},
        name=full_name(claims) if claims else None,
        lines=card_lines(claims) if claims else [],
    )
