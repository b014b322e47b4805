"""The demo's contact sheet: the best selfie before and its best headshot after, then every
candidate with its look and scores, the held-back ones with the reason."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
TILE_W, TILE_H, CAPTION = 300, 375, 96
COLUMNS = 4
HELD_BACK = (178, 34, 34)


def _font(size: int) -> Any:
    return ImageFont.truetype(str(FONT), size) if FONT.is_file() else ImageFont.load_default()


def _paste(sheet: Image.Image, data: bytes, x: int, y: int, dim: bool = False) -> None:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image.thumbnail((TILE_W, TILE_H))
    if dim:  # held back: shown, but plainly not offered
        image = Image.blend(image, Image.new("RGB", image.size, "white"), 0.45)
    sheet.paste(image, (x + (TILE_W - image.width) // 2, y))


def contact_sheet(
    tiles: list[tuple[bytes, Any]], path: Path, *, before: tuple[bytes, bytes] | None = None
) -> None:
    """``tiles``: (JPEG, headshot) for every candidate; ``before``: (the best candidate's
    source selfie, the best candidate)."""
    rows = (len(tiles) + COLUMNS - 1) // COLUMNS
    header = TILE_H + 40 if before else 0
    sheet = Image.new("RGB", (COLUMNS * TILE_W, header + rows * (TILE_H + CAPTION)), "white")
    draw = ImageDraw.Draw(sheet)
    small, large = _font(13), _font(18)
    if before:
        for index, (data, label) in enumerate(
            zip(before, ("Before: the selfie", "After: the best headshot"), strict=True)
        ):
            x = index * TILE_W
            _paste(sheet, data, x, 0)
            draw.text((x + 8, TILE_H + 8), label, fill="black", font=large)
    for index, (data, headshot) in enumerate(tiles):
        x = (index % COLUMNS) * TILE_W
        y = header + (index // COLUMNS) * (TILE_H + CAPTION)
        _paste(sheet, data, x, y, dim=not headshot.accepted)
        scores = headshot.scores
        look = headshot.info.get("look") or {}
        lines = [
            f"{headshot.key}  " + (f"rank {headshot.rank}" if headshot.accepted else "held back"),
            " / ".join(look.values()) if look else "",
            f"identity {scores.get('identity', 0):.3f}  sharp {scores.get('sharpness', 0):.2f}"
            f"  framing {scores.get('framing', 0):.2f}",
        ]
        if not headshot.accepted:
            lines += textwrap.wrap(headshot.reason, 44)[:2]
        for line_no, line in enumerate(lines):
            colour = (
                HELD_BACK if line_no >= 3 or (line_no == 0 and not headshot.accepted) else "black"
            )
            draw.text((x + 8, y + TILE_H + 4 + 17 * line_no), line, fill=colour, font=small)
    sheet.save(path, "PNG", optimize=True)
