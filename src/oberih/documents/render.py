"""Printable outputs of a document: the QR as PNG or SVG, and a PDF card in Ukrainian and English.

The card shows what a person reading it needs (name in both scripts, birth date, category,
deferral or reservation, validity) next to the QR, which is what a verifier trusts: the printed
text is a convenience, the signed code is the document. Fonts: DejaVu Sans (Cyrillic), from the
Debian package fonts-dejavu-core.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF

from oberih.documents.claims import RegistrationDocumentClaims
from oberih.documents.qr import qr_png

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
KYIV = ZoneInfo("Europe/Kyiv")

CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "conscript": ("Призовник", "Conscript"),
    "liable": ("Військовозобов'язаний", "Liable for military service"),
    "reservist": ("Резервіст", "Reservist"),
    "removed": ("Знятий з військового обліку", "Removed from the military register"),
    "excluded": ("Виключений з військового обліку", "Excluded from the military register"),
}
DEFERRAL_LABELS: dict[str, tuple[str, str]] = {
    "deferral": ("Відстрочка", "Deferral"),
    "reservation": ("Бронювання", "Reservation"),
}


def _day(value: dt.date) -> str:
    return value.strftime("%d.%m.%Y")


def _moment(value: dt.datetime) -> str:
    return value.astimezone(KYIV).strftime("%d.%m.%Y %H:%M")


def full_name(claims: RegistrationDocumentClaims) -> tuple[str, str]:
    cyrillic = " ".join(p for p in (claims.surname, claims.given_name, claims.patronymic) if p)
    latin = " ".join(
        p for p in (claims.surname_latin, claims.given_name_latin, claims.patronymic_latin) if p
    )
    return cyrillic, latin


def card_lines(claims: RegistrationDocumentClaims) -> list[tuple[str, str]]:
    """(Ukrainian, English) label-value lines of the card, also used by the verifier page."""
    category_uk, category_en = CATEGORY_LABELS[claims.category]
    lines = [
        (
            f"Дата народження: {_day(claims.birth_date)}",
            f"Date of birth: {_day(claims.birth_date)}",
        ),
        (f"Категорія: {category_uk}", f"Category: {category_en}"),
        (
            f"ТЦК та СП: {claims.recruitment_office_code}",
            f"Recruitment office: {claims.recruitment_office_code}",
        ),
    ]
    if claims.rank:
        lines.append((f"Звання: {claims.rank}", f"Rank: {claims.rank}"))
    if claims.military_specialty:
        lines.append(
            (
                f"ВОС: {claims.military_specialty}",
                f"Military specialty: {claims.military_specialty}",
            )
        )
    if claims.deferral is not None:
        uk, en = DEFERRAL_LABELS[claims.deferral.kind]
        until = claims.deferral.valid_until
        lines.append(
            (
                f"{uk}: {claims.deferral.ground}" + (f" до {_day(until)}" if until else ""),
                f"{en}: {claims.deferral.ground}" + (f" until {_day(until)}" if until else ""),
            )
        )
    if claims.data_being_clarified:
        lines.append(("Дані уточнюються", "Data being clarified"))
    lines.append(
        (
            f"Дійсний з {_moment(claims.issued_at)} до {_moment(claims.expires_at)}",
            f"Valid from {_moment(claims.issued_at)} to {_moment(claims.expires_at)} (Kyiv time)",
        )
    )
    return lines


def card_pdf(claims: RegistrationDocumentClaims, code: str) -> bytes:
    """An A6 landscape card: text on the left, the QR on the right."""
    pdf = FPDF(orientation="L", unit="mm", format=(105, 148))  # A6
    pdf.set_auto_page_break(auto=False)
    pdf.set_title("Військово-обліковий документ / Military registration document")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    pdf.set_margins(6, 6, 6)
    pdf.set_xy(6, 6)
    pdf.set_font("DejaVu", "B", 9)
    pdf.cell(0, 4, "Військово-обліковий документ", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 7)
    pdf.cell(0, 3.5, "Military registration document (electronic)", new_x="LMARGIN", new_y="NEXT")
    cyrillic, latin = full_name(claims)
    pdf.set_y(pdf.get_y() + 2)
    pdf.set_font("DejaVu", "B", 9)
    pdf.multi_cell(80, 4.5, cyrillic, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(80, 4, latin, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(pdf.get_y() + 1.5)
    for uk, en in card_lines(claims):
        pdf.set_font("DejaVu", "", 7)
        pdf.multi_cell(80, 3.3, uk, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 6)
        pdf.set_text_color(90, 90, 90)
        pdf.multi_cell(80, 3, en, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.image(io.BytesIO(qr_png(code, scale=8)), x=88, y=18, w=56)
    pdf.set_xy(88, 75)
    pdf.set_font("DejaVu", "", 5.5)
    pdf.multi_cell(
        56,
        2.6,
        f"№ {claims.document_id}\nПеревірка / Verify: /verify",
        align="C",
    )
    return bytes(pdf.output())
