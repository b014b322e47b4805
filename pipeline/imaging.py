"""Safe decoding and metadata-free encoding of photos.

The format is decided from the content, never from the name; sizes are bounded
before any pixel is decoded; EXIF orientation is applied and then every piece
of metadata is dropped.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps

from pipeline.errors import ImageRejected

if TYPE_CHECKING:
    from pipeline.presets import OutputSize

# Magic numbers of the formats we accept, and of common ones we refuse by name.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"WEBP", 8, "WEBP"),
)
# ISO-BMFF major brands of HEIC/HEIF stills (what phones write).
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
_REFUSED_NAMES: tuple[tuple[bytes, int, str], ...] = (
    (b"ftypavif", 4, "AVIF"),
    (b"GIF8", 0, "GIF"),
    (b"%PDF", 0, "PDF"),
    (b"PK\x03\x04", 0, "ZIP"),
)
_SUPPORTED = "JPEG, PNG, WebP or HEIC"
# The longest side of the copy kept of every upload (the original is never stored).
NORMALISED_MAX_SIDE = 2048


@dataclass(frozen=True)
class DecodedImage:
    """An RGB image with its orientation applied and no metadata."""

    pixels: np.ndarray  # H x W x 3, uint8, RGB
    source_format: str
    source_size: tuple[int, int]  # (width, height) as stored in the file
    draft_scale: float  # < 1 when reduced-size JPEG decoding was used

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def sniff_format(data: bytes) -> str:
    """Name the image format from the first bytes, or refuse the file."""
    if not data:
        raise ImageRejected("The file is empty. Choose the photo again.", code="empty_file")
    for magic, offset, name in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic and (name != "WEBP" or data[:4] == b"RIFF"):
            return name
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        if not _heif_available():
            raise ImageRejected(
                "This is a HEIC photo and HEIC support is not installed here. "
                "Export the photo as JPEG and try again.",
                code="unsupported_format",
            )
        return "HEIF"
    for magic, offset, name in _REFUSED_NAMES:
        if data[offset : offset + len(magic)] == magic:
            raise ImageRejected(
                f"This is a {name} file; we accept {_SUPPORTED}. Export the photo as JPEG and try again.",
                code="unsupported_format",
            )
    raise ImageRejected(
        f"This file is not a photo we can read; we accept {_SUPPORTED}.", code="unsupported_format"
    )


@functools.cache
def _heif_available() -> bool:
    """Register the HEIF plugin once; False when it is not installed."""
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def _boxes_complete(data: bytes) -> bool:
    position = 0
    while position + 8 <= len(data):
        size = int.from_bytes(data[position : position + 4], "big")
        if size == 1:  # a 64-bit size follows the type
            if position + 16 > len(data):
                return False
            size = int.from_bytes(data[position + 8 : position + 16], "big")
        elif size == 0:  # the box runs to the end of the file
            return True
        if size < 8:
            return False
        position += size
    return position == len(data)


def _png_chunks_intact(data: bytes) -> bool:
    """Every chunk whole with its CRC right, up to IEND (Pillow skips CRCs when the
    process-wide truncated-images switch is on)."""
    import zlib

    position = 8
    while position + 12 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        end = position + 12 + length
        if end > len(data):
            return False
        kind_and_body = data[position + 4 : position + 8 + length]
        if zlib.crc32(kind_and_body) != int.from_bytes(data[end - 4 : end], "big"):
            return False
        if data[position + 4 : position + 8] == b"IEND":
            return True
        position = end
    return False


def _require_complete(data: bytes, fmt: str) -> None:
    """Refuse files cut short, judged from their bytes.

    Pillow's own check is a process-wide switch (``ImageFile.LOAD_TRUNCATED_IMAGES``)
    that other libraries turn off on import (WeasyPrint does), so it cannot be relied on.
    """
    if fmt == "JPEG":
        # Entropy-coded data never contains FF D9 (FF is stuffed as FF 00): the end-of-image
        # marker after the first scan is proof the file was written to the end.
        scan = data.find(b"\xff\xda")
        complete = scan > 0 and data.find(b"\xff\xd9", scan) > 0
    elif fmt == "PNG":
        complete = _png_chunks_intact(data)
    elif fmt == "WEBP":  # the RIFF header states the file's length
        complete = len(data) >= 8 + int.from_bytes(data[4:8], "little")
    else:  # HEIF: the top-level boxes must add up to the file
        complete = _boxes_complete(data)
    if not complete:
        raise ImageRejected(
            "The photo file is incomplete or damaged. Take or export it again.",
            code="truncated",
        )


def decode_image(
    data: bytes, *, max_bytes: int, max_pixels: int, max_side: int | None = None
) -> DecodedImage:
    """Decode ``data`` into RGB pixels, or raise ImageRejected with a clear message.

    ``max_side`` allows reduced-size JPEG decoding (the decoder scales by 1/2,
    1/4 or 1/8 while decoding, far cheaper than decoding then resizing).
    """
    if len(data) > max_bytes:
        raise ImageRejected(
            f"The file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB. "
            "Send a smaller photo.",
            code="too_many_bytes",
        )
    fmt = sniff_format(data)
    _require_complete(data, fmt)
    try:
        try:
            image: Image.Image = Image.open(io.BytesIO(data), formats=[fmt])
        except Image.DecompressionBombError as exc:
            # Pillow's own guard fires at open for headers claiming gigapixels.
            raise ImageRejected(
                f"The photo claims more pixels than we accept (at most {max_pixels / 1e6:.0f} "
                "megapixels). Send a smaller photo.",
                code="too_many_pixels",
            ) from exc
        width, height = image.size
        if width * height > max_pixels:
            raise ImageRejected(
                f"The photo is {width} x {height} pixels; the limit is {max_pixels / 1e6:.0f} "
                "megapixels. Send a smaller photo.",
                code="too_many_pixels",
            )
        if getattr(image, "n_frames", 1) > 1:
            raise ImageRejected(
                "Animated images are not accepted; send a still photo.", code="animated"
            )
        draft_scale = 1.0
        if fmt == "JPEG" and max_side and max(width, height) > max_side:
            # The decoder reduces by 1/2, 1/4 or 1/8 only while the result stays at least
            # the requested size; accepting 3/4 of max_side lets a 4000 px photo decode at 2000.
            ratio = 0.75 * max_side / max(width, height)
            image.draft("RGB", (max(1, int(width * ratio)), max(1, int(height * ratio))))
            draft_scale = image.size[0] / width
        image.load()
        if fmt != "JPEG" and max_side:
            image, draft_scale = _reduce(image, max_side)
        ImageOps.exif_transpose(image, in_place=True)  # no second full-size copy
        pixels = _to_rgb_array(image)
    except ImageRejected:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, EOFError) as exc:
        raise ImageRejected(
            f"The photo could not be read ({type(exc).__name__}); it may be damaged or "
            "incomplete. Take or export it again.",
            code="corrupt",
        ) from exc
    return DecodedImage(
        pixels=pixels, source_format=fmt, source_size=(width, height), draft_scale=draft_scale
    )


def _reduce(image: Image.Image, max_side: int) -> tuple[Image.Image, float]:
    """Formats without reduced decoding (PNG, WebP, HEIC) are shrunk by a whole factor right
    after decoding, as JPEG's decoder does, so that no later step copies the full size."""
    width, height = image.size
    factor = int(max(width, height) // (0.75 * max_side))
    if factor < 2:
        return image, 1.0
    try:
        reduced = image.reduce(factor)
    except ValueError:  # a mode reduce does not take (palette, 16-bit): keep the full size
        return image, 1.0
    reduced.info = image.info  # exif_transpose reads the orientation from here
    if hasattr(image, "getexif"):
        exif = image.getexif()
        if exif:
            reduced.info["exif"] = exif.tobytes()
    return reduced, reduced.size[0] / width


# Bytes per pixel Pillow holds for a decoded image of each mode (RGB is stored as 4).
_MODE_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2}


