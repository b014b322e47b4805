"""Download packs: a ZIP with the sizes people need of their approved headshot, for one
person or a team. Every file keeps the original's provenance (its XMP packet)."""

from __future__ import annotations

import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass

from apps.generation.models import Headshot
from apps.publishing.images import headshot_pixels, square_jpeg

MAX_MEMORY_BYTES = 16 * 1024 * 1024  # larger packs spill to a temporary file


@dataclass(frozen=True)
class ExportSize:
    name: str
    side: int
    use: str


EXPORT_SIZES = (
    ExportSize("linkedin", 400, "LinkedIn profile photo"),
    ExportSize("slack", 512, "Slack profile photo"),
    ExportSize("teams-outlook", 648, "Microsoft Teams and Outlook"),
    ExportSize("email-signature", 200, "e-mail signature"),
    ExportSize("print", 2048, "print (business cards, badges)"),
)


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "person"


def _sizes(name: str | None) -> list[tuple[ExportSize, bytes]]:
    pixels, xmp = headshot_pixels(name)  # the provenance travels with every size
    return [(size, square_jpeg(pixels, size.side, quality=90, xmp=xmp)) for size in EXPORT_SIZES]


def export_zip(headshots: list[Headshot]) -> bytes:
    """A folder per person with every size; a README says what each file is for."""
    readme = ["Headshots exported from the headshots portal.", ""]
    readme += [f"{s.name}: {s.side} x {s.side} px, {s.use}" for s in EXPORT_SIZES]
    readme += [
        "",
        "Each file keeps the IPTC digital source type of the original in its XMP metadata.",
        "The print size comes from the headshot's print version (enlarged by the worker's",
        "upscaler once the person picked it), or from the headshot itself before that is ready.",
    ]
    with tempfile.SpooledTemporaryFile(max_size=MAX_MEMORY_BYTES) as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr("README.txt", "\n".join(readme) + "\n")
            used: set[str] = set()
            for headshot in headshots:
                folder = _slug(headshot.employee.full_name)
                if folder in used:
                    folder = f"{folder}-{headshot.employee_id}"
                used.add(folder)
                for size, data in _sizes(headshot.print_source()):
                    archive.writestr(f"{folder}/{folder}-{size.name}-{size.side}.jpg", data)
        spool.seek(0)
        return spool.read()
