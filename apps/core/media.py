"""Private images shown on the portal's pages: signed, expiring links bound to the person
who asked for the page.

A link carries the kind of file, its id, the user it was made for and (optionally) a
display width, signed with the secret key; it expires after ``MEDIA_LINK_TTL_S``. Serving
it checks the signature, the expiry, that the requester is that user, and asks the kind's
resolver again whether they may see the file now (a role or a consent can change within
the link's life). Every refusal is the same 404, so a link reveals nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

SALT = "headshots.media"
MAX_WIDTH = 1024


@dataclass(frozen=True)
class MediaFile:
    data: bytes
    content_type: str


# kind -> resolver(user, pk) giving the file, or None when the user may not see it
Resolver = Callable[[User, int], MediaFile | None]
_RESOLVERS: dict[str, Resolver] = {}


def register_media(kind: str, resolver: Resolver) -> None:
    _RESOLVERS[kind] = resolver


def media_link(*, kind: str, pk: int, user: User, width: int | None = None) -> str:
    if kind not in _RESOLVERS:
        raise ValueError(f"unknown media kind {kind!r}")
    payload = {"k": kind, "i": int(pk), "u": user.pk}
    if width:
        payload["w"] = min(int(width), MAX_WIDTH)
    return reverse("media", args=[signing.dumps(payload, salt=SALT)])


def media_view(request: HttpRequest, token: str) -> HttpResponse:
    if not request.user.is_authenticated:
        raise Http404("Not found.")
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.HEADSHOTS["MEDIA_LINK_TTL_S"])
    except signing.BadSignature as exc:  # also SignatureExpired
        raise Http404("Not found.") from exc
    resolver = _RESOLVERS.get(payload.get("k"))
    if resolver is None or payload.get("u") != request.user.pk:
        raise Http404("Not found.")
    found = resolver(request.user, int(payload["i"]))
    if found is None:
        raise Http404("Not found.")
    if payload.get("w"):
        found = _scaled(found, int(payload["w"]))
    response = HttpResponse(found.data, content_type=found.content_type)
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


def sniffed_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def _scaled(found: MediaFile, width: int) -> MediaFile:
    """A smaller JPEG for a page's thumbnail (our own stored files, already validated)."""
    from PIL import Image

    with Image.open(io.BytesIO(found.data)) as opened:
        image = opened.convert("RGB")
        if image.width > width:
            image.thumbnail((width, width * 4), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=85)
    return MediaFile(out.getvalue(), "image/jpeg")
