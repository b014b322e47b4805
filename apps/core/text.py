"""Text that comes from outside (SCIM, roster files, sign-in claims, forms): checked at the
edge, so that a database never sees a NUL character or a value longer than its column."""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 control characters (NUL, CR, escape...) except the tab; and except line
# breaks, for a text of several lines
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def text_problem(value: str, *, limit: int, what: str, multiline: bool = False) -> str:
    """Why ``value`` cannot be kept as a text (one line, unless ``multiline``) of at most
    ``limit`` characters, or "" when it can."""
    if (_CONTROL_MULTILINE if multiline else _CONTROL).search(value):
        return f"{what} holds characters that are not text (such as line breaks or NUL)"
    if len(value) > limit:
        return f"{what} is longer than {limit} characters"
    return ""


def display_text(value: str, *, limit: int) -> str:
    """A name for display from a source we do not control (an identity provider's claim):
    control characters become spaces, runs of spaces one, and a name too long is cut at a
    word boundary with an ellipsis."""
    value = unicodedata.normalize("NFC", _CONTROL.sub(" ", value))
    value = " ".join(value.split())
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + "…"


def plain_number(value: str | None) -> bool:
    """Whether ``value`` is a whole number in plain digits 0-9: ``str.isdigit`` also takes
    "²" or "٣", which ``int`` may refuse or read as another number."""
    return value is not None and value.isascii() and value.isdigit()


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """``count`` with its noun agreeing: "1 headshot", "2 headshots", "1 person"."""
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def sentence(text: str) -> str:
    """``text`` with its first letter made a capital and nothing else touched
    (``str.capitalize`` would lower "StartTLS" and "LDAP")."""
    return text[:1].upper() + text[1:]


# A colour as CSS takes it from a company's settings: #rgb or #rrggbb, nothing else.
HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
