"""Business cards rendered with WeasyPrint: real PDFs with embedded fonts and a vCard QR code."""

from __future__ import annotations

import io
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from django.template.loader import render_to_string

from apps.organizations.brand import Brand, brand_logo, brand_of, data_uri

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
# Debian's fonts-droid-fallback (Apache 2.0): CJK glyphs for names DejaVu cannot draw.
CJK_FONT = Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")
CARD_SIZES = {"us": ("3.5in", "2in"), "eu": ("85mm", "55mm")}
# The back's words, left of the QR code: column width and height in points per size
# (templates/cards/standard.html: from 0.3 in to 1.8 in short of the right edge, from
# 0.75 in down, less the hint and a margin).
BACK_COLUMN_PT = {"us": (100.8, 66.0), "eu": (90.9, 70.0)}
CHAR_WIDTH_EM = 0.62  # a bold DejaVu Sans letter, on average


def company_font_pt(company: str, size: str) -> float:
    """The largest size (13 pt down to 6) at which the company's name fits the back's
    column: its longest word on one line, and all of it in the lines there are."""
    import math

    width, height = BACK_COLUMN_PT[size]
    words = company.split() or [""]
    for tenths in range(130, 59, -5):
        pt = tenths / 10
        per_line = width / (CHAR_WIDTH_EM * pt)
        lines = 0
        for word in words:
            lines += max(1, math.ceil(len(word) / per_line))
        # words share lines where they fit: count the characters as well
        lines = min(lines, math.ceil(len(company) / per_line) + len(words) // 3)
        if max(len(w) for w in words) <= per_line and lines * pt * 1.15 <= height:
            return pt
    return 6.0


@dataclass(frozen=True)
class CardPerson:
    full_name: str
    title: str
    department: str
    email: str
    phone: str
    # the name's parts where the identity provider gave them
    given_name: str = ""
    family_name: str = ""


def _vcard_escape(value: str) -> str:
    """A value on one vCard line: its separators escaped, a line break (CR, LF or both) as
    \\n, other control characters dropped, so no value can start a field of its own."""
    for breaker in ("\r\n", "\r", "\u2028", "\u2029"):
        value = value.replace(breaker, "\n")
    value = "".join(c for c in value if c == "\n" or unicodedata.category(c) != "Cc")
    return value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def _name_parts(full_name: str) -> tuple[str, str]:
    """(family, given) for vCard's N: the last word is the family name where the name is
    written in Latin letters, given name first; otherwise (one word, or a script that
    writes the family name first) the whole name is the family name."""
    words = full_name.split()
    latin = all(not c.isalpha() or "LATIN" in unicodedata.name(c, "") for c in full_name)
    if len(words) > 1 and latin:
        return words[-1], " ".join(words[:-1])
    return full_name.strip(), ""


def vcard(person: CardPerson, company: str) -> str:
    """The person's contact card (vCard 3.0, RFC 2426), each line ended by CRLF."""
    family, given = (
        (person.family_name, person.given_name)
        if person.family_name or person.given_name
        else _name_parts(person.full_name)
    )
    organisation = _vcard_escape(company) + (
        f";{_vcard_escape(person.department)}" if person.department else ""
    )
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"N:{_vcard_escape(family)};{_vcard_escape(given)};;;",
        f"FN:{_vcard_escape(person.full_name)}",
        f"ORG:{organisation}",
        f"TITLE:{_vcard_escape(person.title)}",
        f"EMAIL;TYPE=work:{_vcard_escape(person.email)}",
    ]
    if person.phone:
        lines.append(f"TEL;TYPE=work,voice:{_vcard_escape(person.phone)}")
    lines.append("END:VCARD")
    return "\r\n".join(lines) + "\r\n"


