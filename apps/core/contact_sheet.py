"""A contact sheet of candidates with their scores (demo and support tooling)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
TILE_W, TILE_H, CAPTION = 300, 375, 70


def contact_sheet(tiles: list[tuple[bytes, Any]], path: Path) -> None:
    columns = max(1, min(4, len(tiles)))
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * TILE_W, rows * (TILE_H + CAPTION)), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.truetype(str(FONT), 14) if FONT.is_file() else ImageFont.load_default()
    for index, (data, headshot) in enumerate(tiles):
        x, y = (index % columns) * TILE_W, (index // columns) * (TILE_H + CAPTION)
        image = Image.open(io.BytesIO(data)).convert("RGB")
        image.thumbnail((TILE_W, TILE_H))
        sheet.paste(image, (x + (TILE_W - image.width) // 2, y))
        scores = headshot.scores
        verdict = f"rank {headshot.rank}" if headshot.accepted else "rejected"
        lines = [
            f"{headshot.key}  {verdict}  [{headshot.status}]",
            f"identity {scores.get('identity', 0):.3f}  framing {scores.get('framing', 0):.2f}",
            f"sharp {scores.get('sharpness', 0):.2f}  exposure {scores.get('exposure', 0):.2f}",
        ]
        for line_no, line in enumerate(lines):
            draw.text((x + 8, y + TILE_H + 4 + 20 * line_no), line, fill="black", font=font)
    sheet.save(path, "PNG", optimize=True)
