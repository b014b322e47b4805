"""A company's brand for its pages and business cards: colours, logo, card font.

Stored in ``Organization.brand`` (JSON). Every value ends up inside CSS or HTML given to
the browser and to WeasyPrint, so each is validated here: colours are plain hex colours,
the logo a PNG or JPEG data URI checked by content, the font a TrueType / OpenType file
the company uploaded (kept in private storage, parsed before it is accepted).
"""

from __future__ import annotations

import base64
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from apps.core.text import HEX_COLOUR

FONT_MAX_BYTES = 5_000_000


class Brand(BaseModel):
    model_config = ConfigDict(extra="ignore")

    primary: str = "#1f2a44"
    background: str = "#ffffff"
    text: str = "#1b1b1b"
    muted: str = "#5b6270"
    logo: str = ""  # data:image/png;base64,... (checked again when a card is rendered)
    font_regular: str = ""  # private storage names of the company's card fonts
    font_bold: str = ""
    font_name: str = ""
    card_size: str = "us"
    # A small line under the card's photo saying the picture was made with AI, in the
    # company's words (empty: no mark).
    ai_mark: str = ""

    @field_validator("ai_mark")
    @classmethod
    def _mark(cls, value: str) -> str:
        value = " ".join(value.split())
        if len(value) > 40:
            raise ValueError("the AI mark is at most 40 characters")
        return value

    @field_validator("primary", "background", "text", "muted")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not HEX_COLOUR.match(value):
            raise ValueError("a colour is written #rgb or #rrggbb")
        return value.lower()

    @field_validator("card_size")
    @classmethod
    def _size(cls, value: str) -> str:
        if value not in {"us", "eu"}:
            raise ValueError("the card size is us (3.5 x 2 in) or eu (85 x 55 mm)")
        return value

    def colours(self) -> dict[str, str]:
        return {
            "primary": self.primary,
            "background": self.background,
            "text": self.text,
            "muted": self.muted,
        }


def brand_of(stored: dict[str, Any] | None) -> Brand:
    """The stored brand, with anything invalid replaced by the default (a value stored
    before validation existed, or edited in the database, never reaches CSS)."""
    data = dict(stored or {})
    nested = data.pop("colors", None)  # the earlier shape: {"colors": {"primary": ...}}
    if isinstance(nested, dict):
        data = {**nested, **data}
    card = data.pop("card", None)
    if isinstance(card, dict) and "size" in card:
        data.setdefault("card_size", card["size"])
    clean: dict[str, Any] = {}
    for name in Brand.model_fields:
        if name in data:
            try:
                Brand.model_validate({name: data[name]})
            except ValueError:
                continue
            clean[name] = data[name]
    return Brand.model_validate(clean)


def font_problem(data: bytes) -> str:
    """Why these bytes are not a usable font file, or "" if they are."""
    import io

    from fontTools.ttLib import TTFont, TTLibError

    if not data:
        return "The font file is empty."
    if len(data) > FONT_MAX_BYTES:
        return f"The font file is over {FONT_MAX_BYTES // 1_000_000} MB."
    if data[:4] not in {b"\x00\x01\x00\x00", b"OTTO", b"true"}:
        return "Upload a TrueType (.ttf) or OpenType (.otf) font file."
    try:
        font = TTFont(io.BytesIO(data), lazy=False)
        names = font["name"]
        font["cmap"]
    except TTLibError:
        return "The font file is damaged or not a font."
    except Exception:  # noqa: BLE001 - fontTools raises many kinds of error on a damaged file
        return "The font file is damaged or not a font."
    return "" if names is not None else "The font file has no name table."


LOGO_MAX_BYTES = 200_000


def brand_logo(value: object) -> str:
    """The company logo as a PNG or JPEG data URI, or "" when absent or not allowed. Only
    raster images: an SVG could make the renderer fetch URLs from inside the network."""
    if not isinstance(value, str) or not value:
        return ""
    for mime in ("image/png", "image/jpeg"):
        prefix = f"data:{mime};base64,"
        if value.startswith(prefix):
            try:
                data = base64.b64decode(value[len(prefix) :], validate=True)
            except ValueError:
                return ""
            from pipeline.errors import PipelineError
            from pipeline.imaging import sniff_format

            try:
                kind = sniff_format(data)
            except PipelineError:
                return ""
            if len(data) <= LOGO_MAX_BYTES and kind in {"PNG", "JPEG"}:
                return data_uri(data, mime)
    return ""


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
