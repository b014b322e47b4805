"""Request bodies are bounded before anything reads them, and decoding stays in budget."""

from __future__ import annotations

import io
import threading
import time

import pytest
from django.core.handlers.wsgi import WSGIHandler
from PIL import Image


class Untouchable(io.RawIOBase):
    """A request body that must never be read."""

    def __init__(self) -> None:
        self.reads = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        self.reads += 1
        raise AssertionError("the body of an oversized request was read")


def _call(path: str, length: str, *, cookie: str = "") -> tuple[str, dict[str, str], bytes, int]:
    body = Untouchable()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": body,
        "CONTENT_TYPE": "multipart/form-data; boundary=x",
        "CONTENT_LENGTH": length,
        "HTTP_COOKIE": cookie,
    }
    seen: dict[str, object] = {}

    def start_response(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
        seen["status"], seen["headers"] = status, dict(headers)

    content = b"".join(WSGIHandler()(environ, start_response))
    return str(seen["status"]), seen["headers"], content, body.reads  # type: ignore[return-value]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/o/acme/me/photos/",
        "/accounts/login/",
        "/api/v1/organizations/acme/employees/",
        "/scim/v2/acme/Users",
    ],
)
def test_a_400_mb_body_is_refused_unread(path):
    status, headers, content, reads = _call(path, str(400 * 1024 * 1024), cookie="csrftoken=abc")
    assert status.startswith("413") and reads == 0
    if path.startswith(("/api/", "/scim/")):
        assert b'"detail"' in content
    else:
        assert b"too large to send" in content


@pytest.mark.django_db
def test_a_nonsense_length_is_refused():
    status, _, _, reads = _call("/accounts/login/", "12abc")
    assert status.startswith("400") and reads == 0


def test_the_decode_budget_holds_uploads_that_do_not_fit():
    from apps.photos.decode_budget import DecodeBudget

    budget = DecodeBudget(100)
    inside: list[int] = []
    most = [0]
    lock = threading.Lock()

    def decode(cost: int) -> None:
        with budget.reserve(cost):
            with lock:
                inside.append(cost)
                most[0] = max(most[0], sum(inside))
            time.sleep(0.05)
            with lock:
                inside.remove(cost)

    threads = [threading.Thread(target=decode, args=(c,)) for c in (60, 60, 30, 150, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # never more than the budget at once, except the one larger than it, which ran alone
    assert most[0] == 150 and budget.used == 0


def _png(width: int, height: int, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_decodes_cost_is_read_from_the_header_and_covers_the_decode():
    from pipeline.imaging import NORMALISED_MAX_SIDE, decode_memory_estimate

    limits = {"max_pixels": 50_000_000, "max_side": NORMALISED_MAX_SIDE}
    big = decode_memory_estimate(_png(7000, 7000), **limits)
    assert big >= 7000 * 7000 * 4  # Pillow holds RGB as four bytes a pixel
    assert decode_memory_estimate(_png(1000, 800), **limits) < big / 20
    jpeg = io.BytesIO()
    Image.new("RGB", (4000, 3000)).save(jpeg, "JPEG")
    # JPEG is decoded at a reduced size, so it costs less than its full size
    assert decode_memory_estimate(jpeg.getvalue(), **limits) < 4000 * 3000 * 4
    # a header that cannot be read counts as the largest image accepted
    assert decode_memory_estimate(b"\x89PNG\r\n\x1a\n" + b"\0" * 40, **limits) >= 50_000_000 * 4
    # one that claims too many pixels is refused before decoding: it costs nothing
    assert decode_memory_estimate(_png(8000, 8000), **limits) == 0
