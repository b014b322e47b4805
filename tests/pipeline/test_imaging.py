from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from pipeline.errors import ImageRejected
from pipeline.imaging import decode_image, encode, sniff_format
from tests.conftest import to_jpeg

LIMITS = {"max_bytes": 20_000_000, "max_pixels": 40_000_000}


def png_bytes(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims huge dimensions: a decompression bomb's calling card."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_detects_format_from_content_not_name(astronaut_rgb):
    assert sniff_format(to_jpeg(astronaut_rgb)) == "JPEG"
    assert sniff_format(png_bytes(Image.fromarray(astronaut_rgb))) == "PNG"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"<html><body>not a photo</body></html>", "unsupported_format"),
        (b"GIF89a" + b"\x00" * 50, "unsupported_format"),
        (b"%PDF-1.7\n", "unsupported_format"),
        (b"\x00\x00\x00\x18ftypavif" + b"\x00" * 50, "unsupported_format"),
    ],
)
def test_refuses_what_is_not_an_accepted_photo(data, code):
    with pytest.raises(ImageRejected) as caught:
        decode_image(data, **LIMITS)
    assert caught.value.code == code
    assert caught.value.message.endswith(".")
    if code == "unsupported_format":
        assert "JPEG" in caught.value.message


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_refuses_truncated_files_even_after_weasyprint_loosened_pillow(astronaut_rgb, fmt):
    import weasyprint  # noqa: F401 - it sets Pillow's LOAD_TRUNCATED_IMAGES on import
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES
    buffer = io.BytesIO()
    Image.fromarray(astronaut_rgb).save(buffer, fmt)
    data = buffer.getvalue()
    assert decode_image(data, **LIMITS).width == 512
    with pytest.raises(ImageRejected) as caught:
        decode_image(data[: len(data) * 2 // 3], **LIMITS)
    assert caught.value.code == "truncated"


def test_jpeg_with_data_after_the_end_marker_is_accepted(astronaut_rgb):
    # Phones append motion-photo videos and maker trailers after the image.
    data = to_jpeg(astronaut_rgb) + b"\x00\x00\x00\x18ftypmp42" + bytes(500)
    assert decode_image(data, **LIMITS).width == 512


@pytest.mark.parametrize("side", [8_000, 60_000])
def test_refuses_pixel_bomb_before_decoding(side):
    bomb = png_header_only(side, side)
    assert len(bomb) < 200
    with pytest.raises(ImageRejected) as caught:
        decode_image(bomb, **LIMITS)
    assert caught.value.code == "too_many_pixels"
    assert "megapixels" in caught.value.message


def test_refuses_too_many_bytes(astronaut_rgb):
    with pytest.raises(ImageRejected) as caught:
        decode_image(to_jpeg(astronaut_rgb), max_bytes=1000, max_pixels=10**8)
    assert caught.value.code == "too_many_bytes"


def test_applies_exif_orientation_then_drops_all_metadata(astronaut_rgb):
    image = Image.fromarray(astronaut_rgb[:, :300])  # 300 wide, 512 tall
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    exif[0x8825] = {2: (48.0, 51.0, 0.0)}  # GPS latitude
    data = to_jpeg(np.asarray(image), exif=exif.tobytes())
    decoded = decode_image(data, **LIMITS)
    assert (decoded.width, decoded.height) == (512, 300)
    clean = Image.open(io.BytesIO(encode(decoded.pixels)))
    assert not clean.getexif()
    assert "exif" not in clean.info and "icc_profile" not in clean.info


def test_handles_cmyk_sixteen_bit_palette_and_alpha(astronaut_rgb):
    base = Image.fromarray(astronaut_rgb)
    cmyk = io.BytesIO()
    base.convert("CMYK").save(cmyk, "JPEG")
    sixteen = Image.fromarray(np.asarray(base.convert("L"), dtype=np.uint16) * 257)
    assert sixteen.mode == "I;16"
    palette = base.convert("P", palette=Image.Palette.ADAPTIVE)
    rgba = base.convert("RGBA")
    rgba.putalpha(0)  # fully transparent: composited over white
    for data in (cmyk.getvalue(), png_bytes(sixteen), png_bytes(palette), png_bytes(rgba)):
        decoded = decode_image(data, **LIMITS)
        assert decoded.pixels.shape == (512, 512, 3)
        assert decoded.pixels.dtype == np.uint8
    assert decode_image(png_bytes(rgba), **LIMITS).pixels.min() == 255
    gray = decode_image(png_bytes(sixteen), **LIMITS).pixels
    assert abs(float(gray.mean()) - float(np.asarray(base.convert("L")).mean())) < 1.0


def test_large_jpeg_is_decoded_at_reduced_size(astronaut_rgb):
    big = np.asarray(Image.fromarray(astronaut_rgb).resize((4096, 4096)))
    decoded = decode_image(to_jpeg(big), **LIMITS, max_side=1024)
    assert decoded.source_size == (4096, 4096)
    assert decoded.width == 1024 and decoded.draft_scale == 0.25


def test_refuses_animated_images():
    frames = [Image.new("RGB", (64, 64), color) for color in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:])
    with pytest.raises(ImageRejected) as caught:
        decode_image(buffer.getvalue(), **LIMITS)
    assert caught.value.code == "animated"


def heic_bytes(image: Image.Image, **options: object) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    image.save(buffer, "HEIF", quality=85, **options)
    return buffer.getvalue()


def test_decodes_heic_with_orientation_and_no_metadata(astronaut_rgb):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    exif[0x8825] = {2: (48.0, 51.0, 0.0)}  # GPS
    data = heic_bytes(Image.fromarray(astronaut_rgb[:, :300]), exif=exif.tobytes())
    assert sniff_format(data) == "HEIF"
    decoded = decode_image(data, **LIMITS)
    assert (decoded.width, decoded.height) == (512, 300)
    assert not Image.open(io.BytesIO(encode(decoded.pixels))).getexif()


def test_refuses_truncated_heic(astronaut_rgb):
    data = heic_bytes(Image.fromarray(astronaut_rgb))
    with pytest.raises(ImageRejected) as caught:
        decode_image(data[: len(data) - 500], **LIMITS)
    assert caught.value.code == "truncated"


def test_heic_without_the_plugin_gets_a_clear_answer(astronaut_rgb, monkeypatch):
    import sys

    from pipeline import imaging

    data = heic_bytes(Image.fromarray(astronaut_rgb))
    imaging._heif_available.cache_clear()
    monkeypatch.setitem(sys.modules, "pillow_heif", None)
    try:
        with pytest.raises(ImageRejected, match="Export the photo as JPEG"):
            decode_image(data, **LIMITS)
    finally:
        imaging._heif_available.cache_clear()