def card_preview_png(
    *, company: str, brand: dict[str, str] | None, size: str = "us", dpi: int = 150
) -> bytes:
    """The front of a sample card in the company's colours and logo, as a PNG image
    (for the template preview), with a neutral placeholder instead of a real face."""
    import shutil
    import subprocess
    import tempfile

    import numpy as np

    from pipeline.imaging import encode

    placeholder = np.full((600, 600, 3), 200, dtype=np.uint8)
    placeholder[150:330, 210:390] = 160  # head
    placeholder[360:, 120:480] = 160  # shoulders
    person = CardPerson("Alex Sample", "Job title", "Department", "alex@example.com", "+1 555 0100")
    pdf = render_card_pdf(
        person=person, company=company, photo_jpeg=encode(placeholder), brand=brand, size=size
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "card.pdf"
        path.write_bytes(pdf)
        try:
            pdftoppm = shutil.which("pdftoppm")
            if pdftoppm is None:
                raise FileNotFoundError("pdftoppm")
            subprocess.run(  # noqa: S603 - a fixed program, arguments built here
                [
                    pdftoppm,
                    "-r",
                    str(dpi),
                    "-png",
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-singlefile",
                    str(path),
                    str(Path(folder) / "front"),
                ],
                check=True,
                capture_output=True,
                timeout=60,
            )
        except FileNotFoundError as exc:
            raise RuntimeError("The card preview needs poppler-utils (pdftoppm).") from exc
        return (Path(folder) / "front.png").read_bytes()


def qr_png(text: str) -> bytes:
    import qrcode

    # A fixed mask pattern: every mask makes a valid code, and trying all eight to pick
    # the "best" cost most of a 100-card batch's time for no gain on a printed card
    # (the tests decode the printed code back).
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=2, mask_pattern=0
    )
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def render_card_pdf(
    *,
    person: CardPerson,
    company: str,
    photo_jpeg: bytes,
    brand: dict[str, str] | None = None,
    size: str = "us",
    template: str = "cards/standard.html",
    print_marks: bool = False,
) -> bytes:
    """One person's card, front and back."""
    return render_cards_pdf(
        people=[(person, photo_jpeg)],
        company=company,
        brand=brand,
        size=size,
        template=template,
        print_marks=print_marks,
    )


def render_cards_pdf(
    *,
    people: list[tuple[CardPerson, bytes]],
    company: str,
    brand: dict[str, str] | None = None,
    size: str = "us",
    template: str = "cards/standard.html",
    print_marks: bool = False,
) -> bytes:
    """Cards of several people in one PDF (front and back each), e.g. a department's
    batch for the printer. ``print_marks`` adds a 3 mm bleed and crop marks. ``brand``
    is the company's stored brand (colours, logo, fonts; see apps.organizations.brand)."""
    if size not in CARD_SIZES:
        raise ValueError(f"card size must be one of {sorted(CARD_SIZES)}")
    if not people:
        raise ValueError("no cards to render")
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    width, height = CARD_SIZES[size]
    checked = brand_of(brand)
    with tempfile.TemporaryDirectory(prefix="card-fonts-") as folder:
        html = render_to_string(
            template,
            {
                "cards": [
                    {
                        "person": person,
                        "photo_uri": data_uri(photo, "image/jpeg"),
                        "qr_uri": data_uri(qr_png(vcard(person, company)), "image/png"),
                    }
                    for person, photo in people
                ],
                "company": company,
                # colours checked as hex colours: they are written into the card's CSS
                "brand": checked.colours(),
                "logo_uri": brand_logo(checked.logo),
                "ai_mark": checked.ai_mark,
                "size": {"width": width, "height": height},
                "print_marks": print_marks,
                "company_pt": company_font_pt(company, size),
                **_fonts(checked, Path(folder)),
                # Chinese, Japanese and Korean names: DejaVu has no CJK glyphs.
                "font_cjk": CJK_FONT.as_uri() if CJK_FONT.is_file() else "",
                "lang": "en",
            },
        )
        # The same FontConfiguration must reach both the stylesheet and write_pdf, or
        # @font-face fonts are not embedded.
        font_config = FontConfiguration()
        stylesheet = CSS(string="img { image-rendering: auto; }", font_config=font_config)
        return HTML(string=html, base_url=str(FONT_DIR)).write_pdf(
            stylesheets=[stylesheet], font_config=font_config
        )


def _fonts(brand: Brand, folder: Path) -> dict[str, str]:
    """The card fonts as file URIs: the company's own when it uploaded them (copied out of
    private storage for the renderer), DejaVu Sans otherwise."""
    from apps.core.storage import private_read

    regular = (FONT_DIR / "DejaVuSans.ttf").as_uri()
    bold = (FONT_DIR / "DejaVuSans-Bold.ttf").as_uri()
    if brand.font_regular:
        path = folder / "regular.font"
        path.write_bytes(private_read(brand.font_regular))
        regular = bold = path.as_uri()
    if brand.font_bold:
        path = folder / "bold.font"
        path.write_bytes(private_read(brand.font_bold))
        bold = path.as_uri()
    return {"font_regular": regular, "font_bold": bold}