def decode_memory_estimate(
    data: bytes | IO[bytes], *, max_pixels: int, max_side: int | None = None
) -> int:
    """About the most memory ``decode_image`` holds for this file at once, read from its
    header alone (for the web process's decode budget). A header that cannot be read
    within its first megabyte counts as the largest image accepted."""
    head = data[: 1 << 20] if isinstance(data, bytes) else data.read(1 << 20)
    if not isinstance(data, bytes):
        data.seek(0)
    try:
        fmt = sniff_format(head)
        with Image.open(io.BytesIO(head), formats=[fmt]) as image:
            width, height = image.size
            mode = image.mode
    except (ImageRejected, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        width, height, mode, fmt = max_pixels, 1, "RGBA", "unknown"
    if width * height > max_pixels:
        return 0  # refused from the header before any pixel is decoded
    decoded = width * height
    if fmt == "JPEG" and max_side and max(width, height) > max_side:
        factor = 1
        while factor < 8 and max(width, height) / (factor * 2) >= 0.75 * max_side:
            factor *= 2
        decoded //= factor * factor
    full = decoded * _MODE_BYTES.get(mode, 4)
    # the decode, an RGB copy at the size kept (at most the decode), and the array of it
    kept = decoded if not max_side else min(decoded, int((max_side / 0.75) ** 2))
    return full + kept * 7


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode in {"I;16", "I;16B", "I;16L", "I"}:
        wide = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or wide.max() > 255 else 255.0
        gray = np.clip(wide / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode == "F":
        gray = np.clip(np.asarray(image) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode in {"RGBA", "LA", "PA"} or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.ascontiguousarray(np.asarray(image.convert("RGB")))


def normalise_upload(data: bytes, *, max_bytes: int, max_pixels: int) -> tuple[bytes, DecodedImage]:
    """Validate an upload by content and return a metadata-free JPEG copy (at most 2048 px)."""
    decoded = decode_image(
        data, max_bytes=max_bytes, max_pixels=max_pixels, max_side=NORMALISED_MAX_SIDE
    )
    pixels, _ = downscale(decoded.pixels, NORMALISED_MAX_SIDE)
    return encode(pixels, quality=92), decoded


def downscale(pixels: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Shrink so the longer side is at most ``max_side``; return the scale used."""
    import cv2

    height, width = pixels.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    if scale >= 1.0:
        return pixels, 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), scale


def encode(
    pixels: np.ndarray, *, fmt: str = "jpeg", quality: int = 92, xmp: bytes | None = None
) -> bytes:
    """Encode RGB pixels; the result carries no metadata except the given XMP packet."""
    image = Image.fromarray(np.ascontiguousarray(pixels), mode="RGB")
    buffer = io.BytesIO()
    options: dict[str, object] = {}
    if xmp is not None:
        options["xmp"] = xmp
    if fmt == "jpeg":
        image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True, **options)
    elif fmt == "png":
        image.save(buffer, "PNG", optimize=True, **options)
    elif fmt == "webp":
        image.save(buffer, "WEBP", quality=quality, **options)
    else:
        raise ValueError(f"unknown output format {fmt!r}")
    return buffer.getvalue()


def fit_jpeg(
    pixels: np.ndarray,
    *,
    max_bytes: int,
    max_side: int,
    qualities: tuple[int, ...] = (92, 86, 80, 72, 64),
    min_side: int = 64,
    xmp: bytes | None = None,
) -> tuple[bytes, int, int]:
    """The best square-cropped JPEG under ``max_bytes``, the ``xmp`` packet (the label of
    what made it) counted in: the largest side first, at the highest quality that fits,
    smaller sides only when no quality fits. Returns (jpeg, side, quality); no other
    metadata is written."""
    import cv2

    height, width = pixels.shape[:2]
    side = min(max_side, height, width)
    crop = min(height, width)
    x0 = (width - crop) // 2
    square = np.ascontiguousarray(pixels[:crop, x0 : x0 + crop])  # keep the head room: top
    while side >= min_side:
        resized = cv2.resize(square, (side, side), interpolation=cv2.INTER_AREA)
        for quality in qualities:
            data = encode(resized, quality=quality, xmp=xmp)
            if len(data) <= max_bytes:
                return data, side, quality
        side = int(side * 0.85)
    raise ValueError(f"no JPEG of at least {min_side} px fits in {max_bytes} bytes")


def fit_output(pixels: np.ndarray, size: OutputSize) -> np.ndarray:
    """Resize a rendered headshot to another output size, cropping to its aspect ratio."""
    import cv2

    height, width = pixels.shape[:2]
    target_ratio = size.width / size.height
    if width / height > target_ratio:
        new_width = round(height * target_ratio)
        x0 = (width - new_width) // 2
        pixels = pixels[:, x0 : x0 + new_width]
    elif width / height < target_ratio:
        new_height = round(width / target_ratio)
        pixels = pixels[:new_height]  # keep the head room: crop from the bottom
    interpolation = cv2.INTER_AREA if pixels.shape[1] > size.width else cv2.INTER_LANCZOS4
    return cv2.resize(
        np.ascontiguousarray(pixels), (size.width, size.height), interpolation=interpolation
    )
